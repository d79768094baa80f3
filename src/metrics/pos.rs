//! PoS participation, force-retire risk, committee, account, transactions and rewards of each node, from the PoS
//! source's facts and the pure verdicts in `assess::retire`. Series that need the full force-retire window are
//! published only once the start-up backfill has completed, so a half-read window is never shown as a verdict.
//! Facts about an address (votes, risk, account, rewards, slashing) are published once per key by
//! `pos_keys`, from the node that has read furthest; every node gets its own node facts.

use std::time::{SystemTime, UNIX_EPOCH};

use super::def::{catalogue, sync_counter};
use crate::assess::retire;
use crate::state::{NodeState, PosDown, State};

/// An out-queue item this far ahead of the account's view is the dispute relock (518 400 blocks since CIP-156),
/// never an ordinary unlock (1 440–18 720 blocks).
pub const SLASH_RELOCK_MIN_BLOCKS: u64 = 500_000;
/// Drip per CFX.
pub const DRIP_PER_CFX: f64 = 1e18;
/// Transaction types the node reports, pre-created so rates start at zero.
pub const TX_TYPES: &[&str] = &[
    "BlockMetadata",
    "Election",
    "Retire",
    "Register",
    "UpdateVotingPower",
    "PivotDecision",
    "Dispute",
    "Other",
];

