//! `pos_*` JSON-RPC methods answered as a node that has committed up to height `visible`.
//!
//! A lagging node sees less: blocks, transactions, rewards and account states after `visible` do not exist for
//! it. Parameter parsing is as strict as the node's serde types (quantities must be `0x` hex, addresses
//! `0x` + 64 hex), and failures are −32602 like the node's.

use serde_json::Value;

use super::chain::{LatestVoted, PosChain};
use super::params::parse_address;
use super::render::{self, ElectionView};

/// JSON-RPC "method not found".
pub const METHOD_NOT_FOUND: i64 = -32601;
/// JSON-RPC "invalid params".
pub const INVALID_PARAMS: i64 = -32602;

/// Conflux "exception error": state out of bound or not kept (docs/node-facts.md#ports-and-errors).
pub const PROCESSING_ERROR: i64 = -32016;

type RpcResult = Result<Value, (i64, String)>;

/// A −32016 with the node's message prefix.
fn processing_error(detail: String) -> (i64, String) {
    (
        PROCESSING_ERROR,
        format!("Error processing request: Msg error detail: {detail}"),
    )
}

fn invalid(msg: impl std::fmt::Display) -> (i64, String) {
    (INVALID_PARAMS, format!("Invalid params: {msg}"))
}

/// Positional parameter `i`; JSON `null` counts as absent, like an omitted `Option`.
fn arg(params: &[Value], i: usize) -> Option<&Value> {
    params.get(i).filter(|v| !v.is_null())
}

fn required(params: &[Value], i: usize) -> Result<&Value, (i64, String)> {
    arg(params, i).ok_or_else(|| invalid(format!("missing parameter {i}")))
}

/// A `U64` as the node's decoder reads it.
fn parse_u64(v: &Value) -> Result<u64, (i64, String)> {
    let s = v
        .as_str()
        .ok_or_else(|| invalid("invalid type: expected a 0x-prefixed hex string"))?;
    let hex = s
        .strip_prefix("0x")
        .ok_or_else(|| invalid("invalid hex value: missing 0x prefix"))?;
    if hex.is_empty() {
        return Err(invalid("invalid hex value: empty"));
    }
    u64::from_str_radix(hex, 16).map_err(|e| invalid(format!("invalid hex value {s:?}: {e}")))
}

fn parse_h256(v: &Value) -> Result<String, (i64, String)> {
    let s = v
        .as_str()
        .ok_or_else(|| invalid("invalid type: expected a 0x-prefixed H256"))?;
    parse_address(s).map_err(invalid)
}

impl PosChain {
    /// Answers one `pos_*` call as a node at committed height `visible` (clamped to the heights that exist).
    pub fn rpc(&self, method: &str, params: &[Value], visible: u64) -> RpcResult {
        let visible = self.clamp(visible);
        match method {
            "pos_getStatus" => Ok(self.status_at(visible)),
            "pos_getBlockByNumber" => {
                let height = self.block_number(required(params, 0)?, visible)?;
                Ok(self.block_json(height, visible))
            }
            "pos_getBlockByHash" => {
                let hash = parse_h256(required(params, 0)?)?;
                Ok(self.block_json(self.by_hash.get(&hash).copied(), visible))
            }
            "pos_getTransactionByNumber" => {
                let n = parse_u64(required(params, 0)?)?;
                let found = self.tx(n).and_then(|t| {
                    self.block(t.block)
                        .filter(|b| b.height <= visible)
                        .map(|b| (t, b))
                });
                Ok(found.map_or(Value::Null, |(t, b)| render::transaction(t, b)))
            }
            "pos_getCommittee" => {
                let view = self.state_view(arg(params, 0), visible)?;
                Ok(self.committee_at(view))
            }
            "pos_getAccount" => {
                let address = parse_h256(required(params, 0)?)?;
                let view = self.state_view(arg(params, 1), visible)?;
                Ok(self.account_at(&address, view))
            }
            "pos_getAccountByPowAddress" => {
                let pow = required(params, 0)?
                    .as_str()
                    .ok_or_else(|| invalid("invalid type: expected a base32 address"))?;
                let view = self.state_view(arg(params, 1), visible)?;
                let found = self
                    .accounts
                    .iter()
                    .find(|(_, a)| a.pow_address.eq_ignore_ascii_case(pow))
                    .map(|(addr, _)| addr.clone());
                let address = found.unwrap_or_else(|| super::ids::ZERO_H256.to_string());
                Ok(self.account_at(&address, view))
            }
            "pos_getRewardsByEpoch" => {
                let epoch = parse_u64(required(params, 0)?)?;
                let record = self.rewards.get(&epoch).filter(|r| r.end_view <= visible);
                Ok(record.map_or(Value::Null, render::rewards))
            }
            _ => Err((METHOD_NOT_FOUND, "Method not found".to_string())),
        }
    }

