//! Stake, slashing, rewards and transaction layout, end to end through `commit_block` and the RPC.

use serde_json::{json, Value};

use super::tests::{addr, all_txs, call, call_at, hex, params, run_to};
use super::*;

fn account(chain: &PosChain, who: &str, view: u64) -> Value {
    call_at(chain, "pos_getAccount", json!([who]), view)["status"].clone()
}

#[test]
fn staked_votes_mature_and_retired_votes_unlock() {
    let mut c = PosChain::new(params());
    let y = addr(7);
    c.register(&y, 5, Some("CFX:TYPE.USER:AAY")).unwrap();
    run_to(&mut c, 1);
    // Executed on the parent state (view 0): the in-queue ends at 0 + 20.
    let s = account(&c, &y, 1);
    assert_eq!(
        s["inQueue"],
        json!([{"endBlockNumber": "0x14", "power": "0x5"}])
    );
    assert_eq!(
        (s["availableVotes"].clone(), s["locked"].clone()),
        (json!("0x5"), json!("0x0"))
    );
    run_to(&mut c, 20);
    assert_eq!(account(&c, &y, 19)["locked"], json!("0x0"));
    let s = account(&c, &y, 20);
    assert_eq!(
        (s["inQueue"].clone(), s["locked"].clone()),
        (json!([]), json!("0x5"))
    );
    c.retire(&y, 2).unwrap();
    run_to(&mut c, 25);
    let s = account(&c, &y, 21);
    assert_eq!(
        s["outQueue"],
        json!([{"endBlockNumber": "0x1a", "power": "0x2"}])
    );
    assert_eq!(
        (s["locked"].clone(), s["availableVotes"].clone()),
        (json!("0x3"), json!("0x3"))
    );
    assert_eq!(account(&c, &y, 25)["unlocked"], json!("0x0"));
    run_to(&mut c, 26);
    let s = account(&c, &y, 26);
    assert_eq!(
        (s["outQueue"].clone(), s["unlocked"].clone()),
        (json!([]), json!("0x2"))
    );
    let by_pow = call(
        &c,
        "pos_getAccountByPowAddress",
        json!(["CFX:TYPE.USER:AAY"]),
    );
    assert_eq!(by_pow["address"], json!(y));
    assert_eq!(
        c.retire(&addr(99), 1).map_err(|e| e.kind()),
        Err("unknown_address")
    );
}

#[test]
fn double_voting_member_is_disputed_once_and_relocked() {
    let mut c = PosChain::new(params());
    let a = addr(1);
    c.register(&a, 3, None).unwrap(); // known member: UpdateVotingPower only
    run_to(&mut c, 1);
    c.retire(&a, 1).unwrap();
    run_to(&mut c, 4);
    let s = account(&c, &a, 4);
    assert_eq!(
        s["inQueue"],
        json!([{"endBlockNumber": "0x14", "power": "0x3"}])
    );
    assert_eq!(
        s["outQueue"],
        json!([{"endBlockNumber": "0x7", "power": "0x1"}])
    );
    c.set_voters(&a, 2);
    run_to(&mut c, 8);
    let disputes: Vec<Value> = all_txs(&c)
        .into_iter()
        .filter(|t| t["type"] == json!("Dispute"))
        .collect();
    assert_eq!(disputes.len(), 1, "auto-dispute fires once per address");
    let d = &disputes[0];
    assert_eq!(d["blockNumber"], json!("0x5"));
    assert_eq!(d["payload"]["address"], json!(a));
    assert_eq!(
        d["payload"]["conflictingVotes"]["conflictVoteType"],
        json!("vote")
    );
    assert_ne!(
        d["payload"]["conflictingVotes"]["first"],
        d["payload"]["conflictingVotes"]["second"]
    );
    // 9 locked + 3 in-queue + 1 out-queue, relocked from the parent view 4.
    let s = account(&c, &a, 5);
    assert_eq!(
        s["outQueue"],
        json!([{"endBlockNumber": "0x36", "power": "0xd"}])
    );
    assert_eq!(s["inQueue"], json!([]));
    assert_eq!(
        (s["availableVotes"].clone(), s["locked"].clone()),
        (json!("0x0"), json!("0x0"))
    );
    assert_eq!(s["forceRetired"], Value::Null);
    assert!(
        call(&c, "pos_getBlockByNumber", json!(["0x5"]))["signatures"]
            .as_array()
            .is_some_and(|s| s.iter().filter(|x| x["account"] == json!(a)).count() == 1)
    );
    run_to(&mut c, 10);
    let nodes = call(&c, "pos_getCommittee", json!([]))["currentCommittee"]["nodes"].clone();
    assert!(
        nodes
            .as_array()
            .is_some_and(|n| n.iter().all(|x| x["address"] != json!(a))),
        "stops counting"
    );
    c.dispute(&a).unwrap();
    run_to(&mut c, 11);
    assert_eq!(
        all_txs(&c)
            .iter()
            .filter(|t| t["type"] == json!("Dispute"))
            .count(),
        2,
        "explicit disputes repeat"
    );
}

