//! Background clocks: one PoW epoch per `pow_epoch_interval`, one PoS block per `pos_block_interval`.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::MissedTickBehavior;

use super::shared::{now_secs, now_us, Shared};

/// Which chain a ticker advances.
#[derive(Clone, Copy, Debug)]
pub enum Chain {
    /// PoW epochs.
    Pow,
    /// PoS blocks.
    Pos,
}

/// Spawns a ticker advancing `chain` by one every `every` until shutdown.
pub fn spawn(shared: &Arc<Shared>, chain: Chain, every: Duration) {
    let shared = Arc::clone(shared);
    let stop = shared.root.clone();
    let tracker = shared.tracker.clone();
    tracker.spawn(async move {
        let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        // Skip keeps the blocks on a fixed time grid, like consensus rounds: a late tick does not push every later
        // block back (Delay would make the chain drift slower under load and bias every interval measurement).
        interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = interval.tick() => {}
            }
            let mut world = shared.world();
            match chain {
                Chain::Pow => world.advance_pow(1, now_secs()),
                Chain::Pos => {
                    if let Err(e) = world.advance_pos(1, now_us()) {
                        tracing::warn!(error = %e, "PoS ticker stopped");
                        break;
                    }
                }
            }
        }
    });
}
