//! The simulated Conflux PoS chain: a pure, deterministic state machine the simulator's RPC server drives.
//!
//! The exporter's tests compare its forecasts (force-retire risk and ETA, missed votes, slashing) with the
//! verdicts of this chain, so the rules follow conflux-rust as described in `docs/node-facts.md` (PoS RPC,
//! PoS rules). No I/O, clocks or threads: time comes in as arguments (µs) and every answer is a function of the calls
//! made so far.
//!
//! # Model
//! - Height = view; one block per [`PosChain::commit_block`]. The anchor block at `start_view` exists from
//!   [`PosChain::new`] on. Block `k·epoch_length` ends epoch `k` (+ `term_offset`); rounds restart at 1.
//! - Each block's QC = every member of the block's epoch committee with `voters ≥ 1`, minus omitted ones, each
//!   with its power in that epoch. The proposer rotates by height among voting members (`null` if none).
//! - Transactions per block: `BlockMetadata`, one aggregated `PivotDecision`, then Elections, queued staking
//!   events (Register / UpdateVotingPower / Retire) and Disputes. They execute on the parent state (view
//!   `v−1`, so a stake queued in block `v` ends at `v−1+lock`), before `next_view(v)`, as in the executor.
//! - Seats and elections: see `seats.rs` (each term's seats, one Election per term, no seat competition).
//!   `pos_getCommittee().elections` lists the two upcoming terms, final once closed at mid-term.
//! - Force-retire, at the block ending epoch E ≠ 0: members of E's committee with no signature in the QCs of
//!   epochs `E−n+1 … E` are retired at that view, where n = [`force_retire_check_epoch_count`] of the ending
//!   view: 1 before the chain's CIP-99 transition view, 3 from it (mainnet 330 000, testnet 342 000, other
//!   chains `u64::MAX`, i.e. always 1, unless `cip99_transition_view` is set). Pre-history counts only through
//!   the anchor block: with `start_view > 0` its QC holds every initial member, so a member silent from the
//!   start is retired after n whole silent epochs; on a genesis chain (`start_view = 0`) there is no earlier
//!   signature, so an initial member silent from block 1 is retired at the end of epoch 1, as on a real genesis.
//!   Because the next committee is fixed while executing the ending block, a retired member still serves in
//!   epoch E+1 and leaves from E+2 on (its `availableVotes` are 0).
//! - Dispute (CIP-156): on the first commit where a committee member has `voters ≥ 2` (if `auto_dispute`) or
//!   on command, a `Dispute` tx relocks all its stake to `v−1 + dispute_lock_views` and clears `forceRetired`.
//! - Rewards: at each epoch end, per `rules::epoch_rewards`; `pos_getRewardsByEpoch` is `null` until then
//!   (and forever for epochs that ended at or before the anchor).
//! - Uncommitted blocks are not modelled: `pos_getBlockByNumber` above the visible height, `latest_voted`
//!   included, is `null`; `latestVoted` itself follows [`LatestVoted`].
//! - Memory: everything is kept for the whole run (a run lasts minutes; a block is a few hundred bytes).
//!
//! # Control commands ([`PosChain::control`])
//! `{"cmd":"set_voters","address","voters"}`, `{"cmd":"set_member_voting","address","voting":bool}`,
//! `{"cmd":"omit_signature","address","on":bool}`, `{"cmd":"empty_signatures","blocks":n}` or
//! `{"cmd":"empty_signatures","from":h,"to":h}`, `{"cmd":"dispute","address"}`,
//! `{"cmd":"register","address","power","pow_address"?}`, `{"cmd":"retire","address","power"}`,
//! `{"cmd":"add_member","address","voting_power" (or "power"),"pow_address"?}`, `{"cmd":"stop_election","address","stopped"?}`,
//! `{"cmd":"latest_voted","mode":"auto"|"pending"|"null"}`, `{"cmd":"cip99_transition_view","view":n|null}`
//! (`null` = the chain id's default), `{"cmd":"state"}`.

mod chain;
mod control;
mod error;
mod geometry;
mod ids;
mod lock;
mod params;
mod render;
mod rpc;
mod rules;
mod seats;
mod step;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_cip99;
#[cfg(test)]
mod tests_control;
#[cfg(test)]
mod tests_rpc;
#[cfg(test)]
mod tests_stake;

pub use chain::{LatestVoted, PosChain, Retirement};
pub use error::PosError;
pub use params::{
    cip99_transition_view_for, force_retire_check_epoch_count, MemberSpec, PosParams,
    MAINNET_LIKE_START_VIEW, MAX_POWER, MAX_VIEW,
};
pub use rpc::{INVALID_PARAMS, METHOD_NOT_FOUND, PROCESSING_ERROR};
