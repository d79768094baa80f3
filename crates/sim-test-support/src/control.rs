//! The simulator's HTTP control API, driven as scripts and demos drive it.

use conflux_sim::SimHandle;
use serde_json::Value;

use super::rpc::{client, post_raw};

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
