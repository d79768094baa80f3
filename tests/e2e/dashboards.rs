//! Every panel of both shipped dashboards shows data: a simulated world rich enough for all of them is watched by
//! the exporter, a real Prometheus scrapes it with the shipped rule file loaded unmodified (so the recorded
//! series the panels use exist), and every panel query, with the dashboard variables set to "all"
//! (`default_vars`), is run as an instant query against Prometheus' HTTP API. Each must return at
//! least one series.
//!
//! The world, driven block by block (manual PoS, epochs of 10 blocks):
//! - `primary` (key A): our healthy validator, in the committee, voting, proposing, rewarded at each epoch end,
//!   with more stake waiting in the in-queue (an `UpdateVotingPower` of its own);
//! - `retiree` (key B): stops voting at once and is force-retired three epochs later (force-retired block,
//!   out-queue unlock); its port does not serve `debug_*` (the "methods not served" panel);
//! - `atrisk` (key C): stops voting one epoch after B, so it is at risk (retire ETA) when the chain is frozen;
//! - references `ref` (healthy) and `flaky` (answers HTTP 503: the RPC-error panel);
//! - each node has a fake host (run dir with data dir, 0600 `pos_key`, safety-rules store, pid file of a child
//!   process) on a tmpfs that keeps filling, so the process, disk (incl. time until full) and key-file panels
//!   have data.

use conflux_test_support as support;

use support::exporter::*;
use support::exposition::*;
use support::grafana::*;
use support::hostfiles::*;
use support::prometheus::*;
use support::repo::*;
use support::scrape::*;
use support::shipped;
use support::world::*;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use conflux_pos_exporter::app::App;
use conflux_pos_exporter::config::{self, Cli};
use conflux_sim::pos::{PosChain, PosParams};
use conflux_sim::{EndpointPatch, EndpointSpec, SimConfig, SimHandle};
use serde_json::json;

const A: &str = "0xa1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
const B: &str = "0xb2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";
const C: &str = "0xc3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3";
const NODES: [(&str, &str); 3] = [("primary", A), ("retiree", B), ("atrisk", C)];
const L: u64 = 10;
/// Prometheus scrape and rule-evaluation interval, which is also the scrape timeout (Prometheus allows no
/// longer). One second, not less: a scrape that times out on a loaded machine marks every series stale at once,
/// and the final check would find panels without data (seen with 250 ms: `conflux_up` absent).
const INTERVAL: Duration = Duration::from_secs(1);
/// Bounds a hang only; on a loaded machine the world takes longer to build than on an idle one.
const T: Duration = DEADLINE;

async fn world() -> SimHandle {
    let ids: Vec<String> = NODES.iter().map(|(_, id)| id.to_string()).collect();
    let sim = sim(SimConfig {
        pos: Some(Box::new(PosChain::new(PosParams::for_identities(
            &ids, 3, L,
        )))),
        pos_block_interval: None,
        pow_epoch_interval: Some(Duration::from_millis(200)),
        endpoints: NODES
            .iter()
            .map(|(name, id)| EndpointSpec::node(name, Some(id)))
            .chain([
                EndpointSpec::reference("ref"),
                EndpointSpec::reference("flaky"),
            ])
            .collect(),
        ..Default::default()
    })
    .await;
    sim.patch_endpoint("flaky", EndpointPatch::default().http_status(Some(503)))
        .await
        .unwrap();
    sim.patch_endpoint(
        "retiree",
        EndpointPatch::default().disable_namespace("debug"),
    )
    .await
    .unwrap();
    // More stake for our key: an UpdateVotingPower of its own, waiting in the in-queue.
    sim.pos_control(&json!({"cmd": "register", "address": A, "power": 5}))
        .unwrap();
    sim
}

/// The exporter watching the three nodes (each with its fake host) and both references, polling every 100 ms.
async fn watch(sim: &SimHandle, hosts: &[FakeHost]) -> App {
    // A generous RPC timeout: a poll that timed out under load would drop a node's series just when the
    // panels are checked.
    let mut text = format!(
        "[web]\nlisten_address = \"127.0.0.1:0\"\n[poll]\nnode_interval = \"100ms\"\n\
         reference_interval = \"100ms\"\nrpc_timeout = \"{}ms\"\nauto_reference = false\n",
        RPC_TIMEOUT.as_millis()
    );
    for ((name, _), host) in NODES.iter().zip(hosts) {
        text.push_str(&format!(
            "[[node]]\nname = \"{name}\"\nrpc_url = \"{}\"\n{}",
            sim.url(name).unwrap(),
            host.node_keys()
        ));
    }
    for r in ["ref", "flaky"] {
        text.push_str(&format!(
            "[[reference]]\nname = \"{r}\"\nurl = \"{}\"\n",
            sim.url(r).unwrap()
        ));
    }
    let file = config::file::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    exporter(config::resolve(&Cli::default(), file).expect("valid config")).await
}

