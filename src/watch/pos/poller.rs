//! One PoS poller per node, beside the chain poller: the PoS head in one small batch, then history requests until
//! the backlog is read or the poll's time budget is spent. Its requests have their own deadline, so a node that is
//! slow on history makes progress every poll without ever touching `conflux_up`; a node that drops every request
//! carrying a `pos_*` call (PoS not enabled) is reported as PoS unavailable, not down. While the node's own view
//! is stale (its PoS head stuck or far behind the references') or absent (node stopped), the verdicts about its
//! key are read from the best reference instead: head and history alike, each block still counted once.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::remote::RemoteView;
use super::PosSource;
use crate::assess::freshness::{self, Pace, ViewVerdict};
use crate::rpc::{Client, RpcError};
use crate::state::{Hub, PosDown, ViewSource};
use crate::watch::reference::ReferenceClients;
use crate::watch::Poller;

/// History requests allowed in one poll, so a poll always ends.
pub(crate) const MAX_HISTORY_REQUESTS: usize = 40;
/// Consecutive head timeouts tolerated before PoS counts as unavailable (slow is not down).
pub(crate) const HEAD_TIMEOUTS_TOLERATED: u32 = 2;

/// How often each side is polled: the freshness tolerances follow them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Intervals {
    /// The node's poll interval (this poller's).
    pub node: Duration,
    /// The references' poll interval: also the least time between two head reads of a reference on our behalf.
    pub reference: Duration,
}

/// Polls one node's PoS state and history.
pub(crate) struct PosPoller {
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
    /// The references a stale node's verdicts can be read from.
    references: Arc<ReferenceClients>,
    intervals: Intervals,
    remote: RemoteView,
    /// The node's chain id as last reported (references on another chain never stand in).
    chain_id: Option<u64>,
    /// The node's `latestFinalized` and when it last moved (the PoW side's sign of a stuck PoS).
    finalized: Option<freshness::Head>,
    /// Consecutive head timeouts (the poller's own memory, not configuration).
    head_timeouts: u32,
    /// Consecutive polls whose PoS request was dropped unanswered while the chain poll said up.
    no_answer_streak: u32,
}

