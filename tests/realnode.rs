//! The opt-in real-node suite: the exporter binary with default settings against a real
//! conflux-rust devnet of 4 validators on loopback, judged against the chain and the node's own answers.
//! Every scenario is `#[ignore]`d, so the ordinary suite (CI has no devnet) reports it as skipped, not passed;
//! `scripts/test-realnode` runs them. Run that way without `shared/realnode` beside the repository, each test
//! prints one "skipped: …" line.

// Its own modules (declared by path, which rustfmt needs here); the shared helpers come from conflux-test-support.
#[path = "realnode/checks.rs"]
mod checks;
#[path = "realnode/committee.rs"]
mod committee;
#[path = "realnode/devnet.rs"]
mod devnet;
#[path = "realnode/exporter.rs"]
mod exporter;
#[path = "realnode/failover.rs"]
mod failover;
#[path = "realnode/failover_checks.rs"]
mod failover_checks;
#[path = "realnode/forks.rs"]
mod forks;
#[path = "realnode/preflight.rs"]
mod preflight;
#[path = "realnode/recorder.rs"]
mod recorder;
#[path = "realnode/retire.rs"]
mod retire;
#[path = "realnode/rpc.rs"]
mod rpc;
#[path = "realnode/stale_view.rs"]
mod stale_view;
#[path = "realnode/upgrade.rs"]
mod upgrade;
#[path = "realnode/view_checks.rs"]
mod view_checks;

use std::time::Duration;

use conflux_test_support::{exposition, ports};

use checks::{requests_per_poll, up_zero, value, votes_against_chain};
use devnet::Devnet;
use exporter::{Exporter, Watched};
use exposition::Scrape;
use recorder::Recorder;
use stale_view::Fault;

/// The exporter's default node poll interval, for requests per poll.
const POLL_S: f64 = 5.0;
/// The look-back rule for a chain whose CIP-99 transition view is 0 (the 3-epoch rule from the start).
const RULE_3_EPOCHS: &str = "[pos]\ncip99_transition_view = 0\n";

fn skipped(test: &str) -> bool {
    match devnet::skip_reason() {
        Some(why) => {
            println!("skipped: {test}: {why}");
            true
        }
        None => false,
    }
}

fn watched(net: &Devnet, i: u16) -> Watched {
    Watched {
        name: format!("node{i}"),
        rpc_url: net.rpc_url(i),
        work_dir: net.node_dir(i),
    }
}

/// Prints the measurements and the failures, then fails the test if there were any.
fn report(test: &str, lines: &[String], failures: &[String]) {
    println!("==== REPORT {test}");
    for l in lines {
        println!("  {l}");
    }
    for f in failures {
        println!("  FAIL {f}");
    }
    assert!(
        failures.is_empty(),
        "{test}: {} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Liveness and request counts over the whole recording, for every report.
fn liveness(
    rec: &Recorder,
    exp: &Exporter,
    node: &str,
    out: &mut Vec<String>,
    fail: &mut Vec<String>,
) {
    let (samples, probes) = (rec.samples(), rec.probes());
    let (zeros, false_down, before_first) = up_zero(&samples, &probes, node);
    let slow = probes
        .iter()
        .filter(|p| p.node == node)
        .map(|p| p.latency)
        .fold(0.0, f64::max);
    let zero_at: Vec<String> = zeros.iter().map(|t| format!("{t:.1}s")).collect();
    out.push(format!(
        "{node}: {} scrapes over {:.0}s, conflux_up 0 in {} {zero_at:?}; own cfx_getStatus probes {} (failed {}, slowest {slow:.2}s)",
        samples.len(),
        rec.now(),
        zeros.len(),
        probes.iter().filter(|p| p.node == node).count(),
        probes.iter().filter(|p| p.node == node && !p.ok).count(),
    ));
    if !before_first.is_empty() {
        out.push(format!(
            "{node}: conflux_up 0 before the exporter's first answered request at {before_first:.1?}s (not counted above)"
        ));
    }
    if let Some((per_poll, requests, polls)) = requests_per_poll(&samples, node, POLL_S) {
        out.push(format!(
            "{node}: {requests} requests in {polls:.1} polls of {POLL_S}s = {per_poll:.2} per poll"
        ));
    }
    for l in exp.log_lines(&format!("node={node} url"), 5) {
        out.push(format!("log: {l}"));
    }
    fail.extend(false_down);
}

#[ignore = "needs the real devnet: scripts/test-realnode"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_validator_stays_up_and_its_votes_match_the_chain() {
    let test = "healthy_validator_stays_up_and_its_votes_match_the_chain";
    if skipped(test) {
        return;
    }
    let net = Devnet::up(None);
    let rpc = net.rpc(0);
    let address = rpc.pos_address().await;
    let exp = Exporter::start(&[watched(&net, 0)], "");
    let rec = Recorder::start(exp.port, vec![("node0".into(), rpc.clone())], exp.started);
    let (mut out, mut fail) = (Vec::new(), Vec::new());

    match rec
        .try_wait_for("signed votes > 0", Duration::from_secs(180), |s| {
            value(s, "conflux_pos_votes_signed_total", "node0").is_some_and(|v| v > 0.0)
        })
        .await
    {
        Ok((t, _)) => out.push(format!(
            "first signed vote counted {t:.1}s after exporter start"
        )),
        Err(last) => fail.push(format!("no signed vote within 180s; last scrape:\n{last}")),
    }
    // Minutes of watching, then the counters against the chain once the history is read.
    let _ = rec
        .try_wait_for("150 s of watching", Duration::from_secs(200), |_| {
            rec.now() >= 150.0
        })
        .await;
    // The lead's `conflux_pos_history_caught_up` when the exporter has it; before it, any up scrape with a ledger.
    let caught = rec
        .try_wait_for(
            "history caught up",
            Duration::from_secs(60),
            |s| match value(s, "conflux_pos_history_caught_up", "node0") {
                Some(v) => v == 1.0,
                None => value(s, "conflux_pos_last_signed_block", "node0").is_some(),
            },
        )
        .await;
    let sc = match caught {
        Ok((_, sc)) => sc,
        Err(last) => {
            fail.push("history never caught up".into());
            Scrape::parse(last)
        }
    };
    if value(&sc, "conflux_pos_history_caught_up", "node0").is_none() {
        fail.push("conflux_pos_history_caught_up absent".into());
    }
    let hi = value(&sc, "conflux_pos_last_read_block", "node0")
        .or_else(|| value(&sc, "conflux_pos_last_signed_block", "node0"));
    match hi {
        Some(hi) => match votes_against_chain(&rpc, &sc, "node0", &address, hi as u64).await {
            Ok(t) => out.push(format!("votes match the chain: {t}")),
            Err(t) => fail.push(format!("votes differ from the chain: {t}")),
        },
        None => fail.push("neither conflux_pos_last_read_block nor last_signed_block".into()),
    }
    liveness(&rec, &exp, "node0", &mut out, &mut fail);
    report(test, &out, &fail);
}

#[ignore = "needs the real devnet: scripts/test-realnode"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_validator_is_at_risk_before_retirement_one_epoch_rule() {
    let test = "stopped_validator_is_at_risk_before_retirement_one_epoch_rule";
    if !skipped(test) {
        retire::retirement(test, None).await;
    }
}

