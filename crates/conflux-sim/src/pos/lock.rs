//! One node's stake through its lock stages: in-queue -> locked -> out-queue -> unlocked.
//!
//! Mirrors conflux-rust's `NodeLockStatus` (docs/node-facts.md#pos-rules) because the exporter reads these
//! numbers straight from `pos_getAccount` and predicts from them. Simplifications: no pre-CIP-156 forfeit (so
//! `forfeited` is always 0), and queues are kept sorted by exit view (the node sorts lazily, which can only
//! change the order items are printed in).

/// Votes waiting for `end` (the view at which they move on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QueueItem {
    /// View at which the item leaves the queue (`endBlockNumber`).
    pub end: u64,
    /// Votes in the item (`power`).
    pub power: u64,
}

/// A node's stake at one view.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LockStatus {
    /// New stake on its way to `locked`.
    pub in_queue: Vec<QueueItem>,
    /// Stake past the in-queue.
    pub locked: u64,
    /// Stake on its way out.
    pub out_queue: Vec<QueueItem>,
    /// Cumulative stake that left the out-queue (withdrawable on PoW).
    pub unlocked: u64,
    /// View of the force-retirement while it is in force.
    pub force_retired: Option<u64>,
}

fn push_sorted(queue: &mut Vec<QueueItem>, item: QueueItem) {
    let at = queue.partition_point(|q| q.end <= item.end);
    queue.insert(at, item);
}

fn total(queue: &[QueueItem]) -> u64 {
    queue.iter().map(|q| q.power).sum()
}

impl LockStatus {
    /// Stake already locked at start (the node's `initialize_mode`): no queue to wait in.
    pub fn initial(votes: u64) -> Self {
        Self {
            locked: votes,
            ..Self::default()
        }
    }

    /// `availableVotes`: what may still serve in committees.
    pub fn available(&self) -> u64 {
        total(&self.in_queue) + self.locked
    }

    /// Moves matured items on and lifts an expired force-retirement, as `next_view` does at `view`.
    pub fn update(&mut self, view: u64, force_retired_views: u64) {
        let matured = self.in_queue.partition_point(|q| q.end <= view);
        self.locked += total(&self.in_queue[..matured]);
        self.in_queue.drain(..matured);
        let matured = self.out_queue.partition_point(|q| q.end <= view);
        self.unlocked += total(&self.out_queue[..matured]);
        self.out_queue.drain(..matured);
        if self
            .force_retired
            .is_some_and(|fr| view >= fr.saturating_add(force_retired_views))
        {
            self.force_retired = None;
        }
    }

    /// New stake (`UpdateVotingPower`). While force-retired it goes straight to the out-queue, after both
    /// delays, and does not count as available.
    pub fn new_lock(&mut self, view: u64, votes: u64, in_views: u64, out_views: u64) {
        if votes == 0 {
            return;
        }
        if self.force_retired.is_some() {
            push_sorted(
                &mut self.out_queue,
                QueueItem {
                    end: view.saturating_add(in_views).saturating_add(out_views),
                    power: votes,
                },
            );
        } else {
            push_sorted(
                &mut self.in_queue,
                QueueItem {
                    end: view.saturating_add(in_views),
                    power: votes,
                },
            );
        }
    }

    /// Retires `votes` (`Retire`): locked stake first (exit `view + out`), then in-queue items oldest first,
    /// each exiting `out` views after it would have been locked.
    pub fn new_unlock(&mut self, view: u64, votes: u64, out_views: u64) {
        let from_locked = votes.min(self.locked);
        let mut rest = votes - from_locked;
        if from_locked > 0 {
            self.locked -= from_locked;
            push_sorted(
                &mut self.out_queue,
                QueueItem {
                    end: view.saturating_add(out_views),
                    power: from_locked,
                },
            );
        }
        while rest > 0 && !self.in_queue.is_empty() {
            let first = &mut self.in_queue[0];
            let taken = first.power.min(rest);
            let end = first.end.saturating_add(out_views);
            first.power -= taken;
            if first.power == 0 {
                self.in_queue.remove(0);
            }
            rest -= taken;
            push_sorted(&mut self.out_queue, QueueItem { end, power: taken });
        }
    }

