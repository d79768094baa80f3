//! Reference watcher: one batch per poll to a public RPC: its status (best epoch, chain id) plus the pivot block
//! at the confirmed epochs the nodes recently reported, for the fork check. A reference on another chain than
//! every node is marked unusable (`chain_mismatch`) rather than producing a meaningless lag.

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::json;

use crate::assess::freshness::Head;
use crate::rpc::cfx::{Block, Status};
use crate::rpc::pos::PosStatus;
use crate::rpc::text::{bounded_to, RemoteText};
use crate::rpc::wire::to_hex;
use crate::rpc::{decode, Call, Client, RpcError};
use crate::state::{remember_hash, Hub};

use super::chain::MAX_VERSION_LABEL;

/// The reference clients by name, shared with the PoS pollers: a stale node's verdicts are read through the same
/// client (and so the same error counters, deadline and size cap) as the reference's own polls. Automatic
/// references join when their chain id is learned.
#[derive(Default)]
pub(crate) struct ReferenceClients(std::sync::Mutex<Vec<(String, Arc<Client>)>>);

impl ReferenceClients {
    /// Registers `client` under `name`.
    pub(crate) fn add(&self, name: &str, client: Arc<Client>) {
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        all.retain(|(n, _)| n != name);
        all.push((name.to_string(), client));
    }

    /// The client of reference `name`.
    pub(crate) fn get(&self, name: &str) -> Option<Arc<Client>> {
        let all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        all.iter().find(|(n, _)| n == name).map(|(_, c)| c.clone())
    }
}

/// At most this many hash look-ups per poll, so many nodes cannot blow the reference's per-method quota.
pub(crate) const MAX_HASH_LOOKUPS: usize = 4;
/// `cfx_clientVersion` joins the batch while the reference's version is unknown and then once every this many
/// polls (an hour at the default 15 s): a version changes at upgrades only, and each call counts against a
/// public endpoint's daily quota.
pub(crate) const VERSION_EVERY_POLLS: u64 = 240;
/// While the version is unknown (the reference down or not answering it), it is asked again this often (every
/// 5 minutes at 15 s), not at every poll.
pub(crate) const VERSION_RETRY_POLLS: u64 = 20;

/// Polls one reference.
pub(crate) struct ReferenceWatcher {
    /// Reference name (the `reference` label).
    pub name: String,
    /// Client bound to the reference URL.
    pub client: Arc<Client>,
    /// Shared state.
    pub hub: Arc<Hub>,
    /// Polls since the version was last asked for (`None`: never asked).
    pub polls_since_version: Option<u64>,
}

impl super::Poller for ReferenceWatcher {
    async fn poll(&mut self) {
        let known = {
            let state = self.hub.lock();
            state
                .references
                .iter()
                .any(|r| r.name == self.name && r.version.is_some())
        };
        let every = if known {
            VERSION_EVERY_POLLS
        } else {
            VERSION_RETRY_POLLS
        };
        let ask = self.polls_since_version.is_none_or(|n| n + 1 >= every);
        self.polls_since_version = Some(match (ask, self.polls_since_version) {
            (false, Some(n)) => n + 1,
            _ => 0,
        });
        self.poll_once(ask).await
    }
}

impl ReferenceWatcher {
    /// Epochs worth asking about: the newest confirmed epoch of each node the reference has no hash for yet.
    fn wanted_epochs(&self) -> Vec<u64> {
        let state = self.hub.lock();
        let known = state
            .references
            .iter()
            .find(|r| r.name == self.name)
            .map(|r| &r.hashes);
        let mut epochs: Vec<u64> = state
            .nodes
            .iter()
            .filter_map(|n| n.confirmed_hashes.keys().next_back().copied())
            .filter(|e| known.is_none_or(|k| !k.contains_key(e)))
            .collect();
        epochs.sort_unstable_by(|a, b| b.cmp(a));
        epochs.dedup();
        epochs.truncate(MAX_HASH_LOOKUPS);
        epochs
    }

