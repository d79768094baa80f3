//! Changes to an endpoint: the [`EndpointPatch`] read from control bodies and built in Rust tests, and its
//! atomic, validated application to an [`EndpointView`].

use serde::{Deserialize, Deserializer};

use super::config::{validate_identity, SYNC_PHASES};
use super::endpoint::{EndpointView, InjectedError, SafetyFile};

/// Most peers an endpoint may report: `test_getPeerInfo` builds one object per peer, so an absurd count from
/// a control body must not exhaust memory. Real nodes keep far fewer connections.
pub const MAX_PEERS: u32 = 10_000;

/// Reads `null` as `Some(None)` and a value as `Some(Some(v))`; a missing field stays `None` via `default`.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A change to an endpoint: every field is optional, absent fields are left alone. The same type is read
/// from `POST /control/endpoint/{name}` bodies and built with the chained setters in Rust tests.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointPatch {
    /// Epochs behind the world tip.
    pub lag: Option<u64>,
    /// Freeze (`true`) or release (`false`) the endpoint's PoW epoch and PoS height.
    pub stalled: Option<bool>,
    /// Fork point; `null` re-joins the world's branch.
    #[serde(default, deserialize_with = "nullable")]
    pub fork_from: Option<Option<u64>>,
    /// One of [`SYNC_PHASES`].
    pub sync_phase: Option<String>,
    /// Peer count.
    pub peers: Option<u32>,
    /// Pending transaction count.
    pub pending_tx: Option<u64>,
    /// Injected error; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    pub error: Option<Option<InjectedError>>,
    /// Answer delay in milliseconds (0 = none).
    pub delay_ms: Option<u64>,
    /// Extra delay in milliseconds per history read in a request (0 = none).
    pub history_delay_ms: Option<u64>,
    /// Node without PoS: close the connection, unanswered, on any request holding a `pos_*` call.
    pub pos_disabled: Option<bool>,
    /// Non-JSON body fault.
    pub garbage: Option<bool>,
    /// HTTP status fault; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    pub http_status: Option<Option<u16>>,
    /// Redirect every request (307) to this URL; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    pub redirect_to: Option<Option<String>>,
    /// Stop (`true`) or resume (`false`) listening.
    pub down: Option<bool>,
    /// Switch a namespace off (−32601 for its methods).
    pub disable_namespace: Option<String>,
    /// Switch a previously disabled namespace back on.
    pub enable_namespace: Option<String>,
    /// Answer −32078 to every `pos_*` call.
    pub pos_not_started: Option<bool>,
    /// PoS blocks behind the world.
    pub pos_lag: Option<u64>,
    /// Freeze (`true`) or release (`false`) the endpoint's PoS height alone: its `cfx_*` keeps answering and
    /// moving, as on a real node whose PoS is stuck after a long pause. A PoS-stalled node does not sign.
    pub pos_stalled: Option<bool>,
    /// The node's voting switch.
    pub voting: Option<bool>,
    /// Whether the switch, when on, signs (`false` models `test_posStartVoting [true]`).
    pub can_sign: Option<bool>,
    /// Where the node's safety data is (`"live"` or `"save_only"`).
    pub safety_file: Option<SafetyFile>,
    /// The node's PoS address; `null` removes it.
    #[serde(default, deserialize_with = "nullable")]
    pub pos_identity: Option<Option<String>>,
    /// What `cfx_clientVersion` answers (an upgraded, old or odd build).
    pub client_version: Option<String>,
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty => $wrap:expr;)*) => {
        impl EndpointPatch {
            $( $(#[$doc])* pub fn $name(mut self, v: $ty) -> Self { self.$name = Some($wrap(v)); self } )*
        }
    };
}

setters! {
    /// Sets `lag`.
    lag: u64 => std::convert::identity;
    /// Sets `stalled`.
    stalled: bool => std::convert::identity;
    /// Sets `fork_from` (`None` re-joins).
    fork_from: Option<u64> => std::convert::identity;
    /// Sets `sync_phase`.
    sync_phase: &str => str::to_string;
    /// Sets `peers`.
    peers: u32 => std::convert::identity;
    /// Sets `pending_tx`.
    pending_tx: u64 => std::convert::identity;
    /// Sets `error` (`None` clears).
    error: Option<InjectedError> => std::convert::identity;
    /// Sets `delay_ms`.
    delay_ms: u64 => std::convert::identity;
    /// Sets `history_delay_ms`.
    history_delay_ms: u64 => std::convert::identity;
    /// Sets `pos_disabled`.
    pos_disabled: bool => std::convert::identity;
    /// Sets `garbage`.
    garbage: bool => std::convert::identity;
    /// Sets `http_status` (`None` clears).
    http_status: Option<u16> => std::convert::identity;
    /// Sets `redirect_to` (`None` clears).
    redirect_to: Option<&str> => |v: Option<&str>| v.map(str::to_string);
    /// Sets `down`.
    down: bool => std::convert::identity;
    /// Sets `disable_namespace`.
    disable_namespace: &str => str::to_string;
    /// Sets `enable_namespace`.
    enable_namespace: &str => str::to_string;
    /// Sets `pos_not_started`.
    pos_not_started: bool => std::convert::identity;
    /// Sets `pos_lag`.
    pos_lag: u64 => std::convert::identity;
    /// Sets `pos_stalled`.
    pos_stalled: bool => std::convert::identity;
    /// Sets `voting`.
    voting: bool => std::convert::identity;
    /// Sets `can_sign`.
    can_sign: bool => std::convert::identity;
    /// Sets `safety_file`.
    safety_file: SafetyFile => std::convert::identity;
    /// Sets `pos_identity` (`None` removes it).
    pos_identity: Option<&str> => |v: Option<&str>| v.map(str::to_string);
    /// Sets `client_version`.
    client_version: &str => str::to_string;
}

/// What a patch changed that needs action outside the view itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PatchEffects {
    /// The voting switch or identity changed: recompute voters per identity.
    pub voters_changed: bool,
    /// The listening state changed to this value.
    pub down_changed: Option<bool>,
}

