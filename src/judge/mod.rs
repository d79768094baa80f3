//! The judge: one step between the state and the metrics that computes the verdicts of a publish once, keeps the
//! memory some of them need (the guard's switch history, the forecast self-check, what was last logged) and logs
//! each change in one place. Publishers only turn its output into series; watchers only gather facts. So a change
//! to a verdict touches `assess/` (the pure rules) and this file (where they are applied), and, when it adds a
//! series, the catalogue — no other layer.

mod chain;
mod forks;
mod key;

pub(crate) use chain::LagVerdicts;
pub(crate) use key::KeyVerdicts;

use std::collections::BTreeMap;
use std::time::SystemTime;

pub(crate) use forks::ForkVerdicts;

use crate::assess::budget::{downtime_budget, Budget, BudgetInput};
use crate::assess::forecast::{ForecastCheck, Retirement};
use crate::assess::guard::look::{GuardMemory, GuardView, NodeVerdict};
use crate::assess::guard::{owner_verdict, FailoverState, OwnerVerdict};
use crate::assess::key_readers::{key_readers, Candidate};
use crate::assess::preflight::{preflight, Input, Preflight, Verdict, DEFAULT_QUIET_BLOCKS};
use crate::assess::retire::{self, Judgement};
use crate::assess::stake::risk_unless_retired;
use crate::assess::standby::{able_to_vote, Reason};
use crate::assess::stop::{StopEstimate, TermSeats};
use crate::assess::terms::seat;
use crate::assess::window::cip99_transition_view;
use crate::state::{HostObs, NodeState, PosObs, State};

mod standby;
#[path = "stop.rs"]
mod stop_step;

/// Every verdict of one publish.
#[derive(Debug, Clone, Default)]
pub(crate) struct Verdicts {
    /// The double-voting guard across the nodes.
    pub guard: GuardView,
    /// Per node, in configuration order.
    pub nodes: Vec<NodeVerdicts>,
}

/// The verdicts about one node.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct NodeVerdicts {
    /// Its safety file's owner against its PoS address.
    pub owner: Option<OwnerVerdict>,
    /// It publishes the facts of its key (the most advanced judgeable holder).
    pub reads_key: bool,
    /// Its sync, lag and fork against the references.
    pub lag: LagVerdicts,
    /// Its PoS verdicts, while some view is fresh.
    pub pos: Option<PosVerdicts>,
    /// What that view says about its key (seats, queues, slashing, ETAs), with the same condition.
    pub key: Option<KeyVerdicts>,
    /// Retirements of its key the chain applied at an epoch end we had not flagged, while we watched.
    pub forecast_missed: u64,
    /// Whether `start_voting` is safe on this node now; `None` while its PoS address is unknown.
    pub preflight: Option<Preflight>,
    /// The node's switch went on while its last preflight with the switch off said `unsafe` or `wait`
    /// (`None`: no switch seen yet).
    pub started_against_preflight: Option<bool>,
    /// Hard-fork readiness, while the node's chain is known.
    pub forks: Option<ForkVerdicts>,
    /// A standby's (switch off) reasons it could not vote now, each `Some(true)` when it holds (`None`: not a
    /// standby).
    pub standby: Option<Vec<(Reason, Option<bool>)>>,
}

impl NodeVerdicts {
    /// Whether this standby could vote now (`None`: not a standby, or unknown).
    pub(crate) fn able_to_vote(&self) -> Option<bool> {
        self.standby.as_deref().and_then(able_to_vote)
    }
}

/// The force-retire verdicts read from the view in use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PosVerdicts {
    /// The chain's CIP-99 transition view (the look-back of every epoch end).
    pub transition: u64,
    /// The current epoch's last block, when the term grid is known.
    pub epoch_end: Option<u64>,
    /// Blocks left in the current epoch, the ending one included.
    pub remaining: Option<u64>,
    /// The force-retire judgement once the window is read, with the at-risk verdict (`None`: undecidable).
    pub retire: Option<(Judgement, Option<bool>)>,
    /// The downtime budget of a committee member.
    pub budget: Option<Budget>,
    /// What `test_posStopElection` would return now (`None`: unknown).
    pub stop: Option<StopEstimate>,
    /// Whether Election transactions are still being sent for our key (`None`: unknown).
    pub elections_sending: Option<bool>,
}

