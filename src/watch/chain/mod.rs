//! Chain watcher: one batch per poll to a node's local RPC port. Each call's failure is isolated: a method the
//! port does not serve (−32601) is recorded as unavailable, the rest still counts. The node is "up" exactly when
//! `cfx_getStatus` answered.

pub(crate) mod poller;

use serde::de::DeserializeOwned;
use serde_json::json;
use serde_json::value::RawValue;

use crate::rpc::cfx::{Block, Status, SYNC_PHASES};
use crate::rpc::text::{bounded_to, Count, RemoteText};
use crate::rpc::{decode, Answer, Call, RpcError};
use crate::state::ChainObs;

/// The calls of one poll, in the order [`apply`] reads them.
pub fn calls() -> Vec<Call> {
    vec![
        Call::new("cfx_getStatus", json!([])),
        Call::new("cfx_clientVersion", json!([])),
        Call::new("cfx_getBlockByEpochNumber", json!(["latest_mined", false])),
        Call::new(
            "cfx_getBlockByEpochNumber",
            json!(["latest_confirmed", false]),
        ),
        Call::new("debug_currentSyncPhase", json!([])),
        Call::new("test_getPeerInfo", json!([])),
    ]
}

/// Turns the batch results into an observation; fails only when `cfx_getStatus` did. Each answer is decoded
/// straight into its type; the version and sync phase are bounded where they enter (they become label values).
pub fn apply(
    calls: &[Call],
    results: Vec<Answer>,
) -> Result<(ChainObs, Option<(u64, String)>), RpcError> {
    let mut results = results.into_iter();
    let status_result = results
        .next()
        .unwrap_or_else(|| Err(RpcError::decode("missing answer")));
    let mut unavailable = Vec::new();
    // A present but malformed optional answer is dropped and counted (by method), never guessed.
    let mut malformed = Vec::new();
    let mut next = |i: usize| -> Option<Box<RawValue>> {
        match results.next()? {
            Ok(v) => Some(v),
            Err(e) => {
                if e.is_method_not_found() {
                    unavailable.push(calls[i].method);
                } else {
                    tracing::debug!(method = calls[i].method, error = %e, "call failed");
                }
                None
            }
        }
    };
    let answers: Vec<Option<Box<RawValue>>> = (1..calls.len()).map(&mut next).collect();
    let mut typed = Typed {
        calls,
        answers: &answers,
        malformed: &mut malformed,
    };
    let version = typed
        .get::<RemoteText>(1)
        .map(|t| bounded_to(&t.0, MAX_VERSION_LABEL));
    let best = typed.get::<Option<Block>>(2).flatten();
    let confirmed = typed.get::<Option<Block>>(3).flatten();
    let sync_phase = typed.get::<RemoteText>(4).map(|t| known_phase(&t.0));
    let peers = typed.get::<Count>(5).map(|c| c.0);
    let status: Status = decode(status_result?)?;
    let confirmed = confirmed.and_then(|b| b.epoch_number.map(|e| (e.0, b.hash)));
    Ok((
        ChainObs {
            status,
            version,
            best_block_timestamp: best.map(|b| b.timestamp.0),
            sync_phase,
            peers,
            unavailable,
            malformed,
        },
        confirmed,
    ))
}

/// Longest `version` label value (a real `cfx_clientVersion` is about 60 characters).
pub(crate) const MAX_VERSION_LABEL: usize = 128;
/// The `phase` label of a sync phase this exporter does not know (a newer node): the set of label values stays
/// fixed, and an unknown phase still counts as catching up.
pub(crate) const UNKNOWN_PHASE: &str = "unknown";

/// The phase as a label value: one of [`SYNC_PHASES`], or [`UNKNOWN_PHASE`].
fn known_phase(phase: &str) -> String {
    match SYNC_PHASES.iter().find(|p| **p == phase) {
        Some(p) => (*p).to_string(),
        None => {
            tracing::debug!(
                phase,
                "sync phase not known to this exporter; reported as unknown"
            );
            UNKNOWN_PHASE.to_string()
        }
    }
}

/// The optional answers of a poll, decoded by index; a present answer of the wrong shape is counted by method.
struct Typed<'a> {
    calls: &'a [Call],
    answers: &'a [Option<Box<RawValue>>],
    malformed: &'a mut Vec<&'static str>,
}

