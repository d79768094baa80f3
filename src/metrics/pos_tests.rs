//! The PoS publishers on `State` fixtures: build a state, publish, read the registry's exposition (values present,
//! series absent).

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::assess::freshness::ViewVerdict;
use crate::assess::votes::EpochRecord;
use crate::judge::Judge;
use crate::metrics::pos::PosFamilies;
use crate::metrics::pos_keys::PosKeyFamilies;
use crate::metrics::test_support::{text, value};
use crate::pos_address::PosAddress;
use crate::rpc::cfx::Status;
use crate::rpc::pos::{
    Account, AccountStatus, Committee, CommitteeState, Election, NodeVotes, PosStatus, QueueItem,
};
use crate::rpc::wire::HexU64;
use crate::state::{
    ChainObs, NodeState, PollStatus, PosDown, PosObs, ReferenceState, State, ViewChoice, ViewData,
    ViewSource,
};

const KEY: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";

fn status(chain_id: u64) -> Status {
    let h = HexU64;
    Status {
        epoch_number: h(1000),
        latest_state: h(995),
        latest_confirmed: h(990),
        latest_finalized: h(900),
        latest_checkpoint: h(800),
        chain_id: h(chain_id),
        network_id: h(chain_id),
        pending_tx_number: h(0),
    }
}

fn key() -> PosAddress {
    PosAddress::parse(KEY).unwrap()
}

fn votes(address: &str, power: u64) -> NodeVotes {
    NodeVotes {
        address: PosAddress::parse(address).unwrap(),
        voting_power: HexU64(power),
    }
}

fn committee() -> CommitteeState {
    let election = |start, is_finalized, top_electing_nodes| Election {
        is_finalized,
        start_block_number: HexU64(start),
        top_electing_nodes,
    };
    CommitteeState {
        current_committee: Committee {
            epoch_number: HexU64(3),
            quorum_voting_power: HexU64(3),
            total_voting_power: HexU64(4),
            nodes: vec![votes(&KEY.to_uppercase().replace("0X", "0x"), 2)],
        },
        // The node's order is not the start order: the label must follow the start block.
        elections: vec![
            election(5460, false, vec![]),
            election(5400, true, vec![votes(KEY, 2)]),
        ],
    }
}

fn account(read_at: u64, out_queue_end: Option<u64>, retired: Option<u64>) -> Account {
    let h = HexU64;
    Account {
        address: key(),
        block_number: h(read_at),
        status: AccountStatus {
            available_votes: h(2),
            forfeited: h(0),
            force_retired: retired.map(h),
            in_queue: vec![],
            locked: h(2),
            out_queue: out_queue_end
                .map(|end| QueueItem {
                    end_block_number: h(end),
                    power: h(1),
                })
                .into_iter()
                .collect(),
            unlocked: h(0),
        },
    }
}

/// One up node on chain 1029 at PoS block 190 of epoch 3, in the committee, that has missed every block of the
/// current epoch.
fn node() -> NodeState {
    let mut pos = PosObs {
        address: Some(key()),
        status: Some(PosStatus {
            epoch: HexU64(3),
            latest_committed: HexU64(190),
            latest_voted: None,
            latest_tx_number: None,
        }),
        committee: Some(committee()),
        account: Some(account(190, None, None)),
        backfilled: true,
        ..Default::default()
    };
    let missed = EpochRecord {
        member: Some(true),
        blocks: 10,
        missed: 10,
        ..Default::default()
    };
    pos.ledger.epochs = BTreeMap::from([(3, missed)]);
    pos.ledger.last_height = Some(190);
    NodeState {
        name: "n0".into(),
        poll: PollStatus {
            polled: true,
            up: true,
            ..Default::default()
        },
        chain: Some(ChainObs {
            status: status(1029),
            version: None,
            best_block_timestamp: None,
            sync_phase: None,
            peers: None,
            unavailable: vec![],
            malformed: vec![],
        }),
        pos: Some(local_view(pos)),
        ..Default::default()
    }
}

/// The node's own answers are the view in use (a fresh node).
fn local_view(mut pos: PosObs) -> PosObs {
    pos.local = ViewData {
        status: pos.status.clone(),
        committee: pos.committee.clone(),
        account: pos.account.clone(),
        advanced_at: Some(SystemTime::now()),
    };
    pos.view = ViewChoice {
        local: Some(ViewVerdict {
            fresh: true,
            lag_blocks: Some(0),
            lag_seconds: Some(0.0),
        }),
        source: Some(ViewSource::Local),
        reference: None,
    };
    pos
}

