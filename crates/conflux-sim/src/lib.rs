//! `conflux_sim`: a simulated Conflux network for conflux-pos-exporter's integration tests, demo and
//! benchmarks. Its own crate: it depends on nothing of the exporter, so it checks the exporter's decoders
//! instead of mirroring them.
//!
//! It replaces real conflux-rust nodes: each endpoint is a loopback HTTP port that speaks the node's JSON-RPC
//! exactly (hex quantities, H256 hashes, verbose base32 addresses, real error codes, batches answered in a
//! shuffled order), and a control surface changes what each endpoint shows (lag, stall, fork, sync phase,
//! peers) or injects faults (errors, delays, garbage, HTTP statuses, refused connections).
//!
//! Layout:
//! - [`config`]: [`SimConfig`], [`EndpointSpec`] and the documented status offsets.
//! - `chain`: the PoW chain (pivot hash and timestamp per epoch). `world`: chain + PoS + endpoint views.
//! - [`endpoint`]: one endpoint's view and faults; [`patch`]: [`EndpointPatch`], the control type.
//! - `call`: a parsed request body and what a handler reads and answers; `dispatch`: routing and response
//!   envelopes; `cfx` and `local`: method handlers; [`wire`]: encodings.
//! - `classify`: history reads (slowed by `history_delay_ms`) and calls a node without PoS drops (`pos_disabled`).
//! - `rpc`, `control`, `serve`: the hyper servers; `shared`: the control actions used by both the HTTP
//!   control API and [`SimHandle`]; `updown`: taking an endpoint's listener down and up; `ticker`: the block
//!   clocks.
//! - [`pos_hook`]: the [`PosBackend`] trait a PoS chain model implements; [`fake_pos`]: a recording double.
//! - [`stats`]: the per-endpoint [`RequestStats`].
//!
//! Transport choice: endpoints answer with `Connection: close` like a v3.0 node with the default
//! `jsonrpc_http_keep_alive = false`; the control API keeps connections alive.

pub mod config;
pub mod endpoint;
pub mod fake_pos;
pub mod patch;
pub mod pos;
pub mod pos_hook;
pub mod stats;
pub mod wire;

mod call;
mod cfx;
mod chain;
mod classify;
mod control;
mod dispatch;
mod local;
mod rpc;
mod serve;
mod shared;
mod ticker;
mod updown;
mod world;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::Value;

pub use config::CLIENT_VERSION;
pub use config::{EndpointKind, EndpointSpec, SimConfig, StatusOffsets};
pub use endpoint::{InjectedError, SafetyFile};
pub use fake_pos::FakePos;
pub use patch::EndpointPatch;
pub use pos_hook::PosBackend;
pub use stats::RequestStats;

use shared::Shared;

/// Why a simulator action failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A port could not be bound (in use, or not a local address).
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// No endpoint has that name.
    #[error("unknown endpoint {0:?}")]
    UnknownEndpoint(String),
    /// The configuration is inconsistent.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// A control request was malformed or asked for an impossible value.
    #[error("invalid control request: {0}")]
    InvalidPatch(String),
    /// A PoS action was requested but the world has no PoS backend.
    #[error("the simulator has no PoS chain")]
    NoPos,
    /// The PoS backend refused a control command.
    #[error("PoS control command failed: {0}")]
    PosControl(String),
}

impl SimError {
    /// A short stable label (for logs and metrics).
    pub fn kind(&self) -> &'static str {
        match self {
            SimError::Bind { .. } => "bind",
            SimError::UnknownEndpoint(_) => "unknown_endpoint",
            SimError::InvalidConfig(_) => "invalid_config",
            SimError::InvalidPatch(_) => "invalid_patch",
            SimError::NoPos => "no_pos",
            SimError::PosControl(_) => "pos_control",
        }
    }
}

/// Entry point: `Sim::start(config)`.
pub struct Sim;

