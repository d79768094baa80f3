//! Knobs of the simulated PoS chain.
//!
//! Every duration is counted in PoS views (blocks), as in conflux-rust, so tests can shrink a 13-day lock to a
//! few blocks without touching any rule. Defaults are the mainnet values of docs/node-facts.md#pos-rules

use serde::{Deserialize, Serialize};

use super::error::PosError;
use super::ids;

/// One committee member known at start (or added later), as the operator would describe it.
///
/// Kept to the three facts an exporter test needs: the PoS key, how much it weighs in the committee, and the
/// PoW account that receives its rewards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberSpec {
    /// PoS address, `0x` + 64 hex (an `H256` as the RPC prints it).
    pub address: String,
    /// Committee voting power; also the stake (`locked` votes) the member starts with.
    pub voting_power: u64,
    /// Bound PoW address as the node prints it (verbose base32, e.g. `CFX:TYPE.USER:AAR…`); any string is
    /// accepted because the simulator never decodes it.
    pub pow_address: String,
}

/// Largest `start_view` / `term_offset` accepted: far beyond any real chain, small enough that view and term
/// arithmetic can never overflow.
pub const MAX_VIEW: u64 = 1 << 48;
/// Where [`PosParams::for_identities`] starts its chain: a view of mainnet's era after CIP-99 (330 000), rounded
/// up to a whole epoch.
pub const MAINNET_LIKE_START_VIEW: u64 = 400_000;
/// Largest voting power accepted for one member or one staking command (sums of them must not overflow).
pub const MAX_POWER: u64 = u32::MAX as u64;

/// Parameters of a [`super::PosChain`]; `Default` gives a mainnet-shaped chain with a 4-member committee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PosParams {
    /// Blocks per PoS epoch (= term); mainnet 120. Keep it even: elections finalise at `epoch_length / 2`.
    pub epoch_length: u64,
    /// Committee at start. Each member is treated as an established validator (see `start_view`).
    pub members: Vec<MemberSpec>,
    /// First view from which the chain looks back 3 epochs for a vote before force-retiring (CIP-99); before
    /// it, 1 epoch. `None` takes the value of the simulator's chain id (see [`cip99_transition_view_for`]);
    /// a chain used outside the simulator then keeps the node's built-in default, `u64::MAX` (always 1 epoch).
    pub cip99_transition_view: Option<u64>,
    /// Views a new stake waits in the in-queue before it is `locked` (mainnet 37 440).
    pub in_queue_locked_views: u64,
    /// Views retiring stake waits in the out-queue, and how long `forceRetired` lasts (mainnet 1 440).
    pub out_queue_locked_views: u64,
    /// Views a disputed (slashed) stake is relocked for since CIP-156 (518 400).
    pub dispute_lock_views: u64,
    /// Emit a `Dispute` the first time a committee member is seen voting from two nodes at once.
    pub auto_dispute: bool,
    /// Height of the anchor block that exists before the first `commit_block`. 0 means a genesis chain (the
    /// anchor is genesis: epoch 0, no signatures); any other value stands for an established chain whose
    /// initial members signed the anchor block.
    pub start_view: u64,
    /// Added to `view / epoch_length` to get the term number, so epoch numbers can look like mainnet's
    /// (14 034 with `epoch_length` 120 reproduces mainnet's numbering after CIP-136).
    pub term_offset: u64,
    /// `lastTxNumber` of the anchor block; transactions up to it are pre-history and read as `null`.
    pub start_tx_number: u64,
    /// Timestamp (µs) of the anchor block: the simulator has no clock of its own.
    pub start_time_us: u64,
    /// Drip paid per reward point; the real rate depends on PoW-side interest, which is not modelled.
    pub reward_drip_per_point: u64,
}

impl Default for PosParams {
    fn default() -> Self {
        let members = (0..4u64)
            .map(|i| MemberSpec {
                address: ids::h256(ids::TAG_MEMBER, i),
                voting_power: 75,
                pow_address: ids::pow_address(i),
            })
            .collect();
        Self {
            epoch_length: 120,
            members,
            cip99_transition_view: None,
            in_queue_locked_views: 37_440,
            out_queue_locked_views: 1_440,
            dispute_lock_views: 518_400,
            auto_dispute: true,
            start_view: 0,
            term_offset: 0,
            start_tx_number: 0,
            start_time_us: 0,
            reward_drip_per_point: 1_000_000_000_000,
        }
    }
}

