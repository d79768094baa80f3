//! The simulator answers like the real node: for every capture in `shared/fixtures/rpc-real/` (devnet,
//! devnet in its first minute, node without PoS), the same request sent to the simulator gets an answer of the
//! same JSON structure (see `support::shapes`), the same HTTP status and content type, and a closed
//! connection where the real node closed it.

use conflux_sim_test_support as support;

use std::collections::BTreeMap;

use conflux_sim::pos::{MemberSpec, PosChain, PosParams};
use conflux_sim::{EndpointPatch, EndpointSpec, Sim, SimConfig, SimHandle};
use serde_json::{json, Value};
use support::fixtures::{real_captures, Capture};
use support::rpc::{client, post_raw, result};
use support::shapes::{compare, Seen};

/// The devnet's four validators, so captured `pos_getAccount` requests ask about a real member.
const MEMBERS: [&str; 4] = [
    "0x1107df9be07a57c028a4e0c426fcc62eac0fd6069428c789188622a61fe386ce",
    "0x19c84ca666e2e97732526ef606a590c78a164b84db708c37e1cffb8a5122a0c5",
    "0x5a7fe8dd688946b24acc68e1f6d11e9ad36d5c6c96c212198181ed067bd648ca",
    "0xac0db7c3836f6f3f981121802f7d60bc486552997096e9fda6d13423668d32c8",
];

/// Methods the real node serves that the simulator does not model (the exporter never calls them); the
/// simulator must say "Method not found" for them rather than answer in a different shape.
const NOT_MODELLED: [&str; 6] = [
    "cfx_getPoSEconomics",
    "cfx_getPoSRewardByEpoch",
    "pos_getLedgerInfoByBlockNumber",
    "pos_getLedgerInfoByEpoch",
    "pos_getEpochState",
    "test_getBlockCount",
];

/// Differences the simulator keeps on purpose: (capture, text of the difference, why).
const ACCEPTED: [(&str, &str, &str); 1] = [(
    "devmode-nopos/cfx_getBlockByEpochNumber",
    "baseFeePerGas",
    "that dev-mode node ran without CIP-1559; the simulated chain, like mainnet, has it",
)];

/// A devnet-like simulator (chain 10, 10-block epochs, 400 PoS blocks) with a PoS node and a node without PoS.
async fn devnet() -> SimHandle {
    let members = MEMBERS
        .iter()
        .enumerate()
        .map(|(i, a)| MemberSpec {
            address: a.to_string(),
            voting_power: 75,
            pow_address: format!("NET10:TYPE.USER:AASMT41M5DDT64MP6E7F9BXBDCRKXMKNKPFXXNA40{i}"),
        })
        .collect();
    let params = PosParams {
        epoch_length: 10,
        members,
        ..PosParams::default()
    };
    let sim = Sim::start(SimConfig {
        chain_id: 10,
        network_id: 10,
        endpoints: vec![
            EndpointSpec::node("node", Some(MEMBERS[0])),
            EndpointSpec::node("nopos", Some(MEMBERS[1])),
        ],
        pos: Some(Box::new(PosChain::new(params))),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    sim.advance_pos(400).expect("PoS advances");
    let knob = EndpointPatch {
        pos_disabled: Some(true),
        ..EndpointPatch::default()
    };
    sim.patch_endpoint("nopos", knob).await.expect("patch");
    sim
}

/// What the simulator answered: `None` when it closed the connection without an HTTP response.
struct Answer {
    status: u16,
    content_type: String,
    body: Value,
    text: String,
}

async fn send(url: &str, request: &Value) -> Option<Answer> {
    let raw = match request {
        Value::String(s) if s.starts_with("GET") => {
            let r = client().get(url).send().await.ok()?;
            let status = r.status().as_u16();
            let ct = r.headers().get("content-type").cloned();
            (status, ct, r.bytes().await.ok()?.to_vec())
        }
        Value::String(s) if s.contains("without Content-Type") => {
            let body = json!({"jsonrpc":"2.0","id":1,"method":"cfx_getStatus","params":[]});
            let r = client()
                .post(url)
                .body(body.to_string())
                .send()
                .await
                .ok()?;
            let status = r.status().as_u16();
            let ct = r.headers().get("content-type").cloned();
            (status, ct, r.bytes().await.ok()?.to_vec())
        }
        _ => {
            let r = post_raw(url, "application/json", request.to_string())
                .await
                .ok()?;
            (r.status, r.headers.get("content-type").cloned(), r.body)
        }
    };
    let text = String::from_utf8_lossy(&raw.2).to_string();
    Some(Answer {
        status: raw.0,
        content_type: raw
            .1
            .and_then(|v| v.to_str().ok().map(str::to_string))
            .unwrap_or_default(),
        body: if raw.2.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&raw.2).unwrap_or(Value::String(text.clone()))
        },
        text,
    })
}

/// Per method, everything the real captures show (batch items are filed under their own method).
fn seen_by_method(captures: &[Capture]) -> BTreeMap<String, Seen> {
    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    for c in captures {
        let Some(body) = &c.body else { continue };
        match (body, c.request.as_ref().and_then(Value::as_array)) {
            (Value::Array(items), Some(reqs)) => {
                for item in items {
                    let m = reqs
                        .iter()
                        .find(|r| r["id"] == item["id"])
                        .and_then(|r| r["method"].as_str())
                        .unwrap_or("<batch>");
                    seen.entry(m.to_string()).or_default().add("$", item);
                }
            }
            _ => seen.entry(c.method()).or_default().add("$", body),
        }
    }
    seen
}

