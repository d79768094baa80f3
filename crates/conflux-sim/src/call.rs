//! What one call is and what it may read: the parsed request body (items and batches), the per-endpoint view
//! a handler reads ([`Ctx`]), and what a handler answers ([`Answer`], [`Effect`]). Kept apart from `dispatch`
//! (which routes to the handlers) so the handlers and the history classifier depend on these types, not on the
//! router that calls them.

use serde_json::Value;

use super::chain::PowChain;
use super::config::StatusOffsets;
use super::endpoint::EndpointView;
use super::pos_hook::PosBackend;
use super::wire::RpcError;

/// Network-wide constants the core methods need.
#[derive(Clone, Copy, Debug)]
pub struct NetParams {
    /// Native chain id.
    pub chain_id: u64,
    /// P2P network id.
    pub network_id: u64,
    /// Status offsets.
    pub offsets: StatusOffsets,
}

/// Everything a method handler may read: the world as one endpoint sees it.
pub struct Ctx<'a> {
    /// Network constants.
    pub net: &'a NetParams,
    /// The world's PoW chain.
    pub chain: &'a PowChain,
    /// The endpoint answering.
    pub view: &'a EndpointView,
    /// The PoS chain, if the world has one.
    pub pos: Option<&'a dyn PosBackend>,
}

impl Ctx<'_> {
    /// The endpoint's best epoch.
    pub fn epoch(&self) -> u64 {
        self.view.epoch(self.chain.tip())
    }

    /// The endpoint's pivot hash of `epoch` (its own branch after a fork point).
    pub fn hash(&self, epoch: u64) -> String {
        self.chain.pivot_hash(epoch, self.view.salt_for(epoch))
    }

    /// The PoS backend and the height this endpoint sees, or `None` when PoS answers −32078 here.
    pub fn pos_view(&self) -> Option<(&dyn PosBackend, u64)> {
        let pos = self.pos.filter(|_| !self.view.pos_not_started)?;
        Some((pos, self.view.pos_height(pos.latest_committed())))
    }
}

/// A state change requested by a call (only the node-local control methods produce these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// `test_posStartVoting`: the switch goes on; `signs` is false for `[true]` (no safety data initialised).
    StartVoting {
        /// Whether the node can actually sign.
        signs: bool,
    },
    /// `test_posStopVoting`: the switch goes off and `secure_storage.json` is renamed to `.save`.
    StopVoting,
    /// `test_stop`: the node shuts down (stops voting, stops listening).
    Stop,
}

/// A handler's answer: the result or error, plus an optional state change.
pub type Answer = (Result<Value, RpcError>, Option<Effect>);

/// One element of a request body.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// A well-formed call; `id: None` is a notification (no response).
    Call {
        /// Request id, echoed back.
        id: Option<Value>,
        /// Method name.
        method: String,
        /// Positional params (absent = empty).
        params: Result<Vec<Value>, RpcError>,
    },
    /// Not a request object; answered with −32600.
    Invalid {
        /// The id if one could be read, else `null`.
        id: Value,
    },
}

impl Item {
    /// The method name for the request log.
    pub fn method(&self) -> &str {
        match self {
            Item::Call { method, .. } => method,
            Item::Invalid { .. } => "<invalid>",
        }
    }
}

/// A parsed HTTP body.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// The body is not JSON.
    ParseError,
    /// `[]`, which JSON-RPC 2.0 answers with a single −32600.
    EmptyBatch,
    /// One request object.
    Single(Item),
    /// A non-empty array.
    Batch(Vec<Item>),
}

impl Body {
    /// Method names for the request log, and whether this was a batch.
    pub fn methods(&self) -> (bool, Vec<&str>) {
        match self {
            Body::ParseError | Body::EmptyBatch => (false, Vec::new()),
            Body::Single(i) => (false, vec![i.method()]),
            Body::Batch(items) => (true, items.iter().map(Item::method).collect()),
        }
    }
}

/// Parses a request body without interpreting any method.
pub fn parse(body: &[u8]) -> Body {
    match serde_json::from_slice::<Value>(body) {
        Err(_) => Body::ParseError,
        Ok(Value::Array(a)) if a.is_empty() => Body::EmptyBatch,
        Ok(Value::Array(a)) => Body::Batch(a.into_iter().map(parse_item).collect()),
        Ok(v) => Body::Single(parse_item(v)),
    }
}

fn parse_item(v: Value) -> Item {
    let Value::Object(mut o) = v else {
        return Item::Invalid { id: Value::Null };
    };
    let id = o.remove("id");
    let Some(Value::String(method)) = o.remove("method") else {
        return Item::Invalid {
            id: id.unwrap_or(Value::Null),
        };
    };
    let params = match o.remove("params") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(RpcError::invalid_params(
            "params must be an array of positional arguments",
        )),
    };
    Item::Call { id, method, params }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_are_classified() {
        assert_eq!(parse(b"{nope"), Body::ParseError);
        assert_eq!(parse(b"[]"), Body::EmptyBatch);
        let single = parse(br#"{"jsonrpc":"2.0","id":7,"method":"cfx_getStatus"}"#);
        assert_eq!(
            single,
            Body::Single(Item::Call {
                id: Some(json!(7)),
                method: "cfx_getStatus".into(),
                params: Ok(vec![])
            })
        );
        let batch = parse(br#"[{"id":1,"method":"a_b","params":[1]}, 5, {"id":"x"}]"#);
        let Body::Batch(items) = &batch else {
            panic!("expected a batch, got {batch:?}")
        };
        assert_eq!(items.len(), 3);
        assert_eq!(items[1], Item::Invalid { id: Value::Null });
        assert_eq!(items[2], Item::Invalid { id: json!("x") });
        assert_eq!(
            batch.methods(),
            (true, vec!["a_b", "<invalid>", "<invalid>"])
        );
    }

    #[test]
    fn object_params_are_invalid_params() {
        let Body::Single(Item::Call { params, .. }) =
            parse(br#"{"id":1,"method":"cfx_epochNumber","params":{"a":1}}"#)
        else {
            panic!("expected a call")
        };
        assert_eq!(params.map_err(|e| e.code), Err(-32602));
    }
}
