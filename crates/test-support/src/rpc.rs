//! Asking a simulated node over JSON-RPC as any client would, for tests that compare the exporter's series with
//! what the chain itself answers.

use serde_json::{json, Value};

/// The `result` of `method(params)` at `url`; fails the test on a transport error or an error answer.
pub async fn result(url: &str, method: &str, params: Value) -> Value {
    try_result(url, method, params.clone())
        .await
        .unwrap_or_else(|e| panic!("{method} {params}: {e}"))
}

/// One call; `Err` with the error object when the node answers with an error (a transport failure or a body
/// that is not JSON fails the test).
pub async fn try_result(url: &str, method: &str, params: Value) -> Result<Value, Value> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let text = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} to {url}: {e}"))
        .text()
        .await
        .unwrap_or_else(|e| panic!("{method} answer: {e}"));
    let r: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method}: not JSON ({e}): {text}"));
    if r["error"].is_null() {
        Ok(r["result"].clone())
    } else {
        Err(r["error"].clone())
    }
}
