//! One poller per node. Each poll is one HTTP request carrying the chain source's calls and the PoS source's
//! calls in a single batch; the answers are split back to their sources and the facts written to the state.
//! Only a PoS backlog larger than a batch (start-up backfill, catch-up after an outage) adds extra requests.

use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::mpsc::UnboundedSender;

use super::chain;
use super::pos::PosSource;
use super::Poller;
use crate::rpc::Client;
use crate::state::{remember_hash, Hub};

/// Extra backlog requests allowed in one poll, so a poll always ends.
pub const MAX_EXTRA_REQUESTS: usize = 40;

/// Polls one node.
pub struct NodePoller {
    /// Node name (the `node` label).
    pub node: String,
    /// Client bound to the node's RPC URL.
    pub client: Arc<Client>,
    /// Shared state.
    pub hub: Arc<Hub>,
    /// Told about each chain id seen, so references can be picked automatically.
    pub chain_ids: Option<UnboundedSender<u64>>,
    /// PoS part.
    pub pos: PosSource,
}

impl Poller for NodePoller {
    async fn poll(&mut self) {
        self.pos.address_from_safety_file().await;
        let mut calls = chain::calls();
        let n_chain = calls.len();
        calls.extend(self.pos.calls());
        let outcome = self.client.batch(&calls).await;
        let now = SystemTime::now();
        let (chain_part, pos_part) = match outcome {
            Ok(mut results) => {
                let pos = results.split_off(n_chain.min(results.len()));
                (chain::apply(&calls[..n_chain], results), Ok(pos))
            }
            Err(e) => (Err(e.clone()), Err(e)),
        };
        let mut bad = self.pos.apply(pos_part);
        if chain_part.is_ok() {
            bad += self.catch_up().await;
        }
        if bad > 0 {
            tracing::warn!(node = %self.node, malformed = bad, "malformed PoS answers ignored; they are asked again next poll");
        }
        self.record(chain_part, now);
    }
}

impl NodePoller {
    /// Extra requests while the PoS backlog exceeds one batch; stops when a request makes no progress.
    async fn catch_up(&mut self) -> usize {
        let mut bad = 0;
        for _ in 0..MAX_EXTRA_REQUESTS {
            let Some(calls) = self.pos.extra_calls() else {
                break;
            };
            match self.client.batch(&calls).await {
                Ok(results) => {
                    let before = self.pos.obs.ledger.last_height;
                    let n_bad = self.pos.apply_extra(results);
                    bad += n_bad;
                    if n_bad == calls.len()
                        || (self.pos.caught_up() && before == self.pos.obs.ledger.last_height)
                    {
                        break;
                    }
                }
                Err(e) => {
                    tracing::debug!(node = %self.node, error = %e, "backlog request failed; retrying next poll");
                    break;
                }
            }
        }
        bad
    }

    fn record(
        &mut self,
        chain_part: Result<(crate::state::ChainObs, Option<(u64, String)>), crate::rpc::RpcError>,
        now: SystemTime,
    ) {
        let mut state = self.hub.lock();
        let Some(node) = state.node_mut(&self.node) else {
            return;
        };
        match chain_part {
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
                node.pos = Some(self.pos.obs.clone());
            }
            Err(e) => {
                let text = e.to_string();
                if node.poll.failed(e.kind(), text.clone()) {
                    tracing::warn!(node = %self.node, url = %self.client.display_url(), error = %text, kind = e.kind(),
                        "node unreachable: is conflux running with jsonrpc_local_http_port enabled at this address?");
                }
                node.chain = None;
                node.pos = None;
            }
        }
        drop(state);
        self.hub.changed();
    }
}
