//! Conversions from facts to sample values, shared by every publisher so that a boolean, a time or an amount is
//! written the same way in every family (and no publisher grows its own copy).

use std::time::{SystemTime, UNIX_EPOCH};

/// Drip per CFX: the chain counts amounts in drip, the catalogue in CFX.
pub(crate) const DRIP_PER_CFX: f64 = 1e18;

/// Sets the gauge series of `family` with `labels` to `value`: the one way every publisher writes a sample.
pub(crate) fn set(family: &prometheus::GaugeVec, labels: &[&str], value: f64) {
    family.with_label_values(labels).set(value);
}

/// 1 for true, 0 for false.
pub(crate) fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// `now` in Unix seconds (0 for a clock before 1970, which no publish sees).
pub(crate) fn unix_seconds(now: SystemTime) -> f64 {
    now.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Age at `now` of a chain timestamp given in Unix seconds; 0 for a timestamp from the future (clock skew between
/// the node and us is not age).
pub(crate) fn age_seconds(now: SystemTime, timestamp_seconds: f64) -> f64 {
    (unix_seconds(now) - timestamp_seconds).max(0.0)
}

/// A drip amount in CFX.
pub(crate) fn cfx(drip: u128) -> f64 {
    drip as f64 / DRIP_PER_CFX
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_and_amounts() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(unix_seconds(now), 1_000.0);
        assert_eq!(age_seconds(now, 990.0), 10.0);
        assert_eq!(age_seconds(now, 1_010.0), 0.0, "future block: age 0");
        assert_eq!(cfx(2_500_000_000_000_000_000), 2.5);
        assert_eq!((flag(true), flag(false)), (1.0, 0.0));
    }
}