fn node_value(s: &Scrape, name: &str, node: &str) -> Option<f64> {
    s.get(name, &[("node", node)])
}

/// Commits blocks one by one until the retiree is force-retired and the at-risk node is at risk, switching the
/// voters off on the way; then leaves the chain frozen in that state.
async fn drive_to_final_state(sim: &SimHandle, exporter: SocketAddr) {
    sim.patch_endpoint("retiree", EndpointPatch::default().voting(false))
        .await
        .unwrap();
    for block in 1..=8 * L {
        let h = sim.advance_pos(1).unwrap() as f64;
        // Paced by the exporter: each block is seen before the next, so the counters move over many of
        // Prometheus' scrapes (the rate() and participation panels need that).
        wait_for(exporter, T, "every node sees the block", |s| {
            NODES.iter().all(|(node, _)| {
                node_value(s, "conflux_pos_latest_committed_block", node) == Some(h)
            })
        })
        .await;
        if block == L {
            sim.patch_endpoint("atrisk", EndpointPatch::default().voting(false))
                .await
                .unwrap();
        }
        let s = scrape(exporter).await;
        let done = node_value(&s, "conflux_pos_force_retired", "retiree") == Some(1.0)
            && node_value(&s, "conflux_pos_force_retire_at_risk", "atrisk") == Some(1.0);
        if done {
            // Let the exporter read the last block (it reads one poll behind the status).
            wait_for(exporter, T, "final state read", |s| {
                node_value(s, "conflux_pos_force_retire_eta_seconds", "atrisk").is_some()
                    && node_value(s, "conflux_pos_force_retired_block", "retiree").is_some()
            })
            .await;
            return;
        }
    }
    panic!(
        "after {} blocks the retiree is not retired or the other node not at risk:\n{}",
        8 * L,
        scrape(exporter).await.text
    );
}

fn all_panel_exprs() -> Vec<PanelExpr> {
    let vars = default_vars();
    let exprs: Vec<PanelExpr> = DASHBOARDS
        .iter()
        .flat_map(|d| dashboard_exprs(d, &vars))
        .collect();
    assert!(
        exprs.len() > 50,
        "both dashboards' queries: {}",
        exprs.len()
    );
    exprs
}

fn describe(e: &PanelExpr) -> String {
    format!("{} / {} [{}]: {}", e.dashboard, e.panel, e.ref_id, e.expr)
}

#[tokio::test]
async fn every_dashboard_panel_returns_data() {
    let sim = world().await;
    let hosts: Vec<FakeHost> = NODES.iter().map(|(_, id)| FakeHost::create(id)).collect();
    let _filling = hosts[0].start_filling();
    let app = watch(&sim, &hosts).await;
    let rules = repo(shipped::RULES);
    let prom = Prometheus::start(
        &shipped::prometheus_config(&[app.local_addr()], INTERVAL, &rules, None),
        &[],
    )
    .await;
    // Prometheus' first scrape comes a few seconds after start (target discovery is batched); the counters must
    // move while it watches, or every rate() and increase() panel would show a flat 0.
    prom.wait_query("up == 1", T, |_| true).await;
    drive_to_final_state(&sim, app.local_addr()).await;

    // Wait until every panel has had data (the rate() panels need two scrapes after their counters appeared,
    // the recorded series one evaluation), then check them all once more together in the frozen world.
    let exprs = all_panel_exprs();
    let mut missing: Vec<&PanelExpr> = exprs.iter().collect();
    let deadline = Instant::now() + T;
    while !missing.is_empty() {
        let mut still = Vec::new();
        for e in missing {
            if prom.query(&e.expr).await.is_empty() {
                still.push(e);
            }
        }
        missing = still;
        if Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        missing.is_empty(),
        "{} of {} panel queries never returned data:\n{}\nlast scrape:\n{}",
        missing.len(),
        exprs.len(),
        missing
            .iter()
            .map(|e| describe(e))
            .collect::<Vec<_>>()
            .join("\n"),
        scrape(app.local_addr()).await.text
    );
    let mut empty = Vec::new();
    for e in &exprs {
        if prom.query(&e.expr).await.is_empty() {
            empty.push(describe(e));
        }
    }
    assert!(
        empty.is_empty(),
        "panel queries without data in the final state:\n{}",
        empty.join("\n")
    );
    // The world is what the panels should show: one node at risk, one retired, our node signing every block.
    for (expr, expected) in [
        ("count(conflux_pos_force_retire_at_risk == 1)", 1.0),
        ("count(conflux_pos_force_retired == 1)", 1.0),
        (
            "instance_node:conflux_pos_vote_participation:ratio_1h{node=\"primary\"}",
            1.0,
        ),
    ] {
        // Rule results follow the scrapes by one evaluation.
        prom.wait_query(expr, T, |r| r.len() == 1 && sample_value(&r[0]) == expected)
            .await;
    }
    drop(prom);
    app.shutdown().await;
    sim.shutdown().await;
}
