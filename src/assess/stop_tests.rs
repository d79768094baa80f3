use super::*;
use crate::rpc::pos::{Committee, Election, NodeVotes};
use crate::rpc::wire::HexU64;

fn key(byte: &str) -> PosAddress {
    PosAddress::parse(&byte.repeat(32)).unwrap()
}

fn up(term: Term, start: u64, finalized: bool, candidate: bool) -> Upcoming {
    Upcoming {
        term,
        start_block: start,
        finalized,
        candidate,
    }
}

/// Terms of 10 blocks; the next one starts at 100, the one after at 110.
fn input<'a>(u: &'a [Upcoming], seated: bool, seats: &'a TermSeats) -> StopInput<'a> {
    StopInput {
        upcoming: u,
        term_len: 10,
        seated_now: seated,
        applied_for: None,
        seats,
    }
}

fn committee(finalized_next: bool, us_in_next: bool, us: &PosAddress) -> CommitteeState {
    let seat = |b: bool| {
        if b {
            vec![NodeVotes {
                address: us.clone(),
                voting_power: HexU64(1),
            }]
        } else {
            vec![]
        }
    };
    CommitteeState {
        current_committee: Committee {
            epoch_number: HexU64(10),
            quorum_voting_power: HexU64(1),
            total_voting_power: HexU64(1),
            nodes: vec![],
        },
        elections: vec![
            Election {
                is_finalized: finalized_next,
                start_block_number: HexU64(100),
                top_electing_nodes: seat(us_in_next),
            },
            Election {
                is_finalized: false,
                start_block_number: HexU64(110),
                top_electing_nodes: vec![],
            },
        ],
    }
}

#[test]
fn an_electing_node_serves_six_terms_after_its_latest_term() {
    let seats = TermSeats::default();
    let u = [
        up(Term::Next, 100, true, true),
        up(Term::AfterNext, 110, false, true),
    ];
    assert_eq!(
        stop_estimate(&input(&u, true, &seats)),
        Some(StopEstimate::After(171))
    );
    let u = [
        up(Term::Next, 100, false, true),
        up(Term::AfterNext, 110, false, false),
    ];
    assert_eq!(
        stop_estimate(&input(&u, true, &seats)),
        Some(StopEstimate::After(161))
    );
}

#[test]
fn an_applicant_outside_the_top_tickets_counts_until_finalized() {
    let seats = TermSeats::default();
    let u = [
        up(Term::Next, 100, true, false),
        up(Term::AfterNext, 110, false, false),
    ];
    let mut i = input(&u, false, &seats);
    i.applied_for = Some(Term::AfterNext);
    assert_eq!(stop_estimate(&i), Some(StopEstimate::After(171)));
    // A finalized term's seats are final: applying for it and losing leaves no seat.
    i.applied_for = Some(Term::Next);
    assert_eq!(stop_estimate(&i), Some(StopEstimate::Free));
}

#[test]
fn outside_every_term_is_free() {
    let seats = TermSeats::default();
    let u = [
        up(Term::Next, 100, true, false),
        up(Term::AfterNext, 110, false, false),
    ];
    assert_eq!(
        stop_estimate(&input(&u, false, &seats)),
        Some(StopEstimate::Free)
    );
}

#[test]
fn a_serving_member_needs_the_remembered_terms() {
    let us = key("ab");
    let u = [
        up(Term::Next, 100, true, false),
        up(Term::AfterNext, 110, false, false),
    ];
    let mut seats = TermSeats::default();
    assert_eq!(stop_estimate(&input(&u, true, &seats)), None, "never seen");
    // Seen: the term starting at 80 seated us, the one at 90 did not.
    let mut c = committee(true, true, &us);
    c.elections[0].start_block_number = HexU64(80);
    seats.record(&c, &us);
    c.elections[0].start_block_number = HexU64(90);
    c.elections[0].top_electing_nodes.clear();
    seats.record(&c, &us);
    assert_eq!(
        stop_estimate(&input(&u, true, &seats)),
        Some(StopEstimate::After(141))
    );
    // Seated now in none of six remembered terms: the inputs disagree.
    let mut none = TermSeats::default();
    for s in (40..100).step_by(10) {
        let mut c = committee(true, false, &us);
        c.elections[0].start_block_number = HexU64(s);
        none.record(&c, &us);
    }
    assert_eq!(stop_estimate(&input(&u, true, &none)), None);
    assert_eq!(
        stop_estimate(&input(&u, false, &none)),
        Some(StopEstimate::Free)
    );
}

#[test]
fn only_finalized_terms_are_remembered_and_memory_is_bounded() {
    let us = key("ab");
    let mut seats = TermSeats::default();
    seats.record(&committee(false, true, &us), &us);
    assert_eq!(seats.seated(100), None);
    seats.record(&committee(true, true, &us), &us);
    assert_eq!(seats.seated(100), Some(true));
    for s in 0..100 {
        let mut c = committee(true, false, &us);
        c.elections[0].start_block_number = HexU64(1000 + s * 10);
        seats.record(&c, &us);
    }
    assert_eq!(seats.0.len(), REMEMBERED);
}

#[test]
fn no_grid_or_no_schedule_is_unknown() {
    let seats = TermSeats::default();
    let u = [up(Term::Next, 100, true, true)];
    let mut i = input(&u, true, &seats);
    i.term_len = 0;
    assert_eq!(stop_estimate(&i), None);
    assert_eq!(stop_estimate(&input(&[], true, &seats)), None);
    let huge = [up(Term::Next, u64::MAX - 5, true, true)];
    assert_eq!(stop_estimate(&input(&huge, true, &seats)), None);
}

#[test]
fn the_term_an_election_applied_for() {
    assert_eq!(applied_term(Some(11), 10), Some(Term::Next));
    assert_eq!(applied_term(Some(12), 10), Some(Term::AfterNext));
    assert_eq!(applied_term(Some(10), 10), None);
    assert_eq!(applied_term(Some(13), 10), None);
    assert_eq!(applied_term(None, 10), None);
}

#[test]
fn elections_are_sent_when_one_landed_within_two_terms() {
    assert_eq!(elections_sending(Some(185), 200, 10, false), Some(true));
    assert_eq!(elections_sending(Some(170), 200, 10, false), Some(false));
    assert_eq!(elections_sending(None, 200, 10, true), Some(false));
    assert_eq!(elections_sending(None, 200, 10, false), None);
    assert_eq!(elections_sending(Some(3), 5, 10, false), Some(true));
}
