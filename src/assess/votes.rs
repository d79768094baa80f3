//! The vote ledger: what every committed PoS block said about our node, kept per epoch for the force-retire
//! look-back plus running totals. Pure data: the PoS watcher feeds it blocks (each exactly once, in height order)
//! and committee facts; `assess::retire` reads it. Memory is bounded to the last few epochs.

use std::collections::{BTreeMap, VecDeque};

use super::committee::{BlockQc, Participation, MAX_MEMBERS};
use crate::pos_address::PosAddress;
use crate::rpc::pos::{CommitteeState, PosBlock};

/// Epochs of detail kept: the largest force-retire window plus the one before, for the display of the last change.
pub(crate) const EPOCHS_KEPT: usize = super::window::MAX_WINDOW_EPOCHS as usize + 1;
/// Recent block timestamps kept to observe the block interval.
pub(crate) const INTERVAL_WINDOW: usize = 20;
/// Gaps needed before the block interval is told.
pub(crate) const MIN_GAPS: usize = 4;
/// A gap longer than an hour is a hole in what was read (or a chain halted for good), not the chain's pace.
pub(crate) const MAX_GAP_US: u64 = 3_600_000_000;

/// Our participation in one PoS epoch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EpochRecord {
    /// Whether we are in this epoch's committee; `None` until known.
    pub member: Option<bool>,
    /// Our voting power in this epoch (0 when not a member).
    pub voting_power: u64,
    /// Committed blocks of this epoch seen.
    pub blocks: u64,
    /// Of those, blocks whose QC includes our signature.
    pub signed: u64,
    /// Blocks without our signature while we were a member.
    pub missed: u64,
    /// Blocks whose QC is unknown locally (empty signatures): neither signed nor missed.
    pub unknown: u64,
    /// The node could not tell this epoch's committee: its blocks without our signature count as unknown.
    pub membership_unknowable: bool,
    /// Blocks whose QC signatures the node does not know (empty): they could hide a signature of ours.
    pub hidden_qc: u64,
}

/// One epoch's committee, as `pos_getCommittee` told it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EpochCommittee {
    /// Total voting power.
    pub total_power: u64,
    /// Members and their voting power; empty when the answer listed more than [`MAX_MEMBERS`].
    pub members: Vec<(PosAddress, u64)>,
}

/// How one block counted for us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockVerdict {
    /// Our signature is in the block's QC.
    Signed,
    /// We were a member and our signature is absent.
    Missed,
    /// The QC is unknown locally.
    Unknown,
    /// We were not a committee member for this block's epoch.
    NotMember,
}

/// Totals and per-epoch detail for one node's PoS address.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VoteLedger {
    /// Per-epoch detail, newest last, at most [`EPOCHS_KEPT`].
    pub epochs: BTreeMap<u64, EpochRecord>,
    /// Blocks signed (counter).
    pub signed_total: u64,
    /// Blocks missed while a member (counter).
    pub missed_total: u64,
    /// Blocks with unknown QC while a member (counter).
    pub unknown_total: u64,
    /// Blocks we proposed (counter).
    pub proposed_total: u64,
    /// Member blocks missed since our last signature.
    pub consecutive_missed: u64,
    /// Height of the last block we signed.
    pub last_signed_block: Option<u64>,
    /// Timestamp (µs) of that block.
    pub last_vote_timestamp_us: Option<u64>,
    /// (epoch, round) of that block: a safety file older than this would let a new voter sign a round the key
    /// already signed.
    pub last_signed_round: Option<(u64, u64)>,
    /// Height of the last block we proposed.
    pub last_proposed_block: Option<u64>,
    /// Highest block processed.
    pub last_height: Option<u64>,
    /// (height, timestamp µs) of recent blocks.
    pub recent: VecDeque<(u64, u64)>,
    /// The node has no block before this epoch (chain start): epochs before it cannot hold a signature of ours.
    pub history_start_epoch: Option<u64>,
    /// Committees of the epochs kept, by epoch.
    pub committees: BTreeMap<u64, EpochCommittee>,
    /// Our blocks measured against the committee's (participation, solo misses, per-epoch shares).
    pub participation: Participation,
}

impl VoteLedger {
    /// Records committee membership for `epoch` (from `pos_getCommittee`). A later signature overrides "not a
    /// member" since signing proves membership.
    pub fn set_membership(&mut self, epoch: u64, member: bool, voting_power: u64) {
        let r = self.epochs.entry(epoch).or_default();
        if r.signed == 0 || member {
            r.member = Some(member);
            r.voting_power = voting_power;
        }
        self.trim();
    }

