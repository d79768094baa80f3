//! Where a view sits in the term/epoch grid.
//!
//! conflux-rust runs `next_view` once per executed block; when the new view is the first of a term
//! (`view % epoch_length == 0`) that block produces the next epoch's state. So block `k·len` is the *last* block
//! of epoch `k` (term `k−1` + 1), blocks `k·len+1 … (k+1)·len` form epoch `k+1`, and rounds run `1 … len` inside an
//! epoch. These rules live here once so the chain, the RPC and the tests cannot disagree on an off-by-one.

/// The term/epoch grid of one chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    /// Blocks per term (= per epoch).
    pub len: u64,
    /// Term number of views `0 … len−1`.
    pub term_offset: u64,
}

impl Geometry {
    /// Position in the term at which the next-but-one term's election is finalised.
    pub fn half(&self) -> u64 {
        self.len / 2
    }

    /// Term of the chain state after block `view` was executed.
    pub fn term(&self, view: u64) -> i64 {
        (self.term_offset + view / self.len) as i64
    }

    /// Position of `view` in its term.
    pub fn view_in_term(&self, view: u64) -> u64 {
        view % self.len
    }

    /// Epoch the block at `view` belongs to (the block's `epoch` field).
    pub fn block_epoch(&self, view: u64) -> u64 {
        self.term_offset + view.div_ceil(self.len)
    }

    /// Epoch of the chain state after block `view` (`pos_getStatus.epoch`, the current committee).
    pub fn state_epoch(&self, view: u64) -> u64 {
        self.term(view) as u64 + 1
    }

    /// Round of the block at `view` inside its epoch: `1 … len`, 0 for genesis.
    pub fn round(&self, view: u64) -> u64 {
        if view == 0 {
            0
        } else {
            (view - 1) % self.len + 1
        }
    }

    /// Whether the block at `view` is the last block of its epoch (and so triggers the force-retire check).
    pub fn ends_epoch(&self, view: u64) -> bool {
        view > 0 && view % self.len == 0
    }

    /// First view of term `term`, `None` for terms before view 0.
    pub fn term_start(&self, term: i64) -> Option<u64> {
        let rel = term.checked_sub(self.term_offset as i64)?;
        u64::try_from(rel).ok()?.checked_mul(self.len)
    }

    /// Whether term `term`'s election is closed in the state after block `view` (it closes at the middle of
    /// the term before it). Terms before view 0 count as closed.
    pub fn is_finalized(&self, term: i64, view: u64) -> bool {
        match self.term_start(term - 1) {
            Some(prev_start) => view >= prev_start + self.half(),
            None => true,
        }
    }

    /// The term open for Election transactions in the state after block `view`.
    pub fn electing_term(&self, view: u64) -> i64 {
        self.term(view)
            + if self.view_in_term(view) >= self.half() {
                2
            } else {
                1
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: Geometry = Geometry {
        len: 10,
        term_offset: 0,
    };

    #[test]
    fn epoch_boundaries_follow_next_view() {
        assert_eq!((G.block_epoch(0), G.round(0)), (0, 0));
        assert_eq!((G.block_epoch(1), G.round(1)), (1, 1));
        assert_eq!((G.block_epoch(10), G.round(10)), (1, 10));
        assert!(G.ends_epoch(10) && !G.ends_epoch(0) && !G.ends_epoch(11));
        assert_eq!((G.block_epoch(11), G.round(11)), (2, 1));
        assert_eq!(G.state_epoch(9), 1);
        assert_eq!(
            G.state_epoch(10),
            2,
            "after the ending block the next epoch has started"
        );
    }

    #[test]
    fn elections_alternate_between_the_two_upcoming_terms() {
        assert_eq!(G.electing_term(10), 2);
        assert_eq!(G.electing_term(14), 2);
        assert_eq!(
            G.electing_term(15),
            3,
            "term 2 closes at the middle of term 1"
        );
        assert!(G.is_finalized(2, 15) && !G.is_finalized(2, 14));
        assert!(G.is_finalized(0, 0), "terms before view 0 are pre-history");
        assert_eq!(G.term_start(3), Some(30));
        let mainnet = Geometry {
            len: 120,
            term_offset: 14_034,
        };
        assert_eq!(mainnet.term(1_684_080), 28_068);
        assert_eq!(mainnet.term_start(28_069), Some(1_684_200));
    }
}
