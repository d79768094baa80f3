//! Configuration of a simulated world and its endpoints.
//!
//! Everything here is plain data so tests can build a world in one expression and the CLI can map flags onto it.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use super::pos_hook::PosBackend;
use super::SimError;

/// What `cfx_clientVersion` reports unless an endpoint is patched: the current mainnet release in the node's own
/// version format.
pub const CLIENT_VERSION: &str =
    "conflux-rust/v3.0.3-f44f1cb-20260519/x86_64-linux-gnu/rustc1.86.0";

/// Epochs between `latestState` and `epochNumber`: the node executes an epoch only after
/// `DEFERRED_STATE_EPOCH_COUNT = 5` newer ones exist (docs/node-facts.md#status-and-sync-phases).
pub const DEFAULT_STATE_OFFSET: u64 = 5;
/// Typical gap between `epochNumber` and `latestConfirmed` (the reference's testnet sample shows 58).
pub const DEFAULT_CONFIRMED_OFFSET: u64 = 50;
/// Typical gap between `epochNumber` and `latestFinalized` when PoS finalises normally (sample shows 337).
pub const DEFAULT_FINALIZED_OFFSET: u64 = 300;
/// Era length: `latestCheckpoint` moves in steps of `ERA_DEFAULT_EPOCH_COUNT = 20000` (docs/node-facts.md#status-and-sync-phases).
pub const DEFAULT_ERA_EPOCH_COUNT: u64 = 20_000;
/// Starting tip, large enough that every status offset above stays positive from the first answer.
pub const DEFAULT_INITIAL_EPOCH: u64 = 100_000;

/// The six sync-phase names a node reports through `debug_currentSyncPhase` (docs/node-facts.md#status-and-sync-phases).
/// Patches are checked against this list so a typo in a test fails loudly instead of inventing a phase.
pub const SYNC_PHASES: [&str; 6] = [
    "CatchUpRecoverBlockHeaderFromDbPhase",
    "CatchUpSyncBlockHeaderPhase",
    "CatchUpCheckpointPhase",
    "CatchUpFillBlockBodyPhase",
    "CatchUpSyncBlockPhase",
    "NormalSyncPhase",
];

/// Gaps between the tip and the derived `cfx_getStatus` heights, kept configurable so a test can
/// put the finality lag exactly where an alert threshold sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusOffsets {
    /// `epochNumber − latestState`.
    pub state: u64,
    /// `epochNumber − latestConfirmed`.
    pub confirmed: u64,
    /// `epochNumber − latestFinalized` (unless a PoS backend reports its own pivot decision).
    pub finalized: u64,
    /// Era length used for `latestCheckpoint`.
    pub era_epoch_count: u64,
}

impl Default for StatusOffsets {
    fn default() -> Self {
        Self {
            state: DEFAULT_STATE_OFFSET,
            confirmed: DEFAULT_CONFIRMED_OFFSET,
            finalized: DEFAULT_FINALIZED_OFFSET,
            era_epoch_count: DEFAULT_ERA_EPOCH_COUNT,
        }
    }
}

/// Which RPC port an endpoint plays, because the namespaces differ (docs/node-facts.md#ports-and-errors).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointKind {
    /// The node's local HTTP port 12539: every namespace (`cfx`, `pos`, `test`, `debug`, `txpool`).
    Node,
    /// A public RPC configured as `safe,pos`: `cfx`, `txpool` and `pos`; `test_*`/`debug_*` are −32601.
    Reference,
}

impl EndpointKind {
    /// Namespaces the port serves before any `disable_namespace` fault.
    pub fn namespaces(self) -> &'static [&'static str] {
        match self {
            EndpointKind::Node => &["cfx", "pos", "test", "debug", "txpool"],
            EndpointKind::Reference => &["cfx", "pos", "txpool"],
        }
    }
}

/// One JSON-RPC port of the simulated network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointSpec {
    /// Unique name used in URLs of the control API and in `SimHandle` calls.
    pub name: String,
    /// Local node port or public reference.
    pub kind: EndpointKind,
    /// Loopback address to bind; port 0 picks a free port (read it back with `SimHandle::url`).
    pub addr: SocketAddr,
    /// The node's own PoS address (`0x` + 64 hex). Two nodes may share one to model a hot standby.
    pub pos_identity: Option<String>,
    /// Initial state of the node's voting switch (`pos_started_as_voter`).
    pub voting: bool,
}

impl EndpointSpec {
    /// A local node port on a free loopback port, voting with `identity` if given.
    pub fn node(name: &str, identity: Option<&str>) -> Self {
        Self {
            name: name.to_string(),
            kind: EndpointKind::Node,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            pos_identity: identity.map(str::to_string),
            voting: identity.is_some(),
        }
    }

