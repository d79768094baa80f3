//! The exporter's picture of the world: the latest observation of every target, written by watchers and read by
//! the publisher. It holds facts only; verdicts (lag, fork, risk) are computed from it by `assess`, so a restart
//! or a failed poll can never leave a stale verdict behind.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use tokio::sync::Notify;

mod host;
mod view;

pub(crate) use host::{DiskObs, HostObs, ProbeFailure, ProcessObs};
pub(crate) use view::{ViewChoice, ViewData, ViewSource};

use crate::assess::freshness::Head;
use crate::assess::guard::look::NodeLook;
use crate::assess::lag::RefView;
use crate::assess::votes::VoteLedger;
use crate::pos_address::PosAddress;
use crate::rpc::cfx::Status;
use crate::rpc::pos::{Account, CommitteeState, PosStatus};

/// How many recent (epoch -> pivot hash) pairs are kept per target for the fork check. Node and reference are
/// polled at different moments, so the check uses the newest epoch both have seen.
pub(crate) const HASH_HISTORY: usize = 32;

/// What the last successful chain poll of a node returned.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainObs {
    /// `cfx_getStatus`.
    pub status: Status,
    /// `cfx_clientVersion`, when it answered.
    pub version: Option<String>,
    /// Timestamp (Unix seconds) of the `latest_mined` pivot block.
    pub best_block_timestamp: Option<u64>,
    /// `debug_currentSyncPhase`.
    pub sync_phase: Option<String>,
    /// `test_getPeerInfo` length.
    pub peers: Option<u64>,
    /// Methods that answered −32601 (not served on this port) in the last poll.
    pub unavailable: Vec<&'static str>,
    /// Methods whose answers in the last poll were present but not of the expected shape (dropped, counted).
    pub malformed: Vec<&'static str>,
}

/// Why the node's PoS data is unavailable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PosDown {
    /// −32078: the PoS module has not started (early sync).
    NotStarted,
    /// −32601: the port does not serve the `pos` namespace.
    NotServed,
    /// The node closes the connection on `pos_*` calls without answering while `cfx_getStatus` answers: a node
    /// whose PoS is not enabled (measured on a real dev-mode node).
    NoAnswer,
    /// Any other failure (transport, decode, error object).
    Error,
}

impl PosDown {
    /// Label value of `conflux_pos_unavailable_reason`.
    pub fn label(self) -> &'static str {
        match self {
            Self::NotStarted => "pos_not_started",
            Self::NotServed => "pos_not_served",
            Self::NoAnswer => "pos_no_answer",
            Self::Error => "error",
        }
    }
}

/// Our PoS transactions and rewards, accumulated from every committed block read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PosActivity {
    /// Chain-wide transactions by type.
    pub tx_by_type: BTreeMap<String, u64>,
    /// Register / UpdateVotingPower / Retire transactions naming us, by type.
    pub own_tx_by_type: BTreeMap<String, u64>,
    /// Election transactions sent by us.
    pub elections: u64,
    /// `targetTerm` of our latest Election transaction.
    pub last_election_target_term: Option<u64>,
    /// The block holding our latest Election transaction (a sign of life of the key).
    pub last_election_block: Option<u64>,
    /// A Dispute transaction named us.
    pub dispute_seen: bool,
    /// Sum of our rewards over the epochs read, in drip.
    pub reward_drip_total: u128,
    /// Our reward in the last completed epoch read, in drip.
    pub last_epoch_reward_drip: Option<u128>,
    /// Our BLS and VRF public keys, learned from our own Election transactions (to recognise our Register).
    pub own_keys: Option<(String, String)>,
    /// Our reward against the committee's in the last finished epoch read in which we were a member.
    pub efficiency: Option<crate::assess::reward::RewardEfficiency>,
    /// Sum of the rewards lost in member epochs that paid us nothing (median per vote × our power), in CFX.
    pub reward_lost_cfx_total: f64,
}

