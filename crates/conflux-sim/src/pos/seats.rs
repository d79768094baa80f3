//! Elected seats per term, and the committee they add up to.
//!
//! The real rule (docs/node-facts.md#pos-rules): a committee is the sum of a node's seats over the 6 serving terms, capped
//! at its `availableVotes`; a node elects for an upcoming term with `available − seats in the 5 terms before it`
//! tickets. That keeps an established node's power constant while it sends about one Election per term.
//!
//! Simplifications (documented for the exporter's tests): there is no competition, so every ticket wins a seat
//! (no 50-seat cap, no VRF ranking, no 300-seat total); and members known at start or added by `add_member`
//! are *seeded*: for every term up to `through` they hold `power / 6` seats (the remainder spread by term number),
//! so any 6 consecutive seeded terms add up to exactly their power.

use std::collections::{BTreeMap, BTreeSet};

/// Terms a seat serves (`TERM_LIST_LEN`).
pub(crate) const TERMS_SERVED: i64 = 6;

/// Seats of `power` that fall in `term` when spread evenly over every 6 consecutive terms.
pub(crate) fn share(power: u64, term: i64) -> u64 {
    let n = TERMS_SERVED as u64;
    power / n + u64::from((term.rem_euclid(TERMS_SERVED) as u64) < power % n)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seed {
    power: u64,
    through: i64,
    since: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Application {
    tickets: u64,
    view: u64,
}

/// Every term's seats, with when each was won, so past views can be answered.
#[derive(Debug, Clone, Default)]
pub(crate) struct Seats {
    seeds: BTreeMap<String, Seed>,
    applications: BTreeMap<i64, BTreeMap<String, Application>>,
    known: BTreeSet<String>,
}

impl Seats {
    /// Gives `addr`, from block `since` on, an established seat history of `power` for every term up to
    /// `through`.
    pub fn seed(&mut self, addr: &str, power: u64, through: i64, since: u64) {
        self.seeds.insert(
            addr.to_string(),
            Seed {
                power,
                through,
                since,
            },
        );
        self.known.insert(addr.to_string());
    }

    /// Seats `addr` holds in `term`.
    pub fn tickets(&self, term: i64, addr: &str) -> u64 {
        self.tickets_known_at(term, addr, u64::MAX)
    }

    /// Seats `addr` holds in `term`, counting only what was decided by the end of block `view`.
    fn tickets_known_at(&self, term: i64, addr: &str, view: u64) -> u64 {
        let seeded = self
            .seeds
            .get(addr)
            .filter(|s| term <= s.through && s.since <= view)
            .map_or(0, |s| share(s.power, term));
        let applied = self
            .applications
            .get(&term)
            .and_then(|t| t.get(addr))
            .filter(|a| a.view <= view)
            .map_or(0, |a| a.tickets);
        seeded + applied
    }

    /// Seats in the 5 terms before `term`: what an Election for `term` must exceed.
    pub fn serving_before(&self, term: i64, addr: &str) -> u64 {
        (term - TERMS_SERVED + 1..term)
            .map(|t| self.tickets(t, addr))
            .sum()
    }

    /// Committee power for `term` before the `availableVotes` cap.
    pub fn raw_power(&self, term: i64, addr: &str) -> u64 {
        (term - TERMS_SERVED + 1..=term)
            .map(|t| self.tickets(t, addr))
            .sum()
    }

    /// Whether `addr` already applied for `term` (one Election per term).
    pub fn has_applied(&self, term: i64, addr: &str) -> bool {
        self.applications
            .get(&term)
            .is_some_and(|t| t.contains_key(addr))
    }

    /// Records an Election included in block `view`.
    pub fn apply(&mut self, term: i64, addr: &str, tickets: u64, view: u64) {
        self.applications
            .entry(term)
            .or_default()
            .insert(addr.to_string(), Application { tickets, view });
        self.known.insert(addr.to_string());
    }

    /// Every address that ever held or applied for a seat.
    pub fn known(&self) -> impl Iterator<Item = &String> {
        self.known.iter()
    }

    /// Final seats of a closed term as known at the end of block `view`, by address.
    pub fn elected(&self, term: i64, view: u64) -> Vec<(String, u64)> {
        self.known
            .iter()
            .map(|a| (a.clone(), self.tickets_known_at(term, a, view)))
            .filter(|(_, t)| *t > 0)
            .collect()
    }

    /// Tickets applied for an open term by the end of block `view`, by address.
    pub fn provisional(&self, term: i64, view: u64) -> Vec<(String, u64)> {
        self.applications.get(&term).map_or_else(Vec::new, |t| {
            t.iter()
                .filter(|(_, a)| a.view <= view && a.tickets > 0)
                .map(|(addr, a)| (addr.clone(), a.tickets))
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_of_any_six_consecutive_terms_add_up() {
        for power in [1, 5, 6, 75, 301] {
            for start in -8..8 {
                let sum: u64 = (start..start + TERMS_SERVED).map(|t| share(power, t)).sum();
                assert_eq!(sum, power, "power {power} from term {start}");
            }
        }
    }

    #[test]
    fn seeded_member_keeps_power_by_electing_its_share() {
        let mut s = Seats::default();
        s.seed("a", 75, 10, 0);
        assert_eq!(s.raw_power(10, "a"), 75);
        let want = 75 - s.serving_before(11, "a");
        assert_eq!(want, share(75, 11));
        s.apply(11, "a", want, 100);
        assert_eq!(s.raw_power(11, "a"), 75);
        assert!(s.has_applied(11, "a") && !s.has_applied(12, "a"));
        assert_eq!(s.provisional(11, 99), vec![]);
        assert_eq!(s.provisional(11, 100), vec![("a".to_string(), want)]);
        assert_eq!(s.elected(11, 100), vec![("a".to_string(), want)]);
        assert_eq!(s.elected(11, 99), vec![], "not yet won at block 99");
    }

    #[test]
    fn newcomer_holds_its_whole_power_for_six_terms() {
        let mut s = Seats::default();
        assert_eq!(s.serving_before(3, "n"), 0);
        s.apply(3, "n", 9, 1);
        assert_eq!(
            (
                s.raw_power(2, "n"),
                s.raw_power(3, "n"),
                s.raw_power(8, "n")
            ),
            (0, 9, 9)
        );
        assert_eq!(
            s.serving_before(8, "n"),
            9,
            "no Election while its seats still serve"
        );
        assert_eq!((s.serving_before(9, "n"), s.raw_power(9, "n")), (0, 0));
    }
}
