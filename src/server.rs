//! HTTP only: serves the pre-encoded exposition, a landing page and health endpoints. No handler ever waits on
//! RPC: `/metrics` copies bytes encoded after the last poll.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::state::Hub;

/// Content type of the Prometheus text format 0.0.4.
pub const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What handlers read: the encoded exposition plus the state (for the landing page and readiness).
pub struct Served {
    exposition: RwLock<Bytes>,
    hub: Arc<Hub>,
    telemetry_path: String,
}

impl Served {
    /// Empty until the first publish.
    pub fn new(hub: Arc<Hub>, telemetry_path: String) -> Arc<Self> {
        Arc::new(Self {
            exposition: RwLock::new(Bytes::new()),
            hub,
            telemetry_path,
        })
    }

    /// Replaces the served exposition.
    pub fn set_exposition(&self, bytes: Vec<u8>) {
        *self.exposition.write().unwrap_or_else(|p| p.into_inner()) = Bytes::from(bytes);
    }

    fn exposition(&self) -> Bytes {
        self.exposition
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Slow or idle clients are dropped after this long without sending request headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections until `cancel`, then lets in-flight requests finish (bounded by `grace`).
pub async fn serve(
    listener: TcpListener,
    served: Arc<Served>,
    cancel: CancellationToken,
    grace: Duration,
) {
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, _peer): (tokio::net::TcpStream, SocketAddr) = tokio::select! {
            _ = cancel.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Typically EMFILE: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let served = served.clone();
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .serve_connection(
                TokioIo::new(stream),
                service_fn(move |req| handle(req, served.clone())),
            );
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(grace) => tracing::debug!("grace period over; dropping open connections"),
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

async fn handle(
    req: Request<Incoming>,
    served: Arc<Served>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Ok(response(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "only GET and HEAD\n",
        ));
    }
    let path = req.uri().path();
    Ok(if path == served.telemetry_path {
        response(StatusCode::OK, TEXT_FORMAT, served.exposition())
    } else if path == "/" {
        response(
            StatusCode::OK,
            "text/html; charset=utf-8",
            landing_page(&served),
        )
    } else if path == "/-/healthy" {
        response(StatusCode::OK, "text/plain", "Healthy\n")
    } else if path == "/-/ready" {
        if served.hub.lock().all_polled() && !served.exposition().is_empty() {
            response(StatusCode::OK, "text/plain", "Ready\n")
        } else {
            response(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain",
                "Not ready: first polls still running\n",
            )
        }
    } else {
        response(StatusCode::NOT_FOUND, "text/plain", "not found\n")
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn landing_page(served: &Served) -> String {
    let state = served.hub.lock();
    let mut rows = String::new();
    let targets = state
        .nodes
        .iter()
        .map(|n| ("node", &n.name, &n.display_url, &n.poll))
        .chain(
            state
                .references
                .iter()
                .map(|r| ("reference", &r.name, &r.display_url, &r.poll)),
        );
    for (kind, name, url, poll) in targets {
        let status = match (poll.polled, poll.up) {
            (false, _) => "not polled yet",
            (true, true) => "up",
            (true, false) => "DOWN",
        };
        rows.push_str(&format!(
            "<tr><td>{kind}</td><td>{}</td><td>{}</td><td>{status}</td><td>{}</td></tr>\n",
            escape(name),
            escape(url),
            escape(poll.last_error.as_deref().unwrap_or("")),
        ));
    }
    let path = escape(&served.telemetry_path);
    format!(
        "<!doctype html>\n<html><head><title>conflux-pos-exporter</title></head><body>\n\
         <h1>conflux-pos-exporter {}</h1>\n<p>Prometheus exporter for Conflux PoS validator nodes.</p>\n\
         <ul><li><a href=\"{path}\">{path}</a></li><li><a href=\"/-/healthy\">/-/healthy</a></li>\
         <li><a href=\"/-/ready\">/-/ready</a></li></ul>\n\
         <table border=\"1\"><tr><th>kind</th><th>name</th><th>url</th><th>state</th><th>last error</th></tr>\n{rows}</table>\n\
         </body></html>\n",
        env!("CARGO_PKG_VERSION")
    )
}
