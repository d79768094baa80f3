//! The simulated PoW chain: one pivot block per epoch, with a reproducible hash and the unix time at which
//! it was produced. Pure data; the caller supplies the clock.

use super::wire::derive_h256;

/// Domain tag mixed into pivot hashes so they never collide with other derived hashes.
const PIVOT_DOMAIN: u64 = 0x0070_6976_6f74; // "pivot"

/// The world's PoW chain. Endpoints see a prefix of it (lag, stall) or a variant of it (fork salt).
#[derive(Debug, Clone)]
pub struct PowChain {
    seed: u64,
    start_epoch: u64,
    /// `timestamps[i]` is the production time (unix seconds) of epoch `start_epoch + i`.
    timestamps: Vec<u64>,
}

impl PowChain {
    /// A chain whose tip is `initial_epoch`, produced at `now_secs`.
    pub fn new(seed: u64, initial_epoch: u64, now_secs: u64) -> Self {
        Self {
            seed,
            start_epoch: initial_epoch,
            timestamps: vec![now_secs],
        }
    }

    /// The newest epoch.
    pub fn tip(&self) -> u64 {
        // `timestamps` is never empty: it starts with one entry and only grows.
        self.start_epoch + self.timestamps.len() as u64 - 1
    }

    /// Produces `n` more epochs at `now_secs`. Time never runs backwards on the chain, so a clock step
    /// back is clamped to the previous epoch's time.
    pub fn advance(&mut self, n: u64, now_secs: u64) {
        let last = self.timestamps.last().copied().unwrap_or(now_secs);
        let ts = now_secs.max(last);
        self.timestamps.extend(std::iter::repeat_n(ts, n as usize));
    }

    /// Produces `n` more epochs `step_secs` apart after the newest one, whatever the clock says: a chain whose
    /// epoch rate a test chooses (its timestamps may run ahead of the wall clock).
    pub fn advance_spaced(&mut self, n: u64, step_secs: u64) {
        let last = self.timestamps.last().copied().unwrap_or(0);
        self.timestamps
            .extend((1..=n).map(|i| last.saturating_add(i.saturating_mul(step_secs))));
    }

    /// Production time of `epoch` (unix seconds). Epochs before the simulation started are back-dated by
    /// one second each, so block age grows with depth as on a real chain.
    pub fn timestamp(&self, epoch: u64) -> u64 {
        if epoch >= self.start_epoch {
            let i = (epoch - self.start_epoch) as usize;
            let last = self.timestamps.len() - 1;
            self.timestamps[i.min(last)]
        } else {
            self.timestamps[0].saturating_sub(self.start_epoch - epoch)
        }
    }

    /// Pivot hash of `epoch` on the branch identified by `salt` (0 = the world's branch).
    pub fn pivot_hash(&self, epoch: u64, salt: u64) -> String {
        derive_h256(&[self.seed, PIVOT_DOMAIN, salt, epoch])
    }

    /// The seed, so other derived values (state roots, nonces) stay reproducible too.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_the_tip_and_records_time() {
        let mut c = PowChain::new(7, 100, 1_000);
        assert_eq!(c.tip(), 100);
        c.advance(3, 1_005);
        assert_eq!(c.tip(), 103);
        assert_eq!(c.timestamp(100), 1_000);
        assert_eq!(c.timestamp(103), 1_005);
        assert_eq!(c.timestamp(90), 990);
        c.advance(1, 900);
        assert_eq!(c.timestamp(104), 1_005, "time never goes backwards");
    }

    #[test]
    fn hashes_depend_on_epoch_and_branch() {
        let c = PowChain::new(7, 100, 1_000);
        assert_eq!(c.pivot_hash(5, 0), c.pivot_hash(5, 0));
        assert_ne!(c.pivot_hash(5, 0), c.pivot_hash(6, 0));
        assert_ne!(c.pivot_hash(5, 0), c.pivot_hash(5, 9));
        assert_ne!(
            c.pivot_hash(5, 0),
            PowChain::new(8, 100, 0).pivot_hash(5, 0)
        );
    }
}
