//! The double-voting guard scenario: a primary and a standby sharing one PoS key on two simulated ports, their
//! working directories with `pos_db/secure_storage.json` moved the way the node moves it, and the failover
//! states read back from scrapes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use conflux_pos_exporter::config::{self, Cli};
use conflux_sim::pos::{PosChain, PosParams};
use conflux_sim::{EndpointPatch, EndpointSpec, SimConfig, SimHandle};

use super::exposition::Scrape;
use super::hostfiles::unix_now;
use super::scrape::{scrape, wait_for};
use super::world::sim;

/// The PoS key the primary (`a`) and the standby (`b`) share.
pub const KEY: &str = "0x5eed00000000000000000000000000000000000000000000000000000000c0de";
/// Another validator's key (a store owned by someone else).
pub const OTHER: &str = "0x0bad0000000000000000000000000000000000000000000000000000000000ff";
/// The wait for each hand-over step: bounds a hang, passes as soon as the step is seen.
pub const T: Duration = Duration::from_secs(8);
/// Every value of `conflux_pos_failover_state`'s `state` label.
pub const STATES: [&str; 11] = [
    "double_voting",
    "two_voting_switches",
    "voting_without_secure_storage",
    "save_present_while_voting",
    "standby_holding_save_while_primary_votes",
    "retired_not_signing",
    "primary_voting",
    "standby_ready",
    "standby_fresh_storage",
    "standby_idle",
    "unknown",
];
/// The states that page: two signers, or one step away from it.
pub const DANGEROUS: [&str; 5] = [
    "double_voting",
    "two_voting_switches",
    "voting_without_secure_storage",
    "save_present_while_voting",
    "standby_holding_save_while_primary_votes",
];

/// A realistic safety-rules store owned by `owner` (written as the node writes it: 64 hex, no `0x`).
pub fn storage_json(owner: &str) -> String {
    storage_at(owner, 1203, 1716203600)
}

/// The store after a signature at `round`, written at Unix second `updated`.
pub fn storage_at(owner: &str, round: u64, updated: u64) -> String {
    let bare = owner.trim_start_matches("0x");
    format!(
        r#"{{"owner_account":{{"data":"GetResponse","last_update":1716200000,"value":"{bare}"}},"safety_data":{{"data":"GetResponse","last_update":{updated},"value":{{"epoch":14034,"last_voted_round":{round},"preferred_round":1201,"last_vote":null}}}},"waypoint":{{"data":"GetResponse","last_update":1716200000,"value":"0:bb0ed10f0000000000000000000000000000000000000000000000000000ff94"}}}}"#
    )
}

/// One node's working directory with an empty `pos_db`, as a standby has before any hand-over.
pub struct NodeDir {
    dir: tempfile::TempDir,
}

impl NodeDir {
    pub fn create() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("pos_db")).expect("pos_db");
        Self { dir }
    }

    pub fn work(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join("pos_db").join(name)
    }

    pub fn write_storage(&self, owner: &str) {
        std::fs::write(self.file("secure_storage.json"), storage_json(owner)).expect("write");
    }

    /// What a node does when it signs: rewrites its safety data with a higher round, by rename.
    pub fn sign(&self, owner: &str, round: u64) {
        let tmp = self.file("secure_storage.json.tmp");
        std::fs::write(&tmp, storage_at(owner, round, unix_now())).expect("write");
        std::fs::rename(tmp, self.file("secure_storage.json")).expect("rename");
    }

    /// What a standby started with `pos_started_as_voter=false` creates: its own never-voted store.
    pub fn fresh_storage(&self, owner: &str) {
        std::fs::write(
            self.file("secure_storage.json"),
            storage_at(owner, 0, unix_now()),
        )
        .expect("write");
    }
}

