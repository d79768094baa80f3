//! The transaction cursor of the block tracker: every transaction number between consecutive read blocks'
//! `lastTxNumber` is read once, in order. A block's `lastTxNumber` comes from the node, so it is only believed when
//! plausible — not above [`MAX_TX_NUMBER`], not below the previous block's, at most [`MAX_TXS_PER_BLOCK`] per block
//! beyond it. One wild value (`0xffffffffffffffff`) is skipped and counted instead of wrapping the cursor and
//! silently ending transaction reads (and with them Dispute detection); the next plausible block's range covers
//! its transactions. A base that was itself wild is replaced once two later blocks agree with each other.

/// No real chain comes near this many PoS transactions; larger `lastTxNumber`s are malformed (and `+ 1` on a
/// believed one can never overflow).
pub(crate) const MAX_TX_NUMBER: u64 = 1 << 62;
/// Most transactions believed per block (a PoS block holds its metadata, a pivot decision and the staking events of
/// one round: far fewer).
pub(crate) const MAX_TXS_PER_BLOCK: u64 = 10_000;
/// Malformed answers for one transaction before it is skipped (counted), so one bad transaction cannot stop the
/// reads behind it forever.
pub(crate) const TX_TRIES: u32 = 3;

/// Where the transaction reads are.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct TxCursor {
    /// `(height, lastTxNumber)` of the newest believed block (or the anchor).
    base: Option<(u64, u64)>,
    /// Next transaction number to read.
    next: Option<u64>,
    /// An implausible block kept to confirm a new base.
    candidate: Option<(u64, u64)>,
    /// Malformed answers for the transaction at `next`.
    failures: Option<(u64, u32)>,
}

/// What [`TxCursor::block`] did with a block's `lastTxNumber`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Range {
    /// Believed: its transactions are now wanted.
    Extended,
    /// Implausible: skipped (malformed); the range stays.
    Skipped,
    /// A new base confirmed by a second block: the transactions between were skipped (malformed).
    Rebased,
}

impl TxCursor {
    /// `lastTxNumber` of the newest believed block.
    pub(crate) fn last(&self) -> Option<u64> {
        self.base.map(|(_, l)| l)
    }

    /// Next transaction number to read.
    pub(crate) fn next(&self) -> Option<u64> {
        self.next
    }

    /// Transaction numbers still to read, at most `room`.
    pub(crate) fn wanted(&self, room: usize) -> impl Iterator<Item = u64> {
        let range = match (self.next, self.last()) {
            (Some(n), Some(l)) => Some(n..=l),
            _ => None,
        };
        range.into_iter().flatten().take(room)
    }

    /// Nothing believed is left to read.
    pub(crate) fn done(&self) -> bool {
        match (self.next, self.last()) {
            (Some(n), Some(l)) => n > l,
            _ => true,
        }
    }

    /// The block before the window: reading starts after its transactions. An implausible one is no base (the
    /// first block read then starts the range, as when there is no block before the window).
    pub(crate) fn anchor(&mut self, height: u64, last: u64) -> bool {
        if last > MAX_TX_NUMBER {
            return false;
        }
        self.base = Some((height, last));
        self.next = Some(last + 1);
        true
    }

    /// A read block, in height order. `skip_first`: without a base, start after this block's transactions (no
    /// block before the window) instead of from transaction 0.
    pub(crate) fn block(&mut self, height: u64, last: u64, skip_first: bool) -> Range {
        let plausible_from = |(h, l): (u64, u64)| {
            let blocks = height.saturating_sub(h).max(1);
            last <= MAX_TX_NUMBER
                && last >= l
                && last - l <= MAX_TXS_PER_BLOCK.saturating_mul(blocks)
        };
        match self.base {
            None if last <= MAX_TX_NUMBER => {
                self.next
                    .get_or_insert(if skip_first { last + 1 } else { 0 });
                self.believe(height, last);
                Range::Extended
            }
            None => Range::Skipped,
            Some(base) if plausible_from(base) => {
                self.believe(height, last);
                Range::Extended
            }
            Some(_) => match self.candidate.take() {
                Some(c) if c.0 < height && plausible_from(c) => {
                    self.next = Some(last + 1);
                    self.believe(height, last);
                    Range::Rebased
                }
                _ => {
                    self.candidate = (last <= MAX_TX_NUMBER).then_some((height, last));
                    Range::Skipped
                }
            },
        }
    }

    fn believe(&mut self, height: u64, last: u64) {
        self.base = Some((height, last));
        self.candidate = None;
    }

    /// Transaction `n` was read (or is `null`); true when it was the next one.
    pub(crate) fn read(&mut self, n: u64) -> bool {
        if self.next != Some(n) {
            return false;
        }
        self.next = n.checked_add(1);
        self.failures = None;
        true
    }

    /// Transaction `n`'s answer was malformed; after [`TX_TRIES`] it is passed over. True when it was.
    pub(crate) fn malformed(&mut self, n: u64) -> bool {
        if self.next != Some(n) {
            return false;
        }
        let tries = match self.failures {
            Some((m, t)) if m == n => t + 1,
            _ => 1,
        };
        if tries < TX_TRIES {
            self.failures = Some((n, tries));
            return false;
        }
        self.read(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn one_wild_last_tx_number_is_skipped_and_covered_by_the_next_block() {
        let mut c = TxCursor::default();
        assert!(c.anchor(9, 100));
        assert_eq!(c.block(10, 103, false), Range::Extended);
        assert_eq!(c.block(11, u64::MAX, false), Range::Skipped);
        assert_eq!(c.last(), Some(103));
        assert_eq!(c.block(12, 110, false), Range::Extended);
        assert_eq!(
            c.wanted(100).collect::<Vec<_>>(),
            (101..=110).collect::<Vec<_>>()
        );
        assert_eq!(c.block(13, 5, false), Range::Skipped, "backwards");
        assert_eq!(c.block(14, 20_000_000, false), Range::Skipped, "too far");
        assert_eq!(c.last(), Some(110));
    }

    #[test]
    fn a_wild_base_is_replaced_when_two_blocks_agree() {
        let mut c = TxCursor::default();
        assert!(c.anchor(9, 1 << 40));
        assert_eq!(c.block(10, 50, false), Range::Skipped);
        assert_eq!(c.block(11, 53, false), Range::Rebased);
        assert_eq!((c.next(), c.last()), (Some(54), Some(53)));
        assert_eq!(c.block(12, 55, false), Range::Extended);
        assert!(!c.anchor(1, u64::MAX), "an implausible anchor is no base");
    }

    #[test]
    fn a_transaction_that_stays_malformed_is_passed_over() {
        let mut c = TxCursor::default();
        c.anchor(1, 0);
        c.block(2, 3, false);
        assert!(!c.malformed(1) && !c.malformed(1));
        assert!(c.malformed(1));
        assert!(c.read(2) && c.read(3));
        assert!(c.done());
    }

    proptest! {
        #[test]
        fn any_numbers_never_panic(
            anchor in any::<(u64, u64)>(),
            blocks in prop::collection::vec((any::<u64>(), any::<u64>(), any::<bool>()), 0..20),
            reads in prop::collection::vec(any::<u64>(), 0..20),
        ) {
            let mut c = TxCursor::default();
            c.anchor(anchor.0, anchor.1);
            for (h, l, skip) in blocks {
                c.block(h, l, skip);
                let _ = c.wanted(10).count();
            }
            for n in reads {
                c.malformed(n);
                c.read(n);
                let _ = c.done();
            }
        }
    }
}
