//! The exporter against the simulator, end to end over real HTTP: every chain series, the three lag outcomes,
//! node down, fork, catch-up, methods not served, faults, one request per poll, and the read-only guarantee.

use conflux_test_support as support;

use support::exporter::*;
use support::exposition::*;
use support::scrape::*;
use support::world::*;

use std::time::Duration;

use conflux_sim::{EndpointPatch, EndpointSpec, InjectedError, SimConfig, SimHandle};

const T: Duration = Duration::from_secs(10);

async fn world() -> SimHandle {
    sim(SimConfig {
        endpoints: vec![
            EndpointSpec::node("node", None),
            EndpointSpec::reference("ref"),
        ],
        ..Default::default()
    })
    .await
}

async fn watched(sim: &SimHandle) -> conflux_pos_exporter::app::App {
    exporter(exporter_config(
        &[("local", sim.url("node").unwrap())],
        &[("ref", sim.url("ref").unwrap())],
        "",
    ))
    .await
}

#[tokio::test]
async fn healthy_node_has_every_series_right() {
    let sim = world().await;
    sim.patch_endpoint("node", EndpointPatch::default().peers(7).pending_tx(42))
        .await
        .unwrap();
    let app = watched(&sim).await;
    let epoch = sim.pow_epoch() as f64;
    let s = wait_for(app.local_addr(), T, "lag and fork verdicts", |s| {
        s.get("conflux_epoch_lag", &[("node", "local")]).is_some()
            && s.get("conflux_reference_hash_mismatch", &[("node", "local")])
                .is_some()
    })
    .await;
    let n = [("node", "local")];
    assert_eq!(s.get("conflux_up", &n), Some(1.0));
    assert_eq!(
        s.get(
            "conflux_epoch_number",
            &[("node", "local"), ("tag", "latest_mined")]
        ),
        Some(epoch)
    );
    assert_eq!(
        s.get(
            "conflux_epoch_number",
            &[("node", "local"), ("tag", "latest_state")]
        ),
        Some(epoch - 5.0)
    );
    assert_eq!(
        s.get(
            "conflux_epoch_number",
            &[("node", "local"), ("tag", "latest_confirmed")]
        ),
        Some(epoch - 50.0)
    );
    assert_eq!(
        s.get(
            "conflux_epoch_number",
            &[("node", "local"), ("tag", "latest_finalized")]
        ),
        Some(epoch - 300.0)
    );
    assert!(s
        .get(
            "conflux_epoch_number",
            &[("node", "local"), ("tag", "latest_checkpoint")]
        )
        .is_some());
    assert_eq!(s.get("conflux_epoch_lag", &n), Some(0.0));
    assert_eq!(s.get("conflux_reference_hash_mismatch", &n), Some(0.0));
    assert_eq!(s.get("conflux_peers", &n), Some(7.0));
    assert_eq!(s.get("conflux_txpool_pending", &n), Some(42.0));
    assert_eq!(s.get("conflux_catching_up", &n), Some(0.0));
    assert_eq!(
        s.get(
            "conflux_sync_phase",
            &[("node", "local"), ("phase", "NormalSyncPhase")]
        ),
        Some(1.0)
    );
    assert_eq!(
        s.get(
            "conflux_sync_phase",
            &[("node", "local"), ("phase", "CatchUpSyncBlockPhase")]
        ),
        Some(0.0)
    );
    let info = s.series("conflux_node_info");
    assert_eq!(info.len(), 1);
    assert_eq!(info[0]["chain_id"], "1029");
    assert_eq!(info[0]["network_id"], "1029");
    assert!(
        info[0]["version"].starts_with("conflux-rust/v"),
        "{:?}",
        info[0]
    );
    let age = s.get("conflux_block_age_seconds", &n).unwrap();
    assert!((0.0..60.0).contains(&age), "block age {age}");
    assert_eq!(
        s.get("conflux_reference_up", &[("reference", "ref")]),
        Some(1.0)
    );
    assert_eq!(
        s.get(
            "conflux_reference_state",
            &[("reference", "ref"), ("state", "ok")]
        ),
        Some(1.0)
    );
    assert_eq!(
        s.get("conflux_reference_epoch_number", &[("reference", "ref")]),
        Some(epoch)
    );
    assert!(
        s.get(
            "conflux_exporter_rpc_requests_total",
            &[("target", "local")]
        )
        .unwrap()
            >= 1.0
    );
    assert!(s
        .get(
            "conflux_exporter_last_success_timestamp_seconds",
            &[("target", "ref")]
        )
        .is_some());
    assert_eq!(
        s.get(
            "conflux_exporter_rpc_errors_total",
            &[("target", "local"), ("kind", "connect")]
        ),
        Some(0.0)
    );
    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn lagging_node_and_node_ahead() {
    let sim = world().await;
    sim.patch_endpoint("node", EndpointPatch::default().lag(30))
        .await
        .unwrap();
    let app = watched(&sim).await;
    wait_for(app.local_addr(), T, "lag 30", |s| {
        s.get("conflux_epoch_lag", &[("node", "local")]) == Some(30.0)
    })
    .await;
    sim.patch_endpoint("node", EndpointPatch::default().lag(0))
        .await
        .unwrap();
    sim.patch_endpoint("ref", EndpointPatch::default().lag(12))
        .await
        .unwrap();
    wait_for(app.local_addr(), T, "lag -12", |s| {
        s.get("conflux_epoch_lag", &[("node", "local")]) == Some(-12.0)
    })
    .await;
    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn reference_down_means_no_lag_not_a_lagging_node() {
    let sim = world().await;
    let app = watched(&sim).await;
    let a = app.local_addr();
    wait_for(a, T, "lag", |s| {
        s.get("conflux_epoch_lag", &[("node", "local")]).is_some()
    })
    .await;
    sim.patch_endpoint("ref", EndpointPatch::default().down(true))
        .await
        .unwrap();
    let s = wait_for(a, T, "reference down", |s| {
        s.get("conflux_reference_up", &[("reference", "ref")]) == Some(0.0)
    })
    .await;
    assert!(
        s.series("conflux_epoch_lag").is_empty(),
        "no lag without a usable reference:\n{}",
        s.text
    );
    assert!(s.series("conflux_reference_epoch_number").is_empty());
    assert_eq!(
        s.get(
            "conflux_reference_state",
            &[("reference", "ref"), ("state", "connect")]
        ),
        Some(1.0)
    );
    assert_eq!(
        s.get("conflux_up", &[("node", "local")]),
        Some(1.0),
        "the node itself is fine"
    );
    sim.patch_endpoint("ref", EndpointPatch::default().down(false))
        .await
        .unwrap();
    wait_for(a, T, "lag back", |s| {
        s.get("conflux_epoch_lag", &[("node", "local")]) == Some(0.0)
    })
    .await;
    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn node_down_drops_its_series() {
    let sim = world().await;
    let app = watched(&sim).await;
    let a = app.local_addr();
    wait_for(a, T, "up", |s| {
        s.get("conflux_up", &[("node", "local")]) == Some(1.0)
    })
    .await;
    sim.patch_endpoint("node", EndpointPatch::default().down(true))
        .await
        .unwrap();
    let s = wait_for(a, T, "down", |s| {
        s.get("conflux_up", &[("node", "local")]) == Some(0.0)
    })
    .await;
    for name in [
        "conflux_epoch_number",
        "conflux_epoch_lag",
        "conflux_block_age_seconds",
        "conflux_node_info",
        "conflux_peers",
        "conflux_sync_phase",
    ] {
        assert!(
            s.series(name).is_empty(),
            "{name} must not survive the node going down:\n{}",
            s.text
        );
    }
    assert!(
        s.get(
            "conflux_exporter_rpc_errors_total",
            &[("target", "local"), ("kind", "connect")]
        )
        .unwrap()
            >= 1.0
    );
    let (_, landing) = get(a, "/").await;
    assert!(landing.contains("DOWN"), "{landing}");
    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn forked_node_is_flagged() {
    let sim = world().await;
    let fork_at = sim.pow_epoch() - 200;
    sim.patch_endpoint("node", EndpointPatch::default().fork_from(Some(fork_at)))
        .await
        .unwrap();
    let app = watched(&sim).await;
    let s = wait_for(app.local_addr(), T, "mismatch", |s| {
        s.get("conflux_reference_hash_mismatch", &[("node", "local")]) == Some(1.0)
    })
    .await;
    assert_eq!(
        s.get("conflux_epoch_lag", &[("node", "local")]),
        Some(0.0),
        "same height, other chain"
    );
    sim.patch_endpoint("node", EndpointPatch::default().fork_from(None))
        .await
        .unwrap();
    sim.advance_pow(1).unwrap();
    wait_for(app.local_addr(), T, "healed", |s| {
        s.get("conflux_reference_hash_mismatch", &[("node", "local")]) == Some(0.0)
    })
    .await;
    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn catching_up_and_unserved_methods() {
    let sim = world().await;
    sim.patch_endpoint(
        "node",
        EndpointPatch::default().sync_phase("CatchUpSyncBlockPhase"),
    )
    .await
    .unwrap();
    let app = watched(&sim).await;
    let a = app.local_addr();
    let s = wait_for(a, T, "catch-up", |s| {
        s.get("conflux_catching_up", &[("node", "local")]) == Some(1.0)
    })
    .await;
    assert_eq!(
        s.get(
            "conflux_sync_phase",
            &[("node", "local"), ("phase", "CatchUpSyncBlockPhase")]
        ),
        Some(1.0)
    );
    assert_eq!(
        s.get(
            "conflux_sync_phase",
            &[("node", "local"), ("phase", "NormalSyncPhase")]
        ),
        Some(0.0)
    );
    sim.patch_endpoint("node", EndpointPatch::default().disable_namespace("debug"))
        .await
        .unwrap();
    let s = wait_for(a, T, "debug unavailable", |s| {
        s.get(
            "conflux_rpc_method_unavailable",
            &[("node", "local"), ("method", "debug_currentSyncPhase")],
        ) == Some(1.0)
    })
    .await;
    assert_eq!(
        s.get("conflux_up", &[("node", "local")]),
        Some(1.0),
        "one unserved method does not fail the rest"
    );
    assert!(
        s.series("conflux_sync_phase").is_empty() && s.series("conflux_catching_up").is_empty()
    );
    assert!(s.get("conflux_peers", &[("node", "local")]).is_some());
    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn faults_are_counted_by_kind_and_never_crash() {
    let sim = world().await;
    let mut cfg = exporter_config(
        &[("local", sim.url("node").unwrap())],
        &[("ref", sim.url("ref").unwrap())],
        "",
    );
    // Timeouts become "down" only after a silence this long (slowness is tested on its own).
    cfg.node_down_after = Duration::from_millis(200);
    let app = exporter(cfg).await;
    let a = app.local_addr();
    let errors = |s: &Scrape, kind: &str| {
        s.get(
            "conflux_exporter_rpc_errors_total",
            &[("target", "local"), ("kind", kind)],
        )
        .unwrap_or(0.0)
    };
    let faults: Vec<(EndpointPatch, EndpointPatch, &str)> = vec![
        (
            EndpointPatch::default().garbage(true),
            EndpointPatch::default().garbage(false),
            "decode",
        ),
        (
            EndpointPatch::default().http_status(Some(500)),
            EndpointPatch::default().http_status(None),
            "http_status",
        ),
        (
            EndpointPatch::default().delay_ms(2 * RPC_TIMEOUT.as_millis() as u64),
            EndpointPatch::default().delay_ms(0),
            "timeout",
        ),
        (
            EndpointPatch::default().error(Some(InjectedError {
                code: -32000,
                message: "boom".into(),
                method: None,
            })),
            EndpointPatch::default().error(None),
            "rpc_error",
        ),
    ];
    for (on, off, kind) in faults {
        let before = errors(&scrape(a).await, kind);
        sim.patch_endpoint("node", on).await.unwrap();
        let s = wait_for(a, T, kind, |s| {
            errors(s, kind) > before && s.get("conflux_up", &[("node", "local")]) == Some(0.0)
        })
        .await;
        assert!(
            s.series("conflux_epoch_number").is_empty(),
            "{kind}: stale series"
        );
        sim.patch_endpoint("node", off).await.unwrap();
        wait_for(a, T, "recovery", |s| {
            s.get("conflux_up", &[("node", "local")]) == Some(1.0)
        })
        .await;
    }
    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn liveness_alone_per_request_and_nothing_dangerous() {
    let sim = world().await;
    let app = watched(&sim).await;
    wait_for(app.local_addr(), T, "lag", |s| {
        s.get("conflux_epoch_lag", &[("node", "local")]).is_some()
    })
    .await;
    sim.reset_stats();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let node = sim.stats("node").unwrap();
    let reference = sim.stats("ref").unwrap();
    app.shutdown().await;
    let status = node.calls("cfx_getStatus");
    let pos_status = node.calls("pos_getStatus");
    assert!(status >= 5 && pos_status >= 5, "{node:?}");
    assert_eq!(
        node.batch_requests, node.http_requests,
        "every request is one batch"
    );
    // Per poll: cfx_getStatus alone (liveness), the 5 light chain calls, and the PoS head (status, committee,
    // voting switch, address discovery); this world has no PoS chain, so no history request.
    let polls = status.min(pos_status);
    assert!(
        node.http_requests <= 3 * (polls + 1) && node.rpc_calls <= 10 * (polls + 1),
        "three requests and ten calls per poll: {node:?}"
    );
    assert!(
        node.calls("cfx_clientVersion") <= status + 1,
        "light calls once per poll: {node:?}"
    );
    assert!(
        reference.http_requests >= 5 && reference.batch_requests == reference.http_requests,
        "{reference:?}"
    );
    for s in [&node, &reference] {
        assert!(s.dangerous_methods.is_empty(), "{s:?}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_slow_node_is_not_a_down_node() {
    let sim = world().await;
    let app = watched(&sim).await;
    let a = app.local_addr();
    let timeouts = |s: &Scrape| {
        s.get(
            "conflux_exporter_rpc_errors_total",
            &[("target", "local"), ("kind", "timeout")],
        )
        .unwrap_or(0.0)
    };
    wait_for(a, T, "up", |s| {
        s.get("conflux_up", &[("node", "local")]) == Some(1.0)
    })
    .await;
    // Answers take longer than the RPC timeout, for far less than poll.node_down_after (30 s by default).
    sim.patch_endpoint(
        "node",
        EndpointPatch::default().delay_ms(2 * RPC_TIMEOUT.as_millis() as u64),
    )
    .await
    .unwrap();
    let s = wait_for(a, T, "several timeouts", |s| timeouts(s) >= 3.0).await;
    assert_eq!(
        s.get("conflux_up", &[("node", "local")]),
        Some(1.0),
        "timeouts of a node that answered seconds ago are slowness"
    );
    assert!(!s.series("conflux_epoch_number").is_empty());
    sim.patch_endpoint("node", EndpointPatch::default().delay_ms(0))
        .await
        .unwrap();
    app.shutdown().await;
    sim.shutdown().await;
}