    /// Force-retirement at `view`: everything available starts leaving. Returns false if already retired
    /// (the node keeps the first retirement view).
    pub fn force_retire(&mut self, view: u64, out_views: u64) -> bool {
        if self.force_retired.is_some() {
            return false;
        }
        self.new_unlock(view, self.available(), out_views);
        self.force_retired = Some(view);
        true
    }

    /// CIP-156 dispute penalty: if anything is available, all stake (in-queue, locked, out-queue) becomes one
    /// out-queue item ending at `deadline` and `forceRetired` is cleared. Returns whether anything moved (a node
    /// whose stake is entirely in the out-queue escapes, the gap CIP-173 later closed).
    pub fn dispute_relock(&mut self, deadline: u64) -> bool {
        if self.available() == 0 {
            return false;
        }
        let all = self.available() + total(&self.out_queue);
        self.in_queue.clear();
        self.locked = 0;
        self.out_queue = vec![QueueItem {
            end: deadline,
            power: all,
        }];
        self.force_retired = None;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(end: u64, power: u64) -> QueueItem {
        QueueItem { end, power }
    }

    #[test]
    fn stake_matures_through_both_queues() {
        let mut s = LockStatus::default();
        s.new_lock(100, 5, 10, 3);
        assert_eq!((s.available(), s.locked), (5, 0));
        s.update(109, 3);
        assert_eq!(s.in_queue, vec![q(110, 5)]);
        s.update(110, 3);
        assert_eq!((s.in_queue.len(), s.locked, s.available()), (0, 5, 5));
        s.new_unlock(120, 2, 3);
        assert_eq!(
            (s.locked, s.available(), s.out_queue.clone()),
            (3, 3, vec![q(123, 2)])
        );
        s.update(123, 3);
        assert_eq!((s.out_queue.len(), s.unlocked), (0, 2));
    }

    #[test]
    fn unlock_pulls_in_queue_oldest_first_after_locked() {
        let mut s = LockStatus::initial(2);
        s.new_lock(10, 4, 100, 7);
        s.new_lock(20, 4, 100, 7);
        s.new_unlock(30, 7, 7);
        assert_eq!(s.locked, 0);
        assert_eq!(s.in_queue, vec![q(120, 3)]);
        assert_eq!(s.out_queue, vec![q(37, 2), q(117, 4), q(127, 1)]);
        assert_eq!(s.available(), 3);
    }

    #[test]
    fn force_retire_unlocks_everything_and_expires() {
        let mut s = LockStatus::initial(10);
        s.new_lock(5, 4, 50, 8);
        assert!(s.force_retire(20, 8));
        assert!(
            !s.force_retire(21, 8),
            "a second retirement keeps the first view"
        );
        assert_eq!(s.force_retired, Some(20));
        assert_eq!(s.available(), 0);
        assert_eq!(s.out_queue, vec![q(28, 10), q(63, 4)]);
        s.new_lock(22, 3, 50, 8);
        assert_eq!(
            s.available(),
            0,
            "stake added while retired is not available"
        );
        assert!(s.out_queue.contains(&q(80, 3)));
        s.update(27, 8);
        assert_eq!(s.force_retired, Some(20));
        s.update(28, 8);
        assert_eq!((s.force_retired, s.unlocked), (None, 10));
    }

    #[test]
    fn dispute_relocks_all_stake_once() {
        let mut s = LockStatus::initial(6);
        s.new_lock(1, 2, 100, 5);
        s.new_unlock(2, 1, 5);
        s.force_retired = Some(3);
        assert!(s.dispute_relock(1000));
        assert_eq!(s.out_queue, vec![q(1000, 8)]);
        assert_eq!(
            (s.available(), s.locked, s.in_queue.len(), s.force_retired),
            (0, 0, 0, None)
        );
        assert!(
            !s.dispute_relock(2000),
            "nothing available: nothing to relock"
        );
        assert_eq!(s.out_queue, vec![q(1000, 8)]);
    }
}
