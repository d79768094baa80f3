//! PoS result types (docs/node-facts.md#pos-rpc). Nullable fields are `Option`; fields we do not read are not declared, so the
//! documentation examples (which lack `latestTxNumber`) and current nodes both decode.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::text::{de_bounded_opt, de_hash, de_lenient_text, RemoteText};
use super::wire::{HexU128, HexU64};
use crate::pos_address::PosAddress;

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
    #[serde(deserialize_with = "de_hash")]
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
    /// Voting power in the QC, summed before the watcher trims `signatures` to the ones that count for us (not
    /// on the wire); `None` = the sum of `signatures`.
    #[serde(skip)]
    pub qc_power: Option<u64>,
}

impl PosBlock {
    /// Voting power in the block's QC (the signers' votes).
    pub fn qc_power(&self) -> u64 {
        self.qc_power.unwrap_or_else(|| {
            self.signatures
                .iter()
                .fold(0u64, |a, s| a.saturating_add(s.votes.0))
        })
    }
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
    #[serde(default, deserialize_with = "de_bounded_opt")]
    pub status: Option<String>,
    /// One of [`TX_TYPES`]; any other name reads as `"Other"`, so the types counted stay a fixed set.
    #[serde(rename = "type", deserialize_with = "de_tx_type")]
    pub tx_type: String,
    /// The payload fields the exporter reads; other fields, and payloads of another shape, are skipped.
    #[serde(default)]
    pub payload: TxPayload,
}

/// Every PoS transaction type (docs/node-facts.md#pos-rpc); the last one also stands for any name not listed.
pub(crate) const TX_TYPES: &[&str] = &[
    "BlockMetadata",
    "Election",
    "Retire",
    "Register",
    "UpdateVotingPower",
    "PivotDecision",
    "Dispute",
    "Other",
];

fn de_tx_type<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let name = RemoteText::deserialize(d)?.0;
    let known = TX_TYPES.iter().find(|t| **t == name).unwrap_or(&"Other");
    Ok((*known).to_string())
}

/// The string fields of a transaction payload the exporter reads (which depend on the type); a field of another
/// JSON type reads as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxPayload {
    /// `address` (UpdateVotingPower, Retire, Dispute).
    pub address: Option<String>,
    /// `publicKey` (Register, Election).
    pub public_key: Option<String>,
    /// `vrfPublicKey` (Register, Election).
    pub vrf_public_key: Option<String>,
    /// `targetTerm` (Election).
    pub target_term: Option<String>,
}

impl<'de> Deserialize<'de> for TxPayload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PayloadVisitor)
    }
}

struct PayloadVisitor;

impl<'de> Visitor<'de> for PayloadVisitor {
    type Value = TxPayload;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a payload object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TxPayload, A::Error> {
        let mut p = TxPayload::default();
        while let Some(key) = map.next_key::<RemoteText>()? {
            let slot = match key.0.as_str() {
                "address" => &mut p.address,
                "publicKey" => &mut p.public_key,
                "vrfPublicKey" => &mut p.vrf_public_key,
                "targetTerm" => &mut p.target_term,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = map.next_value::<Lenient>()?.0;
        }
        Ok(p)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TxPayload, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(TxPayload::default())
    }
    fn visit_unit<E: de::Error>(self) -> Result<TxPayload, E> {
        Ok(TxPayload::default())
    }
    fn visit_none<E: de::Error>(self) -> Result<TxPayload, E> {
        Ok(TxPayload::default())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<TxPayload, E> {
        Ok(TxPayload::default())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<TxPayload, E> {
        Ok(TxPayload::default())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<TxPayload, E> {
        Ok(TxPayload::default())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<TxPayload, E> {
        Ok(TxPayload::default())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<TxPayload, E> {
        Ok(TxPayload::default())
    }
}

/// A payload value kept only when it is a string.
struct Lenient(Option<String>);

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        de_lenient_text(d).map(Lenient)
    }
}

/// `test_posRegister`'s answer, `[call data, our PoS address]`: only the address is kept (the call data is
/// skipped unread; nothing is ever sent with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration(pub PosAddress);

impl<'de> Deserialize<'de> for Registration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Registration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array [call data, PoS address]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Registration, A::Error> {
                seq.next_element::<IgnoredAny>()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let address = seq
                    .next_element::<RemoteText>()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                PosAddress::parse(&address.0)
                    .map(Registration)
                    .map_err(|e| de::Error::custom(format!("not a PoS address: it {e}")))
            }
        }
        d.deserialize_seq(V)
    }
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
