//! The suite's own JSON-RPC client for the devnet: what an operator would ask the node, read independently of the
//! exporter so the suite can judge the exporter against the chain (and send the operator's state-changing calls,
//! which the exporter itself never sends).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A loopback JSON-RPC endpoint of one devnet node.
#[derive(Clone)]
pub struct Rpc {
    url: String,
    http: reqwest::Client,
}

/// One PoS block as the suite needs it: its time and the accounts whose signatures its QC carries.
#[derive(Debug, Clone)]
pub struct ChainBlock {
    /// Unix time of the block, seconds (the chain gives microseconds).
    pub timestamp: f64,
    pub signers: Vec<String>,
}

/// Parses a `0x…` quantity.
pub fn hex(v: &Value) -> Option<u64> {
    u64::from_str_radix(v.as_str()?.trim_start_matches("0x"), 16).ok()
}

impl Rpc {
    pub fn new(port: u16) -> Self {
        Self {
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        }
    }

    /// One call; `Err` carries the transport error or the JSON-RPC error object as text.
    pub async fn call(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, String> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let resp = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body).unwrap())
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| format!("{method}: {e}"))?;
        let bytes = resp.bytes().await.map_err(|e| format!("{method}: {e}"))?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| format!("{method}: {e}"))?;
        match v.get("error") {
            Some(e) => Err(format!("{method}: {e}")),
            None => Ok(v.get("result").cloned().unwrap_or(Value::Null)),
        }
    }

    /// A call that must succeed (the suite's own reads, with a generous deadline for a loaded machine).
    pub async fn must(&self, method: &str, params: Value) -> Value {
        self.call(method, params, Duration::from_secs(60))
            .await
            .unwrap_or_else(|e| panic!("{} {e}", self.url))
    }

    /// `cfx_getStatus` answered, and how long it took.
    pub async fn status_probe(&self, timeout: Duration) -> (bool, f64) {
        let t = Instant::now();
        let ok = self.call("cfx_getStatus", json!([]), timeout).await.is_ok();
        (ok, t.elapsed().as_secs_f64())
    }

    /// `pos_getStatus`: (latest committed block, epoch, latest PoS transaction number).
    pub async fn pos_status(&self) -> (u64, u64, u64) {
        let s = self.must("pos_getStatus", json!([])).await;
        let f = |k: &str| hex(&s[k]).unwrap_or_else(|| panic!("pos_getStatus.{k}: {s}"));
        (f("latestCommitted"), f("epoch"), f("latestTxNumber"))
    }

    pub async fn block(&self, height: u64) -> ChainBlock {
        let b = self
            .must("pos_getBlockByNumber", json!([format!("{height:#x}")]))
            .await;
        let signers = b["signatures"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s["account"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        ChainBlock {
            timestamp: hex(&b["timestamp"]).unwrap_or_else(|| panic!("block {height}: {b}")) as f64
                / 1e6,
            signers,
        }
    }

    /// The first committed block after `after` whose QC `address` signed, up to the head now.
    pub async fn first_signed_after(&self, address: &str, after: u64) -> Option<u64> {
        let (head, _, _) = self.pos_status().await;
        for h in after + 1..=head {
            if self.block(h).await.signers.iter().any(|s| s == address) {
                return Some(h);
            }
        }
        None
    }

    /// The PoS address this node's key signs with (`test_posRegister` answers `[data, "<address without 0x>"]`).
    pub async fn pos_address(&self) -> String {
        let r = self.must("test_posRegister", json!(["0x1"])).await;
        format!("0x{}", r[1].as_str().expect("address in test_posRegister"))
    }

    /// `status.forceRetired` of the account (the block of the retirement), if set.
    pub async fn force_retired(&self, address: &str) -> Option<u64> {
        let a = self.must("pos_getAccount", json!([address])).await;
        hex(&a["status"]["forceRetired"])
    }

    /// Dispute transactions naming `address` among PoS transactions `from..=to`.
    pub async fn disputes(&self, address: &str, from: u64, to: u64) -> Vec<u64> {
        let mut found = Vec::new();
        for n in from..=to {
            let t = self
                .must("pos_getTransactionByNumber", json!([format!("{n:#x}")]))
                .await;
            if t["type"] == "Dispute" && t["payload"]["address"].as_str() == Some(address) {
                found.push(n);
            }
        }
        found
    }
}
