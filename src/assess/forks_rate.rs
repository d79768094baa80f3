//! The observed PoW epoch rate, from the chain's own block timestamps (seconds): time is data here, so the rate
//! does not depend on when the exporter happened to poll, and a fake clock is just a list of samples.

use std::collections::VecDeque;

/// Samples at least this many timestamp seconds apart are kept...
pub(crate) const SAMPLE_SPACING_SECONDS: u64 = 60;
/// ...at most this many (about an hour of chain time): memory stays bounded whatever the node sends.
pub(crate) const MAX_SAMPLES: usize = 61;
/// A rate needs at least this many epochs between the oldest and newest sample: with one-second timestamps,
/// fewer would be mostly rounding.
pub(crate) const MIN_EPOCH_SPAN: u64 = 60;

/// Recent (epoch, block timestamp) samples of one node.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct EpochRate {
    samples: VecDeque<(u64, u64)>,
}

impl EpochRate {
    /// Records the best epoch and its block's timestamp. A chain going backwards (reset, other chain) restarts
    /// the measurement rather than mixing two chains.
    pub(crate) fn observe(&mut self, epoch: u64, timestamp: u64) {
        if let Some(&(e, t)) = self.samples.back() {
            if epoch < e || timestamp < t {
                self.samples.clear();
            } else if timestamp - t < SAMPLE_SPACING_SECONDS {
                return;
            }
        }
        self.samples.push_back((epoch, timestamp));
        if self.samples.len() > MAX_SAMPLES {
            self.samples.pop_front();
        }
    }

    /// Seconds per epoch over the samples kept; `None` until enough epochs have passed.
    pub(crate) fn seconds_per_epoch(&self) -> Option<f64> {
        let (&(e0, t0), &(e1, t1)) = (self.samples.front()?, self.samples.back()?);
        let epochs = e1 - e0;
        (epochs >= MIN_EPOCH_SPAN).then(|| (t1 - t0) as f64 / epochs as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_from_chain_timestamps_with_a_fake_clock() {
        let mut r = EpochRate::default();
        assert_eq!(r.seconds_per_epoch(), None);
        // Two epochs per second, polled every 5 s of chain time.
        for k in 0..10u64 {
            r.observe(1_000 + 10 * k, 50_000 + 5 * k);
        }
        assert_eq!(r.seconds_per_epoch(), None, "only one sample kept so far");
        for k in 10..=200u64 {
            r.observe(1_000 + 10 * k, 50_000 + 5 * k);
        }
        assert_eq!(r.seconds_per_epoch(), Some(0.5));
    }

    #[test]
    fn memory_is_bounded_and_follows_the_recent_rate() {
        let mut r = EpochRate::default();
        let (mut e, mut t) = (0u64, 0u64);
        for _ in 0..500 {
            e += 60;
            t += 60;
            r.observe(e, t);
        }
        assert!(r.samples.len() <= MAX_SAMPLES);
        assert_eq!(r.seconds_per_epoch(), Some(1.0));
        for _ in 0..500 {
            e += 30;
            t += 60;
            r.observe(e, t);
        }
        assert_eq!(r.seconds_per_epoch(), Some(2.0));
    }

    #[test]
    fn a_chain_going_backwards_restarts() {
        let mut r = EpochRate::default();
        for k in 0..10u64 {
            r.observe(1_000 * k, 600 * k);
        }
        assert!(r.seconds_per_epoch().is_some());
        r.observe(5, 10);
        assert_eq!(r.seconds_per_epoch(), None);
    }
}
