//! Each node's own PoS facts, declared and published here: status, unavailability, the history read and the
//! force-retire window as this node read it. Series that need the full window are published only once the start-up
//! backfill has completed, so a half-read window is never shown as a verdict. The facts about the node's address
//! go to `pos_keys` (its own families), from the node that has read furthest, so a standby sharing the key does not
//! publish them twice. Verdicts come from `assess`.

use std::time::SystemTime;

use super::def::{catalogue, sync_counter};
use super::pos_keys::{forget_counters, publish_key, KeyFacts, PosKeyFamilies};
use super::value::{age_seconds, flag, set};
use crate::judge::{KeyVerdicts, NodeVerdicts, PosVerdicts, Verdicts};
use crate::state::{NodeState, PosDown, PosObs, State};

/// Transaction types the node reports, pre-created so rates start at zero (the decoder maps any other name to
/// the last, `Other`).
pub(crate) use crate::rpc::pos::TX_TYPES;

catalogue! {
    /// The node's own PoS facts.
    pub struct PosFamilies {
        section("Node PoS", "Each watched node's own view of the PoS chain (its `pos_*` RPC) and how far the exporter has read it.");
        info: Gauge("conflux_pos_info", ["node", "pos_address"], "The node's PoS address", doc: "Always 1 while the node's PoS address is known; the label carries it (configured, from test_posRegister, or from pos_db/secure_storage.json)."),
        address_known: Gauge("conflux_pos_address_known", ["node"], "1 when the PoS address is known", doc: "1 when the node's PoS address is known; 0 means votes cannot be tracked (set pos_address or pos_dir)."),
        up: Gauge("conflux_pos_up", ["node"], "1 when the node answers pos_getStatus", doc: "1 when the node answered pos_getStatus in the last poll."),
        unavailable_reason: Gauge("conflux_pos_unavailable_reason", ["node", "reason"], "1 for why PoS is unavailable", doc: "1 for why PoS data is unavailable (pos_not_started: -32078 before PoS starts; pos_not_served: -32601, the port lacks the pos namespace; pos_no_answer: the node closes the connection on pos_* calls, PoS not enabled; error), 0 for the other reasons; absent while PoS is up."),
        epoch: Gauge("conflux_pos_epoch", ["node"], "Current PoS epoch", doc: "Current PoS epoch (pos_getStatus.epoch)."),
        latest_committed: Gauge("conflux_pos_latest_committed_block", ["node"], "Latest committed PoS block", doc: "Height of the latest committed PoS block."),
        latest_voted: Gauge("conflux_pos_latest_voted_block", ["node"], "Newest voted, uncommitted PoS block", doc: "Height of the newest voted but uncommitted PoS block; absent when the node reports null."),
        block_lag: Gauge("conflux_pos_block_lag", ["node"], "PoS blocks behind the references", doc: "Median latest committed PoS block of the usable references on the node's chain minus the node's; absent when no reference serves pos_getStatus."),
        block_age: Gauge("conflux_pos_committed_block_age_seconds", ["node"], "Age of the last PoS block", doc: "Seconds since the timestamp (microseconds on chain) of the newest committed PoS block read; at most one poll behind."),
        epoch_blocks: Gauge("conflux_pos_epoch_blocks", ["node"], "PoS blocks read this epoch", doc: "Committed PoS blocks read so far in the current epoch."),
        risk_known: Gauge("conflux_pos_force_retire_risk_known", ["node"], "1 when the retire risk is known", doc: "1 when the vote history read so far decides the force-retire verdict; 0 while it cannot (backfill incomplete, committee unknown): the risk is then unknown, never assumed absent."),
        window_epochs: Gauge("conflux_pos_force_retire_window_epochs", ["node"], "Epochs the retire rule looks back", doc: "Epochs the chain looks back at the end of the current epoch: 1 before the chain's CIP-99 transition view, 3 from it (known for chains 1029 and 1, else pos.cip99_transition_view, else the node's default of 1)."),
        forecast_missed: Counter("conflux_pos_force_retire_forecast_missed_total", ["node"], "Force-retirements not forecast", doc: "Force-retirements of our address applied by the chain while we watched, at an epoch end we had not flagged as at risk: our forecast was wrong."),
        last_read_block: Gauge("conflux_pos_last_read_block", ["node"], "Highest PoS block read", doc: "Highest committed PoS block read into the vote record."),
        history_caught_up: Gauge("conflux_pos_history_caught_up", ["node"], "1 when history is read to the head", doc: "1 when every committed block, transaction and committee up to the latest committed block the node reported has been read."),
        backfill_complete: Gauge("conflux_pos_backfill_complete", ["node"], "1 once the force-retire window is read", doc: "1 once the force-retire window (current epoch and the two before it) has been read; until then participation verdicts are not published."),
        backfill_remaining: Gauge("conflux_pos_backfill_remaining_blocks", ["node"], "PoS blocks not read yet", doc: "Committed PoS blocks known but not read yet."),
        history_batch: Gauge("conflux_pos_history_batch_size", ["node"], "Calls per PoS history request", doc: "Calls per history request now: halved after a timeout, grown after successes, so a slow node still makes progress."),
        remaining_blocks: Gauge("conflux_pos_epoch_remaining_blocks", ["node"], "PoS blocks left this epoch", doc: "PoS blocks left in the current epoch, the epoch-ending block included."),
        block_interval: Gauge("conflux_pos_block_interval_seconds", ["node"], "Observed seconds per PoS block", doc: "Observed seconds per committed PoS block over the last blocks read (from chain timestamps)."),
        epoch_length: Gauge("conflux_pos_epoch_length_blocks", ["node"], "PoS epoch length in blocks", doc: "PoS epoch length in blocks, from the election schedule (120 on mainnet)."),
        committee_power: Gauge("conflux_pos_committee_voting_power", ["node", "kind"], "Committee voting power and quorum", doc: "The current committee's total voting power and the quorum (kind=total|quorum)."),
        election_term_start: Gauge("conflux_pos_election_term_start_block", ["node", "term"], "First block of each upcoming term", doc: "PoS block (view) at which each of the two upcoming terms starts (term=next|after_next), from pos_getCommittee's elections."),
        txs: Counter("conflux_pos_transactions_total", ["node", "type"], "Chain-wide PoS transactions by type", doc: "PoS transactions of every committed block read, chain-wide, by type."),
        voting_enabled: Gauge("conflux_pos_voting_enabled", ["node"], "1 when the voting switch is on", doc: "1 when the node's local voting switch is on (test_posVotingStatus); absent when the port does not serve it."),
        view_fresh: Gauge("conflux_pos_view_fresh", ["node"], "1 when the PoS view is fresh", doc: "1 when the node's own PoS view is fresh (close to the best reference's head and moving); 0 when stale or absent."),
        view_lag: Gauge("conflux_pos_view_lag_seconds", ["node"], "Seconds the PoS head trails the reference", doc: "How far the node's PoS head trails the best reference's, in seconds at the observed block interval."),
    }
}

