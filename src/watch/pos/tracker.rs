//! The committed-block and transaction tracker behind the vote ledger. Every committed block is read exactly
//! once, in height order, and every transaction of every read block exactly once. In steady state the next heights
//! ride in the node's one batch per poll, pipelined one poll behind `latestCommitted` (so nothing is fetched twice
//! or speculatively); at start the force-retire window (the current epoch and the two before it) is backfilled.

use std::collections::{BTreeMap, BTreeSet};

use crate::rpc::pos::PosBlock;

pub(crate) use super::backlog::Want;
use super::head::{HeadChange, HeadGuard};
use super::txs::TxCursor;

#[path = "tracker_apply.rs"]
mod apply;

/// Epochs backfilled at start: the largest force-retire window any chain uses, so the verdict can be given
/// whichever window the chain's view selects.
pub(crate) const BACKFILL_EPOCHS: u64 = crate::assess::window::MAX_WINDOW_EPOCHS;
/// Definitive failures for one epoch's committee (the node says it has no such state, or answers about another
/// epoch) before its blocks are counted as "unknown": the chain cannot tell. Transient failures (timeouts, other
/// errors) never count: the blocks wait and the committee is asked again, because a block is never counted "not a
/// member", nor "unknown", for want of an answer the node can give.
pub(crate) const COMMITTEE_TRIES: u32 = 3;
/// `pos_getCommittee [view]` for a view whose state the node does not keep ("PoS state of N not found").
pub(crate) const STATE_NOT_FOUND: i64 = -32016;
/// What the blocks of one history request may add up to: a block carries one QC signature per committee member
/// (about 30 KB with mainnet's 300), so the number of blocks per request follows the size of the blocks seen, and
/// the exporter's memory follows the data it needs rather than the committee size.
pub(crate) const HISTORY_ANSWER_BYTES: usize = 512 << 10;

/// Cursor state of the tracker.
#[derive(Debug, Default)]
pub(crate) struct BlockTracker {
    /// Next block height to read; `None` until the start position is planned.
    next_height: Option<u64>,
    /// Highest height known committed (the believed `latestCommitted` of the previous poll's `pos_getStatus`).
    target: u64,
    /// Which `latestCommitted` readings are believed (a wild one is not, a confirmed reset is).
    head: HeadGuard,
    /// The head went back (a confirmed reset): the vote record of the old chain is dropped on the next apply.
    rewound: bool,
    /// Block ranges and transactions skipped as malformed since the last apply (counted by the caller).
    malformed: usize,
    /// Size of the largest block answer of the last request that read blocks (0 before): bounds the blocks per
    /// request so an answer stays near [`HISTORY_ANSWER_BYTES`] whatever the committee size.
    block_bytes: usize,
    /// Blocks read but waiting for their epoch's committee membership.
    pending: Vec<PosBlock>,
    /// Views whose committee we still need.
    committee_views: BTreeSet<u64>,
    /// The transactions to read: after the anchor's or the newest believed block's `lastTxNumber`.
    txs: TxCursor,
    /// Next epoch whose rewards to read (once that epoch has ended).
    next_reward_epoch: Option<u64>,
    /// Anchor height still to read.
    anchor: Option<u64>,
    /// Current PoS epoch (from the latest status).
    current_epoch: u64,
    /// The block before the window does not exist on the node.
    anchor_missing: bool,
    /// The block before the window gave no usable `lastTxNumber` (missing or implausible): transactions are read
    /// from the first block's on.
    skip_first_txs: bool,
    /// Failed committee answers per view, so an unanswerable one cannot hold the tracker forever.
    committee_failures: BTreeMap<u64, u32>,
    /// Epoch length and a grid view, to find the epoch-ending view whose state holds a block's committee.
    grid: Option<(u64, u64)>,
    /// What the start-up backfill must read; fixed when planned, so a head that moves every poll cannot hold it.
    window: Option<Window>,
}

/// The start-up backfill: blocks up to `end` (the latest committed when planned) and their transactions, the
/// committees of the window's epochs (views before `epoch_start`) and the rewards of the epochs ended before it.
#[derive(Debug, Clone, Copy)]
struct Window {
    end: u64,
    epoch_start: u64,
    epoch: u64,
    /// `lastTxNumber` of the newest block of the window read so far.
    last_tx: Option<u64>,
}

impl BlockTracker {
    /// Next height to read.
    pub(crate) fn next_height(&self) -> Option<u64> {
        self.next_height
    }

    /// Whether the start position has been planned.
    pub(crate) fn planned(&self) -> bool {
        self.next_height.is_some()
    }

