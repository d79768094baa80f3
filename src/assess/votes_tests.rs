//! Unit tests of the vote ledger.

use super::*;
use crate::rpc::pos::Signature;
use crate::rpc::wire::HexU64;

const US: &str = "aa";

/// A valid address from a short tag (zero-padded hex), so the tables stay readable.
fn addr(tag: &str) -> PosAddress {
    PosAddress::parse(&format!("{tag:0>64}")).expect("hex tag")
}

fn block(h: u64, epoch: u64, signers: &[&str], miner: Option<&str>) -> PosBlock {
    PosBlock {
        hash: format!("0x{h:x}"),
        height: HexU64(h),
        epoch: HexU64(epoch),
        round: HexU64(h % 10),
        last_tx_number: HexU64(h * 3),
        miner: miner.map(addr),
        timestamp: HexU64(1_000_000 + h * 30_000_000),
        signatures: signers
            .iter()
            .map(|a| Signature {
                account: addr(a),
                votes: HexU64(5),
            })
            .collect(),
        qc_power: None,
    }
}

fn committee(epoch: u64, members: &[(&str, u64)]) -> CommitteeState {
    let nodes: Vec<_> = members
        .iter()
        .map(|(a, p)| serde_json::json!({"address": addr(a).as_str(), "votingPower": format!("0x{p:x}")}))
        .collect();
    let total: u64 = members.iter().map(|(_, p)| p).sum();
    serde_json::from_value(serde_json::json!({
        "currentCommittee": {"epochNumber": format!("0x{epoch:x}"), "quorumVotingPower": "0x1",
            "totalVotingPower": format!("0x{total:x}"), "nodes": nodes},
        "elections": []
    }))
    .unwrap()
}

#[test]
fn a_committee_answer_sets_membership_of_its_own_epoch() {
    let mut l = VoteLedger::default();
    l.record_committee(&committee(7, &[("AA", 9), ("bb", 1)]), &addr(US));
    l.record_committee(&committee(8, &[("bb", 1)]), &addr(US));
    assert_eq!(
        (l.membership(7), l.epochs[&7].voting_power),
        (Some(true), 9),
        "case-insensitive match"
    );
    assert_eq!(
        (l.membership(8), l.epochs[&8].voting_power),
        (Some(false), 0)
    );
    assert_eq!(
        l.membership(9),
        None,
        "an epoch no answer described stays unknown"
    );
}

#[test]
fn classifies_blocks_and_never_counts_twice() {
    let mut l = VoteLedger::default();
    l.set_membership(7, true, 5);
    assert_eq!(
        l.record_block(&block(1, 7, &[US, "bb"], Some(US)), &addr(US)),
        Some(BlockVerdict::Signed)
    );
    assert_eq!(
        l.record_block(&block(1, 7, &[US], None), &addr(US)),
        None,
        "same height again"
    );
    assert_eq!(
        l.record_block(&block(2, 7, &["bb"], None), &addr(US)),
        Some(BlockVerdict::Missed)
    );
    assert_eq!(
        l.record_block(&block(3, 7, &[], None), &addr(US)),
        Some(BlockVerdict::Unknown)
    );
    assert_eq!(
        l.record_block(&block(4, 7, &["BB"], None), &addr(US)),
        Some(BlockVerdict::Missed)
    );
    assert_eq!(
        (
            l.signed_total,
            l.missed_total,
            l.unknown_total,
            l.proposed_total
        ),
        (1, 2, 1, 1)
    );
    assert_eq!(
        l.consecutive_missed, 2,
        "unknown blocks neither break nor extend the streak"
    );
    assert_eq!(l.last_signed_block, Some(1));
    assert_eq!(
        l.epochs[&7],
        EpochRecord {
            member: Some(true),
            voting_power: 5,
            blocks: 4,
            signed: 1,
            missed: 2,
            unknown: 1,
            membership_unknowable: false,
            hidden_qc: 1
        }
    );
    assert_eq!(
        l.block_interval_seconds(),
        None,
        "three gaps are not enough to tell the pace"
    );
}

