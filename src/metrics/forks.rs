//! Hard-fork readiness per node (`assess::forks`, applied by the judge): the chain's next fork, when it activates,
//! whether the node's version is ready for it or already past one it was not ready for, and whether the node runs
//! an older version than the references. `conflux-pos-exporter upgrade-check` and the alerts read these series.

use super::def::catalogue;
use super::value::{flag, set};
use crate::assess::forks::Version;
use crate::judge::Verdicts;
use crate::state::State;

catalogue! {
    /// Hard-fork families.
    pub struct ForkFamilies {
        section("Hard forks", "Per node: the next hard fork of its chain (built-in table for mainnet 1029 and testnet 1, plus `[[fork]]` entries) and whether the node's version is ready for it. A node whose `cfx_clientVersion` has no release number gets no version verdict (`conflux_node_version_parsed` 0), never ready nor not ready.");
        next: Gauge("conflux_hardfork_next_info", ["node", "fork", "min_version"], "Next hard fork of the chain", doc: "1 for the chain's next hard fork not yet fully active, with the oldest version that follows the chain past it. Absent when every known fork is active or the chain's position is unknown."),
        epoch: Gauge("conflux_hardfork_next_activation_epoch", ["node", "fork"], "Next fork's PoW epoch", doc: "PoW epoch of the next fork's activation (its node-upgrade deadline); absent when the fork has no PoW part."),
        pos_view: Gauge("conflux_hardfork_next_activation_pos_view", ["node", "fork"], "Next fork's PoS view", doc: "PoS block number (view) of the next fork's PoS activation; absent when it has no PoS part."),
        seconds: Gauge("conflux_hardfork_next_activation_seconds", ["node", "fork"], "Seconds to the next fork", doc: "Seconds until the next fork's first pending activation, from the observed PoW epoch rate (block timestamps) and PoS block rate. Absent while a pending activation's rate or position is unknown."),
        ready: Gauge("conflux_hardfork_ready", ["node", "fork"], "Version ready for the next fork", doc: "1 when the node's version is at least the next fork's minimum, 0 when older. Absent when the version has no release number or there is no next fork."),
        missed: Gauge("conflux_hardfork_missed", ["node", "fork"], "Past a fork without its version", doc: "1 when the chain (the node or a reference on its chain) is past an activation of `fork` and the node's version is older than its minimum: it no longer follows the chain. 0, labelled with the newest begun fork, when its version is recent enough. Absent when the version is unparsable."),
        parsed: Gauge("conflux_node_version_parsed", ["node"], "Version string parsed", doc: "1 when the node's cfx_clientVersion carries a release number MAJOR.MINOR.PATCH (build suffixes such as -fix or -testnet are ignored), 0 when it does not; absent while the node is down."),
        behind: Gauge("conflux_node_version_behind_reference", ["node"], "Older release than a reference", doc: "1 when the node's release number is older than the newest one a reference on its chain reports (cfx_clientVersion, read hourly), 0 otherwise; absent when either is unknown or unparsable."),
        reference_version: Gauge("conflux_reference_version_info", ["reference", "version"], "Reference cfx_clientVersion", doc: "1 for the reference's cfx_clientVersion (read when first reachable, then hourly), while it is up."),
    }
}

impl ForkFamilies {
    /// Re-derives the hard-fork series from the judge's verdicts.
    pub(crate) fn publish(&self, state: &State, verdicts: &Verdicts) {
        self.reset_gauges();
        for r in state.references.iter().filter(|r| r.poll.up) {
            if let Some(v) = &r.version {
                set(&self.reference_version, &[&r.name, v], 1.0);
            }
        }
        for (node, v) in state.nodes.iter().zip(&verdicts.nodes) {
            let n = node.name.as_str();
            let version = node.chain.as_ref().filter(|_| node.poll.up);
            if let Some(text) = version.and_then(|c| c.version.as_deref()) {
                set(&self.parsed, &[n], flag(Version::parse(text).is_some()));
            }
            let Some(f) = &v.forks else { continue };
            if let Some(b) = f.behind_reference {
                set(&self.behind, &[n], flag(b));
            }
            let r = &f.readiness;
            if let Some(m) = &r.missed {
                set(&self.missed, &[n, &m.name], 1.0);
            } else if let Some(begun) = r.version.and(r.last_begun.as_ref()) {
                set(&self.missed, &[n, &begun.name], 0.0);
            }
            let Some(next) = &r.next else { continue };
            let fork = next.name.as_str();
            let min = next.min_version.to_string();
            set(&self.next, &[n, fork, &min], 1.0);
            if let Some(e) = next.epoch {
                set(&self.epoch, &[n, fork], e as f64);
            }
            if let Some(p) = next.pos_view {
                set(&self.pos_view, &[n, fork], p as f64);
            }
            if let Some(s) = r.seconds {
                set(&self.seconds, &[n, fork], s);
            }
            if let Some(ready) = r.ready {
                set(&self.ready, &[n, fork], flag(ready));
            }
        }
    }
}
