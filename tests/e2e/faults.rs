//! Fault injection over a long simulated PoS run: one exporter watches a node whose RPC fails at random (JSON-RPC
//! errors, errors of one method, timeouts, garbage, HTTP errors, refused connections) and is itself restarted at
//! random; a second exporter watches a fault-free twin of the same node. Our member stops voting for more than two
//! epochs and resumes. At every checkpoint (after the faults of a step are cleared) both exporters must agree with
//! each other and with the chain's own tally, computed from the committed blocks: signed / missed / unknown, the
//! force-retire forecast, and the per-epoch gauges. Blocks are produced by the test (manual mode), so nothing here
//! races a clock; every wait is on a condition with a deadline that only bounds a hang.
//!
//! `FAULT_SEED=<n>` replays another schedule; the seed is printed. The default schedule (3) loses a committee
//! answer at an epoch start while the member is silent, the case that once made misses disappear.

use conflux_test_support as support;

use support::exporter::*;
use support::exposition::*;
use support::pos::*;
use support::scrape::*;
use support::tally::*;
use support::world::*;

use std::time::Duration;

use conflux_pos_exporter::app::App;
use conflux_sim::pos::{PosChain, PosParams};
use conflux_sim::{EndpointPatch, EndpointSpec, InjectedError, SimConfig, SimHandle};
use serde_json::json;

/// Blocks committed during the run: six epochs.
const RUN: u64 = 6 * L;
/// The member is silent for blocks `SILENT.0..SILENT.1` of the run (2.5 epochs): long enough that the forecast
/// turns at risk with a three-epoch look-back.
const SILENT: (u64, u64) = (15, 15 + 2 * L + 5);
/// RPC timeout of the faulty exporter; injected delays exceed it.
const FAULTY_TIMEOUT: Duration = Duration::from_millis(800);

/// A small deterministic generator (SplitMix64), so a failing schedule can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One injected fault: the patch that turns it on, and its name for the log.
fn fault(rng: &mut Rng) -> Option<(EndpointPatch, String)> {
    let err = |method: Option<&str>| InjectedError {
        code: -32000,
        message: "injected".into(),
        method: method.map(str::to_string),
    };
    let methods = [
        "pos_getStatus",
        "pos_getBlockByNumber",
        "pos_getCommittee",
        "pos_getTransactionByNumber",
        "pos_getAccount",
        "cfx_getStatus",
    ];
    let delay = FAULTY_TIMEOUT.as_millis() as u64 * 2;
    Some(match rng.below(11) {
        0 | 1 => return None,
        2 => (
            EndpointPatch::default().error(Some(err(None))),
            "error".into(),
        ),
        // The committee is asked once per epoch: its failure is the fault most likely to lose an epoch.
        9 | 10 => (
            EndpointPatch::default().error(Some(err(Some("pos_getCommittee")))),
            "error on pos_getCommittee".into(),
        ),
        3 | 4 => {
            let m = methods[rng.below(methods.len() as u64) as usize];
            (
                EndpointPatch::default().error(Some(err(Some(m)))),
                format!("error on {m}"),
            )
        }
        5 => (EndpointPatch::default().delay_ms(delay), "timeout".into()),
        6 => (EndpointPatch::default().garbage(true), "garbage".into()),
        7 => {
            let status = [500, 502, 503][rng.below(3) as usize];
            (
                EndpointPatch::default().http_status(Some(status)),
                format!("http {status}"),
            )
        }
        _ => (EndpointPatch::default().down(true), "down".into()),
    })
}

fn cleared() -> EndpointPatch {
    EndpointPatch::default()
        .error(None)
        .delay_ms(0)
        .garbage(false)
        .http_status(None)
        .down(false)
}

/// A member `US` with two node endpoints sharing its key: `node` (votes; gets the faults) and `twin` (a standby
/// that does not vote; never faulted), plus a fault-free reference the chain's tally is read from.
async fn world() -> SimHandle {
    let node = EndpointSpec::node("node", Some(US));
    let mut twin = EndpointSpec::node("twin", Some(US));
    twin.voting = false;
    sim(SimConfig {
        pos: Some(Box::new(PosChain::new(PosParams::for_identities(
            &[US.to_string()],
            3,
            L,
        )))),
        pos_block_interval: None,
        endpoints: vec![node, twin, EndpointSpec::reference("ref")],
        ..Default::default()
    })
    .await
}

