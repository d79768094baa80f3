//! The calls of the history backlog ([`super::tracker::BlockTracker`]), each tagged with what it asks for so its
//! answer can be routed back.

use serde_json::json;

use crate::rpc::wire::to_hex;
use crate::rpc::Call;

/// A backlog call: what it asks for, so its answer can be routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    /// `pos_getBlockByNumber` for a counted block.
    Block(u64),
    /// `pos_getBlockByNumber` for the block before the window, read only for its `lastTxNumber`.
    Anchor(u64),
    /// `pos_getTransactionByNumber`.
    Tx(u64),
    /// `pos_getCommittee [view]`: committee membership for the epoch containing `view`.
    CommitteeAt(u64),
    /// `pos_getRewardsByEpoch [epoch]`.
    Rewards(u64),
}

impl Want {
    /// The JSON-RPC method.
    pub(crate) fn method(self) -> &'static str {
        match self {
            Want::Block(_) | Want::Anchor(_) => "pos_getBlockByNumber",
            Want::Tx(_) => "pos_getTransactionByNumber",
            Want::CommitteeAt(_) => "pos_getCommittee",
            Want::Rewards(_) => "pos_getRewardsByEpoch",
        }
    }

    /// The JSON-RPC call.
    pub(crate) fn call(self) -> Call {
        match self {
            Want::Block(h) | Want::Anchor(h) => {
                Call::new("pos_getBlockByNumber", json!([to_hex(h)]))
            }
            Want::Tx(n) => Call::new("pos_getTransactionByNumber", json!([to_hex(n)])),
            Want::CommitteeAt(v) => Call::new("pos_getCommittee", json!([to_hex(v)])),
            Want::Rewards(e) => Call::new("pos_getRewardsByEpoch", json!([to_hex(e)])),
        }
    }
}
