//! One chain poller per node. Liveness is `cfx_getStatus` alone, in its own request: nothing heavy may ride with
//! it, so a node that is slow on history reads (or that drops every request carrying a `pos_*` call, as a node
//! without PoS does) is never reported down. The light chain calls (version, blocks, sync phase, peers) go in a
//! second request sent at the same time. PoS has its own poller ([`crate::watch::pos::poller`]).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc::UnboundedSender;

use crate::rpc::{Answer, Client, RpcError};
use crate::state::{remember_hash, ChainObs, Hub};
use crate::watch::chain;
use crate::watch::Poller;

/// Polls one node's chain status.
pub(crate) struct ChainPoller {
    /// Node name (the `node` label).
    pub node: String,
    /// Client bound to the node's RPC URL.
    pub client: Arc<Client>,
    /// Shared state.
    pub hub: Arc<Hub>,
    /// Told about each chain id seen, so references can be picked automatically.
    pub chain_ids: Option<UnboundedSender<u64>>,
    /// A node whose status calls only time out is reported down once no status has answered for this long: a
    /// slow node is not a down node. Refused connections and error answers count at once.
    pub down_after: Duration,
}

type ChainOutcome = Result<(ChainObs, Option<(u64, String)>), RpcError>;

impl Poller for ChainPoller {
    async fn poll(&mut self) {
        let calls = chain::calls();
        let (status, light) = tokio::join!(
            self.client.batch(&calls[..1]),
            self.client.batch(&calls[1..])
        );
        let now = SystemTime::now();
        let status_answered = status.is_ok();
        let mut results: Vec<Answer> = match status {
            Ok(mut r) => vec![r.pop().unwrap_or(Err(RpcError::decode("missing answer")))],
            Err(e) => vec![Err(e)],
        };
        match light {
            Ok(r) => results.extend(r),
            Err(e) => results.extend((1..calls.len()).map(|_| Err(e.clone()))),
        }
        let outcome = chain::apply(&calls, results);
        let malformed: Vec<&str> = match &outcome {
            Ok((obs, _)) => obs.malformed.clone(),
            Err(RpcError::Decode(_)) if status_answered => vec!["cfx_getStatus"],
            Err(_) => Vec::new(),
        };
        if !malformed.is_empty() {
            self.client
                .count_malformed(malformed.len(), "malformed answer");
            tracing::warn!(node = %self.node, methods = ?malformed, "malformed answers ignored (counted as decode errors); asked again next poll");
        }
        self.record(outcome, now);
    }
}

impl ChainPoller {
    fn record(&mut self, outcome: ChainOutcome, now: SystemTime) {
        let mut state = self.hub.lock();
        let Some(node) = state.node_mut(&self.node) else {
            return;
        };
        match outcome {
            Ok((obs, confirmed)) => {
                if !node.poll.up {
                    tracing::info!(node = %self.node, url = %self.client.display_url(), epoch = obs.status.epoch_number.0, "node reachable");
                }
                for m in &obs.unavailable {
                    if node
                        .chain
                        .as_ref()
                        .is_none_or(|c| !c.unavailable.contains(m))
                    {
                        tracing::warn!(node = %self.node, method = m, "the node's port does not serve this method (-32601); point rpc_url at the local port jsonrpc_local_http_port (12539) which serves cfx, pos, test and debug");
                    }
                }
                if let Some((epoch, hash)) = confirmed {
                    remember_hash(&mut node.confirmed_hashes, epoch, hash);
                }
                if let Some(tx) = &self.chain_ids {
                    let _ = tx.send(obs.status.chain_id.0);
                }
                node.poll.succeeded(now);
                node.chain = Some(obs);
            }
            Err(e) if slow_not_down(&e, node.poll.last_success, now, self.down_after) => {
                node.poll.slow(e.to_string());
                tracing::debug!(node = %self.node, error = %e, "status call timed out; the node counts as slow, not down, until it stays silent for poll.node_down_after");
            }
            Err(e) => {
                let text = e.to_string();
                if node.poll.failed(e.kind(), text.clone()) {
                    tracing::warn!(node = %self.node, url = %self.client.display_url(), error = %text, kind = e.kind(),
                        "node unreachable: is conflux running with jsonrpc_local_http_port enabled at this address?");
                }
                node.chain = None;
            }
        }
        drop(state);
        self.hub.changed();
    }
}

/// A timeout while the node answered recently is slowness, not an outage.
fn slow_not_down(
    e: &RpcError,
    last_success: Option<SystemTime>,
    now: SystemTime,
    down_after: Duration,
) -> bool {
    matches!(e, RpcError::Timeout(_))
        && last_success
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age < down_after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_long_silence_turns_slowness_into_down() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let timeout = RpcError::Timeout(Duration::from_secs(4));
        let after = Duration::from_secs(30);
        let at = |s| t0 + Duration::from_secs(s);
        assert!(slow_not_down(&timeout, Some(t0), at(29), after));
        assert!(!slow_not_down(&timeout, Some(t0), at(30), after));
        assert!(
            !slow_not_down(&timeout, None, at(1), after),
            "never answered"
        );
        let refused = RpcError::Connect("refused".into());
        assert!(
            !slow_not_down(&refused, Some(t0), at(1), after),
            "a refused connection is down at once"
        );
    }
}
