//! One PoS poller per node, beside the chain poller: the PoS head in one small batch, then history requests until
//! the backlog is read or the poll's time budget is spent. Its requests have their own deadline, so a node that is
//! slow on history makes progress every poll without ever touching `conflux_up`; a node that drops every request
//! carrying a `pos_*` call (PoS not enabled) is reported as PoS unavailable, not down.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::pos::PosSource;
use super::Poller;
use crate::assess::forecast::Retirement;
use crate::assess::retire;
use crate::rpc::{Client, RpcError};
use crate::state::{Hub, PosDown, PosObs};

/// History requests allowed in one poll, so a poll always ends.
pub const MAX_HISTORY_REQUESTS: usize = 40;
/// Consecutive head timeouts tolerated before PoS counts as unavailable (slow is not down).
pub const HEAD_TIMEOUTS_TOLERATED: u32 = 2;

/// Polls one node's PoS state and history.
pub struct PosPoller {
    /// Node name (the `node` label).
    pub node: String,
    /// Client bound to the node's RPC URL.
    pub client: Arc<Client>,
    /// Shared state.
    pub hub: Arc<Hub>,
    /// The PoS source (head calls, tracker, ledger).
    pub pos: PosSource,
    /// Deadline of each PoS request.
    pub timeout: Duration,
    /// Time one poll may spend on history requests before the head is refreshed again.
    pub budget: Duration,
    /// Consecutive head timeouts (the poller's own memory, not configuration).
    head_timeouts: u32,
}

impl Poller for PosPoller {
    async fn poll(&mut self) {
        self.pos.address_from_safety_file().await;
        let calls = self.pos.calls();
        let outcome = self.client.batch_within(&calls, self.timeout).await;
        let mut bad = match outcome {
            Err(RpcError::Timeout(_))
                if self.head_timeouts < HEAD_TIMEOUTS_TOLERATED
                    && self.pos.obs.status.is_some() =>
            {
                // Keep the last head: the node is slow, and the history below still makes progress.
                self.head_timeouts += 1;
                Vec::new()
            }
            Err(RpcError::Connect(e)) if self.chain_up() => {
                let first = self.pos.obs.down != Some(PosDown::NoAnswer);
                self.pos.apply(Err(RpcError::Connect(e)));
                self.pos.obs.down = Some(PosDown::NoAnswer);
                if first {
                    tracing::warn!(node = %self.node, "the node closes the connection on pos_* calls while cfx_getStatus answers: PoS is not enabled on this node (or its port); PoS data unavailable");
                }
                Vec::new()
            }
            other => {
                self.head_timeouts = 0;
                self.pos.apply(other)
            }
        };
        if self.pos.obs.status.is_some() {
            bad.extend(self.read_history().await);
        }
        if !bad.is_empty() {
            self.client.count_malformed(bad.len(), "malformed answer");
            tracing::warn!(node = %self.node, methods = ?bad, "malformed PoS answers ignored (counted as decode errors); asked again next poll");
        }
        self.record();
    }
}

impl PosPoller {
    /// A poller for `node`; `timeout` bounds each PoS request, `budget` the history reads of one poll.
    pub fn new(
        node: String,
        client: Arc<Client>,
        hub: Arc<Hub>,
        pos: PosSource,
        timeout: Duration,
        budget: Duration,
    ) -> Self {
        Self {
            node,
            client,
            hub,
            pos,
            timeout,
            budget,
            head_timeouts: 0,
        }
    }

    fn chain_up(&self) -> bool {
        let state = self.hub.lock();
        state.nodes.iter().any(|n| n.name == self.node && n.poll.up)
    }

    /// History requests until caught up, the budget is spent or a request fails (the next poll resumes there).
    async fn read_history(&mut self) -> Vec<&'static str> {
        let started = Instant::now();
        let mut bad = Vec::new();
        for _ in 0..MAX_HISTORY_REQUESTS {
            let Some(calls) = self.pos.extra_calls() else {
                break;
            };
            match self.client.batch_within(&calls, self.timeout).await {
                Ok(results) => bad.extend(self.pos.apply_extra(results)),
                Err(e) => {
                    tracing::debug!(node = %self.node, error = %e, calls = calls.len(), "history request failed; the next one is smaller after a timeout, and reading resumes where it stopped");
                    self.pos.history_failed(&e);
                    break;
                }
            }
            if started.elapsed() >= self.budget {
                break;
            }
        }
        bad
    }

    fn record(&mut self) {
        let mut state = self.hub.lock();
        let Some(node) = state.node_mut(&self.node) else {
            return;
        };
        let chain_id = node.chain.as_ref().map(|c| c.status.chain_id.0);
        check_forecast(&self.node, &mut self.pos.obs, chain_id);
        node.pos = Some(self.pos.obs.clone());
        drop(state);
        self.hub.changed();
    }
}

/// Remembers each epoch end we forecast as retiring us, and judges every retirement the chain applies while we
/// watch against those forecasts: a retirement we did not forecast is counted and logged at error level.
fn check_forecast(node: &str, obs: &mut PosObs, chain_id: Option<u64>) {
    let Some(s) = &obs.status else { return };
    let transition =
        crate::assess::window::cip99_transition_view(chain_id, obs.cip99_transition_view);
    let grid = obs.epoch_length.zip(obs.grid_point);
    let j = retire::judge(
        &obs.ledger,
        s.epoch.0,
        s.latest_committed.0,
        grid,
        transition,
    );
    if let (Some(true), Some(end), true) = (j.verdict.at_risk, j.epoch_end, obs.backfilled) {
        obs.forecast.flag(end);
    }
    let Some(account) = &obs.account else { return };
    let retired = account.status.force_retired.map(|v| v.0);
    let (epoch, latest) = (s.epoch.0, s.latest_committed.0);
    match obs.forecast.observe(retired) {
        Some(Retirement::Missed(view)) => {
            let ended = ended_epoch(epoch, latest, view, obs.epoch_length);
            tracing::error!(node, view, epoch = ended, window_epochs = j.window, "the chain force-retired our address at the end of an epoch for which we had not forecast it (conflux_pos_force_retire_at_risk was not 1): the forecast rule is wrong for this chain; check pos.cip99_transition_view");
        }
        Some(Retirement::Forecast(view)) => {
            tracing::warn!(
                node,
                view,
                "the chain force-retired our address, as forecast"
            );
        }
        Some(Retirement::AlreadyRetired(view)) => {
            tracing::info!(node, view, "our address was already force-retired when first observed; not judged against a forecast");
        }
        None => {}
    }
}

/// The epoch that ended at the epoch-ending block `view`, from the current epoch and height.
fn ended_epoch(epoch: u64, latest: u64, view: u64, len: Option<u64>) -> Option<u64> {
    let behind = latest.checked_sub(view)? / len.filter(|l| *l > 0)?;
    epoch.checked_sub(1 + behind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ended_epoch_is_counted_back_from_the_current_one() {
        assert_eq!(ended_epoch(104, 1031, 1030, Some(10)), Some(103));
        assert_eq!(ended_epoch(105, 1041, 1030, Some(10)), Some(103));
        assert_eq!(ended_epoch(104, 1031, 1030, None), None);
        assert_eq!(ended_epoch(104, 1020, 1030, Some(10)), None);
    }
}
