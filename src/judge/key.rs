//! What the chain's view says about our key beyond the force-retire rule: seats, candidacies, stake queues,
//! slashing, and the seconds to each block that matters. Computed from the view in use (see `NodeState::chain_view`),
//! so they hold while the node's own view is stale or the node is down.

use std::time::SystemTime;

use super::PosVerdicts;
use crate::assess::retire;
use crate::assess::stake::{next_maturity, queued_votes, seconds_until_block, slashed};
use crate::assess::stop::StopEstimate;
use crate::assess::terms::{free_to_stop, schedule, seat, upcoming, Term, Upcoming};
use crate::state::PosObs;

/// The next maturity of one stake queue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Maturity {
    /// `in_queue` or `out_queue`.
    pub queue: &'static str,
    /// The PoS block at which its next item locks or unlocks.
    pub block: u64,
    /// Seconds until then at the observed block interval.
    pub seconds: Option<f64>,
}

/// Verdicts about the key a node holds, from the view in use.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct KeyVerdicts {
    /// The current committee is known: the key's voting power in it (`None`: not a member).
    pub seat: Option<Option<u64>>,
    /// The two upcoming terms as seen for the key.
    pub candidacies: Vec<Upcoming>,
    /// The two upcoming terms' start blocks (the chain's, the same for every key).
    pub terms: Vec<(Term, u64)>,
    /// Votes in the lock and unlock queues.
    pub queued: Option<(u64, u64)>,
    /// Each non-empty queue's next maturity.
    pub maturities: Vec<Maturity>,
    /// The chain has forfeited the key's votes or recorded a Dispute against it.
    pub slashed: Option<bool>,
    /// No seat now nor in either upcoming term: stopping misses no vote.
    pub free_to_stop: Option<bool>,
    /// Seconds until the epoch end that retires the key, while at risk.
    pub retire_eta_seconds: Option<f64>,
    /// The downtime budget in seconds.
    pub budget_seconds: Option<f64>,
    /// Seconds until the key is in no committee (0 when it is in none), at the observed block interval.
    pub stop_seconds: Option<f64>,
    /// Our signed share in each of the last epochs, as (epochs before the current one, share).
    pub epoch_signed: Vec<(u64, f64)>,
}

/// The key verdicts of the view `p` at `now`, given its force-retire verdicts.
pub(crate) fn key_verdicts(p: &PosObs, v: &PosVerdicts, now: SystemTime) -> KeyVerdicts {
    let mut k = KeyVerdicts::default();
    if let Some(c) = &p.committee {
        k.terms = schedule(&c.elections)
            .into_iter()
            .map(|(t, e)| (t, e.start_block_number.0))
            .collect();
    }
    let Some(address) = p.address.as_ref() else {
        return k;
    };
    let interval = p.ledger.block_interval_seconds();
    let latest = p.status.as_ref().map(|s| s.latest_committed.0);
    if let Some(s) = &p.status {
        k.epoch_signed = p.ledger.participation.slots(s.epoch.0);
    }
    if let Some(c) = &p.committee {
        k.seat = Some(seat(&c.current_committee, address));
        k.candidacies = upcoming(&c.elections, address);
        k.free_to_stop = Some(free_to_stop(c, address));
    }
    if let Some(a) = &p.account {
        let st = &a.status;
        k.queued = Some((queued_votes(&st.in_queue), queued_votes(&st.out_queue)));
        for (queue, items) in [("in_queue", &st.in_queue), ("out_queue", &st.out_queue)] {
            if let Some(block) = next_maturity(items) {
                let seconds = interval
                    .zip(latest)
                    .map(|(i, l)| seconds_until_block(block, l, i));
                k.maturities.push(Maturity {
                    queue,
                    block,
                    seconds,
                });
            }
        }
        k.slashed = Some(slashed(a, p.activity.dispute_seen));
    }
    let since_latest = seconds_since(p.latest_committed_seen_at, now);
    if let (Some((_, Some(true))), Some(r), Some(i)) = (v.retire, v.remaining, interval) {
        k.retire_eta_seconds = Some(retire::eta_seconds(r, i, since_latest));
    }
    if let (Some(b), Some(i)) = (v.budget, interval) {
        k.budget_seconds = Some(retire::eta_seconds(b.blocks, i, since_latest));
    }
    k.stop_seconds = match (v.stop, interval, latest) {
        (Some(StopEstimate::Free), _, _) => Some(0.0),
        (Some(StopEstimate::After(block)), Some(i), Some(l)) => Some(retire::eta_seconds(
            block.saturating_sub(l),
            i,
            since_latest,
        )),
        _ => None,
    };
    k
}

/// Seconds from `t` to `now`; 0 when `t` is unknown or in the future (the ETAs then count from the last head).
fn seconds_since(t: Option<SystemTime>, now: SystemTime) -> f64 {
    t.and_then(|t| now.duration_since(t).ok())
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn seconds_since_the_head_never_negative() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(seconds_since(Some(now - Duration::from_secs(5)), now), 5.0);
        assert_eq!(seconds_since(Some(now + Duration::from_secs(5)), now), 0.0);
        assert_eq!(seconds_since(None, now), 0.0);
    }
}
