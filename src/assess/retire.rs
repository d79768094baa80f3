//! The force-retire rule (docs/node-facts.md#pos-rules) as pure functions. At the end of PoS epoch E, every member of E's
//! committee with no QC signature in E and in the epochs before it within the look-back window is force-retired;
//! only epochs it actually served count, so a new member is judged on its first epoch alone. The window is not a
//! constant: conflux-rust uses 1 epoch before the chain's CIP-99 transition view and 3 from it, and the node's
//! built-in transition view is `u64::MAX` (a private chain or devnet that does not set it retires after one silent
//! epoch — measured on the real devnet). The verdicts here forecast that rule and say "unknown" whenever the record
//! cannot decide, because "not at risk" on a half-read history is exactly the lie an operator cannot afford.

use std::collections::BTreeMap;

use super::votes::{EpochRecord, VoteLedger};
use super::window::window_epochs;

/// What the rule says about us right now. `at_risk` is `None` when the record cannot decide (an epoch of the
/// window not read, or membership not known): the publisher then says "unknown", never "safe".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetireVerdict {
    /// Consecutive epochs, counting the current one, in which we were a member and signed nothing.
    pub epochs_without_vote: u64,
    /// The end of the current epoch force-retires us unless one of our signatures lands first.
    pub at_risk: Option<bool>,
}

/// Applies the rule to the records of the current epoch `current` and the `window − 1` before it.
#[cfg(test)]
fn assess(epochs: &BTreeMap<u64, EpochRecord>, current: u64, window: u64) -> RetireVerdict {
    assess_from(epochs, current, window, None)
}

/// [`assess`] for a ledger whose node has no block before epoch `history_start` (chain start): earlier epochs of the
/// window hold no signature of ours, so they are decided without a record.
pub(crate) fn assess_from(
    epochs: &BTreeMap<u64, EpochRecord>,
    current: u64,
    window: u64,
    history_start: Option<u64>,
) -> RetireVerdict {
    let mut epochs_without_vote = 0;
    // An epoch without any committed block yet neither breaks nor extends the streak.
    let started = |r: &EpochRecord| r.signed + r.missed + r.unknown > 0;
    let mut e = match epochs.get(&current) {
        Some(r) if !started(r) && current > 0 => current - 1,
        _ => current,
    };
    while epochs.get(&e).is_some_and(silent) {
        epochs_without_vote += 1;
        if e == 0 {
            break;
        }
        e -= 1;
    }
    RetireVerdict {
        epochs_without_vote,
        at_risk: at_risk(epochs, current, window, history_start),
    }
}

/// Evidence of silence: a member that missed committed blocks and signed none. An epoch whose blocks so far all
/// have unknown QCs is not evidence either way.
fn silent(r: &EpochRecord) -> bool {
    r.member == Some(true) && r.signed == 0 && r.missed > 0
}

/// A member that has not signed in `current` is a candidate; any signature in the window's earlier epochs clears
/// it. Epochs in which it was not a member cannot clear it; an epoch we know nothing about might have, so it makes
/// the verdict unknown unless a known signature already decides. "At risk" also needs evidence of silence: a
/// missed block somewhere in the window. Without it (an epoch's start under a 1-epoch window, a new member before
/// its first block) every member would be "at risk" at every epoch start, which no operator could act on.
fn at_risk(
    epochs: &BTreeMap<u64, EpochRecord>,
    current: u64,
    window: u64,
    history_start: Option<u64>,
) -> Option<bool> {
    let now = epochs.get(&current)?;
    if now.signed > 0 || now.member == Some(false) {
        return Some(false);
    }
    now.member?;
    let window_start = current.saturating_sub(window.saturating_sub(1));
    let earlier: Vec<(u64, Option<&EpochRecord>)> = (window_start..current)
        .map(|e| (e, epochs.get(&e)))
        .collect();
    if earlier.iter().filter_map(|(_, r)| *r).any(|r| r.signed > 0) {
        return Some(false);
    }
    // An earlier epoch is decided when its blocks were read and none has an unknown QC that could hide our
    // signature (membership does not matter: only a signature clears), or when the node has nothing before it.
    let decided = |(e, r): &(u64, Option<&EpochRecord>)| match r {
        Some(r) if r.blocks > 0 => r.hidden_qc == 0,
        _ => history_start.is_some_and(|start| *e < start),
    };
    if !earlier.iter().all(decided) {
        return None;
    }
    let evidence = now.missed > 0 || earlier.iter().filter_map(|(_, r)| *r).any(silent);
    match (evidence, now.unknown) {
        (true, _) => Some(true),
        (false, 0) => Some(false),
        // Only unknown QCs so far in this epoch: they may or may not carry our signature.
        (false, _) => None,
    }
}

/// The verdict with the window the chain applies at the end of the current epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judgement {
    /// The rule's verdict.
    pub verdict: RetireVerdict,
    /// Epochs in the look-back window that applies to the current epoch's end.
    pub window: u64,
    /// The current epoch's last block (where a retirement would happen), when the epoch grid is known.
    pub epoch_end: Option<u64>,
}

/// Judges the current epoch `epoch` at `latest_committed`: the window is chosen by the view of the epoch's end
/// (the view the chain checks at), falling back to the latest view while the grid is unknown.
pub fn judge(
    ledger: &VoteLedger,
    epoch: u64,
    latest_committed: u64,
    grid: Option<(u64, u64)>,
    transition_view: u64,
) -> Judgement {
    let epoch_end = grid.and_then(|(len, point)| epoch_last_block(latest_committed, point, len));
    let window = window_epochs(epoch_end.unwrap_or(latest_committed), transition_view);
    Judgement {
        verdict: assess_from(&ledger.epochs, epoch, window, ledger.history_start_epoch),
        window,
        epoch_end,
    }
}