/// `[[node]]` sections with per-node directories, through the real TOML path.
pub fn config_for(nodes: &[(&str, String, String)]) -> config::Config {
    let mut text = String::from(
        "[web]\nlisten_address = \"127.0.0.1:0\"\n[poll]\nnode_interval = \"50ms\"\nrpc_timeout = \"300ms\"\nauto_reference = false\n",
    );
    for (name, url, extra) in nodes {
        text.push_str(&format!(
            "[[node]]\nname = \"{name}\"\nrpc_url = \"{url}\"\n{extra}\n"
        ));
    }
    let file = config::file::parse(&text).expect("config parses");
    config::resolve(&Cli::default(), file).expect("config is valid")
}

/// The `work_dir` key of a node living in `d`.
pub fn work_dir_key(d: &NodeDir) -> String {
    format!("work_dir = \"{}\"", d.work().display())
}

/// A primary `a` (voting) and a standby `b` (switch off) sharing [`KEY`], in a committee of `identities` plus 3.
pub async fn pair_sim(identities: &[String]) -> SimHandle {
    let mut a = EndpointSpec::node("a", Some(KEY));
    a.voting = true;
    let mut b = EndpointSpec::node("b", Some(KEY));
    b.voting = false;
    sim(SimConfig {
        pos: Some(Box::new(PosChain::new(PosParams::for_identities(
            identities, 3, 10,
        )))),
        endpoints: vec![a, b],
        ..Default::default()
    })
    .await
}

/// The one failover state `node` is in (`None` before the first verdict); fails if two are on at once.
pub fn state_of(s: &Scrape, node: &str) -> Option<String> {
    let on: Vec<String> = STATES
        .iter()
        .filter(|st| {
            s.get(
                "conflux_pos_failover_state",
                &[("node", node), ("state", st)],
            ) == Some(1.0)
        })
        .map(|st| st.to_string())
        .collect();
    assert!(on.len() <= 1, "one state at a time: {on:?}");
    on.into_iter().next()
}

/// How many nodes the exporter sees signing with [`KEY`].
pub fn voters(s: &Scrape) -> Option<f64> {
    s.get("conflux_pos_active_voters", &[("pos_address", KEY)])
}

/// Waits until A and B are in the given states with `n` active voters, then checks every state series exists.
pub async fn expect(addr: std::net::SocketAddr, step: &str, a: &str, b: &str, n: f64) -> Scrape {
    let s = wait_for(addr, T, step, |s| {
        state_of(s, "a").as_deref() == Some(a)
            && state_of(s, "b").as_deref() == Some(b)
            && voters(s) == Some(n)
    })
    .await;
    for node in ["a", "b"] {
        for st in STATES {
            assert!(
                s.get(
                    "conflux_pos_failover_state",
                    &[("node", node), ("state", st)]
                )
                .is_some(),
                "{step}: full 0/1 set for {node}/{st}"
            );
        }
    }
    s
}

/// Turns a node's voting switch, as `test_posStartVoting` / `test_posStopVoting` would.
pub async fn set_voting(sim: &SimHandle, node: &str, on: bool) {
    sim.patch_endpoint(node, EndpointPatch::default().voting(on))
        .await
        .expect("patch voting");
}

/// Scrapes continuously until told to stop and returns every dangerous state seen per node: "checked every
/// scrape", not only at the end of a step.
pub fn watch_danger(
    addr: std::net::SocketAddr,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<(usize, Vec<String>)>,
) {
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let (mut scrapes, mut seen) = (0, Vec::new());
        while stopped.try_recv().is_err() {
            let s = scrape(addr).await;
            scrapes += 1;
            // Once B's switch is on, A's leftover .save is rightly flagged: that is the hand-over's last step.
            let b_votes = s.get("conflux_pos_voting_enabled", &[("node", "b")]) == Some(1.0);
            for node in ["a", "b"] {
                if let Some(st) = state_of(&s, node).filter(|st| DANGEROUS.contains(&st.as_str())) {
                    if !(b_votes && node == "a" && st == "standby_holding_save_while_primary_votes")
                    {
                        seen.push(format!("{node}:{st}"));
                    }
                }
            }
        }
        (scrapes, seen)
    });
    (stop, task)
}
