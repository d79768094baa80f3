//! The simulator under test: one node, one reference, manual mode.

use conflux_sim::{EndpointSpec, FakePos, PosBackend, Sim, SimConfig, SimHandle};

/// A PoS address used as the node identity in tests.
pub const ID: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";

/// One node (`local`, identity [`ID`], voting) and one reference (`ref`), manual mode, optional fake PoS.
pub async fn start(pos: bool) -> SimHandle {
    let cfg = SimConfig {
        endpoints: vec![
            EndpointSpec::node("local", Some(ID)),
            EndpointSpec::reference("ref"),
        ],
        pos: pos.then(|| Box::new(FakePos::default()) as Box<dyn PosBackend>),
        ..SimConfig::default()
    };
    Sim::start(cfg).await.expect("simulator starts")
}