impl PosFamilies {
    /// Re-derives every PoS series from `state` at `now`: the node facts here, the key facts into `keys`.
    pub(crate) fn publish(
        &self,
        state: &State,
        verdicts: &Verdicts,
        now: SystemTime,
        keys: &PosKeyFamilies,
    ) {
        self.reset_gauges();
        keys.reset_gauges();
        for (node, v) in state.nodes.iter().zip(&verdicts.nodes) {
            if !v.reads_key {
                forget_counters(keys, node);
            }
            let keys = v.reads_key.then_some(keys);
            self.publish_node(node, v, now, keys);
        }
    }

    /// Node facts for every node; the facts about its address into `keys` only when it reads for its key. The
    /// node's own PoS head comes from its own answers; everything judged about the chain comes from the view in
    /// use (the node's while fresh, else a reference's, even while the node is down), and from no view at all
    /// while none is fresh: the risk is then unknown.
    fn publish_node(
        &self,
        node: &NodeState,
        v: &NodeVerdicts,
        now: SystemTime,
        keys: Option<&PosKeyFamilies>,
    ) {
        let n = node.name.as_str();
        if !node.poll.polled {
            return;
        }
        let Some(p) = node.pos.as_ref() else {
            set(&self.up, &[n], 0.0);
            return;
        };
        if let Some(a) = &p.address {
            set(&self.info, &[n, a.as_str()], 1.0);
        }
        if node.poll.up {
            self.publish_local(n, p, v.lag.pos_block_lag);
        } else {
            set(&self.up, &[n], 0.0);
        }
        self.publish_freshness(n, p);
        sync_counter(&self.forecast_missed, &[n], v.forecast_missed);
        let (Some(_), Some(pv)) = (node.chain_view(), v.pos) else {
            if p.address.is_some() && (node.poll.up || p.view.local.is_some()) {
                // The node answers but no view is fresh: unknown, never "not at risk".
                set(&self.risk_known, &[n], 0.0);
            }
            return;
        };
        let Some(s) = &p.status else { return };
        if let Some(ts) = p.newest_block_timestamp_us {
            set(&self.block_age, &[n], age_seconds(now, ts as f64 / 1e6));
        }
        let interval = p.ledger.block_interval_seconds();
        if let Some(i) = interval {
            set(&self.block_interval, &[n], i);
        }
        if let Some(len) = p.epoch_length.filter(|_| p.grid_point.is_some()) {
            set(&self.epoch_length, &[n], len as f64);
        }
        if let Some(r) = pv.remaining {
            set(&self.remaining_blocks, &[n], r as f64);
        }
        self.publish_committee(n, p, v.key.as_ref());
        self.publish_history(n, p);
        self.publish_judgement(n, p, &pv);
        if let (Some(keys), Some(address), Some(key)) = (keys, p.address.as_ref(), v.key.as_ref()) {
            let k = KeyFacts {
                node: n,
                address,
                pos: p,
                epoch: s.epoch.0,
                verdicts: &pv,
                key,
                now,
            };
            publish_key(keys, &k);
        }
    }

