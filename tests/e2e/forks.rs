//! Hard-fork readiness end to end: three nodes of one simulated chain with different `cfx_clientVersion`s (ready,
//! too old, no release number) and a reference on a newer release, a configured fork ahead, PoW epochs produced
//! at a chosen chain-time rate, then the chain past the fork.

use conflux_test_support as support;

use support::exporter::*;
use support::scrape::*;

use conflux_pos_exporter::config::{self, Cli};
use conflux_sim::{EndpointPatch, EndpointSpec, SimConfig, SimHandle};

/// A chain with no built-in table: only the configured fork counts.
const CHAIN: u64 = 8888;
/// Epochs from the start to the fork's activation.
const AHEAD: u64 = 1_000;
/// Epochs produced before the rate is read, one chain second apart.
const FIRST: u64 = 200;

fn config_for(sim: &SimHandle, fork_epoch: u64) -> config::Config {
    let mut text = format!(
        "[web]\nlisten_address = \"127.0.0.1:0\"\n[poll]\nnode_interval = \"100ms\"\n\
         reference_interval = \"100ms\"\nrpc_timeout = \"{}ms\"\nauto_reference = false\n",
        RPC_TIMEOUT.as_millis()
    );
    for name in ["current", "new", "odd"] {
        let url = sim.url(name).unwrap();
        text.push_str(&format!(
            "[[node]]\nname = \"{name}\"\nrpc_url = \"{url}\"\n"
        ));
    }
    let url = sim.url("ref").unwrap();
    text.push_str(&format!(
        "[[reference]]\nname = \"ref\"\nurl = \"{url}\"\n[[fork]]\nchain_id = {CHAIN}\nname = \"v3.1.0\"\n\
         min_version = \"3.1.0\"\nepoch = {fork_epoch}\n"
    ));
    config::resolve(&Cli::default(), config::file::parse(&text).unwrap()).unwrap()
}

#[tokio::test]
async fn ready_not_ready_unparsable_and_behind_the_reference() {
    let sim = support::world::sim(SimConfig {
        chain_id: CHAIN,
        network_id: CHAIN,
        endpoints: vec![
            EndpointSpec::node("current", None),
            EndpointSpec::node("new", None),
            EndpointSpec::node("odd", None),
            EndpointSpec::reference("ref"),
        ],
        ..Default::default()
    })
    .await;
    let version = |v: &str| EndpointPatch::default().client_version(v);
    let new = "conflux-rust/v3.1.0-a1b2c3d-20260803/x86_64-linux-gnu/rustc1.88.0";
    sim.patch_endpoint("new", version(new)).await.unwrap();
    sim.patch_endpoint("ref", version(new)).await.unwrap();
    let odd = "conflux-rust/custom-build/x86_64-linux-gnu/rustc1.88.0";
    sim.patch_endpoint("odd", version(odd)).await.unwrap();
    let start = sim.pow_epoch();
    let app = exporter(config_for(&sim, start + AHEAD)).await;
    let a = app.local_addr();
    let get = |s: &support::exposition::Scrape, name: &str, node: &str| {
        s.get(name, &[("node", node), ("fork", "v3.1.0")])
    };

    // Every node has sampled the starting epoch (and the reference its version) before the chain moves on.
    wait_for(a, DEADLINE, "the next fork and the versions", |s| {
        ["current", "new", "odd"]
            .iter()
            .all(|n| get(s, "conflux_hardfork_next_activation_epoch", n).is_some())
            && s.get(
                "conflux_node_version_behind_reference",
                &[("node", "current")],
            )
            .is_some()
    })
    .await;
    sim.advance_pow_spaced(FIRST, 1).unwrap();
    let eta = (AHEAD - FIRST) as f64;
    let s = wait_for(a, DEADLINE, "the ETA at one second per epoch", |s| {
        ["current", "new", "odd"]
            .iter()
            .all(|n| get(s, "conflux_hardfork_next_activation_seconds", n) == Some(eta))
    })
    .await;
    let node = |n: &str, name: &str| s.get(name, &[("node", n)]);
    assert_eq!(get(&s, "conflux_hardfork_ready", "current"), Some(0.0));
    assert_eq!(get(&s, "conflux_hardfork_ready", "new"), Some(1.0));
    assert_eq!(
        get(&s, "conflux_hardfork_ready", "odd"),
        None,
        "unparsable: no verdict"
    );
    assert_eq!(
        s.get(
            "conflux_hardfork_next_info",
            &[
                ("node", "odd"),
                ("fork", "v3.1.0"),
                ("min_version", "3.1.0")
            ]
        ),
        Some(1.0),
        "the fork itself is a fact of the chain"
    );
    assert_eq!(node("current", "conflux_node_version_parsed"), Some(1.0));
    assert_eq!(node("odd", "conflux_node_version_parsed"), Some(0.0));
    assert_eq!(
        node("current", "conflux_node_version_behind_reference"),
        Some(1.0)
    );
    assert_eq!(
        node("new", "conflux_node_version_behind_reference"),
        Some(0.0)
    );
    assert_eq!(node("odd", "conflux_node_version_behind_reference"), None);
    assert_eq!(
        s.get(
            "conflux_reference_version_info",
            &[("reference", "ref"), ("version", new)]
        ),
        Some(1.0)
    );
    assert!(
        s.series("conflux_hardfork_missed").is_empty(),
        "nothing begun yet"
    );

    // Past the activation: the old node missed it, the ready one did not, the unparsable one is not judged.
    sim.advance_pow_spaced(AHEAD, 1).unwrap();
    let s = wait_for(a, DEADLINE, "the fork begun", |s| {
        get(s, "conflux_hardfork_missed", "current").is_some()
            && get(s, "conflux_hardfork_missed", "new").is_some()
    })
    .await;
    assert_eq!(get(&s, "conflux_hardfork_missed", "current"), Some(1.0));
    assert_eq!(get(&s, "conflux_hardfork_missed", "new"), Some(0.0));
    assert_eq!(get(&s, "conflux_hardfork_missed", "odd"), None);
    assert!(
        s.series("conflux_hardfork_next_info").is_empty(),
        "no fork left to come"
    );
    // The reference's version is read once, then hourly (every 240 polls), not at every poll.
    let stats = sim.stats("ref").unwrap();
    let asked = stats.calls_per_method.get("cfx_clientVersion").copied();
    let polls = stats.http_requests;
    assert!(polls > 1, "{polls} reference polls");
    assert!(
        asked.is_some_and(|n| n >= 1 && n <= 1 + polls / 240),
        "cfx_clientVersion asked {asked:?} times in {polls} reference polls"
    );
    app.shutdown().await;
    sim.shutdown().await;
}
