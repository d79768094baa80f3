//! "Was it just me?": each committed block measured against the whole committee. A block's participation is the
//! share of the committee's voting power in its QC; a miss of ours is a *solo miss* when the rest of the committee
//! was healthy, so a chain-wide outage (a network split, a release bug) is told apart from our node failing.
//! Per-epoch signed shares are kept for a bounded look-back (the dashboard's grid).

use std::collections::VecDeque;

/// Share of the other members' voting power that must be in a block's QC for a miss of ours to be a solo miss.
/// 90 % leaves room for one or two slow peers in a mainnet-size committee, and lies well above the 2/3 quorum, so
/// a committee that barely reaches a QC (which would commit with many members silent) never makes our miss
/// "solo".
pub(crate) const SOLO_MISS_OTHERS_SHARE: f64 = 0.9;
/// Epochs of signed-share history kept (and published as `slot` 0..N-1): a day of mainnet's hour-long epochs.
pub(crate) const SHARE_EPOCHS: usize = 24;
/// Committee members remembered per epoch for the reward comparison; a larger committee (mainnet seats are
/// bounded by 300 nodes) is not believed, so a hostile answer cannot grow the exporter's memory.
pub(crate) const MAX_MEMBERS: usize = 1024;

/// One block's QC against its epoch's committee.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockQc {
    /// Voting power in the QC (sum of the signers' votes).
    pub signed_power: u64,
    /// The committee's total voting power in the block's epoch.
    pub total_power: u64,
    /// Our voting power in that epoch (0 when not a member).
    pub our_power: u64,
    /// Our signature is in the QC.
    pub we_signed: bool,
}

impl BlockQc {
    /// Share of the committee's voting power that signed; `None` when the committee's power is unknown or zero, or
    /// smaller than the QC's. The latter was seen on a real devnet: in its genesis epoch the QC votes add up to
    /// 8 000 while the committee the exporter read for that epoch held less; the two measures differ there, so the
    /// share is unknown rather than clamped to 100 %.
    pub fn participation(&self) -> Option<f64> {
        self.comparable()
            .then(|| self.signed_power as f64 / self.total_power as f64)
    }

    /// The QC's votes and the committee's power are in the same units (see [`Self::participation`]).
    fn comparable(&self) -> bool {
        self.total_power > 0 && self.signed_power <= self.total_power
    }

    /// Whether a miss of ours in this block is a solo miss: the other members' signed share is at least
    /// [`SOLO_MISS_OTHERS_SHARE`]. A committee with no other power makes every miss solo; a QC not comparable with
    /// the committee's power (see [`Self::participation`]) classifies nothing.
    pub fn solo_miss(&self) -> bool {
        if self.we_signed || !self.comparable() {
            return false;
        }
        let others = self.total_power.saturating_sub(self.our_power);
        if others == 0 {
            return true;
        }
        self.signed_power as f64 >= SOLO_MISS_OTHERS_SHARE * others as f64
    }
}

/// Our record in one epoch, for the heatmap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EpochShare {
    /// PoS epoch.
    pub epoch: u64,
    /// Member blocks we signed.
    pub signed: u64,
    /// Member blocks we missed.
    pub missed: u64,
}

impl EpochShare {
    /// Signed share of the epoch's decided member blocks; `None` when none was decided.
    pub fn ratio(&self) -> Option<f64> {
        let n = self.signed + self.missed;
        (n > 0).then(|| self.signed as f64 / n as f64)
    }
}

/// Committee-relative facts accumulated from the blocks read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Participation {
    /// Participation of the last block read; `None` when its QC (empty signatures) or committee is unknown.
    pub last_block: Option<f64>,
    /// Our misses while the rest of the committee signed (counter).
    pub solo_missed_total: u64,
    /// Signed/missed per epoch, oldest first, at most [`SHARE_EPOCHS`].
    pub shares: VecDeque<EpochShare>,
}

