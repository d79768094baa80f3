//! The judge's standby step: gathers, for a node whose voting switch is off, the facts [`unable_reasons`] needs
//! from the state (chain, PoS view, host probes, and the voting primary of its key when this exporter watches it).

use super::{ForkVerdicts, LagVerdicts};
use crate::assess::guard::OwnerVerdict;
use crate::assess::standby::{unable_reasons, Reason, StandbyInput};
use crate::state::{NodeState, ProcessObs, State};

/// The standby verdict of `node`: per reason whether it stops the node from voting; `None` when the node is not
/// a standby (its switch is on, or unknown while it answers).
pub(super) fn standby_reasons(
    state: &State,
    node: &NodeState,
    owner: Option<&OwnerVerdict>,
    lag: &LagVerdicts,
    forks: Option<&ForkVerdicts>,
) -> Option<Vec<(Reason, Option<bool>)>> {
    let switch = node.pos.as_ref().and_then(|p| p.voting_enabled);
    if node.poll.up && switch != Some(false) {
        return None;
    }
    // A node that is down is a standby only if it was one when last seen.
    if !node.poll.up && (!node.poll.polled || switch != Some(false)) {
        return None;
    }
    let chain = node.chain.as_ref().filter(|_| node.poll.up);
    // No fork ahead is "ready"; an unparsable version leaves it unknown.
    let fork_not_ready = forks.and_then(|f| match &f.readiness.next {
        None => f.readiness.version.map(|_| false),
        Some(_) => f.readiness.ready.map(|r| !r),
    });
    let host = node.host.as_ref();
    let open_files_soft = host.and_then(|h| match &h.process {
        ProcessObs::Found { facts, .. } => Some(facts.max_open_files.soft),
        _ => None,
    });
    let disk_available_min = host.and_then(|h| {
        let usages: Option<Vec<u64>> = h
            .disks
            .iter()
            .map(|d| d.usage.as_ref().ok().map(|u| u.available_bytes))
            .collect();
        usages?.into_iter().min()
    });
    let input = StandbyInput {
        up: node.poll.up,
        sync_phase: chain.and_then(|c| c.sync_phase.as_deref()),
        epoch_lag: lag.epoch_lag,
        pos_view_fresh: node
            .pos
            .as_ref()
            .and_then(|p| p.view.local)
            .map(|v| v.fresh),
        fork: lag.hash_mismatch,
        versions: (
            chain.and_then(|c| c.version.as_deref()),
            primary_version(state, node),
        ),
        fork_not_ready,
        owner_mismatch: host
            .filter(|h| h.keys.is_some())
            .map(|_| matches!(owner, Some(OwnerVerdict::Mismatch { .. }))),
        open_files_soft,
        disk_available_min,
    };
    Some(unable_reasons(&input))
}

/// The version of the node voting with `node`'s key, when this exporter watches it and it is up.
fn primary_version<'a>(state: &'a State, node: &NodeState) -> Option<&'a str> {
    let key = node.pos_address()?;
    state
        .nodes
        .iter()
        .filter(|n| n.name != node.name && n.poll.up && n.pos_address() == Some(key))
        .filter(|n| n.pos.as_ref().and_then(|p| p.voting_enabled) == Some(true))
        .find_map(|n| n.chain.as_ref()?.version.as_deref())
}
