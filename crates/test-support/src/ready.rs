//! Waiting for a server child (Prometheus, Alertmanager) to answer `/-/ready`, with its log on failure.

use std::time::{Duration, Instant};

/// Polls `{url}/-/ready` (Prometheus and Alertmanager both serve it) until it answers 2xx, or fails with the
/// program's log after `timeout`.
pub async fn wait_ready(url: &str, what: &str, timeout: Duration, log: impl Fn() -> String) {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(r) = reqwest::get(format!("{url}/-/ready")).await {
            if r.status().is_success() {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{what} not ready; log:\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
