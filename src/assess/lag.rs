//! Lag and fork verdicts against the reference nodes. Three outcomes matter and must never be confused: the node
//! is in sync, the node is behind, or the reference cannot be used (then there is no lag at all — a broken
//! reference is not a lagging node).

use std::collections::BTreeMap;

/// A reference as the lag computation sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RefView<'a> {
    /// The last poll succeeded.
    pub up: bool,
    /// Its chain id.
    pub chain_id: Option<u64>,
    /// Its best epoch.
    pub epoch: Option<u64>,
    /// Pivot hashes it reported.
    pub hashes: &'a BTreeMap<u64, String>,
    /// Its latest committed PoS block, when it serves `pos_getStatus`.
    pub pos_committed: Option<u64>,
}

impl RefView<'_> {
    fn usable_for(&self, chain_id: u64) -> bool {
        self.up && self.chain_id == Some(chain_id) && self.epoch.is_some()
    }
}

/// The network's best epoch as the median of the usable references on `chain_id` (the lower middle for an even
/// count, so one runaway reference cannot inflate it). `None` when no reference is usable.
pub(crate) fn reference_epoch(refs: &[RefView], chain_id: u64) -> Option<u64> {
    lower_median(
        refs.iter()
            .filter(|r| r.usable_for(chain_id))
            .filter_map(|r| r.epoch),
    )
}

/// The network's latest committed PoS block, by the same rule as [`reference_epoch`]: the median over the up
/// references on `chain_id` that serve `pos_getStatus`. `None` when none does (then there is no PoS lag at all).
pub(crate) fn reference_pos_block(refs: &[RefView], chain_id: u64) -> Option<u64> {
    lower_median(
        refs.iter()
            .filter(|r| r.up && r.chain_id == Some(chain_id))
            .filter_map(|r| r.pos_committed),
    )
}

/// The lower middle value, so that one runaway reference among two cannot inflate the result.
fn lower_median(values: impl Iterator<Item = u64>) -> Option<u64> {
    let mut v: Vec<u64> = values.collect();
    v.sort_unstable();
    v.get(v.len().checked_sub(1)? / 2).copied()
}

/// Whether a node in sync phase `phase` (`debug_currentSyncPhase`) is still catching up: every phase but the
/// normal one is a catch-up phase (docs/node-facts.md#status-and-sync-phases).
pub(crate) fn catching_up(phase: &str) -> bool {
    phase != "NormalSyncPhase"
}

/// Reference epoch minus node epoch: positive = behind, negative = ahead. Both come from peers, so any pair of
/// `u64`s is possible: the difference is taken in `i128` and clamped, never wrapped.
pub(crate) fn epoch_lag(reference_epoch: u64, node_epoch: u64) -> i64 {
    let lag = i128::from(reference_epoch) - i128::from(node_epoch);
    i64::try_from(lag).unwrap_or(if lag < 0 { i64::MIN } else { i64::MAX })
}

