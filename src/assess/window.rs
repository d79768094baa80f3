//! The force-retire look-back as a function of (chain, PoS view): how many epochs the chain checks at an epoch
//! end. Everything that sizes history (the ledger's memory, the watcher's start-up backfill) derives from
//! [`MAX_WINDOW_EPOCHS`], so the window is written once.

/// `CIP99_FORCE_RETIRE_EPOCH_COUNT`: the ending epoch plus the two before it.
pub(crate) const CIP99_WINDOW_EPOCHS: u64 = 3;
/// The look-back before CIP-99 (and on any chain that never activates it).
pub(crate) const PRE_CIP99_WINDOW_EPOCHS: u64 = 1;
/// The largest window any chain uses: how much history the watcher must read to judge.
pub(crate) const MAX_WINDOW_EPOCHS: u64 = CIP99_WINDOW_EPOCHS;

/// CIP-99 transition views of the chains whose configuration conflux-rust ships (docs/node-facts.md#pos-rules): mainnet and testnet.
pub(crate) fn known_cip99_transition_view(chain_id: u64) -> Option<u64> {
    match chain_id {
        1029 => Some(330_000),
        1 => Some(342_000),
        _ => None,
    }
}

/// The transition view in force: the operator's setting wins (they know their chain's node config); else the
/// known value for the chain; else the node's built-in default, which means "never" (1-epoch look-back) — the
/// rule that warns earliest when we cannot know better. The chain id is `None` while the node has not told it.
pub(crate) fn cip99_transition_view(chain_id: Option<u64>, configured: Option<u64>) -> u64 {
    configured
        .or_else(|| chain_id.and_then(known_cip99_transition_view))
        .unwrap_or(u64::MAX)
}

/// Epochs in the window of the epoch that ends at view `epoch_end` (`force_retire_check_epoch_count(view)`).
pub(crate) fn window_epochs(epoch_end: u64, transition_view: u64) -> u64 {
    if epoch_end >= transition_view {
        CIP99_WINDOW_EPOCHS
    } else {
        PRE_CIP99_WINDOW_EPOCHS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_follows_chain_and_view() {
        assert_eq!(cip99_transition_view(Some(1029), None), 330_000);
        assert_eq!(cip99_transition_view(Some(1), None), 342_000);
        assert_eq!(
            cip99_transition_view(Some(10), None),
            u64::MAX,
            "node default"
        );
        assert_eq!(
            cip99_transition_view(Some(10), Some(0)),
            0,
            "configured wins"
        );
        assert_eq!(cip99_transition_view(Some(1029), Some(7)), 7);
        assert_eq!(
            cip99_transition_view(None, None),
            u64::MAX,
            "chain not known yet"
        );
        assert_eq!(cip99_transition_view(None, Some(5)), 5);
        assert_eq!(window_epochs(329_999, 330_000), 1);
        assert_eq!(window_epochs(330_000, 330_000), 3);
        assert_eq!(window_epochs(1030, u64::MAX), 1);
        assert_eq!(window_epochs(100, 0), 3);
    }
}