async fn watch(sim: &SimHandle, endpoint: &str, timeout: Duration) -> App {
    let mut cfg = exporter_config_every(
        &[("local", sim.url(endpoint).unwrap())],
        &[],
        &format!("pos_address = \"{US}\""),
        100,
    );
    cfg.rpc_timeout = timeout;
    exporter(cfg).await
}

fn requests(s: &Scrape) -> f64 {
    s.get(
        "conflux_exporter_rpc_requests_total",
        &[("target", "local")],
    )
    .unwrap_or(0.0)
}

/// Waits until the exporter has sent two more requests, so an injected fault has met at least one whole poll.
async fn two_more_requests(app: &App) {
    let a = app.local_addr();
    let r0 = requests(&scrape(a).await);
    wait_for(a, DEADLINE, "two more requests", |s| {
        requests(s) >= r0 + 2.0
    })
    .await;
}

/// What one exporter says at a checkpoint.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    signed: f64,
    missed: f64,
    unknown: f64,
    at_risk: f64,
    gauges: Vec<(&'static str, Option<f64>)>,
    /// `conflux_pos_last_signed_block` and `conflux_pos_consecutive_missed_blocks`: they reach back to our last
    /// signature, which a restarted exporter only knows when it lies inside its backfill window.
    last_signed: Option<f64>,
    streak: Option<f64>,
}

/// Gauges decided by the force-retire window alone, so they do not depend on when the exporter started.
const GAUGES: &[&str] = &[
    "conflux_pos_epochs_without_vote",
    "conflux_pos_epoch_blocks",
    "conflux_pos_epoch_blocks_signed",
    "conflux_pos_committee_member",
    "conflux_pos_force_retired",
];

fn seen(s: &Scrape) -> Seen {
    let g = |n: &str| s.get(n, &[("node", "local")]);
    let must = |n: &str| g(n).unwrap_or_else(|| panic!("{n} missing:\n{}", s.text));
    Seen {
        signed: must("conflux_pos_votes_signed_total"),
        missed: must("conflux_pos_votes_missed_total"),
        unknown: must("conflux_pos_votes_unknown_total"),
        at_risk: must("conflux_pos_force_retire_at_risk"),
        gauges: GAUGES.iter().map(|n| (*n, g(n))).collect(),
        last_signed: g("conflux_pos_last_signed_block"),
        streak: g("conflux_pos_consecutive_missed_blocks"),
    }
}

/// The exporter's force-retire look-back (from its own gauge; 3 epochs where it does not publish one).
fn window(s: &Scrape) -> u64 {
    s.get(
        "conflux_pos_force_retire_window_epochs",
        &[("node", "local")],
    )
    .map_or(3, |w| w as u64)
}

fn retired_by(sim: &SimHandle, height: u64) -> bool {
    retirements(sim)
        .iter()
        .any(|r| r["view"].as_u64().is_some_and(|v| v <= height))
}

