//! Committee elections as the RPC shows them, `latestVoted`/miner when nobody votes, JSON controls, defaults.

use serde_json::{json, Value};

use super::tests::{addr, call, call_at, params, run_to};
use super::*;

#[test]
fn elections_list_the_two_upcoming_terms() {
    let mut c = PosChain::new(params());
    run_to(&mut c, 14);
    let e = call(&c, "pos_getCommittee", json!([]))["elections"].clone();
    assert_eq!(e[0]["startBlockNumber"], json!("0x14"));
    assert_eq!(
        (e[0]["isFinalized"].clone(), e[1]["isFinalized"].clone()),
        (json!(false), json!(false))
    );
    assert_eq!(
        e[0]["topElectingNodes"].as_array().map(Vec::len),
        Some(4),
        "applied at block 6"
    );
    assert_eq!(
        (
            e[1]["startBlockNumber"].clone(),
            e[1]["topElectingNodes"].clone()
        ),
        (json!("0x1e"), json!([]))
    );
    run_to(&mut c, 16);
    let at15 = call_at(&c, "pos_getCommittee", json!([]), 0xf)["elections"].clone();
    assert_eq!(
        (
            at15[0]["isFinalized"].clone(),
            at15[1]["topElectingNodes"].clone()
        ),
        (json!(true), json!([]))
    );
    let at16 = call_at(&c, "pos_getCommittee", json!([]), 0x10)["elections"].clone();
    let seats: Vec<Value> = at16[1]["topElectingNodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(seats.len(), 4);
    assert_eq!(
        seats[0],
        json!({"address": addr(1), "votingPower": "0x2"}),
        "share of 10 for term 3"
    );
}

#[test]
fn nobody_voting_gives_null_miner_and_no_latest_voted() {
    let mut c = PosChain::new(params());
    // While quorum votes, `latestVoted` is the next height at some heights and null at others, like a real node.
    run_to(&mut c, 40);
    let seen: Vec<bool> = (1..=40u64)
        .map(|h| c.rpc("pos_getStatus", &[], h).unwrap()["latestVoted"].is_null())
        .collect();
    assert!(
        seen.iter().any(|n| *n) && seen.iter().any(|n| !*n),
        "both null and pending over 40 heights"
    );
    for (h, null) in (1..=40u64).zip(&seen) {
        if !null {
            let v = &c.rpc("pos_getStatus", &[], h).unwrap()["latestVoted"];
            assert_eq!(*v, json!(format!("{:#x}", h + 1)));
        }
    }
    for i in 1..=4 {
        c.set_voters(&addr(i), 0);
    }
    run_to(&mut c, 41);
    let b = call(&c, "pos_getBlockByNumber", json!(["0x29"]));
    assert_eq!(
        (b["miner"].clone(), b["signatures"].clone()),
        (Value::Null, json!([]))
    );
    assert_eq!(
        call(&c, "pos_getStatus", json!([]))["latestVoted"],
        Value::Null
    );
    assert_eq!(
        c.control(&json!({"cmd": "latest_voted", "mode": "pending"})),
        Ok(json!({"ok": true}))
    );
    assert_eq!(
        call(&c, "pos_getStatus", json!([]))["latestVoted"],
        json!("0x2a")
    );
    c.set_latest_voted(LatestVoted::Null);
    assert_eq!(
        call(&c, "pos_getBlockByNumber", json!(["latest_voted"])),
        Value::Null
    );
}

#[test]
fn json_controls_drive_the_typed_ones() {
    let mut c = PosChain::new(params());
    let ok = Ok(json!({"ok": true}));
    assert_eq!(
        c.control(&json!({"cmd": "set_member_voting", "address": addr(2), "voting": false})),
        ok
    );
    assert_eq!(
        c.control(&json!({"cmd": "set_voters", "address": addr(3), "voters": 2})),
        ok
    );
    assert_eq!(
        c.control(&json!({"cmd": "register", "address": addr(8), "power": 4})),
        ok
    );
    assert_eq!(
        c.control(&json!({"cmd": "empty_signatures", "blocks": 1})),
        ok
    );
    run_to(&mut c, 1);
    let state = c.control(&json!({"cmd": "state"})).unwrap_or_default();
    assert_eq!(state["latestCommitted"], json!(1));
    let members = state["members"].as_array().cloned().unwrap_or_default();
    let m2 = members
        .iter()
        .find(|m| m["address"] == json!(addr(2)))
        .cloned()
        .unwrap_or_default();
    assert_eq!(m2["voters"], json!(0));
    let m3 = members
        .iter()
        .find(|m| m["address"] == json!(addr(3)))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        m3["outQueue"],
        json!([[50, 10]]),
        "auto-disputed at block 1, relocked from view 0"
    );
    assert!(members
        .iter()
        .any(|m| m["address"] == json!(addr(8)) && m["availableVotes"] == json!(4)));
    assert_eq!(
        call(&c, "pos_getBlockByNumber", json!(["0x1"]))["signatures"],
        json!([])
    );
    for bad in [
        json!({"cmd": "fly"}),
        json!({"nocmd": 1}),
        json!({"cmd": "dispute", "address": addr(99)}),
        json!({"cmd": "omit_signature", "address": "0x12", "on": true}),
        json!({"cmd": "retire", "address": addr(1)}),
        json!({"cmd": "latest_voted", "mode": "sometimes"}),
    ] {
        assert!(c.control(&bad).is_err(), "{bad}");
    }
}