impl Participation {
    /// Records one block of `epoch`: `qc` when its QC and committee are known, `signed` our verdict when we were a
    /// member (`Some(true)` signed, `Some(false)` missed, `None` otherwise).
    pub fn record(&mut self, epoch: u64, qc: Option<BlockQc>, signed: Option<bool>) {
        self.last_block = qc.and_then(|q| q.participation());
        if signed == Some(false) && qc.is_some_and(|q| q.solo_miss()) {
            self.solo_missed_total += 1;
        }
        let Some(signed) = signed else { return };
        if self.shares.back().is_none_or(|s| s.epoch < epoch) {
            self.shares.push_back(EpochShare {
                epoch,
                ..Default::default()
            });
            while self.shares.len() > SHARE_EPOCHS {
                self.shares.pop_front();
            }
        }
        if let Some(s) = self.shares.iter_mut().rev().find(|s| s.epoch == epoch) {
            if signed {
                s.signed += 1;
            } else {
                s.missed += 1;
            }
        }
    }

    /// The signed shares as (slot, ratio), slot = epochs before `current` (0 = current), only slots below
    /// [`SHARE_EPOCHS`] and epochs with decided blocks: at most [`SHARE_EPOCHS`] series whatever the history.
    pub fn slots(&self, current: u64) -> Vec<(u64, f64)> {
        self.shares
            .iter()
            .filter(|s| s.epoch <= current && current - s.epoch < SHARE_EPOCHS as u64)
            .filter_map(|s| Some((current - s.epoch, s.ratio()?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qc(signed_power: u64, our_power: u64, we_signed: bool) -> BlockQc {
        BlockQc {
            signed_power,
            total_power: 100,
            our_power,
            we_signed,
        }
    }

    #[test]
    fn participation_is_the_signed_share_of_the_committee() {
        assert_eq!(qc(60, 10, false).participation(), Some(0.6));
        assert_eq!(qc(100, 10, true).participation(), Some(1.0));
        let unknown = BlockQc {
            total_power: 0,
            ..qc(5, 0, false)
        };
        assert_eq!(unknown.participation(), None);
        assert_eq!(
            qc(150, 0, false).participation(),
            None,
            "more votes than the committee holds: other units (a genesis epoch), unknown"
        );
        assert!(!qc(150, 0, false).solo_miss());
    }

    #[test]
    fn a_miss_is_solo_only_when_the_others_signed() {
        // Others hold 90: 81 of them signed is exactly the threshold.
        assert!(qc(81, 10, false).solo_miss());
        assert!(!qc(80, 10, false).solo_miss());
        // 40 % of the committee silent, us among them.
        assert!(!qc(60, 10, false).solo_miss());
        assert!(!qc(100, 10, true).solo_miss(), "signed is no miss");
        assert!(qc(0, 100, false).solo_miss(), "alone in the committee");
    }

    #[test]
    fn counts_solo_misses_and_keeps_a_bounded_share_history() {
        let mut p = Participation::default();
        p.record(1, Some(qc(90, 10, true)), Some(true));
        p.record(1, Some(qc(90, 10, false)), Some(false));
        p.record(1, Some(qc(50, 10, false)), Some(false));
        p.record(1, None, Some(false));
        assert_eq!(p.solo_missed_total, 1);
        assert_eq!(p.last_block, None, "the last block's QC is unknown");
        p.record(2, Some(qc(70, 0, false)), None);
        assert_eq!(p.last_block, Some(0.7));
        assert_eq!(p.slots(2), vec![(1, 0.25)], "no decided block in epoch 2");
        for e in 3..100 {
            p.record(e, Some(qc(100, 10, true)), Some(true));
        }
        assert_eq!(p.shares.len(), SHARE_EPOCHS);
        let slots = p.slots(99);
        assert_eq!(slots.len(), SHARE_EPOCHS);
        assert_eq!(slots.first(), Some(&(23, 1.0)));
        assert_eq!(slots.last(), Some(&(0, 1.0)));
        assert!(p.slots(200).is_empty(), "too old for any slot");
    }
}
