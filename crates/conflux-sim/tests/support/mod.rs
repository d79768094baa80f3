//! Helpers shared by the simulator's integration tests: a real HTTP client speaking JSON-RPC and the control
//! API, so the tests exercise the same transport the exporter uses.

#![allow(dead_code)]

/// One copy for both crates: the captures live in the repository's `tests/fixtures/`.
#[path = "../../../../tests/support/fixtures.rs"]
pub mod fixtures;
pub mod shapes;

use std::time::Duration;

use conflux_sim::{EndpointSpec, FakePos, PosBackend, Sim, SimConfig, SimHandle};
use serde_json::{json, Value};

/// A PoS address used as the node identity in tests.
pub const ID: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";

/// One node (`local`, identity [`ID`], voting) and one reference (`ref`), manual mode, optional fake PoS.
pub async fn start(pos: bool) -> SimHandle {
    let cfg = SimConfig {
        endpoints: vec![
            EndpointSpec::node("local", Some(ID)),
            EndpointSpec::reference("ref"),
        ],
        pos: pos.then(|| Box::new(FakePos::default()) as Box<dyn PosBackend>),
        ..SimConfig::default()
    };
    Sim::start(cfg).await.expect("simulator starts")
}

/// A client with short timeouts so a broken simulator fails tests quickly. Built once per test thread
/// (each `#[tokio::test]` has its own thread and runtime): building a TLS-capable client is the slowest
/// step of these tests.
pub fn client() -> reqwest::Client {
    thread_local! {
        static CLIENT: reqwest::Client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("client builds");
    }
    CLIENT.with(Clone::clone)
}

/// A raw HTTP answer.
#[derive(Debug)]
pub struct Raw {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Raw {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("body is JSON")
    }
}

/// POSTs `body` with the given content type.
pub async fn post_raw(url: &str, content_type: &str, body: String) -> Result<Raw, reqwest::Error> {
    let resp = client()
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.bytes().await?.to_vec();
    Ok(Raw {
        status,
        headers,
        body,
    })
}

/// Sends a JSON-RPC body (single or batch) and returns the parsed answer.
pub async fn rpc(url: &str, body: Value) -> Value {
    let raw = post_raw(url, "application/json", body.to_string())
        .await
        .expect("request succeeds");
    assert_eq!(
        raw.status,
        200,
        "body: {}",
        String::from_utf8_lossy(&raw.body)
    );
    raw.json()
}

/// Calls one method and returns the whole response object.
pub async fn call(url: &str, method: &str, params: Value) -> Value {
    rpc(
        url,
        json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}),
    )
    .await
}

/// Calls one method and returns its `result`, failing the test on an error object.
pub async fn result(url: &str, method: &str, params: Value) -> Value {
    let r = call(url, method, params).await;
    assert!(r.get("error").is_none(), "{method} failed: {r}");
    r["result"].clone()
}

/// The error code of a response, if it is an error.
pub fn code(r: &Value) -> Option<i64> {
    r["error"]["code"].as_i64()
}

/// POSTs a JSON body to the control API path (e.g. "/endpoint/local").
pub async fn control_post(sim: &SimHandle, path: &str, body: Value) -> (u16, Value) {
    let raw = post_raw(
        &format!("{}{path}", sim.control_url()),
        "application/json",
        body.to_string(),
    )
    .await
    .expect("control request succeeds");
    (raw.status, raw.json())
}

/// GETs a control API path.
pub async fn control_get(sim: &SimHandle, path: &str) -> (u16, Value) {
    let resp = client()
        .get(format!("{}{path}", sim.control_url()))
        .send()
        .await
        .expect("control request succeeds");
    let status = resp.status().as_u16();
    let body = resp.bytes().await.expect("body");
    (
        status,
        serde_json::from_slice(&body).expect("control answers JSON"),
    )
}

/// `"0x"` + lowercase hex without leading zeros.
pub fn is_qty(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.strip_prefix("0x").is_some_and(|d| {
            !d.is_empty()
                && d.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                && (d == "0" || !d.starts_with('0'))
        })
    })
}

/// `"0x"` + 64 lowercase hex.
pub fn is_h256(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 66
            && s.starts_with("0x")
            && s[2..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Parses a quantity.
pub fn qty(v: &Value) -> u64 {
    let s = v.as_str().expect("quantity is a string");
    u64::from_str_radix(s.trim_start_matches("0x"), 16).expect("quantity is hex")
}