impl EndpointView {
    /// Applies `patch` atomically: either every field is applied or, on a validation error, none is.
    pub fn apply(
        &mut self,
        patch: &EndpointPatch,
        world_tip: u64,
        world_pos: u64,
    ) -> Result<PatchEffects, String> {
        let mut next = self.clone();
        next.apply_fields(patch, world_tip, world_pos)?;
        let effects = PatchEffects {
            voters_changed: next.signs() != self.signs() || next.identity != self.identity,
            down_changed: (next.down != self.down).then_some(next.down),
        };
        *self = next;
        Ok(effects)
    }

    fn apply_fields(&mut self, p: &EndpointPatch, tip: u64, pos: u64) -> Result<(), String> {
        if let Some(v) = p.lag {
            self.lag = v;
        }
        if let Some(v) = p.pos_lag {
            self.pos_lag = v;
        }
        match p.pos_stalled {
            Some(true) if self.pos_stalled_at.is_none() => {
                self.pos_stalled_at = Some(self.pos_height(pos));
            }
            Some(false) => self.pos_stalled_at = None,
            _ => {}
        }
        match p.stalled {
            Some(true) if self.stalled_at.is_none() => {
                self.stalled_at = Some((self.epoch(tip), self.pos_height(pos)));
            }
            Some(false) => self.stalled_at = None,
            _ => {}
        }
        if let Some(v) = p.fork_from {
            self.fork_from = v;
        }
        if let Some(v) = &p.sync_phase {
            if !SYNC_PHASES.contains(&v.as_str()) {
                return Err(format!(
                    "unknown sync phase {v:?}; expected one of {SYNC_PHASES:?}"
                ));
            }
            self.sync_phase.clone_from(v);
        }
        if let Some(v) = p.peers {
            if v > MAX_PEERS {
                return Err(format!(
                    "peers {v} is above the simulator's limit of {MAX_PEERS}"
                ));
            }
            self.peers = v;
        }
        if let Some(v) = p.pending_tx {
            self.pending_tx = v;
        }
        if let Some(v) = &p.error {
            self.error.clone_from(v);
        }
        if let Some(v) = p.delay_ms {
            self.delay_ms = v;
        }
        if let Some(v) = p.history_delay_ms {
            self.history_delay_ms = v;
        }
        if let Some(v) = p.pos_disabled {
            self.pos_disabled = v;
        }
        if let Some(v) = p.garbage {
            self.garbage = v;
        }
        if let Some(v) = p.http_status {
            if v.is_some_and(|s| !(100..=599).contains(&s)) {
                return Err(format!("http_status {v:?} is not an HTTP status code"));
            }
            self.http_status = v;
        }
        if let Some(v) = &p.redirect_to {
            if v.as_deref()
                .is_some_and(|u| u.is_empty() || u.chars().any(char::is_control))
            {
                return Err(format!("redirect_to {v:?} is not a URL"));
            }
            self.redirect_to.clone_from(v);
        }
        if let Some(v) = p.down {
            self.down = v;
        }
        if let Some(ns) = &p.disable_namespace {
            self.disabled_namespaces.insert(ns.clone());
        }
        if let Some(ns) = &p.enable_namespace {
            self.disabled_namespaces.remove(ns);
        }
        if let Some(v) = p.pos_not_started {
            self.pos_not_started = v;
        }
        if let Some(v) = p.voting {
            self.voting = v;
        }
        if let Some(v) = p.can_sign {
            self.can_sign = v;
        }
        if let Some(v) = p.safety_file {
            self.safety_file = v;
        }
        if let Some(v) = &p.client_version {
            if v.len() > 1024 {
                return Err(format!("client_version of {} bytes is too long", v.len()));
            }
            self.client_version.clone_from(v);
        }
        if let Some(v) = &p.pos_identity {
            if let Some(id) = v {
                validate_identity(id)?;
            }
            self.identity.clone_from(v);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::EndpointSpec;
    use serde_json::json;

    fn view() -> EndpointView {
        EndpointView::new(&EndpointSpec::node("n", None))
    }

    #[test]
    fn lag_and_stall_shape_the_visible_heights() {
        let mut v = view();
        v.apply(&EndpointPatch::default().lag(3).pos_lag(2), 100, 10)
            .unwrap();
        assert_eq!((v.epoch(100), v.pos_height(10)), (97, 8));
        v.apply(&EndpointPatch::default().stalled(true), 100, 10)
            .unwrap();
        assert_eq!((v.epoch(150), v.pos_height(20)), (97, 8), "frozen");
        v.apply(&EndpointPatch::default().stalled(true), 150, 20)
            .unwrap();
        assert_eq!(
            v.epoch(150),
            97,
            "stalling twice keeps the first freeze point"
        );
        v.apply(&EndpointPatch::default().stalled(false), 150, 20)
            .unwrap();
        assert_eq!((v.epoch(150), v.pos_height(20)), (147, 18));
        assert_eq!(v.epoch(2), 0, "lag never goes below epoch 0");
    }

    #[test]
    fn invalid_patch_changes_nothing() {
        let mut v = view();
        let before = v.clone();
        let bad = EndpointPatch::default().lag(9).sync_phase("Sleeping");
        assert!(v.apply(&bad, 100, 0).is_err());
        assert_eq!(v, before);
        assert!(v
            .apply(&EndpointPatch::default().http_status(Some(42)), 1, 0)
            .is_err());
        assert!(v
            .apply(&EndpointPatch::default().pos_identity(Some("0x1")), 1, 0)
            .is_err());
        assert_eq!(v, before);
    }

    #[test]
    fn effects_report_voting_and_listening_changes() {
        let mut v = view();
        let e = v
            .apply(&EndpointPatch::default().voting(true), 1, 0)
            .unwrap();
        assert_eq!(
            e,
            PatchEffects {
                voters_changed: true,
                down_changed: None
            }
        );
        let e = v
            .apply(&EndpointPatch::default().voting(true).down(true), 1, 0)
            .unwrap();
        assert_eq!(
            e,
            PatchEffects {
                voters_changed: false,
                down_changed: Some(true)
            }
        );
        v.apply(&EndpointPatch::default().down(false), 1, 0)
            .unwrap();
        // Nor does a node whose PoS is stuck, while its `cfx_*` goes on; released, it signs again.
        let e = v
            .apply(&EndpointPatch::default().pos_stalled(true), 1, 7)
            .unwrap();
        assert!(e.voters_changed && !v.signs());
        assert_eq!(v.pos_height(20), 7);
        assert_eq!(v.epoch(5), 5, "the PoW side is not frozen");
        v.apply(&EndpointPatch::default().pos_stalled(false), 1, 20)
            .unwrap();
        assert!(v.signs());
        assert_eq!(v.pos_height(20), 20);
    }

    #[test]
    fn patch_json_distinguishes_null_from_absent() {
        let p: EndpointPatch =
            serde_json::from_value(json!({"fork_from": null, "lag": 2})).unwrap();
        assert_eq!(p.fork_from, Some(None));
        assert_eq!(p.error, None);
        let p: EndpointPatch = serde_json::from_value(
            json!({"error": {"code": -32000, "message": "boom", "method": "cfx_getStatus"}}),
        )
        .unwrap();
        assert_eq!(
            p.error.unwrap().unwrap().method.as_deref(),
            Some("cfx_getStatus")
        );
        assert!(serde_json::from_value::<EndpointPatch>(json!({"lagg": 1})).is_err());
    }
}
