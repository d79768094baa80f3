//! PoS result types (reference §3). Nullable fields are `Option`; fields we do not read are not declared, so the
//! documentation examples (which lack `latestTxNumber`) and current nodes both decode.

use serde::Deserialize;
use serde_json::Value;

use super::wire::{HexU128, HexU64};
use crate::pos_address::PosAddress;

/// `pivotDecision` on status and blocks.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PivotDecision {
    /// PoW pivot block finalised by PoS.
    pub block_hash: String,
    /// Its PoW epoch number.
    pub height: HexU64,
}

/// `pos_getStatus`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PosStatus {
    /// Current PoS epoch.
    pub epoch: HexU64,
    /// Height (view) of the latest committed block.
    pub latest_committed: HexU64,
    /// Newest voted-but-uncommitted block; `null` when none.
    #[serde(default)]
    pub latest_voted: Option<HexU64>,
    /// Version of the last transaction of the latest committed block (absent in the docs' example).
    #[serde(default)]
    pub latest_tx_number: Option<HexU64>,
}

/// One QC signer of a block.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Signature {
    /// Signer's PoS address (a malformed one makes the block malformed: counted, re-asked).
    pub account: PosAddress,
    /// Its voting power in the block's epoch.
    pub votes: HexU64,
}

/// `pos_getBlockByNumber` / `pos_getBlockByHash`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PosBlock {
    /// Block hash.
    pub hash: String,
    /// Height (view).
    pub height: HexU64,
    /// PoS epoch of the block.
    pub epoch: HexU64,
    /// Round within the epoch.
    pub round: HexU64,
    /// Version of the block's last transaction.
    pub last_tx_number: HexU64,
    /// Proposer; `null` for genesis and NIL blocks.
    #[serde(default)]
    pub miner: Option<PosAddress>,
    /// Microseconds since the Unix epoch.
    pub timestamp: HexU64,
    /// QC signers; empty when the node does not know the QC (catch-up).
    #[serde(default)]
    pub signatures: Vec<Signature>,
}

/// A committee member or an election candidate.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NodeVotes {
    /// PoS address.
    pub address: PosAddress,
    /// Voting power (seats).
    pub voting_power: HexU64,
}

/// `currentCommittee`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Committee {
    /// Epoch this committee serves.
    pub epoch_number: HexU64,
    /// Votes needed for a QC.
    pub quorum_voting_power: HexU64,
    /// Total voting power.
    pub total_voting_power: HexU64,
    /// Members.
    pub nodes: Vec<NodeVotes>,
}

/// One upcoming term's election.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Election {
    /// Whether the seats are final.
    pub is_finalized: bool,
    /// View at which the term starts.
    pub start_block_number: HexU64,
    /// Provisional or final seats per node.
    pub top_electing_nodes: Vec<NodeVotes>,
}

/// `pos_getCommittee`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CommitteeState {
    /// Current epoch's committee.
    pub current_committee: Committee,
    /// The two upcoming terms.
    pub elections: Vec<Election>,
}

/// An in-queue or out-queue item.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QueueItem {
    /// View at which the item moves on.
    pub end_block_number: HexU64,
    /// Votes.
    pub power: HexU64,
}

/// `status` of an account.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AccountStatus {
    /// sum(inQueue) + locked.
    pub available_votes: HexU64,
    /// Stake that matured but can never be withdrawn (pre-CIP-156 forfeit).
    pub forfeited: HexU64,
    /// View at which the node was force-retired, or `null`.
    #[serde(default)]
    pub force_retired: Option<HexU64>,
    /// Votes waiting to become locked.
    pub in_queue: Vec<QueueItem>,
    /// Locked votes.
    pub locked: HexU64,
    /// Votes waiting to be unlocked.
    pub out_queue: Vec<QueueItem>,
    /// Cumulative unlocked votes.
    pub unlocked: HexU64,
}

/// `pos_getAccount`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// Echo of the address.
    pub address: PosAddress,
    /// View the answer was read at.
    pub block_number: HexU64,
    /// Lock status.
    pub status: AccountStatus,
}

impl Account {
    /// The node's answer for an unknown address is a zero-filled object, not `null`: treat it as "not registered".
    pub fn is_registered(&self) -> bool {
        let s = &self.status;
        s.available_votes.0 > 0
            || s.locked.0 > 0
            || s.unlocked.0 > 0
            || s.forfeited.0 > 0
            || !s.in_queue.is_empty()
            || !s.out_queue.is_empty()
            || s.force_retired.is_some()
    }
}

/// `pos_getTransactionByNumber`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PosTransaction {
    /// Sender's PoS address (the electing node for Election transactions).
    pub from: PosAddress,
    /// Global version.
    pub number: HexU64,
    /// Block it was executed in; nullable.
    #[serde(default)]
    pub block_number: Option<HexU64>,
    /// Executed|Failed|Discard; nullable.
    #[serde(default)]
    pub status: Option<String>,
    /// BlockMetadata|Election|Retire|Register|UpdateVotingPower|PivotDecision|Dispute|Other.
    #[serde(rename = "type")]
    pub tx_type: String,
    /// Type-specific payload; kept raw and read per type.
    #[serde(default)]
    pub payload: Value,
}

/// One entry of `pos_getRewardsByEpoch`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AccountReward {
    /// PoS address.
    pub pos_address: PosAddress,
    /// Reward in drip (1e-18 CFX).
    pub reward: HexU128,
}

/// `pos_getRewardsByEpoch`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EpochRewards {
    /// Only accounts with a positive reward are listed.
    pub account_rewards: Vec<AccountReward>,
}
