//! Core-space health of each node and the reference comparison: what `watch::chain` and `watch::reference`
//! observed, turned into series. Everything here is re-derived from the state on each publish.

use std::time::SystemTime;

use super::def::catalogue;
use super::value::{age_seconds, flag, set};
use crate::judge::{LagVerdicts, Verdicts};
use crate::rpc::ERROR_KINDS;
use crate::state::{NodeState, State};

/// The sync phases a conflux-rust node reports, in order (docs/node-facts.md#status-and-sync-phases). All are exported so a dashboard can
/// show the state set even before a node enters a phase. The simulator keeps its own copy on purpose: it must not
/// read the exporter's code, or it would mirror the exporter instead of checking it.
pub(crate) use crate::rpc::cfx::SYNC_PHASES;

/// Every value of `conflux_reference_state`'s `state` label: `ok`, `not_polled`, each RPC error kind a reference
/// can fail with, and `chain_mismatch`.
pub(crate) fn reference_states() -> impl Iterator<Item = &'static str> {
    ["ok", "not_polled"]
        .into_iter()
        .chain(ERROR_KINDS.iter().copied().filter(|k| *k != "forbidden"))
        .chain(["chain_mismatch"])
}

catalogue! {
    /// Node chain health and the reference comparison.
    pub struct ChainFamilies {
        section("Node chain and references", "One series set per watched node (`node` label) and per reference (`reference` label). While a node is unreachable, `conflux_up` is 0 and its other series disappear instead of repeating old values.");
        up: Gauge("conflux_up", ["node"], "1 when the node answers cfx_getStatus", doc: "1 while the node answers cfx_getStatus (asked alone, so slow history reads never affect it; timeouts count only after poll.node_down_after of silence), 0 when it does not (see conflux_exporter_rpc_errors_total for why); absent until the first poll ends."),
        node_info: Gauge("conflux_node_info", ["node", "version", "chain_id", "network_id"], "Node version and chain ids", doc: "Always 1 while the node is up; labels carry cfx_clientVersion and the chain and network ids."),
        epoch_number: Gauge("conflux_epoch_number", ["node", "tag"], "Node epoch number by tag", doc: "The node's epoch number per tag (latest_mined, latest_state, latest_confirmed, latest_finalized, latest_checkpoint) from cfx_getStatus."),
        block_age: Gauge("conflux_block_age_seconds", ["node"], "Seconds since the latest mined block", doc: "Seconds since the timestamp of the node's latest_mined pivot block (0 when the block is from the future)."),
        sync_phase: Gauge("conflux_sync_phase", ["node", "phase"], "1 for the current sync phase", doc: "1 for the node's current sync phase (debug_currentSyncPhase), 0 for the others."),
        catching_up: Gauge("conflux_catching_up", ["node"], "1 while the node catches up", doc: "1 while the node is in a catch-up sync phase (any phase but NormalSyncPhase)."),
        peers: Gauge("conflux_peers", ["node"], "Connected peers", doc: "Connected peers (length of test_getPeerInfo)."),
        txpool_pending: Gauge("conflux_txpool_pending", ["node"], "Pending pool transactions", doc: "Transactions in the node's pool not yet packed (pendingTxNumber)."),
        method_unavailable: Gauge("conflux_rpc_method_unavailable", ["node", "method"], "1 per method the node does not serve", doc: "1 for each method the node's port answered with -32601 (namespace not enabled) in the last poll."),
        epoch_lag: Gauge("conflux_epoch_lag", ["node"], "Epochs behind the references", doc: "Median best epoch of the usable references on the node's chain minus the node's best epoch (negative = ahead). Absent when no reference is usable."),
        hash_mismatch: Gauge("conflux_reference_hash_mismatch", ["node"], "1 on a pivot hash mismatch (fork)", doc: "1 when the node's pivot block hash at a confirmed epoch differs from every usable reference's hash at that epoch (fork suspected), 0 when one agrees. Absent until a common epoch is known."),
        reference_up: Gauge("conflux_reference_up", ["reference"], "1 when the reference answers", doc: "1 when the last poll of the reference answered cfx_getStatus; 0 otherwise (conflux_reference_state says why)."),
        reference_state: Gauge("conflux_reference_state", ["reference", "state"], "1 for the reference's state", doc: "1 for the reference's current state: ok, not_polled, or why it is unusable (timeout, connect, http_status, redirect, rpc_error, decode, too_large, chain_mismatch)."),
        reference_epoch: Gauge("conflux_reference_epoch_number", ["reference"], "Best epoch of the reference", doc: "Best epoch reported by the reference. Absent while it is down."),
    }
}

