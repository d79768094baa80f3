//! The chain verdicts of one node against the references: catching up, epoch and PoS block lag, fork. The rules
//! are `assess::lag`'s; this file only decides which of the node's facts they apply to.

use crate::assess::lag::{
    catching_up, epoch_lag, hash_mismatch, reference_epoch, reference_pos_block, RefView,
};
use crate::state::NodeState;

/// How one node stands against the references; `None` where a side is unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct LagVerdicts {
    /// In a catch-up sync phase (any phase but normal).
    pub catching_up: Option<bool>,
    /// Median best epoch of the usable references minus the node's (negative: ahead).
    pub epoch_lag: Option<i64>,
    /// The node's pivot hash at a confirmed epoch differs from every usable reference's.
    pub hash_mismatch: Option<bool>,
    /// Median PoS head of the references serving `pos_*` minus the node's own `latestCommitted`.
    pub pos_block_lag: Option<i64>,
}

/// The verdicts of `node` while it answers; all unknown while it is down.
pub(crate) fn lag_verdicts(node: &NodeState, refs: &[RefView]) -> LagVerdicts {
    let mut v = LagVerdicts::default();
    if !node.poll.up {
        return v;
    }
    if let Some(c) = &node.chain {
        let (chain_id, s) = (c.status.chain_id.0, &c.status);
        v.catching_up = c.sync_phase.as_deref().map(catching_up);
        v.epoch_lag = reference_epoch(refs, chain_id).map(|r| epoch_lag(r, s.epoch_number.0));
        v.hash_mismatch = hash_mismatch(&node.confirmed_hashes, refs, chain_id);
    }
    let Some(p) = &node.pos else { return v };
    let chain_id = node
        .chain
        .as_ref()
        .map(|c| c.status.chain_id.0)
        .or(p.chain_id);
    if let (Some(s), Some(chain_id)) = (&p.local.status, chain_id) {
        v.pos_block_lag =
            reference_pos_block(refs, chain_id).map(|m| epoch_lag(m, s.latest_committed.0));
    }
    v
}
