//! Where an address stands in the current committee and in the two upcoming terms, from `pos_getCommittee`.
//! The upcoming terms are named by their place (`next`, `after_next`), never by their start block, so that the
//! published label set stays the same from term to term; the start block is a value.

use super::guard::safe_to_stop;
use crate::pos_address::PosAddress;
use crate::rpc::pos::{Committee, CommitteeState, Election, NodeVotes};

/// One of the two upcoming terms the chain elects (docs/node-facts.md#pos-rpc: `elections` holds exactly two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Term {
    /// The term that starts first.
    Next,
    /// The one after it.
    AfterNext,
}

impl Term {
    /// Both terms, in order.
    pub(crate) const ALL: [Term; 2] = [Term::Next, Term::AfterNext];

    /// The `term` label value.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Term::Next => "next",
            Term::AfterNext => "after_next",
        }
    }
}

/// An upcoming term as seen for one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Upcoming {
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
pub(crate) fn seat(committee: &Committee, address: &PosAddress) -> Option<u64> {
    find(&committee.nodes, address).map(|m| m.voting_power.0)
}

/// The two upcoming terms named in start order. The node's order is not relied on; an answer with more than two
/// elections keeps the two that start first, so the label set stays bounded.
pub(crate) fn schedule(elections: &[Election]) -> Vec<(Term, &Election)> {
    let mut sorted: Vec<&Election> = elections.iter().collect();
    sorted.sort_by_key(|e| e.start_block_number.0);
    Term::ALL.into_iter().zip(sorted).collect()
}

/// The two upcoming terms (see [`schedule`]) as seen for `address`.
pub(crate) fn upcoming(elections: &[Election], address: &PosAddress) -> Vec<Upcoming> {
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
/// or elected nodes of either upcoming term ([`safe_to_stop`]).
pub(crate) fn free_to_stop(c: &CommitteeState, address: &PosAddress) -> bool {
    let seated = c.current_committee.nodes.iter().map(|m| &m.address);
    let electing = c
        .elections
        .iter()
        .flat_map(|e| e.top_electing_nodes.iter().map(|m| &m.address));
    safe_to_stop(address, seated, electing)
}

fn find<'a>(nodes: &'a [NodeVotes], address: &PosAddress) -> Option<&'a NodeVotes> {
    nodes.iter().find(|m| m.address == *address)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::wire::HexU64;

    /// A key made of one repeated hex byte.
    fn key(byte: &str) -> PosAddress {
        PosAddress::parse(&byte.repeat(32)).unwrap()
    }

    fn votes(address: &PosAddress, power: u64) -> NodeVotes {
        NodeVotes {
            address: address.clone(),
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
    fn seat_and_power() {
        let c = Committee {
            epoch_number: HexU64(3),
            quorum_voting_power: HexU64(2),
            total_voting_power: HexU64(3),
            nodes: vec![votes(&key("ab"), 2), votes(&key("cd"), 1)],
        };
        assert_eq!(seat(&c, &key("ab")), Some(2));
        assert_eq!(seat(&c, &key("cd")), Some(1));
        assert_eq!(seat(&c, &key("ef")), None);
    }

    #[test]
    fn free_to_stop_only_without_any_seat() {
        let (us, other) = (key("ab"), key("cd"));
        let state = |seated: &PosAddress, electing: &PosAddress| CommitteeState {
            current_committee: Committee {
                epoch_number: HexU64(3),
                quorum_voting_power: HexU64(1),
                total_voting_power: HexU64(1),
                nodes: vec![votes(seated, 1)],
            },
            elections: vec![
                election(20, true, vec![]),
                election(30, false, vec![votes(electing, 1)]),
            ],
        };
        assert!(free_to_stop(&state(&other, &other), &us));
        assert!(!free_to_stop(&state(&us, &other), &us), "seated now");
        assert!(
            !free_to_stop(&state(&other, &us), &us),
            "after_next seats us"
        );
    }

    #[test]
    fn terms_are_named_by_start_order_not_by_block() {
        let us = key("ab");
        let es = [
            election(0x1554, false, vec![]),
            election(0x1518, true, vec![votes(&us, 1)]),
        ];
        assert_eq!(
            upcoming(&es, &us),
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
        let starts: Vec<u64> = upcoming(&three, &us)
            .iter()
            .map(|u| u.start_block)
            .collect();
        assert_eq!(starts, [10, 20], "at most two terms, the earliest");
        assert!(upcoming(&[], &us).is_empty());
    }
}