/// The capture's request adapted to the simulator's chain where it names a real hash or transaction.
async fn adapt(url: &str, c: &Capture) -> Option<Value> {
    let base = c.name.rsplit('/').next().unwrap_or_default();
    let real_type = c.body.as_ref().and_then(|b| b["result"]["type"].as_str());
    let ty = base
        .strip_prefix("pos_getTransactionByNumber_type_")
        .or(real_type);
    if let Some(ty) = ty.filter(|_| c.method() == "pos_getTransactionByNumber") {
        // Transaction numbers differ between chains: ask for one of the same type.
        let status = result(url, "pos_getStatus", json!([])).await;
        let last = support::wire::qty(&status["latestTxNumber"]);
        for n in (1..=last).rev() {
            let p = json!([format!("{n:#x}")]);
            if result(url, "pos_getTransactionByNumber", p.clone()).await["type"] == ty {
                return Some(
                    json!({"jsonrpc":"2.0","id":1,"method":"pos_getTransactionByNumber","params":p}),
                );
            }
        }
        panic!("{}: the simulator has no {ty} transaction", c.name);
    }
    let mut req = c.request.clone()?;
    if req["method"] == "pos_getBlockByHash" {
        let height = c.body.as_ref()?["result"]["height"].clone();
        let block = result(url, "pos_getBlockByNumber", json!([height])).await;
        req["params"] = json!([block["hash"]]);
    }
    Some(req)
}

fn check_body(
    c: &Capture,
    sim: &Value,
    real: &Value,
    seen: &BTreeMap<String, Seen>,
) -> Vec<String> {
    let mut errs = Vec::new();
    let empty = Seen::default();
    match (sim, real, c.request.as_ref().and_then(Value::as_array)) {
        (Value::Array(s), Value::Array(r), Some(reqs)) => {
            if s.len() != r.len() {
                errs.push(format!("batch of {} answers, real {}", s.len(), r.len()));
            }
            for ri in r {
                let m = reqs
                    .iter()
                    .find(|q| q["id"] == ri["id"])
                    .and_then(|q| q["method"].as_str());
                let seen = m.and_then(|m| seen.get(m)).unwrap_or(&empty);
                match s.iter().find(|si| si["id"] == ri["id"]) {
                    Some(si) => compare(si, ri, "$", seen, &mut errs),
                    None => errs.push(format!("no answer with id {}", ri["id"])),
                }
            }
        }
        _ => compare(
            sim,
            real,
            "$",
            seen.get(&c.method()).unwrap_or(&empty),
            &mut errs,
        ),
    }
    errs
}

/// Every difference between the simulator's answer and the capture `c`.
fn judge(c: &Capture, answer: Option<Answer>, seen: &BTreeMap<String, Seen>) -> Vec<String> {
    match (c.body.as_ref(), answer) {
        (None, None) => Vec::new(),
        (None, Some(a)) => vec![format!(
            "real node closed the connection, simulator answered {} {}",
            a.status, a.text
        )],
        (Some(_), None) => vec!["simulator closed the connection".to_string()],
        (Some(real), Some(a)) => {
            let mut errs = Vec::new();
            if let Some((status, ct)) = &c.http {
                if (a.status, &a.content_type) != (*status, ct) {
                    errs.push(format!(
                        "HTTP {} {:?}, real {status} {ct:?}",
                        a.status, a.content_type
                    ));
                }
            }
            if let Value::String(text) = real {
                if &a.text != text {
                    errs.push(format!("body {:?}, real {text:?}", a.text));
                }
            } else {
                errs.extend(check_body(c, &a.body, real, seen));
            }
            errs
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_real_capture_has_the_same_shape_in_the_simulator() {
    let captures = real_captures();
    assert!(
        captures.len() > 100,
        "found only {} captures",
        captures.len()
    );
    let seen = seen_by_method(&captures);
    let sim = devnet().await;
    let mut failures = Vec::new();
    let mut compared = 0;
    for c in &captures {
        let nopos = c.name.starts_with("devmode-nopos/");
        let url = sim.url(if nopos { "nopos" } else { "node" }).unwrap();
        // Without PoS the real node closed the connection on these too: compared below like any capture.
        if NOT_MODELLED.contains(&c.method().as_str()) && !(nopos && c.body.is_none()) {
            let r = support::rpc::call(&url, &c.method(), json!([])).await;
            if support::rpc::code(&r) != Some(-32601) {
                failures.push(format!("{}: not modelled, yet answered {r}", c.name));
            }
            continue;
        }
        let Some(request) = adapt(&url, c).await else {
            continue;
        };
        let answer = send(&url, &request).await;
        compared += 1;
        let errs = judge(c, answer, &seen);
        let accepted = |e: &String| {
            ACCEPTED
                .iter()
                .any(|(n, t, _)| c.name == *n && e.contains(t))
        };
        failures.extend(
            errs.into_iter()
                .filter(|e| !accepted(e))
                .map(|e| format!("{}: {e}", c.name)),
        );
    }
    eprintln!("compared {compared} of {} captures", captures.len());
    assert!(compared > 90, "compared only {compared} captures");
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
