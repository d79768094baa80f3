//! RPC surface: shapes against the node's documented responses, lagging views, parameter errors.
//!
//! The fixtures are read from `tests/fixtures/rpc/` of the workspace root (one copy for both crates), or from
//! `$CONFLUX_FIXTURES_DIR`.

use std::path::PathBuf;

use serde_json::{json, Value};

use super::tests::{addr, call, params, run_to};
use super::*;

fn fixture(name: &str) -> Value {
    let mut dirs: Vec<PathBuf> = std::env::var_os("CONFLUX_FIXTURES_DIR")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    dirs.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/rpc"));
    for dir in &dirs {
        if let Ok(text) = std::fs::read_to_string(dir.join(name)) {
            let doc: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {name}: {e}"));
            return doc["result"].clone();
        }
    }
    panic!("fixture {name} not found in {dirs:?}; set CONFLUX_FIXTURES_DIR");
}

fn is_h256(s: &str) -> bool {
    s.len() == 66
        && s.starts_with("0x")
        && s[2..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn is_quantity(s: &str) -> bool {
    s.strip_prefix("0x").is_some_and(|h| {
        !h.is_empty()
            && (h == "0" || !h.starts_with('0'))
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Asserts `ours` is shaped like the node's `fixture`: the same keys (plus `extra` ones), hashes where it has
/// hashes, quantities where it has quantities, and every array element shaped like the fixture's first.
fn assert_shape(ours: &Value, fixture: &Value, path: &str, extra: &[&str]) {
    match fixture {
        Value::Object(f) => {
            let o = ours
                .as_object()
                .unwrap_or_else(|| panic!("{path}: expected an object, got {ours}"));
            let mut ours_keys: Vec<&String> =
                o.keys().filter(|k| !extra.contains(&k.as_str())).collect();
            let mut want: Vec<&String> = f.keys().collect();
            ours_keys.sort();
            want.sort();
            assert_eq!(ours_keys, want, "{path}: key set");
            for (k, fv) in f {
                assert_shape(&o[k], fv, &format!("{path}.{k}"), extra);
            }
        }
        Value::Array(f) => {
            let o = ours
                .as_array()
                .unwrap_or_else(|| panic!("{path}: expected an array, got {ours}"));
            if let Some(first) = f.first() {
                for (i, item) in o.iter().enumerate() {
                    assert_shape(item, first, &format!("{path}[{i}]"), extra);
                }
            }
        }
        Value::String(s) if is_h256(s) => assert!(
            ours.as_str().is_some_and(is_h256),
            "{path}: H256, got {ours}"
        ),
        Value::String(s) if s.starts_with("0x") => {
            assert!(
                ours.as_str().is_some_and(is_quantity),
                "{path}: quantity, got {ours}"
            )
        }
        Value::String(_) => assert!(ours.is_string(), "{path}: string, got {ours}"),
        Value::Null => assert!(
            ours.is_null() || ours.as_str().is_some_and(is_quantity),
            "{path}: null, got {ours}"
        ),
        Value::Bool(_) => assert!(ours.is_boolean(), "{path}: bool, got {ours}"),
        Value::Number(_) => assert!(ours.is_number(), "{path}: number, got {ours}"),
    }
}

/// No JSON number anywhere: every quantity the node prints is a hex string.
fn assert_no_numbers(v: &Value, path: &str) {
    match v {
        Value::Number(n) => panic!("{path}: JSON number {n}"),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| assert_no_numbers(x, &format!("{path}[{i}]"))),
        Value::Object(o) => o
            .iter()
            .for_each(|(k, x)| assert_no_numbers(x, &format!("{path}.{k}"))),
        _ => {}
    }
}

fn busy_chain() -> PosChain {
    let mut c = PosChain::new(params());
    c.register(&addr(7), 5, None).unwrap();
    run_to(&mut c, 12);
    c.retire(&addr(7), 1).unwrap();
    c.set_voters(&addr(2), 2);
    run_to(&mut c, 25);
    c
}

#[test]
fn results_are_shaped_like_the_node_fixtures() {
    let c = busy_chain();
    let block = call(&c, "pos_getBlockByNumber", json!(["0x19"]));
    assert_shape(&block, &fixture("pos_getBlockByHash.json"), "block", &[]);
    assert_eq!(
        call(&c, "pos_getBlockByHash", json!([block["hash"]])),
        block
    );
    let account = call(&c, "pos_getAccount", json!([addr(7)]));
    assert_shape(&account, &fixture("pos_getAccount.json"), "account", &[]);
    assert_eq!(
        account["status"]["outQueue"].as_array().map(Vec::len),
        Some(1)
    );
    let committee = call(&c, "pos_getCommittee", json!([]));
    assert_shape(
        &committee,
        &fixture("pos_getCommittee.json"),
        "committee",
        &[],
    );
    assert_eq!(committee["elections"].as_array().map(Vec::len), Some(2));
    let rewards = call(&c, "pos_getRewardsByEpoch", json!(["0x2"]));
    assert_shape(
        &rewards,
        &fixture("pos_getRewardsByEpoch.json"),
        "rewards",
        &[],
    );
    let status = call(&c, "pos_getStatus", json!([]));
    assert_shape(
        &status,
        &fixture("pos_getStatus.json"),
        "status",
        &["latestTxNumber"],
    );
    assert!(status["latestTxNumber"].as_str().is_some_and(is_quantity));
    let tx = call(&c, "pos_getTransactionByNumber", json!(["0x2"]));
    assert_eq!(tx["type"], json!("PivotDecision"));
    assert_shape(&tx, &fixture("pos_getTransactionByNumber.json"), "tx", &[]);
}

#[test]
fn every_quantity_is_a_hex_string() {
    let c = busy_chain();
    let last = super::tests::hex(&call(&c, "pos_getStatus", json!([]))["latestTxNumber"]);
    let mut kinds = std::collections::BTreeSet::new();
    for n in 1..=last {
        let t = call(&c, "pos_getTransactionByNumber", json!([format!("{n:#x}")]));
        assert_no_numbers(&t, &format!("tx {n}"));
        kinds.insert(t["type"].as_str().unwrap_or_default().to_string());
    }
    let want = [
        "BlockMetadata",
        "Dispute",
        "Election",
        "PivotDecision",
        "Register",
        "Retire",
        "UpdateVotingPower",
    ];
    assert_eq!(kinds.iter().map(String::as_str).collect::<Vec<_>>(), want);
    for h in 0..=25u64 {
        assert_no_numbers(
            &call(&c, "pos_getBlockByNumber", json!([format!("{h:#x}")])),
            &format!("block {h}"),
        );
    }
    for (m, p) in [
        ("pos_getStatus", json!([])),
        ("pos_getCommittee", json!(["0xa"])),
        ("pos_getAccount", json!([addr(2)])),
        ("pos_getRewardsByEpoch", json!(["0x1"])),
    ] {
        assert_no_numbers(&call(&c, m, p), m);
    }
}

#[test]
fn past_states_exist_only_at_epoch_ending_views() {
    let c = busy_chain();
    let not_found = |v: u64| {
        Err((
            PROCESSING_ERROR,
            format!("Error processing request: Msg error detail: PoS state of {v} not found"),
        ))
    };
    assert_eq!(c.rpc("pos_getCommittee", &[json!("0x5")], 25), not_found(5));
    assert_eq!(
        c.rpc("pos_getAccount", &[json!(addr(1)), json!("0xb")], 25),
        not_found(11)
    );
    for view in ["0x0", "0xa", "0x14"] {
        assert!(
            c.rpc("pos_getCommittee", &[json!(view)], 25).is_ok(),
            "{view}"
        );
        assert!(c
            .rpc("pos_getAccount", &[json!(addr(1)), json!(view)], 25)
            .is_ok());
    }
}

#[test]
fn a_lagging_node_sees_less() {
    let c = busy_chain();
    let at = |m: &str, p: Value| c.rpc(m, p.as_array().map_or(&[][..], |a| a), 12);
    let status = at("pos_getStatus", json!([])).unwrap_or_default();
    assert_eq!(
        (status["latestCommitted"].clone(), status["epoch"].clone()),
        (json!("0xc"), json!("0x2"))
    );
    assert_eq!(at("pos_getBlockByNumber", json!(["0xd"])), Ok(Value::Null));
    assert_eq!(
        at("pos_getBlockByNumber", json!(["latest_committed"])).unwrap_or_default()["height"],
        json!("0xc")
    );
    let h20 = call(&c, "pos_getBlockByNumber", json!(["0x14"]))["hash"].clone();
    assert_eq!(at("pos_getBlockByHash", json!([h20])), Ok(Value::Null));
    let msg = "Error processing request: Msg error detail: Specified block 20 is not executed, the latest \
               block number is 12"
        .to_string();
    assert_eq!(
        at("pos_getAccount", json!([addr(1), "0x14"])),
        Err((PROCESSING_ERROR, msg.clone()))
    );
    assert_eq!(
        at("pos_getCommittee", json!(["0x14"])),
        Err((PROCESSING_ERROR, msg))
    );
    let acc = at("pos_getAccount", json!([addr(7)])).unwrap_or_default();
    assert_eq!(
        (
            acc["blockNumber"].clone(),
            acc["status"]["outQueue"].clone()
        ),
        (json!("0xc"), json!([]))
    );
    assert_eq!(
        c.rpc("pos_getStatus", &[], 1_000).unwrap_or_default()["latestCommitted"],
        json!("0x19")
    );
}

#[test]
fn unknown_account_is_zero_filled() {
    let c = busy_chain();
    let who = format!("0x{}", "ab".repeat(32));
    let acc = c.rpc(
        "pos_getAccount",
        &[json!(who.to_uppercase().replace("0X", "0x")), json!("0xa")],
        25,
    );
    let want = json!({"address": who, "blockNumber": "0xa", "status": {"availableVotes": "0x0", "forfeited": "0x0",
        "forceRetired": null, "inQueue": [], "locked": "0x0", "outQueue": [], "unlocked": "0x0"}});
    assert_eq!(acc, Ok(want));
    let by_pow = call(
        &c,
        "pos_getAccountByPowAddress",
        json!(["CFX:TYPE.USER:NOBODY"]),
    );
    assert_eq!(by_pow["address"], json!(format!("0x{}", "0".repeat(64))));
}

#[test]
fn bad_parameters_are_invalid_params() {
    let c = busy_chain();
    for (m, p) in [
        ("pos_getBlockByNumber", json!(["12"])),
        ("pos_getBlockByNumber", json!([12])),
        ("pos_getBlockByNumber", json!(["0x"])),
        ("pos_getBlockByNumber", json!(["latest"])),
        ("pos_getBlockByNumber", json!([])),
        ("pos_getTransactionByNumber", json!(["0xzz"])),
        ("pos_getAccount", json!(["0x1234"])),
        ("pos_getAccount", json!([addr(1), "5"])),
        ("pos_getBlockByHash", json!([format!("{}", "a".repeat(64))])),
        ("pos_getRewardsByEpoch", json!([null])),
    ] {
        let args = p.as_array().cloned().unwrap_or_default();
        assert_eq!(
            c.rpc(m, &args, 25).map_err(|e| e.0),
            Err(INVALID_PARAMS),
            "{m} {p}"
        );
    }
    assert_eq!(
        c.rpc("pos_getLedgerInfoByEpoch", &[], 25).map_err(|e| e.0),
        Err(METHOD_NOT_FOUND)
    );
    assert_eq!(
        call(&c, "pos_getBlockByNumber", json!(["earliest"]))["height"],
        json!("0x1")
    );
}

#[test]
fn consensus_blocks_hold_the_root_and_the_next_qc_of_the_live_members() {
    let mut c = PosChain::new(params());
    run_to(&mut c, 25);
    let blocks = call(&c, "pos_getConsensusBlocks", json!([]));
    let blocks = blocks.as_array().unwrap();
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0], call(&c, "pos_getBlockByNumber", json!(["0x19"])));
    let next = &blocks[1];
    assert_eq!(
        (next["height"].clone(), next["pivotDecision"].clone()),
        (json!("0x0"), Value::Null)
    );
    assert_eq!(next["parentHash"], blocks[0]["hash"]);
    assert_no_numbers(next, "pending block");
    let signers = |b: &Value| -> Vec<String> {
        b["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["account"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(signers(next).contains(&addr(1)));
    // A member that stops voting is missing from the next QC at once; without a quorum there is no next block.
    c.set_member_voting(&addr(1), false).unwrap();
    let blocks = call(&c, "pos_getConsensusBlocks", json!([]));
    assert!(!signers(&blocks[1]).contains(&addr(1)));
    c.set_member_voting(&addr(2), false).unwrap();
    assert_eq!(
        call(&c, "pos_getConsensusBlocks", json!([]))
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}
