//! The downtime budget: if no vote of ours lands from now on, at which epoch end does the chain force-retire us?
//! An operator about to stop a node (an upgrade) and one whose node is stuck both need that clock, and it is the
//! chain's: it comes from the last epoch our key signed in, the look-back window the chain applies at each epoch
//! end ([`super::window`]) and the epoch grid, so it can be read from any fresh view while the node is down.

use super::retire::epoch_last_block;
use super::votes::VoteLedger;
use super::window::{window_epochs, MAX_WINDOW_EPOCHS};

/// Where the budget runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Budget {
    /// The epoch whose end retires us if we stay silent.
    pub epoch: u64,
    /// That epoch's last block (the retiring block).
    pub end_block: u64,
    /// Blocks from the latest committed one to it.
    pub blocks: u64,
}

/// What the budget is computed from: one view's head and its judgement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BudgetInput<'a> {
    /// The vote record.
    pub ledger: &'a VoteLedger,
    /// Current PoS epoch.
    pub epoch: u64,
    /// Latest committed block.
    pub latest: u64,
    /// (epoch length, a view on the term grid).
    pub grid: (u64, u64),
    /// The chain's CIP-99 transition view.
    pub transition: u64,
    /// The force-retire verdict for the current epoch (`None`: the history cannot decide).
    pub at_risk: Option<bool>,
}

/// The budget of a committee member, or `None` when it cannot be known (history undecided, membership unknown)
/// or does not apply (not in the committee). A member that is at risk already has until the current epoch's end.
/// Otherwise the first epoch end X at or after the current one whose window `[X − w + 1, X]` (w chosen by the
/// view of X's end) holds no epoch in which we signed is the retiring one.
pub(crate) fn downtime_budget(i: &BudgetInput) -> Option<Budget> {
    let (len, point) = i.grid;
    let record = i.ledger.epochs.get(&i.epoch)?;
    if record.member != Some(true) {
        return None;
    }
    let at_risk = i.at_risk?;
    let current_end = epoch_last_block(i.latest, point, len)?;
    let end_of = |x: u64| current_end.checked_add((x - i.epoch).checked_mul(len)?);
    let last_signed = i
        .ledger
        .epochs
        .range(..=i.epoch)
        .rev()
        .find(|(_, r)| r.signed > 0)
        .map(|(e, _)| *e);
    let retiring = if at_risk {
        i.epoch
    } else {
        (i.epoch..=i.epoch + MAX_WINDOW_EPOCHS).find(|x| {
            let Some(end) = end_of(*x) else { return true };
            let w = window_epochs(end, i.transition);
            last_signed.is_none_or(|e| *x >= e + w)
        })?
    };
    let end_block = end_of(retiring)?;
    Some(Budget {
        epoch: retiring,
        end_block,
        blocks: end_block.saturating_sub(i.latest),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assess::votes::EpochRecord;

    fn ledger(signed_in: &[(u64, u64)], member: bool) -> VoteLedger {
        let mut l = VoteLedger::default();
        for (e, signed) in signed_in {
            l.epochs.insert(
                *e,
                EpochRecord {
                    member: Some(member),
                    signed: *signed,
                    blocks: 10,
                    missed: 10 - signed,
                    ..Default::default()
                },
            );
        }
        l
    }

    /// Epoch 10 runs blocks 91..=100 on a grid of 10 (terms start at multiples of 10).
    fn input(l: &VoteLedger, at_risk: Option<bool>, transition: u64) -> BudgetInput<'_> {
        BudgetInput {
            ledger: l,
            epoch: 10,
            latest: 95,
            grid: (10, 200),
            transition,
            at_risk,
        }
    }

    #[test]
    fn one_epoch_window_a_signer_has_until_the_end_of_the_next_epoch() {
        let l = ledger(&[(9, 10), (10, 5)], true);
        let b = downtime_budget(&input(&l, Some(false), u64::MAX)).unwrap();
        assert_eq!(
            b,
            Budget {
                epoch: 11,
                end_block: 110,
                blocks: 15
            }
        );
    }

    #[test]
    fn three_epoch_window_counts_from_the_last_epoch_signed() {
        let l = ledger(&[(8, 10), (9, 10), (10, 5)], true);
        assert_eq!(
            downtime_budget(&input(&l, Some(false), 0)).map(|b| (b.epoch, b.blocks)),
            Some((13, 35))
        );
        // Silent since epoch 9: epochs 10, 11 and 12 are the empty window, retired at the end of 12.
        let l = ledger(&[(8, 10), (9, 10), (10, 0)], true);
        assert_eq!(
            downtime_budget(&input(&l, Some(false), 0)).map(|b| b.end_block),
            Some(120)
        );
    }

    #[test]
    fn at_risk_means_the_current_epoch_end() {
        let l = ledger(&[(8, 0), (9, 0), (10, 0)], true);
        let b = downtime_budget(&input(&l, Some(true), 0)).unwrap();
        assert_eq!((b.epoch, b.end_block, b.blocks), (10, 100, 5));
    }

    #[test]
    fn the_window_is_chosen_by_the_retiring_epoch_end() {
        // Signed in 10; CIP-99 activates at view 115: the end of 11 (110) still uses one epoch.
        let l = ledger(&[(10, 5)], true);
        assert_eq!(
            downtime_budget(&input(&l, Some(false), 115)).map(|b| b.epoch),
            Some(11)
        );
        // Activation at 105: the end of 11 uses three, so 13 is the first empty window.
        assert_eq!(
            downtime_budget(&input(&l, Some(false), 105)).map(|b| b.epoch),
            Some(13)
        );
    }

    #[test]
    fn unknown_or_not_a_member_has_no_budget() {
        let l = ledger(&[(9, 10), (10, 5)], true);
        assert_eq!(downtime_budget(&input(&l, None, 0)), None);
        let outsider = ledger(&[(10, 0)], false);
        assert_eq!(downtime_budget(&input(&outsider, Some(false), 0)), None);
        assert_eq!(
            downtime_budget(&input(&VoteLedger::default(), Some(false), 0)),
            None
        );
        // A member without any signature kept (a new member, judged on its first epoch): the current epoch.
        let new = ledger(&[(10, 0)], true);
        assert_eq!(
            downtime_budget(&input(&new, Some(false), 0)).map(|b| b.epoch),
            Some(10)
        );
    }
}
