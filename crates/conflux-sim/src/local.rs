//! Node-local methods (`test_*`, `debug_*`, `txpool_*`; docs/node-facts.md#local-methods). The PoS control methods
//! that change state are answered as a node would and return an [`Effect`] so the world applies the change;
//! the request log separately records them as dangerous.

use serde_json::{json, Value};

use super::call::{Answer, Ctx, Effect};
use super::endpoint::SafetyFile;
use super::wire::{derive_h256, derive_u64, parse_qty, qty, RpcError};

/// Selector of PoSRegister `register(bytes32,uint64,bytes,bytes,bytes[2])` (docs/node-facts.md#addresses-and-registration).
const REGISTER_SELECTOR: &str = "e335b451";

/// Answers a `test_*`, `debug_*` or `txpool_*` call; unknown methods are −32601.
pub fn call(ctx: &Ctx<'_>, method: &str, params: &[Value]) -> Answer {
    let voting_method = matches!(
        method,
        "test_posVotingStatus" | "test_posStartVoting" | "test_posStopVoting"
    );
    if voting_method && ctx.view.pos_disabled {
        return (Err(RpcError::internal("Pos not initialized!")), None);
    }
    match method {
        "debug_currentSyncPhase" => (Ok(json!(ctx.view.sync_phase)), None),
        "test_getPeerInfo" => (Ok(peers(ctx)), None),
        "txpool_status" => {
            let n = ctx.view.pending_tx;
            let status = json!({"deferred": qty(0), "ready": qty(n), "received": qty(n), "unexecuted": qty(n)});
            (Ok(status), None)
        }
        "test_posVotingStatus" => (Ok(json!(ctx.view.voting)), None),
        "test_posRegister" => (register(ctx, params), None),
        "test_posStopVoting" => (Ok(Value::Null), Some(Effect::StopVoting)),
        // `[false]` resumes from `secure_storage.json`, which must exist; `[true]` answers `null` and turns the
        // switch on without safety data, so the node cannot sign (measured on the real devnet: docs/node-facts.md#where-the-real-node-differs-from-the-documentation).
        "test_posStartVoting" => match params.first() {
            Some(Value::Bool(false)) if ctx.view.safety_file == SafetyFile::SaveOnly => (
                Err(RpcError::internal("No such file or directory (os error 2)")),
                None,
            ),
            Some(Value::Bool(initialize)) => (
                Ok(Value::Null),
                Some(Effect::StartVoting { signs: !initialize }),
            ),
            _ => (
                Err(RpcError::invalid_params("initialize: expected a boolean")),
                None,
            ),
        },
        // The node would answer its final serving view; `null` ("safe to stop now") is the answer for a
        // node in no committee, which is what the simulator assumes: it does not model terms here.
        "test_posStopElection" => (Ok(Value::Null), None),
        "test_stop" => (Ok(Value::Null), Some(Effect::Stop)),
        _ => (Err(RpcError::method_not_found()), None),
    }
}

/// `test_getPeerInfo`: `peers` entries shaped like the network crate's `PeerInfo` (`id` is a number,
/// `nodeid` an H512, `protocols` objects with the protocol id as a byte array and its version), each peer
/// speaking the three protocols a real v3 node does: `hsb` 1, `clp` 2, `cfx` 3.
fn peers(ctx: &Ctx<'_>) -> Value {
    let seed = ctx.chain.seed();
    let list: Vec<Value> = (0..u64::from(ctx.view.peers))
        .map(|i| {
            let a = derive_h256(&[seed, 0x7065_6572, i]);
            let b = derive_h256(&[seed, 0x7065_6572, i, 1]);
            json!({
                "id": i,
                "addr": format!("10.{}.{}.{}:32323", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff),
                "nodeid": format!("{a}{}", &b[2..]),
                "protocols": [
                    {"protocol": b"hsb", "version": 1},
                    {"protocol": b"clp", "version": 2},
                    {"protocol": b"cfx", "version": 3},
                ],
            })
        })
        .collect();
    Value::Array(list)
}

