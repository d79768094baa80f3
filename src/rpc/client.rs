//! The JSON-RPC client: one reused `reqwest::Client`, batches (one HTTP request per poll), a per-request timeout,
//! a response-size cap, id matching ([`super::batch`]), and the read-only allow-list checked before anything is
//! sent.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::batch::{decode, match_batch, Answer};
use super::error::RpcError;
use super::methods::is_allowed;
use super::redact::{redact_url, scrub};
use super::wire::Request;

/// Per-target transport statistics, reported to whoever owns the metrics (the client itself never names a metric).
pub trait RpcObserver: Send + Sync {
    /// Called once per HTTP request with its outcome.
    fn observe(&self, target: &str, elapsed: Duration, outcome: Result<(), &RpcError>);
    /// Called once per failed call inside an otherwise successful batch.
    fn call_failed(&self, target: &str, err: &RpcError);
    /// Called with the number of answers (or answer items) that arrived but were malformed or not asked for.
    fn malformed(&self, target: &str, n: u64) {
        for _ in 0..n {
            self.call_failed(target, &RpcError::decode("malformed answer"));
        }
    }
}

/// An observer that records nothing (tests, one-off tools).
pub struct NoopObserver;

impl RpcObserver for NoopObserver {
    fn observe(&self, _: &str, _: Duration, _: Result<(), &RpcError>) {}
    fn call_failed(&self, _: &str, _: &RpcError) {}
}

/// One call of a batch.
#[derive(Debug, Clone)]
pub struct Call {
    /// Method name; must be on the allow-list.
    pub method: &'static str,
    /// Positional parameters.
    pub params: Value,
}

impl Call {
    /// A call with positional parameters.
    pub fn new(method: &'static str, params: Value) -> Self {
        Self { method, params }
    }
}

/// Settings shared by all clients of one exporter.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Whole-request deadline (connect + send + read).
    pub timeout: Duration,
    /// Largest answer body accepted.
    pub max_response_bytes: usize,
}

/// A client bound to one target (a node or a reference).
pub struct Client {
    http: reqwest::Client,
    url: String,
    display: String,
    target: String,
    settings: ClientSettings,
    next_id: AtomicU64,
    observer: std::sync::Arc<dyn RpcObserver>,
}

impl Client {
    /// Builds a client for `url`, labelled `target` in metrics. `http` is shared so connections pool per host.
    pub fn new(
        http: reqwest::Client,
        target: impl Into<String>,
        url: impl Into<String>,
        settings: ClientSettings,
        observer: std::sync::Arc<dyn RpcObserver>,
    ) -> Self {
        let url = url.into();
        Self {
            display: redact_url(&url),
            http,
            url,
            target: target.into(),
            settings,
            next_id: AtomicU64::new(1),
            observer,
        }
    }

    /// The redacted URL, safe to print.
    pub(crate) fn display_url(&self) -> &str {
        &self.display
    }

    /// Counts `n` answers that arrived but could not be decoded (the batch itself succeeded, so the transport
    /// did not see them): they show up as `kind="decode"` errors of this target.
    pub(crate) fn count_malformed(&self, n: usize, what: &str) {
        if n > 0 {
            tracing::trace!(target = %self.target, n, what, "counted as decode errors");
            self.observer.malformed(&self.target, n as u64);
        }
    }

    /// Sends all `calls` in one HTTP request. The outer error means nothing usable came back; otherwise each call
    /// has its own result, in the order of `calls`, whatever order the server answered in.
    pub async fn batch(&self, calls: &[Call]) -> Result<Vec<Answer>, RpcError> {
        self.batch_within(calls, self.settings.timeout).await
    }

    /// [`Self::batch`] with its own deadline: history reads are allowed longer than the liveness check.
    pub(crate) async fn batch_within(
        &self,
        calls: &[Call],
        timeout: std::time::Duration,
    ) -> Result<Vec<Answer>, RpcError> {
        if let Some(bad) = calls.iter().find(|c| !is_allowed(c.method)) {
            return Err(RpcError::Forbidden(bad.method.to_string()));
        }
        if calls.is_empty() {
            return Ok(Vec::new());
        }
        let first = self
            .next_id
            .fetch_add(calls.len() as u64, Ordering::Relaxed);
        let requests: Vec<Request> = calls
            .iter()
            .enumerate()
            .map(|(i, c)| Request {
                jsonrpc: "2.0",
                id: first + i as u64,
                method: c.method,
                params: &c.params,
            })
            .collect();
        let body = serde_json::to_vec(&requests).map_err(|e| RpcError::decode(e.to_string()))?;
        let started = Instant::now();
        let outcome = tokio::time::timeout(timeout, self.send(body)).await;
        let outcome = match outcome {
            Ok(r) => r,
            Err(_) => Err(RpcError::Timeout(timeout)),
        };
        // The body is dropped as soon as it is matched: only the answers' raw text lives on.
        let outcome = outcome.and_then(|bytes| match_batch(&bytes, first, calls.len()));
        self.observer.observe(
            &self.target,
            started.elapsed(),
            outcome.as_ref().map(|_| ()),
        );
        let matched = outcome?;
        if matched.dropped > 0 {
            self.count_malformed(matched.dropped, "answer items for no call");
            tracing::debug!(target = %self.target, dropped = matched.dropped, "answer items for no call of this request dropped (unknown or repeated id, or more items than calls)");
        }
        for err in matched.answers.iter().filter_map(|r| r.as_ref().err()) {
            self.observer.call_failed(&self.target, err);
        }
        Ok(matched.answers)
    }

    /// One call, sent as a batch of one (keeps a single code path and the same request accounting).
    pub async fn call<T: DeserializeOwned>(&self, call: Call) -> Result<T, RpcError> {
        let mut results = self.batch(std::slice::from_ref(&call)).await?;
        let value = results
            .pop()
            .unwrap_or(Err(RpcError::decode("empty batch")))?;
        decode(value)
    }

    async fn send(&self, body: Vec<u8>) -> Result<Vec<u8>, RpcError> {
        let resp = self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let status = resp.status();
        if status.is_redirection() {
            return Err(RpcError::Redirect(status.as_u16()));
        }
        if !status.is_success() {
            return Err(RpcError::HttpStatus(status.as_u16()));
        }
        let cap = self.settings.max_response_bytes;
        if resp.content_length().is_some_and(|n| n > cap as u64) {
            return Err(RpcError::TooLarge(cap));
        }
        let mut resp = resp;
        // Sized from the announced length (already checked against the cap), so a large answer is not copied
        // while the buffer doubles.
        let announced = resp.content_length().map_or(0, |n| n as usize);
        let mut buf = Vec::with_capacity(announced);
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport_error(e))? {
            if buf.len().saturating_add(chunk.len()) > cap {
                return Err(RpcError::TooLarge(cap));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf)
    }

    fn transport_error(&self, e: reqwest::Error) -> RpcError {
        if e.is_timeout() {
            return RpcError::Timeout(self.settings.timeout);
        }
        let is_body = e.is_body() || e.is_decode();
        let text = scrub(&error_chain(&e.without_url()), &self.url);
        if is_body {
            RpcError::decode(text)
        } else {
            RpcError::connect(text)
        }
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}
