//! Wild numbers from a node, without a network: the exporter's PoS source reads a simulated PoS chain in-process
//! while single answers are rewritten the way a broken node (or a peer lying through it) could send them. The
//! rows: one `pos_getStatus` with `latestCommitted` 10¹² must not freeze the vote record (then a healthy node, nine
//! polls of 5 s: votes counted, blocks read, `backfill_remaining` right); a real chain reset is followed; one block
//! with `lastTxNumber` 0xffffffffffffffff must not stop transaction reads (and Dispute detection) for good. And
//! arbitrary numbers in every field of realistic answers never panic.

use conflux_pos_exporter::pos_address::PosAddress;
use conflux_pos_exporter::rpc::{to_raw, RpcError};
use conflux_pos_exporter::watch::pos::PosSource;
use conflux_sim::pos::{PosChain, PosParams};
use proptest::prelude::*;
use serde_json::{json, Value};

const US: &str = "0xabababababababababababababababababababababababababababababababab";
const LEN: u64 = 10;
/// 45 s of a healthy node at the default 5 s poll.
const HEALTHY_POLLS: usize = 9;

/// Rewrites one answer: `(method, params, answer) -> answer`.
type Tamper<'a> = &'a dyn Fn(&str, &Value, Value) -> Value;

fn answer(chain: &PosChain, method: &str, params: &Value) -> Result<Value, RpcError> {
    match method {
        "test_posVotingStatus" => Ok(json!(true)),
        m => {
            let params = params.as_array().cloned().unwrap_or_default();
            chain
                .rpc(m, &params, chain.latest_committed())
                .map_err(|(code, message)| RpcError::rpc(code, &message))
        }
    }
}

/// One poll: the head batch, then history requests until nothing is left to read.
fn poll(src: &mut PosSource, chain: &PosChain, tamper: Tamper) {
    let ask = |c: &conflux_pos_exporter::rpc::Call| {
        answer(chain, c.method, &c.params).map(|v| to_raw(&tamper(c.method, &c.params, v)))
    };
    let calls = src.calls();
    src.apply(Ok(calls.iter().map(ask).collect()));
    src.choose_local();
    for _ in 0..40 {
        let Some(calls) = src.extra_calls() else {
            break;
        };
        src.apply_extra(calls.iter().map(ask).collect());
    }
}

fn honest(_: &str, _: &Value, v: Value) -> Value {
    v
}

fn source() -> PosSource {
    PosSource::new(PosAddress::parse(US).ok())
}

fn chain_at(start_view: u64, blocks: u64) -> (PosChain, impl FnMut(&mut PosChain, u64)) {
    let mut params = PosParams::for_identities(&[US.to_string()], 3, LEN);
    params.start_view = start_view;
    let mut chain = PosChain::new(params);
    let mut now = 1_000_000u64;
    let mut step = move |chain: &mut PosChain, n: u64| {
        for _ in 0..n {
            now += 1_000_000;
            chain.commit_block(now, (1, format!("0x{:064x}", 1)));
        }
    };
    step(&mut chain, blocks);
    (chain, step)
}

fn counters(src: &PosSource) -> (u64, u64, u64) {
    let l = &src.obs.ledger;
    (l.signed_total, l.missed_total, l.unknown_total)
}

fn txs_read(src: &PosSource) -> u64 {
    src.obs.activity.tx_by_type.values().sum()
}

/// The answer with `latestCommitted` replaced, when it is `pos_getStatus`'s.
fn with_latest(method: &str, v: Value, latest: &str) -> Value {
    let mut v = v;
    if method == "pos_getStatus" {
        v["latestCommitted"] = json!(latest);
    }
    v
}

/// Asserts the reader has read every committed block and agrees with a reader that never saw the fault.
fn agrees(src: &PosSource, clean: &PosSource, chain: &PosChain, what: &str) {
    assert_eq!(
        src.obs.ledger.last_height,
        Some(chain.latest_committed()),
        "{what}: blocks read"
    );
    assert_eq!(counters(src), counters(clean), "{what}: votes");
    assert!(counters(src).0 > 0, "{what}: votes counted");
    assert_eq!(
        src.obs.history.remaining_blocks,
        Some(0),
        "{what}: backfill_remaining"
    );
    assert!(src.obs.backfilled, "{what}: backfill complete");
    assert_eq!(txs_read(src), txs_read(clean), "{what}: transactions");
}

#[test]
fn one_wild_latest_committed_does_not_freeze_the_vote_record() {
    // At start (the first reading is the wild one) and in the middle of a healthy run.
    for wild_poll in [0, 3] {
        let (mut chain, mut step) = chain_at(400_000, 3 * LEN + 3);
        let (mut clean, mut src) = (source(), source());
        for p in 0..wild_poll + HEALTHY_POLLS + 1 {
            let wild = |m: &str, _: &Value, v: Value| with_latest(m, v, "0xe8d4a51000");
            let tamper: Tamper = if p == wild_poll { &wild } else { &honest };
            poll(&mut clean, &chain, &honest);
            poll(&mut src, &chain, tamper);
            step(&mut chain, 1);
        }
        poll(&mut clean, &chain, &honest);
        poll(&mut src, &chain, &honest);
        agrees(
            &src,
            &clean,
            &chain,
            &format!("wild reading at poll {wild_poll}"),
        );
    }
}