/// `test_posRegister ["0x<power>"]`: register call data and the node's PoS address without `0x`.
///
/// A real node always has a PoS key once its PoS module runs, so an endpoint without an identity (or with
/// PoS not started) answers −32078 "PoS chain is not enabled", the node's answer before PoS initialises.
fn register(ctx: &Ctx<'_>, params: &[Value]) -> Result<Value, RpcError> {
    let power = match params.first() {
        Some(Value::String(s)) => parse_qty(s)?,
        _ => {
            return Err(RpcError::invalid_params(
                "power: expected a 0x-prefixed hex quantity",
            ))
        }
    };
    let id = ctx
        .view
        .identity
        .as_deref()
        .filter(|_| !ctx.view.pos_not_started)
        .ok_or_else(RpcError::pos_not_enabled)?;
    let bare = id.trim_start_matches("0x");
    // ABI-like layout: identifier, power, then a deterministic stand-in for keys and proof.
    let filler = derive_h256(&[derive_u64(&[power]), 0x0072_6567]);
    let data = format!("0x{REGISTER_SELECTOR}{bare}{power:064x}{}", &filler[2..]);
    Ok(json!([data, bare]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::NetParams;
    use crate::chain::PowChain;
    use crate::config::{EndpointSpec, StatusOffsets};
    use crate::endpoint::EndpointView;

    const ID: &str = "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    fn run(view: &EndpointView, method: &str, params: &[Value]) -> Answer {
        let net = NetParams {
            chain_id: 1,
            network_id: 1,
            offsets: StatusOffsets::default(),
        };
        let chain = PowChain::new(1, 10, 0);
        let ctx = Ctx {
            net: &net,
            chain: &chain,
            view,
            pos: None,
        };
        call(&ctx, method, params)
    }

    #[test]
    fn register_returns_the_identity_without_prefix() {
        let view = EndpointView::new(&EndpointSpec::node("n", Some(ID)));
        let (r, eff) = run(&view, "test_posRegister", &[json!("0x1")]);
        let r = r.unwrap();
        assert_eq!(r[1], json!(&ID[2..]));
        assert!(r[0].as_str().unwrap().starts_with("0xe335b451"));
        assert_eq!(eff, None);
        let (r, _) = run(&view, "test_posRegister", &[json!(1)]);
        assert_eq!(r.map_err(|e| e.code), Err(-32602));
        let anon = EndpointView::new(&EndpointSpec::node("n", None));
        let (r, _) = run(&anon, "test_posRegister", &[json!("0x1")]);
        assert_eq!(r.map_err(|e| e.code), Err(-32078));
    }

    #[test]
    fn state_changing_methods_return_effects() {
        let view = EndpointView::new(&EndpointSpec::node("n", Some(ID)));
        assert_eq!(
            run(&view, "test_posStopVoting", &[]),
            (Ok(Value::Null), Some(Effect::StopVoting))
        );
        assert_eq!(
            run(&view, "test_posStartVoting", &[json!(true)]),
            (Ok(Value::Null), Some(Effect::StartVoting { signs: false }))
        );
        assert_eq!(
            run(&view, "test_posStartVoting", &[json!(false)]),
            (Ok(Value::Null), Some(Effect::StartVoting { signs: true }))
        );
        let mut stopped = view.clone();
        stopped.safety_file = SafetyFile::SaveOnly;
        let (r, eff) = run(&stopped, "test_posStartVoting", &[json!(false)]);
        assert_eq!((r.map_err(|e| e.code), eff), (Err(-32603), None));
        assert_eq!(run(&view, "test_stop", &[]).1, Some(Effect::Stop));
        assert_eq!(run(&view, "test_posVotingStatus", &[]).0, Ok(json!(true)));
    }

    #[test]
    fn peers_and_txpool_shapes() {
        let mut view = EndpointView::new(&EndpointSpec::node("n", None));
        view.peers = 3;
        view.pending_tx = 17;
        let p = run(&view, "test_getPeerInfo", &[]).0.unwrap();
        let arr = p.as_array().unwrap();
        assert_eq!(arr.len(), 3);
        for key in ["id", "addr", "nodeid", "protocols"] {
            assert!(arr[0].get(key).is_some(), "{key}");
        }
        assert_eq!(arr[0]["nodeid"].as_str().unwrap().len(), 2 + 128);
        let t = run(&view, "txpool_status", &[]).0.unwrap();
        assert_eq!(
            t,
            json!({"deferred":"0x0","ready":"0x11","received":"0x11","unexecuted":"0x11"})
        );
        assert_eq!(
            run(&view, "debug_currentSyncPhase", &[]).0,
            Ok(json!("NormalSyncPhase"))
        );
        assert_eq!(
            run(&view, "test_nope", &[]).0.map_err(|e| e.code),
            Err(-32601)
        );
    }
}