#[test]
fn dispute_of_a_retired_node_relocks_nothing() {
    let mut c = PosChain::new(PosParams {
        out_queue_locked_views: 100,
        auto_dispute: false,
        ..params()
    });
    let d = addr(4);
    c.set_voters(&d, 0);
    run_to(&mut c, 10);
    assert_eq!(account(&c, &d, 10)["forceRetired"], json!("0xa"));
    c.register(&d, 4, None).unwrap(); // while retired: straight to the out-queue, not available
    c.set_voters(&d, 2);
    run_to(&mut c, 11);
    let s = account(&c, &d, 11);
    assert_eq!(s["availableVotes"], json!("0x0"));
    assert_eq!(
        s["outQueue"],
        json!([{"endBlockNumber": "0x6e", "power": "0xa"}, {"endBlockNumber": "0x82", "power": "0x4"}])
    );
    assert!(
        all_txs(&c).iter().all(|t| t["type"] != json!("Dispute")),
        "auto_dispute off"
    );
    c.dispute(&d).unwrap();
    run_to(&mut c, 12);
    let s = account(&c, &d, 12);
    assert_eq!(
        s["forceRetired"],
        json!("0xa"),
        "nothing available: the CIP-156 relock does not apply"
    );
}

#[test]
fn rewards_appear_at_epoch_end_and_skip_silent_members() {
    let mut c = PosChain::new(params());
    c.set_voters(&addr(3), 0);
    run_to(&mut c, 9);
    assert_eq!(
        call(&c, "pos_getRewardsByEpoch", json!(["0x1"])),
        Value::Null
    );
    run_to(&mut c, 12);
    let r = call(&c, "pos_getRewardsByEpoch", json!(["0x1"]));
    assert_eq!(r["powEpochHash"], json!(format!("0x{:064x}", 10)));
    let entries = r["accountRewards"].as_array().cloned().unwrap_or_default();
    let who: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["posAddress"].as_str())
        .collect();
    assert_eq!(
        who,
        vec![addr(1).as_str(), addr(2).as_str(), addr(4).as_str()]
    );
    assert_eq!(entries[0]["powAddress"], json!("CFX:TYPE.USER:AAM1"));
    assert!(entries.iter().all(|e| hex(&e["reward"]) > 0));
    let lagging = c.rpc("pos_getRewardsByEpoch", &[json!("0x1")], 9);
    assert_eq!(
        lagging,
        Ok(Value::Null),
        "a node at height 9 has not seen the epoch end"
    );
    assert_eq!(
        call(&c, "pos_getRewardsByEpoch", json!(["0x2"])),
        Value::Null
    );
}

#[test]
fn transactions_are_contiguous_and_start_with_block_metadata() {
    let mut c = PosChain::new(params());
    c.register(&addr(7), 2, None).unwrap();
    run_to(&mut c, 25);
    let mut prev_last = 0;
    for h in 1..=25u64 {
        let b = call(&c, "pos_getBlockByNumber", json!([format!("{h:#x}")]));
        let last = hex(&b["lastTxNumber"]);
        assert!(
            last >= prev_last + 2,
            "block {h} has metadata and a pivot decision"
        );
        let first = call(
            &c,
            "pos_getTransactionByNumber",
            json!([format!("{:#x}", prev_last + 1)]),
        );
        assert_eq!(first["type"], json!("BlockMetadata"));
        assert_eq!(first["from"], json!(format!("0x{}", "0".repeat(64))));
        assert_eq!(first["payload"], Value::Null);
        let pivot = call(
            &c,
            "pos_getTransactionByNumber",
            json!([format!("{:#x}", prev_last + 2)]),
        );
        assert_eq!(pivot["type"], json!("PivotDecision"));
        assert_eq!(pivot["payload"], b["pivotDecision"]);
        for n in prev_last + 1..=last {
            let t = call(&c, "pos_getTransactionByNumber", json!([format!("{n:#x}")]));
            assert_eq!(
                (t["blockNumber"].clone(), t["blockHash"].clone()),
                (b["height"].clone(), b["hash"].clone())
            );
            assert_eq!(t["number"], json!(format!("{n:#x}")));
        }
        prev_last = last;
    }
    let beyond = format!("{:#x}", prev_last + 1);
    assert_eq!(
        call(&c, "pos_getTransactionByNumber", json!([beyond])),
        Value::Null
    );
    assert_eq!(
        call(&c, "pos_getTransactionByNumber", json!(["0x0"])),
        Value::Null,
        "version 0 is genesis"
    );
    assert_eq!(
        c.rpc("pos_getTransactionByNumber", &[json!("0x3")], 0),
        Ok(Value::Null),
        "not visible at 0"
    );
}