impl Poller for PosPoller {
    async fn poll(&mut self) {
        self.pos.address_from_safety_file().await;
        let calls = self.pos.calls();
        // The head under the short RPC deadline, like the chain poll: a paused node must turn stale within a
        // poll or two, not after the history deadline (measured on the devnet: a 30 s wait outlived an epoch).
        let outcome = self.client.batch(&calls).await;
        let mut bad = match outcome {
            Err(RpcError::Timeout(_))
                if self.head_timeouts < HEAD_TIMEOUTS_TOLERATED
                    && self.pos.obs.local.status.is_some() =>
            {
                // Keep the last head: the node is slow, and the history below still makes progress.
                self.head_timeouts += 1;
                Vec::new()
            }
            Err(RpcError::Connect(e)) if self.chain_up() => {
                self.pos.apply(Err(RpcError::Connect(e)));
                self.pos.obs.down = Some(PosDown::NoAnswer);
                self.no_answer_streak = self.no_answer_streak.saturating_add(1);
                // Said on the second poll in a row: a node killed between the chain poll and this one closes
                // connections too, and is down (not PoS-less) by the next poll.
                if self.no_answer_streak == 2 {
                    tracing::warn!(node = %self.node, "the node closes the connection on pos_* calls while cfx_getStatus answers: PoS is not enabled on this node (or its port); PoS data unavailable");
                }
                Vec::new()
            }
            other => {
                self.head_timeouts = 0;
                self.no_answer_streak = 0;
                self.pos.apply(other)
            }
        };
        let source = self.choose_view(&mut bad).await;
        if let Some(client) = source {
            bad.extend(self.read_history(&client).await);
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
    pub(crate) fn new(
        node: String,
        client: Arc<Client>,
        hub: Arc<Hub>,
        pos: PosSource,
        timeout: Duration,
        intervals: Intervals,
        references: Arc<ReferenceClients>,
    ) -> Self {
        Self {
            node,
            client,
            hub,
            pos,
            timeout,
            budget: intervals.node,
            references,
            intervals,
            remote: RemoteView::default(),
            chain_id: None,
            finalized: None,
            head_timeouts: 0,
            no_answer_streak: 0,
        }
    }

    fn chain_up(&self) -> bool {
        let state = self.hub.lock();
        state.nodes.iter().any(|n| n.name == self.node && n.poll.up)
    }

    /// Judges the local view against the references' heads and picks the view the verdicts read: the node's own
    /// while fresh, else the best reference's (its head read at most once per reference interval), else none.
    /// Returns the client the history is read from.
    async fn choose_view(&mut self, bad: &mut Vec<&'static str>) -> Option<Arc<Client>> {
        let now = SystemTime::now();
        let (heads, finality) = {
            let state = self.hub.lock();
            let node = state.nodes.iter().find(|n| n.name == self.node);
            if let Some(c) = node.and_then(|n| n.chain.as_ref()) {
                self.chain_id = Some(c.status.chain_id.0);
                let f = c.status.latest_finalized.0;
                if self.finalized.is_none_or(|h| h.committed != f) {
                    self.finalized = Some(freshness::Head {
                        committed: f,
                        advanced_at: now,
                    });
                }
            }
            let best_final = freshness::best_head(state.reference_finality(self.chain_id));
            (state.reference_pos_heads(self.chain_id), best_final)
        };
        let best = freshness::best_head(heads.iter().map(|(_, h)| *h));
        let interval = self.pos.obs.ledger.block_interval_seconds();
        let pace = Pace {
            block_interval: interval,
            node_poll: self.intervals.node,
            reference_poll: self.intervals.reference,
        };
        let view = self.pos.obs.local.head();
        let local = match best {
            Some(_) => freshness::judge(view, best, &pace, now),
            None => freshness::judge_by_finality(view, self.finalized, finality, &pace, now),
        };
        let was = (self.pos.obs.view.source, self.pos.obs.view.local.is_some());
        self.pos.obs.view.local = Some(local);
        let chosen = if local.fresh {
            self.pos.choose(Some(ViewSource::Local), &self.remote.data);
            self.pos.obs.view.reference = None;
            Some(self.client.clone())
        } else {
            self.stand_in(&heads, best, &pace, now, bad).await
        };
        self.log_change(was, local);
        chosen
    }

    /// The best reference's view, read when due; `None` (verdicts unknown) when no reference serves a fresh one.
    async fn stand_in(
        &mut self,
        heads: &[(String, freshness::Head)],
        best: Option<freshness::Head>,
        pace: &Pace,
        now: SystemTime,
        bad: &mut Vec<&'static str>,
    ) -> Option<Arc<Client>> {
        let named = heads
            .iter()
            .filter(|(_, h)| Some(*h) == best)
            .find_map(|(n, _)| Some((n.clone(), self.references.get(n)?)));
        let Some((name, client)) = named else {
            self.remote.forget();
            self.pos.choose(None, &self.remote.data);
            self.pos.obs.view.reference = None;
            return None;
        };
        // Half a node poll of slack: the read is stamped mid-poll, so a strict bound would skip every other poll
        // (measured on the devnet: reads every 10 s instead of 5, and an at-risk epoch nearly missed).
        let every = self
            .remote_every(pace)
            .saturating_sub(self.intervals.node / 2);
        if self.remote.due(&name, every) {
            let calls = self.remote.calls(&name, self.pos.obs.address.as_ref());
            let outcome = client.batch(&calls).await;
            bad.extend(self.remote.apply(outcome, now));
        }
        // Read once per `remote_every`: it may sit that long behind the references' own, more frequent reads.
        let remote_pace = Pace {
            node_poll: self.remote_every(pace),
            ..*pace
        };
        let fresh = freshness::judge(self.remote.data.head(), best, &remote_pace, now).fresh;
        let source = fresh.then_some(ViewSource::Reference);
        self.pos.choose(source, &self.remote.data);
        self.pos.obs.view.reference = fresh.then_some(name);
        fresh.then_some(client)
    }

    /// How often the reference's view of our key is read: the reference interval (a public endpoint's daily
    /// budget), but at least four times per epoch, so a chain with short epochs (a devnet's 10 s) cannot end one
    /// between two reads; never more often than the node is polled.
    fn remote_every(&self, pace: &Pace) -> Duration {
        let epoch = self
            .pos
            .obs
            .epoch_length
            .zip(pace.block_interval)
            .map(|(len, i)| Duration::from_secs_f64(len as f64 * i / 4.0));
        epoch
            .map_or(self.intervals.reference, |e| {
                e.min(self.intervals.reference)
            })
            .max(self.intervals.node)
    }

    fn log_change(&self, was: (Option<ViewSource>, bool), local: ViewVerdict) {
        let view = &self.pos.obs.view;
        if was.0 == view.source && was.1 {
            return;
        }
        let (lag, node) = (local.lag_blocks, self.node.as_str());
        match view.source {
            Some(ViewSource::Local) if was.1 => {
                tracing::info!(
                    node,
                    "the node's PoS view is fresh again; verdicts read from it"
                )
            }
            Some(ViewSource::Local) => {}
            Some(ViewSource::Reference) => {
                tracing::warn!(node, lag_blocks = ?lag, reference = ?view.reference, "the node's PoS view is stale (behind the chain or not moving) or absent; the verdicts about its key are read from the reference")
            }
            None => {
                tracing::warn!(node, lag_blocks = ?lag, "no fresh PoS view (the node's is stale or absent and no reference serves pos_*): the verdicts about its key are unknown")
            }
        }
    }

    /// History requests until caught up, the budget is spent or a request fails (the next poll resumes there).
    async fn read_history(&mut self, client: &Client) -> Vec<&'static str> {
        let started = Instant::now();
        let mut bad = Vec::new();
        for _ in 0..MAX_HISTORY_REQUESTS {
            let Some(calls) = self.pos.extra_calls() else {
                break;
            };
            match client.batch_within(&calls, self.timeout).await {
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
        self.pos.obs.chain_id = self.chain_id;
        node.pos = Some(self.pos.obs.clone());
        drop(state);
        self.hub.changed();
    }
}
