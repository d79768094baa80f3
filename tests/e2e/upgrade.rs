//! `upgrade-check` end to end on the simulator: an electing committee member is told to stop elections; once its
//! elections stop it is told to wait until the block the exporter estimates; once in no term it is safe to stop
//! (exit 0); after the restart (elections resumed, as a restart clears the node's stop flag) it is voting again.
//! Blocks are produced by the test, and every wait is on what the exporter publishes. The node is only ever asked
//! read-only methods (the simulator's request log).

use conflux_test_support as support;

use support::pos::*;
use support::scrape::wait_for;

use std::process::Output;

use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_conflux-pos-exporter");

/// Runs `upgrade-check` against the exporter at `app` and the simulated node; (exit code, stdout).
async fn check(app: std::net::SocketAddr, node_url: &str, restarted: bool) -> (i32, String) {
    let mut args = vec![
        "upgrade-check".to_string(),
        format!("--exporter.url=http://{app}/metrics"),
        format!("--node.rpc-url={node_url}"),
    ];
    if restarted {
        args.push("--restarted".into());
    }
    let out: Output = tokio::process::Command::new(BIN)
        .args(&args)
        .output()
        .await
        .expect("upgrade-check runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    eprintln!("{text}");
    (out.status.code().expect("exit code"), text)
}

/// Advances the chain one block at a time until the exporter's scrape satisfies `cond`, at most `max` blocks.
async fn advance_until(
    sim: &conflux_sim::SimHandle,
    app: std::net::SocketAddr,
    max: u64,
    what: &str,
    cond: impl Fn(&support::exposition::Scrape) -> bool,
) {
    for _ in 0..max {
        sim.advance_pos(1).unwrap();
        let h = sim.pos_height() as f64;
        let s = wait_for(app, T, "caught up", |s| {
            g(s, "conflux_pos_last_read_block") == Some(h)
        })
        .await;
        if cond(&s) {
            return;
        }
    }
    panic!("{what} not reached within {max} blocks");
}

#[tokio::test]
async fn upgrade_check_walks_from_stop_elections_to_voting_again() {
    let sim = pos_sim(true, true, None).await;
    let app = watch(&sim, POLL_MS).await;
    let a = app.local_addr();
    let url = sim.url("node").unwrap();
    advance_until(&sim, a, 6 * L, "electing", |s| {
        g(s, "conflux_pos_elections_sending") == Some(1.0)
            && g(s, "conflux_pos_stop_after_block").is_some()
    })
    .await;
    let (code, out) = check(a, &url, false).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("stop elections: do this now — ./conflux rpc local pos stop_election"),
        "{out}"
    );
    assert!(out.contains("NOT safe to stop yet"), "{out}");

    sim.pos_control(&json!({"cmd": "stop_election", "address": US}))
        .unwrap();
    advance_until(&sim, a, 4 * L, "elections stopped", |s| {
        g(s, "conflux_pos_elections_sending") == Some(0.0)
    })
    .await;
    let (code, out) = check(a, &url, false).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("stop elections: done"), "{out}");
    assert!(
        out.contains("wait until in no committee: wait — until PoS block"),
        "{out}"
    );

    advance_until(&sim, a, 12 * L, "in no term", |s| {
        g(s, "conflux_pos_serving_any_term") == Some(0.0)
    })
    .await;
    let (code, out) = check(a, &url, false).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("stop, upgrade, restart: do this now"), "{out}");
    assert!(out.contains("=> safe to stop"), "{out}");

    // The restart clears the node's stop flag: it applies again at the next election window.
    sim.pos_control(&json!({"cmd": "stop_election", "address": US, "stopped": false}))
        .unwrap();
    advance_until(&sim, a, 4 * L, "electing again", |s| {
        g(s, "conflux_pos_elections_sending") == Some(1.0)
    })
    .await;
    let (code, out) = check(a, &url, true).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("vote again / hand over: done"), "{out}");

    let stats = sim.stats("node").unwrap();
    assert!(stats.dangerous_methods.is_empty(), "{stats:?}");
    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn upgrade_check_cannot_tell_without_the_exporter() {
    let (code, out) = check("127.0.0.1:9".parse().unwrap(), "http://127.0.0.1:9", false).await;
    assert_eq!(code, 2, "{out}");
}
