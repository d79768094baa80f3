//! The golden expositions: the exporter's `/metrics` for two fixed simulated worlds, checked in under
//! `tests/fixtures/`, like node_exporter's `collector/fixtures/e2e-output.txt`. Any change of a metric's name,
//! labels, type, help or value shows as a diff of those files in review.
//!
//! - `exposition.txt`: a healthy validator — a PoS committee member that votes, a reference, and a fake host with
//!   the node's process, data directory and key files.
//! - `exposition-risk.txt`: what goes wrong — a key at risk of force-retirement with its ETA, a node whose PoS is
//!   stuck (judged from the reference) and whose key the chain retired, a primary and a standby that both sign
//!   with one key (double signing, slashed), and a node without the `pos` and `debug` namespaces whose pid file,
//!   data directory and key files cannot be read.
//!
//! Both worlds are deterministic: blocks are produced by the test (manual mode), identities are fixed, and every
//! wait is on a condition. So values are kept, and a verdict that turns from 1 to 0 is a difference; only times,
//! durations, ages, timestamps, byte sizes and what counts polls or depends on the machine are masked (the rule
//! and its list are in `conflux_test_support::golden`). Every family of the catalogue appears in one of the two
//! files or is listed in [`EXEMPT`] with the reason.
//!
//! After an intended change: `UPDATE_GOLDEN=1 cargo test --test checks golden_exposition::`, and review the diff.

use conflux_test_support as support;

use std::collections::BTreeSet;

use conflux_pos_exporter::config::{self, Cli};
use conflux_pos_exporter::metrics::catalogue;
use conflux_sim::pos::{PosChain, PosParams};
use conflux_sim::{EndpointPatch, EndpointSpec, SimConfig};
use support::exporter::*;
use support::exposition::Scrape;
use support::golden::{check, families, settled};
use support::hostfiles::FakeHost;
use support::pos::{pos_sim, L, US};
use support::scrape::*;

const HEALTHY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/exposition.txt");
const RISK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/exposition-risk.txt"
);

/// Families neither world publishes, each with the reason. Empty: both worlds together cover the catalogue.
const EXEMPT: &[(&str, &str)] = &[];

/// HELP lines may take at most this share of a realistic exposition's bytes (the healthy world: one node, one
/// reference, as the two-host set-up runs on each host): they travel with every scrape.
const HELP_SHARE_MAX: f64 = 0.25;

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[tokio::test]
async fn metrics_of_a_healthy_world_match_the_golden_file() {
    let sim = pos_sim(true, true, None).await;
    sim.advance_pos(3 * L + 3).unwrap();
    let host = FakeHost::create(US);
    let app = exporter(exporter_config_every(
        &[("local", sim.url("node").unwrap())],
        &[("ref", sim.url("ref").unwrap())],
        &host.node_keys(),
        100,
    ))
    .await;
    wait_pos_caught_up(app.local_addr(), "local", sim.pos_height()).await;
    let expected = read(HEALTHY);
    let actual = settled(app.local_addr(), &expected, |s| {
        !s.series("conflux_pos_account_votes").is_empty()
            && !s.series("conflux_reference_hash_mismatch").is_empty()
            && !s.series("conflux_node_process_open_fds").is_empty()
            && !s.series("conflux_pos_key_present").is_empty()
            && !s.series("conflux_node_version_behind_reference").is_empty()
            && guard_settled(s)
    })
    .await;
    check(HEALTHY, &expected, &actual);
    help_share(&scrape(app.local_addr()).await.text);
}

/// Every node's failover state is decided: it stays `unknown` until the key files were scanned between two
/// readings of the voting switch, which on a loaded machine can take a few polls.
fn guard_settled(s: &Scrape) -> bool {
    let unknown = s.series("conflux_pos_failover_state");
    !unknown.is_empty()
        && unknown.iter().all(|l| {
            l.get("state").map(String::as_str) != Some("unknown")
                || s.get(
                    "conflux_pos_failover_state",
                    &[("node", &l["node"]), ("state", "unknown")],
                ) == Some(0.0)
        })
}

/// The HELP lines' share of the bytes of a real scrape (printed, and bounded by [`HELP_SHARE_MAX`]).
fn help_share(text: &str) {
    let bytes = |prefix: &str| -> usize {
        text.lines()
            .filter(|l| l.starts_with(prefix))
            .map(|l| l.len() + 1)
            .sum()
    };
    let (help, types, total) = (bytes("# HELP "), bytes("# TYPE "), text.len());
    let share = help as f64 / total as f64;
    eprintln!(
        "exposition {total} bytes: HELP lines {help} ({:.1} %), TYPE lines {types} ({:.1} %)",
        100.0 * share,
        100.0 * types as f64 / total as f64
    );
    assert!(
        share <= HELP_SHARE_MAX,
        "HELP lines are {help} of {total} bytes; shorten the HELP texts (details go in doc:)"
    );
}

