//! How one endpoint sees the world (lag, stall, fork, sync phase, peers) and which faults it injects.
//! Pure data; changes arrive through [`super::patch::EndpointPatch`].

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::config::{EndpointKind, EndpointSpec};
use super::wire::str_hash;

/// An error the endpoint answers instead of the real result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InjectedError {
    /// JSON-RPC error code to return.
    pub code: i64,
    /// Error message to return.
    pub message: String,
    /// Only calls to this method fail; `None` = every call fails.
    #[serde(default)]
    pub method: Option<String>,
}

/// Where a node's PoS safety data is, as the voting switches see it (`pos_db/secure_storage.json`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SafetyFile {
    /// `secure_storage.json` is present. A node creates its own at start even as a standby (owner = its key,
    /// `last_voted_round` 0), so this is the initial state of every node.
    Live,
    /// Only `secure_storage.json.save` is left, as after `test_posStopVoting`; `test_posStartVoting [false]`
    /// then fails until the operator moves a file back (control `{"safety_file": "live"}`).
    SaveOnly,
}

/// The mutable state of one endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointView {
    /// Which port it plays.
    pub kind: EndpointKind,
    /// Own PoS address (`0x` + 64 hex), if any.
    pub identity: Option<String>,
    /// The node's voting switch (`test_posVotingStatus`).
    pub voting: bool,
    /// Whether the switch, when on, actually signs: `test_posStartVoting [true]` turns it on without safety
    /// data and the real node then cannot initialise its safety rules.
    pub can_sign: bool,
    /// Where its safety data is.
    pub safety_file: SafetyFile,
    /// Epochs behind the world tip.
    pub lag: u64,
    /// `(pow epoch, pos height)` frozen when the endpoint was stalled.
    pub stalled_at: Option<(u64, u64)>,
    /// From this epoch on, pivot hashes follow this endpoint's own branch.
    pub fork_from: Option<u64>,
    /// The branch salt used when forked; derived from the name so two forked endpoints differ.
    pub fork_salt: u64,
    /// `debug_currentSyncPhase` answer.
    pub sync_phase: String,
    /// Length of `test_getPeerInfo`.
    pub peers: u32,
    /// `pendingTxNumber` and the `txpool_status` counts.
    pub pending_tx: u64,
    /// Injected JSON-RPC error.
    pub error: Option<InjectedError>,
    /// Answer this many milliseconds late.
    pub delay_ms: u64,
    /// Extra milliseconds per history read in a body (see `classify`), so a batch of N takes N times longer
    /// while status calls stay fast, as on a loaded real node.
    pub history_delay_ms: u64,
    /// The node runs without PoS: a body with a `pos_*` call gets its connection closed unanswered.
    pub pos_disabled: bool,
    /// Answer HTTP 200 with a body that is not JSON.
    pub garbage: bool,
    /// Answer this HTTP status with a short text body.
    pub http_status: Option<u16>,
    /// Answer `307 Temporary Redirect` to this location (a reference behind a redirecting proxy).
    pub redirect_to: Option<String>,
    /// What `cfx_clientVersion` answers.
    pub client_version: String,
    /// Not listening: connections are refused.
    pub down: bool,
    /// Namespaces switched off on top of the kind's set.
    pub disabled_namespaces: BTreeSet<String>,
    /// Every `pos_*` call answers −32078, as before PoS initialises.
    pub pos_not_started: bool,
    /// PoS blocks behind the world's PoS chain.
    pub pos_lag: u64,
    /// PoS height frozen by a PoS-only stall (`cfx_*` goes on).
    pub pos_stalled_at: Option<u64>,
}

impl EndpointView {
    /// A healthy, synced view built from the spec.
    pub fn new(spec: &EndpointSpec) -> Self {
        Self {
            kind: spec.kind,
            identity: spec.pos_identity.clone(),
            voting: spec.voting,
            can_sign: true,
            safety_file: SafetyFile::Live,
            lag: 0,
            stalled_at: None,
            fork_from: None,
            fork_salt: str_hash(&spec.name) | 1,
            sync_phase: "NormalSyncPhase".to_string(),
            peers: 8,
            pending_tx: 0,
            error: None,
            delay_ms: 0,
            history_delay_ms: 0,
            pos_disabled: false,
            garbage: false,
            http_status: None,
            redirect_to: None,
            client_version: super::config::CLIENT_VERSION.to_string(),
            down: false,
            disabled_namespaces: BTreeSet::new(),
            pos_not_started: false,
            pos_lag: 0,
            pos_stalled_at: None,
        }
    }

