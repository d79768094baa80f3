//! The committed-block and transaction tracker behind the vote ledger. Every committed block is read exactly
//! once, in height order, and every transaction of every read block exactly once. In steady state the next heights
//! ride in the node's one batch per poll, pipelined one poll behind `latestCommitted` (so nothing is fetched twice
//! or speculatively); at start the force-retire window (the current epoch and the two before it) is backfilled.

use std::collections::{BTreeMap, BTreeSet};

use crate::assess::votes::BlockVerdict;
use crate::rpc::pos::{CommitteeState, EpochRewards, PosBlock, PosTransaction};
use crate::rpc::{decode, RpcError};
use crate::state::PosObs;

use super::activity;
pub use super::want::Want;

/// Epochs backfilled at start: the largest force-retire window any chain uses, so the verdict can be given
/// whichever window the chain's view selects.
pub const BACKFILL_EPOCHS: u64 = crate::assess::window::MAX_WINDOW_EPOCHS;
/// Definitive failures for one epoch's committee (the node says it has no such state, or answers about another
/// epoch) before its blocks are counted as "unknown": the chain cannot tell. Transient failures (timeouts, other
/// errors) never count: the blocks wait and the committee is asked again, because a block is never counted "not a
/// member", nor "unknown", for want of an answer the node can give.
pub const COMMITTEE_TRIES: u32 = 3;
/// `pos_getCommittee [view]` for a view whose state the node does not keep ("PoS state of N not found").
pub const STATE_NOT_FOUND: i64 = -32016;

/// Cursor state of the tracker.
#[derive(Debug, Default)]
pub struct BlockTracker {
    /// Next block height to read; `None` until the start position is planned.
    next_height: Option<u64>,
    /// Highest height known committed (from the previous poll's `pos_getStatus`).
    target: u64,
    /// Blocks read but waiting for their epoch's committee membership.
    pending: Vec<PosBlock>,
    /// Views whose committee we still need.
    committee_views: BTreeSet<u64>,
    /// `lastTxNumber` of the newest processed block (or the anchor).
    last_tx: Option<u64>,
    /// Next transaction number to read, and the last one known to exist.
    next_tx: Option<u64>,
    /// Next epoch whose rewards to read (once that epoch has ended).
    next_reward_epoch: Option<u64>,
    /// Anchor height still to read.
    anchor: Option<u64>,
    /// Current PoS epoch (from the latest status).
    current_epoch: u64,
    /// The block before the window does not exist on the node.
    anchor_missing: bool,
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
    pub fn next_height(&self) -> Option<u64> {
        self.next_height
    }

    /// Whether the start position has been planned.
    pub fn planned(&self) -> bool {
        self.next_height.is_some()
    }

