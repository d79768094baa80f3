//! Up, slow, down and faulty nodes end to end: a node that stops answering loses its series, each injected fault
//! is counted under its kind and never crashes the exporter, a slow node stays up, and every poll is a fixed
//! handful of read-only batch requests with liveness asked alone.

use conflux_test_support as support;

use support::exporter::*;
use support::exposition::*;
use support::scrape::*;
use support::world::*;

use std::time::Duration;

use conflux_sim::{EndpointPatch, InjectedError};

const T: Duration = Duration::from_secs(10);

#[tokio::test]
async fn node_down_drops_its_series() {
    let sim = node_and_reference().await;
    let app = watching_node_and_reference(&sim).await;
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
async fn faults_are_counted_by_kind_and_never_crash() {
    let sim = node_and_reference().await;
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
    let sim = node_and_reference().await;
    let app = watching_node_and_reference(&sim).await;
    wait_for(app.local_addr(), T, "lag", |s| {
        s.get("conflux_epoch_lag", &[("node", "local")]).is_some()
    })
    .await;
    sim.reset_stats();
    // At least five polls of each source, however long a loaded machine takes for them.
    let deadline = std::time::Instant::now() + T;
    let (node, reference) = loop {
        let node = sim.stats("node").unwrap();
        let reference = sim.stats("ref").unwrap();
        let enough = node.calls("cfx_getStatus").min(node.calls("pos_getStatus")) >= 5
            && reference.http_requests >= 5;
        if enough || std::time::Instant::now() > deadline {
            break (node, reference);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    app.shutdown().await;
    let status = node.calls("cfx_getStatus");
    let pos_status = node.calls("pos_getStatus");
    assert!(status >= 5 && pos_status >= 5, "{node:?}");
    assert_eq!(
        node.batch_requests, node.http_requests,
        "every request is one batch"
    );
    // Per chain poll: cfx_getStatus alone (liveness), then the 5 light chain calls; per PoS poll (its own task,
    // so the two counts differ): the PoS head (status, committee, voting switch, address discovery). This world
    // has no PoS chain, so no history request. One poll of each may be in flight.
    assert!(
        node.http_requests <= 2 * (status + 1) + (pos_status + 1)
            && node.rpc_calls <= 6 * (status + 1) + 4 * (pos_status + 1),
        "two chain requests (six calls) and one PoS request (four calls) per poll: {node:?}"
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
    let sim = node_and_reference().await;
    let app = watching_node_and_reference(&sim).await;
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
