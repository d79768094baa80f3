//! Force-retirement and committee membership, end to end through `commit_block` and the RPC.
//!
//! Small chains: epochs of 10 blocks, 4 members of power 10 (quorum 27, so one silent member keeps the chain
//! live), short locks. Each test drives the chain block by block and checks the verdict at every epoch end.

use serde_json::{json, Value};

use super::*;

/// Address of test member `i` (`0x…0i`).
pub(super) fn addr(i: u64) -> String {
    format!("0x{i:064x}")
}

/// A 4-member genesis chain with 10-block epochs and short locks, under the rule since CIP-99 (3-epoch
/// look-back from view 0); `tests_cip99` covers the 1-epoch rule and the transition.
pub(super) fn params() -> PosParams {
    PosParams {
        epoch_length: 10,
        cip99_transition_view: Some(0),
        members: (1..=4)
            .map(|i| MemberSpec {
                address: addr(i),
                voting_power: 10,
                pow_address: format!("CFX:TYPE.USER:AAM{i}"),
            })
            .collect(),
        in_queue_locked_views: 20,
        out_queue_locked_views: 6,
        dispute_lock_views: 50,
        ..PosParams::default()
    }
}

/// Commits blocks until `height`; block `h` is at `h` ms and decides PoW epoch `100 + h`.
pub(super) fn run_to(chain: &mut PosChain, height: u64) {
    while chain.latest_committed() < height {
        let h = chain.latest_committed() + 1;
        chain.commit_block(h * 1_000, (100 + h, format!("0x{h:064x}")));
    }
}

/// `pos_*` call at the chain tip that must succeed.
pub(super) fn call(chain: &PosChain, method: &str, params: Value) -> Value {
    let args = params.as_array().cloned().unwrap_or_default();
    match chain.rpc(method, &args, chain.latest_committed()) {
        Ok(v) => v,
        Err(e) => panic!("{method} failed: {e:?}"),
    }
}

/// `pos_*` call answered by a node that has committed up to `view`: how these tests read the state at a past
/// view, since the RPC's own `view` parameter only reaches epoch-ending blocks, as on a real node.
pub(super) fn call_at(chain: &PosChain, method: &str, params: Value, view: u64) -> Value {
    let args = params.as_array().cloned().unwrap_or_default();
    match chain.rpc(method, &args, view) {
        Ok(v) => v,
        Err(e) => panic!("{method} at {view} failed: {e:?}"),
    }
}

/// A hex quantity from an RPC result (0 if absent).
pub(super) fn hex(v: &Value) -> u64 {
    v.as_str()
        .and_then(|s| s.strip_prefix("0x"))
        .and_then(|s| u64::from_str_radix(s, 16).ok())
        .unwrap_or(0)
}

/// Every transaction committed so far, in order.
pub(super) fn all_txs(chain: &PosChain) -> Vec<Value> {
    let last = hex(&call(chain, "pos_getStatus", json!([]))["latestTxNumber"]);
    (1..=last)
        .map(|n| {
            call(
                chain,
                "pos_getTransactionByNumber",
                json!([format!("{n:#x}")]),
            )
        })
        .collect()
}

/// Retirement views of `address` so far.
fn retired_at(chain: &PosChain, address: &str) -> Vec<u64> {
    chain
        .retirements()
        .iter()
        .filter(|r| r.address == address)
        .map(|r| r.view)
        .collect()
}

