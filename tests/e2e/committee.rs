//! "Was it just me?", end to end: simulated chain -> exporter -> real Prometheus with the shipped rules -> real
//! Alertmanager with the shipped `examples/alertmanager.yml` (timers scaled as in `alerting`). The test commits the
//! PoS blocks itself, so the order of the committee's warning and our not-voting page does not depend on the
//! machine's speed.
//!
//! - 40 % of the committee's power silent, us among it: our misses rise, no miss is solo,
//!   ConfluxPosCommitteeParticipationLow fires and our ConfluxPosNotVoting is inhibited (never notified).
//! - Only us silent, a big validator (30 % of the power, so the committee's participation drops to 70 %): every
//!   miss is solo, the committee alert never fires, and ConfluxPosNotVoting reaches the chat.

use conflux_test_support as support;

use support::exporter::*;
use support::hostfiles::*;
use support::scrape::*;
use support::stack::*;
use support::world::*;

use std::time::{Duration, Instant};

use conflux_pos_exporter::app::App;
use conflux_sim::pos::{MemberSpec, PosChain, PosParams};
use conflux_sim::{EndpointPatch, EndpointSpec, SimConfig, SimHandle};
use serde_json::json;

const US: &str = "0x5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
/// Epoch length: long enough that the scenario stays within one or two epochs (no force-retire verdict).
const L: u64 = 120;
const T: Duration = DEADLINE;
const NOT_VOTING: &str = "ConfluxPosNotVoting";
const COMMITTEE_LOW: &str = "ConfluxPosCommitteeParticipationLow";

fn other(i: u64) -> String {
    format!("0x{:064x}", 0xc0_u64 + i)
}

/// A committee of us (`ours` power) and members of `others` power; PoS blocks only when the test commits them.
async fn world(ours: u64, others: &[u64]) -> SimHandle {
    let mut p = PosParams::for_identities(&[US.to_string()], 0, L);
    p.members[0].voting_power = ours;
    for (i, power) in others.iter().enumerate() {
        p.members.push(MemberSpec {
            address: other(i as u64),
            voting_power: *power,
            pow_address: format!("CFX:TYPE.USER:AAR{i}"),
        });
    }
    sim(SimConfig {
        pos: Some(Box::new(PosChain::new(p))),
        pos_block_interval: None,
        pow_epoch_interval: Some(Duration::from_millis(500)),
        endpoints: vec![
            EndpointSpec::node("node", Some(US)),
            EndpointSpec::reference("ref"),
        ],
        ..Default::default()
    })
    .await
}

async fn exporter_for(sim: &SimHandle, host: &FakeHost) -> App {
    exporter(exporter_config_every(
        &[("local", sim.url("node").unwrap())],
        &[("ref", sim.url("ref").unwrap())],
        &host.node_keys(),
        50,
    ))
    .await
}

/// Commits `n` blocks and waits until the exporter has read them; returns (missed, solo missed, participation).
async fn commit(sim: &SimHandle, app: &App, n: u64) -> (f64, f64, Option<f64>) {
    sim.advance_pos(n).unwrap();
    let s = wait_pos_caught_up(app.local_addr(), "local", sim.pos_height()).await;
    let g = |m: &str| s.get(m, &[("node", "local")]);
    (
        g("conflux_pos_votes_missed_total").unwrap_or(0.0),
        g("conflux_pos_votes_solo_missed_total").expect("solo misses published"),
        g("conflux_pos_committee_participation_ratio"),
    )
}

/// Starts the stack once the healthy member is seen by Prometheus with a full committee.
async fn start(sim: &SimHandle, app: &App) -> Stack {
    sim.advance_pos(2).unwrap();
    let (missed, solo, part) = commit(sim, app, 1).await;
    assert_eq!((missed, solo, part), (0.0, 0.0, Some(1.0)));
    let stack = Stack::start(&[app.local_addr()]).await;
    stack
        .prom
        .wait_query(
            "last_over_time(conflux_pos_committee_member[5m]) == 1 \
             and on(instance, node) conflux_pos_committee_participation_ratio == 1",
            T,
            |r| r.len() == 1,
        )
        .await;
    stack
}

