//! How the block tracker takes the answers to its backlog: each decoded into its type and routed (committees,
//! the anchor, blocks, transactions, rewards), then blocks and transactions accepted in order.

use serde_json::value::RawValue;

use super::{BlockTracker, Want, COMMITTEE_TRIES, STATE_NOT_FOUND};
use crate::assess::votes::BlockVerdict;
use crate::pos_address::PosAddress;
use crate::rpc::pos::{CommitteeState, EpochRewards, PosBlock, PosTransaction};
use crate::rpc::{decode, Answer, RpcError};
use crate::state::PosObs;
use crate::watch::pos::activity;
use crate::watch::pos::txs::Range;

/// What one request read, before it is accepted in order.
#[derive(Default)]
struct Read {
    blocks: Vec<PosBlock>,
    missing: Vec<u64>,
    txs: Vec<(u64, Option<PosTransaction>)>,
    largest_block: usize,
}

impl BlockTracker {
    /// Applies the answers to `wants`, feeding the ledger and activity in `obs`. Returns the methods whose answers
    /// were malformed (counted and logged by the caller; they are re-asked next time, never guessed).
    pub(crate) fn apply(
        &mut self,
        wants: &[Want],
        answers: Vec<Answer>,
        obs: &mut PosObs,
    ) -> Vec<&'static str> {
        let mut bad = Vec::new();
        if std::mem::take(&mut self.rewound) {
            // The old chain's record says nothing about the new one, and would hide its lower heights.
            obs.ledger = Default::default();
        }
        let mut read = Read::default();
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
            if !self.route(*want, &value, &mut read, obs) {
                bad.push(want.method());
            }
        }
        if read.largest_block > 0 {
            self.block_bytes = read.largest_block;
        }
        self.take_blocks(read.blocks, read.missing, obs);
        self.take_txs(read.txs, obs);
        bad.extend(std::iter::repeat_n(
            "pos_getBlockByNumber",
            std::mem::take(&mut self.malformed),
        ));
        bad
    }

    /// Takes one present answer; false when it is malformed.
    fn route(&mut self, want: Want, value: &RawValue, read: &mut Read, obs: &mut PosObs) -> bool {
        match want {
            Want::CommitteeAt(view) => match decode::<CommitteeState>(value) {
                Ok(c) => self.committee_read(view, &c, obs),
                Err(_) => return false,
            },
            Want::Anchor(h) => match decode::<Option<PosBlock>>(value) {
                Ok(b) => return self.anchor_read(h, b.as_ref()),
                Err(_) => return false,
            },
            Want::Block(h) => match decode::<Option<PosBlock>>(value) {
                Ok(Some(mut b)) => {
                    read.largest_block = read.largest_block.max(value.get().len());
                    if let Some(us) = &obs.address {
                        keep_what_counts(&mut b, us);
                    }
                    read.blocks.push(b)
                }
                // Only heights up to a committed one are asked, so a null is a block the node does not have
                // (before its earliest block): it can never be read and is passed over.
                Ok(None) => read.missing.push(h),
                Err(_) => return false,
            },
            Want::Tx(n) => match decode::<Option<PosTransaction>>(value) {
                Ok(t) => read.txs.push((n, t)),
                Err(_) => {
                    if self.txs.malformed(n) {
                        tracing::warn!(number = n, "PoS transaction malformed on every try; passed over so the ones after it are read");
                    }
                    return false;
                }
            },
            Want::Rewards(e) => match decode::<Option<EpochRewards>>(value) {
                Ok(r) => {
                    activity::record_rewards(obs, e, r.as_ref());
                    self.next_reward_epoch = e.checked_add(1);
                }
                Err(_) => return false,
            },
        }
        true
    }

    fn committee_read(&mut self, view: u64, c: &CommitteeState, obs: &mut PosObs) {
        obs.record_committee(c);
        self.committee_views.remove(&view);
        // An answer about another epoch (a node clamping an old view) does not tell the waiting blocks' epoch: it
        // counts as a failure, so it cannot loop forever.
        match self.epoch_after(view) {
            Some(e) if obs.ledger.membership(e).is_none() => self.committee_failed(view, obs),
            _ => {
                self.committee_failures.remove(&view);
            }
        }
    }

    /// The block before the window; false when its `lastTxNumber` is implausible (counted as malformed).
    fn anchor_read(&mut self, h: u64, b: Option<&PosBlock>) -> bool {
        self.anchor = None;
        let Some(b) = b else {
            // Before the node's earliest block (chain start or pruned): transactions are read from the second
            // block of the window on.
            tracing::debug!(
                height = h,
                "no block before the window; its first block's transactions are skipped"
            );
            self.anchor_missing = true;
            self.skip_first_txs = true;
            return true;
        };
        if self.txs.anchor(h, b.last_tx_number.0) {
            return true;
        }
        tracing::warn!(height = h, "the block before the window has an implausible lastTxNumber; transactions are read from the first block's on");
        self.skip_first_txs = true;
        false
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
            if missing.contains(&next) && self.pending.is_empty() && self.txs.last().is_none() {
                self.next_height = next.checked_add(1);
                continue;
            }
            match blocks.next_if(|b| b.height.0 == next) {
                Some(b) => {
                    self.next_height = next.checked_add(1);
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
            let (h, last) = (b.height.0, b.last_tx_number.0);
            match self.txs.block(h, last, self.skip_first_txs) {
                Range::Skipped => {
                    self.malformed += 1;
                    tracing::warn!(height = h, last_tx_number = last, "PoS block with an implausible lastTxNumber; its transaction range is skipped (counted as malformed) and read with the next block's");
                }
                range => {
                    if range == Range::Rebased {
                        self.malformed += 1;
                        tracing::warn!(height = h, "PoS transaction numbering resumed from this block; the transactions before it were not read");
                    }
                    if let Some(w) = self.window.as_mut().filter(|w| h <= w.end) {
                        w.last_tx = Some(last);
                    }
                }
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
            if !self.txs.read(n) {
                break;
            }
            if let Some(t) = t {
                activity::record_transaction(obs, &t);
            }
        }
    }
}

/// Drops the QC signatures that cannot change our record, keeping ours, or else one other (a QC without ours is a
/// miss, an empty one unknown): a block waiting for its committee then holds a few bytes instead of one signature
/// per member. The QC's voting power is summed first, for the committee's participation.
fn keep_what_counts(b: &mut PosBlock, us: &PosAddress) {
    b.qc_power = Some(b.qc_power());
    match b.signatures.iter().position(|s| s.account == *us) {
        Some(i) => {
            b.signatures.swap(0, i);
            b.signatures.truncate(1);
        }
        None => b.signatures.truncate(1),
    }
    b.signatures.shrink_to_fit();
}
