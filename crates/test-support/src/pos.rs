//! PoS scenarios of the end-to-end tests: a simulator whose committee holds (or not) our node's key, an exporter
//! watching it, and the chain's own verdicts read back from the simulator.

use std::time::Duration;

use conflux_pos_exporter::app::App;
use conflux_sim::pos::{PosChain, PosParams};
use conflux_sim::{EndpointSpec, SimConfig, SimHandle};
use serde_json::{json, Value};

use super::exporter::{exporter, exporter_config_every};
use super::exposition::Scrape;
use super::scrape::wait_pos_caught_up;
use super::world::sim;

/// Our node's PoS address: the key the watched node (`node`, shown as `local`) holds.
pub const US: &str = "0xabababababababababababababababababababababababababababababababab";
/// Epoch length of the simulated PoS chain (views), short so that epochs pass within a test.
pub const L: u64 = 10;
/// The default wait for a scenario's condition: bounds a hang, passes as soon as the condition holds.
pub const T: Duration = Duration::from_secs(20);

/// Poll interval of the PoS scenario exporters. Blocks are produced by the test (manual mode), so the interval
/// only sets how fast a test runs, never what it sees.
pub const POLL_MS: u64 = 100;

/// A simulator with one node (identity [`US`], a committee member or not, voting or not; 3 other validators)
/// and one reference; PoS blocks produced every `blocks`, or only by the test (`None`).
pub async fn pos_sim(member: bool, voting: bool, blocks: Option<Duration>) -> SimHandle {
    let ids = if member { vec![US.to_string()] } else { vec![] };
    let mut node = EndpointSpec::node("node", Some(US));
    node.voting = voting;
    sim(SimConfig {
        pos: Some(Box::new(PosChain::new(PosParams::for_identities(
            &ids, 3, L,
        )))),
        pos_block_interval: blocks,
        endpoints: vec![node, EndpointSpec::reference("ref")],
        ..Default::default()
    })
    .await
}

/// The exporter watching the node as `local` and the reference as `ref`, polling every `ms` milliseconds.
pub async fn watch(sim: &SimHandle, ms: u64) -> App {
    exporter(exporter_config_every(
        &[("local", sim.url("node").unwrap())],
        &[("ref", sim.url("ref").unwrap())],
        "",
        ms,
    ))
    .await
}

/// Waits until the exporter (watching the node as `local`) has read and accounted everything up to the
/// simulator's PoS height.
pub async fn synced(app: &App, sim: &SimHandle) -> Scrape {
    wait_pos_caught_up(app.local_addr(), "local", sim.pos_height()).await
}

/// The value of `name` for node `local`, `None` when the series is absent.
pub fn g(s: &Scrape, name: &str) -> Option<f64> {
    s.get(name, &[("node", "local")])
}

/// The simulated PoS chain's own state (its control answer to `state`), to compare the exporter with.
pub fn sim_state(sim: &SimHandle) -> Value {
    sim.pos_control(&json!({"cmd": "state"})).unwrap()
}

/// The chain's own force-retire verdicts about [`US`].
pub fn retirements(sim: &SimHandle) -> Vec<Value> {
    sim.retirements_of(US)
}
