//! `conflux-pos-exporter upgrade-check`: walks the seed's upgrade steps against the running exporter's verdicts
//! and a live read of the node, and says for each: done, wait until (block, ETA), or do this now (the exact
//! command). Read-only like the exporter: the node is asked only allow-listed methods through the same client,
//! and the state-changing commands are printed for the operator, never sent.

pub mod facts;
pub mod steps;

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use serde_json::json;

use crate::rpc::{decode, Call, Client, ClientSettings, NoopObserver};
use facts::{Exposition, LiveNode};
use steps::walk;

/// Flags of `upgrade-check`.
#[derive(Debug, Parser)]
#[command(
    name = "conflux-pos-exporter upgrade-check",
    about = "Walk the upgrade steps (stop elections, wait until in no committee, stop/upgrade/restart, watch sync, vote again) against the running exporter and the node; exit 0 when safe to stop (or, with --restarted, voting again), 1 while not, 2 when it cannot tell"
)]
pub struct UpgradeCli {
    /// The running exporter's metrics URL.
    #[arg(
        long = "exporter.url",
        default_value = "http://127.0.0.1:12541/metrics"
    )]
    pub exporter_url: String,
    /// The node's local RPC URL (asked read-only methods only).
    #[arg(long = "node.rpc-url", default_value = "http://127.0.0.1:12539")]
    pub node_rpc_url: String,
    /// The node's name in the exporter (the `node` label); default: the exporter's only node.
    #[arg(long = "node.name")]
    pub node_name: Option<String>,
    /// The node was stopped, upgraded and started again: check the steps after the restart.
    #[arg(long)]
    pub restarted: bool,
    /// Deadline of each request.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

/// Runs the check with `args` (the words after `upgrade-check`), printing the walk; returns the exit code.
pub async fn run(cli: UpgradeCli) -> u8 {
    let http = match reqwest::Client::builder().timeout(cli.timeout).build() {
        Ok(h) => h,
        Err(e) => {
            eprintln!("upgrade-check: cannot build an HTTP client: {e}");
            return 2;
        }
    };
    let exposition = match fetch_metrics(&http, &cli.exporter_url).await {
        Ok(t) => Exposition::parse(&t),
        Err(e) => {
            eprintln!(
                "upgrade-check: cannot read the exporter at {}: {e}",
                crate::rpc::redact_url(&cli.exporter_url)
            );
            return 2;
        }
    };
    let node = match cli.node_name.clone().or_else(|| only(exposition.nodes())) {
        Some(n) => n,
        None => {
            eprintln!(
                "upgrade-check: the exporter watches {:?}; name one with --node.name",
                exposition.nodes()
            );
            return 2;
        }
    };
    let live = probe(http, &cli.node_rpc_url, cli.timeout).await;
    let w = walk(&exposition, &node, live, cli.restarted);
    println!(
        "upgrade-check for node {node} (exporter {}, node {}: {})",
        crate::rpc::redact_url(&cli.exporter_url),
        crate::rpc::redact_url(&cli.node_rpc_url),
        if live.up {
            "answers"
        } else {
            "does not answer"
        }
    );
    for (i, (title, answer)) in w.steps.iter().enumerate() {
        println!("{}. {title}: {} — {}", i + 1, answer.tag(), answer.text());
    }
    let verdict = match (w.code, cli.restarted) {
        (0, false) => "safe to stop",
        (0, true) => "voting again",
        (1, false) => "NOT safe to stop yet",
        (1, true) => "not voting again yet",
        _ => "cannot tell",
    };
    println!("=> {verdict} (exit {})", w.code);
    w.code
}

fn only(mut v: Vec<String>) -> Option<String> {
    (v.len() == 1).then(|| v.remove(0))
}

async fn fetch_metrics(http: &reqwest::Client, url: &str) -> Result<String, String> {
    let r = http
        .get(url)
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if !r.status().is_success() {
        return Err(format!("HTTP {}", r.status()));
    }
    r.text().await.map_err(|e| e.without_url().to_string())
}

/// The node's own answers now: up (`cfx_getStatus`) and its voting switch, through the allow-listed client.
async fn probe(http: reqwest::Client, url: &str, timeout: Duration) -> LiveNode {
    let settings = ClientSettings {
        timeout,
        max_response_bytes: 1 << 20,
    };
    let client = Client::new(http, "node", url, settings, Arc::new(NoopObserver));
    let calls = [
        Call::new("cfx_getStatus", json!([])),
        Call::new("test_posVotingStatus", json!([])),
    ];
    let Ok(answers) = client.batch(&calls).await else {
        return LiveNode::default();
    };
    let ok = |i: usize| answers.get(i).and_then(|a| a.as_ref().ok());
    LiveNode {
        up: ok(0).is_some(),
        voting: ok(1).and_then(|raw| decode::<bool>(raw.as_ref()).ok()),
    }
}
