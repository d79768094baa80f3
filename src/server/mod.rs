//! HTTP endpoints: serves the pre-encoded exposition (plain or gzip), a landing page and health endpoints, over
//! plain HTTP or TLS, with optional basic auth. No handler ever waits on RPC: `/metrics` copies bytes encoded
//! after the last poll. What a client may hold (connections, time) is bounded in [`listen`], what it may make
//! the exporter compute in [`auth`].

pub(crate) mod auth;
mod deadline;
pub(crate) mod fdlimit;
pub(crate) mod gzip;
mod landing;
pub(crate) mod listen;
pub(crate) mod tls;

use std::convert::Infallible;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{
    HeaderValue, ACCEPT_ENCODING, AUTHORIZATION, CONNECTION, CONTENT_ENCODING, CONTENT_TYPE,
    RETRY_AFTER, VARY, WWW_AUTHENTICATE,
};
use hyper::{Method, Request, Response, StatusCode};
use tokio::time::Instant;

use crate::state::Hub;
use auth::{BasicAuth, Verdict};
use gzip::Encoded;
pub(crate) use listen::{serve, Limits};

/// Content type of the Prometheus text format 0.0.4.
pub(crate) const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What handlers read: the encoded exposition plus the state (for the landing page and readiness).
pub(crate) struct Served {
    exposition: RwLock<Encoded>,
    hub: Arc<Hub>,
    telemetry_path: String,
    auth: Option<BasicAuth>,
}

impl Served {
    /// Empty until the first publish; no authentication.
    #[cfg(test)]
    pub(crate) fn new(hub: Arc<Hub>, telemetry_path: String) -> Arc<Self> {
        Self::with_auth(hub, telemetry_path, None)
    }

    /// Like [`Served::new`], requiring basic auth on every path when `auth` is set.
    pub(crate) fn with_auth(
        hub: Arc<Hub>,
        telemetry_path: String,
        auth: Option<BasicAuth>,
    ) -> Arc<Self> {
        Arc::new(Self {
            exposition: RwLock::new(Encoded::default()),
            hub,
            telemetry_path,
            auth,
        })
    }

    /// Replaces the served exposition; the gzip copy is made here, once per publish.
    pub(crate) fn set_exposition(&self, bytes: Vec<u8>) {
        let encoded = Encoded::new(bytes);
        *self.exposition.write().unwrap_or_else(|p| p.into_inner()) = encoded;
    }

    fn exposition(&self) -> Encoded {
        self.exposition
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn hub(&self) -> &Hub {
        &self.hub
    }

    fn telemetry_path(&self) -> &str {
        &self.telemetry_path
    }
}

fn response(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// A refusal (401 or 503) is sent no sooner than this after the request arrived, and closes the connection. A
/// client that hammers the server with bad credentials then waits instead of making the exporter work: with
/// the connection cap, refusals cost at most `max_connections / 50 ms` requests a second, and the closed
/// connections let clients waiting in the backlog (a real scrape among them) in.
pub(crate) const REFUSAL_DELAY: Duration = Duration::from_millis(50);

async fn handle(
    req: Request<Incoming>,
    served: Arc<Served>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let arrived = Instant::now();
    if let Some(auth) = &served.auth {
        let header = req.headers().get(AUTHORIZATION).map(HeaderValue::as_bytes);
        let verdict = auth.authorize(header).await;
        if verdict != Verdict::Allowed {
            tokio::time::sleep_until(arrived + REFUSAL_DELAY).await;
            return Ok(refusal(verdict));
        }
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Ok(response(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "only GET and HEAD\n",
        ));
    }
    let path = req.uri().path();
    Ok(if path == served.telemetry_path {
        metrics_response(&req, &served)
    } else if path == "/" {
        response(
            StatusCode::OK,
            "text/html; charset=utf-8",
            landing::landing_page(&served),
        )
    } else if path == "/-/healthy" {
        response(StatusCode::OK, "text/plain", "Healthy\n")
    } else if path == "/-/ready" {
        ready_response(&served)
    } else {
        response(StatusCode::NOT_FOUND, "text/plain", "not found\n")
    })
}

fn refusal(verdict: Verdict) -> Response<Full<Bytes>> {
    let mut r = if verdict == Verdict::Busy {
        let mut r = response(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            "Too many password checks at once; try again\n",
        );
        r.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        r
    } else {
        let mut r = response(StatusCode::UNAUTHORIZED, "text/plain", "Unauthorized\n");
        r.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"conflux-pos-exporter\", charset=\"UTF-8\""),
        );
        r
    };
    r.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    r
}

/// The exposition, gzip-compressed when the client accepts it (the copy made at publish time).
fn metrics_response(req: &Request<Incoming>, served: &Served) -> Response<Full<Bytes>> {
    let e = served.exposition();
    let gzip = !e.gzip.is_empty()
        && req
            .headers()
            .get_all(ACCEPT_ENCODING)
            .iter()
            .any(|v| v.to_str().is_ok_and(gzip::accepts_gzip));
    let mut r = response(
        StatusCode::OK,
        TEXT_FORMAT,
        if gzip { e.gzip } else { e.plain },
    );
    r.headers_mut()
        .insert(VARY, HeaderValue::from_static("Accept-Encoding"));
    if gzip {
        r.headers_mut()
            .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    r
}

/// Ready once every configured node has answered `cfx_getStatus` at least once: before that the exposition
/// holds no chain facts, and a rollout that waits on readiness would move on with a blind exporter.
fn ready_response(served: &Served) -> Response<Full<Bytes>> {
    let waiting = served.hub.lock().nodes_never_answered();
    if waiting.is_empty() && !served.exposition().plain.is_empty() {
        return response(StatusCode::OK, "text/plain", "Ready\n");
    }
    response(
        StatusCode::SERVICE_UNAVAILABLE,
        "text/plain",
        format!(
            "Not ready: no cfx_getStatus answer yet from node(s): {}\n",
            waiting.join(", ")
        ),
    )
}
