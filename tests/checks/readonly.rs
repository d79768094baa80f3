//! The read-only guarantee at the wire: a state-changing method is refused by the client before any byte reaches
//! the node, proven against the simulator's request log.

use conflux_test_support as support;

use support::world::*;

use std::sync::Arc;
use std::time::Duration;

use conflux_pos_exporter::rpc::{Call, Client, ClientSettings, NoopObserver, RpcError};
use conflux_sim::{EndpointSpec, SimConfig, SimHandle};
use serde_json::json;

/// A simulated node and a bare client to it with the given answer size cap.
async fn node_and_client(max_response_bytes: usize) -> (SimHandle, Client) {
    let sim = sim(SimConfig {
        endpoints: vec![EndpointSpec::node("node", None)],
        ..Default::default()
    })
    .await;
    let settings = ClientSettings {
        timeout: Duration::from_secs(2),
        max_response_bytes,
    };
    let client = Client::new(
        reqwest::Client::new(),
        "node",
        sim.url("node").unwrap(),
        settings,
        Arc::new(NoopObserver),
    );
    (sim, client)
}

#[tokio::test]
async fn state_changing_methods_never_leave_the_exporter() {
    let (sim, client) = node_and_client(1 << 20).await;
    for method in [
        "test_posStopVoting",
        "test_posStartVoting",
        "test_posStopElection",
        "test_stop",
    ] {
        // Alone, and hidden in a batch of allowed calls: either way nothing is sent.
        let alone = client.batch(&[Call::new(method, json!([]))]).await;
        assert_eq!(alone.unwrap_err(), RpcError::Forbidden(method.to_string()));
        let mixed = client
            .batch(&[
                Call::new("cfx_getStatus", json!([])),
                Call::new(method, json!([true])),
            ])
            .await;
        assert_eq!(mixed.unwrap_err().kind(), "forbidden");
    }
    let stats = sim.stats("node").unwrap();
    assert_eq!(stats.http_requests, 0, "{stats:?}");
    assert!(stats.dangerous_methods.is_empty());
    // And an allowed call does go through, so the zero above is meaningful.
    let status: serde_json::Value = client
        .call(Call::new("cfx_getStatus", json!([])))
        .await
        .unwrap();
    assert!(status["epochNumber"].as_str().unwrap().starts_with("0x"));
    assert_eq!(sim.stats("node").unwrap().http_requests, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn oversized_answers_are_refused() {
    let (sim, client) = node_and_client(64).await;
    let r = client.batch(&[Call::new("cfx_getStatus", json!([]))]).await;
    assert_eq!(r.unwrap_err(), RpcError::TooLarge(64));
    sim.shutdown().await;
}

/// The preflight path end to end: the exporter reads the consensus DB (`pos_getConsensusBlocks`, allowed and
/// read-only) and the `preflight` command asks only the exporter; neither sends a state-changing method to a node,
/// whatever the verdict, and the command sends nothing to any node.
#[tokio::test]
async fn the_preflight_sends_no_state_changing_method() {
    use support::guard::{config_for, pair_sim, KEY};
    let sim = pair_sim(&[KEY.to_string()]).await;
    sim.advance_pos(3).unwrap();
    let app = support::exporter::exporter(config_for(&[
        ("a", sim.url("a").unwrap(), String::new()),
        ("b", sim.url("b").unwrap(), String::new()),
    ]))
    .await;
    let addr = app.local_addr();
    support::scrape::wait_for(addr, support::scrape::DEADLINE, "b's preflight", |s| {
        s.get(
            "conflux_pos_start_voting_preflight",
            &[("node", "b"), ("verdict", "unsafe")],
        ) == Some(1.0)
    })
    .await;
    app.shutdown().await;
    let before = sim.stats("b").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_conflux-pos-exporter"))
        .args(["preflight", "--node=b", "--exporter"])
        .arg(sim.url("b").unwrap())
        .output()
        .unwrap();
    // Pointed at a node instead of an exporter: a GET the node refuses, an error exit, no JSON-RPC call.
    assert_eq!(out.status.code(), Some(13));
    for node in ["a", "b"] {
        let stats = sim.stats(node).unwrap();
        assert!(stats.dangerous_methods.is_empty(), "{node}: {stats:?}");
        assert!(
            stats.calls_per_method.get("pos_getConsensusBlocks") > Some(&0),
            "{node}: {stats:?}"
        );
    }
    let after = sim.stats("b").unwrap();
    assert_eq!(
        after.rpc_calls, before.rpc_calls,
        "the command made a JSON-RPC call"
    );
    assert!(after.http_requests <= before.http_requests + 1, "{after:?}");
    sim.shutdown().await;
}

/// `upgrade-check` prints the state-changing commands for the operator and asks the node only allow-listed
/// methods, whatever the exporter's verdicts say (here: an electing member, told to run `stop_election`).
#[tokio::test]
async fn upgrade_check_asks_the_node_read_only_methods_only() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (sim, _) = node_and_client(1 << 20).await;
    let body = "conflux_up{node=\"local\"} 1\nconflux_pos_serving_any_term{node=\"local\",pos_address=\"0xab\"} 1\nconflux_pos_elections_sending{node=\"local\",pos_address=\"0xab\"} 1\n";
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf).await;
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).await.unwrap();
        s.write_all(body.as_bytes()).await.unwrap();
    });
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_conflux-pos-exporter"))
        .arg("upgrade-check")
        .arg(format!("--exporter.url=http://{addr}/metrics"))
        .arg(format!("--node.rpc-url={}", sim.url("node").unwrap()))
        .output()
        .await
        .unwrap();
    server.await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("stop_election"), "{text}");
    let stats = sim.stats("node").unwrap();
    assert!(stats.http_requests >= 1, "the node was asked: {stats:?}");
    assert!(stats.dangerous_methods.is_empty(), "{stats:?}");
    sim.shutdown().await;
}
