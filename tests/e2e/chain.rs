//! The exporter against the simulator, end to end over real HTTP: every chain series, the three lag outcomes,
//! fork, catch-up and methods not served (up, down, slow and faulty nodes are in `e2e_liveness.rs`).

use conflux_test_support as support;

use support::exporter::*;
use support::scrape::*;
use support::world::*;

use std::time::Duration;

use conflux_sim::EndpointPatch;

const T: Duration = Duration::from_secs(10);

#[tokio::test]
async fn healthy_node_has_every_series_right() {
    let sim = node_and_reference().await;
    sim.patch_endpoint("node", EndpointPatch::default().peers(7).pending_tx(42))
        .await
        .unwrap();
    let app = watching_node_and_reference(&sim).await;
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
    let sim = node_and_reference().await;
    sim.patch_endpoint("node", EndpointPatch::default().lag(30))
        .await
        .unwrap();
    let app = watching_node_and_reference(&sim).await;
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
    let sim = node_and_reference().await;
    let app = watching_node_and_reference(&sim).await;
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
async fn forked_node_is_flagged() {
    let sim = node_and_reference().await;
    let fork_at = sim.pow_epoch() - 200;
    sim.patch_endpoint("node", EndpointPatch::default().fork_from(Some(fork_at)))
        .await
        .unwrap();
    let app = watching_node_and_reference(&sim).await;
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
    let sim = node_and_reference().await;
    sim.patch_endpoint(
        "node",
        EndpointPatch::default().sync_phase("CatchUpSyncBlockPhase"),
    )
    .await
    .unwrap();
    let app = watching_node_and_reference(&sim).await;
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
