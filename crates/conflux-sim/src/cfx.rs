//! Core-space (`cfx_*`) methods with the node's exact result shapes (docs/node-facts.md#status-and-sync-phases).

use serde_json::{json, Value};

use super::call::Ctx;
use super::wire::{derive_h256, derive_u64, parse_qty, qty, verbose_address, RpcError};

/// Blocks per epoch in ledger order; the pivot block is the last one of its epoch.
const BLOCKS_PER_EPOCH: u64 = 2;

/// Keccak-256 of the empty RLP list: the transactions root of a block without transactions.
const EMPTY_TX_ROOT: &str = "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470";

/// Domain tags for derived block fields.
const STATE_ROOT: u64 = 1;
const RECEIPTS_ROOT: u64 = 2;
const LOGS_BLOOM: u64 = 3;
const POS_REF: u64 = 4;
const NONCE: u64 = 5;

/// Answers a `cfx_*` call; unknown methods are −32601.
pub fn call(ctx: &Ctx<'_>, method: &str, params: &[Value]) -> Result<Value, RpcError> {
    match method {
        "cfx_getStatus" => Ok(status(ctx)),
        "cfx_epochNumber" => {
            let e = match params.first() {
                None | Some(Value::Null) => ctx.epoch(),
                Some(p) => epoch_param(ctx, p)?,
            };
            Ok(qty(e))
        }
        "cfx_clientVersion" => Ok(json!(ctx.view.client_version)),
        "cfx_getBestBlockHash" => Ok(json!(ctx.hash(ctx.epoch()))),
        "cfx_getBlockByEpochNumber" => {
            let [epoch, include_txs, ..] = params else {
                return Err(RpcError::invalid_params(format!(
                    "invalid length {}, expected a tuple of size 2",
                    params.len()
                )));
            };
            let epoch = epoch_param(ctx, epoch)?;
            if !include_txs.is_boolean() {
                return Err(RpcError::invalid_params(
                    "includeTxs: invalid type, expected a boolean",
                ));
            }
            Ok(block(ctx, epoch))
        }
        _ => Err(RpcError::method_not_found()),
    }
}

/// The heights behind the endpoint's tip that the status and epoch tags report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Heights {
    /// `latest_mined`.
    pub mined: u64,
    /// `latest_state`.
    pub state: u64,
    /// `latest_confirmed`.
    pub confirmed: u64,
    /// `latest_finalized`: the PoS backend's pivot decision if it reports one, else a fixed offset.
    pub finalized: u64,
    /// `latest_checkpoint`: the era start at or below the confirmed height.
    pub checkpoint: u64,
}

/// Derives every tagged height for the answering endpoint.
pub fn heights(ctx: &Ctx<'_>) -> Heights {
    let o = ctx.net.offsets;
    let mined = ctx.epoch();
    let confirmed = mined.saturating_sub(o.confirmed);
    let finalized = ctx
        .pos_view()
        .and_then(|(pos, visible)| pos.finalized_pow_epoch(visible))
        .map_or(mined.saturating_sub(o.finalized), |f| f.min(mined));
    Heights {
        mined,
        state: mined.saturating_sub(o.state),
        confirmed,
        finalized,
        checkpoint: confirmed / o.era_epoch_count * o.era_epoch_count,
    }
}

/// Parses an epoch parameter (tag or `0x` hex); numbers above the endpoint's tip are −32602 as on a node.
pub fn epoch_param(ctx: &Ctx<'_>, p: &Value) -> Result<u64, RpcError> {
    let Value::String(s) = p else {
        return Err(RpcError::invalid_params(
            "Invalid epoch number: expected a tag or a 0x-prefixed hex string",
        ));
    };
    let h = heights(ctx);
    let e = match s.as_str() {
        "latest_mined" => h.mined,
        "latest_state" => h.state,
        "latest_confirmed" => h.confirmed,
        "latest_finalized" => h.finalized,
        "latest_checkpoint" => h.checkpoint,
        "earliest" => 0,
        other => parse_qty(other)?,
    };
    if e > h.mined {
        return Err(RpcError::invalid_params(format!(
            "expected a numbered epoch id less than or equal to the best epoch {:#x}, got {e:#x}",
            h.mined
        )));
    }
    Ok(e)
}

/// `cfx_getStatus` result: every field a non-null hex quantity.
fn status(ctx: &Ctx<'_>) -> Value {
    let h = heights(ctx);
    let chain_id = ctx.net.chain_id;
    json!({
        "bestHash": ctx.hash(h.mined),
        "chainId": qty(chain_id),
        "ethereumSpaceChainId": qty(espace_chain_id(chain_id)),
        "networkId": qty(ctx.net.network_id),
        "epochNumber": qty(h.mined),
        "blockNumber": qty(BLOCKS_PER_EPOCH * h.mined + 1),
        "pendingTxNumber": qty(ctx.view.pending_tx),
        "latestCheckpoint": qty(h.checkpoint),
        "latestConfirmed": qty(h.confirmed),
        "latestState": qty(h.state),
        "latestFinalized": qty(h.finalized),
    })
}

/// eSpace chain id: 1030 for mainnet, 71 for testnet, otherwise the native id plus one.
fn espace_chain_id(chain_id: u64) -> u64 {
    match chain_id {
        1029 => 1030,
        1 => 71,
        n => n.saturating_add(1),
    }
}

