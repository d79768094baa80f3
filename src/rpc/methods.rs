//! The read-only allow-list. The exporter must never change a validator's state: a stray `test_posStopVoting`
//! renames the node's safety-data file and a `test_stop` shuts it down. The client refuses any method not listed
//! here before a byte is sent, so a bug elsewhere cannot reach the node.

/// Every method the exporter may send. Each one is read-only (docs/node-facts.md#local-methods).
pub(crate) const ALLOWED_METHODS: &[&str] = &[
    // core space
    "cfx_getStatus",
    "cfx_epochNumber",
    "cfx_clientVersion",
    "cfx_getBlockByEpochNumber",
    "cfx_getBestBlockHash",
    "txpool_status",
    // local port: sync and peers
    "debug_currentSyncPhase",
    "test_getPeerInfo",
    // PoS
    "pos_getStatus",
    "pos_getCommittee",
    "pos_getAccount",
    "pos_getBlockByNumber",
    "pos_getTransactionByNumber",
    "pos_getRewardsByEpoch",
    // local PoS read-only controls
    "test_posVotingStatus",
    "test_posRegister",
];

/// True when `method` may be sent.
pub(crate) fn is_allowed(method: &str) -> bool {
    ALLOWED_METHODS.contains(&method)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_changing_methods_are_not_allowed() {
        for m in [
            "test_posStopVoting",
            "test_posStartVoting",
            "test_posStopElection",
            "test_stop",
            "test_posStart",
            "test_posForcePropose",
            "test_posTriggerTimeout",
            "debug_clearTxPool",
            "debug_disconnectNetNode",
            "cfx_sendTransaction",
            "test_generateEmptyBlocks",
        ] {
            assert!(!is_allowed(m), "{m} must be refused");
        }
    }

    #[test]
    fn nothing_on_the_list_changes_state() {
        // Guard against someone widening the list with a prefix-like name by mistake.
        for m in ALLOWED_METHODS {
            let lower = m.to_ascii_lowercase();
            for bad in [
                "stop",
                "start",
                "send",
                "set",
                "clear",
                "disconnect",
                "generate",
                "force",
                "trigger",
            ] {
                assert!(!lower.contains(bad), "{m} looks state-changing");
            }
        }
    }
}
