//! The judge's stop step: the read-only estimate of what `test_posStopElection` would return, from the view in use
//! and the finalized terms the judge remembers, and whether Election transactions are still sent for the key.

use crate::assess::stop::{self, StopEstimate, StopInput, TermSeats};
use crate::assess::terms::{seat, upcoming};
use crate::state::PosObs;

/// The read-only stop estimate and whether elections are still sent, remembering the finalized terms seen.
pub(super) fn stop_verdicts(
    p: &PosObs,
    epoch: u64,
    latest: u64,
    seats: &mut TermSeats,
) -> (Option<StopEstimate>, Option<bool>) {
    let (Some(us), Some(c), Some(len)) = (p.address.as_ref(), &p.committee, p.epoch_length) else {
        return (None, None);
    };
    seats.record(c, us);
    let a = &p.activity;
    let schedule = upcoming(&c.elections, us);
    let estimate = stop::stop_estimate(&StopInput {
        upcoming: &schedule,
        term_len: len,
        seated_now: seat(&c.current_committee, us).is_some(),
        applied_for: stop::applied_term(a.last_election_target_term, epoch),
        seats,
    });
    let sending = stop::elections_sending(a.last_election_block, latest, len, p.backfilled);
    (estimate, sending)
}
