//! Chain watcher: one batch per poll to a node's local RPC port. Each call's failure is isolated: a method the
//! port does not serve (−32601) is recorded as unavailable, the rest still counts. The node is "up" exactly when
//! `cfx_getStatus` answered.

use serde_json::{json, Value};

use crate::rpc::cfx::{Block, PeerList, Status};
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
    let version = take(1).and_then(|v| v.as_str().map(str::to_owned));
    let best = take(2).and_then(|v| decode::<Option<Block>>(v).ok().flatten());
    let confirmed = take(3).and_then(|v| decode::<Option<Block>>(v).ok().flatten());
    let sync_phase = take(4).and_then(|v| v.as_str().map(str::to_owned));
    let peers = take(5)
        .and_then(|v| decode::<PeerList>(v).ok())
        .map(|p| p.0.len() as u64);
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
