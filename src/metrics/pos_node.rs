//! Each node's own PoS facts: status, unavailability, the history read and the force-retire window as this node
//! read it. Series that need the full window are published only once the start-up backfill has completed, so a
//! half-read window is never shown as a verdict. The facts about the node's address go to `pos_keys`, from the node
//! that has read furthest (so a standby sharing the key does not publish them twice).

use std::time::SystemTime;

use super::def::sync_counter;
use super::pos::{PosFamilies, TX_TYPES};
use super::pos_keys::{forget_counters, key_readers, publish_key, KeyFacts};
use super::value::{age_seconds, flag, set};
use crate::assess::lag::{epoch_lag, reference_pos_block, RefView};
use crate::assess::retire;
use crate::assess::stake::risk_unless_retired;
use crate::assess::terms::schedule;
use crate::assess::window::cip99_transition_view;
use crate::state::{NodeState, PosDown, PosObs, State};

impl PosFamilies {
    /// Re-derives every PoS series from `state` at `now`.
    pub fn publish(&self, state: &State, now: SystemTime) {
        self.reset_gauges();
        let refs = state.reference_views();
        let readers = key_readers(state);
        for (node, reader) in state.nodes.iter().zip(readers) {
            if !reader {
                forget_counters(self, node);
            }
            self.publish_node(node, &refs, now, reader);
        }
    }

    /// Node facts for every node; the facts about its address only when `reader` (see `pos_keys`).
    fn publish_node(&self, node: &NodeState, refs: &[RefView], now: SystemTime, reader: bool) {
        let n = node.name.as_str();
        if !node.poll.polled {
            return;
        }
        let Some(p) = node.pos.as_ref().filter(|_| node.poll.up) else {
            set(&self.up, &[n], 0.0);
            return;
        };
        set(&self.address_known, &[n], flag(p.address.is_some()));
        if let Some(a) = &p.address {
            set(&self.info, &[n, a], 1.0);
        }
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
        let Some(s) = &p.status else {
            self.publish_unavailable(n, p.down);
            return;
        };
        set(&self.up, &[n], 1.0);
        set(&self.epoch, &[n], s.epoch.0 as f64);
        set(&self.latest_committed, &[n], s.latest_committed.0 as f64);
        if let Some(v) = s.latest_voted {
            set(&self.latest_voted, &[n], v.0 as f64);
        }
        if let Some(ts) = p.newest_block_timestamp_us {
            set(&self.block_age, &[n], age_seconds(now, ts as f64 / 1e6));
        }
        let chain_id = node.chain.as_ref().map(|c| c.status.chain_id.0);
        if let Some(median) = chain_id.and_then(|c| reference_pos_block(refs, c)) {
            set(
                &self.block_lag,
                &[n],
                epoch_lag(median, s.latest_committed.0) as f64,
            );
        }
        let interval = p.ledger.block_interval_seconds();
        if let Some(i) = interval {
            set(&self.block_interval, &[n], i);
        }
        let last_block = match (p.epoch_length, p.grid_point) {
            (Some(len), Some(grid)) => {
                set(&self.epoch_length, &[n], len as f64);
                retire::epoch_last_block(s.latest_committed.0, grid, len)
            }
            _ => None,
        };
        let remaining = last_block.map(|l| retire::remaining_blocks(s.latest_committed.0, l));
        if let Some(r) = remaining {
            set(&self.remaining_blocks, &[n], r as f64);
        }
        self.publish_committee(n, p);
        self.publish_history(n, p);
        let judged = self.publish_judgement(n, p, chain_id);
        if let Some(address) = p.address.as_deref().filter(|_| reader) {
            let k = KeyFacts {
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
            publish_key(self, &k);
        }
    }

    /// The node's reading of the force-retire window (node facts): `None` until the backfill has completed, else
    /// the judgement and the at-risk verdict (`None` = the history cannot decide).
    fn publish_judgement(
        &self,
        n: &str,
        p: &PosObs,
        chain_id: Option<u64>,
    ) -> Option<(retire::Judgement, Option<bool>)> {
        let s = p.status.as_ref()?;
        if !p.backfilled {
            // The window is still being read: no participation verdicts yet, and the risk is unknown.
            set(&self.risk_known, &[n], 0.0);
            return None;
        }
        let l = &p.ledger;
        let current = l.epochs.get(&s.epoch.0).cloned().unwrap_or_default();
        set(&self.epoch_blocks, &[n], current.blocks as f64);
        let transition = cip99_transition_view(chain_id.unwrap_or(0), p.cip99_transition_view);
        let grid = p.epoch_length.zip(p.grid_point);
        let j = retire::judge(l, s.epoch.0, s.latest_committed.0, grid, transition);
        set(&self.window_epochs, &[n], j.window as f64);
        let at_risk = risk_unless_retired(j.verdict.at_risk, p.account.as_ref());
        set(&self.risk_known, &[n], flag(at_risk.is_some()));
        Some((j, at_risk))
    }

    fn publish_history(&self, n: &str, p: &PosObs) {
        sync_counter(&self.forecast_missed, &[n], p.forecast.missed_total);
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
    fn publish_committee(&self, n: &str, p: &PosObs) {
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
        for (term, e) in schedule(&c.elections) {
            set(
                &self.election_term_start,
                &[n, term.label()],
                e.start_block_number.0 as f64,
            );
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
#[path = "pos_node_tests.rs"]
mod tests;