catalogue! {
    /// PoS families.
    pub struct PosFamilies {
        info: Gauge("conflux_pos_info", ["node", "pos_address"], "Always 1 while the node's PoS address is known; the label carries it (configured, from test_posRegister, or from pos_db/secure_storage.json)."),
        address_known: Gauge("conflux_pos_address_known", ["node"], "1 when the node's PoS address is known; 0 means votes cannot be tracked (set pos_address or pos_dir)."),
        up: Gauge("conflux_pos_up", ["node"], "1 when the node answered pos_getStatus in the last poll."),
        unavailable_reason: Gauge("conflux_pos_unavailable_reason", ["node", "reason"], "1 for why PoS data is unavailable (pos_not_started: -32078 before PoS starts; pos_not_served: -32601, the port lacks the pos namespace; pos_no_answer: the node closes the connection on pos_* calls, PoS not enabled; error), 0 for the other reasons; absent while PoS is up."),
        epoch: Gauge("conflux_pos_epoch", ["node"], "Current PoS epoch (pos_getStatus.epoch)."),
        latest_committed: Gauge("conflux_pos_latest_committed_block", ["node"], "Height of the latest committed PoS block."),
        latest_voted: Gauge("conflux_pos_latest_voted_block", ["node"], "Height of the newest voted but uncommitted PoS block; absent when the node reports null."),
        block_lag: Gauge("conflux_pos_block_lag", ["node"], "Median latest committed PoS block of the usable references on the node's chain minus the node's; absent when no reference serves pos_getStatus."),
        block_age: Gauge("conflux_pos_committed_block_age_seconds", ["node"], "Seconds since the timestamp (microseconds on chain) of the newest committed PoS block read; at most one poll behind."),
        votes_signed: Counter("conflux_pos_votes_signed_total", ["node", "pos_address"], "Committed PoS blocks whose QC carries our signature. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        votes_missed: Counter("conflux_pos_votes_missed_total", ["node", "pos_address"], "Committed PoS blocks of epochs in which we are a committee member whose QC lacks our signature. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        votes_unknown: Counter("conflux_pos_votes_unknown_total", ["node", "pos_address"], "Committed PoS blocks of our committee epochs whose QC the node does not know (empty signatures, catch-up): neither signed nor missed. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        epoch_blocks: Gauge("conflux_pos_epoch_blocks", ["node"], "Committed PoS blocks read so far in the current epoch."),
        epoch_blocks_signed: Gauge("conflux_pos_epoch_blocks_signed", ["node", "pos_address"], "Of those, blocks carrying our signature. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        consecutive_missed: Gauge("conflux_pos_consecutive_missed_blocks", ["node", "pos_address"], "Committee blocks without our signature since our last signed one. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        last_signed_block: Gauge("conflux_pos_last_signed_block", ["node", "pos_address"], "Height of the last committed PoS block carrying our signature. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        last_vote_ts: Gauge("conflux_pos_last_vote_timestamp_seconds", ["node", "pos_address"], "Chain timestamp of that block, in Unix seconds. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        proposed: Counter("conflux_pos_blocks_proposed_total", ["node", "pos_address"], "Committed PoS blocks whose miner (leader) is our address. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        epochs_without_vote: Gauge("conflux_pos_epochs_without_vote", ["node", "pos_address"], "Consecutive PoS epochs, counting the current one, in which we were in the committee and signed no committed block. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        at_risk: Gauge("conflux_pos_force_retire_at_risk", ["node", "pos_address"], "1 when the end of the current PoS epoch force-retires us unless one of our votes lands first (we missed this epoch's committed blocks and signed nothing in the earlier epochs of the chain's look-back window); absent while the history cannot decide (see conflux_pos_force_retire_risk_known). Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        risk_known: Gauge("conflux_pos_force_retire_risk_known", ["node"], "1 when the vote history read so far decides the force-retire verdict; 0 while it cannot (backfill incomplete, committee unknown): the risk is then unknown, never assumed absent."),
        window_epochs: Gauge("conflux_pos_force_retire_window_epochs", ["node"], "Epochs the chain looks back at the end of the current epoch: 1 before the chain's CIP-99 transition view, 3 from it (known for chains 1029 and 1, else pos.cip99_transition_view, else the node's default of 1)."),
        forecast_missed: Counter("conflux_pos_force_retire_forecast_missed_total", ["node"], "Force-retirements of our address applied by the chain while we watched, at an epoch end we had not flagged as at risk: our forecast was wrong."),
        last_read_block: Gauge("conflux_pos_last_read_block", ["node"], "Highest committed PoS block read into the vote record."),
        history_caught_up: Gauge("conflux_pos_history_caught_up", ["node"], "1 when every committed block, transaction and committee up to the latest committed block the node reported has been read."),
        backfill_complete: Gauge("conflux_pos_backfill_complete", ["node"], "1 once the force-retire window (current epoch and the two before it) has been read; until then participation verdicts are not published."),
        backfill_remaining: Gauge("conflux_pos_backfill_remaining_blocks", ["node"], "Committed PoS blocks known but not read yet."),
        history_batch: Gauge("conflux_pos_history_batch_size", ["node"], "Calls per history request now: halved after a timeout, grown after successes, so a slow node still makes progress."),
        eta: Gauge("conflux_pos_force_retire_eta_seconds", ["node", "pos_address"], "While at risk: seconds until the epoch end that retires us (remaining blocks times the observed block interval). Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        eta_timestamp: Gauge("conflux_pos_force_retire_expected_timestamp_seconds", ["node", "pos_address"], "While at risk: Unix time at which the epoch end that retires us is expected (the same forecast as the ETA, as a wall-clock time). Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        remaining_blocks: Gauge("conflux_pos_epoch_remaining_blocks", ["node"], "PoS blocks left in the current epoch, the epoch-ending block included."),
        block_interval: Gauge("conflux_pos_block_interval_seconds", ["node"], "Observed seconds per committed PoS block over the last blocks read (from chain timestamps)."),
        epoch_length: Gauge("conflux_pos_epoch_length_blocks", ["node"], "PoS epoch length in blocks, from the election schedule (120 on mainnet)."),
        committee_member: Gauge("conflux_pos_committee_member", ["node", "pos_address"], "1 when our address is in the current PoS committee. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        voting_power: Gauge("conflux_pos_voting_power", ["node", "pos_address"], "Our voting power in the current committee (0 when not a member). Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        committee_power: Gauge("conflux_pos_committee_voting_power", ["node", "kind"], "The current committee's total voting power and the quorum (kind=total|quorum)."),
        election_candidate: Gauge("conflux_pos_election_candidate", ["node", "pos_address", "term_start_block", "finalized"], "For each of the two upcoming terms: 1 when we are among its electing (finalized=false) or elected (finalized=true) nodes. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        account_votes: Gauge("conflux_pos_account_votes", ["node", "pos_address", "state"], "Our PoS votes (1 vote = 1000 CFX) by state: available, locked, unlocked, in_queue, out_queue, forfeited. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        registered: Gauge("conflux_pos_registered", ["node", "pos_address"], "1 when pos_getAccount knows our address (the node answers a zero-filled account, not an error, for an address that never registered). Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        force_retired: Gauge("conflux_pos_force_retired", ["node", "pos_address"], "1 while our account is force-retired (status.forceRetired is set). Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        force_retired_block: Gauge("conflux_pos_force_retired_block", ["node", "pos_address"], "PoS block at which we were force-retired; absent when not. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        queue_block: Gauge("conflux_pos_queue_next_maturity_block", ["node", "pos_address", "queue"], "PoS block at which the next in-queue item locks or out-queue item unlocks; absent when the queue is empty. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        queue_seconds: Gauge("conflux_pos_queue_next_maturity_seconds", ["node", "pos_address", "queue"], "Estimated seconds until then, at the observed block interval. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        elections: Counter("conflux_pos_election_transactions_total", ["node", "pos_address"], "Executed Election transactions sent by our address. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        last_election_term: Gauge("conflux_pos_last_election_target_term", ["node", "pos_address"], "Target term of our latest Election transaction. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        own_txs: Counter("conflux_pos_own_transactions_total", ["node", "pos_address", "type"], "Register, UpdateVotingPower and Retire transactions naming our address. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        txs: Counter("conflux_pos_transactions_total", ["node", "type"], "PoS transactions of every committed block read, chain-wide, by type."),
        slashed: Gauge("conflux_pos_slashed", ["node", "pos_address"], "1 when a Dispute transaction named us or our stake sits in an out-queue ending 500000+ blocks ahead: the double-vote penalty. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        reward: FloatCounter("conflux_pos_reward_cfx_total", ["node", "pos_address"], "PoS rewards of our address in CFX, over the epochs read. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        last_reward: Gauge("conflux_pos_last_epoch_reward_cfx", ["node", "pos_address"], "Our PoS reward in the last completed epoch read, in CFX (0 when none). Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        voting_enabled: Gauge("conflux_pos_voting_enabled", ["node"], "1 when the node's local voting switch is on (test_posVotingStatus); absent when the port does not serve it."),
    }
}

pub(super) fn unix_now(now: SystemTime) -> f64 {
    now.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

pub(super) fn since(t: Option<SystemTime>, now: SystemTime) -> f64 {
    t.and_then(|t| now.duration_since(t).ok())
        .map_or(0.0, |d| d.as_secs_f64())
}

pub(super) fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

impl PosFamilies {
    /// Re-derives every PoS series from `state` at `now`.
    pub fn publish(&self, state: &State, now: SystemTime) {
        self.reset_gauges();
        let readers = super::pos_keys::key_readers(state);
        for (node, reader) in state.nodes.iter().zip(readers) {
            if !reader {
                super::pos_keys::forget_counters(self, node);
            }
            self.publish_node(node, state, now, reader);
        }
    }

    /// Node facts for every node; the facts about its address only when `reader` (see `pos_keys`).
    fn publish_node(&self, node: &NodeState, state: &State, now: SystemTime, reader: bool) {
        let n = node.name.as_str();
        if !node.poll.polled {
            return;
        }
        let Some(p) = node.pos.as_ref().filter(|_| node.poll.up) else {
            self.up.with_label_values(&[n]).set(0.0);
            return;
        };
        self.address_known
            .with_label_values(&[n])
            .set(flag(p.address.is_some()));
        if let Some(a) = &p.address {
            self.info.with_label_values(&[n, a.as_str()]).set(1.0);
        }
        if let Some(v) = p.voting_enabled {
            self.voting_enabled.with_label_values(&[n]).set(flag(v));
        }
        for t in TX_TYPES {
            sync_counter(
                &self.txs,
                &[n, t],
                p.activity.tx_by_type.get(*t).copied().unwrap_or(0),
            );
        }
        let Some(s) = &p.status else {
            self.up.with_label_values(&[n]).set(0.0);
            let current = p.down.unwrap_or(PosDown::Error);
            for r in [
                PosDown::NotStarted,
                PosDown::NotServed,
                PosDown::NoAnswer,
                PosDown::Error,
            ] {
                self.unavailable_reason
                    .with_label_values(&[n, r.label()])
                    .set(flag(r == current));
            }
            return;
        };
        self.up.with_label_values(&[n]).set(1.0);
        self.epoch.with_label_values(&[n]).set(s.epoch.0 as f64);
        self.latest_committed
            .with_label_values(&[n])
            .set(s.latest_committed.0 as f64);
        if let Some(v) = s.latest_voted {
            self.latest_voted.with_label_values(&[n]).set(v.0 as f64);
        }
        if let Some(ts) = p.newest_block_timestamp_us {
            self.block_age
                .with_label_values(&[n])
                .set((unix_now(now) - ts as f64 / 1e6).max(0.0));
        }
        let chain_id = node.chain.as_ref().map(|c| c.status.chain_id.0);
        let mut refs: Vec<u64> = state
            .references
            .iter()
            .filter(|r| r.poll.up && r.chain_id.is_some() && r.chain_id == chain_id)
            .filter_map(|r| r.pos_latest_committed)
            .collect();
        refs.sort_unstable();
        if let Some(median) = refs
            .get(refs.len().saturating_sub(1) / 2)
            .filter(|_| !refs.is_empty())
        {
            self.block_lag
                .with_label_values(&[n])
                .set(*median as f64 - s.latest_committed.0 as f64);
        }
        let interval = p.ledger.block_interval_seconds();
        if let Some(i) = interval {
            self.block_interval.with_label_values(&[n]).set(i);
        }
        let last_block = match (p.epoch_length, p.grid_point) {
            (Some(len), Some(grid)) => {
                self.epoch_length.with_label_values(&[n]).set(len as f64);
                retire::epoch_last_block(s.latest_committed.0, grid, len)
            }
            _ => None,
        };
        let remaining = last_block.map(|l| retire::remaining_blocks(s.latest_committed.0, l));
        if let Some(r) = remaining {
            self.remaining_blocks.with_label_values(&[n]).set(r as f64);
        }
        self.publish_committee(n, p);
        self.publish_history(n, p);
        let judged = self.publish_judgement(n, p, chain_id);
        if let Some(address) = p.address.as_ref().map(|a| a.as_str()).filter(|_| reader) {
            let k = super::pos_keys::KeyFacts {
                node: n,
                address,
                pos: p,
                latest: s.latest_committed.0,
                epoch: s.epoch.0,
                interval,
                remaining,
                judged,
                now,
            };
            super::pos_keys::publish_key(self, &k);
        }
    }

    /// The node's reading of the force-retire window (node facts): `None` until the backfill has completed, else
    /// the judgement and the at-risk verdict (`None` = the history cannot decide).
    fn publish_judgement(
        &self,
        n: &str,
        p: &crate::state::PosObs,
        chain_id: Option<u64>,
    ) -> Option<(retire::Judgement, Option<bool>)> {
        let s = p.status.as_ref()?;
        if !p.backfilled {
            // The window is still being read: no participation verdicts yet, and the risk is unknown.
            self.risk_known.with_label_values(&[n]).set(0.0);
            return None;
        }
        let l = &p.ledger;
        let current = l.epochs.get(&s.epoch.0).cloned().unwrap_or_default();
        self.epoch_blocks
            .with_label_values(&[n])
            .set(current.blocks as f64);
        let transition = crate::assess::window::cip99_transition_view(
            chain_id.unwrap_or(0),
            p.cip99_transition_view,
        );
        let grid = p.epoch_length.zip(p.grid_point);
        let j = retire::judge(l, s.epoch.0, s.latest_committed.0, grid, transition);
        self.window_epochs
            .with_label_values(&[n])
            .set(j.window as f64);
        // Already force-retired: the risk has materialised; conflux_pos_force_retired carries it now.
        let retired = p
            .account
            .as_ref()
            .is_some_and(|a| a.status.force_retired.is_some());
        let at_risk = j.verdict.at_risk.map(|r| r && !retired);
        self.risk_known
            .with_label_values(&[n])
            .set(flag(at_risk.is_some()));
        Some((j, at_risk))
    }

    fn publish_history(&self, n: &str, p: &crate::state::PosObs) {
        sync_counter(&self.forecast_missed, &[n], p.forecast.missed_total);
        if let Some(h) = p.ledger.last_height {
            self.last_read_block.with_label_values(&[n]).set(h as f64);
        }
        self.history_caught_up
            .with_label_values(&[n])
            .set(flag(p.history.caught_up));
        self.backfill_complete
            .with_label_values(&[n])
            .set(flag(p.backfilled));
        if let Some(r) = p.history.remaining_blocks {
            self.backfill_remaining
                .with_label_values(&[n])
                .set(r as f64);
        }
        self.history_batch
            .with_label_values(&[n])
            .set(p.history.batch_size as f64);
    }

    fn publish_committee(&self, n: &str, p: &crate::state::PosObs) {
        let Some(c) = &p.committee else { return };
        let cc = &c.current_committee;
        self.committee_power
            .with_label_values(&[n, "total"])
            .set(cc.total_voting_power.0 as f64);
        self.committee_power
            .with_label_values(&[n, "quorum"])
            .set(cc.quorum_voting_power.0 as f64);
    }
}