/// Where the current epoch ends, from the chain: a term starts at every `length`-th view on a grid that the
/// election schedule reveals (`startBlockNumber` of an upcoming term), and the block *at* a term's start view is the
/// last block of the epoch before it (its execution produces the next epoch's state; rounds run 1..=length).
/// Returns the height of the current epoch's last block: the first grid view after `latest_committed`.
pub(crate) fn epoch_last_block(latest_committed: u64, grid_point: u64, length: u64) -> Option<u64> {
    if length == 0 {
        return None;
    }
    let next = latest_committed.checked_add(1)?;
    let offset = grid_point % length;
    let ahead = (offset + length - next % length) % length;
    next.checked_add(ahead)
}

/// Blocks still to be committed in the current epoch, the epoch-ending block included.
pub(crate) fn remaining_blocks(latest_committed: u64, last_block: u64) -> u64 {
    last_block.saturating_sub(latest_committed)
}

/// Seconds until the end of the epoch at the observed block interval, counted from the commit of the latest
/// block (`since_latest` seconds ago), never negative.
pub(crate) fn eta_seconds(remaining: u64, interval_seconds: f64, since_latest: f64) -> f64 {
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
                at_risk: Some(false)
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
                at_risk: Some(false)
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
                at_risk: Some(true)
            }
        );
    }

    #[test]
    fn a_new_member_is_judged_on_the_epochs_it_served() {
        let l = ledger(&[(8, rec(false, 0)), (9, rec(false, 0)), (10, rec(true, 0))]);
        assert_eq!(
            assess(&l, 10, 3),
            RetireVerdict {
                epochs_without_vote: 1,
                at_risk: Some(true)
            }
        );
        let l = ledger(&[(8, rec(false, 0)), (9, rec(true, 0)), (10, rec(true, 0))]);
        assert_eq!(assess(&l, 10, 3).at_risk, Some(true));
    }

    #[test]
    fn non_members_and_signers_are_safe() {
        assert_eq!(
            assess(&ledger(&[(10, rec(false, 0))]), 10, 3).at_risk,
            Some(false)
        );
        assert_eq!(
            assess(&ledger(&[(10, rec(true, 1))]), 10, 3).at_risk,
            Some(false)
        );
        assert_eq!(assess(&BTreeMap::new(), 10, 3).epochs_without_vote, 0);
    }

    #[test]
    fn pre_cip99_lookback_of_one() {
        let l = ledger(&[(9, rec(true, 5)), (10, rec(true, 0))]);
        assert_eq!(assess(&l, 10, 1).at_risk, Some(true));
        assert_eq!(assess(&l, 10, 3).at_risk, Some(false));
    }

    #[test]
    fn incomplete_history_is_unknown_never_safe() {
        // Nothing read for the current epoch, or its membership not known yet.
        assert_eq!(assess(&BTreeMap::new(), 10, 3).at_risk, None);
        let mut unknown = rec(true, 0);
        unknown.member = None;
        assert_eq!(
            assess(&ledger(&[(10, unknown.clone())]), 10, 1).at_risk,
            None
        );
        // Silent member now, an earlier epoch of the window missing or of unknown membership: unknown...
        let l = ledger(&[(9, rec(true, 0)), (10, rec(true, 0))]);
        assert_eq!(assess(&l, 10, 3).at_risk, None, "epoch 8 not read");
        let l = ledger(&[(8, unknown), (9, rec(true, 0)), (10, rec(true, 0))]);
        assert_eq!(
            assess(&l, 10, 3).at_risk,
            Some(true),
            "epoch 8's blocks were read without our signature: its membership does not matter"
        );
        // Epochs before the node's first block cannot clear; unread ones in the node's history can.
        let l = ledger(&[(10, rec(true, 0))]);
        assert_eq!(assess_from(&l, 10, 3, Some(10)).at_risk, Some(true));
        assert_eq!(assess_from(&l, 10, 3, Some(9)).at_risk, None);
        // ...unless a known signature in the window already decides.
        let l = ledger(&[(9, rec(true, 4)), (10, rec(true, 0))]);
        assert_eq!(assess(&l, 10, 3).at_risk, Some(false));
        // The 1-epoch rule needs only the current epoch.
        let l = ledger(&[(10, rec(true, 0))]);
        assert_eq!(assess(&l, 10, 1).at_risk, Some(true));
        // An earlier epoch whose blocks all had unknown QCs cannot clear nor condemn.
        let mut fog = rec(true, 0);
        (fog.missed, fog.unknown, fog.hidden_qc) = (0, 10, 10);
        let l = ledger(&[(8, rec(true, 0)), (9, fog), (10, rec(true, 0))]);
        assert_eq!(assess(&l, 10, 3).at_risk, None);
    }

    #[test]
    fn silent_earlier_epochs_are_evidence_from_the_first_block_of_the_last_one() {
        let mut fresh = rec(true, 0);
        (fresh.blocks, fresh.missed) = (0, 0);
        let l = ledger(&[(8, rec(true, 0)), (9, rec(true, 0)), (10, fresh)]);
        assert_eq!(assess(&l, 10, 3).at_risk, Some(true));
    }

    #[test]
    fn an_epoch_start_without_blocks_is_no_evidence_of_silence() {
        let mut fresh = rec(true, 0);
        (fresh.blocks, fresh.missed) = (0, 0);
        let l = ledger(&[(10, fresh.clone())]);
        assert_eq!(
            assess(&l, 10, 1),
            RetireVerdict {
                epochs_without_vote: 0,
                at_risk: Some(false)
            }
        );
        fresh.unknown = 2;
        let l = ledger(&[(10, fresh)]);
        assert_eq!(assess(&l, 10, 1).at_risk, None, "only unknown QCs so far");
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