/// What the poller leaves once the node stops answering and no reference stands in.
fn take_down(n: &mut NodeState) {
    n.poll.up = false;
    let p = n.pos.as_mut().unwrap();
    p.local = ViewData::default();
    p.view.source = None;
    p.view.local = Some(ViewVerdict {
        fresh: false,
        lag_blocks: None,
        lag_seconds: None,
    });
}

fn one_node() -> State {
    State {
        nodes: vec![node()],
        ..Default::default()
    }
}

fn reference(up: bool, chain_id: u64, pos: Option<u64>) -> ReferenceState {
    ReferenceState {
        poll: PollStatus {
            polled: true,
            up,
            ..Default::default()
        },
        chain_id: Some(chain_id),
        pos_latest_committed: pos,
        ..Default::default()
    }
}

fn published(state: &State) -> String {
    let r = prometheus::Registry::new();
    let f = PosFamilies::register(&r).unwrap();
    let keys = PosKeyFamilies::register(&r).unwrap();
    let now = SystemTime::now();
    f.publish(state, &Judge::default().judge(state, now), now, &keys);
    text(&r)
}

#[test]
fn upcoming_terms_are_named_and_their_start_blocks_are_values() {
    let t = published(&one_node());
    let start = "conflux_pos_election_term_start_block";
    assert_eq!(
        value(&t, start, &[("node", "n0"), ("term", "next")]),
        Some(5400.0)
    );
    assert_eq!(
        value(&t, start, &[("node", "n0"), ("term", "after_next")]),
        Some(5460.0)
    );
    let cand = "conflux_pos_election_candidate";
    let k = ("pos_address", KEY);
    let next = [("node", "n0"), k, ("term", "next"), ("finalized", "true")];
    let after = [
        ("node", "n0"),
        k,
        ("term", "after_next"),
        ("finalized", "false"),
    ];
    assert_eq!(value(&t, cand, &next), Some(1.0));
    assert_eq!(value(&t, cand, &after), Some(0.0));
    assert!(!t.contains("term_start_block="), "no per-term label\n{t}");
    assert_eq!(t.matches("conflux_pos_election_candidate{").count(), 2);
    let seat = [("node", "n0"), k];
    assert_eq!(
        value(&t, "conflux_pos_committee_member", &seat),
        Some(1.0),
        "any case"
    );
    assert_eq!(value(&t, "conflux_pos_voting_power", &seat), Some(2.0));
}

#[test]
fn pos_lag_is_against_the_median_of_usable_references_only() {
    let mut state = State {
        nodes: vec![node()],
        references: vec![
            reference(true, 1029, Some(100)),
            reference(true, 1029, Some(300)),
            reference(true, 1029, Some(200)),
            reference(false, 1029, Some(9_999)),
            reference(true, 1, Some(9_999)),
            reference(true, 1029, None),
        ],
    };
    let lag = |s: &State| value(&published(s), "conflux_pos_block_lag", &[("node", "n0")]);
    assert_eq!(lag(&state), Some(10.0), "median 200 minus 190");
    state
        .references
        .retain(|r| r.chain_id != Some(1029) || !r.poll.up);
    assert_eq!(lag(&state), None, "no usable reference: no lag, not zero");
}

#[test]
fn risk_is_unknown_until_backfilled_and_ends_with_retirement() {
    let mut state = one_node();
    let k = [("node", "n0"), ("pos_address", KEY)];
    let t = published(&state);
    assert_eq!(
        value(&t, "conflux_pos_force_retire_at_risk", &k),
        Some(1.0),
        "{t}"
    );
    assert_eq!(
        value(&t, "conflux_pos_force_retire_risk_known", &k[..1]),
        Some(1.0)
    );

    let p = state.nodes[0].pos.as_mut().unwrap();
    p.backfilled = false;
    let t = published(&state);
    assert_eq!(
        value(&t, "conflux_pos_force_retire_risk_known", &k[..1]),
        Some(0.0)
    );
    assert!(
        !t.contains("conflux_pos_force_retire_at_risk{"),
        "unknown is absent, never 0\n{t}"
    );

    let p = state.nodes[0].pos.as_mut().unwrap();
    p.backfilled = true;
    p.account = Some(account(190, None, Some(180)));
    let t = published(&state);
    assert_eq!(
        value(&t, "conflux_pos_force_retire_at_risk", &k),
        Some(0.0),
        "already retired"
    );
    assert_eq!(value(&t, "conflux_pos_force_retired", &k), Some(1.0));
    assert_eq!(
        value(&t, "conflux_pos_force_retired_block", &k),
        Some(180.0)
    );
}

