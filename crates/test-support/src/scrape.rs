//! Reading the exporter under test over HTTP: `GET` a path, scrape `/metrics`, and wait (with a deadline that
//! only bounds a hang) until a scrape satisfies a condition, e.g. the PoS history is read up to a height.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::exposition::Scrape;

/// Deadline of a wait that should succeed within a few polls: it only bounds a hang (a loaded machine may be
/// many times slower than an idle one), it is never what a test measures.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// GETs a path from the exporter.
pub async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let r = reqwest::get(format!("http://{addr}{path}"))
        .await
        .expect("GET works");
    (r.status().as_u16(), r.text().await.expect("body"))
}

/// Scrapes `/metrics`.
pub async fn scrape(addr: SocketAddr) -> Scrape {
    let (status, body) = get(addr, "/metrics").await;
    assert_eq!(status, 200);
    Scrape::parse(body)
}

/// Scrapes until `cond` holds (or panics after `timeout` with the last scrape).
pub async fn wait_for(
    addr: SocketAddr,
    timeout: Duration,
    what: &str,
    cond: impl Fn(&Scrape) -> bool,
) -> Scrape {
    let deadline = Instant::now() + timeout;
    loop {
        let s = scrape(addr).await;
        if cond(&s) {
            return s;
        }
        if Instant::now() > deadline {
            panic!("timed out waiting for {what}; last scrape:\n{}", s.text);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the exporter at `addr` has accounted every committed PoS block up to `height` for node `node`:
/// its status reports `height` and the history up to it is read (`conflux_pos_history_caught_up` 1 with
/// `conflux_pos_last_read_block` at `height`). Waits on what the exporter says it has read, never on a count of
/// polls or requests, so it holds whatever the polling schedule.
pub async fn wait_pos_caught_up(addr: SocketAddr, node: &str, height: u64) -> Scrape {
    let h = height as f64;
    let g = |s: &Scrape, name: &str| s.get(name, &[("node", node)]);
    let what = format!("{node} caught up to PoS block {height}");
    wait_for(addr, DEADLINE, &what, |s| {
        g(s, "conflux_pos_latest_committed_block") == Some(h)
            && g(s, "conflux_pos_last_read_block") == Some(h)
            && g(s, "conflux_pos_history_caught_up") == Some(1.0)
            && g(s, "conflux_pos_epochs_without_vote").is_some()
    })
    .await
}