/// What the last PoS poll of a node returned, plus the accumulated vote record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PosObs {
    /// Our PoS address, when known.
    pub address: Option<PosAddress>,
    /// `pos_getStatus` of the view in use ([`Self::view`]); while no view is fresh, the node's own (stale) one;
    /// `None` while the node's PoS is unavailable and no reference stands in.
    pub status: Option<PosStatus>,
    /// Why the node's own PoS is unavailable, when it is.
    pub down: Option<PosDown>,
    /// `pos_getCommittee` of the view in use (see `status`).
    pub committee: Option<CommitteeState>,
    /// `pos_getAccount(us)` of the view in use (see `status`).
    pub account: Option<Account>,
    /// The node's own answers, whatever view the verdicts use: its head, lag and freshness are judged from them.
    pub local: ViewData,
    /// Which view the verdicts use, and how fresh the local one is.
    pub view: ViewChoice,
    /// Timestamp (µs) of the newest committed block read.
    pub newest_block_timestamp_us: Option<u64>,
    /// Epoch length in blocks, from the election schedule.
    pub epoch_length: Option<u64>,
    /// A view on the term grid (an upcoming term's start), to place epoch boundaries.
    pub grid_point: Option<u64>,
    /// Per-block vote record.
    pub ledger: VoteLedger,
    /// Transactions and rewards.
    pub activity: PosActivity,
    /// The start-up backfill of the force-retire window has completed.
    pub backfilled: bool,
    /// When the current `latestCommitted` of the view in use was first seen: the ETA counts from the block's
    /// commit, not the poll.
    pub latest_committed_seen_at: Option<SystemTime>,
    /// `test_posVotingStatus`: the node's local voting switch.
    pub voting_enabled: Option<bool>,
    /// When the request that read `voting_enabled` was sent: the node answered at this moment or later, so the
    /// guard combines the reading only with key-file scans finished by then (see `voting_seen_at`).
    pub voting_asked_at: Option<SystemTime>,
    /// When the answer carrying `voting_enabled` arrived (a slow head keeps the last one): the switch already
    /// held its value by then, so only scans started after it can show the files under that value; an old
    /// reading is treated as unknown.
    pub voting_seen_at: Option<SystemTime>,
    /// The node's chain id as last reported: the chain's rules still apply while the node is down.
    pub chain_id: Option<u64>,
    /// The configured CIP-99 transition view (`pos.cip99_transition_view`); `None` = known per chain or default.
    pub cip99_transition_view: Option<u64>,
    /// How far the history reads are.
    pub history: HistoryProgress,
}

impl PosObs {
    /// Whether the verdicts about our key may be read from this observation: some view is fresh.
    pub fn judgeable(&self) -> bool {
        self.view.source.is_some() && self.status.is_some()
    }

    /// Feeds a `pos_getCommittee` answer to the vote ledger; without our address there is nothing to record.
    pub fn record_committee(&mut self, c: &CommitteeState) {
        if let Some(us) = self.address.as_ref() {
            self.ledger.record_committee(c, us);
        }
    }
}

/// Progress of the history reads (blocks, transactions, committees): what is left, and the adaptive batch size.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryProgress {
    /// Committed blocks known but not read yet; `None` until the start position is planned.
    pub remaining_blocks: Option<u64>,
    /// Everything up to the latest committed block reported is read.
    pub caught_up: bool,
    /// Calls per history request now (shrinks on timeouts, grows on success).
    pub batch_size: usize,
}

/// Per-target poll bookkeeping shared by nodes and references.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PollStatus {
    /// At least one poll has finished (success or failure).
    pub polled: bool,
    /// The last poll succeeded.
    pub up: bool,
    /// Redacted text of the last failure, for the landing page and logs.
    pub last_error: Option<String>,
    /// Stable kind of the last failure (e.g. `connect`, `chain_mismatch`).
    pub last_error_kind: Option<&'static str>,
    /// When the last successful poll finished.
    pub last_success: Option<SystemTime>,
}

impl PollStatus {
    /// Records a success.
    pub(crate) fn succeeded(&mut self, at: SystemTime) {
        self.polled = true;
        self.up = true;
        self.last_error = None;
        self.last_error_kind = None;
        self.last_success = Some(at);
    }