#[test]
fn slashing_is_published_from_the_relock() {
    let mut state = one_node();
    let k = [("node", "n0"), ("pos_address", KEY)];
    let slashed = |s: &State| value(&published(s), "conflux_pos_slashed", &k);
    state.nodes[0].pos.as_mut().unwrap().account = Some(account(190, Some(190 + 18_720), None));
    assert_eq!(slashed(&state), Some(0.0), "an ordinary unlock");
    state.nodes[0].pos.as_mut().unwrap().account = Some(account(190, Some(190 + 518_400), None));
    assert_eq!(slashed(&state), Some(1.0), "the dispute relock");
    state.nodes[0].pos.as_mut().unwrap().account = None;
    assert_eq!(slashed(&state), None, "account unread: absent");
}

#[test]
fn a_node_without_pos_says_why_and_shows_nothing_else() {
    let mut state = one_node();
    let p = state.nodes[0].pos.as_mut().unwrap();
    p.status = None;
    p.local.status = None;
    p.view.source = None;
    p.down = Some(PosDown::NotServed);
    let t = published(&state);
    let n = ("node", "n0");
    assert_eq!(value(&t, "conflux_pos_up", &[n]), Some(0.0));
    let reason = "conflux_pos_unavailable_reason";
    assert_eq!(
        value(&t, reason, &[n, ("reason", "pos_not_served")]),
        Some(1.0)
    );
    assert_eq!(
        value(&t, reason, &[n, ("reason", "pos_not_started")]),
        Some(0.0)
    );
    assert!(!t.contains("conflux_pos_epoch{"), "{t}");
    assert!(!t.contains("conflux_pos_election_term_start_block{"), "{t}");

    take_down(&mut state.nodes[0]);
    let t = published(&state);
    assert_eq!(value(&t, "conflux_pos_up", &[n]), Some(0.0));
    assert!(
        !t.contains("conflux_pos_unavailable_reason{"),
        "node down: no PoS reason\n{t}"
    );
    assert!(!t.contains("conflux_pos_address_known{"), "{t}");
}

/// A node holding `KEY` at PoS block `committed`, with history read to `read`.
fn reader_node(up: bool, committed: u64, read: Option<u64>) -> NodeState {
    let mut n = node();
    let p = n.pos.as_mut().unwrap();
    p.status.as_mut().unwrap().latest_committed = HexU64(committed);
    p.local.status.as_mut().unwrap().latest_committed = HexU64(committed);
    p.ledger.last_height = read;
    if !up {
        take_down(&mut n);
    }
    n
}

#[test]
fn a_keys_facts_appear_once_and_follow_the_reader() {
    let r = prometheus::Registry::new();
    let f = PosFamilies::register(&r).unwrap();
    let keys = PosKeyFamilies::register(&r).unwrap();
    let mut state = State {
        nodes: vec![
            reader_node(true, 100, Some(100)),
            reader_node(true, 90, Some(90)),
        ],
        ..Default::default()
    };
    for (i, n) in state.nodes.iter_mut().enumerate() {
        n.name = format!("n{i}");
        n.pos.as_mut().unwrap().ledger.signed_total = 27;
    }
    let signed = |f: &PosKeyFamilies| {
        let mut out = Vec::new();
        for m in prometheus::core::Collector::collect(&f.votes_signed) {
            for s in m.get_metric() {
                let labels: Vec<String> = s
                    .get_label()
                    .iter()
                    .map(|l| l.value().to_string())
                    .collect();
                out.push(labels.join(","));
            }
        }
        out
    };
    let now = SystemTime::now();
    f.publish(&state, &Judge::default().judge(&state, now), now, &keys);
    assert_eq!(
        signed(&keys),
        [format!("n0,{KEY}")],
        "the standby does not show votes it never cast"
    );
    take_down(&mut state.nodes[0]);
    let now = SystemTime::now();
    f.publish(&state, &Judge::default().judge(&state, now), now, &keys);
    assert_eq!(signed(&keys), [format!("n1,{KEY}")]);
}
