//! Unit tests of the world: routing by namespace and endpoint kind, PoS routing through a backend, voter
//! bookkeeping, effects of state-changing calls, and batch shuffling. No sockets.

use serde_json::{json, Value};

use super::call::{self, Body};
use super::config::{EndpointSpec, SimConfig};
use super::endpoint::SafetyFile;
use super::fake_pos::FakePos;
use super::patch::EndpointPatch;
use super::world::World;

const A: &str = "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn world(pos: bool) -> World {
    let mut cfg = SimConfig {
        endpoints: vec![
            EndpointSpec::node("n1", Some(A)),
            EndpointSpec::node("n2", Some(A)),
            EndpointSpec::node("n3", None),
            EndpointSpec::reference("ref"),
        ],
        pos: pos.then(|| Box::new(FakePos::default()) as Box<dyn super::PosBackend>),
        ..SimConfig::default()
    };
    World::new(&mut cfg, 1_700_000_000)
}

/// Sends one call and returns `(result, error code)`.
fn call(w: &mut World, ep: &str, method: &str, params: Value) -> Value {
    let req = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let body = call::parse(req.to_string().as_bytes());
    w.answer(ep, &body).unwrap().body.unwrap()
}

fn code(v: &Value) -> Option<i64> {
    v["error"]["code"].as_i64()
}

#[test]
fn reference_endpoints_refuse_local_namespaces() {
    let mut w = world(false);
    assert_eq!(
        code(&call(&mut w, "ref", "test_getPeerInfo", json!([]))),
        Some(-32601)
    );
    assert_eq!(
        code(&call(&mut w, "ref", "debug_currentSyncPhase", json!([]))),
        Some(-32601)
    );
    assert_eq!(
        code(&call(&mut w, "n1", "test_getPeerInfo", json!([]))),
        None
    );
    assert_eq!(
        code(&call(&mut w, "n1", "nonamespace", json!([]))),
        Some(-32601)
    );
    assert_eq!(
        code(&call(&mut w, "n1", "eth_blockNumber", json!([]))),
        Some(-32601)
    );
}

#[test]
fn pos_calls_without_backend_or_before_start_are_not_enabled() {
    let mut w = world(false);
    assert_eq!(
        code(&call(&mut w, "n1", "pos_getStatus", json!([]))),
        Some(-32078)
    );
    let mut w = world(true);
    w.patch("n1", &EndpointPatch::default().pos_not_started(true))
        .unwrap();
    assert_eq!(
        code(&call(&mut w, "n1", "pos_getStatus", json!([]))),
        Some(-32078)
    );
    w.patch("n1", &EndpointPatch::default().disable_namespace("pos"))
        .unwrap();
    assert_eq!(
        code(&call(&mut w, "n1", "pos_getStatus", json!([]))),
        Some(-32601)
    );
}

#[test]
fn pos_calls_reach_the_backend_at_the_endpoints_visible_height() {
    let mut w = world(true);
    w.advance_pos(10, 5_000_000).unwrap();
    assert_eq!(w.pos_height(), 10);
    w.patch("ref", &EndpointPatch::default().pos_lag(3))
        .unwrap();
    let s = call(&mut w, "n1", "pos_getStatus", json!([]));
    assert_eq!(s["result"]["latestCommitted"], json!("0xa"));
    let s = call(&mut w, "ref", "pos_getStatus", json!([]));
    assert_eq!(s["result"]["latestCommitted"], json!("0x7"));
    // The backend's own errors pass through unchanged.
    assert_eq!(
        code(&call(&mut w, "n1", "pos_getNothing", json!([]))),
        Some(-32601)
    );
    // The pivot decided by commits is the world's confirmed epoch, and finality follows it.
    let tip = w.pow_epoch();
    assert_eq!(
        s["result"]["pivotDecision"]["height"],
        json!(format!("{:#x}", tip - 50))
    );
    let st = call(&mut w, "n1", "cfx_getStatus", json!([]));
    assert_eq!(
        st["result"]["latestFinalized"],
        json!(format!("{:#x}", tip - 50))
    );
}

#[test]
fn voters_are_counted_per_identity() {
    let mut w = world(true);
    let voters = |w: &World| w.state_json()["pos"]["voters"].clone();
    assert_eq!(
        voters(&w),
        json!({A: 2}),
        "two nodes share key A and both vote"
    );
    w.patch("n2", &EndpointPatch::default().voting(false))
        .unwrap();
    assert_eq!(voters(&w), json!({A: 1}));
    w.patch("n1", &EndpointPatch::default().pos_identity(Some(B)))
        .unwrap();
    assert_eq!(
        voters(&w),
        json!({A: 0, B: 1}),
        "a key that lost its voter is told 0"
    );
    // A voting switch on an endpoint without identity counts for nobody.
    w.patch("n3", &EndpointPatch::default().voting(true))
        .unwrap();
    assert_eq!(voters(&w), json!({A: 0, B: 1}));
}