impl Typed<'_> {
    fn get<T: DeserializeOwned>(&mut self, i: usize) -> Option<T> {
        let raw = self.answers.get(i.checked_sub(1)?)?.as_deref()?;
        match decode::<T>(raw) {
            Ok(v) => Some(v),
            Err(_) => {
                self.malformed.push(self.calls[i].method);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::to_raw;
    use serde_json::Value;

    fn ok(v: Value) -> Answer {
        Ok(to_raw(&v))
    }

    fn status() -> Value {
        json!({"bestHash":"0x1","chainId":"0x405","ethereumSpaceChainId":"0x406","networkId":"0x405",
            "epochNumber":"0x64","blockNumber":"0x100","pendingTxNumber":"0x3","latestCheckpoint":"0x0",
            "latestConfirmed":"0x50","latestState":"0x5f","latestFinalized":"0x10"})
    }

    #[test]
    fn a_method_not_served_does_not_fail_the_rest() {
        let calls = calls();
        let nf = || {
            Err(RpcError::Rpc {
                code: -32601,
                message: "Method not found".into(),
            })
        };
        let results = vec![
            ok(status()),
            ok(json!("conflux-rust/v3.0.3")),
            ok(json!({"hash":"0xaa","epochNumber":"0x64","timestamp":"0x10"})),
            ok(json!({"hash":"0xbb","epochNumber":"0x50","timestamp":"0x9"})),
            nf(),
            nf(),
        ];
        let (obs, confirmed) = apply(&calls, results).unwrap();
        assert_eq!(obs.status.epoch_number.0, 100);
        assert_eq!(obs.best_block_timestamp, Some(16));
        assert_eq!(
            obs.unavailable,
            vec!["debug_currentSyncPhase", "test_getPeerInfo"]
        );
        assert_eq!(obs.peers, None);
        assert_eq!(confirmed, Some((0x50, "0xbb".into())));
    }

    #[test]
    fn malformed_optional_answers_are_dropped_and_counted() {
        let results = vec![
            ok(status()),
            ok(json!(5)),
            ok(json!({"hash": 1})),
            ok(Value::Null),
            ok(json!("NormalSyncPhase")),
            ok(json!("not a list")),
        ];
        let (obs, confirmed) = apply(&calls(), results).unwrap();
        assert_eq!(
            obs.malformed,
            vec![
                "cfx_clientVersion",
                "cfx_getBlockByEpochNumber",
                "test_getPeerInfo"
            ]
        );
        assert_eq!(
            (obs.version, obs.best_block_timestamp, obs.peers),
            (None, None, None)
        );
        assert_eq!(
            confirmed, None,
            "a null block is an answer, not a malformed one"
        );
        assert_eq!(obs.sync_phase.as_deref(), Some("NormalSyncPhase"));
    }

    #[test]
    fn status_failure_is_the_node_being_down() {
        let calls = calls();
        let mut results: Vec<Answer> = (0..6).map(|_| ok(Value::Null)).collect();
        results[0] = Err(RpcError::Rpc {
            code: -32000,
            message: "boom".into(),
        });
        assert_eq!(apply(&calls, results).unwrap_err().kind(), "rpc_error");
        let mut results: Vec<Answer> = (0..6).map(|_| ok(Value::Null)).collect();
        results[0] = ok(json!({"chainId": 5}));
        assert_eq!(apply(&calls, results).unwrap_err().kind(), "decode");
    }

    #[test]
    fn label_texts_from_the_node_are_bounded_in_length_and_set() {
        let results = vec![
            ok(status()),
            ok(json!(format!("v\n{}", "x".repeat(1_000_000)))),
            ok(Value::Null),
            ok(Value::Null),
            ok(json!("SomeFuturePhase\u{1b}[2J")),
            ok(json!([{}, 1, [2], "x"])),
        ];
        let (obs, _) = apply(&calls(), results).unwrap();
        let version = obs.version.unwrap();
        assert!(
            version.chars().count() <= MAX_VERSION_LABEL + 1,
            "{}",
            version.len()
        );
        assert!(version.starts_with("v\\n"), "{version:.10}");
        assert_eq!(obs.sync_phase.as_deref(), Some(UNKNOWN_PHASE));
        assert!(crate::assess::lag::catching_up(UNKNOWN_PHASE));
        assert_eq!(obs.peers, Some(4));
    }
}