/// PoS keys of the risk world: at risk (`risk`), stuck and retired (`stalled`), signed twice (`primary` and
/// `standby`), and the configured key of the node without PoS (`nopos`), never registered.
const AT_RISK: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";
const RETIRED: &str = "0x2222222222222222222222222222222222222222222222222222222222222222";
const TWICE: &str = "0x3333333333333333333333333333333333333333333333333333333333333333";
const NO_POS: &str = "0x4444444444444444444444444444444444444444444444444444444444444444";

#[tokio::test]
async fn metrics_of_a_world_at_risk_match_the_golden_file() {
    let sim = support::world::sim(SimConfig {
        pos: Some(Box::new(PosChain::new(PosParams::for_identities(
            &[AT_RISK.into(), RETIRED.into(), TWICE.into()],
            3,
            L,
        )))),
        endpoints: vec![
            EndpointSpec::node("risk", Some(AT_RISK)),
            EndpointSpec {
                voting: false,
                ..EndpointSpec::node("stalled", Some(RETIRED))
            },
            EndpointSpec::node("primary", Some(TWICE)),
            EndpointSpec::node("standby", Some(TWICE)),
            EndpointSpec::node("nopos", None),
            EndpointSpec::reference("ref"),
        ],
        // Past mainnet's v3.0.0 epoch but at a PoS view before v2.1.0's: a fork whose PoS part is pending.
        initial_epoch: RISK_EPOCH,
        ..Default::default()
    })
    .await;
    let patch = |name: &'static str, p: EndpointPatch| {
        let sim = &sim;
        async move { sim.patch_endpoint(name, p).await.unwrap() }
    };
    patch("nopos", EndpointPatch::default().disable_namespace("pos")).await;
    patch("nopos", EndpointPatch::default().disable_namespace("debug")).await;
    // The `stalled` node's switch is off from the start: the chain retires its key at an epoch end.
    for _ in 0..10 * L {
        if !sim.retirements_of(RETIRED).is_empty() {
            break;
        }
        sim.advance_pos(1).unwrap();
    }
    assert!(!sim.retirements_of(RETIRED).is_empty(), "never retired");
    // The risk node votes three more blocks into the next epoch, then its switch goes off: the chain looks back
    // three epochs, so four blocks into the third epoch after that one its key is at risk with six to go.
    sim.advance_pos(3).unwrap();
    patch("risk", EndpointPatch::default().voting(false)).await;
    sim.advance_pos(3 * L - 2).unwrap();
    // In that epoch's first block the `stalled` node's PoS stops, so its own view and the reference's start the
    // force-retire window at the same epoch: what it read before it counts as stale is a part of what the
    // reference gives, whenever that happens.
    patch("stalled", EndpointPatch::default().pos_stalled(true)).await;
    sim.advance_pos(3).unwrap();
    assert!(sim.retirements_of(AT_RISK).is_empty(), "retired too early");
    sim.pos_control(&serde_json::json!({"cmd": "latest_voted", "mode": "pending"}))
        .unwrap();

    let hosts: Vec<(&str, FakeHost)> = [
        ("risk", AT_RISK),
        ("stalled", RETIRED),
        ("primary", TWICE),
        ("standby", TWICE),
    ]
    .into_iter()
    .map(|(n, k)| (n, FakeHost::create(k)))
    .collect();
    let broken = BrokenHost::create();
    let mut nodes: Vec<(&str, String)> = hosts.iter().map(|(n, h)| (*n, h.node_keys())).collect();
    nodes.push(("nopos", broken.node_keys()));
    let app = exporter(config_for(&sim, &nodes)).await;
    let a = app.local_addr();

    // Both holders of the doubly used key sign once the exporter has seen their safety data.
    wait_for(a, DEADLINE, "the key files scanned", |s| {
        ["primary", "standby"].iter().all(|n| {
            s.get(
                "conflux_pos_guard_input_age_seconds",
                &[("node", n), ("input", "key_files")],
            )
            .is_some()
        })
    })
    .await;
    for (n, h) in &hosts {
        if ["primary", "standby"].contains(n) {
            h.sign(TWICE, 8);
        }
    }
    let h = sim.pos_height() as f64;
    let expected = read(RISK);
    let actual = settled(a, &expected, |s| world_at_risk_is_seen(s, h)).await;
    check(RISK, &expected, &actual);
    app.shutdown().await;
    sim.shutdown().await;
}

/// The risk world's PoW tip at start (see [`FORK`]).
const RISK_EPOCH: u64 = 129_700_000;
/// A fork the risk world's nodes (v3.0.3) are too old for, begun before [`RISK_EPOCH`]: every node missed it.
const FORK: &str =
    "[[fork]]\nchain_id = 1029\nname = \"v9.0.0\"\nmin_version = \"9.0.0\"\nepoch = 129000000\n";