    /// Whether this endpoint signs PoS votes: a node whose switch is on, whose safety rules started and whose PoS
    /// is not stuck (a PoS-stalled node is silent on chain, whatever its switch says). `down` is a fault of the
    /// RPC port only; a stopped node is modelled with the chain's `set_member_voting` as well.
    pub fn signs(&self) -> bool {
        self.kind == EndpointKind::Node
            && self.voting
            && self.can_sign
            && self.pos_stalled_at.is_none()
    }

    /// The endpoint's best epoch given the world tip.
    pub fn epoch(&self, world_tip: u64) -> u64 {
        match self.stalled_at {
            Some((pow, _)) => pow.min(world_tip),
            None => world_tip.saturating_sub(self.lag),
        }
    }

    /// The endpoint's committed PoS height given the world's.
    pub fn pos_height(&self, world_pos: u64) -> u64 {
        match (self.stalled_at, self.pos_stalled_at) {
            (Some((_, pos)), _) | (None, Some(pos)) => pos.min(world_pos),
            (None, None) => world_pos.saturating_sub(self.pos_lag),
        }
    }

    /// Branch salt of `epoch` as this endpoint sees it: 0 (world) before the fork point.
    pub fn salt_for(&self, epoch: u64) -> u64 {
        match self.fork_from {
            Some(f) if epoch >= f => self.fork_salt,
            _ => 0,
        }
    }

    /// Whether the port answers methods of `namespace` (the part before `_`).
    pub fn serves(&self, namespace: &str) -> bool {
        self.kind.namespaces().contains(&namespace) && !self.disabled_namespaces.contains(namespace)
    }

    /// The injected error for `method`, if any.
    pub fn error_for(&self, method: &str) -> Option<&InjectedError> {
        self.error
            .as_ref()
            .filter(|e| e.method.as_deref().is_none_or(|m| m == method))
    }

    /// A JSON dump for `GET /control/state`.
    pub fn to_json(&self, world_tip: u64, world_pos: u64) -> Value {
        json!({
            "kind": self.kind,
            "epoch": self.epoch(world_tip),
            "pos_height": self.pos_height(world_pos),
            "pos_identity": self.identity,
            "voting": self.voting,
            "can_sign": self.can_sign,
            "safety_file": self.safety_file,
            "lag": self.lag,
            "stalled": self.stalled_at.is_some(),
            "fork_from": self.fork_from,
            "sync_phase": self.sync_phase,
            "peers": self.peers,
            "pending_tx": self.pending_tx,
            "error": self.error,
            "delay_ms": self.delay_ms,
            "history_delay_ms": self.history_delay_ms,
            "pos_disabled": self.pos_disabled,
            "garbage": self.garbage,
            "http_status": self.http_status,
            "redirect_to": self.redirect_to,
            "down": self.down,
            "disabled_namespaces": self.disabled_namespaces,
            "pos_not_started": self.pos_not_started,
            "pos_lag": self.pos_lag,
            "pos_stalled": self.pos_stalled_at.is_some(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stall_freezes_both_heights_below_the_world() {
        let mut v = EndpointView::new(&EndpointSpec::node("n", None));
        v.lag = 3;
        v.pos_lag = 2;
        assert_eq!((v.epoch(100), v.pos_height(10)), (97, 8));
        assert_eq!(v.epoch(2), 0, "lag never goes below epoch 0");
        v.stalled_at = Some((90, 5));
        assert_eq!((v.epoch(150), v.pos_height(20)), (90, 5));
    }

    #[test]
    fn fork_changes_salt_only_from_the_fork_point() {
        let mut v = EndpointView::new(&EndpointSpec::node("n", None));
        assert_eq!(v.salt_for(50), 0);
        v.fork_from = Some(40);
        assert_eq!(v.salt_for(39), 0);
        assert_ne!(v.salt_for(40), 0);
        let other = EndpointView {
            fork_from: Some(40),
            ..EndpointView::new(&EndpointSpec::node("m", None))
        };
        assert_ne!(
            v.salt_for(40),
            other.salt_for(40),
            "two forked endpoints are on different branches"
        );
    }

    #[test]
    fn namespaces_and_injected_errors_filter_by_method() {
        let mut v = EndpointView::new(&EndpointSpec::reference("r"));
        assert!(v.serves("cfx") && v.serves("pos") && !v.serves("test") && !v.serves("debug"));
        v.disabled_namespaces.insert("pos".into());
        assert!(!v.serves("pos"));
        v.error = Some(InjectedError {
            code: -1,
            message: "x".into(),
            method: Some("a".into()),
        });
        assert!(v.error_for("a").is_some() && v.error_for("b").is_none());
        if let Some(e) = v.error.as_mut() {
            e.method = None;
        }
        assert!(v.error_for("b").is_some());
    }
}