#[test]
fn non_members_never_miss() {
    let mut l = VoteLedger::default();
    l.set_membership(3, false, 0);
    assert_eq!(
        l.record_block(&block(10, 3, &["bb"], None), &addr(US)),
        Some(BlockVerdict::NotMember)
    );
    assert_eq!(
        l.record_block(&block(11, 4, &["bb"], None), &addr(US)),
        Some(BlockVerdict::NotMember),
        "unknown membership"
    );
    assert_eq!(l.missed_total, 0);
    // A signature proves membership even if the committee said otherwise.
    assert_eq!(
        l.record_block(&block(12, 3, &[US], None), &addr(US)),
        Some(BlockVerdict::Signed)
    );
    assert_eq!(l.membership(3), Some(true));
}

#[test]
fn an_unknowable_committee_makes_unsigned_blocks_unknown_not_missed_nor_outside() {
    let mut l = VoteLedger::default();
    l.set_membership_unknowable(9);
    assert_eq!(
        l.record_block(&block(20, 9, &["bb"], None), &addr(US)),
        Some(BlockVerdict::Unknown)
    );
    assert_eq!(
        l.record_block(&block(21, 9, &[US], None), &addr(US)),
        Some(BlockVerdict::Signed),
        "a signature still proves membership"
    );
    assert_eq!((l.unknown_total, l.missed_total, l.signed_total), (1, 0, 1));
}

#[test]
fn interval_is_the_median_gap() {
    let mut l = VoteLedger::default();
    for (h, t) in [(1u64, 0u64), (2, 30), (3, 60), (4, 150), (5, 180), (6, 210)] {
        let mut b = block(h, 1, &[US], None);
        b.timestamp = HexU64(t * 1_000_000);
        l.record_block(&b, &addr(US));
    }
    assert_eq!(
        l.block_interval_seconds(),
        Some(30.0),
        "one 90 s timeout round does not move it"
    );
    assert_eq!(VoteLedger::default().block_interval_seconds(), None);
    // A fresh chain whose anchor is from long ago: the hole is not the pace, and three gaps tell nothing yet.
    let mut fresh = VoteLedger::default();
    for (h, t) in [(1u64, 0u64), (2, 1_800_000_000), (3, 1_800_000_001)] {
        let mut b = block(h, 1, &[US], None);
        b.timestamp = HexU64(t * 1_000_000);
        fresh.record_block(&b, &addr(US));
    }
    assert_eq!(fresh.block_interval_seconds(), None);
}

#[test]
fn measures_each_block_against_its_epochs_committee() {
    let mut l = VoteLedger::default();
    // Signatures carry 5 votes each: 4 members of 5 (us included), total 20.
    l.record_committee(
        &committee(7, &[(US, 5), ("b1", 5), ("b2", 5), ("b3", 5)]),
        &addr(US),
    );
    l.record_block(&block(1, 7, &[US, "b1", "b2", "b3"], None), &addr(US));
    assert_eq!(l.participation.last_block, Some(1.0));
    l.record_block(&block(2, 7, &["b1", "b2", "b3"], None), &addr(US));
    assert_eq!(l.participation.last_block, Some(0.75));
    l.record_block(&block(3, 7, &["b1", "b2"], None), &addr(US));
    assert_eq!(l.participation.solo_missed_total, 1, "only block 2");
    l.record_block(&block(4, 7, &[], None), &addr(US));
    assert_eq!(l.participation.last_block, None, "QC unknown");
    l.record_block(&block(5, 8, &["b1"], None), &addr(US));
    assert_eq!(
        (
            l.participation.last_block,
            l.participation.solo_missed_total
        ),
        (None, 1),
        "epoch 8's committee is unknown"
    );
    assert_eq!(l.participation.slots(7), vec![(0, 1.0 / 3.0)]);
}

#[test]
fn keeps_a_bounded_number_of_epochs() {
    let mut l = VoteLedger::default();
    for e in 0..10 {
        l.set_membership(e, true, 1);
        l.record_block(&block(e * 10 + 1, e, &[US], None), &addr(US));
    }
    assert_eq!(l.epochs.len(), EPOCHS_KEPT);
    assert_eq!(l.epochs.keys().next(), Some(&6));
    assert_eq!(l.signed_total, 10);
    for e in 0..10 {
        l.record_committee(&committee(e, &[(US, 1)]), &addr(US));
    }
    assert_eq!(l.committees.len(), EPOCHS_KEPT);
}
