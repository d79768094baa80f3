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

use std::collections::BTreeMap;

/// Brings a PoS address to the one spelling used for comparisons:
/// lowercase, `0x`-prefixed, 64 hex digits.
///
/// PoS RPC results carry `0x` + 64 hex, while `secure_storage.json` and
/// `test_posRegister` carry 64 hex without `0x`; comparing raw strings would
/// report a mismatch for the same key. Returns `None` for anything that is not
/// a 32-byte hex value, so callers never compare garbage.
pub fn normalize_pos_address(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let hex = trimmed
        .strip_prefix("0x")
        .or_else(|| trimmed.strip_prefix("0X"))
        .unwrap_or(trimmed);
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(format!("0x{}", hex.to_ascii_lowercase()))
}

/// One node's view as the guard needs it: which key it holds and whether its
/// local voting switch (`test_posVotingStatus`) is on.
///
/// Both are optional because a node may be down or its address not yet
/// discovered; the guard must not guess in either case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoterInput<'a> {
    /// Configured node name (the `node` label).
    pub node: &'a str,
    /// PoS address in any accepted spelling, if known.
    pub pos_address: Option<&'a str>,
    /// The node's voting switch, if it could be read.
    pub voting_enabled: Option<bool>,
}

/// How many nodes vote with one PoS key.
///
/// `voting > 1` is equivocation in progress. `unknown` counts nodes holding
/// the key whose switch could not be read: with `voting + unknown > 1` the
/// danger cannot be ruled out, which an alert may want to know.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VoterCount {
    /// Nodes whose voting switch is on.
    pub voting: usize,
    /// Nodes whose voting switch is unknown.
    pub unknown: usize,
    /// All nodes configured with this key, whatever their switch.
    pub nodes: usize,
}

/// Counts voters per normalised PoS address (`conflux_pos_active_voters`).
///
/// Every address held by at least one node appears, with 0 voters when none
/// votes, so an alert can also catch a key that nobody signs with. Nodes
/// without a (valid) address cannot be attributed and are left out.
pub fn active_voters(nodes: &[VoterInput<'_>]) -> BTreeMap<String, VoterCount> {
    let mut out: BTreeMap<String, VoterCount> = BTreeMap::new();
    for n in nodes {
        let Some(addr) = n.pos_address.and_then(normalize_pos_address) else {
            continue;
        };
        let entry = out.entry(addr).or_default();
        entry.nodes += 1;
        match n.voting_enabled {
            Some(true) => entry.voting += 1,
            Some(false) => {}
            None => entry.unknown += 1,
        }
    }
    out
}

/// Whether some *other* node signs with `node`'s key, for [`failover_state`].
///
/// `Some(true)` as soon as one other node votes; `Some(false)` only when every
/// other holder of the key is known not to vote; `None` when `node`'s address
/// is unknown or another holder's switch is unknown and none is seen voting.
pub fn peer_voting(node: &str, nodes: &[VoterInput<'_>]) -> Option<bool> {
    let me = nodes.iter().find(|n| n.node == node)?;
    let addr = me.pos_address.and_then(normalize_pos_address)?;
    let mut unknown = false;
    for other in nodes.iter().filter(|n| n.node != node) {
        if other.pos_address.and_then(normalize_pos_address).as_deref() != Some(addr.as_str()) {
            continue;
        }
        match other.voting_enabled {
            Some(true) => return Some(true),
            Some(false) => {}
            None => unknown = true,
        }
    }
    if unknown {
        None
    } else {
        Some(false)
    }
}

/// Inputs of [`failover_state`] for one node; `None` means "could not be read".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailoverInputs {
    /// The node's voting switch (`test_posVotingStatus`).
    pub voting_enabled: Option<bool>,
    /// `pos_db/secure_storage.json` exists.
    pub secure_storage_present: Option<bool>,
    /// `pos_db/secure_storage.json.save` exists.
    pub save_present: Option<bool>,
    /// Another node with the same PoS address votes (see [`peer_voting`]).
    pub peer_voting: Option<bool>,
}

/// Where a node stands in the primary/standby flow
/// (`conflux_pos_failover_state{node,state}`), worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailoverState {
    /// This node votes and another node votes with the same key: equivocation
    /// is happening now. Stop voting on one of them immediately.
    DoubleVoting,
    /// This node votes but `secure_storage.json` is missing: its safety data
    /// (last voted round) is not where it should be, so a restart could sign
    /// a conflicting vote. Check the `pos_db` path and the file.
    VotingWithoutSecureStorage,
    /// This node votes while a `.save` still lies next to its safety data: a
    /// later `start_voting` without `--initialize`, or a copy of that file to
    /// another node, would resurrect stale safety data. Archive the `.save`.
    SavePresentWhileVoting,
    /// This node does not vote but holds a `.save` while the key votes on
    /// another node: the `.save` is older than the votes signed since, so
    /// starting to vote from it would equivocate. Remove it after hand-over.
    StandbyHoldingSaveWhilePrimaryVotes,
    /// The normal primary: voting, safety data present, no `.save`, no other
    /// voter for the key.
    PrimaryVoting,
    /// Not voting and holding a `.save` while nobody votes with the key: the
    /// hand-over is in progress and this node can take over with
    /// `start_voting`.
    StandbyReady,
    /// Not voting and no `.save`: a standby that cannot take over until a
    /// fresh `.save` is copied in. Normal while a primary votes.
    StandbyIdle,
    /// Inputs are missing, so no state can be claimed.
    Unknown,
}