    /// Records a timeout of a node that answered recently: still up (slow is not down), the text kept for the
    /// landing page.
    pub(crate) fn slow(&mut self, text: String) {
        self.polled = true;
        self.last_error = Some(text);
    }

    /// Records a failure; returns true when this is a transition from up (or never polled) to down, which is
    /// when it deserves a log line.
    pub(crate) fn failed(&mut self, kind: &'static str, text: String) -> bool {
        let transition = self.up || !self.polled || self.last_error_kind != Some(kind);
        self.polled = true;
        self.up = false;
        self.last_error = Some(text);
        self.last_error_kind = Some(kind);
        transition
    }
}

/// One configured node.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct NodeState {
    /// Configured name (the `node` label).
    pub name: String,
    /// Redacted RPC URL.
    pub display_url: String,
    /// Chain poll bookkeeping; `up` drives `conflux_up`.
    pub poll: PollStatus,
    /// Present only while the last chain poll succeeded: a failed poll drops it, so no stale series survive.
    pub chain: Option<ChainObs>,
    /// Recent (confirmed epoch -> pivot hash) pairs seen on the node.
    pub confirmed_hashes: BTreeMap<u64, String>,
    /// PoS facts; `None` until the PoS part of a poll has run.
    pub pos: Option<PosObs>,
    /// Host facts (process, disks, key files); `None` until the first host probe, or when host checks are off.
    pub host: Option<HostObs>,
}

impl NodeState {
    /// The PoS address the node's poller knows (RPC, configuration, or the fallback it read itself); the one
    /// the safety file's owner is checked against.
    pub(crate) fn reported_pos_address(&self) -> Option<&PosAddress> {
        self.pos.as_ref().and_then(|p| p.address.as_ref())
    }

    /// The node's PoS address as far as this snapshot knows it: reported, else its safety file's owner (a down
    /// node still holds its key).
    pub(crate) fn pos_address(&self) -> Option<&PosAddress> {
        self.reported_pos_address()
            .or_else(|| self.host.as_ref().and_then(HostObs::storage_owner))
    }

    /// The PoS observation the verdicts about this node's key may be read from: some view is fresh, and it is not
    /// the node's own while the node is down (its last answers are history, not a view).
    pub(crate) fn chain_view(&self) -> Option<&PosObs> {
        self.pos
            .as_ref()
            .filter(|p| p.judgeable() && (self.poll.up || p.view.source != Some(ViewSource::Local)))
    }

    /// Everything the double-voting guard needs from this node. The switch is unknown while the node is down, so
    /// a silent node is never counted as "not voting"; its address stays (the guard also remembers it).
    pub(crate) fn guard_look(&self) -> NodeLook {
        let pos = self.pos.as_ref().filter(|_| self.poll.up);
        // The chain's verdict about the key comes from whichever view is fresh, even while the node is down.
        let chain = self.chain_view();
        NodeLook {
            node: self.name.clone(),
            address: self.pos_address().cloned(),
            switch: pos.and_then(|p| p.voting_enabled),
            switch_asked_at: pos.and_then(|p| p.voting_asked_at),
            switch_seen_at: pos.and_then(|p| p.voting_seen_at),
            files: self.host.as_ref().and_then(HostObs::files_look),
            force_retired: chain
                .and_then(|p| p.account.as_ref())
                .map(|a| a.status.force_retired.is_some()),
        }
    }
}

/// One reference RPC.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ReferenceState {
    /// Configured or automatic name (the `reference` label).
    pub name: String,
    /// Redacted URL.
    pub display_url: String,
    /// Poll bookkeeping; `up` drives `conflux_reference_up`.
    pub poll: PollStatus,
    /// Chain id reported by the reference (lag is only computed against references on the node's chain).
    pub chain_id: Option<u64>,
    /// Best epoch, present only while up.
    pub epoch: Option<u64>,
    /// Pivot hashes at epochs the nodes reported as confirmed.
    pub hashes: BTreeMap<u64, String>,
    /// Latest committed PoS block, when the reference serves `pos_getStatus`.
    pub pos_latest_committed: Option<u64>,
    /// When that height was first seen (freshness of the reference's view).
    pub pos_advanced_at: Option<SystemTime>,
    /// `latestFinalized` (the PoW epoch PoS last finalised) and when it last moved: the PoS side as the PoW side
    /// shows it, for references that do not serve `pos_*`.
    pub finalized: Option<Head>,
    /// Its `cfx_clientVersion` (bounded like the node's), read now and then: what a current node runs.
    pub version: Option<String>,
}

