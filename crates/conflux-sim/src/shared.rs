//! The one implementation of every control action, shared by `SimHandle` (Rust tests) and the HTTP control
//! API (scripts, demos), plus the bookkeeping of which endpoint is listening. Taking an endpoint down or up
//! needs the RPC server, which itself reads this state: that transition lives in `updown`, so neither
//! module imports the other.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::stats::RequestStats;
use super::world::World;
use super::SimError;

/// Most blocks one advance may produce: every epoch costs memory and every PoS block a backend call made
/// under the world lock, so a typo in a control body must not stall or exhaust the simulator.
pub const MAX_ADVANCE: u64 = 1_000_000;

/// A listening endpoint: stop `accept` to refuse new connections, `conns` to cut open ones.
pub struct Listening {
    /// Stops the accept loop (the socket closes when the loop ends).
    pub accept: CancellationToken,
    /// Aborts the endpoint's open connections.
    pub conns: CancellationToken,
    /// The accept loop; awaited on stop so the port is closed before the caller continues.
    pub task: JoinHandle<()>,
}

/// State shared by every task of one simulator.
pub struct Shared {
    world: Mutex<World>,
    /// Listening endpoints by name; the async lock serialises down/up transitions.
    listeners: tokio::sync::Mutex<BTreeMap<String, Listening>>,
    /// The ports of endpoints taken down, held bound until they come back up (see `rpc::park`).
    parked: Mutex<BTreeMap<String, tokio::net::TcpSocket>>,
    /// Bound address of every endpoint (fixed after start: coming back up re-binds the same port).
    addrs: BTreeMap<String, SocketAddr>,
    /// Cancelled on shutdown; parent of every other token.
    pub root: CancellationToken,
    /// Tracks every spawned task so shutdown can wait for them.
    pub tracker: TaskTracker,
}

/// Current unix time in seconds (block timestamps).
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Current unix time in microseconds (PoS timestamps).
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

impl Shared {
    /// Wraps a world whose endpoints are bound at `addrs`.
    pub fn new(world: World, addrs: BTreeMap<String, SocketAddr>) -> Self {
        Self {
            world: Mutex::new(world),
            listeners: tokio::sync::Mutex::new(BTreeMap::new()),
            parked: Mutex::new(BTreeMap::new()),
            addrs,
            root: CancellationToken::new(),
            tracker: TaskTracker::new(),
        }
    }

    /// Locks the world. A panic while holding the lock cannot leave it half-updated in a way that matters
    /// to a simulator, so poisoning is ignored rather than turned into more panics.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bound address of endpoint `name`.
    pub fn addr(&self, name: &str) -> Result<SocketAddr, SimError> {
        self.addrs
            .get(name)
            .copied()
            .ok_or_else(|| SimError::UnknownEndpoint(name.to_string()))
    }

    /// Keeps the port of endpoint `name`, down, until [`Shared::unpark`].
    pub fn park(&self, name: &str, socket: tokio::net::TcpSocket) {
        let mut parked = self.parked.lock().unwrap_or_else(PoisonError::into_inner);
        parked.insert(name.to_string(), socket);
    }

    /// The parked port of endpoint `name`, if it has one.
    pub fn unpark(&self, name: &str) -> Option<tokio::net::TcpSocket> {
        let mut parked = self.parked.lock().unwrap_or_else(PoisonError::into_inner);
        parked.remove(name)
    }

    /// Records that endpoint `name` listens through `l`.
    pub async fn register_listener(&self, name: &str, l: Listening) {
        self.listeners.lock().await.insert(name.to_string(), l);
    }

    /// The listening endpoints, locked: whoever holds the guard owns every down/up transition until it drops.
    pub async fn listeners(&self) -> tokio::sync::MutexGuard<'_, BTreeMap<String, Listening>> {
        self.listeners.lock().await
    }

    /// Stops accepting on endpoint `name` but lets open connections finish (used by `test_stop`, whose
    /// answer is still on its way out).
    pub async fn stop_accepting(&self, name: &str) {
        let removed = self.listeners.lock().await.remove(name);
        if let Some(l) = removed {
            stop_listening(l, false).await;
        }
    }

    /// One endpoint's entry of the state dump.
    pub fn endpoint_state(&self, name: &str) -> Result<Value, SimError> {
        self.world().endpoint_json(name)
    }

    /// Produces `pow` epochs and commits `pos` PoS blocks now; returns the new `(pow tip, pos height)`.
    /// Asking for PoS blocks without a PoS chain, or for more than [`MAX_ADVANCE`] of either, fails before
    /// anything changes.
    pub fn advance_spaced(&self, pow: u64, step_secs: u64) -> Result<u64, SimError> {
        if pow > MAX_ADVANCE {
            return Err(SimError::InvalidPatch(format!(
                "cannot advance more than {MAX_ADVANCE} blocks at once"
            )));
        }
        let mut world = self.world();
        world.advance_pow_spaced(pow, step_secs);
        Ok(world.pow_epoch())
    }

    /// Produces `pow` epochs and commits `pos` PoS blocks now; returns the new heights.
    pub fn advance(&self, pow: u64, pos: u64) -> Result<(u64, u64), SimError> {
        if pow.max(pos) > MAX_ADVANCE {
            return Err(SimError::InvalidPatch(format!(
                "cannot advance more than {MAX_ADVANCE} blocks at once"
            )));
        }
        let mut world = self.world();
        if pos > 0 && !world.has_pos() {
            return Err(SimError::NoPos);
        }
        world.advance_pow(pow, now_secs());
        if pos > 0 {
            world.advance_pos(pos, now_us())?;
        }
        Ok((world.pow_epoch(), world.pos_height()))
    }

    /// Full state dump.
    pub fn state(&self) -> Value {
        self.world().state_json()
    }

    /// Request log of endpoint `name`.
    pub fn stats(&self, name: &str) -> Result<RequestStats, SimError> {
        Ok(self.world().endpoint(name)?.stats.clone())
    }

    /// Request logs of every endpoint.
    pub fn all_stats(&self) -> Value {
        self.world().stats_json()
    }

    /// Clears every endpoint's request log, so a test can measure one phase in isolation.
    pub fn reset_stats(&self) {
        let mut world = self.world();
        for name in world.names() {
            if let Ok(ep) = world.endpoint_mut(&name) {
                ep.stats = RequestStats::default();
            }
        }
    }

    /// Forwards a command to the PoS backend.
    pub fn pos_control(&self, cmd: &Value) -> Result<Value, SimError> {
        self.world().pos_control(cmd)
    }
}

/// Stops an accept loop and waits until its socket is closed; optionally cuts open connections too.
pub async fn stop_listening(l: Listening, abort_connections: bool) {
    l.accept.cancel();
    if abort_connections {
        l.conns.cancel();
    }
    if let Err(e) = l.task.await {
        tracing::warn!(error = %e, "accept loop ended abnormally");
    }
}
