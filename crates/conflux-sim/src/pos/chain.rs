//! The chain's stored state and its read-only views at a past height.
//!
//! Everything is kept for the whole run (blocks, transactions, per-account lock history, committees, tallies):
//! a simulated run lasts minutes, a block costs a few hundred bytes, and keeping it all lets any lagging node be
//! answered exactly "as seen at height `visible`". Account states are stored only when they change.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::geometry::Geometry;
use super::ids;
use super::lock::LockStatus;
use super::params::PosParams;
use super::rules::{Committee, Tally};
use super::seats::Seats;

/// A force-retirement the chain decided, for tests to compare against the exporter's forecast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retirement {
    /// PoS address that was retired.
    pub address: String,
    /// View of the epoch-ending block that retired it (its `forceRetired`).
    pub view: u64,
    /// The epoch that ended.
    pub epoch: u64,
    /// Timestamp (µs) of that block.
    pub time_us: u64,
}

/// How `pos_getStatus.latestVoted` is answered; a knob because a real node's value depends on consensus
/// progress the simulator does not model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LatestVoted {
    /// `null` while the voting power still voting is below quorum; otherwise `latestCommitted + 1` for about
    /// half of the heights and `null` for the others (picked by the block hash, so every endpoint at one height
    /// agrees). A real node reports `null` often: between committing a block and voting on the next proposal
    /// (captured devnet: `null` at 0x172, `0x173` moments later).
    #[default]
    Auto,
    /// Always `latestCommitted + 1`.
    Pending,
    /// Always `null`.
    Null,
}

/// A committed block.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub height: u64,
    pub epoch: u64,
    pub round: u64,
    pub hash: String,
    pub parent_hash: String,
    pub miner: Option<String>,
    pub timestamp_us: u64,
    pub pivot: (u64, String),
    pub last_tx: u64,
    /// The real QC: `(signer, voting power in the block's epoch)`.
    pub qc: Vec<(String, u64)>,
    /// The RPC shows `signatures: []` (the QC is unknown to the node).
    pub qc_hidden: bool,
}

/// What a transaction did; the subject address is where payload keys are derived from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TxKind {
    BlockMetadata,
    PivotDecision { height: u64, block_hash: String },
    Election { address: String, target_term: u64 },
    Register { address: String },
    UpdateVotingPower { address: String, power: u64 },
    Retire { address: String, power: u64 },
    Dispute { address: String, view: u64 },
}

/// A committed transaction.
#[derive(Debug, Clone)]
pub(crate) struct Tx {
    pub number: u64,
    pub from: String,
    pub block: u64,
    pub kind: TxKind,
}

/// A registered PoS node.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub pow_address: String,
    /// `(view, state after block view)`, ascending, never empty.
    pub history: Vec<(u64, LockStatus)>,
}

impl Account {
    pub fn new(view: u64, status: LockStatus, pow_address: String) -> Self {
        Self {
            pow_address,
            history: vec![(view, status)],
        }
    }

    /// State after block `view`; `None` before the account existed.
    pub fn at(&self, view: u64) -> Option<&LockStatus> {
        let n = self.history.partition_point(|(v, _)| *v <= view);
        n.checked_sub(1).map(|i| &self.history[i].1)
    }

    /// Newest state.
    pub fn current(&self) -> LockStatus {
        self.history
            .last()
            .map(|(_, s)| s.clone())
            .unwrap_or_default()
    }

    /// Applies `f` to the newest state and records the result as of block `view` if it changed.
    pub fn mutate<R>(&mut self, view: u64, f: impl FnOnce(&mut LockStatus) -> R) -> R {
        let mut next = self.current();
        let out = f(&mut next);
        if self.history.last().map(|(_, s)| s) != Some(&next) {
            match self.history.last_mut() {
                Some((v, s)) if *v == view => *s = next,
                _ => self.history.push((view, next)),
            }
        }
        out
    }
}