#[test]
fn local_control_methods_change_the_switch_and_stop_the_node() {
    let mut w = world(true);
    let r = call(&mut w, "n1", "test_posStopVoting", json!([]));
    assert_eq!(r["result"], Value::Null);
    assert_eq!(
        call(&mut w, "n1", "test_posVotingStatus", json!([]))["result"],
        json!(false)
    );
    assert_eq!(w.state_json()["pos"]["voters"], json!({A: 1}));
    // Only `.save` is left: resuming from secure_storage.json fails, as on the real node.
    let r = call(&mut w, "n1", "test_posStartVoting", json!([false]));
    assert_eq!(r["error"]["code"], json!(-32603), "{r}");
    // `[true]` turns the switch on, but without safety data the node does not sign.
    call(&mut w, "n1", "test_posStartVoting", json!([true]));
    assert_eq!(
        call(&mut w, "n1", "test_posVotingStatus", json!([]))["result"],
        json!(true)
    );
    assert_eq!(
        w.state_json()["pos"]["voters"],
        json!({A: 1}),
        "a switch is not a signer"
    );
    // The operator moves the safety data back; `[false]` resumes and the node signs again.
    w.patch(
        "n1",
        &EndpointPatch::default()
            .voting(false)
            .safety_file(SafetyFile::Live),
    )
    .unwrap();
    let r = call(&mut w, "n1", "test_posStartVoting", json!([false]));
    assert_eq!(r["result"], Value::Null, "{r}");
    assert_eq!(w.state_json()["pos"]["voters"], json!({A: 2}));
    let body = call::parse(br#"{"jsonrpc":"2.0","id":9,"method":"test_stop"}"#);
    let reply = w.answer("n2", &body).unwrap();
    assert!(reply.stop);
    assert_eq!(reply.body.unwrap()["result"], Value::Null);
    assert_eq!(w.state_json()["endpoints"]["n2"]["down"], json!(true));
    assert_eq!(w.state_json()["pos"]["voters"], json!({A: 1}));
}

#[test]
fn batches_keep_every_id_but_not_the_order() {
    let mut w = world(false);
    let reqs: Vec<Value> = (0..6)
        .map(|i| json!({"jsonrpc":"2.0","id":i,"method":"cfx_epochNumber","params":[]}))
        .collect();
    for _ in 0..20 {
        let body = call::parse(Value::Array(reqs.clone()).to_string().as_bytes());
        let out = w.answer("n1", &body).unwrap().body.unwrap();
        let ids: Vec<i64> = out
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["id"].as_i64())
            .collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, vec![0, 1, 2, 3, 4, 5]);
        assert_ne!(ids, sorted, "a batch never comes back in request order");
    }
}

#[test]
fn notifications_get_no_answer_and_bad_bodies_get_envelope_errors() {
    let mut w = world(false);
    let body = call::parse(br#"{"jsonrpc":"2.0","method":"cfx_epochNumber"}"#);
    assert_eq!(w.answer("n1", &body).unwrap().body, None);
    let out = w.answer("n1", &Body::ParseError).unwrap().body.unwrap();
    assert_eq!(code(&out), Some(-32700));
    let out = w.answer("n1", &Body::EmptyBatch).unwrap().body.unwrap();
    assert_eq!(code(&out), Some(-32600));
    assert!(w.answer("nope", &Body::EmptyBatch).is_err());
}

#[test]
fn fork_and_lag_show_in_hashes_and_heights() {
    let mut w = world(false);
    let tip = w.pow_epoch();
    w.patch("n3", &EndpointPatch::default().fork_from(Some(tip - 2)))
        .unwrap();
    let hash = |w: &mut World, ep: &str, e: u64| {
        call(
            w,
            ep,
            "cfx_getBlockByEpochNumber",
            json!([format!("{e:#x}"), false]),
        )["result"]["hash"]
            .clone()
    };
    assert_eq!(hash(&mut w, "n1", tip - 3), hash(&mut w, "n3", tip - 3));
    assert_ne!(hash(&mut w, "n1", tip - 2), hash(&mut w, "n3", tip - 2));
    w.patch("ref", &EndpointPatch::default().lag(7)).unwrap();
    let e = call(&mut w, "ref", "cfx_epochNumber", json!(["latest_mined"]));
    assert_eq!(e["result"], json!(format!("{:#x}", tip - 7)));
    let too_high = call(
        &mut w,
        "ref",
        "cfx_getBlockByEpochNumber",
        json!([format!("{tip:#x}"), false]),
    );
    assert_eq!(code(&too_high), Some(-32602));
}

#[test]
fn injected_errors_apply_to_all_or_one_method() {
    let mut w = world(false);
    let err: super::InjectedError = serde_json::from_value(
        json!({"code": -32000, "message": "boom", "method": "cfx_getStatus"}),
    )
    .unwrap();
    w.patch("n1", &EndpointPatch::default().error(Some(err.clone())))
        .unwrap();
    let r = call(&mut w, "n1", "cfx_getStatus", json!([]));
    assert_eq!(r["error"], json!({"code": -32000, "message": "boom"}));
    assert_eq!(
        code(&call(&mut w, "n1", "cfx_epochNumber", json!([]))),
        None
    );
    let all = super::InjectedError {
        method: None,
        ..err
    };
    w.patch("n1", &EndpointPatch::default().error(Some(all)))
        .unwrap();
    assert_eq!(
        code(&call(&mut w, "n1", "cfx_epochNumber", json!([]))),
        Some(-32000)
    );
}