    /// Plans the start: the first block of epoch `current − 2`, given the first block of the current epoch.
    /// The committee of the epoch whose first block is `f` is the state after view `f − 1`.
    pub(crate) fn plan(
        &mut self,
        current_epoch_start: u64,
        epoch_length: u64,
        current_epoch: u64,
        grid_point: u64,
    ) {
        self.grid = Some((epoch_length, grid_point));
        let start = current_epoch_start
            .saturating_sub((BACKFILL_EPOCHS - 1).saturating_mul(epoch_length))
            .max(1);
        self.next_height = Some(start);
        self.anchor = Some(start - 1);
        for k in 0..BACKFILL_EPOCHS {
            let first = start.saturating_add(k.saturating_mul(epoch_length));
            if first <= current_epoch_start {
                self.committee_views.insert(first - 1);
            }
        }
        self.next_reward_epoch = Some(current_epoch.saturating_sub(BACKFILL_EPOCHS - 1));
        // The window ends at the newest committed block, which may be before the current epoch's first one.
        self.window = Some(Window {
            end: self.target,
            epoch_start: current_epoch_start,
            epoch: current_epoch,
            last_tx: None,
        });
    }

    /// Records the newest status: blocks up to `latest_committed` may now be read, once that head is believed
    /// ([`HeadGuard`]). A confirmed head below the previous one starts the tracker over from it.
    pub(crate) fn set_target(&mut self, latest_committed: u64, epoch: u64) {
        match self.head.observe(latest_committed) {
            HeadChange::Adopted => {
                self.target = latest_committed;
                self.current_epoch = epoch;
            }
            HeadChange::Held => {
                tracing::warn!(latest_committed, believed = self.target, "pos_getStatus latestCommitted is implausible (far ahead of, or behind, the head); not believed until the next poll confirms it");
            }
            HeadChange::Rewound => {
                tracing::warn!(from = self.target, to = latest_committed, "the PoS head went back and the next poll confirmed it (chain reset, or the previous head was wrong): reading starts over from it");
                *self = BlockTracker {
                    head: self.head,
                    target: latest_committed,
                    current_epoch: epoch,
                    rewound: true,
                    ..BlockTracker::default()
                };
            }
        }
    }

    /// The current PoS epoch of the believed head.
    pub(crate) fn epoch(&self) -> u64 {
        self.current_epoch
    }

    /// Everything still to read, in dependency order, at most `limit` calls, none beyond `ceiling` (the head of the
    /// source that will answer: its latest committed block and, when it says, its latest transaction). A source
    /// answers `null` beyond its head, and a `null` transaction is passed over as a genesis version, so asking a
    /// source that trails the tracker would lose transactions.
    pub(crate) fn backlog(&self, limit: usize, ceiling: (u64, Option<u64>)) -> Vec<Want> {
        let (top_block, top_tx) = ceiling;
        let mut out: Vec<Want> = self
            .committee_views
            .iter()
            .map(|v| Want::CommitteeAt(*v))
            .collect();
        out.extend(self.anchor.map(Want::Anchor));
        if let Some(next) = self.next_height {
            // Blocks waiting for membership are not re-read; new ones are only read up to the known target.
            let from = next;
            let room = limit
                .saturating_sub(out.len())
                .min(self.blocks_per_request());
            let to = self.target.min(top_block);
            out.extend((from..=to).take(room).map(Want::Block));
        }
        let room = limit.saturating_sub(out.len());
        let below = |n: &u64| top_tx.is_none_or(|t| *n <= t);
        out.extend(self.txs.wanted(room).filter(below).map(Want::Tx));
        if let Some(e) = self.next_reward_epoch.filter(|e| *e < self.current_epoch) {
            out.push(Want::Rewards(e));
        }
        out.truncate(limit);
        out
    }

    /// Blocks one request may read: [`HISTORY_ANSWER_BYTES`] worth at the size of the blocks read so far.
    fn blocks_per_request(&self) -> usize {
        HISTORY_ANSWER_BYTES
            .checked_div(self.block_bytes)
            .map_or(usize::MAX, |n| n.max(1))
    }

    /// Committed blocks known but not yet read (the backfill and catch-up progress).
    pub(crate) fn remaining_blocks(&self) -> Option<u64> {
        let next = self.next_height?;
        Some(
            self.target
                .saturating_add(1)
                .saturating_sub(next)
                .saturating_add(self.pending.len() as u64),
        )
    }

    /// Highest committed height known to exist.
    pub(crate) fn target(&self) -> u64 {
        self.target
    }

    /// True when nothing is left to read up to the known target.
    pub(crate) fn caught_up(&self) -> bool {
        self.planned()
            && self.pending.is_empty()
            && self.committee_views.is_empty()
            && self.anchor.is_none()
            && self.next_height.is_some_and(|n| n > self.target)
            && self.txs.done()
            && self
                .next_reward_epoch
                .is_none_or(|e| e >= self.current_epoch)
    }

    /// True once everything the start-up backfill planned is read. Unlike [`Self::caught_up`] it does not chase the
    /// head: a new block's transactions are only known once the block is read, one request later, so on a chain
    /// that commits a block every poll "caught up" may never hold, while the window behind it is complete.
    pub(crate) fn window_read(&self) -> bool {
        let Some(w) = self.window else {
            return false;
        };
        self.anchor.is_none()
            && self.next_height.is_some_and(|n| n > w.end)
            && self.pending.iter().all(|b| b.height.0 > w.end)
            && self.committee_views.range(..w.epoch_start).next().is_none()
            && match (self.txs.next(), w.last_tx) {
                (Some(n), Some(l)) => n > l,
                _ => true,
            }
            && self.next_reward_epoch.is_none_or(|e| e >= w.epoch)
    }
}
