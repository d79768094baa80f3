//! Whether a PoS view can be trusted for verdicts. A node can answer `cfx_*` and `pos_getStatus` normally while its
//! PoS chain is stuck (measured on the real devnet after a 45 s `SIGSTOP`: the head never moved again while the
//! other validators retired its key). Verdicts read from such a view ("signed everything it saw", "not at risk")
//! are lies, so every verdict names the view it came from, and a view is used only while it is fresh: its
//! committed head is close to the best head any reference reports, and it keeps moving when the chain does.
//! The tolerances are functions of the chain's observed block interval and of how often each side is polled.

use std::time::{Duration, SystemTime};

/// A committed PoS head as observed: the height, and when that height was first seen (the head "advanced").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// `latestCommitted`.
    pub committed: u64,
    /// When this height was first seen.
    pub advanced_at: SystemTime,
}

/// How often the views are sampled and how fast the chain moves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Pace {
    /// Observed seconds per committed block, when known.
    pub block_interval: Option<f64>,
    /// How often the local node is polled.
    pub node_poll: Duration,
    /// How often the references are polled.
    pub reference_poll: Duration,
}

/// The fastest block interval any Conflux chain runs (the devnet's 1 s rounds): used while the chain's own is not
/// observed yet, it makes the block tolerance generous and the "stuck" bound short, never the reverse.
pub(crate) const FALLBACK_BLOCK_INTERVAL: f64 = 1.0;

/// The slowest block interval a live chain shows: a round's timer grows ×1.2 up to six times from 30 s (≈ 90 s;
/// 60 s rounds before CIP-113). A longer observed "interval" is a gap in what was read (the first blocks after an
/// old anchor), not the chain's pace, and must not stretch the tolerances.
pub(crate) const MAX_BLOCK_INTERVAL: f64 = 120.0;

impl Pace {
    fn interval(&self) -> f64 {
        self.block_interval
            .filter(|i| i.is_finite() && *i > 0.0)
            .unwrap_or(FALLBACK_BLOCK_INTERVAL)
            .min(MAX_BLOCK_INTERVAL)
    }

    /// Blocks a healthy view may trail the best reference by: the blocks the chain commits between two samples
    /// of each side (the two heads are read at different moments), plus a little for a round that ran long.
    pub(crate) fn lag_tolerance_blocks(&self) -> u64 {
        let sampling = self.node_poll.as_secs_f64() + self.reference_poll.as_secs_f64();
        let blocks = (sampling / self.interval()).ceil() as u64;
        blocks.max(1) + 2
    }

    /// How long a head may stay put while a reference is ahead of it before the view counts as stuck: three
    /// blocks of the chain, and never less than two polls (so one missed poll is not a verdict).
    pub(crate) fn stuck_after(&self) -> Duration {
        let blocks = Duration::from_secs_f64(3.0 * self.interval());
        blocks.max(2 * self.node_poll)
    }
}

/// The verdict about one view.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ViewVerdict {
    /// Whether the view may be used for verdicts.
    pub fresh: bool,
    /// Blocks the view trails the best reference by (0 when level or ahead); `None` without a reference head.
    pub lag_blocks: Option<u64>,
    /// Seconds the view trails the chain by: its lag in blocks at the observed interval; `None` without one.
    pub lag_seconds: Option<f64>,
}

/// Judges `view` against the best reference head `best` at `now`. A view with no head at all (node down, PoS
/// unavailable) is not fresh. Staleness is relative: a view level with every other one is fresh however long the
/// chain stands still (no block, no epoch end, no retirement), and without any reference to compare with, the
/// node's view is all there is (its lag is then unknown, `None`).
pub(crate) fn judge(
    view: Option<Head>,
    best: Option<Head>,
    pace: &Pace,
    now: SystemTime,
) -> ViewVerdict {
    let Some(view) = view else {
        return ViewVerdict {
            fresh: false,
            lag_blocks: None,
            lag_seconds: None,
        };
    };
    let still = |h: Head| now.duration_since(h.advanced_at).unwrap_or_default();
    let lag_blocks = best.map(|b| b.committed.saturating_sub(view.committed));
    let behind = lag_blocks.is_some_and(|l| l > 0);
    let too_far = lag_blocks.is_some_and(|l| l > pace.lag_tolerance_blocks());
    let stuck = behind && still(view) > pace.stuck_after();
    ViewVerdict {
        fresh: !too_far && !stuck,
        lag_blocks,
        lag_seconds: lag_blocks.map(|l| l as f64 * pace.interval()),
    }
}

/// Judges the node's view by the PoW side when no reference serves `pos_*`: PoS commits finalise PoW epochs, so a
/// node whose PoS is stuck stops advancing `latestFinalized` while the references' keeps moving. `finalized` is the
/// node's finalised PoW epoch as a head, `best` the references'. Only the "stuck" rule applies (the two counters
/// are PoW epochs, not PoS blocks); a view without a PoS head is not fresh.
pub(crate) fn judge_by_finality(
    view: Option<Head>,
    finalized: Option<Head>,
    best: Option<Head>,
    pace: &Pace,
    now: SystemTime,
) -> ViewVerdict {
    let stuck = match (finalized, best) {
        (Some(f), Some(b)) => {
            let still = now.duration_since(f.advanced_at).unwrap_or_default();
            b.committed > f.committed && still > pace.stuck_after()
        }
        _ => false,
    };
    ViewVerdict {
        fresh: view.is_some() && !stuck,
        lag_blocks: None,
        lag_seconds: None,
    }
}