#[test]
fn defaults_are_mainnet_shaped_and_bad_params_never_panic() {
    let c = PosChain::new(PosParams::default());
    let committee = call(&c, "pos_getCommittee", json!([]))["currentCommittee"].clone();
    assert_eq!(
        (
            committee["totalVotingPower"].clone(),
            committee["quorumVotingPower"].clone()
        ),
        (json!("0x12c"), json!("0xc9"))
    );
    assert_eq!(c.params().in_queue_locked_views, 37_440);
    let bad = PosParams {
        epoch_length: 0,
        members: vec![MemberSpec {
            address: "nope".into(),
            voting_power: 1,
            pow_address: String::new(),
        }],
        ..PosParams::default()
    };
    assert_eq!(
        PosChain::try_new(bad.clone())
            .map(|_| ())
            .map_err(|e| e.kind()),
        Err("invalid_param")
    );
    let bad_addr = PosParams {
        members: bad.members.clone(),
        ..PosParams::default()
    };
    assert_eq!(
        bad_addr.validate().map_err(|e| e.kind()),
        Err("invalid_address")
    );
    let mut repaired = PosChain::new(bad);
    run_to(&mut repaired, 5);
    assert_eq!(repaired.params().epoch_length, 2);
    assert_eq!(repaired.finalized_pow_epoch(5), Some(105));
}

#[test]
fn oversized_inputs_are_refused_or_bounded() {
    let mut c = PosChain::new(PosParams {
        start_view: u64::MAX,
        dispute_lock_views: u64::MAX,
        ..params()
    });
    assert_eq!(c.latest_committed(), MAX_VIEW);
    assert_eq!(
        c.register(&addr(1), MAX_POWER + 1, None)
            .map_err(|e| e.kind()),
        Err("invalid_param")
    );
    let too_big = json!({"cmd": "add_member", "address": addr(9), "power": MAX_POWER + 1});
    assert!(c.control(&too_big).is_err());
    let ok = json!({"cmd": "add_member", "address": addr(9), "power": 3});
    assert_eq!(c.control(&ok), Ok(json!({"ok": true})));
    c.set_voters(&addr(2), 3);
    run_to(&mut c, MAX_VIEW + 2);
    let s = call(&c, "pos_getAccount", json!([addr(2)]));
    assert_eq!(
        s["status"]["outQueue"],
        json!([{"endBlockNumber": format!("{:#x}", u64::MAX), "power": "0xa"}]),
        "a huge dispute lock saturates instead of overflowing"
    );
}

#[test]
fn mainnet_defaults_run_ten_healthy_epochs() {
    let mut c = PosChain::new(PosParams::default());
    run_to(&mut c, 1_200);
    assert!(c.retirements().is_empty());
    for epoch in 1..=10u64 {
        let r = call(&c, "pos_getRewardsByEpoch", json!([format!("{epoch:#x}")]));
        assert_eq!(
            r["accountRewards"].as_array().map(Vec::len),
            Some(4),
            "epoch {epoch}"
        );
        let view = format!("{:#x}", epoch * 120);
        let committee = call(&c, "pos_getCommittee", json!([view]))["currentCommittee"].clone();
        assert_eq!(
            committee["totalVotingPower"],
            json!("0x12c"),
            "epoch {}",
            epoch + 1
        );
    }
    let b = call(&c, "pos_getBlockByNumber", json!(["0x4b0"]));
    assert_eq!(
        (b["epoch"].clone(), b["round"].clone()),
        (json!("0xa"), json!("0x78"))
    );
    assert_eq!(b["signatures"].as_array().map(Vec::len), Some(4));
}