    /// Records our membership in the epoch a `pos_getCommittee` answer describes (its own `epochNumber`, which is
    /// not always the epoch asked about), with our voting power; `us` is our address (lowercase 0x-hex).
    pub fn record_committee(&mut self, c: &CommitteeState, us: &PosAddress) {
        let ours = c.current_committee.nodes.iter().find(|n| n.address == *us);
        let power = ours.map_or(0, |n| n.voting_power.0);
        let cc = &c.current_committee;
        let known = self.committees.get(&cc.epoch_number.0);
        if known.is_some_and(|k| k.total_power == cc.total_voting_power.0) {
            // The head reads the committee every poll: an epoch's is copied once.
            self.set_membership(cc.epoch_number.0, ours.is_some(), power);
            return;
        }
        let members = if cc.nodes.len() <= MAX_MEMBERS {
            cc.nodes
                .iter()
                .map(|n| (n.address.clone(), n.voting_power.0))
                .collect()
        } else {
            Vec::new()
        };
        let committee = EpochCommittee {
            total_power: cc.total_voting_power.0,
            members,
        };
        self.committees.insert(cc.epoch_number.0, committee);
        self.set_membership(cc.epoch_number.0, ours.is_some(), power);
    }

    /// The node cannot tell `epoch`'s committee (after repeated failures): its blocks count as unknown, and the
    /// force-retire verdict for windows containing it stays unknown.
    pub fn set_membership_unknowable(&mut self, epoch: u64) {
        self.epochs.entry(epoch).or_default().membership_unknowable = true;
        self.trim();
    }

    /// See [`Self::set_membership_unknowable`].
    pub fn membership_unknowable(&self, epoch: u64) -> bool {
        self.epochs
            .get(&epoch)
            .is_some_and(|r| r.membership_unknowable)
    }

    /// Membership known for `epoch`?
    pub fn membership(&self, epoch: u64) -> Option<bool> {
        self.epochs.get(&epoch).and_then(|r| r.member)
    }

    /// Processes one committed block for address `us`. Blocks must come in increasing height;
    /// a repeated or older height is ignored and returns `None`, so a block is never counted twice.
    pub fn record_block(&mut self, block: &PosBlock, us: &PosAddress) -> Option<BlockVerdict> {
        let h = block.height.0;
        if self.last_height.is_some_and(|l| h <= l) {
            return None;
        }
        self.last_height = Some(h);
        self.recent.push_back((h, block.timestamp.0));
        while self.recent.len() > INTERVAL_WINDOW {
            self.recent.pop_front();
        }
        if block.miner.as_ref() == Some(us) {
            self.proposed_total += 1;
            self.last_proposed_block = Some(h);
        }
        let ours = block.signatures.iter().find(|s| s.account == *us);
        let record = self.epochs.entry(block.epoch.0).or_default();
        record.blocks += 1;
        if block.signatures.is_empty() {
            record.hidden_qc += 1;
        }
        let verdict = if let Some(sig) = ours {
            record.member = Some(true);
            record.voting_power = record.voting_power.max(sig.votes.0);
            BlockVerdict::Signed
        } else if record.member.is_none() && record.membership_unknowable {
            BlockVerdict::Unknown
        } else if record.member != Some(true) {
            BlockVerdict::NotMember
        } else if block.signatures.is_empty() {
            BlockVerdict::Unknown
        } else {
            BlockVerdict::Missed
        };
        match verdict {
            BlockVerdict::Signed => {
                record.signed += 1;
                self.signed_total += 1;
                self.consecutive_missed = 0;
                self.last_signed_block = Some(h);
                self.last_signed_round = Some((block.epoch.0, block.round.0));
                self.last_vote_timestamp_us = Some(block.timestamp.0);
            }
            BlockVerdict::Missed => {
                record.missed += 1;
                self.missed_total += 1;
                self.consecutive_missed += 1;
            }
            BlockVerdict::Unknown => {
                record.unknown += 1;
                self.unknown_total += 1;
            }
            BlockVerdict::NotMember => {}
        }
        let qc = match self.committees.get(&block.epoch.0) {
            Some(c) if !block.signatures.is_empty() => Some(BlockQc {
                signed_power: block.qc_power(),
                total_power: c.total_power,
                our_power: record.voting_power,
                we_signed: ours.is_some(),
            }),
            _ => None,
        };
        let decided = match verdict {
            BlockVerdict::Signed => Some(true),
            BlockVerdict::Missed => Some(false),
            _ => None,
        };
        self.participation.record(block.epoch.0, qc, decided);
        self.trim();
        Some(verdict)
    }

    /// Observed seconds per committed block: the median gap between consecutive blocks of the recent window,
    /// from the chain's own timestamps. The median ignores the odd slow round (a timeout) that a mean would smear
    /// over the whole window.
    pub fn block_interval_seconds(&self) -> Option<f64> {
        let mut gaps: Vec<u64> = self
            .recent
            .iter()
            .zip(self.recent.iter().skip(1))
            .filter(|((h0, t0), (h1, t1))| *h1 == h0 + 1 && t1 > t0)
            .map(|((_, t0), (_, t1))| t1 - t0)
            .filter(|gap| *gap <= MAX_GAP_US)
            .collect();
        // Two or three gaps are one odd round away from nonsense (the first block after an old anchor).
        if gaps.len() < MIN_GAPS {
            return None;
        }
        gaps.sort_unstable();
        Some(gaps[gaps.len() / 2] as f64 / 1e6)
    }

    fn trim(&mut self) {
        while self.epochs.len() > EPOCHS_KEPT {
            self.epochs.pop_first();
        }
        while self.committees.len() > EPOCHS_KEPT {
            self.committees.pop_first();
        }
    }
}

#[cfg(test)]
#[path = "votes_tests.rs"]
mod tests;