    /// What the node itself answers while it is up: its address, switch, PoS head and lag, or why PoS is
    /// unavailable.
    fn publish_local(&self, n: &str, p: &PosObs, block_lag: Option<i64>) {
        set(&self.address_known, &[n], flag(p.address.is_some()));
        if let Some(v) = p.voting_enabled {
            set(&self.voting_enabled, &[n], flag(v));
        }
        for t in TX_TYPES {
            sync_counter(
                &self.txs,
                &[n, t],
                p.activity.tx_by_type.get(*t).copied().unwrap_or(0),
            );
        }
        let Some(s) = &p.local.status else {
            self.publish_unavailable(n, p.down);
            return;
        };
        set(&self.up, &[n], 1.0);
        set(&self.epoch, &[n], s.epoch.0 as f64);
        set(&self.latest_committed, &[n], s.latest_committed.0 as f64);
        if let Some(v) = s.latest_voted {
            set(&self.latest_voted, &[n], v.0 as f64);
        }
        if let Some(l) = block_lag {
            set(&self.block_lag, &[n], l as f64);
        }
    }

    /// Whether the node's own PoS view is fresh and how far behind the chain it is.
    fn publish_freshness(&self, n: &str, p: &PosObs) {
        let Some(v) = &p.view.local else { return };
        // Fresh is a comparison: without a reference head only an absent view is known (stale).
        if v.lag_blocks.is_some() || !v.fresh {
            set(&self.view_fresh, &[n], flag(v.fresh));
        }
        if let Some(l) = v.lag_seconds {
            set(&self.view_lag, &[n], l);
        }
    }

    /// The node's reading of the force-retire window (node facts): nothing but "unknown" until the backfill has
    /// completed.
    fn publish_judgement(&self, n: &str, p: &PosObs, v: &PosVerdicts) {
        let (Some(s), Some((j, at_risk))) = (&p.status, v.retire) else {
            // The window is still being read: no participation verdicts yet, and the risk is unknown.
            set(&self.risk_known, &[n], 0.0);
            return;
        };
        let current = p.ledger.epochs.get(&s.epoch.0).cloned().unwrap_or_default();
        set(&self.epoch_blocks, &[n], current.blocks as f64);
        set(&self.window_epochs, &[n], j.window as f64);
        set(&self.risk_known, &[n], flag(at_risk.is_some()));
    }

    fn publish_history(&self, n: &str, p: &PosObs) {
        if let Some(h) = p.ledger.last_height {
            set(&self.last_read_block, &[n], h as f64);
        }
        set(&self.history_caught_up, &[n], flag(p.history.caught_up));
        set(&self.backfill_complete, &[n], flag(p.backfilled));
        if let Some(r) = p.history.remaining_blocks {
            set(&self.backfill_remaining, &[n], r as f64);
        }
        set(&self.history_batch, &[n], p.history.batch_size as f64);
    }

    /// The committee's size and the upcoming terms' start blocks: the chain's, the same for every address.
    fn publish_committee(&self, n: &str, p: &PosObs, k: Option<&KeyVerdicts>) {
        let Some(c) = &p.committee else { return };
        let cc = &c.current_committee;
        set(
            &self.committee_power,
            &[n, "total"],
            cc.total_voting_power.0 as f64,
        );
        set(
            &self.committee_power,
            &[n, "quorum"],
            cc.quorum_voting_power.0 as f64,
        );
        for (term, start) in k.map(|k| k.terms.as_slice()).unwrap_or_default() {
            set(&self.election_term_start, &[n, term.label()], *start as f64);
        }
    }

    /// PoS is down while the node is up: `up` 0 and why, one reason at 1 and the others at 0.
    fn publish_unavailable(&self, n: &str, down: Option<PosDown>) {
        set(&self.up, &[n], 0.0);
        let current = down.unwrap_or(PosDown::Error);
        for r in [
            PosDown::NotStarted,
            PosDown::NotServed,
            PosDown::NoAnswer,
            PosDown::Error,
        ] {
            set(
                &self.unavailable_reason,
                &[n, r.label()],
                flag(r == current),
            );
        }
    }
}

#[cfg(test)]
#[path = "pos_tests.rs"]
mod tests;
