//! A minimal [`PosBackend`] test double. It exists so the simulator's own tests (and any test written before
//! the real PoS model is plugged in) can prove that `pos_*` calls, voter counts, commits and control commands
//! reach the backend with the right arguments. It models no PoS rules; use the real PoS chain for that.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::pos_hook::PosBackend;
use super::wire::qty;

/// Records everything the simulator tells it and answers `pos_getStatus` from what it recorded.
#[derive(Debug, Default, Clone)]
pub struct FakePos {
    /// Pivot decided by each committed block; block `h` is `pivots[h - 1]`.
    pub pivots: Vec<(u64, String)>,
    /// Commit time of the newest block (µs).
    pub last_commit_us: u64,
    /// Latest voter count per identity.
    pub voters: BTreeMap<String, u32>,
    /// Control commands received.
    pub commands: Vec<Value>,
}

impl PosBackend for FakePos {
    fn set_voters(&mut self, address: &str, voters: u32) {
        self.voters.insert(address.to_string(), voters);
    }

    fn commit_block(&mut self, now_us: u64, pivot: (u64, String)) {
        self.last_commit_us = now_us;
        self.pivots.push(pivot);
    }

    fn latest_committed(&self) -> u64 {
        self.pivots.len() as u64
    }

    /// Answers `pos_getStatus` for height `visible`; everything else is −32601.
    fn rpc(&self, method: &str, _params: &[Value], visible: u64) -> Result<Value, (i64, String)> {
        match method {
            "pos_getStatus" => {
                let pivot = self.finalized_pivot(visible);
                Ok(json!({
                    "epoch": qty(visible / 120 + 1),
                    "latestCommitted": qty(visible),
                    "latestVoted": null,
                    "latestTxNumber": qty(visible * 2),
                    "pivotDecision": {"blockHash": pivot.1, "height": qty(pivot.0)},
                }))
            }
            _ => Err((-32601, "Method not found".to_string())),
        }
    }

    fn control(&mut self, cmd: &Value) -> Result<Value, String> {
        if cmd.get("fail").is_some() {
            return Err("asked to fail".to_string());
        }
        self.commands.push(cmd.clone());
        Ok(json!({"received": self.commands.len()}))
    }

    fn state(&self) -> Value {
        json!({"height": self.latest_committed(), "voters": self.voters})
    }

    fn finalized_pow_epoch(&self, visible: u64) -> Option<u64> {
        (visible > 0).then(|| self.finalized_pivot(visible).0)
    }
}

impl FakePos {
    fn finalized_pivot(&self, visible: u64) -> (u64, String) {
        visible
            .checked_sub(1)
            .and_then(|i| self.pivots.get(i as usize).cloned())
            .unwrap_or((0, super::wire::zero_h256()))
    }
}