impl ChainFamilies {
    /// Re-derives every series from `state` at `now`.
    pub(crate) fn publish(&self, state: &State, verdicts: &Verdicts, now: SystemTime) {
        self.reset_gauges();
        for (node, v) in state.nodes.iter().zip(&verdicts.nodes) {
            self.publish_node(node, &v.lag, now);
        }
        for r in &state.references {
            let name = r.name.as_str();
            set(&self.reference_up, &[name], flag(r.poll.up));
            let current = if r.poll.up {
                "ok"
            } else {
                r.poll.last_error_kind.unwrap_or("not_polled")
            };
            for s in reference_states() {
                set(&self.reference_state, &[name, s], flag(s == current));
            }
            if let (true, Some(e)) = (r.poll.up, r.epoch) {
                set(&self.reference_epoch, &[name], e as f64);
            }
        }
    }

    fn publish_node(&self, node: &NodeState, v: &LagVerdicts, now: SystemTime) {
        let n = node.name.as_str();
        if !node.poll.polled {
            return; // not asked yet: neither up nor down
        }
        let Some(c) = node.chain.as_ref().filter(|_| node.poll.up) else {
            set(&self.up, &[n], 0.0);
            return;
        };
        set(&self.up, &[n], 1.0);
        let s = &c.status;
        let chain_id = s.chain_id.0;
        set(
            &self.node_info,
            &[
                n,
                c.version.as_deref().unwrap_or("unknown"),
                &chain_id.to_string(),
                &s.network_id.0.to_string(),
            ],
            1.0,
        );
        for (tag, v) in [
            ("latest_mined", s.epoch_number),
            ("latest_state", s.latest_state),
            ("latest_confirmed", s.latest_confirmed),
            ("latest_finalized", s.latest_finalized),
            ("latest_checkpoint", s.latest_checkpoint),
        ] {
            set(&self.epoch_number, &[n, tag], v.0 as f64);
        }
        if let Some(ts) = c.best_block_timestamp {
            set(&self.block_age, &[n], age_seconds(now, ts as f64));
        }
        if let Some(phase) = &c.sync_phase {
            for p in SYNC_PHASES {
                set(&self.sync_phase, &[n, p], flag(p == phase));
            }
            if !SYNC_PHASES.contains(&phase.as_str()) {
                set(&self.sync_phase, &[n, phase], 1.0);
            }
        }
        if let Some(c) = v.catching_up {
            set(&self.catching_up, &[n], flag(c));
        }
        if let Some(p) = c.peers {
            set(&self.peers, &[n], p as f64);
        }
        set(&self.txpool_pending, &[n], s.pending_tx_number.0 as f64);
        for m in &c.unavailable {
            set(&self.method_unavailable, &[n, m], 1.0);
        }
        if let Some(l) = v.epoch_lag {
            set(&self.epoch_lag, &[n], l as f64);
        }
        if let Some(m) = v.hash_mismatch {
            set(&self.hash_mismatch, &[n], flag(m));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::metrics::test_support::{present, text, value};
    use crate::rpc::cfx::Status;
    use crate::rpc::wire::HexU64;
    use crate::state::{ChainObs, PollStatus, ReferenceState};

    fn poll(polled: bool, up: bool, kind: Option<&'static str>) -> PollStatus {
        PollStatus {
            polled,
            up,
            last_error_kind: kind,
            ..Default::default()
        }
    }

    fn node(name: &str, poll: PollStatus) -> NodeState {
        let h = HexU64;
        let status = Status {
            epoch_number: h(1000),
            latest_state: h(995),
            latest_confirmed: h(990),
            latest_finalized: h(900),
            latest_checkpoint: h(800),
            chain_id: h(1029),
            network_id: h(1029),
            pending_tx_number: h(3),
        };
        NodeState {
            name: name.into(),
            chain: Some(ChainObs {
                status,
                version: Some("conflux-rust/v2".into()),
                best_block_timestamp: Some(9_970),
                sync_phase: Some("CatchUpSyncBlockPhase".into()),
                peers: Some(8),
                unavailable: vec![],
                malformed: vec![],
            }),
            poll,
            ..Default::default()
        }
    }

    fn reference(name: &str, poll: PollStatus, chain: u64, epoch: u64) -> ReferenceState {
        ReferenceState {
            name: name.into(),
            chain_id: Some(chain),
            epoch: poll.up.then_some(epoch),
            poll,
            ..Default::default()
        }
    }

    #[test]
    fn a_node_and_its_references_from_a_fixture_state() {
        let r = prometheus::Registry::new();
        let f = ChainFamilies::register(&r).unwrap();
        let state = State {
            nodes: vec![
                node("a", poll(true, true, None)),
                node("b", poll(true, false, Some("timeout"))),
                node("c", poll(false, false, None)),
            ],
            references: vec![
                reference("ok", poll(true, true, None), 1029, 1010),
                reference("slow", poll(true, false, Some("timeout")), 1029, 9_999),
                reference("other", poll(true, true, None), 1, 5),
            ],
        };
        let now = UNIX_EPOCH + Duration::from_secs(10_000);
        let verdicts = crate::judge::Judge::default().judge(&state, now);
        f.publish(&state, &verdicts, now);
        let t = text(&r);
        let a = [("node", "a")];
        assert_eq!(value(&t, "conflux_up", &a), Some(1.0));
        assert_eq!(
            value(&t, "conflux_epoch_lag", &a),
            Some(10.0),
            "only the usable reference"
        );
        assert_eq!(value(&t, "conflux_block_age_seconds", &a), Some(30.0));
        assert_eq!(value(&t, "conflux_catching_up", &a), Some(1.0));
        let phase = |p| value(&t, "conflux_sync_phase", &[("node", "a"), ("phase", p)]);
        assert_eq!(phase("CatchUpSyncBlockPhase"), Some(1.0));
        assert_eq!(phase("NormalSyncPhase"), Some(0.0));
        assert!(
            !present(&t, "conflux_reference_hash_mismatch"),
            "no common epoch yet"
        );

        assert_eq!(value(&t, "conflux_up", &[("node", "b")]), Some(0.0));
        assert_eq!(
            value(
                &t,
                "conflux_epoch_number",
                &[("node", "b"), ("tag", "latest_mined")]
            ),
            None
        );
        assert_eq!(
            value(&t, "conflux_up", &[("node", "c")]),
            None,
            "never polled: neither up nor down"
        );

        let state_of = |r, s| {
            value(
                &t,
                "conflux_reference_state",
                &[("reference", r), ("state", s)],
            )
        };
        assert_eq!(state_of("slow", "timeout"), Some(1.0));
        assert_eq!(state_of("slow", "ok"), Some(0.0));
        assert_eq!(state_of("ok", "ok"), Some(1.0));
        assert_eq!(
            value(&t, "conflux_reference_up", &[("reference", "slow")]),
            Some(0.0)
        );
        assert_eq!(
            value(
                &t,
                "conflux_reference_epoch_number",
                &[("reference", "slow")]
            ),
            None
        );
    }
}