fn committee_members(chain: &PosChain, view: u64) -> Vec<String> {
    let c = call_at(chain, "pos_getCommittee", json!([]), view);
    c["currentCommittee"]["nodes"]
        .as_array()
        .map(|n| {
            n.iter()
                .filter_map(|x| x["address"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn silent_member_is_retired_at_the_end_of_its_third_silent_epoch() {
    let mut c = PosChain::new(params());
    run_to(&mut c, 10); // signs through epoch 1
    c.set_voters(&addr(4), 0);
    for end in [20, 30] {
        run_to(&mut c, end);
        assert!(c.retirements().is_empty(), "not yet at view {end}");
    }
    run_to(&mut c, 39);
    assert!(c.retirements().is_empty());
    run_to(&mut c, 40);
    assert_eq!(
        c.retirements(),
        &[Retirement {
            address: addr(4),
            view: 40,
            epoch: 4,
            time_us: 40_000
        }]
    );

    let acc = call(&c, "pos_getAccount", json!([addr(4)]));
    assert_eq!(acc["status"]["forceRetired"], json!("0x28"));
    assert_eq!(acc["status"]["availableVotes"], json!("0x0"));
    assert_eq!(
        acc["status"]["outQueue"],
        json!([{"endBlockNumber": "0x2e", "power": "0xa"}])
    );
    let before = call_at(&c, "pos_getAccount", json!([addr(4)]), 0x27);
    assert_eq!(before["status"]["forceRetired"], Value::Null);
    assert_eq!(before["status"]["locked"], json!("0xa"));

    // The epoch-5 committee was fixed while executing block 40, before the retirement.
    assert!(committee_members(&c, 40).contains(&addr(4)));
    run_to(&mut c, 50);
    assert!(
        !committee_members(&c, 50).contains(&addr(4)),
        "gone from epoch 6 on"
    );
    let acc = call_at(&c, "pos_getAccount", json!([addr(4)]), 0x2d);
    assert_eq!(acc["status"]["forceRetired"], json!("0x28"));
    let acc = call_at(&c, "pos_getAccount", json!([addr(4)]), 0x2e);
    assert_eq!(
        acc["status"]["forceRetired"],
        Value::Null,
        "clears at forceRetired + out-queue period"
    );
    assert_eq!(acc["status"]["unlocked"], json!("0xa"));
    // With an out-queue period shorter than an epoch the flag expires while the member still sits (silent) in
    // epoch 5's committee, so the executor retires it again at that epoch's end; it has nothing left to unlock.
    assert_eq!(retired_at(&c, &addr(4)), vec![40, 50]);
    run_to(&mut c, 70);
    assert_eq!(
        retired_at(&c, &addr(4)),
        vec![40, 50],
        "not a committee member any more"
    );
}

#[test]
fn retirement_is_not_repeated_while_the_flag_holds() {
    let mut c = PosChain::new(PosParams {
        out_queue_locked_views: 25,
        ..params()
    });
    run_to(&mut c, 10);
    c.set_voters(&addr(4), 0);
    run_to(&mut c, 80);
    assert_eq!(retired_at(&c, &addr(4)), vec![40]);
    let acc = call_at(&c, "pos_getAccount", json!([addr(4)]), 0x40);
    assert_eq!(acc["status"]["forceRetired"], json!("0x28"));
    let acc = call_at(&c, "pos_getAccount", json!([addr(4)]), 0x41);
    assert_eq!(acc["status"]["forceRetired"], Value::Null);
}

#[test]
fn one_signature_in_the_window_saves_a_member() {
    let mut c = PosChain::new(params());
    run_to(&mut c, 10);
    c.set_voters(&addr(4), 0);
    run_to(&mut c, 24);
    c.set_voters(&addr(4), 1);
    run_to(&mut c, 25); // one signature, in epoch 3
    c.set_voters(&addr(4), 0);
    let block = call(&c, "pos_getBlockByNumber", json!(["0x19"]));
    assert!(block["signatures"]
        .as_array()
        .is_some_and(|s| s.iter().any(|x| x["account"] == json!(addr(4)))));
    run_to(&mut c, 50);
    assert!(c.retirements().is_empty(), "epochs 3..5 hold a signature");
    run_to(&mut c, 60);
    assert_eq!(retired_at(&c, &addr(4)), vec![60]);
}

#[test]
fn late_votes_count_as_missed() {
    let mut c = PosChain::new(params());
    run_to(&mut c, 10);
    c.omit_signature(&addr(3), true).unwrap();
    run_to(&mut c, 40);
    assert_eq!(retired_at(&c, &addr(3)), vec![40]);
    let blocks_mined = (31..=40)
        .filter(|h| {
            call(&c, "pos_getBlockByNumber", json!([format!("{h:#x}")]))["miner"] == json!(addr(3))
        })
        .count();
    assert!(blocks_mined > 0, "a late voter still proposes");
}

#[test]
fn hidden_signatures_still_count_for_the_chain() {
    let mut c = PosChain::new(params());
    c.empty_signatures_range(1, 35);
    run_to(&mut c, 40);
    assert!(c.retirements().is_empty());
    let b = call(&c, "pos_getBlockByNumber", json!(["0x23"]));
    assert_eq!(b["signatures"], json!([]));
    let b = call(&c, "pos_getBlockByNumber", json!(["0x24"]));
    assert_eq!(b["signatures"].as_array().map(Vec::len), Some(4));
    c.empty_signatures_next(2);
    run_to(&mut c, 43);
    let shown: Vec<usize> = (41..=43)
        .map(|h| {
            call(&c, "pos_getBlockByNumber", json!([format!("{h:#x}")]))["signatures"]
                .as_array()
                .map_or(0, Vec::len)
        })
        .collect();
    assert_eq!(shown, vec![0, 0, 4]);
}

#[test]
fn genesis_member_silent_from_block_one_is_retired_after_epoch_one() {
    let mut c = PosChain::new(params());
    c.set_voters(&addr(2), 0);
    run_to(&mut c, 10);
    assert_eq!(
        retired_at(&c, &addr(2)),
        vec![10],
        "genesis has no earlier signature to look back to"
    );
}

#[test]
fn established_member_silent_from_the_start_gets_three_whole_epochs() {
    let mut c = PosChain::new(PosParams {
        start_view: 1_005,
        term_offset: 7,
        ..params()
    });
    c.set_voters(&addr(1), 0);
    let anchor = call(&c, "pos_getBlockByNumber", json!(["latest_committed"]));
    assert_eq!(anchor["epoch"], json!(format!("{:#x}", 7 + 101)));
    assert_eq!(anchor["signatures"].as_array().map(Vec::len), Some(4));
    run_to(&mut c, 1_030);
    assert!(c.retirements().is_empty());
    run_to(&mut c, 1_040);
    assert_eq!(c.retirements().len(), 1);
    assert_eq!(
        (c.retirements()[0].view, c.retirements()[0].epoch),
        (1_040, 7 + 104)
    );
}

#[test]
fn new_member_silent_in_its_first_epoch_is_retired_at_its_end() {
    let mut c = PosChain::new(params());
    run_to(&mut c, 12);
    let x = addr(9);
    c.set_voters(&x, 0);
    c.add_member(MemberSpec {
        address: x.clone(),
        voting_power: 10,
        pow_address: "CFX:TYPE.USER:AAX".into(),
    })
    .unwrap();
    assert_eq!(
        c.add_member(MemberSpec {
            address: x.clone(),
            voting_power: 1,
            pow_address: String::new()
        })
        .map_err(|e| e.kind()),
        Err("already_registered")
    );
    run_to(&mut c, 19);
    assert!(!committee_members(&c, 19).contains(&x));
    run_to(&mut c, 20);
    assert!(
        committee_members(&c, 20).contains(&x),
        "joins at the next epoch boundary"
    );
    assert!(
        c.retirements().is_empty(),
        "not checked for epoch 2, where it did not serve"
    );
    run_to(&mut c, 30);
    assert_eq!(retired_at(&c, &x), vec![30]);
}

#[test]
fn registered_node_elects_joins_and_is_judged_on_its_first_epoch() {
    let mut c = PosChain::new(params());
    let y = addr(7);
    c.register(&y, 8, None).unwrap();
    run_to(&mut c, 2);
    let types = all_txs(&c);
    let election = types
        .iter()
        .find(|t| t["type"] == json!("Election") && t["from"] == json!(y))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(election["blockNumber"], json!("0x2"));
    assert_eq!(election["payload"]["targetTerm"], json!("0x1"));
    assert!(types
        .iter()
        .any(|t| t["type"] == json!("Register") && t["blockNumber"] == json!("0x1")));
    run_to(&mut c, 10);
    assert!(committee_members(&c, 10).contains(&y));
    c.set_voters(&y, 0);
    run_to(&mut c, 20);
    assert_eq!(retired_at(&c, &y), vec![20]);
}

#[test]
fn nodes_outside_the_committee_are_never_retired() {
    let mut c = PosChain::new(params());
    let z = addr(8);
    c.register(&z, 5, None).unwrap();
    c.stop_election(&z, true).unwrap();
    c.set_voters(&z, 0);
    c.set_voters(&addr(42), 0);
    run_to(&mut c, 80);
    assert!(c.retirements().is_empty());
    assert!(!committee_members(&c, 80).contains(&z));
    let acc = call(&c, "pos_getAccount", json!([z]));
    assert_eq!(
        (
            acc["status"]["forceRetired"].clone(),
            acc["status"]["locked"].clone()
        ),
        (Value::Null, json!("0x5"))
    );
}

#[test]
fn established_members_elect_once_per_term_and_keep_their_power() {
    let mut c = PosChain::new(params());
    run_to(&mut c, 60);
    let mut per_term = std::collections::BTreeMap::<(String, String), u32>::new();
    for t in all_txs(&c) {
        if t["type"] == json!("Election") {
            let key = (
                t["from"].as_str().unwrap_or("").to_string(),
                t["payload"]["targetTerm"].to_string(),
            );
            *per_term.entry(key).or_default() += 1;
        }
    }
    assert!(
        per_term.values().all(|n| *n == 1),
        "one Election per node and term"
    );
    assert_eq!(
        per_term.len(),
        4 * 7,
        "4 members x terms 1..=7 (power 10 = shares 2,2,2,2,1,1, all > 0)"
    );
    let committee = call(&c, "pos_getCommittee", json!([]));
    assert_eq!(
        committee["currentCommittee"]["totalVotingPower"],
        json!("0x28")
    );
    assert_eq!(
        committee["currentCommittee"]["quorumVotingPower"],
        json!("0x1b")
    );
}
