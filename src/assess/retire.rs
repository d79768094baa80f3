//! The force-retire rule (reference §6.5) as a pure function. At the end of PoS epoch E, every member of E's
//! committee with no QC signature in E and in the epochs before it within the look-back window (3 epochs in total
//! since CIP-99; only epochs it actually served count, so a new member is judged on its first epoch alone) is
//! force-retired. The verdicts here forecast that: how many epochs in a row we have been silent, whether the end of
//! the current epoch retires us unless a vote lands first, and when that end comes.

use std::collections::BTreeMap;

use crate::votes::EpochRecord;

/// `CIP99_FORCE_RETIRE_EPOCH_COUNT`: the ending epoch plus the two before it.
pub const FORCE_RETIRE_EPOCHS: u64 = 3;

/// What the rule says about us right now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetireVerdict {
    /// Consecutive epochs, counting the current one, in which we were a member and signed nothing.
    pub epochs_without_vote: u64,
    /// The end of the current epoch force-retires us unless one of our signatures lands first.
    pub at_risk: bool,
}

/// Applies the rule to the records of the current epoch `current` and the ones before it.
pub fn assess(epochs: &BTreeMap<u64, EpochRecord>, current: u64, lookback: u64) -> RetireVerdict {
    let silent = |e: u64| {
        epochs
            .get(&e)
            .is_some_and(|r| r.member == Some(true) && r.signed == 0)
    };
    let signed = |e: u64| epochs.get(&e).is_some_and(|r| r.signed > 0);
    let mut epochs_without_vote = 0;
    let mut e = current;
    while silent(e) {
        epochs_without_vote += 1;
        if e == 0 {
            break;
        }
        e -= 1;
    }
    // Candidate at the end of `current`: a member that is silent in it. Cleared by any signature in the window's
    // earlier epochs; epochs in which it was not a member (or that we know nothing about) cannot clear it.
    let window_start = current.saturating_sub(lookback.saturating_sub(1));
    let at_risk = silent(current) && !(window_start..current).any(signed);
    RetireVerdict {
        epochs_without_vote,
        at_risk,
    }
}

/// Where the current epoch ends, from the chain: a term starts at every `length`-th view on a grid that the
/// election schedule reveals (`startBlockNumber` of an upcoming term), and the block *at* a term's start view is the
/// last block of the epoch before it (its execution produces the next epoch's state; rounds run 1..=length).
/// Returns the height of the current epoch's last block: the first grid view after `latest_committed`.
pub fn epoch_last_block(latest_committed: u64, grid_point: u64, length: u64) -> Option<u64> {
    if length == 0 {
        return None;
    }
    let next = latest_committed.checked_add(1)?;
    let offset = grid_point % length;
    let ahead = (offset + length - next % length) % length;
    next.checked_add(ahead)
}

/// Blocks still to be committed in the current epoch, the epoch-ending block included.
pub fn remaining_blocks(latest_committed: u64, last_block: u64) -> u64 {
    last_block.saturating_sub(latest_committed)
}

/// Seconds until the end of the epoch at the observed block interval, counted from the commit of the latest
/// block (`since_latest` seconds ago), never negative.
pub fn eta_seconds(remaining: u64, interval_seconds: f64, since_latest: f64) -> f64 {
    (remaining as f64 * interval_seconds - since_latest.max(0.0)).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(member: bool, signed: u64) -> EpochRecord {
        EpochRecord {
            member: Some(member),
            signed,
            blocks: 10,
            missed: if member { 10 - signed } else { 0 },
            ..Default::default()
        }
    }

    fn ledger(entries: &[(u64, EpochRecord)]) -> BTreeMap<u64, EpochRecord> {
        entries.iter().cloned().collect()
    }

    #[test]
    fn healthy_member_is_never_at_risk() {
        let l = ledger(&[(8, rec(true, 10)), (9, rec(true, 9)), (10, rec(true, 3))]);
        assert_eq!(
            assess(&l, 10, 3),
            RetireVerdict {
                epochs_without_vote: 0,
                at_risk: false
            }
        );
    }

    #[test]
    fn a_vote_earlier_in_the_window_protects_the_current_epoch() {
        // Silent in 10 and 9, but signed in 8: the end of 10 does not retire us...
        let l = ledger(&[(8, rec(true, 1)), (9, rec(true, 0)), (10, rec(true, 0))]);
        assert_eq!(
            assess(&l, 10, 3),
            RetireVerdict {
                epochs_without_vote: 2,
                at_risk: false
            }
        );
        // ...but if 11 is silent too, the window (9, 10, 11) is empty: at risk.
        let l = ledger(&[
            (8, rec(true, 1)),
            (9, rec(true, 0)),
            (10, rec(true, 0)),
            (11, rec(true, 0)),
        ]);
        assert_eq!(
            assess(&l, 11, 3),
            RetireVerdict {
                epochs_without_vote: 3,
                at_risk: true
            }
        );
    }

    #[test]
    fn a_new_member_is_judged_on_the_epochs_it_served() {
        let l = ledger(&[(9, rec(false, 0)), (10, rec(true, 0))]);
        assert_eq!(
            assess(&l, 10, 3),
            RetireVerdict {
                epochs_without_vote: 1,
                at_risk: true
            }
        );
        let l = ledger(&[(8, rec(false, 0)), (9, rec(true, 0)), (10, rec(true, 0))]);
        assert!(assess(&l, 10, 3).at_risk);
    }

    #[test]
    fn non_members_and_signers_are_safe() {
        assert!(!assess(&ledger(&[(10, rec(false, 0))]), 10, 3).at_risk);
        assert!(!assess(&ledger(&[(10, rec(true, 1))]), 10, 3).at_risk);
        assert_eq!(assess(&BTreeMap::new(), 10, 3).epochs_without_vote, 0);
    }

    #[test]
    fn pre_cip99_lookback_of_one() {
        let l = ledger(&[(9, rec(true, 5)), (10, rec(true, 0))]);
        assert!(assess(&l, 10, 1).at_risk);
        assert!(!assess(&l, 10, 3).at_risk);
    }

    #[test]
    fn epoch_end_from_the_election_grid() {
        // Mainnet grid: terms start at multiples of 120 (1_684_080 % 120 == 0); block 1_684_080 + 120 ends the
        // epoch made of blocks 1_684_081 ..= 1_684_200.
        let g = 1_684_080;
        assert_eq!(epoch_last_block(g + 5, g + 6 * 120, 120), Some(g + 120));
        assert_eq!(epoch_last_block(g + 119, g + 6 * 120, 120), Some(g + 120));
        // Latest committed is the last block of an epoch: the next epoch is the current one now.
        assert_eq!(epoch_last_block(g + 120, g + 6 * 120, 120), Some(g + 240));
        // Small test grid with an offset: terms start at 3, 13, 23, ...
        assert_eq!(epoch_last_block(14, 53, 10), Some(23));
        assert_eq!(remaining_blocks(14, 23), 9);
        assert_eq!(eta_seconds(8, 30.5, 0.0), 244.0);
        assert_eq!(eta_seconds(8, 30.5, 4.0), 240.0);
        assert_eq!(
            eta_seconds(1, 30.0, 45.0),
            0.0,
            "a late block never gives a negative ETA"
        );
        assert_eq!(epoch_last_block(5, 53, 0), None);
    }
}
