//! The simulator's JSON-RPC surface over real HTTP: shapes, encodings, batches, namespaces, transport rules
//! and the request log.

use conflux_sim_test_support as support;

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use support::{rpc::*, sim::*, wire::*};

#[tokio::test]
async fn batch_answers_every_id_in_any_order_with_node_shapes() {
    let sim = start(false).await;
    let url = sim.url("local").unwrap();
    let methods: [(&str, Value); 10] = [
        ("cfx_getStatus", json!([])),
        ("cfx_epochNumber", json!(["latest_state"])),
        ("cfx_clientVersion", json!([])),
        ("cfx_getBestBlockHash", json!([])),
        ("cfx_getBlockByEpochNumber", json!(["latest_mined", false])),
        ("debug_currentSyncPhase", json!([])),
        ("test_getPeerInfo", json!([])),
        ("txpool_status", json!([])),
        ("test_posVotingStatus", json!([])),
        ("test_posRegister", json!(["0x1"])),
    ];
    let batch: Vec<Value> = methods
        .iter()
        .enumerate()
        .map(|(i, (m, p))| json!({"jsonrpc": "2.0", "id": i + 100, "method": m, "params": p}))
        .collect();
    let raw = post_raw(&url, "application/json", Value::Array(batch).to_string())
        .await
        .unwrap();
    assert_eq!(raw.status, 200);
    assert_eq!(
        raw.headers["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(
        raw.headers["connection"], "close",
        "mimics a v3.0 node without keep-alive"
    );
    let answers = raw.json();
    let answers = answers.as_array().unwrap();
    let ids: Vec<u64> = answers.iter().map(|a| a["id"].as_u64().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (100..110).collect::<Vec<_>>());
    assert_ne!(ids, sorted, "answers are shuffled");
    let by_id = |i: u64| answers.iter().find(|a| a["id"] == json!(i)).unwrap()["result"].clone();

    let status = by_id(100);
    for key in [
        "chainId",
        "ethereumSpaceChainId",
        "networkId",
        "epochNumber",
        "blockNumber",
        "pendingTxNumber",
        "latestCheckpoint",
        "latestConfirmed",
        "latestState",
        "latestFinalized",
    ] {
        assert!(is_qty(&status[key]), "{key} = {}", status[key]);
    }
    assert!(is_h256(&status["bestHash"]));
    assert_eq!(status["chainId"], json!("0x405"));
    let tip = sim.pow_epoch();
    assert_eq!(qty(&status["epochNumber"]), tip);
    assert_eq!(qty(&by_id(101)), tip - 5);
    assert!(by_id(102)
        .as_str()
        .unwrap()
        .starts_with("conflux-rust/v3.0.3-"));
    assert_eq!(by_id(103), status["bestHash"]);

    let block = by_id(104);
    assert_eq!(block["hash"], status["bestHash"]);
    assert_eq!(qty(&block["epochNumber"]), tip);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        now.abs_diff(qty(&block["timestamp"])) < 60,
        "timestamp is unix seconds"
    );
    assert!(block["miner"]
        .as_str()
        .unwrap()
        .starts_with("CFX:TYPE.USER:"));
    for key in [
        "parentHash",
        "deferredStateRoot",
        "deferredReceiptsRoot",
        "transactionsRoot",
        "posReference",
    ] {
        assert!(is_h256(&block[key]), "{key}");
    }
    assert_eq!(block["transactions"], json!([]));
    assert_eq!(block["adaptive"], json!(false));

    assert_eq!(by_id(105), json!("NormalSyncPhase"));
    assert_eq!(by_id(106).as_array().unwrap().len(), 8);
    assert!(["deferred", "ready", "received", "unexecuted"]
        .iter()
        .all(|k| is_qty(&by_id(107)[k])));
    assert_eq!(by_id(108), json!(true));
    assert_eq!(by_id(109)[1], json!(&ID[2..]), "identity without 0x");
    sim.shutdown().await;
}

#[tokio::test]
async fn namespaces_depend_on_the_port() {
    let sim = start(false).await;
    let reference = sim.url("ref").unwrap();
    for m in [
        "test_getPeerInfo",
        "debug_currentSyncPhase",
        "test_posVotingStatus",
    ] {
        let r = call(&reference, m, json!([])).await;
        assert_eq!(
            r["error"],
            json!({"code": -32601, "message": "Method not found"}),
            "{m}"
        );
    }
    assert_eq!(
        code(&call(&reference, "cfx_noSuchMethod", json!([])).await),
        Some(-32601)
    );
    let r = call(&reference, "pos_getStatus", json!([])).await;
    assert_eq!(
        r["error"],
        json!({"code": -32078, "message": "PoS chain is not enabled"})
    );
    assert!(is_qty(
        &result(&reference, "cfx_epochNumber", json!([])).await
    ));
    sim.shutdown().await;
}