impl PosParams {
    /// Strict check for callers that build params from user input and want a named error instead of the
    /// silent repairs [`super::PosChain::new`] applies.
    pub fn validate(&self) -> Result<(), PosError> {
        if self.epoch_length < 2 {
            return Err(PosError::InvalidParam(
                "epoch_length must be at least 2".into(),
            ));
        }
        if self.start_view > MAX_VIEW || self.term_offset > MAX_VIEW {
            return Err(PosError::InvalidParam(format!(
                "start_view and term_offset must be at most {MAX_VIEW}"
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        for m in &self.members {
            let addr = parse_address(&m.address)?;
            if m.voting_power == 0 || m.voting_power > MAX_POWER {
                return Err(PosError::InvalidParam(format!(
                    "member {addr} voting power must be in 1..={MAX_POWER}"
                )));
            }
            if !seen.insert(addr.clone()) {
                return Err(PosError::InvalidParam(format!(
                    "member {addr} is listed twice"
                )));
            }
        }
        Ok(())
    }

    /// The params with impossible values repaired, so [`super::PosChain::new`] never panics on bad config.
    pub(crate) fn normalized(&self) -> Self {
        let mut p = self.clone();
        p.epoch_length = p.epoch_length.max(2);
        p.start_view = p.start_view.min(MAX_VIEW);
        p.term_offset = p.term_offset.min(MAX_VIEW);
        let mut seen = std::collections::BTreeSet::new();
        p.members.retain_mut(|m| {
            m.address = normalize_address(&m.address);
            m.voting_power = m.voting_power.min(MAX_POWER);
            m.voting_power > 0 && seen.insert(m.address.clone())
        });
        p
    }
}

/// CIP-99 transition view the real node uses for `chain_id` (docs/node-facts.md#pos-rules): mainnet 330 000, testnet
/// 342 000, and for any other chain conflux-rust's built-in default `u64::MAX` (the 3-epoch look-back never
/// starts), which is what a devnet without `pos_cip99_transition_view` in its config does.
pub fn cip99_transition_view_for(chain_id: u64) -> u64 {
    match chain_id {
        1029 => 330_000,
        1 => 342_000,
        _ => u64::MAX,
    }
}

/// Epochs (the ending one included) in which a committee member must have signed no QC to be force-retired
/// at the block ending an epoch at `view`: conflux-rust's `force_retire_check_epoch_count(view)`.
pub fn force_retire_check_epoch_count(view: u64, cip99_transition_view: u64) -> u64 {
    if view >= cip99_transition_view {
        3
    } else {
        1
    }
}

/// Lower-cases and trims a PoS address so lookups do not depend on how a caller spelled it.
pub(crate) fn normalize_address(s: &str) -> String {
    s.trim().to_ascii_lowercase()
}

/// Accepts exactly what the node's `H256` decoder accepts (`0x` + 64 hex digits, any case).
pub(crate) fn parse_address(s: &str) -> Result<String, PosError> {
    let hex = s
        .strip_prefix("0x")
        .ok_or_else(|| PosError::InvalidAddress(s.to_string()))?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(PosError::InvalidAddress(s.to_string()));
    }
    Ok(normalize_address(s))
}

impl PosParams {
    /// A chain whose committee holds every given node identity plus `external` always-on validators, started
    /// mid-history like mainnet (at [`MAINNET_LIKE_START_VIEW`]) with mainnet's CIP-99 view, so members get the
    /// full 3-epoch look-back, also for a chain used outside the simulator. Set `cip99_transition_view` to
    /// `None` to follow the simulator's chain id instead (the CLI does).
    pub fn for_identities(identities: &[String], external: u64, epoch_length: u64) -> Self {
        let mut members: Vec<MemberSpec> = Vec::new();
        for (i, id) in identities.iter().enumerate() {
            if !members.iter().any(|m| m.address.eq_ignore_ascii_case(id)) {
                members.push(MemberSpec {
                    address: id.to_ascii_lowercase(),
                    voting_power: 10,
                    pow_address: ids::pow_address(100 + i as u64),
                });
            }
        }
        members.extend((0..external).map(|i| MemberSpec {
            address: ids::h256(ids::TAG_MEMBER, i),
            voting_power: 30,
            pow_address: ids::pow_address(i),
        }));
        Self {
            epoch_length,
            members,
            start_view: MAINNET_LIKE_START_VIEW.div_ceil(epoch_length.max(1)) * epoch_length.max(1),
            cip99_transition_view: Some(cip99_transition_view_for(1029)),
            ..Self::default()
        }
    }
}
