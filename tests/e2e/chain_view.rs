//! The chain's verdict about our key does not depend on the local node. A node whose PoS head stops while its
//! `cfx_*` goes on, and a node that is stopped, are judged from the reference's view: the risk turns at risk before
//! the chain retires the key, the retirement is seen, the downtime budget counts down, and every block is counted
//! exactly once across the switch to the reference and back (equal to the chain's own tally). A reference that does
//! not serve `pos_*` cannot stand in: the risk is then unknown, never "not at risk". Blocks are produced by the
//! test (manual mode), so nothing races a clock; every wait is on a condition.

use conflux_test_support as support;

use support::exposition::*;
use support::pos::*;
use support::scrape::*;
use support::tally::*;

use conflux_pos_exporter::app::App;
use conflux_sim::{EndpointPatch, SimHandle};
use serde_json::json;

fn key(s: &Scrape, name: &str) -> Option<f64> {
    s.get(name, &[("node", "local"), ("pos_address", US)])
}

fn view(s: &Scrape, v: &str) -> Option<f64> {
    s.get(
        "conflux_pos_verdict_view",
        &[("node", "local"), ("pos_address", US), ("view", v)],
    )
}

/// Waits until the verdicts come from `source` and its history is read up to the chain's height.
async fn judged(app: &App, sim: &SimHandle, source: &str) -> Scrape {
    let h = sim.pos_height() as f64;
    let what = format!("verdicts from the {source} view, read to {h}");
    wait_for(app.local_addr(), DEADLINE, &what, |s| {
        view(s, source) == Some(1.0)
            && g(s, "conflux_pos_view_fresh") == Some(f64::from(u8::from(source == "local")))
            && g(s, "conflux_pos_last_read_block") == Some(h)
            && g(s, "conflux_pos_history_caught_up") == Some(1.0)
            && key(s, "conflux_pos_epochs_without_vote").is_some()
    })
    .await
}

/// Advances the chain a block at a time until the chain retires [`US`] (plus one block), recording the
/// exporter's at-risk verdict and downtime budget (blocks) before each block. Returns (height, at risk, budget)
/// samples and the retiring view.
async fn until_retired(app: &App, sim: &SimHandle) -> (Vec<(u64, f64, Option<f64>)>, u64) {
    let mut samples = Vec::new();
    for _ in 0..6 * L {
        let s = judged(app, sim, "reference").await;
        let at_risk = key(&s, "conflux_pos_force_retire_at_risk").expect("at risk is decided");
        let budget = key(&s, "conflux_pos_downtime_budget_blocks");
        samples.push((sim.pos_height(), at_risk, budget));
        if let Some(r) = retirements(sim).first() {
            return (samples, r["view"].as_u64().expect("view"));
        }
        sim.advance_pos(1).unwrap();
    }
    panic!("the chain never retired the silent key: {samples:?}");
}

/// The exporter forecast the retirement at `retired` from the reference's view, then saw it happen.
async fn forecast_then_seen(app: &App, samples: &[(u64, f64, Option<f64>)], retired: u64) {
    let before: Vec<_> = samples.iter().filter(|(h, ..)| *h < retired).collect();
    assert!(
        before.iter().any(|(_, r, _)| *r == 1.0),
        "at risk before the retiring block {retired}: {samples:?}"
    );
    let s = wait_for(app.local_addr(), DEADLINE, "force_retired 1", |s| {
        key(s, "conflux_pos_force_retired") == Some(1.0)
    })
    .await;
    assert_eq!(
        g(&s, "conflux_pos_force_retire_forecast_missed_total"),
        Some(0.0),
        "the retirement was forecast"
    );
    assert_eq!(
        key(&s, "conflux_pos_force_retired_block"),
        Some(retired as f64)
    );
}

