//! The JSON-RPC HTTP server of one endpoint: transport rules of the node (POST, `application/json`,
//! `Connection: close`), the request log, and the transport-level faults (delay, garbage, HTTP status, redirect).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use tokio::net::{TcpListener, TcpSocket};

use super::serve::{self, Handler, ServeOptions};
use super::shared::{Listening, Shared};
use super::{call, classify, SimError};

/// Largest accepted request body, the node's 10 MiB limit (docs/node-facts.md#ports-and-errors).
const MAX_BODY: usize = 10 * 1024 * 1024;

/// The content type of every JSON-RPC answer of a real node.
const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// What the `garbage` fault answers: HTTP 200 with something a proxy might send that is not JSON.
const GARBAGE: &str = "<html><body><h1>502 Bad Gateway</h1></body></html>\n";

/// Binds `addr` (port 0 allowed) and returns the listener with its real address.
pub async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), SimError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| SimError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| SimError::Bind { addr, source })?;
    Ok((listener, bound))
}

/// Holds `addr` while its endpoint is down: bound but not listening, so a connection is refused as by a stopped
/// node, and the kernel gives the port to no other `bind(0)` (how every parallel test gets its ports) before the
/// endpoint comes back ([`listen`]).
pub fn park(addr: SocketAddr) -> Result<TcpSocket, SimError> {
    let bind_err = |source| SimError::Bind { addr, source };
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(bind_err)?;
    // The connections just aborted may leave TIME_WAIT entries on this port.
    socket.set_reuseaddr(true).map_err(bind_err)?;
    socket.bind(addr).map_err(bind_err)?;
    Ok(socket)
}

/// Turns a [`park`]ed socket back into the endpoint's listener.
pub fn listen(socket: TcpSocket, addr: SocketAddr) -> Result<TcpListener, SimError> {
    socket
        .listen(1024)
        .map_err(|source| SimError::Bind { addr, source })
}

/// Serves endpoint `name` on an already bound listener.
pub fn serve(shared: &Arc<Shared>, name: &str, listener: TcpListener) -> Listening {
    let accept = shared.root.child_token();
    let conns = shared.root.child_token();
    let handler: Handler = {
        let shared = Arc::clone(shared);
        let name: Arc<str> = Arc::from(name);
        Arc::new(move |req| Box::pin(handle(Arc::clone(&shared), Arc::clone(&name), req)))
    };
    let opts = ServeOptions {
        keep_alive: false,
        stop_accept: accept.clone(),
        stop_conns: conns.clone(),
    };
    let task = serve::spawn(listener, opts, &shared.tracker, handler);
    Listening {
        accept,
        conns,
        task,
    }
}

async fn handle(
    shared: Arc<Shared>,
    name: Arc<str>,
    req: Request<Incoming>,
) -> Option<Response<Full<Bytes>>> {
    let accepted = req.method() == Method::POST && serve::is_json(&req);
    {
        let mut world = shared.world();
        let Ok(ep) = world.endpoint_mut(&name) else {
            return Some(serve::reply(404, "text/plain", "unknown endpoint\n"));
        };
        ep.stats.record_http();
        if !accepted {
            ep.stats.record_rejected();
        }
    }
    if req.method() != Method::POST {
        return Some(serve::reply(
            405,
            "text/plain",
            "Used HTTP Method is not allowed. POST is required\n",
        ));
    }
    if !accepted {
        return Some(serve::reply(
            415,
            "text/plain",
            "Supplied content type is not allowed. Content-Type: application/json is required\n",
        ));
    }
    let Some(bytes) = serve::read_body(req, MAX_BODY).await else {
        if let Ok(ep) = shared.world().endpoint_mut(&name) {
            ep.stats.record_rejected();
        }
        return Some(serve::reply(
            413,
            "text/plain",
            "request body too large or unreadable\n",
        ));
    };
    let body = call::parse(&bytes);
    let (delay_ms, pos_disabled) = {
        let mut world = shared.world();
        match world.endpoint_mut(&name) {
            Ok(ep) => {
                let (batch, methods) = body.methods();
                ep.stats.record_calls(batch, methods);
                let history = classify::history_reads(&body);
                let v = &ep.view;
                let slow = v.history_delay_ms.saturating_mul(history);
                (v.delay_ms.saturating_add(slow), v.pos_disabled)
            }
            Err(_) => (0, false),
        }
    };
    if delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    }
    if pos_disabled && classify::lost_without_pos(&body) {
        return None;
    }
    let (reply, http_status, garbage, redirect_to) = {
        let mut world = shared.world();
        let reply = world.answer(&name, &body);
        let faults = world
            .endpoint(&name)
            .map(|ep| {
                let v = &ep.view;
                (v.http_status, v.garbage, v.redirect_to.clone())
            })
            .unwrap_or_default();
        (reply, faults.0, faults.1, faults.2)
    };
    let reply = match reply {
        Ok(r) => r,
        Err(e) => return Some(serve::reply(500, "text/plain", format!("{e}\n"))),
    };
    if reply.stop {
        shared.stop_accepting(&name).await;
    }
    if let Some(location) = redirect_to {
        let mut resp = serve::reply(307, "text/plain", "simulated redirect\n");
        if let Ok(v) = hyper::header::HeaderValue::from_str(&location) {
            resp.headers_mut().insert(hyper::header::LOCATION, v);
        }
        return Some(resp);
    }
    if let Some(status) = http_status {
        return Some(serve::reply(
            status,
            "text/plain",
            format!("simulated HTTP {status}\n"),
        ));
    }
    if garbage {
        return Some(serve::reply(200, "application/json", GARBAGE));
    }
    match reply.body {
        Some(v) => Some(serve::reply(200, JSON_CONTENT_TYPE, v.to_string())),
        None => Some(serve::reply(200, JSON_CONTENT_TYPE, Bytes::new())),
    }
}
