//! What the real node taught us, replayed on the simulator: the force-retire look-back depends on the chain and
//! the view (a devnet-like chain retires after one silent epoch), the exporter checks its forecast against the
//! chain's verdict, a node far too slow for history reads stays "up" and still completes its history, and a node
//! without PoS (which drops any request carrying a `pos_*` call) is up with PoS unavailable.

use conflux_test_support as support;

use support::exporter::*;
use support::exposition::*;
use support::pos::*;
use support::scrape::*;
use support::world::*;

use std::time::Duration;

use conflux_pos_exporter::app::App;
use conflux_pos_exporter::config::Config;
use conflux_sim::pos::{PosChain, PosParams};
use conflux_sim::{EndpointPatch, EndpointSpec, SimConfig, SimHandle};

/// A simulated chain `chain_id` whose committee holds our key (voting), blocks produced only by the test.
async fn chain(chain_id: u64) -> SimHandle {
    let mut node = EndpointSpec::node("node", Some(US));
    node.voting = true;
    let mut params = PosParams::for_identities(&[US.to_string()], 3, L);
    // The transition view follows the chain id, as the node's config does (1029: 330 000; others: never).
    params.cip99_transition_view = None;
    sim(SimConfig {
        chain_id,
        network_id: chain_id,
        pos: Some(Box::new(PosChain::new(params))),
        endpoints: vec![node, EndpointSpec::reference("ref")],
        ..Default::default()
    })
    .await
}

fn config(sim: &SimHandle, pos_section: &str) -> Config {
    let mut cfg = exporter_config_every(
        &[("local", sim.url("node").unwrap())],
        &[("ref", sim.url("ref").unwrap())],
        "",
        50,
    );
    if let Some(v) = pos_section.strip_prefix("cip99=") {
        let v = v.parse().unwrap();
        for n in &mut cfg.nodes {
            n.cip99_transition_view = Some(v);
        }
    }
    cfg
}

/// Every committed block read and the verdict published.
async fn read_up_to_height(app: &App, sim: &SimHandle) -> Scrape {
    let h = sim.pos_height() as f64;
    wait_for(app.local_addr(), T, "history read", |s| {
        g(s, "conflux_pos_last_read_block") == Some(h)
            && g(s, "conflux_pos_history_caught_up") == Some(1.0)
            && g(s, "conflux_pos_backfill_complete") == Some(1.0)
    })
    .await
}

/// Stops our votes and commits blocks one at a time until the chain retires us; returns whether the exporter
/// said "at risk" before that, and the last scrape.
async fn silence_until_retired(app: &App, sim: &SimHandle) -> (bool, Scrape) {
    sim.patch_endpoint("node", EndpointPatch::default().voting(false))
        .await
        .unwrap();
    let mut warned = false;
    for _ in 0..6 * L {
        sim.advance_pos(1).unwrap();
        let s = read_up_to_height(app, sim).await;
        if !retirements(sim).is_empty() {
            let s = wait_for(app.local_addr(), T, "retirement seen", |s| {
                g(s, "conflux_pos_force_retired") == Some(1.0)
            })
            .await;
            return (warned, s);
        }
        warned |= g(&s, "conflux_pos_force_retire_at_risk") == Some(1.0);
    }
    panic!("the chain never retired the silent member");
}

/// [`silence_until_retired`], asserting the exporter warned first and its self-check agrees.
async fn retired_as_forecast(app: &App, sim: &SimHandle) -> Scrape {
    let (warned, s) = silence_until_retired(app, sim).await;
    assert!(warned, "at risk before the chain's retirement");
    assert_eq!(
        g(&s, "conflux_pos_force_retire_forecast_missed_total"),
        Some(0.0)
    );
    s
}

#[tokio::test]
async fn a_chain_without_cip99_retires_after_one_epoch_and_we_warn_first() {
    let sim = chain(10).await;
    sim.advance_pos(2 * L + 2).unwrap();
    let app = exporter(config(&sim, "")).await;
    let s = read_up_to_height(&app, &sim).await;
    assert_eq!(g(&s, "conflux_pos_force_retire_window_epochs"), Some(1.0));
    assert_eq!(g(&s, "conflux_pos_force_retire_at_risk"), Some(0.0));
    let s = retired_as_forecast(&app, &sim).await;
    let r = &retirements(&sim)[0];
    assert_eq!(g(&s, "conflux_pos_force_retired_block"), r["view"].as_f64());
    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_wrong_rule_is_caught_by_the_forecast_self_check() {
    let sim = chain(10).await;
    sim.advance_pos(2 * L + 2).unwrap();
    // Told (wrongly) that this chain uses the 3-epoch look-back from view 0.
    let app = exporter(config(&sim, "cip99=0")).await;
    let s = read_up_to_height(&app, &sim).await;
    assert_eq!(g(&s, "conflux_pos_force_retire_window_epochs"), Some(3.0));
    let (warned, _) = silence_until_retired(&app, &sim).await;
    assert!(!warned, "the wrong rule did not see it coming");
    wait_for(app.local_addr(), T, "forecast miss counted", |s| {
        g(s, "conflux_pos_force_retire_forecast_missed_total") == Some(1.0)
    })
    .await;
    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_node_twenty_times_too_slow_for_history_is_up_and_completes_it() {
    let sim = chain(1029).await;
    sim.advance_pos(2 * L + 5).unwrap();
    // A 250-call history batch takes 250 × 20 ms = 5 s: 20 times the 250 ms deadline. Status stays fast.
    sim.patch_endpoint("node", EndpointPatch::default().history_delay_ms(20))
        .await
        .unwrap();
    let mut cfg = config(&sim, "");
    cfg.history_timeout = Duration::from_millis(250);
    let app = exporter(cfg).await;
    let a = app.local_addr();
    let h = sim.pos_height() as f64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let s = loop {
        let s = scrape(a).await;
        assert_ne!(
            s.get("conflux_up", &[("node", "local")]),
            Some(0.0),
            "never down while cfx_getStatus answers"
        );
        if g(&s, "conflux_pos_last_read_block") == Some(h)
            && g(&s, "conflux_pos_backfill_complete") == Some(1.0)
        {
            break s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "history never completed:\n{}",
            s.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(g(&s, "conflux_pos_votes_signed_total").unwrap() > 0.0);
    assert!(
        g(&s, "conflux_pos_history_batch_size").unwrap() < 32.0,
        "the batch shrank to fit the deadline"
    );
    let s = retired_as_forecast(&app, &sim).await;
    assert_eq!(g(&s, "conflux_up"), Some(1.0), "a slow node stayed up");
    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_node_without_pos_is_up_with_pos_unavailable() {
    let sim = chain(1029).await;
    sim.patch_endpoint("node", EndpointPatch::default().pos_disabled(true))
        .await
        .unwrap();
    let app = exporter(config(&sim, "")).await;
    let s = wait_for(app.local_addr(), T, "PoS reported unavailable", |s| {
        s.get(
            "conflux_pos_unavailable_reason",
            &[("node", "local"), ("reason", "pos_no_answer")],
        ) == Some(1.0)
    })
    .await;
    assert_eq!(
        g(&s, "conflux_up"),
        Some(1.0),
        "the chain part still answers"
    );
    assert_eq!(g(&s, "conflux_pos_up"), Some(0.0));
    assert!(!s.series("conflux_epoch_number").is_empty());
    app.shutdown().await;
    sim.shutdown().await;
}
