//! Two behaviours of real nodes the simulator reproduces over real HTTP: a node started without PoS drops the
//! connection of any request holding a `pos_*` call (losing the whole batch), and a loaded node is slow for
//! history reads only (each one adds `history_delay_ms`, status calls stay fast).

use conflux_sim_test_support as support;

use std::time::{Duration, Instant};

use conflux_sim::EndpointPatch;
use serde_json::{json, Value};
use support::{control::*, rpc::*, sim::*, wire::*};

fn req(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

#[tokio::test]
async fn without_pos_a_pos_call_loses_the_whole_request() {
    let sim = start(true).await;
    let url = sim.url("local").unwrap();
    let (_, state) = control_post(&sim, "/endpoint/local", json!({"pos_disabled": true})).await;
    assert_eq!(state["pos_disabled"], json!(true), "{state}");

    let batch = json!([
        req(1, "cfx_getStatus", json!([])),
        req(2, "pos_getStatus", json!([]))
    ]);
    let err = post_raw(&url, "application/json", batch.to_string())
        .await
        .expect_err("the connection closes without an HTTP response");
    assert!(!err.is_timeout(), "closed, not slow: {err}");
    let single = req(1, "pos_getAccount", json!([ID]));
    assert!(post_raw(&url, "application/json", single.to_string())
        .await
        .is_err());
    assert_eq!(
        sim.stats("local").unwrap().rpc_calls,
        3,
        "the calls were received"
    );

    // The rest answers normally, and so do the pos_* calls the real node answered without PoS.
    assert!(is_qty(
        &result(&url, "cfx_getStatus", json!([])).await["epochNumber"]
    ));
    assert_eq!(
        result(&url, "pos_getRewardsByEpoch", json!(["0x1"])).await,
        Value::Null
    );
    assert_eq!(
        code(&call(&url, "pos_noSuchMethod", json!([])).await),
        Some(-32601)
    );
    let voting = call(&url, "test_posVotingStatus", json!([])).await;
    assert_eq!(
        voting["error"],
        json!({"code": -32603, "message": "Internal error", "data": "Pos not initialized!"})
    );

    sim.patch_endpoint("local", EndpointPatch::default().pos_disabled(false))
        .await
        .unwrap();
    assert!(result(&url, "pos_getStatus", json!([])).await.is_object());
    sim.shutdown().await;
}

/// Time to answer `body` on `url`.
async fn timed(url: &str, body: Value) -> (Duration, Value) {
    let t = Instant::now();
    let v = rpc(url, body).await;
    (t.elapsed(), v)
}

#[tokio::test]
async fn history_reads_are_slow_one_by_one_and_status_stays_fast() {
    let sim = start(true).await;
    let url = sim.url("local").unwrap();
    let per_call = Duration::from_millis(1_000);
    sim.patch_endpoint("local", EndpointPatch::default().history_delay_ms(1_000))
        .await
        .unwrap();
    let history: Vec<Value> = (1..=3u64)
        .map(|i| req(i, "pos_getBlockByNumber", json!([format!("{i:#x}")])))
        .collect();
    let (slow, answers) = timed(&url, Value::Array(history)).await;
    assert!(slow >= 3 * per_call, "3 history reads took {slow:?}");
    assert_eq!(answers.as_array().map(Vec::len), Some(3));
    let (one, _) = timed(&url, req(1, "pos_getTransactionByNumber", json!(["0x1"]))).await;
    // Lower bounds are the injected delays; upper bounds compare with each other, so a loaded machine that
    // slows every request alike cannot fail them.
    assert!(
        one >= per_call && one < slow,
        "one history read took {one:?}, three {slow:?}"
    );
    // Head reads and core-space calls carry no history cost.
    let head = json!([
        req(1, "cfx_getStatus", json!([])),
        req(2, "pos_getStatus", json!([])),
        req(3, "pos_getBlockByNumber", json!(["latest_committed"]))
    ]);
    let (fast, _) = timed(&url, head).await;
    assert!(
        fast < one,
        "status calls took {fast:?}, one history read {one:?}"
    );
    sim.shutdown().await;
}
