//! The simulated world of the end-to-end tests: a simulator started in-process through `conflux_sim`'s API and
//! owned by its `SimHandle` (dropping the handle stops every task of it, so a failing test leaks nothing).

use conflux_sim::{EndpointSpec, Sim, SimConfig, SimHandle};

/// Starts a simulator with the given config.
pub async fn sim(cfg: SimConfig) -> SimHandle {
    Sim::start(cfg).await.expect("simulator starts")
}

/// The plainest world: one node without PoS (endpoint `node`) and a reference (`ref`) on the same chain.
pub async fn node_and_reference() -> SimHandle {
    sim(SimConfig {
        endpoints: vec![
            EndpointSpec::node("node", None),
            EndpointSpec::reference("ref"),
        ],
        ..Default::default()
    })
    .await
}