    /// `latestVoted` as seen at `visible`.
    fn latest_voted_at(&self, visible: u64) -> Option<u64> {
        match self.latest_voted {
            LatestVoted::Null => None,
            LatestVoted::Pending => Some(visible + 1),
            LatestVoted::Auto => {
                let c = self.committee(self.geo.state_epoch(visible));
                let live: u64 = c
                    .nodes
                    .iter()
                    .filter(|(a, _)| self.voters_of(a) >= 1)
                    .map(|(_, p)| p)
                    .sum();
                let pending = self
                    .block(visible)
                    .is_some_and(|b| super::ids::str_key(&b.hash) % 2 == 0);
                (!c.nodes.is_empty() && live >= c.quorum() && pending).then_some(visible + 1)
            }
        }
    }

    fn status_at(&self, visible: u64) -> Value {
        match self.block(visible) {
            Some(b) => render::status(
                self.geo.state_epoch(visible),
                b,
                self.latest_voted_at(visible),
            ),
            None => Value::Null,
        }
    }

    /// Resolves a block-number parameter (tag or hex) to a height, `None` where the node has no block.
    fn block_number(&self, v: &Value, visible: u64) -> Result<Option<u64>, (i64, String)> {
        Ok(match v.as_str() {
            Some("latest_committed") => Some(visible),
            Some("latest_voted") => self.latest_voted_at(visible),
            Some("earliest") => Some(self.p.start_view.max(1)),
            _ => Some(parse_u64(v)?),
        })
    }

    fn block_json(&self, height: Option<u64>, visible: u64) -> Value {
        height
            .filter(|h| *h <= visible)
            .and_then(|h| self.block(h))
            .map_or(Value::Null, render::block)
    }

    /// The optional `view` parameter of state queries: defaults to `visible`. Like the real node, only the
    /// states of epoch-ending blocks (and genesis) are kept; any other view after the anchor, or one not
    /// committed yet, is −32016. Views up to the anchor are answered from the anchor state: the simulator has
    /// no earlier blocks, so a client that starts reading there cannot find the epoch's first block.
    fn state_view(&self, v: Option<&Value>, visible: u64) -> Result<u64, (i64, String)> {
        let Some(v) = v else { return Ok(visible) };
        let view = parse_u64(v)?;
        if view > visible {
            return Err(processing_error(format!(
                "Specified block {view} is not executed, the latest block number is {visible}"
            )));
        }
        if view > self.p.start_view && !self.geo.ends_epoch(view) {
            return Err(processing_error(format!("PoS state of {view} not found")));
        }
        Ok(view)
    }

    fn account_at(&self, address: &str, view: u64) -> Value {
        let at = view.max(self.p.start_view);
        let status = self.accounts.get(address).and_then(|a| a.at(at));
        render::account(address, view, status)
    }

    fn committee_at(&self, view: u64) -> Value {
        let at = view.max(self.p.start_view);
        let committee = self.committee(self.geo.state_epoch(at));
        let base = self.geo.term(at);
        let elections: Vec<ElectionView> = [base + 1, base + 2]
            .into_iter()
            .map(|term| {
                let finalized = self.geo.is_finalized(term, at);
                ElectionView {
                    start_view: self.geo.term_start(term).unwrap_or(0),
                    finalized,
                    nodes: if finalized {
                        self.seats.elected(term, at)
                    } else {
                        self.seats.provisional(term, at)
                    },
                }
            })
            .collect();
        render::committee(&committee, &elections)
    }
}