#[tokio::test]
async fn epoch_params_are_validated_like_the_node() {
    let sim = start(false).await;
    let url = sim.url("local").unwrap();
    let tip = sim.pow_epoch();
    let above = format!("{:#x}", tip + 1);
    assert_eq!(
        code(&call(&url, "cfx_getBlockByEpochNumber", json!([above, false])).await),
        Some(-32602)
    );
    assert_eq!(
        code(&call(&url, "cfx_epochNumber", json!([above])).await),
        Some(-32602)
    );
    assert_eq!(
        code(&call(&url, "cfx_epochNumber", json!(["12"])).await),
        Some(-32602)
    );
    assert_eq!(
        code(&call(&url, "cfx_epochNumber", json!(["latest"])).await),
        Some(-32602)
    );
    let at_tip = format!("{tip:#x}");
    assert_eq!(
        result(&url, "cfx_epochNumber", json!([at_tip])).await,
        json!(at_tip)
    );
    for (tag, want) in [
        ("latest_confirmed", tip - 50),
        ("latest_finalized", tip - 300),
        ("earliest", 0),
    ] {
        assert_eq!(
            qty(&result(&url, "cfx_epochNumber", json!([tag])).await),
            want,
            "{tag}"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn transport_rules_and_envelope_errors() {
    let sim = start(false).await;
    let url = sim.url("local").unwrap();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "cfx_epochNumber"}).to_string();
    let raw = post_raw(&url, "text/plain", body.clone()).await.unwrap();
    assert_eq!(raw.status, 415);
    let ok = post_raw(&url, "application/json; charset=utf-8", body)
        .await
        .unwrap();
    assert_eq!(ok.status, 200);
    let get = client().get(&url).send().await.unwrap();
    assert_eq!(get.status().as_u16(), 405);
    let bad = post_raw(&url, "application/json", "{not json".into())
        .await
        .unwrap()
        .json();
    assert_eq!(
        bad,
        json!({"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null})
    );
    let empty = rpc(&url, json!([])).await;
    assert_eq!(code(&empty), Some(-32600));
    let mixed = rpc(&url, json!([{"id": 1, "method": "cfx_epochNumber"}, 7])).await;
    let codes: Vec<Option<i64>> = mixed.as_array().unwrap().iter().map(code).collect();
    assert!(codes.contains(&None) && codes.contains(&Some(-32600)));
    let stats = sim.stats("local").unwrap();
    assert_eq!(stats.http_requests, 6);
    assert_eq!(stats.rejected_requests, 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn request_log_counts_http_requests_calls_and_dangerous_methods() {
    let sim = start(false).await;
    let url = sim.url("local").unwrap();
    let batch: Vec<Value> = [
        "cfx_getStatus",
        "cfx_getStatus",
        "txpool_status",
        "test_posVotingStatus",
    ]
    .iter()
    .enumerate()
    .map(|(i, m)| json!({"jsonrpc": "2.0", "id": i, "method": m, "params": []}))
    .collect();
    rpc(&url, Value::Array(batch)).await;
    result(&url, "cfx_epochNumber", json!([])).await;
    let s = sim.stats("local").unwrap();
    assert_eq!(
        (
            s.http_requests,
            s.batch_requests,
            s.rpc_calls,
            s.largest_batch
        ),
        (2, 1, 5, 4)
    );
    assert_eq!(s.calls("cfx_getStatus"), 2);
    assert_eq!(s.dangerous_total(), 0);

    // A real node answers these; the log still flags them so exporter tests can assert they never happen.
    assert_eq!(
        result(&url, "test_posStopVoting", json!([])).await,
        Value::Null
    );
    assert_eq!(
        result(&url, "test_posVotingStatus", json!([])).await,
        json!(false)
    );
    assert_eq!(
        result(&url, "test_posStopElection", json!([])).await,
        Value::Null
    );
    let s = sim.stats("local").unwrap();
    assert_eq!(s.dangerous_methods.get("test_posStopVoting"), Some(&1));
    assert_eq!(s.dangerous_total(), 2);
    assert_eq!(
        sim.stats("ref").unwrap().http_requests,
        0,
        "logs are per endpoint"
    );
    sim.reset_stats();
    assert_eq!(sim.stats("local").unwrap().http_requests, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn pos_calls_are_routed_to_the_backend_at_each_endpoints_height() {
    let sim = start(true).await;
    assert_eq!(sim.advance_pos(12).unwrap(), 12);
    sim.patch_endpoint("ref", conflux_sim::EndpointPatch::default().pos_lag(4))
        .await
        .unwrap();
    let local = result(&sim.url("local").unwrap(), "pos_getStatus", json!([])).await;
    let reference = result(&sim.url("ref").unwrap(), "pos_getStatus", json!([])).await;
    assert_eq!(local["latestCommitted"], json!("0xc"));
    assert_eq!(reference["latestCommitted"], json!("0x8"));
    assert_eq!(sim.state()["pos"]["voters"], json!({ID: 1}));
    sim.shutdown().await;
}
