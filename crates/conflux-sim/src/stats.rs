//! Per-endpoint request log. It exists so exporter tests can prove how they talk to a node: one HTTP request
//! per poll (batches), which methods, and that nothing state-changing was ever sent.

use std::collections::BTreeMap;

use serde::Serialize;

/// Methods that change a node's state or shut it down (docs/node-facts.md#local-methods). An exporter must never send
/// them; the simulator answers some of them like a node would and records every one here.
const DANGEROUS_EXACT: [&str; 19] = [
    "test_stop",
    "test_posStopVoting",
    "test_posStartVoting",
    "test_posStopElection",
    "test_posStart",
    "test_posTriggerTimeout",
    "test_posUpdateVotingPower",
    "test_addNode",
    "test_removeNode",
    "test_addLatency",
    "test_saveNodeDb",
    "test_expireBlockGc",
    "debug_clearTxPool",
    "debug_disconnectNetNode",
    "cfx_sendTransaction",
    "cfx_sendRawTransaction",
    "cfx_newAccount",
    "cfx_unlockAccount",
    "cfx_lockAccount",
];

/// Families of dangerous methods matched by prefix.
const DANGEROUS_PREFIXES: [&str; 3] = ["test_generate", "test_set", "test_posForce"];

/// Whether `method` changes node state (and so must never come from an exporter).
pub fn is_dangerous(method: &str) -> bool {
    DANGEROUS_EXACT.contains(&method) || DANGEROUS_PREFIXES.iter().any(|p| method.starts_with(p))
}

/// What one endpoint has received since start (or the last reset).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RequestStats {
    /// HTTP requests that reached the endpoint, whatever their fate.
    pub http_requests: u64,
    /// HTTP requests whose body was a JSON array.
    pub batch_requests: u64,
    /// JSON-RPC calls (a batch of 5 counts 5).
    pub rpc_calls: u64,
    /// Size of the largest batch received (1 for a single call).
    pub largest_batch: usize,
    /// Calls per method name.
    pub calls_per_method: BTreeMap<String, u64>,
    /// Calls to state-changing methods, per method name.
    pub dangerous_methods: BTreeMap<String, u64>,
    /// HTTP requests rejected before JSON-RPC: wrong HTTP method, content type, or oversized body.
    pub rejected_requests: u64,
}

impl RequestStats {
    /// Counts one arriving HTTP request.
    pub fn record_http(&mut self) {
        self.http_requests += 1;
    }

    /// Counts a request that never got to JSON-RPC processing.
    pub fn record_rejected(&mut self) {
        self.rejected_requests += 1;
    }

    /// Counts the calls of one parsed body; `batch` tells whether it was an array.
    pub fn record_calls<'a>(&mut self, batch: bool, methods: impl IntoIterator<Item = &'a str>) {
        let mut n = 0usize;
        for m in methods {
            n += 1;
            *self.calls_per_method.entry(m.to_string()).or_default() += 1;
            if is_dangerous(m) {
                *self.dangerous_methods.entry(m.to_string()).or_default() += 1;
            }
        }
        if batch {
            self.batch_requests += 1;
        }
        self.rpc_calls += n as u64;
        self.largest_batch = self.largest_batch.max(n);
    }

    /// Calls received for `method`.
    pub fn calls(&self, method: &str) -> u64 {
        self.calls_per_method.get(method).copied().unwrap_or(0)
    }

    /// Total calls to state-changing methods.
    pub fn dangerous_total(&self) -> u64 {
        self.dangerous_methods.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dangerous_methods_are_recognised() {
        for m in [
            "test_stop",
            "test_posStopVoting",
            "test_generateEmptyBlocks",
            "test_posForcePropose",
        ] {
            assert!(is_dangerous(m), "{m}");
        }
        for m in [
            "test_posVotingStatus",
            "test_posRegister",
            "test_getPeerInfo",
            "cfx_getStatus",
        ] {
            assert!(!is_dangerous(m), "{m}");
        }
    }

    #[test]
    fn calls_and_batches_are_counted() {
        let mut s = RequestStats::default();
        s.record_http();
        s.record_calls(true, ["cfx_getStatus", "test_stop", "cfx_getStatus"]);
        s.record_http();
        s.record_calls(false, ["cfx_epochNumber"]);
        assert_eq!(s.http_requests, 2);
        assert_eq!(s.batch_requests, 1);
        assert_eq!(s.rpc_calls, 4);
        assert_eq!(s.largest_batch, 3);
        assert_eq!(s.calls("cfx_getStatus"), 2);
        assert_eq!(s.calls("nope"), 0);
        assert_eq!(s.dangerous_total(), 1);
    }
}
