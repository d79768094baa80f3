//! The HTTP control API (what demos and scripts use) and the automatic block clocks.

use conflux_sim_test_support as support;

use std::time::Duration;

use conflux_sim::{EndpointSpec, Sim, SimConfig};
use serde_json::json;
use support::{control::*, rpc::*, sim::*, wire::*};

#[tokio::test]
async fn control_api_changes_what_rpc_returns() {
    let sim = start(false).await;
    let url = sim.url("local").unwrap();
    let before = qty(&result(&url, "cfx_epochNumber", json!([])).await);

    let (status, body) = control_post(&sim, "/advance", json!({"pow": 7})).await;
    assert_eq!(status, 200);
    assert_eq!(body["pow_epoch"], json!(before + 7));

    let (status, ep) = control_post(
        &sim,
        "/endpoint/local",
        json!({"lag": 3, "sync_phase": "CatchUpCheckpointPhase", "peers": 1}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(ep["epoch"], json!(before + 4));
    assert_eq!(
        qty(&result(&url, "cfx_epochNumber", json!([])).await),
        before + 4
    );
    assert_eq!(
        result(&url, "debug_currentSyncPhase", json!([])).await,
        json!("CatchUpCheckpointPhase")
    );

    let (_, ep) = control_post(
        &sim,
        "/endpoint/local",
        json!({"error": {"code": -32000, "message": "injected"}, "voting": false}),
    )
    .await;
    assert_eq!(ep["voting"], json!(false));
    assert_eq!(
        code(&call(&url, "cfx_getStatus", json!([])).await),
        Some(-32000)
    );
    control_post(&sim, "/endpoint/local", json!({"error": null})).await;
    assert_eq!(code(&call(&url, "cfx_getStatus", json!([])).await), None);

    let (status, state) = control_get(&sim, "/state").await;
    assert_eq!(status, 200);
    assert_eq!(state["pow_epoch"], json!(before + 7));
    assert_eq!(state["endpoints"]["local"]["lag"], json!(3));
    assert_eq!(state["endpoints"]["ref"]["kind"], json!("reference"));

    let (_, stats) = control_get(&sim, "/stats").await;
    assert_eq!(
        stats["local"]["calls_per_method"]["cfx_getStatus"],
        json!(2)
    );
    let (_, one) = control_get(&sim, "/stats/local").await;
    assert_eq!(one, stats["local"]);
    control_post(&sim, "/stats/reset", json!({})).await;
    assert_eq!(
        control_get(&sim, "/stats/local").await.1["http_requests"],
        json!(0)
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn control_api_down_and_up_over_http() {
    let sim = start(false).await;
    let url = sim.url("ref").unwrap();
    assert_eq!(
        control_post(&sim, "/endpoint/ref", json!({"down": true}))
            .await
            .0,
        200
    );
    assert!(post_raw(&url, "application/json", "{}".into())
        .await
        .unwrap_err()
        .is_connect());
    assert_eq!(
        control_post(&sim, "/endpoint/ref", json!({"down": false}))
            .await
            .0,
        200
    );
    assert!(is_qty(&result(&url, "cfx_epochNumber", json!([])).await));
    sim.shutdown().await;
}

#[tokio::test]
async fn control_api_reports_bad_requests() {
    let sim = start(false).await;
    let (status, body) = control_post(&sim, "/endpoint/nobody", json!({"lag": 1})).await;
    assert_eq!(status, 404);
    assert!(body["error"].as_str().unwrap().contains("nobody"));
    assert_eq!(
        control_post(&sim, "/endpoint/local", json!({"lagg": 1}))
            .await
            .0,
        400
    );
    assert_eq!(
        control_post(&sim, "/endpoint/local", json!({"http_status": 42}))
            .await
            .0,
        400
    );
    assert_eq!(
        control_post(&sim, "/advance", json!({"pos": 1})).await.0,
        409,
        "no PoS chain"
    );
    assert_eq!(control_post(&sim, "/pos", json!({"x": 1})).await.0, 409);
    assert_eq!(control_get(&sim, "/nowhere").await.0, 404);
    assert_eq!(
        control_post(&sim, "/advance", json!({"pow": 1u64 << 40}))
            .await
            .0,
        400
    );
    assert_eq!(
        control_post(&sim, "/endpoint/local", json!({"peers": 1u64 << 31}))
            .await
            .0,
        400
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn pos_commands_and_advances_reach_the_backend() {
    let sim = start(true).await;
    let (status, body) = control_post(&sim, "/pos", json!({"cmd": "anything"})).await;
    assert_eq!((status, body), (200, json!({"received": 1})));
    assert_eq!(
        control_post(&sim, "/pos", json!({"fail": true})).await.0,
        400
    );
    let (_, h) = control_post(&sim, "/advance", json!({"pos": 3, "pow": 1})).await;
    assert_eq!(h["pos_height"], json!(3));
    let st = result(&sim.url("local").unwrap(), "pos_getStatus", json!([])).await;
    assert_eq!(st["latestCommitted"], json!("0x3"));
    control_post(&sim, "/endpoint/local", json!({"pos_not_started": true})).await;
    let r = call(&sim.url("local").unwrap(), "pos_getStatus", json!([])).await;
    assert_eq!(code(&r), Some(-32078));
    sim.shutdown().await;
}

#[tokio::test]
async fn tickers_advance_both_chains() {
    let cfg = SimConfig {
        endpoints: vec![EndpointSpec::node("local", Some(ID))],
        pow_epoch_interval: Some(Duration::from_millis(20)),
        pos_block_interval: Some(Duration::from_millis(20)),
        pos: Some(Box::new(conflux_sim::FakePos::default())),
        ..SimConfig::default()
    };
    let sim = Sim::start(cfg).await.unwrap();
    let (pow0, pos0) = (sim.pow_epoch(), sim.pos_height());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while (sim.pow_epoch() < pow0 + 3 || sim.pos_height() < pos0 + 3)
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(sim.pow_epoch() >= pow0 + 3, "PoW advanced by itself");
    assert!(sim.pos_height() >= pos0 + 3, "PoS advanced by itself");
    sim.shutdown().await;
}

#[tokio::test]
async fn start_fails_cleanly_on_a_taken_port() {
    let first = start(false).await;
    let taken = first.addr("local").unwrap();
    let cfg = SimConfig {
        endpoints: vec![EndpointSpec {
            addr: taken,
            ..EndpointSpec::node("again", None)
        }],
        ..SimConfig::default()
    };
    let err = Sim::start(cfg).await.err().map(|e| e.kind());
    assert_eq!(err, Some("bind"));
    let cfg = SimConfig {
        endpoints: vec![EndpointSpec::node("free", None)],
        control_addr: taken,
        ..SimConfig::default()
    };
    assert_eq!(Sim::start(cfg).await.err().map(|e| e.kind()), Some("bind"));
    assert!(is_qty(
        &result(&first.url("local").unwrap(), "cfx_epochNumber", json!([])).await
    ));
    first.shutdown().await;
}

/// The PoS chain takes its CIP-99 transition view from the simulator's chain id, and the control API changes it.
#[tokio::test]
async fn force_retire_rule_follows_the_chain_id_and_the_control_api() {
    use conflux_sim::pos::{PosChain, PosParams};
    for (chain_id, view) in [
        (1029, json!(330_000)),
        (1, json!(342_000)),
        (10, json!(u64::MAX)),
    ] {
        let sim = Sim::start(SimConfig {
            chain_id,
            network_id: chain_id,
            pos: Some(Box::new(PosChain::new(PosParams::default()))),
            endpoints: vec![EndpointSpec::node("local", Some(ID))],
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let state = sim.pos_control(&json!({"cmd": "state"})).unwrap();
        assert_eq!(state["cip99TransitionView"], view, "chain {chain_id}");
        assert_eq!(
            state["forceRetireWindowEpochs"],
            json!(1),
            "genesis is before any transition"
        );
        let (status, _) = control_post(
            &sim,
            "/pos",
            json!({"cmd": "cip99_transition_view", "view": 0}),
        )
        .await;
        assert_eq!(status, 200);
        let state = sim.pos_control(&json!({"cmd": "state"})).unwrap();
        assert_eq!(state["forceRetireWindowEpochs"], json!(3));
        sim.shutdown().await;
    }
}
