//! Poll loops, one task per target. A loop awaits its poll before waiting for the next tick, so at most one poll
//! per target is ever in flight and slow answers delay the schedule instead of piling up requests. Pollers write
//! facts into the [`crate::state::Hub`]; they never touch metrics.

pub mod chain;
pub(crate) mod host;
pub mod pos;
pub(crate) mod reference;

use std::future::Future;
use std::time::Duration;

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

/// A source polled on a schedule. Owning its state (`&mut self`) is what makes "one poll in flight" structural.
pub trait Poller: Send {
    /// One poll.
    fn poll(&mut self) -> impl Future<Output = ()> + Send;
}

/// Runs `poller` every `interval` until `cancel` fires. The first poll starts after a small random delay (up to
/// 10 % of the interval) so many targets do not hit the network in lock-step.
pub async fn run<P: Poller>(interval: Duration, cancel: CancellationToken, mut poller: P) {
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
            _ = poller.poll() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    struct Slow {
        running: Arc<AtomicU32>,
        max: Arc<AtomicU32>,
        count: Arc<AtomicU32>,
    }

    impl Poller for Slow {
        async fn poll(&mut self) {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.max.fetch_max(now, Ordering::SeqCst);
            // A poll three times slower than the interval.
            tokio::time::sleep(Duration::from_secs(3)).await;
            self.running.fetch_sub(1, Ordering::SeqCst);
            self.count.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn one_poll_in_flight_and_no_pile_up() {
        let (max, count) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
        let poller = Slow {
            running: Arc::new(AtomicU32::new(0)),
            max: max.clone(),
            count: count.clone(),
        };
        let cancel = CancellationToken::new();
        let task = tokio::spawn(run(Duration::from_secs(1), cancel.clone(), poller));
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
