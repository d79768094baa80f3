//! The force-retire ETA against the simulator's real retirement time. Alone in its test binary so no other test
//! competes for the CPU while the chain's timing is measured.

use conflux_test_support as support;

use support::pos::*;
use support::scrape::*;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use conflux_sim::EndpointPatch;

#[tokio::test]
async fn eta_matches_the_real_retirement_time() {
    let block = Duration::from_millis(200);
    let sim = pos_sim(true, true, Some(block)).await;
    let app = watch(&sim, 20).await;
    let a = app.local_addr();
    wait_for(a, T, "backfilled", |s| {
        g(s, "conflux_pos_epochs_without_vote") == Some(0.0)
    })
    .await;
    sim.patch_endpoint("node", EndpointPatch::default().voting(false))
        .await
        .unwrap();
    // A tight scrape loop, so the moment the forecast appears is known to a few milliseconds.
    let deadline = Instant::now() + Duration::from_secs(40);
    let (s, seen) = loop {
        let s = scrape(a).await;
        let seen = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        if g(&s, "conflux_pos_force_retire_at_risk") == Some(1.0) {
            break (s, seen);
        }
        assert!(Instant::now() < deadline, "never at risk:\n{}", s.text);
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let eta = g(&s, "conflux_pos_force_retire_eta_seconds").unwrap();
    let interval = g(&s, "conflux_pos_block_interval_seconds").unwrap();
    assert!(
        (interval - block.as_secs_f64()).abs() < 0.03,
        "observed interval {interval}"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while retirements(&sim).is_empty() {
        assert!(Instant::now() < deadline, "no retirement");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let retired_at = retirements(&sim)[0]["timeUs"].as_f64().unwrap() / 1e6;
    // The exporter counts the forecast from when it first saw the latest block, which is between that block's
    // own timestamp and our scrape: `latency` bounds how late that was, whatever the load on the machine.
    let latest = g(&s, "conflux_pos_latest_committed_block").unwrap() as u64;
    let latency = seen - block_timestamp(&sim, latest).await;
    let expected = g(&s, "conflux_pos_force_retire_expected_timestamp_seconds").unwrap();
    let error = expected - retired_at;
    let b = block.as_secs_f64();
    eprintln!("ETA error: {error:+.3}s (block interval {b:.3}s, block seen within {latency:.3}s)");
    // Judged against one block interval (the chain's own granularity) beyond that observation delay.
    assert!(
        (-b..=latency + b).contains(&error),
        "expected retirement at {expected:.3}, retired at {retired_at:.3}: off by {error:.3}s \
         (block seen within {latency:.3}s)"
    );
    // The relative ETA is the same forecast, published between the block's arrival and our scrape.
    let published_lag = seen + eta - expected;
    assert!(
        (-0.05..=latency + 0.05).contains(&published_lag),
        "ETA {eta:.3}s seen at {seen:.3} disagrees with the expected time {expected:.3}"
    );
    wait_for(a, T, "retired", |s| {
        g(s, "conflux_pos_force_retired") == Some(1.0)
    })
    .await;
    app.shutdown().await;
    sim.shutdown().await;
}

/// The chain's timestamp (seconds) of PoS block `height`, read from the reference endpoint.
async fn block_timestamp(sim: &conflux_sim::SimHandle, height: u64) -> f64 {
    let params = serde_json::json!([format!("{height:#x}")]);
    let r = support::rpc::result(&sim.url("ref").unwrap(), "pos_getBlockByNumber", params).await;
    let ts = r["timestamp"].as_str().expect("timestamp");
    u64::from_str_radix(ts.trim_start_matches("0x"), 16).expect("hex") as f64 / 1e6
}
