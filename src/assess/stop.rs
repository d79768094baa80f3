//! When the node may stop: read-only, the answer `test_posStopElection` would give (`final_serving_view` in
//! conflux-rust's `term_state.rs`), without stopping the key's elections. The node serves in a committee while
//! any of the six serving terms or the two upcoming ones holds its key; the latest such term `T` serves until the
//! committee of term `T + 5` is replaced, so the answer is `start(T + 6) + 1` (reference §6.1–6.2: six serving
//! terms, one term per epoch). `pos_getCommittee` names the key's seats only for the two upcoming terms; the
//! serving terms are remembered from the finalized elections seen while they were upcoming ([`TermSeats`]), and
//! the estimate is unknown while a serving term was never seen finalized.

use std::collections::BTreeMap;

use super::terms::{upcoming, Term, Upcoming};
use crate::pos_address::PosAddress;
use crate::rpc::pos::CommitteeState;

/// Terms a seat serves in (`TERM_LIST_LEN`): the committee is the union of the elected seats of six terms.
pub(crate) const SERVING_TERMS: u64 = 6;
/// Terms remembered; older ones no longer serve.
const REMEMBERED: usize = 16;

/// What `test_posStopElection` would return now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopEstimate {
    /// `null`: the key is in no current or future term; stopping misses no committee duty.
    Free,
    /// The PoS block after which the key is in no committee (the node may stop once it is committed).
    After(u64),
}

/// Whether our key won seats in each term whose election we saw finalized, by the term's start block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TermSeats(BTreeMap<u64, bool>);

impl TermSeats {
    /// Remembers the finalized upcoming terms of one `pos_getCommittee` answer (an electing term's seats are not
    /// final, so it is not remembered).
    pub(crate) fn record(&mut self, c: &CommitteeState, us: &PosAddress) {
        for u in upcoming(&c.elections, us).iter().filter(|u| u.finalized) {
            self.0.insert(u.start_block, u.candidate);
        }
        while self.0.len() > REMEMBERED {
            self.0.pop_first();
        }
    }

    /// Whether our key holds seats in the term starting at `start`, when its finalized election was seen.
    pub(crate) fn seated(&self, start: u64) -> Option<bool> {
        self.0.get(&start).copied()
    }
}

/// What the estimate is computed from: the view in use.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StopInput<'a> {
    /// The two upcoming terms as seen for us ([`upcoming`]).
    pub upcoming: &'a [Upcoming],
    /// Term length in blocks.
    pub term_len: u64,
    /// Whether our key sits in the current committee.
    pub seated_now: bool,
    /// The upcoming term our latest executed Election transaction applied for, if it is one of the two: an
    /// applicant is in the term's electing set even when its tickets are not among the top ones shown.
    pub applied_for: Option<Term>,
    /// The serving terms' seats remembered.
    pub seats: &'a TermSeats,
}

/// The estimate, or `None` when it cannot be known (no term grid, or a serving term's seats never seen).
pub(crate) fn stop_estimate(i: &StopInput) -> Option<StopEstimate> {
    if i.term_len == 0 {
        return None;
    }
    let after = |start: u64| {
        let end = start.checked_add(SERVING_TERMS.checked_mul(i.term_len)?)?;
        end.checked_add(1).map(StopEstimate::After)
    };
    for u in i.upcoming.iter().rev() {
        let applied = !u.finalized && i.applied_for == Some(u.term);
        if u.candidate || applied {
            return after(u.start_block);
        }
    }
    let next = i.upcoming.iter().find(|u| u.term == Term::Next)?;
    if !i.seated_now {
        return Some(StopEstimate::Free);
    }
    // Serving terms, newest first: the current one starts a term before the next.
    for k in 1..=SERVING_TERMS {
        let start = next.start_block.checked_sub(k.checked_mul(i.term_len)?)?;
        match i.seats.seated(start)? {
            true => return after(start),
            false => continue,
        }
    }
    // Seated now but in none of the serving terms we saw: the inputs disagree.
    None
}

/// Which upcoming term an Election transaction for `target_term` applied to, given the current PoS epoch. The
/// first upcoming term `pos_getCommittee` shows (`term_list[6]`) is number `epoch + 1` (measured on a conflux-rust
/// devnet: at epoch 5 it starts at view 60 on a 10-block grid, `get_starting_view_for_term(6)`).
pub(crate) fn applied_term(target_term: Option<u64>, epoch: u64) -> Option<Term> {
    match target_term?.checked_sub(epoch)?.checked_sub(1)? {
        0 => Some(Term::Next),
        1 => Some(Term::AfterNext),
        _ => None,
    }
}

/// Whether Election transactions are still being sent for our key: one landed within the last two terms (a
/// sending node applies once per term). `None` while the history read does not reach that far back.
pub(crate) fn elections_sending(
    last_election_block: Option<u64>,
    latest: u64,
    term_len: u64,
    history_covers_two_terms: bool,
) -> Option<bool> {
    let since = latest.saturating_sub(term_len.saturating_mul(2));
    match last_election_block {
        Some(b) if b > since => Some(true),
        // Blocks are read in order: once one of ours is seen, every later block was read too.
        Some(_) => Some(false),
        None => history_covers_two_terms.then_some(false),
    }
}

#[cfg(test)]
#[path = "stop_tests.rs"]
mod tests;
