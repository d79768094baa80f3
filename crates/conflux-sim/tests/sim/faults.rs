//! Endpoint views and fault injection over real HTTP, driven through `SimHandle` methods.

use conflux_sim_test_support as support;

use std::time::Duration;

use conflux_sim::{EndpointPatch, InjectedError};
use serde_json::json;
use support::{rpc::*, sim::*, wire::*};

fn patch() -> EndpointPatch {
    EndpointPatch::default()
}

#[tokio::test]
async fn lag_stall_and_fork_change_what_an_endpoint_reports() {
    let sim = start(false).await;
    let (local, reference) = (sim.url("local").unwrap(), sim.url("ref").unwrap());
    let epoch = |url: String| async move { qty(&result(&url, "cfx_epochNumber", json!([])).await) };

    sim.patch_endpoint("local", patch().lag(4)).await.unwrap();
    let tip = sim.advance_pow(10).unwrap();
    assert_eq!(epoch(local.clone()).await, tip - 4);
    assert_eq!(epoch(reference.clone()).await, tip);

    sim.patch_endpoint("local", patch().stalled(true))
        .await
        .unwrap();
    let tip = sim.advance_pow(10).unwrap();
    assert_eq!(
        epoch(local.clone()).await,
        tip - 14,
        "stalled endpoints stop moving"
    );
    sim.patch_endpoint("local", patch().stalled(false).lag(0))
        .await
        .unwrap();
    assert_eq!(epoch(local.clone()).await, tip);

    let best = |url: String| async move { result(&url, "cfx_getBestBlockHash", json!([])).await };
    assert_eq!(best(local.clone()).await, best(reference.clone()).await);
    sim.patch_endpoint("local", patch().fork_from(Some(tip - 3)))
        .await
        .unwrap();
    assert_ne!(best(local.clone()).await, best(reference.clone()).await);
    let at = |url: String, e: u64| async move {
        result(
            &url,
            "cfx_getBlockByEpochNumber",
            json!([format!("{e:#x}"), false]),
        )
        .await["hash"]
            .clone()
    };
    assert_eq!(
        at(local.clone(), tip - 4).await,
        at(reference.clone(), tip - 4).await
    );
    assert_ne!(
        at(local.clone(), tip - 3).await,
        at(reference.clone(), tip - 3).await
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn sync_phase_peers_and_pending_tx_are_reported() {
    let sim = start(false).await;
    let url = sim.url("local").unwrap();
    let p = patch()
        .sync_phase("CatchUpSyncBlockPhase")
        .peers(2)
        .pending_tx(0x2a);
    sim.patch_endpoint("local", p).await.unwrap();
    assert_eq!(
        result(&url, "debug_currentSyncPhase", json!([])).await,
        json!("CatchUpSyncBlockPhase")
    );
    let peers = result(&url, "test_getPeerInfo", json!([])).await;
    assert_eq!(peers.as_array().unwrap().len(), 2);
    assert_eq!(
        result(&url, "cfx_getStatus", json!([])).await["pendingTxNumber"],
        json!("0x2a")
    );
    assert_eq!(
        result(&url, "txpool_status", json!([])).await["ready"],
        json!("0x2a")
    );
    let bad = sim
        .patch_endpoint("local", patch().sync_phase("Dreaming"))
        .await;
    assert!(bad.is_err(), "unknown phases are rejected");
    sim.shutdown().await;
}

#[tokio::test]
async fn injected_errors_and_disabled_namespaces() {
    let sim = start(false).await;
    let url = sim.url("local").unwrap();
    let only_status = InjectedError {
        code: -32016,
        message: "state pruned".into(),
        method: Some("cfx_getStatus".into()),
    };
    sim.patch_endpoint("local", patch().error(Some(only_status)))
        .await
        .unwrap();
    let r = call(&url, "cfx_getStatus", json!([])).await;
    assert_eq!(
        r["error"],
        json!({"code": -32016, "message": "state pruned"})
    );
    assert!(is_qty(&result(&url, "cfx_epochNumber", json!([])).await));
    sim.patch_endpoint("local", patch().error(None).disable_namespace("debug"))
        .await
        .unwrap();
    assert!(is_h256(
        &result(&url, "cfx_getStatus", json!([])).await["bestHash"]
    ));
    assert_eq!(
        code(&call(&url, "debug_currentSyncPhase", json!([])).await),
        Some(-32601)
    );
    sim.patch_endpoint("local", patch().enable_namespace("debug"))
        .await
        .unwrap();
    assert_eq!(
        code(&call(&url, "debug_currentSyncPhase", json!([])).await),
        None
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn delay_exceeds_a_client_timeout() {
    let sim = start(false).await;
    let url = sim.url("local").unwrap();
    sim.patch_endpoint("local", patch().delay_ms(600))
        .await
        .unwrap();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(150))
        .build()
        .unwrap();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "cfx_epochNumber"}).to_string();
    let err = client
        .post(&url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect_err("the answer comes after the timeout");
    assert!(err.is_timeout());
    assert_eq!(
        sim.stats("local").unwrap().rpc_calls,
        1,
        "logged on arrival"
    );
    sim.patch_endpoint("local", patch().delay_ms(0))
        .await
        .unwrap();
    assert!(is_qty(&result(&url, "cfx_epochNumber", json!([])).await));
    sim.shutdown().await;
}

#[tokio::test]
async fn garbage_and_http_status_faults() {
    let sim = start(false).await;
    let url = sim.url("local").unwrap();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "cfx_epochNumber"}).to_string();
    sim.patch_endpoint("local", patch().garbage(true))
        .await
        .unwrap();
    let raw = post_raw(&url, "application/json", body.clone())
        .await
        .unwrap();
    assert_eq!(raw.status, 200);
    assert!(
        serde_json::from_slice::<serde_json::Value>(&raw.body).is_err(),
        "body is not JSON"
    );
    sim.patch_endpoint("local", patch().garbage(false).http_status(Some(500)))
        .await
        .unwrap();
    let raw = post_raw(&url, "application/json", body.clone())
        .await
        .unwrap();
    assert_eq!(raw.status, 500);
    sim.patch_endpoint("local", patch().http_status(None))
        .await
        .unwrap();
    assert_eq!(
        post_raw(&url, "application/json", body)
            .await
            .unwrap()
            .status,
        200
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn down_refuses_connections_and_up_rebinds_the_same_port() {
    let sim = start(false).await;
    let url = sim.url("local").unwrap();
    sim.patch_endpoint("local", patch().down(true))
        .await
        .unwrap();
    let err = post_raw(&url, "application/json", "{}".into())
        .await
        .expect_err("refused");
    assert!(err.is_connect(), "{err:?}");
    // The port stays bound while down (the kernel hands it to no other `bind(0)`), so coming back up cannot
    // find it taken by a parallel test; a plain bind of the number shows it is held.
    let other = tokio::net::TcpSocket::new_v4().unwrap();
    let taken = other.bind(sim.addr("local").unwrap());
    assert!(taken.is_err(), "the port of a down endpoint is free");
    assert!(is_qty(
        &result(&sim.url("ref").unwrap(), "cfx_epochNumber", json!([])).await
    ));
    sim.patch_endpoint("local", patch().down(false))
        .await
        .unwrap();
    assert!(is_qty(&result(&url, "cfx_epochNumber", json!([])).await));
    sim.shutdown().await;
}

#[tokio::test]
async fn test_stop_answers_then_the_node_is_gone() {
    let sim = start(false).await;
    let url = sim.url("local").unwrap();
    assert_eq!(
        result(&url, "test_stop", json!([])).await,
        serde_json::Value::Null
    );
    let err = post_raw(&url, "application/json", "{}".into())
        .await
        .expect_err("refused");
    assert!(err.is_connect());
    assert_eq!(
        sim.stats("local")
            .unwrap()
            .dangerous_methods
            .get("test_stop"),
        Some(&1)
    );
    assert_eq!(sim.state()["endpoints"]["local"]["voting"], json!(false));
    sim.patch_endpoint("local", patch().down(false))
        .await
        .unwrap();
    assert_eq!(
        result(&url, "test_posVotingStatus", json!([])).await,
        json!(false)
    );
    sim.shutdown().await;
}
