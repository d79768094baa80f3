//! Verdicts about a PoS account's stake, from `pos_getAccount`: whether it was slashed, whether a force-retire
//! risk still means anything, and when its queues move next. Pure: the publisher only turns these into series.

use crate::rpc::pos::{Account, QueueItem};

/// An out-queue item this far ahead of the account's view is the dispute relock (518 400 blocks since CIP-156),
/// never an ordinary unlock (1 440–18 720 blocks), so the gap between the two is where the line goes.
pub(crate) const SLASH_RELOCK_MIN_BLOCKS: u64 = 500_000;

/// The double-vote penalty: a Dispute transaction named the address (`dispute_seen`), or its stake sits in an
/// out-queue item ending at least [`SLASH_RELOCK_MIN_BLOCKS`] after the view the account was read at.
pub(crate) fn slashed(account: &Account, dispute_seen: bool) -> bool {
    // Past the top of the range no block can be that far ahead.
    let Some(line) = account.block_number.0.checked_add(SLASH_RELOCK_MIN_BLOCKS) else {
        return dispute_seen;
    };
    dispute_seen
        || account
            .status
            .out_queue
            .iter()
            .any(|i| i.end_block_number.0 >= line)
}

/// The force-retire forecast once the account is known: an account that is already force-retired is not "at
/// risk" any more (the risk has materialised and `force_retired` carries it), so a decided verdict turns to
/// `false`; an undecided one (`None`) stays unknown — retirement does not make the history decidable.
pub(crate) fn risk_unless_retired(
    at_risk: Option<bool>,
    account: Option<&Account>,
) -> Option<bool> {
    let retired = account.is_some_and(|a| a.status.force_retired.is_some());
    at_risk.map(|r| r && !retired)
}

/// Votes held in a queue.
pub(crate) fn queued_votes(items: &[QueueItem]) -> u64 {
    items.iter().map(|i| i.power.0).sum()
}

/// The block at which the queue's next item matures (the earliest end); `None` for an empty queue.
pub(crate) fn next_maturity(items: &[QueueItem]) -> Option<u64> {
    items.iter().map(|i| i.end_block_number.0).min()
}

/// Seconds until block `end` at the observed block interval, counted from the latest committed block; 0 when it
/// has already passed.
pub(crate) fn seconds_until_block(end: u64, latest: u64, interval_seconds: f64) -> f64 {
    end.saturating_sub(latest) as f64 * interval_seconds
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::pos::AccountStatus;
    use crate::rpc::wire::HexU64;

    fn item(end: u64, power: u64) -> QueueItem {
        QueueItem {
            end_block_number: HexU64(end),
            power: HexU64(power),
        }
    }

    fn account(read_at: u64, out_queue: Vec<QueueItem>, retired: Option<u64>) -> Account {
        Account {
            address: crate::pos_address::PosAddress::parse(&"11".repeat(32)).unwrap(),
            block_number: HexU64(read_at),
            status: AccountStatus {
                available_votes: HexU64(0),
                forfeited: HexU64(0),
                force_retired: retired.map(HexU64),
                in_queue: vec![],
                locked: HexU64(0),
                out_queue,
                unlocked: HexU64(0),
            },
        }
    }

    #[test]
    fn slashing_is_a_dispute_or_the_long_relock() {
        let ordinary = account(1_000, vec![item(1_000 + 18_720, 5)], None);
        assert!(!slashed(&ordinary, false), "an ordinary unlock");
        assert!(slashed(&ordinary, true), "a Dispute naming us");
        let edge = account(
            1_000,
            vec![item(1_000 + SLASH_RELOCK_MIN_BLOCKS - 1, 5)],
            None,
        );
        assert!(!slashed(&edge, false));
        let relocked = account(1_000, vec![item(1_000 + 518_400, 5)], None);
        assert!(slashed(&relocked, false), "the dispute relock");
        let huge = account(u64::MAX - 1, vec![item(u64::MAX, 5)], None);
        assert!(
            !slashed(&huge, false),
            "no overflow near the top of the range"
        );
    }

    #[test]
    fn a_retired_account_is_not_at_risk_but_unknown_stays_unknown() {
        let active = account(1, vec![], None);
        let retired = account(1, vec![], Some(90));
        assert_eq!(risk_unless_retired(Some(true), Some(&active)), Some(true));
        assert_eq!(risk_unless_retired(Some(true), Some(&retired)), Some(false));
        assert_eq!(
            risk_unless_retired(Some(true), None),
            Some(true),
            "account unread: the forecast stands"
        );
        assert_eq!(risk_unless_retired(None, Some(&retired)), None);
        assert_eq!(risk_unless_retired(Some(false), Some(&active)), Some(false));
    }

    #[test]
    fn queues() {
        let q = [item(300, 2), item(200, 3)];
        assert_eq!(queued_votes(&q), 5);
        assert_eq!(next_maturity(&q), Some(200));
        assert_eq!(next_maturity(&[]), None);
        assert_eq!(seconds_until_block(200, 150, 0.5), 25.0);
        assert_eq!(seconds_until_block(100, 150, 0.5), 0.0, "already matured");
    }
}