/// What the risk world is for, seen in one scrape (and the read caught up with the chain at `h`).
fn world_at_risk_is_seen(s: &Scrape, h: f64) -> bool {
    let key =
        |node: &str, key: &str, name: &str| s.get(name, &[("node", node), ("pos_address", key)]);
    let node = |node: &str, name: &str| s.get(name, &[("node", node)]);
    ["risk", "primary", "standby"]
        .iter()
        .all(|n| node(n, "conflux_pos_last_read_block") == Some(h))
        && key("risk", AT_RISK, "conflux_pos_force_retire_at_risk") == Some(1.0)
        && key("risk", AT_RISK, "conflux_pos_force_retire_eta_seconds").is_some()
        && s.get(
            "conflux_pos_verdict_view",
            &[("node", "stalled"), ("view", "reference")],
        ) == Some(1.0)
        && key("stalled", RETIRED, "conflux_pos_force_retired") == Some(1.0)
        && s.get("conflux_pos_signing_holders", &[("pos_address", TWICE)]) == Some(2.0)
        && node("nopos", "conflux_rpc_method_unavailable").is_some()
        && s.get(
            "conflux_pos_unavailable_reason",
            &[("node", "nopos"), ("reason", "pos_not_served")],
        ) == Some(1.0)
        && !s.series("conflux_node_process_probe_error").is_empty()
        && !s.series("conflux_disk_probe_error").is_empty()
        && !s.series("conflux_pos_key_file_probe_error").is_empty()
        && s.get(
            "conflux_hardfork_missed",
            &[("node", "risk"), ("fork", "v9.0.0")],
        ) == Some(1.0)
        && s.get(
            "conflux_hardfork_next_activation_seconds",
            &[("node", "risk"), ("fork", "v2.1.0")],
        )
        .is_some()
        && !s.series("conflux_node_version_behind_reference").is_empty()
        && guard_settled(s)
}

/// Poll interval of the risk world's nodes (and so of their host scans). The guard combines a node's key files
/// with its voting switch only from a scan taken between two switch readings, out of the last few scans: at
/// 100 ms a loaded machine answering a head request in more than a few scans' time leaves the failover state
/// unknown for long stretches, so the five nodes poll at a slower pace.
const NODE_POLL_MS: u64 = 400;

/// The exporter watching each simulated node with its host keys, and the reference `ref`, through the real TOML
/// path.
fn config_for(sim: &conflux_sim::SimHandle, nodes: &[(&str, String)]) -> config::Config {
    let mut text = format!(
        "[web]\nlisten_address = \"127.0.0.1:0\"\n[poll]\nnode_interval = \"{NODE_POLL_MS}ms\"\n\
         reference_interval = \"100ms\"\nrpc_timeout = \"{}ms\"\nauto_reference = false\n",
        RPC_TIMEOUT.as_millis()
    );
    for (name, keys) in nodes {
        let url = sim.url(name).unwrap();
        text.push_str(&format!(
            "[[node]]\nname = \"{name}\"\nrpc_url = \"{url}\"\n{keys}\n"
        ));
    }
    let url = sim.url("ref").unwrap();
    text.push_str(&format!(
        "[[reference]]\nname = \"ref\"\nurl = \"{url}\"\n{FORK}"
    ));
    config::resolve(&Cli::default(), config::file::parse(&text).expect("parses")).expect("valid")
}

/// A host where nothing can be read: the pid file and the data directory are missing, `pos_db` holds a
/// malformed `secure_storage.json` and `pos_config` no key.
struct BrokenHost {
    dir: tempfile::TempDir,
}

impl BrokenHost {
    fn create() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["pos_db", "pos_config"] {
            std::fs::create_dir(dir.path().join(sub)).expect("mkdir");
        }
        std::fs::write(
            dir.path().join("pos_db/secure_storage.json"),
            "{\"owner_account\": ",
        )
        .expect("write");
        Self { dir }
    }

    fn node_keys(&self) -> String {
        let p = |s: &str| self.dir.path().join(s).display().to_string();
        format!(
            "pos_address = \"{NO_POS}\"\nwork_dir = {:?}\ndata_dir = {:?}\npos_dir = {:?}\n\
             pos_config_dir = {:?}\npid_file = {:?}\n",
            p(""),
            p("missing_data"),
            p("pos_db"),
            p("pos_config"),
            p("missing.pid"),
        )
    }
}

/// Every family of the catalogue is in a golden file or exempted with its reason; no exemption is stale.
#[test]
fn the_golden_files_cover_the_catalogue() {
    let golden: BTreeSet<String> = families(&read(HEALTHY))
        .into_iter()
        .chain(families(&read(RISK)))
        .collect();
    let exempt: BTreeSet<&str> = EXEMPT.iter().map(|(f, _)| *f).collect();
    let missing: Vec<&str> = catalogue()
        .iter()
        .map(|d| d.name)
        .filter(|n| !golden.contains(*n) && !exempt.contains(n))
        .collect();
    assert!(
        missing.is_empty(),
        "families in no golden file: {missing:?} (make a world publish them, or add them to EXEMPT with the reason)"
    );
    let stale: Vec<&str> = exempt.into_iter().filter(|f| golden.contains(*f)).collect();
    assert!(stale.is_empty(), "exempted but covered: {stale:?}");
    assert!(EXEMPT.iter().all(|(_, why)| !why.is_empty()));
}
