//! JSON-RPC 2.0 method routing and response envelopes: route each parsed call (see `call`) by namespace to the
//! core, local or PoS handlers, and build responses. Pure: the world is passed in.

use serde_json::{json, Value};

use super::call::{Answer, Ctx};
use super::wire::{RpcError, INVALID_REQUEST, PARSE_ERROR};
use super::{cfx, classify, local};

/// A success response envelope.
pub fn response(id: Value, result: Result<Value, RpcError>) -> Value {
    match result {
        Ok(r) => json!({"jsonrpc": "2.0", "result": r, "id": id}),
        Err(e) => json!({"jsonrpc": "2.0", "error": e.to_json(), "id": id}),
    }
}

/// The response to a body that is not JSON.
pub fn parse_error() -> Value {
    response(Value::Null, Err(RpcError::new(PARSE_ERROR, "Parse error")))
}

/// The response to an item that is not a request object.
pub fn invalid_request(id: Value) -> Value {
    response(id, Err(RpcError::new(INVALID_REQUEST, "Invalid request")))
}

/// Routes one call: namespace gate, injected error, then the namespace's handler.
pub fn route(ctx: &Ctx<'_>, method: &str, params: &[Value]) -> Answer {
    let Some((namespace, _)) = method.split_once('_') else {
        return (Err(RpcError::method_not_found()), None);
    };
    if let Some(e) = ctx.view.error_for(method) {
        return (Err(RpcError::new(e.code, e.message.clone())), None);
    }
    if !ctx.view.serves(namespace) {
        return (Err(RpcError::method_not_found()), None);
    }
    match namespace {
        "cfx" => (cfx::call(ctx, method, params), None),
        "pos" => (pos_call(ctx, method, params), None),
        _ => local::call(ctx, method, params),
    }
}

fn pos_call(ctx: &Ctx<'_>, method: &str, params: &[Value]) -> Result<Value, RpcError> {
    if ctx.view.pos_disabled {
        if let Some(v) = classify::answer_without_pos(method, params) {
            return Ok(v);
        }
    }
    let (pos, visible) = ctx.pos_view().ok_or_else(RpcError::pos_not_enabled)?;
    pos.rpc(method, params, visible).map_err(|(code, message)| {
        match message.strip_prefix("Invalid params: ") {
            // The node's serde errors: a fixed message, the details in `data`.
            Some(details) if code == super::wire::INVALID_PARAMS => {
                RpcError::invalid_params(details)
            }
            _ => RpcError::new(code, message),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_follow_jsonrpc_2() {
        assert_eq!(
            response(json!(1), Ok(json!("0x1"))),
            json!({"jsonrpc":"2.0","result":"0x1","id":1})
        );
        assert_eq!(parse_error()["error"]["code"], json!(-32700));
        assert_eq!(parse_error()["id"], Value::Null);
        assert_eq!(invalid_request(json!(3))["error"]["code"], json!(-32600));
    }
}
