//! The highly available alerting path, end to end with the real binaries on loopback: the primary and the standby
//! of one PoS key, each with its own exporter (the two-host set-up), scraped by two Prometheus replicas configured
//! as `examples/prometheus-ha.yml` (external label `replica` "a"/"b", dropped from the alerts) and both sending to a
//! two-peer Alertmanager cluster running the shipped `examples/alertmanager.yml`, which delivers to one webhook
//! receiver. Timers and why a page arrives once: `support::ha`.
//!
//! An incident in three steps, the receiver's notifications counted after each:
//! 1. everything up: the standby's switch goes on and both nodes sign (ConfluxPosMultipleActiveVoters to chat,
//!    ConfluxPosDoubleSigning to the pager), then the old primary stops: both resolve. Each firing and each
//!    resolution arrives once, although two replicas evaluate and two peers could notify.
//! 2. replica "a" killed: the standby stops too, nobody votes, ConfluxPosNotVoting and
//!    ConfluxPosLowParticipation fire: once each.
//! 3. the Alertmanager peer that has been notifying killed (mid-incident, ConfluxPosNotVoting firing): both
//!    switches go on again, so the key votes and double-signs at once, and the chain slashes it. The survivor
//!    resolves ConfluxPosNotVoting once, pages the double vote and the slashing once each, and repeats nothing
//!    the dead peer had sent.
//!
//! Throughout, no notification repeats the previous one of its group well within the route's repeat interval
//! (that is what a duplicate is: `support::pages::duplicates`), and the Watchdog heartbeat keeps arriving after
//! each kill.

use conflux_test_support as support;

use support::exporter::*;
use support::ha::*;
use support::hostfiles::*;
use support::pages::*;
use support::prometheus::*;
use support::scrape::*;
use support::world::*;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use conflux_pos_exporter::app::App;
use conflux_sim::pos::{PosChain, PosParams};
use conflux_sim::{EndpointPatch, EndpointSpec, SimConfig, SimHandle};

const US: &str = "0x5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
/// PoS epoch length in blocks: the 25 missed blocks of step 2 stay far from a force-retirement (2-3 epochs).
const L: u64 = 40;
/// Bound for each wait; every step normally takes seconds.
const T: Duration = DEADLINE;
/// After the last awaited notification of a step: longer than the second peer's wait ([`PEER_TIMEOUT`]) after the
/// first peer's notification, so a duplicate it sent would be counted in this step.
const QUIET: Duration = Duration::from_millis(PEER_TIMEOUT.as_millis() as u64 + 1000);

const VOTERS: &str = "ConfluxPosMultipleActiveVoters";
const DOUBLE: &str = "ConfluxPosDoubleSigning";
const SILENT: &str = "ConfluxPosNotVoting";
const LOW: &str = "ConfluxPosLowParticipation";
const SLASHED: &str = "ConfluxPosSlashed";
/// Ten gossip rounds: a notification log entry has reached the other peer.
const GOSSIPED: Duration = Duration::from_millis(10 * GOSSIP_INTERVAL.as_millis() as u64);

/// The PoS chain commits blocks only when the test says so.
async fn world() -> SimHandle {
    let mut standby = EndpointSpec::node("standby", Some(US));
    standby.voting = false;
    sim(SimConfig {
        pos: Some(Box::new(PosChain::new(PosParams::for_identities(
            &[US.to_string()],
            3,
            L,
        )))),
        pos_block_interval: None,
        pow_epoch_interval: Some(Duration::from_millis(500)),
        endpoints: vec![
            EndpointSpec::node("primary", Some(US)),
            standby,
            EndpointSpec::reference("ref"),
        ],
        ..Default::default()
    })
    .await
}

/// One exporter per host, each watching its own node (called "local") against the reference.
async fn exporter_for(sim: &SimHandle, node: &str, host: &FakeHost) -> App {
    exporter(exporter_config_every(
        &[("local", sim.url(node).unwrap())],
        &[("ref", sim.url("ref").unwrap())],
        &host.node_keys(),
        50,
    ))
    .await
}

async fn set_voting(sim: &SimHandle, node: &str, on: bool) {
    sim.patch_endpoint(node, EndpointPatch::default().voting(on))
        .await
        .unwrap();
}

