//! The accept loop: a cap on open connections, and timeouts so that no client holds one for free. Clients are
//! the one input of the exporter nobody vouches for, and the exporter shares the validator's host: every
//! connection is a file descriptor and some memory taken from the budget the node and the exporter's own RPC
//! and file probes need.
//!
//! - At [`Limits::max_connections`] open connections the loop stops accepting: further clients wait in the
//!   kernel's listen backlog ([`LISTEN_BACKLOG`], which costs the process no descriptor) until one closes, and a
//!   warning says so at most once a minute.
//! - A connection must deliver its request headers within [`Limits::header_read_timeout`] of connecting, and
//!   the next request within the same time of the previous answer (hyper's header timer also runs while a
//!   keep-alive connection idles), so an idle or slow client frees its slot.
//! - Each response must be written within [`Limits::write_timeout`] ([`super::deadline`]), so a client that
//!   never reads frees its slot and the response it holds.
//! - TLS handshakes count against the cap and have the header timeout too.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::deadline::WriteDeadline;
use super::{handle, Served};

/// What a client may hold, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Open connections (TLS handshakes included) at most.
    pub max_connections: usize,
    /// From connecting (or the last answer) to the end of the next request's headers.
    pub header_read_timeout: Duration,
    /// From the first byte of a response to its last.
    pub write_timeout: Duration,
}

/// Slow or idle clients are dropped after this long without sending request headers.
pub(crate) const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest request head (request line and headers) read from a client; hyper's default is about 400 KiB per
/// connection. Prometheus sends well under 1 KiB.
const MAX_REQUEST_HEAD_BYTES: usize = 16 * 1024;

/// Connections the kernel completes and keeps for the accept loop. While the cap is reached, clients wait here
/// (it costs the process no descriptor); std and tokio listen with 128, and beyond the backlog the kernel drops
/// SYNs, so a scraper arriving during a flood would retry its connect after a second or more.
const LISTEN_BACKLOG: u32 = 1024;

/// Binds the listening socket (address reuse on, as `TcpListener::bind` does) with [`LISTEN_BACKLOG`].
pub(crate) fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// A repeated warning is logged at most this often.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// Accepts connections until `cancel`, then lets in-flight requests finish (bounded by `grace`). With `tls`, every
/// connection is a TLS connection.
pub(crate) async fn serve(
    listener: TcpListener,
    served: Arc<Served>,
    tls: Option<TlsAcceptor>,
    limits: Limits,
    cancel: CancellationToken,
    grace: Duration,
) {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let full = Throttled::new();
    let accept_failed = Throttled::new();
    loop {
        let permit = match slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                full.warn(|skipped| tracing::warn!(max_connections = limits.max_connections, times_since_last_warning = skipped, "connection limit reached: new connections wait in the listen backlog until one closes (idle ones close after the header read timeout)"));
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
                }
            }
        };
        let stream = tokio::select! {
            _ = cancel.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((s, _peer)) => s,
                Err(e) => {
                    // Typically EMFILE: back off instead of spinning.
                    accept_failed.warn(|skipped| tracing::warn!(error = %e, times_since_last_warning = skipped, "accept failed"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let conn = Conn {
            served: served.clone(),
            limits,
            watcher: graceful.watcher(),
            _permit: permit,
        };
        match &tls {
            None => conn.spawn(stream),
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let hs = tokio::time::timeout(
                        conn.limits.header_read_timeout,
                        acceptor.accept(stream),
                    );
                    match hs.await {
                        Ok(Ok(s)) => conn.spawn(s),
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

/// One accepted connection and its slot under the cap (released when the connection ends).
struct Conn {
    served: Arc<Served>,
    limits: Limits,
    watcher: Watcher,
    _permit: OwnedSemaphorePermit,
}

impl Conn {
    fn spawn<I>(self, io: I)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Conn {
            served,
            limits,
            watcher,
            _permit,
        } = self;
        let io = WriteDeadline::new(io, limits.write_timeout);
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .max_buf_size(MAX_REQUEST_HEAD_BYTES)
            .serve_connection(
                TokioIo::new(io),
                service_fn(move |req| handle(req, served.clone())),
            );
        let conn = watcher.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(_permit);
        });
    }
}

/// A warning logged at most once per [`WARN_EVERY`], with the number of occurrences it stood for.
struct Throttled {
    origin: Instant,
    /// Milliseconds since `origin` of the last warning, plus one (0 = never).
    last: AtomicU64,
    skipped: AtomicU64,
}

impl Throttled {
    fn new() -> Self {
        Self {
            origin: Instant::now(),
            last: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
        }
    }

    fn warn(&self, log: impl FnOnce(u64)) {
        let now = u64::try_from(self.origin.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let last = self.last.load(Ordering::Relaxed);
        let every = u64::try_from(WARN_EVERY.as_millis()).unwrap_or(u64::MAX);
        if last != 0 && now.saturating_sub(last) < every {
            self.skipped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.last.store(now, Ordering::Relaxed);
        log(self.skipped.swap(0, Ordering::Relaxed));
    }
}