/// The judge's memory between publishes.
#[derive(Debug, Default)]
pub(crate) struct Judge {
    guard: GuardMemory,
    failover_logged: BTreeMap<String, FailoverState>,
    owner_logged: BTreeMap<String, OwnerVerdict>,
    /// Per node: the forecast's self-check, and whether the last publishes had no fresh view (blind).
    forecasts: BTreeMap<String, (ForecastCheck, bool)>,
    /// Per node: the preflight verdict last seen while its switch was off, and whether it then started against it.
    starts: BTreeMap<String, (Option<Verdict>, bool)>,
    /// Per node: our key's seats in the terms seen finalized (the serving terms of the stop estimate).
    seats: BTreeMap<String, TermSeats>,
    /// The fork table's configured part and each node's epoch rate.
    forks: forks::ForkMemory,
}

impl Judge {
    /// Judges `state` at `now`, logging every change once.
    pub(crate) fn judge(&mut self, state: &State, now: SystemTime) -> Verdicts {
        let guard = self.guard.look(&state.guard_looks(), now);
        for v in &guard.nodes {
            log_failover(&mut self.failover_logged, v);
        }
        let readers = key_readers(&candidates(state));
        let refs = state.reference_views();
        let nodes = state
            .nodes
            .iter()
            .zip(readers)
            .map(|(node, reads_key)| {
                let owner = self.owner(node);
                let pos = node.chain_view().and_then(|p| {
                    let chain_id = node.chain.as_ref().map(|c| c.status.chain_id.0);
                    let seats = self.seats.entry(node.name.clone()).or_default();
                    pos_verdicts(p, chain_id.or(p.chain_id), seats)
                });
                let key = node
                    .chain_view()
                    .zip(pos.as_ref())
                    .map(|(p, v)| key::key_verdicts(p, v, now));
                let forecast_missed = self.forecast(node, pos.as_ref());
                let preflight = start_voting_preflight(node, &guard);
                let started_against_preflight = self.start(node, preflight.as_ref());
                let lag = chain::lag_verdicts(node, &refs);
                let forks = self.forks.judge(state, node);
                let standby =
                    standby::standby_reasons(state, node, owner.as_ref(), &lag, forks.as_ref());
                NodeVerdicts {
                    owner,
                    reads_key,
                    lag,
                    pos,
                    key,
                    forecast_missed,
                    preflight,
                    started_against_preflight,
                    standby,
                    forks,
                }
            })
            .collect();
        Verdicts { guard, nodes }
    }

    /// The owner cross-check, logged when it changes: an error when the safety data is another key's.
    fn owner(&mut self, node: &NodeState) -> Option<OwnerVerdict> {
        let owner = node.host.as_ref().and_then(HostObs::storage_owner);
        let verdict = owner_verdict(node.reported_pos_address(), owner);
        let previous = self.owner_logged.insert(node.name.clone(), verdict.clone());
        if previous.as_ref() != Some(&verdict) {
            match &verdict {
                OwnerVerdict::Mismatch { expected, found } => {
                    tracing::error!(node = %node.name, expected = %expected, found = %found,
                    "PoS KEY OWNER MISMATCH: pos_db/secure_storage.json belongs to another PoS address than the node reports; this node's safety data is not its own (copied from another key?) and voting with it risks a Dispute")
                }
                OwnerVerdict::Match if matches!(previous, Some(OwnerVerdict::Mismatch { .. })) => {
                    tracing::info!(node = %node.name, "secure_storage.json owner matches the PoS address again")
                }
                _ => {}
            }
        }
        (verdict != OwnerVerdict::Unknown).then_some(verdict)
    }

    /// Whether the node's switch went on against its preflight: the verdict last seen with the switch off is
    /// remembered, and a switch seen on after an `unsafe` or `wait` is flagged (logged once) until it goes off.
    fn start(&mut self, node: &NodeState, p: Option<&Preflight>) -> Option<bool> {
        let switch = node
            .pos
            .as_ref()
            .filter(|_| node.poll.up)
            .and_then(|p| p.voting_enabled)?;
        let (off_verdict, against) = self.starts.entry(node.name.clone()).or_default();
        if !switch {
            *off_verdict = p.map(|p| p.verdict);
            *against = false;
        } else if let Some(v @ (Verdict::Unsafe | Verdict::Wait)) = off_verdict.take() {
            *against = true;
            tracing::error!(node = %node.name, preflight = v.label(), "the voting switch went on while the start_voting preflight said it was not safe: check that no other node signs with this key");
        }
        Some(*against)
    }

