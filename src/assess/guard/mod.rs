//! The double-voting guard: who votes with which PoS key, where each node
//! stands in a primary/standby hand-over, and whether stopping a node is safe.
//!
//! Two running nodes that sign with the same `pos_key` equivocate, and since
//! CIP-156 a Dispute locks the whole stake for about 180 days. The hand-over
//! flow of conflux-rust PR #2438 avoids that only if operators follow it
//! exactly: `start_voting --initialize` on the primary, `stop_voting` (which
//! renames `pos_db/secure_storage.json` to `.save`), copy the `.save` to the
//! standby, `start_voting` there (which consumes the `.save`). Everything here
//! is pure so that every step of that flow can be checked in a table test.

pub(crate) mod keys;
pub mod look;

use crate::pos_address::PosAddress;

/// What `secure_storage.json` holds, as far as the guard needs to know.
///
/// A standby started with `pos_started_as_voter=false` creates its own file at start-up (owner = the key,
/// `last_voted_round` 0, `last_vote` null): present, but nothing a `start_voting` could resume from. Only a file
/// that has voted (`last_voted_round` > 0) is live safety data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// No `secure_storage.json`.
    Absent,
    /// Present but never voted with (`last_voted_round` 0 or missing).
    Fresh,
    /// Present with safety data that has voted (or unreadable, which is treated as live: unknown is not safe).
    Live,
}

/// Inputs of [`failover_state`] for one node; `None` means "could not be read", or (for the file inputs) that
/// the last file scan is older than the voting switch's current value and so cannot be combined with it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailoverInputs {
    /// The node's voting switch (`test_posVotingStatus`).
    pub voting_enabled: Option<bool>,
    /// The node's own safety data advanced recently: it really signs, not just has its switch on.
    pub signing: Option<bool>,
    /// `pos_db/secure_storage.json`.
    pub storage: Option<Storage>,
    /// `pos_db/secure_storage.json.save` exists.
    pub save_present: Option<bool>,
    /// Another node holding the same PoS address has its switch on (or is seen signing).
    pub peer_voting: Option<bool>,
    /// Another node holding the same PoS address is seen signing.
    pub peer_signing: Option<bool>,
    /// The key is force-retired (`pos_getAccount` status.forceRetired).
    pub force_retired: Option<bool>,
}

/// Where a node stands in the primary/standby flow
/// (`conflux_pos_failover_state{node,state}`), worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailoverState {
    /// This node and another node holding its key both sign (their safety data advances): equivocation is
    /// happening now. Stop one of them immediately.
    DoubleVoting,
    /// This node and another holder both have their voting switch on, but two signers are not proven (one
    /// may lack safety data and fail to sign, or its files are not visible). Still one switch too many.
    TwoVotingSwitches,
    /// This node votes but `secure_storage.json` is missing: its safety data (last voted round) is not where
    /// it should be, so a restart could sign a conflicting vote. Check the `pos_db` path and the file.
    VotingWithoutSecureStorage,
    /// This node votes while a `.save` still lies next to its safety data: a later `start_voting [false]`,
    /// or a copy of that file to another node, would resurrect stale safety data. Archive the `.save`.
    SavePresentWhileVoting,
    /// This node does not vote but holds resumable safety data (a `.save`, or a `secure_storage.json` that
    /// has voted) while the key votes on another node: starting to vote from it would equivocate.
    StandbyHoldingSaveWhilePrimaryVotes,
    /// The switch is on but the key is force-retired and this node does not sign: it votes for nothing
    /// until the key is registered again.
    RetiredNotSigning,
    /// The normal primary: voting, safety data present, no `.save`, no other voter for the key.
    PrimaryVoting,
    /// Not voting and holding resumable safety data while nobody votes with the key: the hand-over is in
    /// progress and this node can take over with `start_voting [false]`.
    StandbyReady,
    /// Not voting, no `.save`, only its own never-voted `secure_storage.json` (started with
    /// `pos_started_as_voter=false`): cannot take over until a `.save` is copied in.
    StandbyFreshStorage,
    /// Not voting and no safety files at all.
    StandbyIdle,
    /// Inputs are missing or not from one consistent look, so no state can be claimed.
    Unknown,
}

impl FailoverState {
    /// Every state, in label order, so a caller can export a full 0/1 set.
    pub const ALL: [FailoverState; 11] = [
        FailoverState::DoubleVoting,
        FailoverState::TwoVotingSwitches,
        FailoverState::VotingWithoutSecureStorage,
        FailoverState::SavePresentWhileVoting,
        FailoverState::StandbyHoldingSaveWhilePrimaryVotes,
        FailoverState::RetiredNotSigning,
        FailoverState::PrimaryVoting,
        FailoverState::StandbyReady,
        FailoverState::StandbyFreshStorage,
        FailoverState::StandbyIdle,
        FailoverState::Unknown,
    ];

