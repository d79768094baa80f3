//! HTTP control API for scripts and demos. Every route calls the same [`Shared`] action a `SimHandle`
//! method calls, so Rust tests and shell scripts drive the simulator identically.
//!
//! | Route | Body | Answer |
//! |---|---|---|
//! | `GET /control/state` | | world and every endpoint view |
//! | `GET /control/stats` | | request log of every endpoint |
//! | `GET /control/stats/{name}` | | request log of one endpoint |
//! | `POST /control/stats/reset` | | clears every request log |
//! | `POST /control/endpoint/{name}` | an [`EndpointPatch`] object | the endpoint's new state |
//! | `POST /control/advance` | `{"pow": n, "pos": n}` (both optional) | new heights |
//! | `POST /control/pos` | any JSON, forwarded to the PoS backend | the backend's answer |
//!
//! Errors are `{"error": "..."}` with 400 (bad request), 404 (unknown endpoint or route) or 409 (no PoS).

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use super::patch::EndpointPatch;
use super::serve::{self, Handler, ServeOptions};
use super::shared::Shared;
use super::{updown, SimError};

/// Control bodies are small JSON objects.
const MAX_BODY: usize = 1024 * 1024;

/// Body of `POST /control/advance`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    #[serde(default)]
    pow: u64,
    #[serde(default)]
    pos: u64,
}

/// Binds the control API at `addr` and starts serving; returns the bound address.
pub async fn listen(shared: &Arc<Shared>, addr: SocketAddr) -> Result<SocketAddr, SimError> {
    let (listener, bound) = super::rpc::bind(addr).await?;
    let handler: Handler = {
        let shared = Arc::clone(shared);
        Arc::new(move |req| {
            let shared = Arc::clone(&shared);
            Box::pin(async move { Some(handle(shared, req).await) })
        })
    };
    let opts = ServeOptions {
        keep_alive: true,
        stop_accept: shared.root.child_token(),
        stop_conns: shared.root.child_token(),
    };
    serve::spawn(listener, opts, &shared.tracker, handler);
    Ok(bound)
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().trim_end_matches('/').to_string();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let result = match (method, segments.as_slice()) {
        (Method::GET, ["control", "state"]) => Ok(shared.state()),
        (Method::GET, ["control", "stats"]) => Ok(shared.all_stats()),
        (Method::GET, ["control", "stats", name]) => shared.stats(name).map(|s| json!(s)),
        (Method::POST, ["control", "stats", "reset"]) => {
            shared.reset_stats();
            Ok(json!({"reset": true}))
        }
        (Method::POST, ["control", "endpoint", name]) => {
            let name = (*name).to_string();
            match body_as::<EndpointPatch>(req).await {
                Ok(patch) => updown::patch_endpoint(&shared, &name, &patch).await,
                Err(e) => Err(e),
            }
        }
        (Method::POST, ["control", "advance"]) => match body_as::<Advance>(req).await {
            Ok(a) => shared
                .advance(a.pow, a.pos)
                .map(|(pow, pos)| json!({"pow_epoch": pow, "pos_height": pos})),
            Err(e) => Err(e),
        },
        (Method::POST, ["control", "pos"]) => match body_as::<Value>(req).await {
            Ok(cmd) => shared.pos_control(&cmd),
            Err(e) => Err(e),
        },
        _ => return error_reply(404, &format!("no route {path}")),
    };
    match result {
        Ok(v) => serve::reply(200, "application/json", v.to_string()),
        Err(e) => error_reply(status_of(&e), &e.to_string()),
    }
}

/// Reads a JSON body into `T`; an empty body reads as `{}` so `POST /control/advance` alone is valid.
async fn body_as<T: serde::de::DeserializeOwned>(req: Request<Incoming>) -> Result<T, SimError> {
    let bytes = serve::read_body(req, MAX_BODY)
        .await
        .ok_or_else(|| SimError::InvalidPatch("body too large or unreadable".into()))?;
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        &bytes
    };
    serde_json::from_slice(bytes).map_err(|e| SimError::InvalidPatch(e.to_string()))
}

fn status_of(e: &SimError) -> u16 {
    match e {
        SimError::UnknownEndpoint(_) => 404,
        SimError::NoPos => 409,
        SimError::Bind { .. } => 500,
        SimError::InvalidConfig(_) | SimError::InvalidPatch(_) | SimError::PosControl(_) => 400,
    }
}

fn error_reply(status: u16, msg: &str) -> Response<Full<Bytes>> {
    serve::reply(
        status,
        "application/json",
        json!({"error": msg}).to_string(),
    )
}
