//! The hyper accept loop shared by the RPC endpoints and the control API: every connection on its own task,
//! cancellable accept loop (closing the socket) and cancellable connections.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A boxed response future; `None` closes the connection without any HTTP response (what a node without PoS
/// does to a request holding a `pos_*` call).
pub type ResponseFuture = Pin<Box<dyn Future<Output = Option<Response<Full<Bytes>>>> + Send>>;

/// The service error that makes hyper drop the connection instead of answering.
#[derive(Debug, thiserror::Error)]
#[error("connection closed without a response")]
struct Abort;

/// A request handler shared by all connections of one listener.
pub type Handler = Arc<dyn Fn(Request<Incoming>) -> ResponseFuture + Send + Sync>;

/// How long a client may take to send its request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Options of one accept loop.
pub struct ServeOptions {
    /// Keep connections open between requests. The RPC endpoints turn this off to mimic the v3.0 node
    /// (`jsonrpc_http_keep_alive = false`): every response closes its connection, which also makes `down`
    /// take effect for every client at once.
    pub keep_alive: bool,
    /// Ends the accept loop; the listener is dropped (port closed) when the loop returns.
    pub stop_accept: CancellationToken,
    /// Aborts open connections.
    pub stop_conns: CancellationToken,
}

/// Spawns the accept loop on `tracker` and returns its handle.
pub fn spawn(
    listener: TcpListener,
    opts: ServeOptions,
    tracker: &TaskTracker,
    handler: Handler,
) -> JoinHandle<()> {
    let conn_tracker = tracker.clone();
    tracker.spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = opts.stop_accept.cancelled() => break,
                r = listener.accept() => r,
            };
            match accepted {
                Ok((stream, _)) => {
                    let handler = handler.clone();
                    let stop = opts.stop_conns.clone();
                    let keep_alive = opts.keep_alive;
                    conn_tracker.spawn(serve_connection(stream, keep_alive, stop, handler));
                }
                Err(e) => {
                    // Typically EMFILE; back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    })
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    keep_alive: bool,
    stop: CancellationToken,
    handler: Handler,
) {
    let svc = service_fn(move |req| {
        let fut = handler(req);
        async move { fut.await.ok_or(Abort) }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(keep_alive);
    let conn = builder.serve_connection(TokioIo::new(stream), svc);
    tokio::select! {
        r = conn => if let Err(e) = r {
            tracing::debug!(error = %e, "connection ended with an error");
        },
        _ = stop.cancelled() => {}
    }
}

/// A response with a body and content type.
pub fn reply(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    resp
}

/// Whether the request declares a JSON body (`application/json`, parameters such as charset allowed).
pub fn is_json(req: &Request<Incoming>) -> bool {
    req.headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// Reads the whole body up to `limit` bytes; `None` if it is larger or the read fails.
pub async fn read_body(req: Request<Incoming>, limit: usize) -> Option<Bytes> {
    use http_body_util::BodyExt;
    http_body_util::Limited::new(req.into_body(), limit)
        .collect()
        .await
        .ok()
        .map(|c| c.to_bytes())
}
