//! Whatever a node answers, the exporter never panics: random JSON in every slot of a poll's batch goes through
//! the chain and PoS decoders, which must drop and count it.

use conflux_pos_exporter::rpc::RpcError;
use conflux_pos_exporter::watch::{chain, pos::PosSource};
use proptest::prelude::*;
use serde_json::{json, Value};

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "(0x)?[0-9a-fA-Fz]{0,20}".prop_map(Value::String),
        ".{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("epoch".to_string()),
                    Just("latestCommitted".to_string()),
                    Just("height".to_string()),
                    Just("signatures".to_string()),
                    Just("currentCommittee".to_string()),
                    Just("elections".to_string()),
                    "[a-zA-Z]{1,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn answers(n: usize) -> impl Strategy<Value = Vec<Result<Value, RpcError>>> {
    prop::collection::vec(
        prop_oneof![
            any_json().prop_map(Ok),
            any::<i64>().prop_map(|code| Err(RpcError::Rpc {
                code,
                message: "x".into()
            })),
        ],
        n..=n,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn chain_answers_never_panic(results in answers(6)) {
        let _ = chain::apply(&chain::calls(), results);
    }

    #[test]
    fn pos_answers_never_panic(first in answers(4), second in answers(4)) {
        let mut pos = PosSource::new(conflux_pos_exporter::pos_address::PosAddress::parse(&"ab".repeat(32)).ok());
        for results in [first, second] {
            let calls = pos.calls();
            let mut results = results;
            results.resize_with(calls.len(), || Ok(Value::Null));
            let _ = pos.apply(Ok(results));
            pos.choose_local();
            if let Some(extra) = pos.extra_calls() {
                let n = extra.len();
                let _ = pos.apply_extra((0..n).map(|_| Ok(Value::Null)).collect());
            }
        }
    }
}

const US: &str = "0xabababababababababababababababababababababababababababababababab";

/// A source that knows our address, and the realistic first two answers of its head batch (status, then a
/// committee with these `nodes` and these `elections`).
fn source_and_head(nodes: Value, elections: Value) -> (PosSource, Vec<Result<Value, RpcError>>) {
    let pos = PosSource::new(conflux_pos_exporter::pos_address::PosAddress::parse(US).ok());
    let head = vec![
        Ok(
            json!({"epoch":"0x5","latestCommitted":"0x32","latestVoted":null,"pivotDecision":{"blockHash":"0x1","height":"0x2"}}),
        ),
        Ok(
            json!({"currentCommittee":{"epochNumber":"0x5","quorumVotingPower":"0x3","totalVotingPower":"0x4",
            "nodes": nodes}, "elections": elections}),
        ),
    ];
    (pos, head)
}

#[test]
fn a_realistic_pos_answer_followed_by_garbage_keeps_the_source_usable() {
    let (mut pos, mut results) = source_and_head(
        json!([{"address": US, "votingPower":"0x4"}]),
        json!([{"isFinalized":false,"startBlockNumber":"0x50","topElectingNodes":[]},
               {"isFinalized":false,"startBlockNumber":"0x5a","topElectingNodes":[]}]),
    );
    let calls = pos.calls();
    results.resize_with(calls.len(), || Ok(json!({"garbage": [1, 2, 3]})));
    let bad = pos.apply(Ok(results));
    pos.choose_local();
    assert_eq!(
        bad,
        vec!["test_posVotingStatus", "pos_getAccount"],
        "the garbage answers are counted and named by method"
    );
    assert_eq!(pos.obs.epoch_length, Some(10));
    assert!(pos.obs.status.is_some());
}

/// A PoS address that is not 32 bytes of hex, wherever the node sends one, makes that answer malformed: counted
/// under its method and dropped, never read as "some other key" (which would call us not a committee member).
#[test]
fn a_malformed_pos_address_in_an_answer_is_counted_not_taken() {
    let (mut pos, mut results) = source_and_head(
        json!([{"address": US, "votingPower":"0x2"}, {"address": "0x12", "votingPower":"0x2"}]),
        json!([]),
    );
    let calls = pos.calls();
    results.extend([
        Ok(json!(true)),
        Ok(
            json!({"address": format!("0x{}", "zz".repeat(32)), "blockNumber":"0x32","status":{
            "availableVotes":"0x1","forceRetired":null,"forfeited":"0x0","inQueue":[],"locked":"0x1",
            "outQueue":[],"unlocked":"0x0"}}),
        ),
    ]);
    assert_eq!(results.len(), calls.len());
    let bad = pos.apply(Ok(results));
    pos.choose_local();
    assert_eq!(bad, vec!["pos_getCommittee", "pos_getAccount"]);
    assert!(pos.obs.committee.is_none() && pos.obs.account.is_none());

    // Without an address, test_posRegister's answer is where it enters: a malformed one is counted too.
    let mut pos = PosSource::new(None);
    let calls = pos.calls();
    let mut results: Vec<Result<Value, RpcError>> = calls.iter().map(|_| Ok(Value::Null)).collect();
    let register = calls.len() - 1;
    results[register] = Ok(json!(["0x00", "0x12"]));
    let bad = pos.apply(Ok(results));
    pos.choose_local();
    assert!(bad.contains(&"test_posRegister"), "{bad:?}");
    assert!(pos.obs.address.is_none());
}