/// Rewards of one ended epoch.
#[derive(Debug, Clone)]
pub(crate) struct RewardRecord {
    pub end_view: u64,
    pub pow_epoch_hash: String,
    /// `(posAddress, powAddress, drip)`.
    pub entries: Vec<(String, String, u128)>,
}

/// A control command waiting for the next block to carry it as a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pending {
    Register {
        address: String,
        pow_address: String,
    },
    Update {
        address: String,
        power: u64,
    },
    Retire {
        address: String,
        power: u64,
    },
    Dispute {
        address: String,
    },
}

/// The simulated Conflux PoS chain: a pure, deterministic state machine driven by [`PosChain::commit_block`]
/// and queried through [`PosChain::rpc`] as a node at any committed height would answer.
#[derive(Debug, Clone)]
pub struct PosChain {
    pub(crate) p: PosParams,
    pub(crate) geo: Geometry,
    pub(crate) blocks: Vec<Block>,
    pub(crate) by_hash: HashMap<String, u64>,
    pub(crate) txs: Vec<Tx>,
    pub(crate) accounts: BTreeMap<String, Account>,
    pub(crate) voters: BTreeMap<String, u32>,
    pub(crate) omitted: BTreeSet<String>,
    pub(crate) hide_next: u64,
    pub(crate) hide_ranges: Vec<(u64, u64)>,
    pub(crate) seats: Seats,
    pub(crate) committees: BTreeMap<u64, Committee>,
    pub(crate) tallies: BTreeMap<u64, Tally>,
    pub(crate) rewards: BTreeMap<u64, RewardRecord>,
    pub(crate) retirements: Vec<Retirement>,
    pub(crate) pending: Vec<Pending>,
    pub(crate) auto_disputed: BTreeSet<String>,
    pub(crate) election_stopped: BTreeSet<String>,
    pub(crate) latest_voted: LatestVoted,
    /// The CIP-99 transition view in force (from the params, else the chain id, else `u64::MAX`).
    pub(crate) cip99_transition_view: u64,
    /// The chain id's CIP-99 view, used when the params leave it unset (`u64::MAX` until a chain id is known).
    pub(crate) chain_cip99_default: u64,
}

impl PosChain {
    /// Builds the chain with its anchor block at `start_view` already committed. Never panics: impossible
    /// params are repaired (see [`PosParams::validate`] for a strict check, or [`PosChain::try_new`]).
    pub fn new(params: PosParams) -> Self {
        let p = params.normalized();
        let geo = Geometry {
            len: p.epoch_length,
            term_offset: p.term_offset,
        };
        let s = p.start_view;
        let mut chain = PosChain {
            geo,
            blocks: Vec::new(),
            by_hash: HashMap::new(),
            txs: Vec::new(),
            accounts: BTreeMap::new(),
            voters: BTreeMap::new(),
            omitted: BTreeSet::new(),
            hide_next: 0,
            hide_ranges: Vec::new(),
            seats: Seats::default(),
            committees: BTreeMap::new(),
            tallies: BTreeMap::new(),
            rewards: BTreeMap::new(),
            retirements: Vec::new(),
            pending: Vec::new(),
            auto_disputed: BTreeSet::new(),
            election_stopped: BTreeSet::new(),
            latest_voted: LatestVoted::Auto,
            cip99_transition_view: p.cip99_transition_view.unwrap_or(u64::MAX),
            chain_cip99_default: u64::MAX,
            p,
        };
        let through = chain.last_closed_term(s);
        for m in chain.p.members.clone() {
            chain.seats.seed(&m.address, m.voting_power, through, s);
            let account = Account::new(s, LockStatus::initial(m.voting_power), m.pow_address);
            chain.accounts.insert(m.address, account);
        }
        let anchor_epoch = geo.block_epoch(s);
        for epoch in [anchor_epoch, geo.state_epoch(s)] {
            let committee = chain.committee_for_term(epoch as i64 - 1);
            chain.committees.insert(epoch, committee);
        }
        let qc = if s == 0 {
            Vec::new()
        } else {
            chain.committee(anchor_epoch).nodes
        };
        let tally = chain.tallies.entry(anchor_epoch).or_default();
        for (addr, power) in &qc {
            let c = tally.entry(addr.clone()).or_default();
            c.signed_blocks += 1;
            c.vote_power += power;
        }
        let anchor = Block {
            height: s,
            epoch: anchor_epoch,
            round: geo.round(s),
            hash: ids::h256(ids::TAG_BLOCK, s),
            parent_hash: s
                .checked_sub(1)
                .map_or(ids::ZERO_H256.to_string(), |h| ids::h256(ids::TAG_BLOCK, h)),
            miner: None,
            timestamp_us: chain.p.start_time_us,
            pivot: (0, ids::h256(ids::TAG_PIVOT, 0)),
            last_tx: chain.p.start_tx_number,
            qc,
            qc_hidden: false,
        };
        chain.by_hash.insert(anchor.hash.clone(), s);
        chain.blocks.push(anchor);
        chain
    }