    /// One poll: a single HTTP request, with `cfx_clientVersion` when `ask_version`.
    pub(crate) async fn poll_once(&self, ask_version: bool) {
        let epochs = self.wanted_epochs();
        let mut calls = vec![
            Call::new("cfx_getStatus", json!([])),
            Call::new("pos_getStatus", json!([])),
        ];
        if ask_version {
            calls.push(Call::new("cfx_clientVersion", json!([])));
        }
        calls.extend(
            epochs
                .iter()
                .map(|e| Call::new("cfx_getBlockByEpochNumber", json!([to_hex(*e), false]))),
        );
        let outcome = self.client.batch(&calls).await;
        let now = SystemTime::now();
        let parsed = outcome.and_then(|results| {
            let mut results = results.into_iter();
            let missing = || Err(RpcError::decode("missing answer"));
            let status: Status = decode(results.next().unwrap_or_else(missing)?)?;
            // A public port may not serve `pos` (−32601): then there is simply no PoS block lag.
            let pos: Option<PosStatus> = results
                .next()
                .unwrap_or_else(missing)
                .ok()
                .and_then(|v| decode(v).ok());
            // A version that does not answer or decode is simply not known this time (no verdict uses it then).
            let version = ask_version
                .then(|| results.next())
                .flatten()
                .and_then(|r| decode::<RemoteText>(r.ok()?).ok())
                .map(|t| bounded_to(&t.0, MAX_VERSION_LABEL));
            let hashes: Vec<(u64, String)> = epochs
                .iter()
                .zip(results)
                .filter_map(|(e, r)| {
                    // −32602 means the reference has not reached that epoch yet: simply no hash this time.
                    let block: Option<Block> = decode(r.ok()?).ok()?;
                    block.map(|b| (*e, b.hash))
                })
                .collect();
            Ok::<_, RpcError>((status, pos, version, hashes))
        });
        let mut state = self.hub.lock();
        let node_chains: Vec<u64> = state
            .nodes
            .iter()
            .filter_map(|n| n.chain.as_ref().map(|c| c.status.chain_id.0))
            .collect();
        let Some(r) = state.reference_mut(&self.name) else {
            return;
        };
        match parsed {
            Ok((status, pos, version, hashes)) => {
                let chain_id = status.chain_id.0;
                r.chain_id = Some(chain_id);
                if !node_chains.is_empty() && !node_chains.contains(&chain_id) {
                    if r.poll.failed(
                        "chain_mismatch",
                        format!("reference is on chain id {chain_id}, no node is"),
                    ) {
                        tracing::warn!(reference = %self.name, chain_id, nodes = ?node_chains, "reference is on another chain; it is not used for lag");
                    }
                    r.epoch = None;
                    r.pos_latest_committed = None;
                } else {
                    if !r.poll.up {
                        tracing::info!(reference = %self.name, url = %self.client.display_url(), epoch = status.epoch_number.0, "reference reachable");
                    }
                    r.poll.succeeded(now);
                    r.epoch = Some(status.epoch_number.0);
                    let head = pos.map(|p| p.latest_committed.0);
                    if head != r.pos_latest_committed || r.pos_advanced_at.is_none() {
                        r.pos_advanced_at = head.map(|_| now);
                    }
                    r.pos_latest_committed = head;
                    if version.is_some() {
                        r.version = version;
                    }
                    let finalized = status.latest_finalized.0;
                    if r.finalized.is_none_or(|f| f.committed != finalized) {
                        r.finalized = Some(Head {
                            committed: finalized,
                            advanced_at: now,
                        });
                    }
                    for (e, h) in hashes {
                        remember_hash(&mut r.hashes, e, h);
                    }
                }
            }
            Err(e) => {
                let text = e.to_string();
                if r.poll.failed(e.kind(), text.clone()) {
                    tracing::warn!(reference = %self.name, url = %self.client.display_url(), error = %text, kind = e.kind(),
                        "reference unusable; epoch lag is not computed from it");
                }
                r.epoch = None;
                r.pos_latest_committed = None;
            }
        }
        drop(state);
        self.hub.changed();
    }
}