fn firing_in_prometheus(alerts: &[serde_json::Value], name: &str) -> bool {
    alerts
        .iter()
        .any(|a| a["metric"]["alertname"] == name && a["metric"]["alertstate"] == "firing")
}

#[tokio::test]
async fn forty_percent_of_the_committee_silent_inhibits_our_not_voting_page() {
    // Five members of 20: us and one other silent = 40 % of the power.
    let sim = world(20, &[20, 20, 20, 20]).await;
    let host = FakeHost::create(US);
    let app = exporter_for(&sim, &host).await;
    let stack = start(&sim, &app).await;

    sim.patch_endpoint("node", EndpointPatch::default().voting(false))
        .await
        .unwrap();
    sim.pos_control(&json!({"cmd": "set_member_voting", "address": other(0), "voting": false}))
        .unwrap();
    // Below ConfluxPosNotVoting's 20 blocks: the committee's warning comes first.
    let (missed, solo, part) = commit(&sim, &app, 15).await;
    assert_eq!((missed, solo, part), (15.0, 0.0, Some(0.6)));
    let w = stack.wait_firing(COMMITTEE_LOW, T).await;
    assert_eq!(w.path, "/chat");

    let (missed, solo, _) = commit(&sim, &app, 10).await;
    assert_eq!((missed, solo), (25.0, 0.0), "our misses rise, none is solo");
    let a = stack.am.wait_alert(NOT_VOTING, T).await;
    let deadline = Instant::now() + T;
    let mut a = a;
    while a["status"]["state"] != "suppressed" {
        assert!(
            Instant::now() < deadline,
            "{NOT_VOTING} is not inhibited: {a}\n{}",
            stack.diagnostics().await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        a = stack.am.wait_alert(NOT_VOTING, T).await;
    }
    let by = a["status"]["inhibitedBy"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!by.is_empty(), "{a}");
    assert!(firing_in_prometheus(
        &stack.prom.query("ALERTS").await,
        NOT_VOTING
    ));
    // Several Alertmanager group intervals (scaled: 5 s) later it is still muted and was never delivered.
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            stack
                .hook
                .received()
                .iter()
                .all(|n| n.alertname() != NOT_VOTING),
            "{NOT_VOTING} was delivered despite the committee's outage\n{}",
            stack.diagnostics().await
        );
    }
    let a = stack.am.wait_alert(NOT_VOTING, T).await;
    assert_eq!(a["status"]["state"], "suppressed", "{a}");
}

#[tokio::test]
async fn only_us_silent_every_miss_is_solo_and_the_page_is_never_hidden() {
    // A big validator: 30 of 100, so with only us silent the committee's participation is 70 % (below the
    // committee alert's 80 %), yet every miss is solo (all the others signed).
    let sim = world(30, &[20, 20, 15, 15]).await;
    let host = FakeHost::create(US);
    let app = exporter_for(&sim, &host).await;
    let stack = start(&sim, &app).await;

    sim.patch_endpoint("node", EndpointPatch::default().voting(false))
        .await
        .unwrap();
    let (missed, solo, part) = commit(&sim, &app, 25).await;
    assert_eq!((missed, solo, part), (25.0, 25.0, Some(0.7)));
    let n = stack.wait_firing(NOT_VOTING, T).await;
    assert_eq!(n.path, "/chat");
    // By now the 5-minute mean is well below 80 % (only 0.7 samples for seconds after a few 1.0 ones) and the
    // rule has been evaluated many times: the committee alert never fired, so it never inhibited the page.
    stack
        .prom
        .wait_query(
            "instance_node:conflux_pos_committee_participation:avg_5m < 0.8",
            T,
            |r| r.len() == 1,
        )
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let alerts = stack.prom.query("ALERTS").await;
    assert!(
        alerts
            .iter()
            .all(|a| a["metric"]["alertname"] != COMMITTEE_LOW),
        "a solo miss raised the committee's alert\n{}",
        stack.diagnostics().await
    );
    assert!(stack
        .hook
        .received()
        .iter()
        .all(|n| n.alertname() != COMMITTEE_LOW));
}
