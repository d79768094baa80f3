//! HTTP endpoints: serves the pre-encoded exposition (plain or gzip), a landing page and health endpoints, over
//! plain HTTP or TLS, with optional basic auth. No handler ever waits on RPC: `/metrics` copies bytes encoded
//! after the last poll.

pub mod auth;
pub mod gzip;
mod landing;
pub mod tls;

use std::convert::Infallible;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{
    HeaderValue, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, VARY,
    WWW_AUTHENTICATE,
};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::state::Hub;
use auth::BasicAuth;
use gzip::Encoded;

/// Content type of the Prometheus text format 0.0.4.
pub const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What handlers read: the encoded exposition plus the state (for the landing page and readiness).
pub struct Served {
    exposition: RwLock<Encoded>,
    hub: Arc<Hub>,
    telemetry_path: String,
    auth: Option<BasicAuth>,
}

impl Served {
    /// Empty until the first publish; no authentication.
    pub fn new(hub: Arc<Hub>, telemetry_path: String) -> Arc<Self> {
        Self::with_auth(hub, telemetry_path, None)
    }

    /// Like [`Served::new`], requiring basic auth on every path when `auth` is set.
    pub fn with_auth(hub: Arc<Hub>, telemetry_path: String, auth: Option<BasicAuth>) -> Arc<Self> {
        Arc::new(Self {
            exposition: RwLock::new(Encoded::default()),
            hub,
            telemetry_path,
            auth,
        })
    }

    /// Replaces the served exposition; the gzip copy is made here, once per publish.
    pub fn set_exposition(&self, bytes: Vec<u8>) {
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

/// Slow or idle clients are dropped after this long without sending request headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A TLS handshake that has not finished by then is dropped (a client that connects and sends nothing).
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections until `cancel`, then lets in-flight requests finish (bounded by `grace`). With `tls`, every
/// connection is a TLS connection.
pub async fn serve(
    listener: TcpListener,
    served: Arc<Served>,
    tls: Option<TlsAcceptor>,
    cancel: CancellationToken,
    grace: Duration,
) {
    let graceful = GracefulShutdown::new();
    loop {
        let stream = tokio::select! {
            _ = cancel.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((s, _peer)) => s,
                Err(e) => {
                    // Typically EMFILE: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let served = served.clone();
        match &tls {
            None => spawn_conn(stream, served, graceful.watcher()),
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let hs = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream));
                    match hs.await {
                        Ok(Ok(s)) => spawn_conn(s, served, watcher),
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                });
            }
        }
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(grace) => tracing::debug!("grace period over; dropping open connections"),
    }
}

fn spawn_conn<I>(io: I, served: Arc<Served>, watcher: Watcher)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(
            TokioIo::new(io),
            service_fn(move |req| handle(req, served.clone())),
        );
    let conn = watcher.watch(conn);
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "connection ended with an error");
        }
    });
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

async fn handle(
    req: Request<Incoming>,
    served: Arc<Served>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if served.auth.is_some() {
        // bcrypt is deliberately slow (tens of ms): keep it off the async workers that serve other scrapes.
        let header = req
            .headers()
            .get(AUTHORIZATION)
            .map(|v| v.as_bytes().to_vec());
        let s = served.clone();
        let ok = tokio::task::spawn_blocking(move || {
            s.auth.as_ref().is_some_and(|a| a.check(header.as_deref()))
        })
        .await
        .unwrap_or(false);
        if !ok {
            let mut r = response(StatusCode::UNAUTHORIZED, "text/plain", "Unauthorized\n");
            r.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"conflux-pos-exporter\", charset=\"UTF-8\""),
            );
            return Ok(r);
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
