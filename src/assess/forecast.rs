//! The forecast's self-check: every force-retirement the chain applies while we watch is compared with the epoch
//! ends we flagged as retiring us. A retirement we did not forecast means our rule is wrong for this chain (a
//! look-back window that does not match the node's CIP-99 transition view), and the operator must hear about it:
//! the exporter's core promise would otherwise be silently broken.

use std::collections::BTreeSet;

/// How many flagged epoch ends are remembered: far more than a retirement can lag behind its forecast.
pub(crate) const FLAGGED_ENDS_KEPT: usize = 16;

/// The self-check of the force-retire forecast: the epoch ends we flagged as retiring us, and the chain's
/// `forceRetired` as last seen, so each retirement that happens while we watch is judged exactly once.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ForecastCheck {
    /// Epoch-ending blocks at which we forecast our retirement (the most recent ones).
    pub flagged_ends: BTreeSet<u64>,
    /// `forceRetired` of the account when first observed and after each change (`Some(None)`: not retired).
    pub seen_force_retired: Option<Option<u64>>,
    /// Retirements we did not forecast, while watching.
    pub missed_total: u64,
}

/// A change of the account's `forceRetired` seen by [`ForecastCheck::observe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retirement {
    /// Already retired when first observed: nothing to judge.
    AlreadyRetired(u64),
    /// Retired at this view while we watched, as forecast.
    Forecast(u64),
    /// Retired at this view while we watched, without our forecast.
    Missed(u64),
}

impl ForecastCheck {
    /// Remembers that we forecast a retirement at the epoch-ending block `end`.
    pub(crate) fn flag(&mut self, end: u64) {
        self.flagged_ends.insert(end);
        while self.flagged_ends.len() > FLAGGED_ENDS_KEPT {
            self.flagged_ends.pop_first();
        }
    }

    /// Feeds `forceRetired` seen after a stretch without any fresh view of the chain: the change is recorded but
    /// not judged (we could not forecast what we could not see; the blind stretch is its own alert). Returns the
    /// retirement view when one appeared.
    pub(crate) fn observe_unjudged(&mut self, force_retired: Option<u64>) -> Option<u64> {
        if self.seen_force_retired == Some(force_retired) {
            return None;
        }
        let first = self.seen_force_retired.is_none();
        self.seen_force_retired = Some(force_retired);
        force_retired.filter(|_| !first)
    }

    /// Feeds the account's current `forceRetired`; returns what changed, counting misses.
    pub(crate) fn observe(&mut self, force_retired: Option<u64>) -> Option<Retirement> {
        let first = self.seen_force_retired.is_none();
        if self.seen_force_retired == Some(force_retired) {
            return None;
        }
        self.seen_force_retired = Some(force_retired);
        let view = force_retired?;
        if first {
            return Some(Retirement::AlreadyRetired(view));
        }
        if forecast_missed(&self.flagged_ends, view) {
            self.missed_total += 1;
            Some(Retirement::Missed(view))
        } else {
            Some(Retirement::Forecast(view))
        }
    }
}

/// The chain's verdict against ours: the chain force-retired us at view `retired_at` (an epoch-ending block), and
/// `flagged_ends` are the epoch-ending blocks we forecast as retiring us while watching. A retirement at an end we
/// never flagged is a forecast miss, which the operator must hear about.
pub(crate) fn forecast_missed(flagged_ends: &BTreeSet<u64>, retired_at: u64) -> bool {
    !flagged_ends.contains(&retired_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_retirement_seen_while_watching_is_judged_once() {
        let mut c = ForecastCheck::default();
        assert_eq!(c.observe(None), None, "first look: not retired");
        c.flag(1030);
        assert_eq!(c.observe(Some(1030)), Some(Retirement::Forecast(1030)));
        assert_eq!(c.observe(Some(1030)), None, "judged once");
        assert_eq!(c.observe(None), None, "the retirement ended");
        assert_eq!(c.observe(Some(2040)), Some(Retirement::Missed(2040)));
        assert_eq!(c.missed_total, 1);
        let mut blind = ForecastCheck::default();
        assert_eq!(blind.observe_unjudged(None), None);
        assert_eq!(blind.observe_unjudged(Some(50)), Some(50));
        assert_eq!(blind.observe(Some(50)), None, "recorded, not judged again");
        assert_eq!(blind.missed_total, 0);
        let mut late = ForecastCheck::default();
        assert_eq!(late.observe(Some(7)), Some(Retirement::AlreadyRetired(7)));
        assert_eq!(
            late.missed_total, 0,
            "a retirement before we watched is not ours to judge"
        );
        for e in 0..40 {
            late.flag(e * 10);
        }
        assert_eq!(late.flagged_ends.len(), FLAGGED_ENDS_KEPT);
    }

    #[test]
    fn a_retirement_we_did_not_flag_is_a_forecast_miss() {
        let flagged: BTreeSet<u64> = [1030].into_iter().collect();
        assert!(!forecast_missed(&flagged, 1030));
        assert!(forecast_missed(&flagged, 1040));
        assert!(forecast_missed(&Default::default(), 100));
    }
}
