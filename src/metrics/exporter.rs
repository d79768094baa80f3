//! Self-metrics: the exporter's own health and its RPC traffic per target. These are updated live by the RPC
//! client (through [`RpcObserver`]) and never reset by a publish.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::def::catalogue;
use crate::rpc::{RpcError, RpcObserver, ERROR_KINDS};

catalogue! {
    /// The exporter's own families.
    pub struct ExporterFamilies {
        section("Exporter", "The exporter itself; `target` names a node or a reference as configured.");
        build_info: Gauge("conflux_exporter_build_info", ["version"], "Exporter version; always 1", doc: "Always 1; the version label names the running conflux-pos-exporter build."),
        rpc_requests: Counter("conflux_exporter_rpc_requests_total", ["target"], "HTTP requests sent to the target", doc: "HTTP requests (each a JSON-RPC batch) sent to a node or reference."),
        rpc_errors: Counter("conflux_exporter_rpc_errors_total", ["target", "kind"], "Failed requests and calls, by kind", doc: "Failed HTTP requests, and failed calls inside answered batches, by error kind (timeout, connect, http_status, redirect, rpc_error, decode, too_large, forbidden)."),
        rpc_duration: Histogram("conflux_exporter_rpc_duration_seconds", ["target"], "HTTP request durations", doc: "Duration of HTTP requests to a node or reference, answered or not."),
        last_success: Gauge("conflux_exporter_last_success_timestamp_seconds", ["target"], "Last answered request", doc: "Unix time of the last fully answered HTTP request to a target; compare with time() to see how stale everything about it is."),
    }
}

impl ExporterFamilies {
    /// Creates the per-target series at zero so `rate()` works from the first failure on.
    pub fn init_target(&self, target: &str) {
        self.rpc_requests.with_label_values(&[target]);
        for kind in ERROR_KINDS {
            self.rpc_errors.with_label_values(&[target, kind]);
        }
    }
}

impl RpcObserver for ExporterFamilies {
    fn observe(&self, target: &str, elapsed: Duration, outcome: Result<(), &RpcError>) {
        self.rpc_requests.with_label_values(&[target]).inc();
        self.rpc_duration
            .with_label_values(&[target])
            .observe(elapsed.as_secs_f64());
        match outcome {
            Ok(()) => {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default();
                self.last_success
                    .with_label_values(&[target])
                    .set(now.as_secs_f64());
            }
            Err(e) => self.rpc_errors.with_label_values(&[target, e.kind()]).inc(),
        }
    }

    fn call_failed(&self, target: &str, err: &RpcError) {
        self.rpc_errors
            .with_label_values(&[target, err.kind()])
            .inc();
    }

    fn malformed(&self, target: &str, n: u64) {
        self.rpc_errors
            .with_label_values(&[target, "decode"])
            .inc_by(n);
    }
}