impl Sim {
    /// Binds every endpoint and the control API, starts the tickers, and returns a handle.
    /// Ports given as 0 are chosen by the OS; read them back with [`SimHandle::url`].
    pub async fn start(mut cfg: SimConfig) -> Result<SimHandle, SimError> {
        cfg.validate()?;
        let mut world = world::World::new(&mut cfg, shared::now_secs());
        // Bind first so the world and every URL know the real ports before any request can arrive.
        let mut bound = BTreeMap::new();
        let mut listeners = Vec::new();
        for spec in &cfg.endpoints {
            let (l, addr) = rpc::bind(spec.addr).await?;
            world.endpoint_mut(&spec.name)?.spec.addr = addr;
            bound.insert(spec.name.clone(), addr);
            listeners.push((spec.name.clone(), l));
        }
        let shared = Arc::new(Shared::new(world, bound));
        for (name, l) in listeners {
            let listening = rpc::serve(&shared, &name, l);
            shared.register_listener(&name, listening).await;
        }
        let control_addr = match control::listen(&shared, cfg.control_addr).await {
            Ok(a) => a,
            Err(e) => {
                // The endpoints already serve: stop them before reporting the failure.
                shared.root.cancel();
                return Err(e);
            }
        };
        if let Some(d) = cfg.pow_epoch_interval {
            ticker::spawn(&shared, ticker::Chain::Pow, d);
        }
        if let Some(d) = cfg.pos_block_interval.filter(|_| shared.world().has_pos()) {
            ticker::spawn(&shared, ticker::Chain::Pos, d);
        }
        Ok(SimHandle {
            shared,
            control_addr,
        })
    }
}

/// A running simulator. Dropping it stops every task; [`SimHandle::shutdown`] also waits for them.
pub struct SimHandle {
    shared: Arc<Shared>,
    control_addr: SocketAddr,
}

impl SimHandle {
    /// `http://addr/` of endpoint `name`, to give to the exporter as a node or reference URL.
    pub fn url(&self, name: &str) -> Result<String, SimError> {
        Ok(format!("http://{}/", self.addr(name)?))
    }

    /// Bound socket address of endpoint `name`.
    pub fn addr(&self, name: &str) -> Result<SocketAddr, SimError> {
        self.shared.addr(name)
    }

    /// Base URL of the HTTP control API, e.g. `http://127.0.0.1:PORT/control`.
    pub fn control_url(&self) -> String {
        format!("http://{}/control", self.control_addr)
    }

    /// Request log of endpoint `name`.
    pub fn stats(&self, name: &str) -> Result<RequestStats, SimError> {
        self.shared.stats(name)
    }

    /// Clears every request log.
    pub fn reset_stats(&self) {
        self.shared.reset_stats();
    }

    /// Changes endpoint `name` (same as `POST /control/endpoint/{name}`); returns its new state.
    pub async fn patch_endpoint(
        &self,
        name: &str,
        patch: EndpointPatch,
    ) -> Result<Value, SimError> {
        updown::patch_endpoint(&self.shared, name, &patch).await
    }

    /// Produces `n` PoW epochs now (same as `POST /control/advance {"pow": n}`); returns the new tip.
    pub fn advance_pow(&self, n: u64) -> Result<u64, SimError> {
        self.shared.advance(n, 0).map(|(pow, _)| pow)
    }

    /// Produces `n` PoW epochs `step_secs` apart in chain time, so the exporter observes a chosen epoch rate;
    /// returns the new tip.
    pub fn advance_pow_spaced(&self, n: u64, step_secs: u64) -> Result<u64, SimError> {
        self.shared.advance_spaced(n, step_secs)
    }

    /// Commits `n` PoS blocks now (same as `POST /control/advance {"pos": n}`); returns the new height.
    pub fn advance_pos(&self, n: u64) -> Result<u64, SimError> {
        self.shared.advance(0, n).map(|(_, pos)| pos)
    }

    /// The world's PoW tip.
    pub fn pow_epoch(&self) -> u64 {
        self.shared.world().pow_epoch()
    }

    /// The world's committed PoS height (0 without PoS).
    pub fn pos_height(&self) -> u64 {
        self.shared.world().pos_height()
    }

    /// The state dump (same as `GET /control/state`).
    pub fn state(&self) -> Value {
        self.shared.state()
    }

    /// Forwards a command to the PoS backend (same as `POST /control/pos`).
    pub fn pos_control(&self, cmd: &Value) -> Result<Value, SimError> {
        self.shared.pos_control(cmd)
    }

    /// The force-retirements the chain applied to `address` (as in the PoS state dump), oldest first; empty
    /// without PoS. Tests judge the exporter's forecasts against these.
    pub fn retirements_of(&self, address: &str) -> Vec<Value> {
        let state = self.pos_control(&serde_json::json!({"cmd": "state"}));
        let all = state
            .ok()
            .and_then(|s| s["retirements"].as_array().cloned());
        all.unwrap_or_default()
            .into_iter()
            .filter(|r| r["address"] == address)
            .collect()
    }

    /// Stops every server and ticker and waits for their tasks to end.
    pub async fn shutdown(self) {
        self.shared.root.cancel();
        self.shared.tracker.close();
        self.shared.tracker.wait().await;
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.shared.root.cancel();
    }
}

#[cfg(test)]
mod world_tests;
