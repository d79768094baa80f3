//! Where an address stands in the current committee and in the two upcoming terms, from `pos_getCommittee`.
//! The upcoming terms are named by their place (`next`, `after_next`), never by their start block, so that the
//! published label set stays the same from term to term; the start block is a value.

use super::guard::{normalize_pos_address, safe_to_stop};
use crate::rpc::pos::{Committee, CommitteeState, Election, NodeVotes};

/// One of the two upcoming terms the chain elects (reference §3: `elections` holds exactly two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Term {
    /// The term that starts first.
    Next,
    /// The one after it.
    AfterNext,
}

impl Term {
    /// Both terms, in order.
    pub const ALL: [Term; 2] = [Term::Next, Term::AfterNext];

    /// The `term` label value.
    pub fn label(self) -> &'static str {
        match self {
            Term::Next => "next",
            Term::AfterNext => "after_next",
        }
    }
}

/// An upcoming term as seen for one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upcoming {
    /// Which term.
    pub term: Term,
    /// The view at which it starts.
    pub start_block: u64,
    /// Whether its seats are final.
    pub finalized: bool,
    /// Whether the address is among its electing (or, once final, elected) nodes.
    pub candidate: bool,
}

/// The address's seat in `committee`: its voting power when a member, `None` when not.
pub fn seat(committee: &Committee, address: &str) -> Option<u64> {
    find(&committee.nodes, address).map(|m| m.voting_power.0)
}

/// The two upcoming terms named in start order. The node's order is not relied on; an answer with more than two
/// elections keeps the two that start first, so the label set stays bounded.
pub fn schedule(elections: &[Election]) -> Vec<(Term, &Election)> {
    let mut sorted: Vec<&Election> = elections.iter().collect();
    sorted.sort_by_key(|e| e.start_block_number.0);
    Term::ALL.into_iter().zip(sorted).collect()
}

/// The two upcoming terms (see [`schedule`]) as seen for `address`.
pub fn upcoming(elections: &[Election], address: &str) -> Vec<Upcoming> {
    schedule(elections)
        .into_iter()
        .map(|(term, e)| Upcoming {
            term,
            start_block: e.start_block_number.0,
            finalized: e.is_finalized,
            candidate: find(&e.top_electing_nodes, address).is_some(),
        })
        .collect()
}

/// Whether `address` may stop without missing votes: no seat in the current committee nor among the electing
/// or elected nodes of either upcoming term ([`safe_to_stop`]); `None` for an address that is not one.
pub fn free_to_stop(c: &CommitteeState, address: &str) -> Option<bool> {
    let seated: Vec<&str> = c
        .current_committee
        .nodes
        .iter()
        .map(|m| m.address.as_str())
        .collect();
    let electing: Vec<&str> = c
        .elections
        .iter()
        .flat_map(|e| e.top_electing_nodes.iter().map(|m| m.address.as_str()))
        .collect();
    safe_to_stop(address, &seated, &electing)
}

/// The same key however spelled (case, `0x` prefix); text that is not a key compares case-insensitively.
fn find<'a>(nodes: &'a [NodeVotes], address: &str) -> Option<&'a NodeVotes> {
    let ours = normalize_pos_address(address);
    nodes
        .iter()
        .find(|m| match (&ours, normalize_pos_address(&m.address)) {
            (Some(a), Some(b)) => *a == b,
            _ => m.address.eq_ignore_ascii_case(address),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::wire::HexU64;

    fn votes(address: &str, power: u64) -> NodeVotes {
        NodeVotes {
            address: address.into(),
            voting_power: HexU64(power),
        }
    }

    fn election(start: u64, finalized: bool, nodes: Vec<NodeVotes>) -> Election {
        Election {
            is_finalized: finalized,
            start_block_number: HexU64(start),
            top_electing_nodes: nodes,
        }
    }

    #[test]
    fn seat_matches_any_case() {
        let c = Committee {
            epoch_number: HexU64(3),
            quorum_voting_power: HexU64(2),
            total_voting_power: HexU64(3),
            nodes: vec![votes("0xAB", 2), votes("0xcd", 1)],
        };
        assert_eq!(seat(&c, "0xab"), Some(2));
        assert_eq!(seat(&c, "0xCD"), Some(1));
        assert_eq!(seat(&c, "0xef"), None);
        let key = "0x".to_string() + &"ab".repeat(32);
        let c = Committee {
            nodes: vec![votes(&key.to_uppercase()[2..], 3)],
            ..c
        };
        assert_eq!(seat(&c, &key), Some(3), "a key with and without 0x");
    }

    #[test]
    fn free_to_stop_only_without_any_seat() {
        let us = "0x".to_string() + &"ab".repeat(32);
        let other = "0x".to_string() + &"cd".repeat(32);
        let committee = |nodes| Committee {
            epoch_number: HexU64(3),
            quorum_voting_power: HexU64(1),
            total_voting_power: HexU64(1),
            nodes,
        };
        let state = |seated: &str, electing: &str| CommitteeState {
            current_committee: committee(vec![votes(seated, 1)]),
            elections: vec![
                election(20, true, vec![]),
                election(30, false, vec![votes(electing, 1)]),
            ],
        };
        assert_eq!(free_to_stop(&state(&other, &other), &us), Some(true));
        assert_eq!(free_to_stop(&state(&us, &other), &us), Some(false));
        assert_eq!(
            free_to_stop(&state(&other, &us), &us),
            Some(false),
            "after_next seats us"
        );
        assert_eq!(free_to_stop(&state(&other, &other), "junk"), None);
    }

    #[test]
    fn terms_are_named_by_start_order_not_by_block() {
        let es = [
            election(0x1554, false, vec![]),
            election(0x1518, true, vec![votes("0xAB", 1)]),
        ];
        let up = upcoming(&es, "0xab");
        assert_eq!(
            up,
            [
                Upcoming {
                    term: Term::Next,
                    start_block: 0x1518,
                    finalized: true,
                    candidate: true
                },
                Upcoming {
                    term: Term::AfterNext,
                    start_block: 0x1554,
                    finalized: false,
                    candidate: false
                },
            ]
        );
        let three = [
            election(30, false, vec![]),
            election(10, false, vec![]),
            election(20, false, vec![]),
        ];
        let starts: Vec<u64> = upcoming(&three, "0xab")
            .iter()
            .map(|u| u.start_block)
            .collect();
        assert_eq!(starts, [10, 20], "at most two terms, the earliest");
        assert!(upcoming(&[], "0xab").is_empty());
    }
}