    /// The forecast's self-check: remembers each epoch end forecast as retiring us, and judges every retirement
    /// the chain applies while we watch against them; a retirement we did not forecast is counted and logged.
    fn forecast(&mut self, node: &NodeState, v: Option<&PosVerdicts>) -> u64 {
        let (check, blind) = self.forecasts.entry(node.name.clone()).or_default();
        let (Some(p), Some(v)) = (node.pos.as_ref(), v) else {
            *blind = true;
            return check.missed_total;
        };
        if let (Some((_, Some(true))), Some(end)) = (v.retire, v.epoch_end) {
            check.flag(end);
        }
        let Some(account) = &p.account else {
            return check.missed_total;
        };
        let n = node.name.as_str();
        let retired = account.status.force_retired.map(|v| v.0);
        if std::mem::take(blind) {
            if let Some(view) = check.observe_unjudged(retired) {
                tracing::warn!(node = n, view, "the chain force-retired our address while no fresh view of the chain was available (node stale or down, no reference standing in): not judged against a forecast");
            }
            return check.missed_total;
        }
        match check.observe(retired) {
            Some(Retirement::Missed(view)) => {
                let window = v.retire.map(|(j, _)| j.window);
                tracing::error!(node = n, view, window_epochs = window, "the chain force-retired our address at the end of an epoch for which we had not forecast it (conflux_pos_force_retire_at_risk was not 1): the forecast rule is wrong for this chain; check pos.cip99_transition_view");
            }
            Some(Retirement::Forecast(view)) => {
                tracing::warn!(
                    node = n,
                    view,
                    "the chain force-retired our address, as forecast"
                )
            }
            Some(Retirement::AlreadyRetired(view)) => {
                tracing::info!(node = n, view, "our address was already force-retired when first observed; not judged against a forecast")
            }
            None => {}
        }
        check.missed_total
    }
}

/// The force-retire and stop verdicts of a judgeable observation.
fn pos_verdicts(p: &PosObs, chain_id: Option<u64>, seats: &mut TermSeats) -> Option<PosVerdicts> {
    let s = p.status.as_ref()?;
    let (latest, epoch) = (s.latest_committed.0, s.epoch.0);
    let transition = cip99_transition_view(chain_id, p.cip99_transition_view);
    let grid = p.epoch_length.zip(p.grid_point);
    let epoch_end = grid.and_then(|(len, point)| retire::epoch_last_block(latest, point, len));
    let retire = p.backfilled.then(|| {
        let j = retire::judge(&p.ledger, epoch, latest, grid, transition);
        (
            j,
            risk_unless_retired(j.verdict.at_risk, p.account.as_ref()),
        )
    });
    // A retired key has no budget left to spend: the chain has already decided.
    let retired = p
        .account
        .as_ref()
        .is_some_and(|a| a.status.force_retired.is_some());
    let budget = retire
        .zip(grid)
        .filter(|_| !retired)
        .and_then(|((_, at_risk), grid)| {
            downtime_budget(&BudgetInput {
                ledger: &p.ledger,
                epoch,
                latest,
                grid,
                transition,
                at_risk,
            })
        });
    let (stop, elections_sending) = stop_step::stop_verdicts(p, epoch, latest, seats);
    Some(PosVerdicts {
        transition,
        epoch_end,
        remaining: epoch_end.map(|l| retire::remaining_blocks(latest, l)),
        retire,
        budget,
        stop,
        elections_sending,
    })
}

/// The preflight of `node` before `start_voting`: its own sync and files, the key's signs of life in the chain
/// view, and the other holders' switches from the guard.
fn start_voting_preflight(node: &NodeState, guard: &GuardView) -> Option<Preflight> {
    let address = node.pos_address()?;
    let own_switch = node
        .pos
        .as_ref()
        .filter(|_| node.poll.up)
        .and_then(|p| p.voting_enabled);
    let others_on = guard.keys.get(address).and_then(|k| {
        let own_unknown = usize::from(own_switch.is_none());
        let unknown = k.switch_unknown.saturating_sub(own_unknown);
        let on = k
            .switch_on
            .saturating_sub(usize::from(own_switch == Some(true)));
        (on > 0 || unknown == 0).then_some(on > 0)
    });
    let Some(p) = node.chain_view() else {
        return Some(preflight(&Input {
            other_switch_on: others_on,
            ..Input::default()
        }));
    };
    let synced = node.chain.as_ref().filter(|_| node.poll.up).map(|c| {
        c.sync_phase.as_deref() == Some("NormalSyncPhase") && p.view.local.is_some_and(|v| v.fresh)
    });
    let in_committee = p
        .committee
        .as_ref()
        .map(|c| seat(&c.current_committee, address).is_some());
    let quiet_needed = match in_committee {
        Some(false) => p.epoch_length.unwrap_or(0).max(DEFAULT_QUIET_BLOCKS),
        _ => DEFAULT_QUIET_BLOCKS,
    };
    let l = &p.ledger;
    Some(preflight(&Input {
        synced: if node.poll.up { synced } else { Some(false) },
        history_complete: p.backfilled,
        latest: p.status.as_ref().map_or(0, |s| s.latest_committed.0),
        last_signed: l.last_signed_block,
        last_proposed: l.last_proposed_block,
        last_election: p.activity.last_election_block,
        other_switch_on: others_on,
        in_committee,
        resume_from: node.host.as_ref().and_then(HostObs::resume_from),
        chain_signed: l.last_signed_round,
        pending_signed: node
            .pos
            .as_ref()
            .filter(|_| node.poll.up)
            .and_then(|p| p.pending)
            .and_then(|p| p.newest()),
        quiet_needed,
    }))
}

