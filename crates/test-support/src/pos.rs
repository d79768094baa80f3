//! PoS scenarios of the end-to-end tests: a simulator whose committee holds (or not) our node's key, an exporter
//! watching it, and the chain's own verdicts read back from the simulator.

use std::time::Duration;

use conflux_pos_exporter::app::App;
use conflux_sim::pos::{PosChain, PosParams};
use conflux_sim::{EndpointSpec, SimConfig, SimHandle};
use serde_json::{json, Value};

use super::exporter::{exporter, exporter_config_every};
use super::exposition::Scrape;
use super::world::sim;

pub const US: &str = "0xabababababababababababababababababababababababababababababababab";
pub const L: u64 = 10;
pub const T: Duration = Duration::from_secs(20);

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

pub async fn watch(sim: &SimHandle, ms: u64) -> App {
    exporter(exporter_config_every(
        &[("local", sim.url("node").unwrap())],
        &[("ref", sim.url("ref").unwrap())],
        "",
        ms,
    ))
    .await
}

pub fn g(s: &Scrape, name: &str) -> Option<f64> {
    s.get(name, &[("node", "local")])
}

pub fn sim_state(sim: &SimHandle) -> Value {
    sim.pos_control(&json!({"cmd": "state"})).unwrap()
}

pub fn retirements(sim: &SimHandle) -> Vec<Value> {
    sim.retirements_of(US)
}
