//! The simulated world of the end-to-end tests: a simulator started in-process through `conflux_sim`'s API and
//! owned by its `SimHandle` (dropping the handle stops every task of it, so a failing test leaks nothing).

use conflux_sim::{Sim, SimConfig, SimHandle};

/// Starts a simulator with the given config.
pub async fn sim(cfg: SimConfig) -> SimHandle {
    Sim::start(cfg).await.expect("simulator starts")
}