/// Fork verdict: compares the node's pivot hash with the references' at the newest epoch both have. `Some(true)`
/// when every usable reference that knows that epoch disagrees with the node, `Some(false)` when one agrees,
/// `None` when there is no common epoch to compare yet.
pub(crate) fn hash_mismatch(
    node_hashes: &BTreeMap<u64, String>,
    refs: &[RefView],
    chain_id: u64,
) -> Option<bool> {
    let usable: Vec<&RefView> = refs.iter().filter(|r| r.usable_for(chain_id)).collect();
    let common = node_hashes
        .keys()
        .rev()
        .find(|e| usable.iter().any(|r| r.hashes.contains_key(e)))?;
    let ours = node_hashes.get(common)?;
    let agree = usable
        .iter()
        .filter_map(|r| r.hashes.get(common))
        .any(|h| h.eq_ignore_ascii_case(ours));
    Some(!agree)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(up: bool, chain: u64, epoch: u64, hashes: &BTreeMap<u64, String>) -> RefView<'_> {
        RefView {
            up,
            chain_id: Some(chain),
            epoch: Some(epoch),
            hashes,
            pos_committed: Some(epoch * 10),
        }
    }

    /// Three usable references on 1029, one down, one on another chain.
    fn mixed(h: &BTreeMap<u64, String>) -> Vec<RefView<'_>> {
        vec![
            r(true, 1029, 100, h),
            r(true, 1029, 300, h),
            r(true, 1029, 200, h),
            r(false, 1029, 999, h),
            r(true, 1, 5, h),
        ]
    }

    #[test]
    fn pos_median_needs_an_up_reference_on_the_chain_serving_pos() {
        let h = BTreeMap::new();
        let mut refs = mixed(&h);
        assert_eq!(reference_pos_block(&refs, 1029), Some(2000));
        refs[2].pos_committed = None;
        assert_eq!(
            reference_pos_block(&refs, 1029),
            Some(1000),
            "a reference without PoS is not counted; even count takes the lower middle"
        );
        refs[2].epoch = None;
        refs[2].pos_committed = Some(2500);
        assert_eq!(
            reference_pos_block(&refs, 1029),
            Some(2500),
            "the PoS block does not need the core epoch"
        );
        assert_eq!(reference_pos_block(&refs[3..4], 1029), None, "down");
        assert_eq!(reference_pos_block(&refs, 71), None, "foreign chain");
    }

    #[test]
    fn only_the_normal_phase_is_in_sync() {
        assert!(!catching_up("NormalSyncPhase"));
        assert!(catching_up("CatchUpSyncBlockPhase"));
        assert!(
            catching_up("SomeFuturePhase"),
            "an unknown phase is not assumed synced"
        );
    }

    #[test]
    fn median_ignores_down_and_foreign_references() {
        let h = BTreeMap::new();
        let refs = mixed(&h);
        assert_eq!(reference_epoch(&refs, 1029), Some(200));
        assert_eq!(
            reference_epoch(&refs[..2], 1029),
            Some(100),
            "even count takes the lower middle"
        );
        assert_eq!(
            reference_epoch(&refs[3..4], 1029),
            None,
            "a down reference gives no lag at all"
        );
        assert_eq!(reference_epoch(&refs, 71), None);
    }

    #[test]
    fn lag_sign() {
        assert_eq!(epoch_lag(1000, 990), 10);
        assert_eq!(epoch_lag(990, 1000), -10);
        assert_eq!(epoch_lag(u64::MAX, 0), i64::MAX, "clamped, not wrapped");
        assert_eq!(epoch_lag(0, u64::MAX), i64::MIN);
        assert_eq!(epoch_lag(u64::MAX, u64::MAX - 3), 3);
    }

    proptest::proptest! {
        #[test]
        fn lag_never_panics_and_keeps_its_sign(r in proptest::prelude::any::<u64>(), n in proptest::prelude::any::<u64>()) {
            let lag = epoch_lag(r, n);
            proptest::prop_assert_eq!(lag.signum(), (r as i128 - n as i128).signum() as i64);
        }
    }

    #[test]
    fn fork_uses_newest_common_epoch() {
        let node: BTreeMap<u64, String> =
            [(10, "0xa".into()), (20, "0xb".into()), (30, "0xc".into())].into();
        let same: BTreeMap<u64, String> = [(20, "0xB".into())].into();
        let other: BTreeMap<u64, String> = [(20, "0xff".into()), (5, "0x1".into())].into();
        assert_eq!(
            hash_mismatch(&node, &[r(true, 1, 0, &same)], 1),
            Some(false)
        );
        assert_eq!(
            hash_mismatch(&node, &[r(true, 1, 0, &other)], 1),
            Some(true)
        );
        assert_eq!(
            hash_mismatch(&node, &[r(true, 1, 0, &other), r(true, 1, 0, &same)], 1),
            Some(false)
        );
        assert_eq!(
            hash_mismatch(&node, &[r(false, 1, 0, &other)], 1),
            None,
            "down references are not evidence"
        );
        let empty = BTreeMap::new();
        assert_eq!(hash_mismatch(&node, &[r(true, 1, 0, &empty)], 1), None);
    }
}