/// The best reference head: the highest one among those reported. Ties keep the earliest `advanced_at` (the
/// one that has known the height longest).
pub(crate) fn best_head(heads: impl IntoIterator<Item = Head>) -> Option<Head> {
    heads.into_iter().fold(None, |best, h| match best {
        Some(b) if b.committed > h.committed => Some(b),
        Some(b) if b.committed == h.committed && b.advanced_at <= h.advanced_at => Some(b),
        _ => Some(h),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_800_000_000;

    fn at(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + s)
    }

    fn head(committed: u64, since: u64) -> Head {
        Head {
            committed,
            advanced_at: at(since),
        }
    }

    /// The devnet: 1 s blocks, 5 s node polls, 15 s reference polls.
    fn devnet() -> Pace {
        Pace {
            block_interval: Some(1.0),
            node_poll: Duration::from_secs(5),
            reference_poll: Duration::from_secs(15),
        }
    }

    /// Mainnet: 30 s blocks.
    fn mainnet() -> Pace {
        Pace {
            block_interval: Some(30.0),
            ..devnet()
        }
    }

    #[test]
    fn tolerances_follow_the_chain_and_the_polls() {
        assert_eq!(devnet().lag_tolerance_blocks(), 22);
        assert_eq!(devnet().stuck_after(), Duration::from_secs(10));
        assert_eq!(mainnet().lag_tolerance_blocks(), 3);
        assert_eq!(mainnet().stuck_after(), Duration::from_secs(90));
        let unknown = Pace {
            block_interval: None,
            ..mainnet()
        };
        assert_eq!(
            unknown.lag_tolerance_blocks(),
            devnet().lag_tolerance_blocks()
        );
        let nonsense = Pace {
            block_interval: Some(f64::NAN),
            ..mainnet()
        };
        assert_eq!(nonsense.stuck_after(), Duration::from_secs(10));
        let gap = Pace {
            block_interval: Some(1.8e9),
            ..mainnet()
        };
        assert_eq!(gap.stuck_after(), Duration::from_secs(360));
    }

    #[test]
    fn a_view_level_with_the_chain_is_fresh() {
        let v = judge(Some(head(100, 0)), Some(head(101, 0)), &devnet(), at(3));
        assert_eq!(
            v,
            ViewVerdict {
                fresh: true,
                lag_blocks: Some(1),
                lag_seconds: Some(1.0)
            }
        );
        let ahead = judge(Some(head(105, 0)), Some(head(101, 0)), &devnet(), at(3));
        assert!(ahead.fresh);
        assert_eq!(ahead.lag_blocks, Some(0));
    }

    #[test]
    fn a_head_that_stopped_while_the_chain_went_on_is_stale() {
        // The paused devnet node: its head stays at 41 while the references move on.
        let p = devnet();
        assert!(judge(Some(head(41, 0)), Some(head(43, 5)), &p, at(9)).fresh);
        assert!(!judge(Some(head(41, 0)), Some(head(43, 5)), &p, at(11)).fresh);
        // Far behind, even while moving (catching up after a restart).
        let catching_up = judge(Some(head(41, 10)), Some(head(80, 10)), &p, at(10));
        assert!(!catching_up.fresh);
        assert_eq!(catching_up.lag_blocks, Some(39));
        // Mainnet: a slow round is no verdict, three missed blocks are.
        let m = mainnet();
        assert!(judge(Some(head(7, 0)), Some(head(8, 40)), &m, at(80)).fresh);
        assert!(!judge(Some(head(7, 0)), Some(head(8, 40)), &m, at(91)).fresh);
    }

    #[test]
    fn a_chain_wide_stall_is_not_the_node_s_fault() {
        let p = mainnet();
        // Every view at the same height for an hour: the chain stands still, the view is level with it.
        assert!(judge(Some(head(7, 0)), Some(head(7, 0)), &p, at(3600)).fresh);
        // Without any reference there is nothing to compare with: the node's view, lag unknown.
        let alone = judge(Some(head(7, 0)), None, &p, at(3600));
        assert!(alone.fresh);
        assert_eq!(alone.lag_blocks, None);
    }

    #[test]
    fn without_a_pos_reference_a_frozen_finality_betrays_a_stuck_pos() {
        let p = devnet();
        let pos = Some(head(41, 0));
        // The node's finalised PoW epoch stays at 900 while the reference's moves on.
        let v = judge_by_finality(pos, Some(head(900, 0)), Some(head(960, 8)), &p, at(9));
        assert!(v.fresh);
        let v = judge_by_finality(pos, Some(head(900, 0)), Some(head(960, 8)), &p, at(11));
        assert!(!v.fresh);
        assert_eq!(v.lag_blocks, None);
        // Level with the reference, or nothing to compare with: the node's view is all there is.
        assert!(judge_by_finality(pos, Some(head(960, 0)), Some(head(960, 0)), &p, at(99)).fresh);
        assert!(judge_by_finality(pos, None, None, &p, at(99)).fresh);
        assert!(!judge_by_finality(None, Some(head(960, 0)), None, &p, at(1)).fresh);
    }

    #[test]
    fn no_head_is_never_fresh() {
        let v = judge(None, Some(head(7, 0)), &devnet(), at(1));
        assert!(!v.fresh);
        assert_eq!(v.lag_blocks, None);
    }

    #[test]
    fn the_best_head_is_the_highest_then_the_oldest() {
        assert_eq!(best_head([]), None);
        let best = best_head([head(5, 3), head(9, 4), head(9, 2), head(1, 0)]);
        assert_eq!(best, Some(head(9, 2)));
    }
}
