//! Chain watcher: one batch per poll to a node's local RPC port. Each call's failure is isolated: a method the
//! port does not serve (−32601) is recorded as unavailable, the rest still counts. The node is "up" exactly when
//! `cfx_getStatus` answered.

use serde_json::{json, Value};

use crate::rpc::cfx::{Block, Status};
use crate::rpc::{decode, Call, RpcError};
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

/// Turns the batch results into an observation; fails only when `cfx_getStatus` did.
pub fn apply(
    calls: &[Call],
    mut results: Vec<Result<Value, RpcError>>,
) -> Result<(ChainObs, Option<(u64, String)>), RpcError> {
    let status_result = std::mem::replace(&mut results[0], Ok(Value::Null));
    let mut unavailable = Vec::new();
    let mut take = |i: usize| -> Option<Value> {
        match std::mem::replace(&mut results[i], Ok(Value::Null)) {
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
    // A present but malformed optional answer is dropped and counted (by method), never guessed.
    let mut malformed = Vec::new();
    let mut typed = |i: usize, v: Option<Value>, ok: &dyn Fn(&Value) -> bool| match v {
        Some(v) if ok(&v) => Some(v),
        Some(_) => {
            malformed.push(calls[i].method);
            None
        }
        None => None,
    };
    let is_block = |v: &Value| decode::<Option<Block>>(v.clone()).is_ok();
    let version = typed(1, take(1), &|v| v.is_string()).and_then(|v| v.as_str().map(str::to_owned));
    let best = typed(2, take(2), &is_block).and_then(|v| decode::<Option<Block>>(v).ok().flatten());
    let confirmed =
        typed(3, take(3), &is_block).and_then(|v| decode::<Option<Block>>(v).ok().flatten());
    let sync_phase =
        typed(4, take(4), &|v| v.is_string()).and_then(|v| v.as_str().map(str::to_owned));
    let peers =
        typed(5, take(5), &|v| v.is_array()).and_then(|v| v.as_array().map(|a| a.len() as u64));
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

#[cfg(test)]
mod tests {
    use super::*;

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
            Ok(status()),
            Ok(json!("conflux-rust/v3.0.3")),
            Ok(json!({"hash":"0xaa","epochNumber":"0x64","timestamp":"0x10"})),
            Ok(json!({"hash":"0xbb","epochNumber":"0x50","timestamp":"0x9"})),
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
            Ok(status()),
            Ok(json!(5)),
            Ok(json!({"hash": 1})),
            Ok(Value::Null),
            Ok(json!("NormalSyncPhase")),
            Ok(json!("not a list")),
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
        let mut results: Vec<Result<Value, RpcError>> = (0..6).map(|_| Ok(Value::Null)).collect();
        results[0] = Err(RpcError::Rpc {
            code: -32000,
            message: "boom".into(),
        });
        assert_eq!(apply(&calls, results).unwrap_err().kind(), "rpc_error");
        let mut results: Vec<Result<Value, RpcError>> = (0..6).map(|_| Ok(Value::Null)).collect();
        results[0] = Ok(json!({"chainId": 5}));
        assert_eq!(apply(&calls, results).unwrap_err().kind(), "decode");
    }
}