    /// A public reference RPC on a free loopback port.
    pub fn reference(name: &str) -> Self {
        Self {
            name: name.to_string(),
            kind: EndpointKind::Reference,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            pos_identity: None,
            voting: false,
        }
    }
}

/// Everything needed to start a simulator.
pub struct SimConfig {
    /// Native-space chain id (1029 mainnet, 1 testnet).
    pub chain_id: u64,
    /// P2P network id; also picks the address prefix (`CFX`, `CFXTEST`, `NET<id>`).
    pub network_id: u64,
    /// Tip epoch at start.
    pub initial_epoch: u64,
    /// `None` = manual mode: epochs only advance through `advance_pow`.
    pub pow_epoch_interval: Option<Duration>,
    /// `None` = manual mode: PoS blocks only commit through `advance_pos`.
    pub pos_block_interval: Option<Duration>,
    /// The PoS chain; `None` means every `pos_*` call answers −32078.
    pub pos: Option<Box<dyn PosBackend>>,
    /// The RPC ports to serve.
    pub endpoints: Vec<EndpointSpec>,
    /// Where the HTTP control API listens (port 0 allowed).
    pub control_addr: SocketAddr,
    /// Seed for block hashes and batch shuffling, so runs are reproducible.
    pub seed: u64,
    /// Status height offsets.
    pub offsets: StatusOffsets,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            chain_id: 1029,
            network_id: 1029,
            initial_epoch: DEFAULT_INITIAL_EPOCH,
            pow_epoch_interval: None,
            pos_block_interval: None,
            pos: None,
            endpoints: Vec::new(),
            control_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 1,
            offsets: StatusOffsets::default(),
        }
    }
}

impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("chain_id", &self.chain_id)
            .field("network_id", &self.network_id)
            .field("initial_epoch", &self.initial_epoch)
            .field("pow_epoch_interval", &self.pow_epoch_interval)
            .field("pos_block_interval", &self.pos_block_interval)
            .field("pos", &self.pos.is_some())
            .field("endpoints", &self.endpoints)
            .field("control_addr", &self.control_addr)
            .field("seed", &self.seed)
            .field("offsets", &self.offsets)
            .finish()
    }
}

impl SimConfig {
    /// Rejects configurations that would make the simulator lie in confusing ways.
    pub fn validate(&self) -> Result<(), SimError> {
        let mut names = std::collections::BTreeSet::new();
        for ep in &self.endpoints {
            if ep.name.is_empty() || ep.name.contains('/') {
                return Err(SimError::InvalidConfig(format!(
                    "endpoint name {:?} must be non-empty and contain no '/'",
                    ep.name
                )));
            }
            if !names.insert(ep.name.as_str()) {
                return Err(SimError::InvalidConfig(format!(
                    "duplicate endpoint name {:?}",
                    ep.name
                )));
            }
            if let Some(id) = &ep.pos_identity {
                validate_identity(id).map_err(SimError::InvalidConfig)?;
            }
        }
        if self.offsets.era_epoch_count == 0 {
            return Err(SimError::InvalidConfig(
                "era_epoch_count must be positive".into(),
            ));
        }
        for (what, d) in [
            ("pow_epoch_interval", self.pow_epoch_interval),
            ("pos_block_interval", self.pos_block_interval),
        ] {
            if d.is_some_and(|d| d.is_zero()) {
                return Err(SimError::InvalidConfig(format!(
                    "{what} must be positive (use None for manual mode)"
                )));
            }
        }
        Ok(())
    }
}

/// A PoS address must be `0x` + 64 lowercase hex, exactly as `pos_*` results print it.
pub fn validate_identity(id: &str) -> Result<(), String> {
    let ok = id.len() == 66
        && id.starts_with("0x")
        && id[2..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "PoS identity {id:?} must be 0x followed by 64 lowercase hex digits"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_format_is_enforced() {
        assert!(validate_identity(&format!("0x{}", "ab".repeat(32))).is_ok());
        assert!(validate_identity(&"ab".repeat(33)).is_err());
        assert!(validate_identity(&format!("0x{}", "AB".repeat(32))).is_err());
        assert!(validate_identity("0x12").is_err());
    }

    #[test]
    fn duplicate_names_and_bad_identities_are_rejected() {
        let mut cfg = SimConfig {
            endpoints: vec![EndpointSpec::node("a", None), EndpointSpec::reference("a")],
            ..SimConfig::default()
        };
        assert!(matches!(cfg.validate(), Err(SimError::InvalidConfig(_))));
        cfg.endpoints = vec![EndpointSpec::node("a", Some("0x1"))];
        assert!(matches!(cfg.validate(), Err(SimError::InvalidConfig(_))));
        cfg.endpoints = vec![EndpointSpec::node("a", None)];
        assert!(cfg.validate().is_ok());
        cfg.pow_epoch_interval = Some(Duration::ZERO);
        assert!(cfg.validate().is_err());
    }
}