/// Everything the publisher needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct State {
    /// In configuration order.
    pub nodes: Vec<NodeState>,
    /// Configured ones first, then automatic ones as chain ids are learned.
    pub references: Vec<ReferenceState>,
}

impl State {
    /// The node named `name`.
    pub(crate) fn node_mut(&mut self, name: &str) -> Option<&mut NodeState> {
        self.nodes.iter_mut().find(|n| n.name == name)
    }

    /// The reference named `name`.
    pub(crate) fn reference_mut(&mut self, name: &str) -> Option<&mut ReferenceState> {
        self.references.iter_mut().find(|r| r.name == name)
    }

    /// Every reference as the lag verdicts see it, in configuration order.
    pub(crate) fn reference_views(&self) -> Vec<RefView<'_>> {
        self.references
            .iter()
            .map(|r| RefView {
                up: r.poll.up,
                chain_id: r.chain_id,
                epoch: r.epoch,
                hashes: &r.hashes,
                pos_committed: r.pos_latest_committed,
            })
            .collect()
    }

    /// The PoS heads of the references that are up on chain `chain_id` (any chain while the node's is not known),
    /// by reference name: the chain views a stale node's verdicts can be read from.
    pub(crate) fn reference_pos_heads(&self, chain_id: Option<u64>) -> Vec<(String, Head)> {
        self.references
            .iter()
            .filter(|r| r.poll.up && chain_id.is_none_or(|c| r.chain_id == Some(c)))
            .filter_map(|r| {
                let head = Head {
                    committed: r.pos_latest_committed?,
                    advanced_at: r.pos_advanced_at?,
                };
                Some((r.name.clone(), head))
            })
            .collect()
    }

    /// The finalised PoW epochs of the references that are up on chain `chain_id` (see [`Self::reference_pos_heads`]).
    pub(crate) fn reference_finality(&self, chain_id: Option<u64>) -> Vec<Head> {
        self.references
            .iter()
            .filter(|r| r.poll.up && chain_id.is_none_or(|c| r.chain_id == Some(c)))
            .filter_map(|r| r.finalized)
            .collect()
    }

    /// Every node's [`NodeState::guard_look`], in configuration order.
    pub(crate) fn guard_looks(&self) -> Vec<NodeLook> {
        self.nodes.iter().map(NodeState::guard_look).collect()
    }

    /// Names of the nodes whose chain poll (`cfx_getStatus` and friends) never succeeded; `/-/ready` waits until
    /// this is empty.
    pub(crate) fn nodes_never_answered(&self) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|n| n.poll.last_success.is_none())
            .map(|n| n.name.clone())
            .collect()
    }
}

/// Keeps at most [`HASH_HISTORY`] newest entries.
pub(crate) fn remember_hash(map: &mut BTreeMap<u64, String>, epoch: u64, hash: String) {
    map.insert(epoch, hash);
    while map.len() > HASH_HISTORY {
        map.pop_first();
    }
}

/// Shared state plus a wake-up for the publisher. Watchers lock briefly, write, and call [`Hub::changed`].
#[derive(Debug, Default)]
pub(crate) struct Hub {
    state: Mutex<State>,
    notify: Notify,
}

impl Hub {
    /// A hub over an initial state.
    pub(crate) fn new(state: State) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(state),
            notify: Notify::new(),
        })
    }

    /// Locks the state. A poisoned lock (a panic elsewhere while holding it) still yields the data: the state is
    /// plain facts, and serving them beats stopping the exporter.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Tells the publisher something changed.
    pub(crate) fn changed(&self) {
        self.notify.notify_one();
    }

    /// Waits for the next change (changes that happen while publishing coalesce into one wake-up).
    pub(crate) async fn wait_changed(&self) {
        self.notify.notified().await;
    }
}