    /// Like [`PosChain::new`] but refuses params that `new` would have to repair.
    pub fn try_new(params: PosParams) -> Result<Self, super::PosError> {
        params.validate()?;
        Ok(Self::new(params))
    }

    /// Height of the newest committed block.
    pub fn latest_committed(&self) -> u64 {
        self.blocks.last().map_or(self.p.start_view, |b| b.height)
    }

    /// Every force-retirement so far, in order.
    pub fn retirements(&self) -> &[Retirement] {
        &self.retirements
    }

    /// The params in force (after repairs).
    pub fn params(&self) -> &PosParams {
        &self.p
    }

    /// PoW epoch finalised by the block at `visible` (for the core space's `latestFinalized`).
    pub fn finalized_pow_epoch(&self, visible: u64) -> Option<u64> {
        self.block(self.clamp(visible)).map(|b| b.pivot.0)
    }

    /// Newest term whose election is closed in the state after `view`.
    pub(crate) fn last_closed_term(&self, view: u64) -> i64 {
        self.geo.electing_term(view) - 1
    }

    /// Nodes voting with `address`'s key right now; members never set count as one always-on validator.
    pub(crate) fn voters_of(&self, address: &str) -> u32 {
        self.voters.get(address).copied().unwrap_or(1)
    }

    /// `visible` limited to the heights that exist.
    pub(crate) fn clamp(&self, visible: u64) -> u64 {
        visible.clamp(self.p.start_view, self.latest_committed())
    }

    pub(crate) fn block(&self, height: u64) -> Option<&Block> {
        let i = height.checked_sub(self.p.start_view)?;
        self.blocks.get(usize::try_from(i).ok()?)
    }

    pub(crate) fn tx(&self, number: u64) -> Option<&Tx> {
        let i = number.checked_sub(self.p.start_tx_number + 1)?;
        self.txs.get(usize::try_from(i).ok()?)
    }

    /// Committee of `epoch` (empty if unknown, which only a bug could cause).
    pub(crate) fn committee(&self, epoch: u64) -> Committee {
        self.committees.get(&epoch).cloned().unwrap_or(Committee {
            epoch,
            nodes: Vec::new(),
        })
    }

    /// Committee serving term `term` (epoch `term + 1`) from the seats and today's `availableVotes`.
    pub(crate) fn committee_for_term(&self, term: i64) -> Committee {
        let nodes = self
            .seats
            .known()
            .filter_map(|addr| {
                let available = self
                    .accounts
                    .get(addr)
                    .map_or(0, |a| a.current().available());
                let power = self.seats.raw_power(term, addr).min(available);
                (power > 0).then(|| (addr.clone(), power))
            })
            .collect();
        Committee {
            epoch: (term + 1).max(0) as u64,
            nodes,
        }
    }
}
