//! Background clocks: one PoW epoch per `pow_epoch_interval`, one PoS block per `pos_block_interval`.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::MissedTickBehavior;

use super::shared::{now_us, Shared};

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
        let (start, start_us) = (tokio::time::Instant::now(), now_us());
        let mut interval = tokio::time::interval_at(start + every, every);
        // Skip keeps the blocks on a fixed time grid, like consensus rounds: a late tick does not push every later
        // block back (Delay would make the chain drift slower under load and bias every interval measurement).
        interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            let due = tokio::select! {
                _ = stop.cancelled() => break,
                due = interval.tick() => due,
            };
            // The block carries the time it was due, not the time a busy machine got round to it: its timestamp
            // stays on the grid, so intervals measured from the chain are exact under load too.
            let at_us = start_us + due.duration_since(start).as_micros() as u64;
            let mut world = shared.world();
            match chain {
                Chain::Pow => world.advance_pow(1, at_us / 1_000_000),
                Chain::Pos => {
                    if let Err(e) = world.advance_pos(1, at_us) {
                        tracing::warn!(error = %e, "PoS ticker stopped");
                        break;
                    }
                }
            }
        }
    });
}
