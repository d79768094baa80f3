//! End to end, as an operator runs it: simulated chain -> exporter -> real Prometheus loaded with the shipped
//! `alerts/conflux-pos.rules.yml` -> real Alertmanager loaded with the shipped `examples/alertmanager.yml` ->
//! the webhook receivers (`/pager`, `/chat`, `/deadmansswitch`), recorded by a small HTTP server in the test.
//!
//! The shipped files are used as they are, except (see `shipped`): every `for:` is divided by 120
//! (2 minutes become 1 second), Alertmanager's `group_wait`/`group_interval`/`repeat_interval` are divided by 60
//! and its webhook URLs point at the test's receiver (same paths). Prometheus scrapes and evaluates every 250 ms
//! in the shipped job `conflux-pos-exporter`. The chain is shrunk the same way: epochs of 40 blocks instead of
//! 120, so the rules' block-count thresholds keep their meaning. Where the order of a page and the chain's verdict
//! matters, the test commits the PoS blocks itself (manual mode), so a loaded machine cannot reorder them.

use conflux_test_support as support;

use support::exporter::*;
use support::hostfiles::*;
use support::prometheus::*;
use support::scrape::*;
use support::stack::*;
use support::webhook::*;
use support::world::*;

use std::net::SocketAddr;
use std::time::Duration;

use conflux_pos_exporter::app::App;
use conflux_sim::pos::{PosChain, PosParams};
use conflux_sim::{EndpointPatch, EndpointSpec, SimConfig, SimHandle};
use serde_json::json;

const US: &str = "0x5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
/// PoS epoch length in blocks: a silent member is at risk after 2-3 epochs (80-120 blocks), long after the 20
/// missed blocks of ConfluxPosNotVoting, as on mainnet (20 blocks vs 240-360).
const L: u64 = 40;
/// PoS block interval where the chain runs on its own.
const BLOCK: Duration = Duration::from_millis(100);
/// Bound for each wait; every step normally takes a few seconds, more on a loaded machine.
const T: Duration = DEADLINE;

/// The world; `blocks` `None` = PoS blocks only when the test commits them.
async fn world(endpoints: Vec<EndpointSpec>, blocks: Option<Duration>) -> SimHandle {
    sim(SimConfig {
        pos: Some(Box::new(PosChain::new(PosParams::for_identities(
            &[US.to_string()],
            3,
            L,
        )))),
        pos_block_interval: blocks,
        pow_epoch_interval: Some(Duration::from_millis(500)),
        endpoints,
        ..Default::default()
    })
    .await
}

/// One exporter watching one node (named "local", as on its own host) against the reference. The node's host
/// is set up correctly (key file 0600, safety data present, process found through its pid file), so the key and
/// failover alerts stay quiet.
async fn exporter_for(sim: &SimHandle, node: &str, host: &FakeHost) -> App {
    exporter(exporter_config_every(
        &[("local", sim.url(node).unwrap())],
        &[("ref", sim.url("ref").unwrap())],
        &host.node_keys(),
        50,
    ))
    .await
}

/// Host alerts that depend on the machine running the test, not on the scenario: the temporary filesystem may
/// well have less than 100 GB available, and the stand-in node process inherits the test runner's open-file
/// limit. They are left out of the "healthy world is quiet" check; their routing is still checked.
const MACHINE_ALERTS: &[&str] = &["ConfluxDiskSpaceLow", "ConfluxOpenFileLimitLow"];

/// The shipped routing, checked on everything delivered: critical only pages, warning only goes to chat, info
/// reaches neither (the Watchdog goes to the dead man's switch, other info alerts to the "null" receiver).
async fn assert_routing(stack: &Stack) {
    assert!(
        stack.hook.errors().is_empty(),
        "malformed notifications: {:?}",
        stack.hook.errors()
    );
    for n in stack.hook.received() {
        let expected = match n.alertname() {
            "Watchdog" => "/deadmansswitch",
            _ => match n.severity() {
                "critical" => "/pager",
                "warning" => "/chat",
                other => panic!(
                    "{} (severity {other:?}) was delivered to {}; info alerts must never notify\n{}",
                    n.alertname(),
                    n.path,
                    stack.diagnostics().await
                ),
            },
        };
        assert_eq!(
            n.path,
            expected,
            "{} routed to the wrong receiver\n{}",
            n.alertname(),
            stack.diagnostics().await
        );
    }
    let info_notified: Vec<Notified> = stack
        .hook
        .received()
        .into_iter()
        .filter(|n| n.severity() == "info" && (n.path == "/pager" || n.path == "/chat"))
        .collect();
    assert!(info_notified.is_empty(), "{info_notified:?}");
}