    /// Plans the start: the first block of epoch `current − 2`, given the first block of the current epoch.
    /// The committee of the epoch whose first block is `f` is the state after view `f − 1`.
    pub fn plan(
        &mut self,
        current_epoch_start: u64,
        epoch_length: u64,
        current_epoch: u64,
        grid_point: u64,
    ) {
        self.grid = Some((epoch_length, grid_point));
        let start = current_epoch_start
            .saturating_sub((BACKFILL_EPOCHS - 1) * epoch_length)
            .max(1);
        self.next_height = Some(start);
        self.anchor = Some(start - 1);
        for k in 0..BACKFILL_EPOCHS {
            let first = start + k * epoch_length;
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

    /// Records the newest status: blocks up to `latest_committed` may now be read.
    pub fn set_target(&mut self, latest_committed: u64, epoch: u64) {
        self.target = self.target.max(latest_committed);
        self.current_epoch = epoch;
    }

    /// Everything still to read, in dependency order, at most `limit` calls, none beyond `ceiling` (the head of the
    /// source that will answer: its latest committed block and, when it says, its latest transaction). A source
    /// answers `null` beyond its head, and a `null` transaction is passed over as a genesis version, so asking a
    /// source that trails the tracker would lose transactions.
    pub fn backlog(&self, limit: usize, ceiling: (u64, Option<u64>)) -> Vec<Want> {
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
            let room = limit.saturating_sub(out.len());
            let to = self.target.min(top_block);
            out.extend((from..=to).take(room).map(Want::Block));
        }
        if let (Some(next), Some(last)) = (self.next_tx, self.last_tx) {
            let room = limit.saturating_sub(out.len());
            let to = top_tx.map_or(last, |t| t.min(last));
            out.extend((next..=to).take(room).map(Want::Tx));
        }
        if let Some(e) = self.next_reward_epoch.filter(|e| *e < self.current_epoch) {
            out.push(Want::Rewards(e));
        }
        out.truncate(limit);
        out
    }

    /// Applies the answers to `wants`, feeding the ledger and activity in `obs`. Returns the methods whose answers
    /// were malformed (counted and logged by the caller; they are re-asked next time, never guessed).
    pub fn apply(
        &mut self,
        wants: &[Want],
        answers: Vec<Result<serde_json::Value, RpcError>>,
        obs: &mut PosObs,
    ) -> Vec<&'static str> {
        let mut bad = Vec::new();
        let mut blocks = Vec::new();
        let mut txs = Vec::new();
        let mut missing = Vec::new();
        for (want, answer) in wants.iter().zip(answers) {
            // An error object was already counted by the client under its own kind; only a present answer of the
            // wrong shape is "malformed" here, so nothing is counted twice.
            let value = match answer {
                Ok(v) => v,
                Err(RpcError::Rpc { code, .. }) if code == STATE_NOT_FOUND => {
                    if let Want::CommitteeAt(view) = *want {
                        self.committee_failed(view, obs);
                    }
                    continue;
                }
                Err(_) => continue,
            };
            match *want {
                Want::CommitteeAt(view) => match decode::<CommitteeState>(value) {
                    Ok(c) => {
                        obs.record_committee(&c);
                        self.committee_views.remove(&view);
                        // An answer about another epoch (a node clamping an old view) does not tell the
                        // waiting blocks' epoch: it counts as a failure, so it cannot loop forever.
                        match self.epoch_after(view) {
                            Some(e) if obs.ledger.membership(e).is_none() => {
                                self.committee_failed(view, obs)
                            }
                            _ => {
                                self.committee_failures.remove(&view);
                            }
                        }
                    }
                    Err(_) => bad.push(want.method()),
                },
                Want::Anchor(h) => match decode::<Option<PosBlock>>(value) {
                    Ok(Some(b)) => {
                        self.last_tx = Some(b.last_tx_number.0);
                        self.next_tx = Some(b.last_tx_number.0 + 1);
                        self.anchor = None;
                    }
                    Ok(None) => {
                        // Before the node's earliest block (chain start or pruned): transactions are read from
                        // the second block of the window on.
                        tracing::debug!(height = h, "no block before the window; its first block's transactions are skipped");
                        self.anchor = None;
                        self.anchor_missing = true;
                    }
                    Err(_) => bad.push(want.method()),
                },
                Want::Block(h) => match decode::<Option<PosBlock>>(value) {
                    Ok(Some(b)) => blocks.push(b),
                    // Only heights up to a committed one are asked, so a null is a block the node does not have
                    // (before its earliest block): it can never be read and is passed over.
                    Ok(None) => missing.push(h),
                    Err(_) => bad.push(want.method()),
                },
                Want::Tx(n) => match decode::<Option<PosTransaction>>(value) {
                    Ok(t) => txs.push((n, t)),
                    Err(_) => bad.push(want.method()),
                },
                Want::Rewards(e) => match decode::<Option<EpochRewards>>(value) {
                    Ok(r) => {
                        activity::record_rewards(obs, r.as_ref());
                        self.next_reward_epoch = Some(e + 1);
                    }
                    Err(_) => bad.push(want.method()),
                },
            }
        }
        self.take_blocks(blocks, missing, obs);
        self.take_txs(txs, obs);
        bad
    }

    /// Counts a failed committee answer; after [`COMMITTEE_TRIES`] the epoch is marked unknowable so its blocks
    /// count as "unknown" instead of stalling the tracker.
    fn committee_failed(&mut self, view: u64, obs: &mut PosObs) {
        let n = self.committee_failures.entry(view).or_default();
        *n += 1;
        if *n < COMMITTEE_TRIES {
            return;
        }
        tracing::warn!(view, tries = *n, "the node cannot tell the committee at this view; blocks of that epoch count as unknown");
        self.committee_views.remove(&view);
        self.committee_failures.remove(&view);
        if let Some(epoch) = self.epoch_after(view) {
            obs.ledger.set_membership_unknowable(epoch);
        }
        self.process_pending(obs);
    }

    /// The epoch-ending view whose state holds the committee of the epoch containing block `height`.
    fn committee_view_for(&self, height: u64) -> u64 {
        match self.grid {
            Some((len, grid)) => {
                crate::assess::retire::epoch_last_block(height.saturating_sub(1), grid, len)
                    .map_or(height.saturating_sub(1), |last| last.saturating_sub(len))
            }
            None => height.saturating_sub(1),
        }
    }

    /// The epoch of the first block after the epoch-ending `view`, among the blocks waiting.
    fn epoch_after(&self, view: u64) -> Option<u64> {
        self.pending
            .iter()
            .find(|b| self.committee_view_for(b.height.0) == view)
            .map(|b| b.epoch.0)
    }