    /// The `state` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            FailoverState::DoubleVoting => "double_voting",
            FailoverState::TwoVotingSwitches => "two_voting_switches",
            FailoverState::VotingWithoutSecureStorage => "voting_without_secure_storage",
            FailoverState::SavePresentWhileVoting => "save_present_while_voting",
            FailoverState::StandbyHoldingSaveWhilePrimaryVotes => {
                "standby_holding_save_while_primary_votes"
            }
            FailoverState::RetiredNotSigning => "retired_not_signing",
            FailoverState::PrimaryVoting => "primary_voting",
            FailoverState::StandbyReady => "standby_ready",
            FailoverState::StandbyFreshStorage => "standby_fresh_storage",
            FailoverState::StandbyIdle => "standby_idle",
            FailoverState::Unknown => "unknown",
        }
    }

    /// True for the states an operator must act on.
    pub fn is_dangerous(self) -> bool {
        matches!(
            self,
            FailoverState::DoubleVoting
                | FailoverState::TwoVotingSwitches
                | FailoverState::VotingWithoutSecureStorage
                | FailoverState::SavePresentWhileVoting
                | FailoverState::StandbyHoldingSaveWhilePrimaryVotes
        )
    }
}

/// Classifies one node. A dangerous state that the known inputs already prove wins even when other inputs are
/// missing; a normal state is claimed only when every input it rests on is known.
pub(crate) fn failover_state(i: FailoverInputs) -> FailoverState {
    match i.voting_enabled {
        Some(true) => voting_state(i),
        Some(false) => standby_state(i),
        None => FailoverState::Unknown,
    }
}

fn voting_state(i: FailoverInputs) -> FailoverState {
    use FailoverState as S;
    if i.peer_voting == Some(true) {
        if i.signing == Some(true) && i.peer_signing == Some(true) {
            S::DoubleVoting
        } else {
            S::TwoVotingSwitches
        }
    } else if i.storage == Some(Storage::Absent) {
        S::VotingWithoutSecureStorage
    } else if i.save_present == Some(true) {
        S::SavePresentWhileVoting
    } else if i.force_retired == Some(true) && i.signing != Some(true) {
        S::RetiredNotSigning
    } else if i.peer_voting == Some(false)
        && matches!(i.storage, Some(Storage::Fresh | Storage::Live))
        && i.save_present == Some(false)
    {
        S::PrimaryVoting
    } else {
        S::Unknown
    }
}

fn standby_state(i: FailoverInputs) -> FailoverState {
    use FailoverState as S;
    let holding = i.save_present == Some(true) || i.storage == Some(Storage::Live);
    if holding {
        return match i.peer_voting {
            Some(true) => S::StandbyHoldingSaveWhilePrimaryVotes,
            Some(false) => S::StandbyReady,
            None => S::Unknown,
        };
    }
    match (i.save_present, i.storage) {
        (Some(false), Some(Storage::Fresh)) => S::StandbyFreshStorage,
        (Some(false), Some(Storage::Absent)) => S::StandbyIdle,
        _ => S::Unknown,
    }
}

/// Result of comparing the expected PoS address with `owner_account` in
/// `secure_storage.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerVerdict {
    /// Same key: the safety data belongs to the address we watch.
    Match,
    /// Different keys: we watch one address while the node's safety data (and
    /// therefore its signing key) belongs to another.
    Mismatch {
        /// Address configured or discovered over RPC.
        expected: PosAddress,
        /// `owner_account` from the file.
        found: PosAddress,
    },
    /// One side is unknown.
    Unknown,
}

/// Compares the watched address with the file's owner.
pub(crate) fn owner_verdict(
    expected: Option<&PosAddress>,
    storage_owner: Option<&PosAddress>,
) -> OwnerVerdict {
    match (expected, storage_owner) {
        (Some(e), Some(f)) if e == f => OwnerVerdict::Match,
        (Some(e), Some(f)) => OwnerVerdict::Mismatch {
            expected: e.clone(),
            found: f.clone(),
        },
        _ => OwnerVerdict::Unknown,
    }
}

/// Read-only analogue of `test_posStopElection` returning `null`: the node
/// may be stopped without missing votes when its address is neither in the
/// current committee nor among the top electing nodes of the two future terms
/// (`pos_getCommittee().elections[*].topElectingNodes`). Only a known address
/// can be judged, which the type guarantees: "safe" is never claimed for a key
/// we could not identify.
pub(crate) fn safe_to_stop<'a>(
    ours: &PosAddress,
    committee: impl IntoIterator<Item = &'a PosAddress>,
    electing: impl IntoIterator<Item = &'a PosAddress>,
) -> bool {
    let seated = committee.into_iter().any(|a| a == ours);
    let electing = electing.into_iter().any(|a| a == ours);
    !seated && !electing
}

#[cfg(test)]
mod tests;