/// The pipeline works before the scenario starts: the Watchdog (info, always firing) reaches the dead man's
/// switch, and nothing else has been delivered once the failover-state alert (the one with the shortest
/// `for:`, 0.5 s scaled) would have fired.
async fn assert_quiet_start(stack: &Stack) {
    let w = stack.wait_firing("Watchdog", T).await;
    stack
        .prom
        .wait_query(
            "conflux_pos_failover_state{state=~\"primary_voting|standby_idle\"} == 1",
            T,
            |_| true,
        )
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        (w.path.as_str(), w.receiver.as_str()),
        ("/deadmansswitch", "deadmansswitch")
    );
    let others: Vec<String> = stack
        .hook
        .received()
        .iter()
        .filter(|n| n.alertname() != "Watchdog" && !MACHINE_ALERTS.contains(&n.alertname()))
        .map(|n| format!("{} {}", n.alertname(), n.path))
        .collect();
    assert!(
        others.is_empty(),
        "a healthy world notified {others:?}\n{}",
        stack.diagnostics().await
    );
}

#[tokio::test]
async fn our_node_stops_voting_warns_in_chat_then_pages_before_retirement() {
    let sim = world(
        vec![
            EndpointSpec::node("node", Some(US)),
            EndpointSpec::reference("ref"),
        ],
        None,
    )
    .await;
    // A few blocks into the epoch, all signed: the member is healthy when the watch begins.
    sim.advance_pos(2).unwrap();
    let start = sim.pos_height();
    let host = FakeHost::create(US);
    let app = exporter_for(&sim, "node", &host).await;
    let stack = Stack::start(&[app.local_addr()]).await;
    stack
        .prom
        .wait_query(
            "last_over_time(conflux_pos_committee_member[5m]) == 1 \
             and on(instance, node) conflux_pos_epochs_without_vote == 0",
            T,
            |_| true,
        )
        .await;
    assert_quiet_start(&stack).await;

    sim.patch_endpoint("node", EndpointPatch::default().voting(false))
        .await
        .unwrap();

    // The test commits the blocks, each batch read by the exporter before the next, up to the points that
    // matter: 20 missed blocks (the warning), then epoch by epoch, one block into each new epoch to see whether the
    // forecast turned, until the forecast says the next block ends the epoch that retires us. The chain then
    // waits: the page must come from the forecast alone.
    let a = app.local_addr();
    let mut warn = None;
    let mut s = wait_pos_caught_up(a, "local", sim.pos_height()).await;
    let retiring_block = loop {
        let g = |n: &str| s.get(n, &[("node", "local")]);
        let missed = g("conflux_pos_consecutive_missed_blocks").unwrap_or(0.0) as u64;
        if warn.is_none() && missed >= 20 {
            // Blocks wait for the chat warning, so it precedes the page whatever the machine's speed.
            warn = Some(stack.wait_firing("ConfluxPosNotVoting", T).await);
        }
        let remaining = g("conflux_pos_epoch_remaining_blocks").expect("remaining blocks") as u64;
        let h = sim.pos_height();
        let n = if g("conflux_pos_force_retire_at_risk") == Some(1.0) {
            if remaining == 1 {
                break h + 1;
            }
            remaining - 1
        } else if warn.is_none() {
            20 - missed
        } else if remaining == L {
            1
        } else {
            remaining
        };
        assert!(h + n < start + 5 * L, "never at risk:\n{}", s.text);
        s = wait_pos_caught_up(a, "local", sim.advance_pos(n).unwrap()).await;
    };
    let warn = warn.expect("the warning came before the forecast");
    assert_eq!((warn.path.as_str(), warn.severity()), ("/chat", "warning"));
    // A fact about the key: one alert per key, whichever exporter reads it.
    assert_eq!(warn.labels["pos_address"], US);
    assert!(!warn.labels.contains_key("node") && !warn.labels.contains_key("instance"));

    let page = stack.wait_firing("ConfluxPosForceRetireImminent", T).await;
    assert_eq!(
        (page.path.as_str(), page.severity()),
        ("/pager", "critical")
    );
    assert_eq!(page.labels["pos_address"], US);
    assert!(
        warn.seq < page.seq && warn.at < page.at,
        "the chat warning comes first, then the page\n{}",
        stack.diagnostics().await
    );
    // The page came while the chain had not retired us; the very next block does, as forecast.
    let retired = |sim: &SimHandle| sim.retirements_of(US);
    assert!(retired(&sim).is_empty(), "paged after the retirement");
    sim.advance_pos(1).unwrap();
    let r = retired(&sim);
    assert_eq!(r.len(), 1, "the forecast block retires us: {r:?}");
    assert_eq!(r[0]["view"].as_u64(), Some(retiring_block));

    // After retirement the votes sit in the out-queue and unlock within 2 h: ConfluxPosUnlockSoon (info) fires.
    // Alertmanager gets it and routes it to "null"; no webhook ever sees it.
    let unlock = stack.am.wait_alert("ConfluxPosUnlockSoon", T).await;
    assert_eq!(unlock["labels"]["severity"], "info");
    assert_eq!(unlock["receivers"], json!([{"name": "null"}]), "{unlock}");
    stack.wait_firing("ConfluxPosForceRetired", T).await;
    // Longer than any group_wait (30 s / 60), so a misrouted info notification would have arrived.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !stack
            .hook
            .received()
            .iter()
            .any(|n| n.alertname() == "ConfluxPosUnlockSoon"),
        "{}",
        stack.diagnostics().await
    );
    assert_routing(&stack).await;
    drop(stack);
    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn two_switches_warn_two_signers_page_once_per_key_and_both_resolve() {
    let mut standby = EndpointSpec::node("standby", Some(US));
    standby.voting = false;
    let sim = world(
        vec![
            EndpointSpec::node("primary", Some(US)),
            standby,
            EndpointSpec::reference("ref"),
        ],
        Some(BLOCK),
    )
    .await;
    // One exporter per node, as on two hosts; both call their node "local".
    let hosts = [FakeHost::create(US), FakeHost::create(US)];
    let primary = exporter_for(&sim, "primary", &hosts[0]).await;
    let backup = exporter_for(&sim, "standby", &hosts[1]).await;
    let targets: Vec<SocketAddr> = vec![primary.local_addr(), backup.local_addr()];
    let stack = Stack::start(&targets).await;

    let voters = format!("pos_address:conflux_pos_active_voters:max{{pos_address=\"{US}\"}}");
    // Both exporters report the key and each its node's switch; one voter is a correct primary/standby pair.
    stack
        .prom
        .wait_query(
            &format!("count(conflux_pos_info{{pos_address=\"{US}\"}}) == 2"),
            T,
            |_| true,
        )
        .await;
    stack
        .prom
        .wait_query("count(conflux_pos_voting_enabled) == 2", T, |_| true)
        .await;
    stack
        .prom
        .wait_query(&voters, T, |r| sample_value(&r[0]) == 1.0)
        .await;
    assert_quiet_start(&stack).await;

    // The standby's switch goes on: two switches, a warning to chat (a switch is not a signature).
    sim.patch_endpoint("standby", EndpointPatch::default().voting(true))
        .await
        .unwrap();
    let warn = stack.wait_firing("ConfluxPosMultipleActiveVoters", T).await;
    assert_eq!((warn.path.as_str(), warn.severity()), ("/chat", "warning"));
    assert_eq!(warn.labels["pos_address"], US);
    let r = stack.prom.query(&voters).await;
    assert_eq!(sample_value(&r[0]), 2.0, "two exporters, two voters");

    // Both nodes now sign (their safety data advances): one page for the key, although two exporters see it.
    hosts[0].sign(US, 8);
    hosts[1].sign(US, 8);
    let page = stack.wait_firing("ConfluxPosDoubleSigning", T).await;
    assert_eq!(
        (page.path.as_str(), page.severity()),
        ("/pager", "critical")
    );
    assert_eq!(page.labels["pos_address"], US);
    let paged: std::collections::BTreeSet<_> = stack
        .hook
        .received()
        .into_iter()
        .filter(|n| n.alertname() == "ConfluxPosDoubleSigning" && n.status == "firing")
        .map(|n| n.labels)
        .collect();
    assert_eq!(paged.len(), 1, "one alert per key: {paged:?}");

    // The operator switches the standby off again: both resolve.
    sim.patch_endpoint("standby", EndpointPatch::default().voting(false))
        .await
        .unwrap();
    stack
        .wait_notified("ConfluxPosMultipleActiveVoters", "resolved", T)
        .await;
    stack
        .wait_notified("ConfluxPosDoubleSigning", "resolved", T)
        .await;
    assert_routing(&stack).await;
    drop(stack);
    primary.shutdown().await;
    backup.shutdown().await;
    sim.shutdown().await;
}