#[tokio::test]
async fn random_faults_and_restarts_give_the_chains_own_tally() {
    let seed = std::env::var("FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    eprintln!("FAULT_SEED={seed}");
    let mut rng = Rng(seed);
    let sim = world().await;
    let anchor = sim.pos_height();
    sim.advance_pos(2).unwrap();
    let mut chain = ChainReader::new(sim.url("ref").unwrap(), US, anchor);
    let clean = watch(&sim, "twin", RPC_TIMEOUT).await;
    let mut faulty = watch(&sim, "node", FAULTY_TIMEOUT).await;
    // The counters of an exporter cover the blocks from its start-up backfill on: (first counted block, previous
    // checkpoint's values) for the faulty one, reset at each restart.
    let mut faulty_from = anchor;
    let mut prev: Option<Seen> = None;
    let (mut rel, mut step, mut restarts, mut faults) = (0u64, 0u32, 0u32, Vec::new());
    let mut risk_history = Vec::new();
    while rel < RUN {
        step += 1;
        let f = fault(&mut rng);
        if let Some((patch, name)) = &f {
            sim.patch_endpoint("node", patch.clone()).await.unwrap();
            faults.push(name.clone());
        }
        for _ in 0..1 + rng.below(3) {
            if rel == SILENT.0 || rel == SILENT.1 {
                let voting = rel == SILENT.1;
                sim.pos_control(
                    &json!({"cmd": "set_member_voting", "address": US, "voting": voting}),
                )
                .unwrap();
            }
            sim.advance_pos(1).unwrap();
            rel += 1;
        }
        if f.is_some() {
            two_more_requests(&faulty).await;
        }
        let restart = rng.below(4) == 0;
        if restart {
            faulty.shutdown().await;
            faulty = watch(&sim, "node", FAULTY_TIMEOUT).await;
            two_more_requests(&faulty).await;
            restarts += 1;
        }
        if f.is_some() {
            sim.patch_endpoint("node", cleared()).await.unwrap();
        }

        let h = sim.pos_height();
        chain.read_to(h).await;
        let a = wait_pos_caught_up(clean.local_addr(), "local", h).await;
        let b = wait_pos_caught_up(faulty.local_addr(), "local", h).await;
        let (sa, sb) = (seen(&a), seen(&b));
        let context = format!(
            "step {step}, block {h}, fault {:?}, restart {restart}, seed {seed}\nclean: {sa:?}\nfaulty: {sb:?}",
            f.as_ref().map(|x| &x.1)
        );
        if restart {
            faulty_from = backfill_start(&chain, h, window(&b));
        }
        // The forecast and the window's gauges do not depend on when the exporter started.
        assert_eq!(sa.at_risk, sb.at_risk, "at risk differs: {context}");
        assert_eq!(sa.gauges, sb.gauges, "gauges differ: {context}");
        let w = window(&a);
        let chain_risk = chain.at_risk(h, w) && !retired_by(&sim, h);
        assert_eq!(
            sa.at_risk,
            f64::from(u8::from(chain_risk)),
            "the chain (look-back {w}) says at risk = {chain_risk}: {context}"
        );
        risk_history.push((h, sa.at_risk));
        // The clean exporter has counted every block of the chain: its totals are the chain's.
        let all = chain.tally(anchor, h);
        assert_eq!(
            (sa.signed, sa.missed, sa.unknown),
            (all.signed as f64, all.missed as f64, all.unknown as f64),
            "clean exporter vs the chain's tally {all:?}: {context}"
        );
        // The faulty one: from its last start-up's backfill on.
        let since = chain.tally(faulty_from, h);
        assert_eq!(
            (sb.signed, sb.missed, sb.unknown),
            (
                since.signed as f64,
                since.missed as f64,
                since.unknown as f64
            ),
            "faulty exporter vs the chain's tally from block {faulty_from} {since:?}: {context}"
        );
        if sa.last_signed.is_some_and(|l| l >= faulty_from as f64) {
            assert_eq!(
                (sa.last_signed, sa.streak),
                (sb.last_signed, sb.streak),
                "{context}"
            );
        } else {
            // Our last signature predates the restarted exporter's window: it has not seen it, and its streak
            // counts the misses it has seen.
            assert_eq!(
                (sb.last_signed, sb.streak),
                (None, Some(since.missed as f64)),
                "{context}"
            );
        }
        prev = Some(sb);
    }
    let last = prev.expect("at least one checkpoint");
    eprintln!(
        "{step} steps, {restarts} restarts, faults {faults:?}; final {last:?}; risk history {risk_history:?}"
    );
    assert!(
        restarts >= 2,
        "the schedule restarted the exporter {restarts} times"
    );
    assert!(faults.len() >= 5, "the schedule injected only {faults:?}");
    assert!(last.missed > 0.0, "the silent stretch was counted");
    assert!(
        risk_history.iter().any(|(_, r)| *r == 1.0),
        "the silent stretch reached the force-retire forecast: {risk_history:?}"
    );
    assert_eq!(
        risk_history.last().map(|(_, r)| *r),
        Some(0.0),
        "voting again clears the forecast"
    );
    clean.shutdown().await;
    faulty.shutdown().await;
    sim.shutdown().await;
}

/// Where a start-up backfill after block `h` begins: the first block of the epoch `window − 1` epochs before the
/// current one (block 1 on a younger chain).
fn backfill_start(chain: &ChainReader, h: u64, window: u64) -> u64 {
    let current = chain.state_epoch(h);
    let first_epoch = current.saturating_sub(window.saturating_sub(1));
    (0..=h)
        .find(|x| chain.block(*x).is_some_and(|b| b.epoch >= first_epoch))
        .unwrap_or(h + 1)
}
