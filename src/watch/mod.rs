//! Poll loops, one task per target. A loop awaits its poll before waiting for the next tick, so at most one poll
//! per target is ever in flight and slow answers delay the schedule instead of piling up requests. Watchers write
//! facts into the [`crate::state::Hub`]; they never touch metrics.

pub mod chain;
pub mod reference;

use std::future::Future;
use std::time::Duration;

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

/// Runs `poll` every `interval` until `cancel` fires. The first poll starts after a small random delay (up to
/// 10 % of the interval) so many targets do not hit the network in lock-step.
pub async fn every<F, Fut>(interval: Duration, cancel: CancellationToken, mut poll: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let jitter = interval.mul_f64(fastrand::f64() * 0.1);
    tokio::select! {
        _ = cancel.cancelled() => return,
        _ = tokio::time::sleep(jitter) => {}
    }
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = ticker.tick() => {}
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = poll() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    #[tokio::test(start_paused = true)]
    async fn one_poll_in_flight_and_no_pile_up() {
        let running = Arc::new(AtomicU32::new(0));
        let max = Arc::new(AtomicU32::new(0));
        let count = Arc::new(AtomicU32::new(0));
        let cancel = CancellationToken::new();
        let (r, m, c) = (running.clone(), max.clone(), count.clone());
        let task = tokio::spawn(every(Duration::from_secs(1), cancel.clone(), move || {
            let (r, m, c) = (r.clone(), m.clone(), c.clone());
            async move {
                let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now, Ordering::SeqCst);
                // A poll three times slower than the interval.
                tokio::time::sleep(Duration::from_secs(3)).await;
                r.fetch_sub(1, Ordering::SeqCst);
                c.fetch_add(1, Ordering::SeqCst);
            }
        }));
        tokio::time::sleep(Duration::from_secs(30)).await;
        cancel.cancel();
        task.await.unwrap();
        assert_eq!(max.load(Ordering::SeqCst), 1);
        let n = count.load(Ordering::SeqCst);
        assert!(
            (9..=10).contains(&n),
            "slow polls run back to back, not piled up: {n}"
        );
    }
}