/// The notifications received since notification number `from`.
fn since(ha: &HaStack, from: usize) -> Vec<Page> {
    pages(&ha.hook.received())
        .into_iter()
        .filter(|p| p.post >= from)
        .collect()
}

/// How many notifications have arrived so far: where the next step's count starts.
fn mark(ha: &HaStack) -> usize {
    pages(&ha.hook.received()).last().map_or(0, |p| p.post + 1)
}

/// Waits until a notification of `alertname` in `status` has arrived since `from`.
async fn wait_page(ha: &HaStack, from: usize, alertname: &str, status: &str) {
    let deadline = Instant::now() + T;
    while !since(ha, from).iter().any(|p| p.has(alertname, status)) {
        assert!(
            Instant::now() < deadline,
            "no {status} {alertname} since notification #{from}\n{}",
            ha.diagnostics().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The step's notifications once it is quiet: checks that none carries the `replica` label and that each of
/// `expected` arrived exactly once, prints the counts of every alert, and returns them.
async fn step(
    ha: &HaStack,
    name: &str,
    from: usize,
    expected: &[(&str, &str)],
) -> BTreeMap<(String, String), usize> {
    tokio::time::sleep(QUIET).await;
    let pages = since(ha, from);
    // One alert per replica would be two alerts to Alertmanager: listed twice, resolved separately.
    assert!(
        pages
            .iter()
            .all(|p| p.alerts.iter().all(|(_, l)| !l.contains_key("replica"))),
        "{name}: the replica label reached Alertmanager\n{}",
        ha.diagnostics().await
    );
    let c = counts(&pages);
    eprintln!(
        "==== HA {name} (at {:.1} s): notifications per alert (sent by peer so far: {:?})\n{}",
        ha.age().as_secs_f64(),
        ha.sent_by_peer().await,
        describe_counts(&c)
    );
    for (alertname, status) in expected {
        let n = c
            .get(&(alertname.to_string(), status.to_string()))
            .copied()
            .unwrap_or(0);
        assert_eq!(
            n,
            1,
            "{name}: {status} {alertname} arrived {n} times\n{}",
            ha.diagnostics().await
        );
    }
    c
}

/// The heartbeat goes on: a Watchdog notification arrives after notification number `from`.
async fn wait_heartbeat(ha: &HaStack, from: usize) {
    wait_page(ha, from, "Watchdog", "firing").await;
}

/// The repeat interval of the route behind a receiver path, as the test's Alertmanagers run it.
fn repeat_of(path: &str) -> Duration {
    let receiver = path.trim_start_matches('/');
    support::shipped::alertmanager_timer(receiver, "repeat_interval", TIMERS.repeat_interval)
}

#[tokio::test]
async fn pages_arrive_once_from_two_replicas_and_two_alertmanagers_and_survive_losing_one_of_each()
{
    let sim = world().await;
    sim.advance_pos(2).unwrap();
    let hosts = [FakeHost::create(US), FakeHost::create(US)];
    let primary = exporter_for(&sim, "primary", &hosts[0]).await;
    let standby = exporter_for(&sim, "standby", &hosts[1]).await;
    let targets: Vec<SocketAddr> = vec![primary.local_addr(), standby.local_addr()];
    let height = sim.pos_height();
    for app in [&primary, &standby] {
        wait_pos_caught_up(app.local_addr(), "local", height).await;
    }
    let mut ha = HaStack::start(&targets).await;
    let voters = format!("pos_address:conflux_pos_active_voters:max{{pos_address=\"{US}\"}}");
    // Each replica adds up both exporters' switches on its own: one voter, not one per replica.
    for prom in ha.replicas() {
        prom.wait_query(&voters, T, |r| r.len() == 1 && sample_value(&r[0]) == 1.0)
            .await;
    }

    // 1. Everything up: two switches (warning), two signers (page), then the old primary stops: both resolve.
    let from = mark(&ha);
    set_voting(&sim, "standby", true).await;
    wait_page(&ha, from, VOTERS, "firing").await;
    hosts[0].sign(US, 8);
    hosts[1].sign(US, 8);
    wait_page(&ha, from, DOUBLE, "firing").await;
    set_voting(&sim, "primary", false).await;
    wait_page(&ha, from, VOTERS, "resolved").await;
    wait_page(&ha, from, DOUBLE, "resolved").await;
    let both = [
        (VOTERS, "firing"),
        (VOTERS, "resolved"),
        (DOUBLE, "firing"),
        (DOUBLE, "resolved"),
    ];
    wait_heartbeat(&ha, 0).await;
    step(&ha, "both replicas, both alertmanagers", from, &both).await;

    // 2. Replica "a" dies; the standby stops too, so nobody votes: 25 blocks later, not voting.
    ha.kill_prometheus(0);
    let from = mark(&ha);
    set_voting(&sim, "standby", false).await;
    ha.prometheus()
        .wait_query(&voters, T, |r| sample_value(&r[0]) == 0.0)
        .await;
    let height = sim.advance_pos(25).unwrap();
    for app in [&primary, &standby] {
        wait_pos_caught_up(app.local_addr(), "local", height).await;
    }
    wait_page(&ha, from, SILENT, "firing").await;
    // 25 missed of 25 blocks since Prometheus started: participation below 80 % too, 7.5 s (scaled) later.
    wait_page(&ha, from, LOW, "firing").await;
    let silent = [(SILENT, "firing"), (LOW, "firing")];
    step(&ha, "after killing prometheus a", from, &silent).await;

    // 3. The peer that has been notifying dies mid-incident. Both switches go on again: the key votes (not voting
    //    resolves), both nodes sign, and the next block carries both votes, which the chain punishes (a Dispute):
    //    the survivor pages the double signing and the slashing.
    //    It dies between two heartbeats, once the last one is gossiped: a peer killed while it is sending dies
    //    before it can tell the other, which then sends again (at least once, never lost; not what this checks).
    let notifying = ha.notifying_peer().await;
    wait_heartbeat(&ha, mark(&ha)).await;
    tokio::time::sleep(GOSSIPED).await;
    ha.kill_alertmanager(notifying);
    let from = mark(&ha);
    set_voting(&sim, "primary", true).await;
    set_voting(&sim, "standby", true).await;
    let height = sim.advance_pos(1).unwrap();
    // Caught up to a block committed after the switches moved: both exporters have read them on, so what the
    // nodes sign from now on is signing with the switch on.
    for app in [&primary, &standby] {
        wait_pos_caught_up(app.local_addr(), "local", height).await;
    }
    hosts[0].sign(US, 9);
    hosts[1].sign(US, 9);
    wait_page(&ha, from, VOTERS, "firing").await;
    wait_page(&ha, from, DOUBLE, "firing").await;
    wait_page(&ha, from, SLASHED, "firing").await;
    wait_page(&ha, from, SILENT, "resolved").await;
    wait_heartbeat(&ha, from).await;
    let after = [
        (SILENT, "resolved"),
        (VOTERS, "firing"),
        (DOUBLE, "firing"),
        (SLASHED, "firing"),
    ];
    let name = format!("after killing alertmanager {notifying} (the notifying peer)");
    let c = step(&ha, &name, from, &after).await;
    assert!(
        !c.contains_key(&(SILENT.to_string(), "firing".to_string())),
        "the survivor repeated a page the dead peer had sent\n{}",
        ha.diagnostics().await
    );

    let all = since(&ha, 0);
    let dups = duplicates(&all, repeat_of);
    assert!(
        dups.is_empty(),
        "duplicates:\n{}\n{}",
        dups.join("\n"),
        ha.diagnostics().await
    );
    let beats: Vec<Instant> = all
        .iter()
        .filter(|p| p.has("Watchdog", "firing"))
        .map(|p| p.at)
        .collect();
    let gaps: Vec<Duration> = beats.windows(2).map(|w| w[1] - w[0]).collect();
    eprintln!(
        "==== HA: {} notifications in all, no duplicate; {} Watchdog heartbeats {:?} to {:?} apart (repeat interval {:?})",
        all.len(),
        beats.len(),
        gaps.iter().min().copied().unwrap_or_default(),
        gaps.iter().max().copied().unwrap_or_default(),
        repeat_of("/deadmansswitch")
    );
    drop(ha);
    primary.shutdown().await;
    standby.shutdown().await;
    sim.shutdown().await;
}