/// The pivot block of `epoch` as a Block object (the fixture `cfx_getBlockByHash.json` shape).
fn block(ctx: &Ctx<'_>, epoch: u64) -> Value {
    let seed = ctx.chain.seed();
    let salt = ctx.view.salt_for(epoch);
    let derived = |domain: u64| derive_h256(&[seed, domain, salt, epoch]);
    let parent = match epoch {
        0 => super::wire::zero_h256(),
        e => ctx.hash(e - 1),
    };
    json!({
        "hash": ctx.hash(epoch),
        "parentHash": parent,
        "height": qty(epoch),
        "epochNumber": qty(epoch),
        "blockNumber": qty(BLOCKS_PER_EPOCH * epoch),
        "timestamp": qty(ctx.chain.timestamp(epoch)),
        "miner": verbose_address(ctx.net.network_id),
        "posReference": derive_h256(&[seed, POS_REF, epoch / 60]),
        "difficulty": qty(0x0eee_4400 + derive_u64(&[seed, epoch]) % 0x1_0000),
        "gasLimit": qty(60_000_000),
        "gasUsed": qty(0),
        "nonce": qty(derive_u64(&[seed, NONCE, salt, epoch])),
        "refereeHashes": [],
        "transactions": [],
        "size": qty(0),
        "blame": qty(0),
        "adaptive": false,
        "custom": [],
        "powQuality": qty(0x2_ab0c_3513 + derive_u64(&[seed, epoch, 9]) % 0x1000),
        "deferredStateRoot": derived(STATE_ROOT),
        "deferredReceiptsRoot": derived(RECEIPTS_ROOT),
        "deferredLogsBloomHash": derived(LOGS_BLOOM),
        "transactionsRoot": EMPTY_TX_ROOT,
        "baseFeePerGas": qty(1_000_000_000),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::NetParams;
    use crate::chain::PowChain;
    use crate::config::{EndpointSpec, StatusOffsets};
    use crate::endpoint::EndpointView;
    use crate::patch::EndpointPatch;

    fn fixture() -> (NetParams, PowChain, EndpointView) {
        let net = NetParams {
            chain_id: 1029,
            network_id: 1029,
            offsets: StatusOffsets::default(),
        };
        (
            net,
            PowChain::new(3, 100_000, 1_700_000_000),
            EndpointView::new(&EndpointSpec::node("n", None)),
        )
    }

    /// A context over the fixture's parts, without PoS.
    fn ctx<'a>(net: &'a NetParams, chain: &'a PowChain, view: &'a EndpointView) -> Ctx<'a> {
        Ctx {
            net,
            chain,
            view,
            pos: None,
        }
    }

    #[test]
    fn status_heights_follow_the_offsets() {
        let (net, chain, view) = fixture();
        let ctx = ctx(&net, &chain, &view);
        let s = status(&ctx);
        assert_eq!(s["epochNumber"], json!("0x186a0"));
        assert_eq!(s["latestState"], qty(99_995));
        assert_eq!(s["latestConfirmed"], qty(99_950));
        assert_eq!(s["latestFinalized"], qty(99_700));
        assert_eq!(s["latestCheckpoint"], qty(80_000));
        assert_eq!(s["chainId"], json!("0x405"));
        assert_eq!(s["ethereumSpaceChainId"], json!("0x406"));
        assert_eq!(s["bestHash"], json!(chain.pivot_hash(100_000, 0)));
        assert_eq!(s.as_object().map(|o| o.len()), Some(11));
    }

    #[test]
    fn offsets_saturate_at_genesis() {
        let (net, _, view) = fixture();
        let chain = PowChain::new(3, 10, 0);
        let ctx = ctx(&net, &chain, &view);
        let h = heights(&ctx);
        assert_eq!(
            (h.state, h.confirmed, h.finalized, h.checkpoint),
            (5, 0, 0, 0)
        );
    }

    #[test]
    fn epoch_tags_and_bounds() {
        let (net, chain, mut view) = fixture();
        view.apply(&EndpointPatch::default().lag(10), chain.tip(), 0)
            .unwrap();
        let ctx = ctx(&net, &chain, &view);
        let ep = |p: Value| epoch_param(&ctx, &p).map_err(|e| e.code);
        assert_eq!(ep(json!("latest_mined")), Ok(99_990));
        assert_eq!(ep(json!("earliest")), Ok(0));
        assert_eq!(ep(json!("0x10")), Ok(16));
        assert_eq!(ep(json!(format!("{:#x}", 99_990))), Ok(99_990));
        assert_eq!(ep(json!(format!("{:#x}", 99_991))), Err(-32602));
        assert_eq!(ep(json!("latest")), Err(-32602));
        assert_eq!(ep(json!(16)), Err(-32602));
    }

    #[test]
    fn blocks_chain_by_parent_hash_and_use_second_timestamps() {
        let (net, chain, view) = fixture();
        let ctx = ctx(&net, &chain, &view);
        let b = call(
            &ctx,
            "cfx_getBlockByEpochNumber",
            &[json!("latest_mined"), json!(false)],
        )
        .unwrap();
        let prev = block(&ctx, 99_999);
        assert_eq!(b["parentHash"], prev["hash"]);
        assert_eq!(b["timestamp"], qty(1_700_000_000));
        assert_eq!(b["height"], b["epochNumber"]);
        assert_eq!(b["blame"], json!("0x0"));
        assert!(b["miner"].as_str().unwrap().starts_with("CFX:TYPE.USER:"));
        let missing = call(&ctx, "cfx_getBlockByEpochNumber", &[json!("latest_mined")]);
        assert_eq!(missing.map_err(|e| e.code), Err(-32602));
        assert_eq!(
            block(&ctx, 0)["parentHash"],
            json!(super::super::wire::zero_h256())
        );
    }

    #[test]
    fn unknown_cfx_method_is_not_found() {
        let (net, chain, view) = fixture();
        let ctx = ctx(&net, &chain, &view);
        assert_eq!(call(&ctx, "cfx_nope", &[]).map_err(|e| e.code), Err(-32601));
    }
}
