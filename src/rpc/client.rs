//! The JSON-RPC client: one reused `reqwest::Client`, batches (one HTTP request per poll), a per-request timeout,
//! a response-size cap, id matching, and the read-only allow-list checked before anything is sent.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::RpcError;
use super::methods::is_allowed;
use super::redact::{redact_url, scrub};
use super::wire::{Request, Response};

/// Per-target transport statistics, reported to whoever owns the metrics (the client itself never names a metric).
pub trait RpcObserver: Send + Sync {
    /// Called once per HTTP request with its outcome.
    fn observe(&self, target: &str, elapsed: Duration, outcome: Result<(), &RpcError>);
    /// Called once per failed call inside an otherwise successful batch.
    fn call_failed(&self, target: &str, err: &RpcError);
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
    pub fn display_url(&self) -> &str {
        &self.display
    }

    /// Counts `n` answers that arrived but could not be decoded (the batch itself succeeded, so the transport
    /// did not see them): they show up as `kind="decode"` errors of this target.
    pub fn count_malformed(&self, n: usize, what: &str) {
        for _ in 0..n {
            self.observer
                .call_failed(&self.target, &RpcError::Decode(what.to_string()));
        }
    }

    /// The target label.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Sends all `calls` in one HTTP request. The outer error means nothing usable came back; otherwise each call
    /// has its own result, in the order of `calls`, whatever order the server answered in.
    pub async fn batch(&self, calls: &[Call]) -> Result<Vec<Result<Value, RpcError>>, RpcError> {
        self.batch_within(calls, self.settings.timeout).await
    }

    /// [`Self::batch`] with its own deadline: history reads are allowed longer than the liveness check.
    pub async fn batch_within(
        &self,
        calls: &[Call],
        timeout: std::time::Duration,
    ) -> Result<Vec<Result<Value, RpcError>>, RpcError> {
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
        let body = serde_json::to_vec(&requests).map_err(|e| RpcError::Decode(e.to_string()))?;
        let started = Instant::now();
        let outcome = tokio::time::timeout(timeout, self.send(body)).await;
        let outcome = match outcome {
            Ok(r) => r,
            Err(_) => Err(RpcError::Timeout(timeout)),
        };
        let outcome = outcome.and_then(|bytes| match_batch(&bytes, first, calls.len()));
        self.observer.observe(
            &self.target,
            started.elapsed(),
            outcome.as_ref().map(|_| ()),
        );
        if let Ok(results) = &outcome {
            for err in results.iter().filter_map(|r| r.as_ref().err()) {
                self.observer.call_failed(&self.target, err);
            }
        }
        outcome
    }

    /// One call, sent as a batch of one (keeps a single code path and the same request accounting).
    pub async fn call<T: DeserializeOwned>(&self, call: Call) -> Result<T, RpcError> {
        let mut results = self.batch(std::slice::from_ref(&call)).await?;
        let value = results
            .pop()
            .unwrap_or(Err(RpcError::Decode("empty batch".into())))?;
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
        if !status.is_success() {
            return Err(RpcError::HttpStatus(status.as_u16()));
        }
        let cap = self.settings.max_response_bytes;
        if resp.content_length().is_some_and(|n| n as usize > cap) {
            return Err(RpcError::TooLarge(cap));
        }
        let mut resp = resp;
        let mut buf = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport_error(e))? {
            if buf.len() + chunk.len() > cap {
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
            RpcError::Decode(text)
        } else {
            RpcError::Connect(text)
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

/// Decodes a call's result into a typed value.
pub fn decode<T: DeserializeOwned>(value: Value) -> Result<T, RpcError> {
    serde_json::from_value(value).map_err(|e| RpcError::Decode(e.to_string()))
}

/// Matches a batch answer to the request ids `first..first+n`. A single error object instead of an array means
/// the server rejected the whole batch.
pub fn match_batch(
    bytes: &[u8],
    first: u64,
    n: usize,
) -> Result<Vec<Result<Value, RpcError>>, RpcError> {
    let parsed: Value =
        serde_json::from_slice(bytes).map_err(|e| RpcError::Decode(format!("not JSON ({e})")))?;
    let items = match parsed {
        Value::Array(items) => items,
        Value::Object(_) => {
            let single: Response =
                serde_json::from_value(parsed).map_err(|e| RpcError::Decode(e.to_string()))?;
            return match single.error {
                Some(err) => Err(RpcError::Rpc {
                    code: err.code,
                    message: err.message,
                }),
                None => Err(RpcError::Decode(
                    "expected a batch array, got one object".into(),
                )),
            };
        }
        _ => {
            return Err(RpcError::Decode(
                "answer is neither an array nor an object".into(),
            ))
        }
    };
    let mut by_id: HashMap<u64, Result<Value, RpcError>> = HashMap::with_capacity(n);
    for item in items {
        let resp: Response =
            serde_json::from_value(item).map_err(|e| RpcError::Decode(e.to_string()))?;
        let Some(id) = resp
            .id
            .as_u64()
            .filter(|id| (first..first + n as u64).contains(id))
        else {
            return Err(RpcError::Decode(format!(
                "answer carries unknown id {}",
                resp.id
            )));
        };
        let r = match resp.error {
            Some(err) => Err(RpcError::Rpc {
                code: err.code,
                message: err.message,
            }),
            None => Ok(resp.result),
        };
        if by_id.insert(id, r).is_some() {
            return Err(RpcError::Decode(format!("id {id} answered twice")));
        }
    }
    Ok((0..n as u64)
        .map(|i| {
            by_id
                .remove(&(first + i))
                .unwrap_or_else(|| Err(RpcError::Decode(format!("no answer for id {}", first + i))))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_answers_are_matched_by_id_in_any_order() {
        let body =
            br#"[{"jsonrpc":"2.0","id":12,"result":"0x2"},{"jsonrpc":"2.0","id":10,"result":null},
            {"jsonrpc":"2.0","id":11,"error":{"code":-32601,"message":"Method not found"}}]"#;
        let r = match_batch(body, 10, 3).unwrap();
        assert_eq!(r[0], Ok(Value::Null));
        assert!(r[1].as_ref().unwrap_err().is_method_not_found());
        assert_eq!(r[2], Ok(Value::String("0x2".into())));
    }

    #[test]
    fn missing_unknown_and_duplicate_ids_are_decode_errors() {
        let r = match_batch(br#"[{"jsonrpc":"2.0","id":1,"result":1}]"#, 1, 2).unwrap();
        assert_eq!(r[1].as_ref().unwrap_err().kind(), "decode");
        assert!(match_batch(br#"[{"jsonrpc":"2.0","id":99,"result":1}]"#, 1, 1).is_err());
        assert!(match_batch(br#"[{"id":1,"result":1},{"id":1,"result":2}]"#, 1, 1).is_err());
        assert!(match_batch(b"<html>oops</html>", 1, 1).is_err());
    }

    #[test]
    fn whole_batch_rejection_is_an_rpc_error() {
        let e = match_batch(
            br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid request"}}"#,
            1,
            2,
        )
        .unwrap_err();
        assert_eq!(e.kind(), "rpc_error");
    }
}
