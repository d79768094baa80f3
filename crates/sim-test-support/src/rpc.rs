//! A real HTTP client speaking JSON-RPC to the simulator's endpoints, so the tests exercise the same transport the
//! exporter uses.

use std::time::Duration;

use serde_json::{json, Value};

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
