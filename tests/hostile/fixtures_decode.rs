//! Every captured response goes through the client's decoders unchanged: the docs' examples (`fixtures/rpc`) and
//! the answers of a real conflux-rust devnet, a devnet in its first minute and a node without PoS
//! (`fixtures/rpc-real/**`). Fixtures are read from `tests/fixtures/<set>` if the repo has a copy, else from
//! the sibling `shared/fixtures/<set>` (see `conflux_test_support::fixtures`).

use conflux_test_support::fixtures;

use conflux_pos_exporter::rpc::cfx::{Block, Status};
use conflux_pos_exporter::rpc::decode;
use conflux_pos_exporter::rpc::pos::{
    Account, CommitteeState, EpochRewards, PosBlock, PosStatus, PosTransaction, Registration,
};
use conflux_pos_exporter::rpc::text::{Count, RemoteText};
use conflux_pos_exporter::rpc::wire::{HexU128, HexU64, Response};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::Value;

fn result<T: DeserializeOwned>(file: &str) -> T {
    let body = fixtures::read(&fixtures::dir("rpc").join(file));
    serde_json::from_value(body["result"].clone()).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn core_space_fixtures_decode() {
    let s: Status = result("cfx_getStatus.json");
    assert_eq!(s.epoch_number.0, 0xaf28ab);
    assert_eq!(s.chain_id.0, 1);
    let b: Block = result("cfx_getBlockByHash.json");
    assert_eq!(
        b.timestamp.0, 0x5e8d32a1,
        "core-space timestamps are seconds"
    );
    assert_eq!(b.epoch_number, Some(HexU64(0x1394cb)));
    let v: String = result("cfx_clientVersion.json");
    assert_eq!(v, "conflux-rust-0.6.3");
    let e: HexU64 = result("cfx_epochNumber.json");
    assert_eq!(e.0, 0x49);
    let r: EpochRewards = result("cfx_getPoSRewardByEpoch.json");
    assert_eq!(r.account_rewards.len(), 2);
    let econ: Value = result("cfx_getPoSEconomics.json");
    let staked: HexU128 = serde_json::from_value(econ["totalPosStakingTokens"].clone()).unwrap();
    assert!(staked.0 > u64::MAX as u128);
}

#[test]
fn pos_fixtures_decode() {
    let s: PosStatus = result("pos_getStatus.json");
    assert_eq!(
        (s.epoch.0, s.latest_committed.0, s.latest_voted),
        (0x56, 0x140c, Some(HexU64(0x140e)))
    );
    assert_eq!(
        s.latest_tx_number, None,
        "the docs' example lacks latestTxNumber"
    );
    let b: PosBlock = result("pos_getBlockByHash.json");
    assert_eq!(b.signatures.len(), 2);
    assert_eq!(
        b.timestamp.0, 0x5cce0e869522a,
        "PoS timestamps are microseconds"
    );
    assert_eq!(b.miner.as_ref(), Some(&b.signatures[0].account));
    let c: CommitteeState = result("pos_getCommittee.json");
    assert_eq!(c.elections.len(), 2);
    assert_eq!(c.current_committee.quorum_voting_power.0, 0xa7);
    let a: Account = result("pos_getAccount.json");
    assert!(a.is_registered());
    assert_eq!(a.status.force_retired, None);
    let t: PosTransaction = result("pos_getTransactionByNumber.json");
    assert_eq!(t.tx_type, "PivotDecision");
    let r: EpochRewards = result("pos_getRewardsByEpoch.json");
    assert_eq!(r.account_rewards[1].reward.0, 0x2d49549e023888cd390);
}

#[test]
fn zero_filled_account_is_not_registered() {
    let a: Account = serde_json::from_value(serde_json::json!({
        "address": "0x0000000000000000000000000000000000000000000000000000000000000001", "blockNumber": "0x10",
        "status": {"availableVotes":"0x0","forfeited":"0x0","forceRetired":null,"inQueue":[],"locked":"0x0","outQueue":[],"unlocked":"0x0"}
    }))
    .unwrap();
    assert!(!a.is_registered());
}

/// Decodes `result` with the type the exporter uses for `method`; `None` for methods the exporter never calls.
fn decode_result(method: &str, result: &RawValue) -> Option<Result<(), String>> {
    fn as_type<T: DeserializeOwned>(v: &RawValue) -> Result<(), String> {
        decode::<T>(v).map(drop).map_err(|e| e.to_string())
    }
    Some(match method {
        "cfx_getStatus" => as_type::<Status>(result),
        "cfx_getBlockByEpochNumber" | "cfx_getBlockByHash" => as_type::<Option<Block>>(result),
        "cfx_epochNumber" => as_type::<HexU64>(result),
        "cfx_clientVersion" | "cfx_getBestBlockHash" | "debug_currentSyncPhase" => {
            as_type::<RemoteText>(result)
        }
        "txpool_status" => as_type::<std::collections::BTreeMap<String, HexU64>>(result),
        "cfx_getPoSRewardByEpoch" | "pos_getRewardsByEpoch" => {
            as_type::<Option<EpochRewards>>(result)
        }
        "cfx_getPoSEconomics" => as_type::<std::collections::BTreeMap<String, HexU128>>(result),
        // The exporter counts peers and reads the address from the second item.
        "test_getPeerInfo" => as_type::<Count>(result),
        "test_posRegister" => as_type::<Registration>(result),
        "test_posVotingStatus" => as_type::<bool>(result),
        "pos_getStatus" => as_type::<PosStatus>(result),
        "pos_getBlockByNumber" | "pos_getBlockByHash" => as_type::<Option<PosBlock>>(result),
        "pos_getCommittee" => as_type::<CommitteeState>(result),
        "pos_getAccount" => as_type::<Account>(result),
        "pos_getTransactionByNumber" => as_type::<Option<PosTransaction>>(result),
        _ => return None,
    })
}

/// Methods with captures that the exporter never calls: only their envelopes are decoded.
const NOT_CALLED: [&str; 5] = [
    "pos_getEpochState",
    "pos_getLedgerInfoByEpoch",
    "pos_getLedgerInfoByBlockNumber",
    "test_getBlockCount",
    "pos_noSuchMethod",
];

/// Decodes one response object: the envelope, then the result by method. Returns a failure, if any.
fn check_response(name: &str, method: &str, v: &Value) -> Option<String> {
    let text = v.to_string();
    let r: Response = match serde_json::from_str(&text) {
        Ok(r) => r,
        Err(e) => return Some(format!("{name}: envelope: {e}")),
    };
    if r.error.is_some() {
        return None;
    }
    let result = r.result.unwrap_or_else(|| RawValue::NULL.to_owned());
    match decode_result(method, &result) {
        Some(Ok(())) => None,
        Some(Err(e)) => Some(format!("{name} ({method}): {e}")),
        None if NOT_CALLED.contains(&method) => None,
        None => Some(format!("{name}: no decoder for {method}")),
    }
}

#[test]
fn every_real_capture_decodes() {
    let captures = fixtures::real_captures();
    assert!(captures.len() > 100, "found only {}", captures.len());
    let (mut failures, mut decoded) = (Vec::new(), 0);
    for c in &captures {
        let method = c.method();
        match &c.body {
            // The node closed the connection, or answered a transport error / notification without JSON.
            None | Some(Value::Null) | Some(Value::String(_)) => continue,
            Some(Value::Array(items)) => {
                let reqs = c.request.as_ref().and_then(Value::as_array);
                for item in items {
                    let m = reqs
                        .and_then(|r| r.iter().find(|q| q["id"] == item["id"]))
                        .and_then(|q| q["method"].as_str())
                        .unwrap_or("<unknown>");
                    failures.extend(check_response(&c.name, m, item));
                    decoded += 1;
                }
            }
            Some(v) => {
                failures.extend(check_response(&c.name, &method, v));
                decoded += 1;
            }
        }
    }
    assert!(decoded > 120, "decoded only {decoded} answers");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_docs_example_decodes() {
    let files = fixtures::captures(&fixtures::dir("rpc"));
    assert!(files.len() >= 13, "found only {}", files.len());
    let mut failures = Vec::new();
    for p in &files {
        let name = fixtures::stem(p);
        failures.extend(check_response(&name, &name, &fixtures::read(p)));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn real_shapes_decode_to_the_captured_values() {
    let real = |f: &str| fixtures::read(&fixtures::dir("rpc-real").join(f))["result"].clone();
    let s: PosStatus = serde_json::from_value(real("pos_getStatus.json")).unwrap();
    assert_eq!((s.latest_committed.0, s.latest_voted), (0x172, None));
    let reg: (String, String) = serde_json::from_value(real("test_posRegister.json")).unwrap();
    assert!(!reg.1.starts_with("0x") && reg.0.contains(&reg.1));
    let wrapped =
        fixtures::read(&fixtures::dir("rpc-real").join("extra_pos_getBlockByNumber_1.json"));
    let b: PosBlock = serde_json::from_value(wrapped["body"]["result"].clone()).unwrap();
    assert_eq!(
        (b.miner, b.signatures.len()),
        (None, 0),
        "genesis block: no miner, no signatures"
    );
}
