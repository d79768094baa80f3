//! The seam between the simulator and a PoS chain model.
//!
//! The PoS state machine lives in its own module (written separately); the simulator only needs to tell it who
//! votes, when to commit, and to forward `pos_*` calls. Keeping this a trait lets the simulator's tests use a
//! tiny fake and lets the real model be plugged in without either side depending on the other's internals.

use serde_json::Value;

/// A PoS chain the simulator can drive and query.
///
/// Implementations are called with the world lock held, so every method must be quick and must not block.
pub trait PosBackend: Send {
    /// How many simulated nodes currently vote with the PoS key `address` (`0x` + 64 hex).
    /// Called with the new count for every known identity whenever a switch or identity changes;
    /// 0 means nobody votes with it, 2 or more is a double-voting setup.
    fn set_voters(&mut self, address: &str, voters: u32);

    /// Commits the next PoS block at `now_us` (microseconds), deciding the PoW pivot `(epoch, hash)`.
    fn commit_block(&mut self, now_us: u64, pivot: (u64, String));

    /// Height of the newest committed block; endpoints see this minus their `pos_lag`.
    fn latest_committed(&self) -> u64;

    /// Answers a `pos_*` call as a node that has committed up to `visible` would.
    /// Errors are JSON-RPC `(code, message)` pairs, e.g. `(-32602, "...")`.
    fn rpc(&self, method: &str, params: &[Value], visible: u64) -> Result<Value, (i64, String)>;

    /// Handles a free-form command from `POST /control/pos`, so the PoS model can grow its own
    /// controls (force a retirement, drop a vote, ...) without changes to the simulator.
    fn control(&mut self, cmd: &Value) -> Result<Value, String> {
        let _ = cmd;
        Err("this PoS backend accepts no control commands".to_string())
    }

    /// A JSON summary for `GET /control/state`.
    fn state(&self) -> Value {
        Value::Null
    }

    /// Tells the model the simulator's chain id once at start, so chain-dependent rules (the CIP-99
    /// force-retire look-back) follow the same chain the core-space methods report.
    fn set_chain_id(&mut self, chain_id: u64) {
        let _ = chain_id;
    }

    /// The PoW epoch PoS has finalised as seen at height `visible`, if the model tracks it.
    /// When `Some`, it replaces the fixed offset for `latestFinalized`, so a PoS stall shows up as a
    /// growing finality lag exactly as on a real network.
    fn finalized_pow_epoch(&self, visible: u64) -> Option<u64> {
        let _ = visible;
        None
    }
}

/// The real PoS model plugs in through the same seam as the test double.
impl PosBackend for super::pos::PosChain {
    fn set_voters(&mut self, address: &str, voters: u32) {
        super::pos::PosChain::set_voters(self, address, voters)
    }

    fn commit_block(&mut self, now_us: u64, pivot: (u64, String)) {
        super::pos::PosChain::commit_block(self, now_us, pivot)
    }

    fn latest_committed(&self) -> u64 {
        super::pos::PosChain::latest_committed(self)
    }

    fn rpc(&self, method: &str, params: &[Value], visible: u64) -> Result<Value, (i64, String)> {
        super::pos::PosChain::rpc(self, method, params, visible)
    }

    fn control(&mut self, cmd: &Value) -> Result<Value, String> {
        super::pos::PosChain::control(self, cmd)
    }

    fn state(&self) -> Value {
        super::pos::PosChain::state(self)
    }

    fn finalized_pow_epoch(&self, visible: u64) -> Option<u64> {
        super::pos::PosChain::finalized_pow_epoch(self, visible)
    }

    fn set_chain_id(&mut self, chain_id: u64) {
        super::pos::PosChain::set_chain_id(self, chain_id)
    }
}