#[test]
fn a_confirmed_chain_reset_is_followed() {
    let (mut a, mut step_a) = chain_at(400_000, 3 * LEN + 3);
    let mut src = source();
    for _ in 0..3 {
        poll(&mut src, &a, &honest);
        step_a(&mut a, 1);
    }
    assert!(src.obs.ledger.last_height > Some(400_000));
    // The node is wiped and joins a chain whose head is far lower.
    let (mut b, mut step_b) = chain_at(2_000, 3 * LEN + 3);
    let mut clean = source();
    for _ in 0..HEALTHY_POLLS {
        poll(&mut clean, &b, &honest);
        poll(&mut src, &b, &honest);
        step_b(&mut b, 1);
    }
    poll(&mut clean, &b, &honest);
    poll(&mut src, &b, &honest);
    assert_eq!(src.obs.ledger.last_height, Some(b.latest_committed()));
    assert_eq!(
        counters(&src),
        counters(&clean),
        "the new chain's votes, and only those"
    );
    assert_eq!(src.obs.history.remaining_blocks, Some(0));
}

#[test]
fn a_block_with_the_largest_last_tx_number_does_not_stop_transaction_reads() {
    let (mut chain, mut step) = chain_at(400_000, 3 * LEN + 3);
    let (mut clean, mut src) = (source(), source());
    poll(&mut clean, &chain, &honest);
    poll(&mut src, &chain, &honest);
    let wild_height = chain.latest_committed() + 1;
    let wild = move |m: &str, p: &Value, mut v: Value| {
        if m == "pos_getBlockByNumber" && p[0] == format!("{wild_height:#x}") {
            v["lastTxNumber"] = json!("0xffffffffffffffff");
        }
        v
    };
    for i in 0..HEALTHY_POLLS {
        if i == 4 {
            // Double voting by us, detected by the chain: the Dispute must still be read.
            chain.dispute(US).unwrap();
        }
        step(&mut chain, 1);
        poll(&mut clean, &chain, &honest);
        poll(&mut src, &chain, &wild);
    }
    assert!(
        clean.obs.activity.dispute_seen,
        "the fault-free reader sees the Dispute"
    );
    assert!(
        src.obs.activity.dispute_seen,
        "so does the one that read the wild block"
    );
    assert_eq!(txs_read(&src), txs_read(&clean));
    assert_eq!(
        counters(&src),
        counters(&clean),
        "the wild block's vote still counts"
    );
}

/// A realistic answer for `method` with every number drawn from `n` (cycled), so the shapes decode and the numbers
/// reach the trackers.
fn shaped(method: &str, n: &[u64], i: &mut usize) -> Value {
    let mut next = || {
        *i += 1;
        format!("{:#x}", n[*i % n.len()])
    };
    match method {
        "pos_getStatus" => json!({"epoch": next(), "latestCommitted": next(), "latestVoted": null,
            "latestTxNumber": next(), "pivotDecision": {"blockHash": "0x1", "height": next()}}),
        "pos_getCommittee" => {
            json!({"currentCommittee": {"epochNumber": next(), "quorumVotingPower": next(),
            "totalVotingPower": next(), "nodes": [{"address": US, "votingPower": next()}]},
            "elections": [{"isFinalized": false, "startBlockNumber": next(), "topElectingNodes": []},
                          {"isFinalized": false, "startBlockNumber": next(), "topElectingNodes": []}]})
        }
        "pos_getBlockByNumber" => {
            json!({"hash": "0xaa", "height": next(), "epoch": next(), "round": next(),
            "lastTxNumber": next(), "miner": null, "timestamp": next(),
            "signatures": [{"account": US, "votes": next()}]})
        }
        "pos_getTransactionByNumber" => json!({"from": US, "number": next(), "blockNumber": next(),
            "status": "Executed", "type": "Election", "payload": {"targetTerm": next()}}),
        "pos_getRewardsByEpoch" => {
            json!({"accountRewards": [{"posAddress": US, "reward": next()}]})
        }
        "pos_getAccount" => {
            json!({"address": US, "blockNumber": next(), "status": {"availableVotes": next(),
            "forfeited": next(), "forceRetired": null, "inQueue": [], "locked": next(), "outQueue": [],
            "unlocked": next()}})
        }
        "test_posVotingStatus" => json!(true),
        _ => Value::Null,
    }
}

fn edge_numbers() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        Just(0),
        Just(1),
        Just(u64::MAX),
        Just(u64::MAX - 1),
        Just(1 << 62),
        0u64..2_000,
        399_990u64..400_050,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any numbers in realistic answers, poll after poll: no panic (debug build: overflow checks on).
    #[test]
    fn arbitrary_numbers_in_every_answer_never_panic(
        numbers in prop::collection::vec(edge_numbers(), 1..40),
        polls in 1usize..6,
    ) {
        let mut src = source();
        let mut i = 0;
        for _ in 0..polls {
            let calls = src.calls();
            src.apply(Ok(calls.iter().map(|c| Ok(to_raw(&shaped(c.method, &numbers, &mut i)))).collect()));
            src.choose_local();
            for _ in 0..3 {
                let Some(calls) = src.extra_calls() else { break };
                let answers = calls.iter().map(|c| Ok(to_raw(&shaped(c.method, &numbers, &mut i)))).collect();
                src.apply_extra(answers);
            }
        }
    }
}