#[ignore = "needs the real devnet: scripts/test-realnode"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_validator_is_at_risk_before_retirement_three_epoch_rule() {
    let test = "stopped_validator_is_at_risk_before_retirement_three_epoch_rule";
    if !skipped(test) {
        retire::retirement(test, Some(0)).await;
    }
}

#[ignore = "needs the real devnet: scripts/test-realnode"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_handover_then_equivocation() {
    let test = "failover_handover_then_equivocation";
    if !skipped(test) {
        failover::run(test).await;
    }
}

#[ignore = "needs the real devnet: scripts/test-realnode"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_node_verdicts_from_the_reference_one_epoch_rule() {
    let test = "stalled_node_verdicts_from_the_reference_one_epoch_rule";
    if !skipped(test) {
        stale_view::run(test, Fault::Stall, None).await;
    }
}

#[ignore = "needs the real devnet: scripts/test-realnode"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_node_verdicts_from_the_reference_three_epoch_rule() {
    let test = "stalled_node_verdicts_from_the_reference_three_epoch_rule";
    if !skipped(test) {
        stale_view::run(test, Fault::Stall, Some(0)).await;
    }
}

#[ignore = "needs the real devnet: scripts/test-realnode"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_node_downtime_budget_counts_down_one_epoch_rule() {
    let test = "stopped_node_downtime_budget_counts_down_one_epoch_rule";
    if !skipped(test) {
        stale_view::run(test, Fault::Stop, None).await;
    }
}

#[ignore = "needs the real devnet: scripts/test-realnode"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_node_downtime_budget_counts_down_three_epoch_rule() {
    let test = "stopped_node_downtime_budget_counts_down_three_epoch_rule";
    if !skipped(test) {
        stale_view::run(test, Fault::Stop, Some(0)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the real devnet: scripts/test-realnode"]
async fn upgrade_walk_stop_estimate_matches_stop_election() {
    let test = "upgrade_walk_stop_estimate_matches_stop_election";
    if !skipped(test) {
        upgrade::walk(test).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the real devnet: scripts/test-realnode"]
async fn upgrade_standby_unable_shows_the_reason() {
    let test = "upgrade_standby_unable_shows_the_reason";
    if !skipped(test) {
        upgrade::standby_unable(test).await;
    }
}

#[ignore = "needs the real devnet: scripts/test-realnode"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devnet_version_parses_and_hard_fork_series_appear() {
    let test = "devnet_version_parses_and_hard_fork_series_appear";
    if !skipped(test) {
        forks::run(test).await;
    }
}

#[ignore = "needs the real devnet: scripts/test-realnode"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_stopped_validator_is_a_solo_miss_only_on_its_own_exporter() {
    let test = "one_stopped_validator_is_a_solo_miss_only_on_its_own_exporter";
    if skipped(test) {
        return;
    }
    committee::just_me(test).await;
}

#[ignore = "needs the real devnet: scripts/test-realnode"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_before_start_voting_on_a_standby() {
    let test = "preflight_before_start_voting_on_a_standby";
    if !skipped(test) {
        preflight::run(test).await;
    }
}