impl FailoverState {
    /// Every state, in label order, so a caller can export a full 0/1 set.
    pub const ALL: [FailoverState; 8] = [
        FailoverState::DoubleVoting,
        FailoverState::VotingWithoutSecureStorage,
        FailoverState::SavePresentWhileVoting,
        FailoverState::StandbyHoldingSaveWhilePrimaryVotes,
        FailoverState::PrimaryVoting,
        FailoverState::StandbyReady,
        FailoverState::StandbyIdle,
        FailoverState::Unknown,
    ];

    /// The `state` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            FailoverState::DoubleVoting => "double_voting",
            FailoverState::VotingWithoutSecureStorage => "voting_without_secure_storage",
            FailoverState::SavePresentWhileVoting => "save_present_while_voting",
            FailoverState::StandbyHoldingSaveWhilePrimaryVotes => {
                "standby_holding_save_while_primary_votes"
            }
            FailoverState::PrimaryVoting => "primary_voting",
            FailoverState::StandbyReady => "standby_ready",
            FailoverState::StandbyIdle => "standby_idle",
            FailoverState::Unknown => "unknown",
        }
    }

    /// True for the states an operator must act on.
    pub fn is_dangerous(self) -> bool {
        matches!(
            self,
            FailoverState::DoubleVoting
                | FailoverState::VotingWithoutSecureStorage
                | FailoverState::SavePresentWhileVoting
                | FailoverState::StandbyHoldingSaveWhilePrimaryVotes
        )
    }
}

/// Classifies one node. A dangerous state that the known inputs already prove
/// wins even when other inputs are missing; a normal state is claimed only when
/// every input it rests on is known.
pub fn failover_state(i: FailoverInputs) -> FailoverState {
    use FailoverState as S;
    match i.voting_enabled {
        Some(true) => {
            if i.peer_voting == Some(true) {
                S::DoubleVoting
            } else if i.secure_storage_present == Some(false) {
                S::VotingWithoutSecureStorage
            } else if i.save_present == Some(true) {
                S::SavePresentWhileVoting
            } else if i.peer_voting == Some(false)
                && i.secure_storage_present == Some(true)
                && i.save_present == Some(false)
            {
                S::PrimaryVoting
            } else {
                S::Unknown
            }
        }
        Some(false) => match (i.save_present, i.peer_voting) {
            (Some(true), Some(true)) => S::StandbyHoldingSaveWhilePrimaryVotes,
            (Some(true), Some(false)) => S::StandbyReady,
            (Some(false), _) => S::StandbyIdle,
            _ => S::Unknown,
        },
        None => S::Unknown,
    }
}

/// Result of comparing the expected PoS address with `owner_account` in
/// `secure_storage.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerVerdict {
    /// Same key: the safety data belongs to the address we watch.
    Match,
    /// Different keys: we watch one address while the node's safety data (and
    /// therefore its signing key) belongs to another. Both are normalised.
    Mismatch {
        /// Address configured or discovered over RPC.
        expected: String,
        /// `owner_account` from the file.
        found: String,
    },
    /// One side is missing or not a valid address.
    Unknown,
}

/// Compares the watched address with the file's owner (either spelling).
pub fn owner_verdict(expected: Option<&str>, storage_owner: Option<&str>) -> OwnerVerdict {
    match (
        expected.and_then(normalize_pos_address),
        storage_owner.and_then(normalize_pos_address),
    ) {
        (Some(e), Some(f)) if e == f => OwnerVerdict::Match,
        (Some(expected), Some(found)) => OwnerVerdict::Mismatch { expected, found },
        _ => OwnerVerdict::Unknown,
    }
}

