//! Whatever a node answers, the exporter never panics: random JSON in every slot of a poll's batch goes through
//! the chain and PoS decoders, which must drop and count it.

use conflux_pos_exporter::rpc::{to_raw, Answer, RpcError};
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

fn answers(n: usize) -> impl Strategy<Value = Vec<Answer>> {
    prop::collection::vec(
        prop_oneof![
            any_json().prop_map(|v| Ok(to_raw(&v))),
            any::<i64>().prop_map(|code| Err(RpcError::Rpc {
                code,
                message: "x".into()
            })),
        ],
        n..=n,
    )
}

/// Decodes `raw` as every type the exporter reads an answer into; none may panic, whatever the text.
fn decode_as_every_type(raw: &serde_json::value::RawValue) {
    use conflux_pos_exporter::rpc::{cfx, decode, pos, text, wire};
    let _ = decode::<cfx::Status>(raw);
    let _ = decode::<Option<cfx::Block>>(raw);
    let _ = decode::<pos::PosStatus>(raw);
    let _ = decode::<Option<pos::PosBlock>>(raw);
    let _ = decode::<pos::CommitteeState>(raw);
    let _ = decode::<pos::Account>(raw);
    let _ = decode::<Option<pos::PosTransaction>>(raw);
    let _ = decode::<Option<pos::EpochRewards>>(raw);
    let _ = decode::<pos::Registration>(raw);
    let _ = decode::<text::Count>(raw);
    let _ = decode::<text::RemoteText>(raw);
    let _ = decode::<wire::HexU64>(raw);
    let _ = decode::<wire::HexU128>(raw);
    let _ = decode::<bool>(raw);
}

/// Strings a hostile node might put where a quantity, hash, address or type name belongs.
fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "0x[0-9a-fA-F]{0,70}",
        "(0x)?[0-9a-fA-F]{60,70}",
        ".{0,300}",
        "[\\x00-\\x1f\\u{202e}]{0,20}",
        Just("0xffffffffffffffff".to_string()),
        Just("0x1ffffffffffffffffffffffffffffffff".to_string()),
        Just(format!("0x{}", "0".repeat(5000))),
    ]
}

/// Realistic shapes with hostile strings and numbers in every leaf.
fn hostile_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        hostile_string().prop_map(Value::String),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("hash".to_string()),
                    Just("height".to_string()),
                    Just("epoch".to_string()),
                    Just("round".to_string()),
                    Just("lastTxNumber".to_string()),
                    Just("latestCommitted".to_string()),
                    Just("timestamp".to_string()),
                    Just("signatures".to_string()),
                    Just("account".to_string()),
                    Just("votes".to_string()),
                    Just("type".to_string()),
                    Just("payload".to_string()),
                    Just("address".to_string()),
                    Just("from".to_string()),
                    Just("number".to_string()),
                    Just("epochNumber".to_string()),
                    Just("chainId".to_string()),
                    Just("currentCommittee".to_string()),
                    Just("elections".to_string()),
                    Just("nodes".to_string()),
                    Just("accountRewards".to_string()),
                    Just("reward".to_string()),
                    hostile_string(),
                ],
                inner,
                0..10
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_decoder_takes_any_answer_without_panicking(v in hostile_json()) {
        decode_as_every_type(&to_raw(&v));
    }

    #[test]
    fn every_decoder_takes_any_text_without_panicking(s in ".{0,200}") {
        if let Ok(raw) = serde_json::value::RawValue::from_string(s) {
            decode_as_every_type(&raw);
        }
    }

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
            results.resize_with(calls.len(), || Ok(to_raw(&Value::Null)));
            let _ = pos.apply(Ok(results));
            pos.choose_local();
            if let Some(extra) = pos.extra_calls() {
                let n = extra.len();
                let _ = pos.apply_extra((0..n).map(|_| Ok(to_raw(&Value::Null))).collect());
            }
        }
    }
}

const US: &str = "0xabababababababababababababababababababababababababababababababab";

fn ok(v: Value) -> Answer {
    Ok(to_raw(&v))
}

/// A source that knows our address, and the realistic first two answers of its head batch (status, then a
/// committee with these `nodes` and these `elections`).
fn source_and_head(nodes: Value, elections: Value) -> (PosSource, Vec<Answer>) {
    let pos = PosSource::new(conflux_pos_exporter::pos_address::PosAddress::parse(US).ok());
    let head = vec![
        ok(
            json!({"epoch":"0x5","latestCommitted":"0x32","latestVoted":null,"pivotDecision":{"blockHash":"0x1","height":"0x2"}}),
        ),
        ok(
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
    results.resize_with(calls.len(), || ok(json!({"garbage": [1, 2, 3]})));
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
        ok(json!(true)),
        ok(
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
    let mut results: Vec<Answer> = calls.iter().map(|_| ok(Value::Null)).collect();
    let register = calls.len() - 1;
    results[register] = ok(json!(["0x00", "0x12"]));
    let bad = pos.apply(Ok(results));
    pos.choose_local();
    assert!(bad.contains(&"test_posRegister"), "{bad:?}");
    assert!(pos.obs.address.is_none());
}
