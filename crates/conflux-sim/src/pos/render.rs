//! JSON exactly as a conflux-rust node writes its PoS RPC results (docs/node-facts.md#pos-rpc).
//!
//! Quantities are `0x` lower-case hex strings without leading zeros, keys are camelCase, and optional values
//! are explicit `null`s, because the exporter's decoders are tested against this output.

use serde_json::{json, Value};

use super::chain::{Block, RewardRecord, Tx, TxKind};
use super::ids;
use super::lock::{LockStatus, QueueItem};
use super::rules::Committee;

/// A `U64` quantity.
pub(crate) fn qty(n: u64) -> Value {
    Value::String(format!("{n:#x}"))
}

/// A `U256` quantity (rewards in drip).
pub(crate) fn qty_wide(n: u128) -> Value {
    Value::String(format!("{n:#x}"))
}

fn bls_key(addr: &str) -> String {
    ids::hex_bytes(ids::TAG_BLS, ids::str_key(addr), 48)
}

fn vrf_key(addr: &str) -> String {
    ids::hex_bytes(ids::TAG_VRF, ids::str_key(addr), 33)
}

fn decision(height: u64, hash: &str) -> Value {
    json!({"blockHash": hash, "height": qty(height)})
}

/// `pos_getBlockBy*` result.
pub(crate) fn block(b: &Block) -> Value {
    let signatures: Vec<Value> = if b.qc_hidden {
        Vec::new()
    } else {
        b.qc.iter()
            .map(|(a, p)| json!({"account": a, "votes": qty(*p)}))
            .collect()
    };
    json!({
        "hash": b.hash,
        "height": qty(b.height),
        "epoch": qty(b.epoch),
        "round": qty(b.round),
        "lastTxNumber": qty(b.last_tx),
        "miner": b.miner,
        "parentHash": b.parent_hash,
        "timestamp": qty(b.timestamp_us),
        "pivotDecision": decision(b.pivot.0, &b.pivot.1),
        "signatures": signatures,
    })
}

fn tx_type_and_payload(kind: &TxKind, number: u64) -> (&'static str, Value) {
    match kind {
        TxKind::BlockMetadata => ("BlockMetadata", Value::Null),
        TxKind::PivotDecision { height, block_hash } => {
            ("PivotDecision", decision(*height, block_hash))
        }
        TxKind::Election {
            address,
            target_term,
        } => (
            "Election",
            json!({
                "publicKey": bls_key(address),
                "vrfPublicKey": vrf_key(address),
                "targetTerm": qty(*target_term),
                "vrfProof": ids::hex_bytes(ids::TAG_PROOF, ids::str_key(address) ^ target_term, 81),
            }),
        ),
        TxKind::Register { address } => (
            "Register",
            json!({"publicKey": bls_key(address), "vrfPublicKey": vrf_key(address)}),
        ),
        TxKind::UpdateVotingPower { address, power } => (
            "UpdateVotingPower",
            json!({"address": address, "votingPower": qty(*power)}),
        ),
        TxKind::Retire { address, power } => (
            "Retire",
            json!({"address": address, "votingPower": qty(*power)}),
        ),
        TxKind::Dispute { address, view } => {
            let seed = ids::str_key(address) ^ view.rotate_left(17) ^ number;
            (
                "Dispute",
                json!({
                    "address": address,
                    "blsPublicKey": bls_key(address),
                    "vrfPublicKey": vrf_key(address),
                    "conflictingVotes": {
                        "conflictVoteType": "vote",
                        "first": ids::hex_bytes(ids::TAG_VOTE, seed, 128),
                        "second": ids::hex_bytes(ids::TAG_VOTE, seed ^ 1, 128),
                    },
                }),
            )
        }
    }
}

/// `pos_getTransactionByNumber` result for a transaction of block `b`.
pub(crate) fn transaction(t: &Tx, b: &Block) -> Value {
    let (kind, payload) = tx_type_and_payload(&t.kind, t.number);
    json!({
        "hash": ids::h256(ids::TAG_TX, t.number),
        "from": t.from,
        "number": qty(t.number),
        "blockHash": b.hash,
        "blockNumber": qty(b.height),
        "timestamp": qty(b.timestamp_us),
        "status": "Executed",
        "type": kind,
        "payload": payload,
    })
}

fn queue(items: &[QueueItem]) -> Value {
    items
        .iter()
        .map(|q| json!({"endBlockNumber": qty(q.end), "power": qty(q.power)}))
        .collect()
}

/// `pos_getAccount` result; an unknown account is the zero-filled object the node returns, not `null`.
pub(crate) fn account(address: &str, view: u64, status: Option<&LockStatus>) -> Value {
    let zero = LockStatus::default();
    let s = status.unwrap_or(&zero);
    json!({
        "address": address,
        "blockNumber": qty(view),
        "status": {
            "availableVotes": qty(s.available()),
            "forfeited": qty(0),
            "forceRetired": s.force_retired.map(qty),
            "inQueue": queue(&s.in_queue),
            "locked": qty(s.locked),
            "outQueue": queue(&s.out_queue),
            "unlocked": qty(s.unlocked),
        },
    })
}

fn nodes(list: &[(String, u64)]) -> Value {
    list.iter()
        .map(|(a, p)| json!({"address": a, "votingPower": qty(*p)}))
        .collect()
}

/// One upcoming term in `pos_getCommittee().elections`.
pub(crate) struct ElectionView {
    pub start_view: u64,
    pub finalized: bool,
    pub nodes: Vec<(String, u64)>,
}

/// `pos_getCommittee` result.
pub(crate) fn committee(c: &Committee, elections: &[ElectionView]) -> Value {
    json!({
        "currentCommittee": {
            "epochNumber": qty(c.epoch),
            "nodes": nodes(&c.nodes),
            "quorumVotingPower": qty(c.quorum()),
            "totalVotingPower": qty(c.total()),
        },
        "elections": elections
            .iter()
            .map(|e| json!({
                "isFinalized": e.finalized,
                "startBlockNumber": qty(e.start_view),
                "topElectingNodes": nodes(&e.nodes),
            }))
            .collect::<Vec<_>>(),
    })
}

/// `pos_getRewardsByEpoch` result.
pub(crate) fn rewards(r: &RewardRecord) -> Value {
    json!({
        "powEpochHash": r.pow_epoch_hash,
        "accountRewards": r.entries
            .iter()
            .map(|(pos, pow, drip)| json!({"posAddress": pos, "powAddress": pow, "reward": qty_wide(*drip)}))
            .collect::<Vec<_>>(),
    })
}

/// `pos_getStatus` result for the state after block `b`.
pub(crate) fn status(epoch: u64, b: &Block, latest_voted: Option<u64>) -> Value {
    json!({
        "epoch": qty(epoch),
        "latestCommitted": qty(b.height),
        "latestVoted": latest_voted.map(qty),
        "latestTxNumber": qty(b.last_tx),
        "pivotDecision": decision(b.pivot.0, &b.pivot.1),
    })
}