#[tokio::test]
async fn a_node_whose_pos_is_stuck_is_judged_from_the_reference_and_each_block_counts_once() {
    let sim = pos_sim(true, true, None).await;
    let anchor = sim.pos_height();
    sim.advance_pos(2).unwrap();
    let app = watch(&sim, POLL_MS).await;
    let s = judged(&app, &sim, "local").await;
    assert_eq!(g(&s, "conflux_pos_view_fresh"), Some(1.0));
    assert_eq!(view(&s, "reference"), Some(0.0));

    // The node's PoS stops (its key with it) while its cfx_* answers on; the chain goes on without it.
    sim.patch_endpoint("node", EndpointPatch::default().pos_stalled(true))
        .await
        .unwrap();
    let stuck_at = sim.pos_height() as f64;
    sim.advance_pos(3).unwrap();
    let s = judged(&app, &sim, "reference").await;
    assert_eq!(g(&s, "conflux_pos_view_fresh"), Some(0.0));
    assert_eq!(g(&s, "conflux_up"), Some(1.0), "cfx_* still answers");
    assert_eq!(g(&s, "conflux_pos_latest_committed_block"), Some(stuck_at));
    assert_eq!(g(&s, "conflux_pos_force_retire_risk_known"), Some(1.0));
    assert!(g(&s, "conflux_pos_view_lag_seconds").is_some_and(|l| l > 0.0));
    let (samples, retired) = until_retired(&app, &sim).await;
    forecast_then_seen(&app, &samples, retired).await;

    // The node's PoS comes back: the verdicts return to its view, and no block was counted twice.
    sim.patch_endpoint("node", EndpointPatch::default().pos_stalled(false))
        .await
        .unwrap();
    sim.advance_pos(2).unwrap();
    let s = judged(&app, &sim, "local").await;
    let h = sim.pos_height();
    let mut chain = ChainReader::new(sim.url("ref").unwrap(), US, anchor);
    chain.read_to(h).await;
    let t = chain.tally(anchor, h);
    assert_eq!(
        (
            key(&s, "conflux_pos_votes_signed_total"),
            key(&s, "conflux_pos_votes_missed_total"),
            key(&s, "conflux_pos_votes_unknown_total"),
        ),
        (
            Some(t.signed as f64),
            Some(t.missed as f64),
            Some(t.unknown as f64)
        ),
        "the chain's own tally {t:?}"
    );
    assert!(t.signed > 0 && t.missed > 0, "{t:?}");
    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_stopped_node_keeps_its_downtime_budget_counting_down_to_the_retirement() {
    let sim = pos_sim(true, true, None).await;
    // Enough blocks for the exporter to tell the block interval (the budget in seconds needs it).
    sim.advance_pos(6).unwrap();
    let app = watch(&sim, POLL_MS).await;
    let s = judged(&app, &sim, "local").await;
    let full = key(&s, "conflux_pos_downtime_budget_blocks").expect("a voting member has a budget");
    assert!(full > 0.0, "{full}");
    assert!(key(&s, "conflux_pos_downtime_budget_seconds").is_some());

    // Stopped for an upgrade: the port refuses connections and the key is silent.
    sim.patch_endpoint("node", EndpointPatch::default().down(true))
        .await
        .unwrap();
    sim.pos_control(&json!({"cmd": "set_member_voting", "address": US, "voting": false}))
        .unwrap();
    let (samples, retired) = until_retired(&app, &sim).await;
    let s = scrape(app.local_addr()).await;
    assert_eq!(g(&s, "conflux_up"), Some(0.0));
    assert_eq!(g(&s, "conflux_pos_up"), Some(0.0));
    // The budget counts down block by block to the retiring block.
    let budgets: Vec<(u64, f64)> = samples
        .iter()
        .filter(|(h, ..)| *h < retired)
        .map(|(h, _, b)| {
            (
                *h,
                b.unwrap_or_else(|| panic!("budget absent at {h}: {samples:?}")),
            )
        })
        .collect();
    for (h, b) in &budgets {
        assert_eq!(*b, (retired - h) as f64, "budget at {h}: {samples:?}");
    }
    assert!(budgets.len() > 1, "{samples:?}");
    forecast_then_seen(&app, &samples, retired).await;
    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_reference_without_pos_cannot_stand_in_so_the_risk_is_unknown() {
    let sim = pos_sim(true, true, None).await;
    sim.patch_endpoint("ref", EndpointPatch::default().disable_namespace("pos"))
        .await
        .unwrap();
    sim.advance_pos(2).unwrap();
    let app = watch(&sim, POLL_MS).await;
    synced(&app, &sim).await;
    sim.patch_endpoint("node", EndpointPatch::default().pos_stalled(true))
        .await
        .unwrap();
    // PoS commits finalise PoW epochs: the reference's latestFinalized moves on, the stuck node's does not.
    for _ in 0..L {
        sim.advance_pow(5).unwrap();
        sim.advance_pos(1).unwrap();
    }
    let s = wait_for(app.local_addr(), DEADLINE, "risk unknown", |s| {
        g(s, "conflux_pos_force_retire_risk_known") == Some(0.0)
    })
    .await;
    assert_eq!(g(&s, "conflux_pos_view_fresh"), Some(0.0));
    for name in [
        "conflux_pos_force_retire_at_risk",
        "conflux_pos_downtime_budget_blocks",
        "conflux_pos_committee_member",
        "conflux_pos_epochs_without_vote",
    ] {
        assert_eq!(key(&s, name), None, "{name} from a stale view:\n{}", s.text);
    }
    // A stopped node with the same reference: still unknown.
    sim.patch_endpoint("node", EndpointPatch::default().down(true))
        .await
        .unwrap();
    let s = wait_for(app.local_addr(), DEADLINE, "node down", |s| {
        g(s, "conflux_up") == Some(0.0)
    })
    .await;
    assert_eq!(key(&s, "conflux_pos_force_retire_at_risk"), None);
    app.shutdown().await;
    sim.shutdown().await;
}

/// The calls a public reference receives per day at mainnet rates, scaled 60× in time (30 s PoS blocks → 500 ms,
/// 120-block epochs, the default 5 s node and 15 s reference polls → 83 and 250 ms): the steady state over half a
/// simulated hour with the node up, then over one simulated hour while the reference stands in for the stopped
/// node (after the start-up backfill), each extrapolated to a day. A measurement, not a unit test:
/// `scripts/reference-budget` runs it and prints the numbers (it takes about two minutes).
#[tokio::test]
#[ignore = "a measurement of about two minutes: scripts/reference-budget runs it"]
async fn reference_calls_per_day_at_mainnet_rates() {
    use conflux_sim::pos::{PosChain, PosParams};
    use conflux_sim::{EndpointSpec, SimConfig};
    use std::time::Duration;
    const SCALE: u32 = 60;
    const FREE_TIER: u64 = 100_000;
    let sim = support::world::sim(SimConfig {
        chain_id: 1029,
        pos: Some(Box::new(PosChain::new(PosParams::for_identities(
            &[US.to_string()],
            3,
            120,
        )))),
        pos_block_interval: Some(Duration::from_secs(30) / SCALE),
        pow_epoch_interval: Some(Duration::from_millis(100)),
        endpoints: vec![
            EndpointSpec::node("node", Some(US)),
            EndpointSpec::reference("ref"),
        ],
        ..Default::default()
    })
    .await;
    let mut cfg = support::exporter::exporter_config(
        &[("local", sim.url("node").unwrap())],
        &[("ref", sim.url("ref").unwrap())],
        &format!("pos_address = \"{US}\""),
    );
    cfg.node_interval = Duration::from_secs(5) / SCALE;
    cfg.reference_interval = Duration::from_secs(15) / SCALE;
    let app = support::exporter::exporter(cfg).await;
    let per_day = |sim: &SimHandle, simulated: Duration| {
        let s = sim.stats("ref").unwrap();
        let factor = 86_400.0 / simulated.as_secs_f64();
        let calls = (s.rpc_calls as f64 * factor) as u64;
        let by_method: Vec<String> = s
            .calls_per_method
            .iter()
            .map(|(m, n)| format!("{m} {}", (*n as f64 * factor) as u64))
            .collect();
        (calls, by_method)
    };
    let settle = |what: &'static str| {
        wait_for(app.local_addr(), DEADLINE, what, |s| {
            g(s, "conflux_pos_backfill_complete") == Some(1.0)
                && g(s, "conflux_pos_history_caught_up") == Some(1.0)
        })
    };
    settle("backfill with the node up").await;
    sim.reset_stats();
    let half_hour = Duration::from_secs(1800);
    tokio::time::sleep(half_hour / SCALE).await;
    let (up, up_methods) = per_day(&sim, half_hour);
    sim.patch_endpoint("node", EndpointPatch::default().down(true))
        .await
        .unwrap();
    wait_for(app.local_addr(), DEADLINE, "the reference's view", |s| {
        view(s, "reference") == Some(1.0)
    })
    .await;
    settle("caught up from the reference").await;
    sim.reset_stats();
    let hour = Duration::from_secs(3600);
    tokio::time::sleep(hour / SCALE).await;
    let (down, down_methods) = per_day(&sim, hour);
    println!("reference calls per day, node up and fresh: {up} ({up_methods:?})");
    println!("reference calls per day, standing in for a stopped node: {down} ({down_methods:?})");
    println!(
        "free tier {FREE_TIER}: {:.1} % / {:.1} %",
        up as f64 * 100.0 / FREE_TIER as f64,
        down as f64 * 100.0 / FREE_TIER as f64
    );
    assert!(down < FREE_TIER / 2, "over half the free tier: {down}");
    app.shutdown().await;
    sim.shutdown().await;
}