/// Read-only analogue of `test_posStopElection` returning `null`: the node
/// may be stopped without missing votes when its address is neither in the
/// current committee nor among the top electing nodes of the two future terms
/// (`pos_getCommittee().elections[*].topElectingNodes`).
///
/// Returns `None` when `our_address` is not a valid address, because "safe"
/// must never be claimed for a key we could not identify. Entries in the lists
/// that are not valid addresses are ignored.
pub fn safe_to_stop<A, B>(our_address: &str, committee: &[A], electing: &[B]) -> Option<bool>
where
    A: AsRef<str>,
    B: AsRef<str>,
{
    let ours = normalize_pos_address(our_address)?;
    let listed = |a: &str| normalize_pos_address(a).as_deref() == Some(ours.as_str());
    let seated = committee.iter().any(|a| listed(a.as_ref()));
    let electing = electing.iter().any(|a| listed(a.as_ref()));
    Some(!seated && !electing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use FailoverState as S;

    const KEY: &str = "eb0d497f27d8d73d12d6c5f13b12b5c0ebad872dc59536341cd1f31c4ede98d8";
    const KEY_0X: &str = "0xEB0D497F27D8D73D12D6C5F13B12B5C0EBAD872DC59536341CD1F31C4EDE98D8";
    const OTHER: &str = "0x046c00000000000000000000000000000000000000000000000000000000433c";

    #[test]
    fn normalizes_both_spellings_and_rejects_garbage() {
        let want = format!("0x{KEY}");
        assert_eq!(normalize_pos_address(KEY).as_deref(), Some(want.as_str()));
        assert_eq!(
            normalize_pos_address(KEY_0X).as_deref(),
            Some(want.as_str())
        );
        assert_eq!(
            normalize_pos_address(&format!(" {KEY}\n")).as_deref(),
            Some(want.as_str())
        );
        assert_eq!(normalize_pos_address(&KEY[..63]), None);
        assert_eq!(normalize_pos_address(&format!("{KEY}00")), None);
        assert_eq!(
            normalize_pos_address(&format!("0x{}", "g".repeat(64))),
            None
        );
        assert_eq!(normalize_pos_address(""), None);
    }

    fn v<'a>(node: &'a str, addr: Option<&'a str>, voting: Option<bool>) -> VoterInput<'a> {
        VoterInput {
            node,
            pos_address: addr,
            voting_enabled: voting,
        }
    }

    #[test]
    fn active_voters_counts_per_key_across_spellings() {
        let nodes = [
            v("a", Some(KEY), Some(true)),
            v("b", Some(KEY_0X), Some(true)),
            v("c", Some(KEY), None),
            v("d", Some(OTHER), Some(false)),
            v("e", None, Some(true)),
            v("f", Some("not-an-address"), Some(true)),
        ];
        let got = active_voters(&nodes);
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[&format!("0x{KEY}")],
            VoterCount {
                voting: 2,
                unknown: 1,
                nodes: 3
            }
        );
        assert_eq!(
            got[OTHER],
            VoterCount {
                voting: 0,
                unknown: 0,
                nodes: 1
            }
        );
    }

    #[test]
    fn peer_voting_is_only_certain_when_every_peer_is_known() {
        let nodes = [
            v("a", Some(KEY), Some(true)),
            v("b", Some(KEY_0X), Some(false)),
            v("c", Some(OTHER), Some(true)),
            v("d", None, Some(false)),
        ];
        assert_eq!(
            peer_voting("a", &nodes),
            Some(false),
            "c votes, but with another key"
        );
        assert_eq!(peer_voting("b", &nodes), Some(true));
        assert_eq!(peer_voting("c", &nodes), Some(false));
        assert_eq!(peer_voting("d", &nodes), None, "own address unknown");
        assert_eq!(peer_voting("zz", &nodes), None, "no such node");
        let with_unknown = [v("a", Some(KEY), Some(true)), v("b", Some(KEY), None)];
        assert_eq!(peer_voting("a", &with_unknown), None);
        let unknown_and_voting = [
            v("a", Some(KEY), Some(false)),
            v("b", Some(KEY), None),
            v("c", Some(KEY), Some(true)),
        ];
        assert_eq!(peer_voting("a", &unknown_and_voting), Some(true));
    }

    #[test]
    fn labels_are_unique_and_danger_is_flagged() {
        let labels: std::collections::BTreeSet<_> = S::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(labels.len(), S::ALL.len());
        let dangerous: Vec<_> = S::ALL
            .iter()
            .filter(|s| s.is_dangerous())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(
            dangerous,
            [
                "double_voting",
                "voting_without_secure_storage",
                "save_present_while_voting",
                "standby_holding_save_while_primary_votes"
            ]
        );
    }

    #[test]
    fn owner_verdicts() {
        assert_eq!(owner_verdict(Some(KEY_0X), Some(KEY)), OwnerVerdict::Match);
        assert_eq!(
            owner_verdict(Some(OTHER), Some(KEY)),
            OwnerVerdict::Mismatch {
                expected: OTHER.to_string(),
                found: format!("0x{KEY}")
            }
        );
        assert_eq!(owner_verdict(None, Some(KEY)), OwnerVerdict::Unknown);
        assert_eq!(owner_verdict(Some(KEY), None), OwnerVerdict::Unknown);
        assert_eq!(
            owner_verdict(Some("0x12"), Some(KEY)),
            OwnerVerdict::Unknown
        );
    }

    #[test]
    fn safe_to_stop_only_when_in_no_current_or_future_term() {
        let none: [&str; 0] = [];
        assert_eq!(safe_to_stop(KEY, &none, &none), Some(true));
        assert_eq!(safe_to_stop(KEY, &[OTHER], &[OTHER]), Some(true));
        assert_eq!(
            safe_to_stop(KEY, &[OTHER, KEY_0X], &none),
            Some(false),
            "in the committee"
        );
        assert_eq!(
            safe_to_stop(KEY_0X, &none, &[KEY.to_string()]),
            Some(false),
            "elected for a future term"
        );
        assert_eq!(safe_to_stop(KEY, &["garbage"], &none), Some(true));
        assert_eq!(safe_to_stop("0x1", &none, &none), None);
    }
}