    /// Accepts read blocks contiguously from `next_height`; a gap (a failed or null answer) stops the run so
    /// the missing height is asked again and order is kept.
    fn take_blocks(&mut self, mut blocks: Vec<PosBlock>, missing: Vec<u64>, obs: &mut PosObs) {
        blocks.sort_by_key(|b| b.height.0);
        let mut blocks = blocks.into_iter().peekable();
        while let Some(next) = self.next_height {
            if missing.contains(&next) && self.pending.is_empty() && self.last_tx.is_none() {
                self.next_height = Some(next + 1);
                continue;
            }
            match blocks.next_if(|b| b.height.0 == next) {
                Some(b) => {
                    self.next_height = Some(next + 1);
                    self.pending.push(b);
                }
                None => break,
            }
        }
        self.process_pending(obs);
    }

    fn process_pending(&mut self, obs: &mut PosObs) {
        let Some(us) = obs.address.clone() else {
            return;
        };
        if self.anchor.is_some() {
            return; // transaction ranges start from the anchor's lastTxNumber
        }
        let mut done = 0;
        for b in &self.pending {
            let epoch = b.epoch.0;
            let signed = b.signatures.iter().any(|s| s.account == us);
            if obs.ledger.membership(epoch).is_none()
                && !signed
                && !obs.ledger.membership_unknowable(epoch)
            {
                // Wait for the committee (the state at the epoch-ending view before the epoch); it stays in the
                // backlog, asked again every poll, until it answers.
                self.committee_views
                    .insert(self.committee_view_for(b.height.0));
                break;
            }
            if self.anchor_missing && obs.ledger.last_height.is_none() {
                // The node has no block before this one (chain start): earlier epochs hold no signature of ours.
                obs.ledger.history_start_epoch = Some(epoch);
            }
            let verdict = obs.ledger.record_block(b, &us);
            if verdict == Some(BlockVerdict::Missed) {
                tracing::debug!(height = b.height.0, "committed block without our signature");
            }
            obs.newest_block_timestamp_us = Some(b.timestamp.0);
            if self.next_tx.is_none() {
                self.next_tx = match (self.last_tx, self.anchor_missing) {
                    (Some(l), _) => Some(l + 1),
                    (None, true) => Some(b.last_tx_number.0 + 1),
                    (None, false) => Some(0),
                };
            }
            self.last_tx = Some(b.last_tx_number.0);
            if let Some(w) = self.window.as_mut().filter(|w| b.height.0 <= w.end) {
                w.last_tx = Some(b.last_tx_number.0);
            }
            done += 1;
        }
        self.pending.drain(..done);
    }

    /// Accepts transactions contiguously; a `null` one (genesis versions) is passed over, since every number up
    /// to a committed block's `lastTxNumber` exists.
    fn take_txs(&mut self, mut txs: Vec<(u64, Option<PosTransaction>)>, obs: &mut PosObs) {
        txs.sort_by_key(|(n, _)| *n);
        for (n, t) in txs {
            if Some(n) != self.next_tx {
                break;
            }
            if let Some(t) = t {
                activity::record_transaction(obs, &t);
            }
            self.next_tx = Some(n + 1);
        }
    }

    /// Committed blocks known but not yet read (the backfill and catch-up progress).
    pub fn remaining_blocks(&self) -> Option<u64> {
        let next = self.next_height?;
        Some((self.target + 1).saturating_sub(next) + self.pending.len() as u64)
    }

    /// Highest committed height known to exist.
    pub fn target(&self) -> u64 {
        self.target
    }

    /// True when nothing is left to read up to the known target.
    pub fn caught_up(&self) -> bool {
        self.planned()
            && self.pending.is_empty()
            && self.committee_views.is_empty()
            && self.anchor.is_none()
            && self.next_height.is_some_and(|n| n > self.target)
            && match (self.next_tx, self.last_tx) {
                (Some(n), Some(l)) => n > l,
                _ => true,
            }
            && self
                .next_reward_epoch
                .is_none_or(|e| e >= self.current_epoch)
    }

    /// True once everything the start-up backfill planned is read. Unlike [`Self::caught_up`] it does not chase the
    /// head: a new block's transactions are only known once the block is read, one request later, so on a chain
    /// that commits a block every poll "caught up" may never hold, while the window behind it is complete.
    pub fn window_read(&self) -> bool {
        let Some(w) = self.window else {
            return false;
        };
        self.anchor.is_none()
            && self.next_height.is_some_and(|n| n > w.end)
            && self.pending.iter().all(|b| b.height.0 > w.end)
            && self.committee_views.range(..w.epoch_start).next().is_none()
            && match (self.next_tx, w.last_tx) {
                (Some(n), Some(l)) => n > l,
                _ => true,
            }
            && self.next_reward_epoch.is_none_or(|e| e >= w.epoch)
    }
}
