//! The preflight before `start_voting`, per node: the judge's verdict (`assess::preflight`), why, and the quiet
//! blocks since the key's last sign of life. `conflux-pos-exporter preflight` reads these series back and prints
//! the evidence for the operator at that step of the failover. Beside it, a standby's readiness to vote now
//! (`assess::standby`): the reasons it could not take over if it had to.

use super::def::catalogue;
use super::value::{flag, set};
use crate::assess::preflight::{Reason, Verdict};
use crate::judge::Verdicts;
use crate::state::State;

catalogue! {
    /// Preflight families.
    pub struct PreflightFamilies {
        section("Start-voting preflight", "Per node: whether turning its voting switch on (start_voting) is safe now, judged from the chain and its own key files.");
        verdict: Gauge("conflux_pos_start_voting_preflight", ["node", "verdict"], "1 for the start_voting verdict", doc: "1 for whether start_voting is safe on this node now (unsafe, wait, unknown, safe), 0 for the others."),
        reason: Gauge("conflux_pos_start_voting_preflight_reason", ["node", "reason"], "1 per reason of the preflight verdict", doc: "1 for each reason behind the preflight verdict, 0 for the others."),
        quiet: Gauge("conflux_pos_start_voting_quiet_blocks", ["node"], "Blocks since the key's last sign of life", doc: "Committed PoS blocks since the key's last sign of life (signature, proposal, Election)."),
        standby_able: Gauge("conflux_pos_standby_able_to_vote", ["node"], "1 when this standby could vote now", doc: "For a node whose voting switch is off (a standby): 1 when it could take over and vote now: up, sync phase NormalSyncPhase, at most 100 epochs behind the references, its own PoS view fresh, on the references' fork, not older than the voting primary of its key (only compared when this exporter watches the primary too), ready for the next hard fork, safety data of its own key, open-file soft limit at least 65536 and every watched directory with at least 500 GB available. 0 when a reason holds (conflux_pos_standby_unable_reason), absent when not a standby or while an input is unknown."),
        standby_reason: Gauge("conflux_pos_standby_unable_reason", ["node", "reason"], "1 per reason this standby could not vote now", doc: "For a standby (switch off): 1 for each reason it could not vote now, 0 for each checked and fine; absent while that input is unknown (a down node tells only `down`). Reasons: down, not_synced, epoch_lag, pos_view_stale, fork, version_behind, fork_not_ready, key_owner, open_file_limit, disk_space."),
        against: Gauge("conflux_pos_started_voting_against_preflight", ["node"], "1 when voting started against the preflight", doc: "1 when the node's voting switch went on while its preflight said unsafe or wait; 0 otherwise."),
    }
}

impl PreflightFamilies {
    /// Re-derives the preflight series from the judge's verdicts.
    pub(crate) fn publish(&self, state: &State, verdicts: &Verdicts) {
        self.reset_gauges();
        for (node, v) in state.nodes.iter().zip(&verdicts.nodes) {
            let n = node.name.as_str();
            if let Some(a) = v.started_against_preflight {
                set(&self.against, &[n], flag(a));
            }
            if let Some(reasons) = &v.standby {
                for (r, holds) in reasons {
                    if let Some(h) = holds {
                        set(&self.standby_reason, &[n, r.label()], flag(*h));
                    }
                }
            }
            if let Some(a) = v.able_to_vote() {
                set(&self.standby_able, &[n], flag(a));
            }
            let Some(p) = &v.preflight else { continue };
            for x in Verdict::ALL {
                set(&self.verdict, &[n, x.label()], flag(p.verdict == x));
            }
            for r in Reason::ALL {
                set(&self.reason, &[n, r.label()], flag(p.reasons.contains(&r)));
            }
            if let Some(q) = p.quiet_blocks {
                set(&self.quiet, &[n], q as f64);
            }
        }
    }
}