/// Every node as a candidate to speak for its key: a down or stale node whose key is read from a reference still
/// does.
fn candidates(state: &State) -> Vec<Candidate<'_>> {
    state
        .nodes
        .iter()
        .map(|node| {
            let p = node.chain_view();
            Candidate {
                address: p.and_then(|p| p.address.as_ref()),
                progress: p.and_then(|p| {
                    let s = p.status.as_ref()?;
                    Some((s.latest_committed.0, p.ledger.last_height.unwrap_or(0)))
                }),
            }
        })
        .collect()
}

/// Logs a node's failover state when it differs from the last known one. `unknown` (an input missing for a poll
/// or two) is not remembered, so a state interrupted by it is not logged again: one line per real change.
fn log_failover(logged: &mut BTreeMap<String, FailoverState>, v: &NodeVerdict) {
    let (n, st) = (&v.node, v.state.as_str());
    if v.state == FailoverState::Unknown {
        tracing::debug!(node = %n, inputs = ?v.inputs, "PoS failover state unknown for now");
        return;
    }
    if logged.insert(v.node.clone(), v.state) == Some(v.state) {
        return;
    }
    match v.state {
        s if s.is_dangerous() => {
            tracing::error!(node = %n, state = st, inputs = ?v.inputs, "dangerous PoS failover state: two voters for one key, or safety files inconsistent with the voting switch")
        }
        FailoverState::RetiredNotSigning => {
            tracing::warn!(node = %n, state = st, "voting switch on but the PoS key is force-retired and this node does not sign: it votes for nothing until the key is registered again")
        }
        _ => tracing::info!(node = %n, state = st, "PoS failover state"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pos_address::PosAddress;
    use crate::rpc::pos::PosStatus;
    use crate::rpc::wire::HexU64;
    use crate::state::{NodeState, PollStatus, PosObs};

    const KEY: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";
    const OTHER: &str = "0x2222222222222222222222222222222222222222222222222222222222222222";

    fn node(up: bool, addr: &str, committed: u64, read: Option<u64>) -> NodeState {
        let status = PosStatus {
            epoch: HexU64(1),
            latest_committed: HexU64(committed),
            latest_voted: None,
            latest_tx_number: None,
        };
        let mut pos = PosObs {
            address: PosAddress::parse(addr).ok(),
            status: Some(status),
            ..Default::default()
        };
        pos.ledger.last_height = read;
        if up {
            pos.view.source = Some(crate::state::ViewSource::Local);
        }
        NodeState {
            poll: PollStatus {
                polled: true,
                up,
                ..Default::default()
            },
            pos: Some(pos),
            ..Default::default()
        }
    }

    #[test]
    fn one_reader_per_key_the_most_advanced_judgeable_node() {
        let state = State {
            nodes: vec![
                node(true, KEY, 100, Some(100)),
                node(true, KEY, 101, Some(90)),
                node(false, KEY, 200, Some(200)),
                node(true, OTHER, 5, None),
                node(true, &KEY[2..], 101, Some(95)),
            ],
            ..Default::default()
        };
        assert_eq!(
            key_readers(&candidates(&state)),
            [false, false, false, true, true]
        );
        let tie = State {
            nodes: vec![node(true, KEY, 7, Some(7)), node(true, KEY, 7, Some(7))],
            ..Default::default()
        };
        assert_eq!(key_readers(&candidates(&tie)), [true, false]);
    }
}
