//! Tests of `assess::guard`: every failover row, owner and safe-to-stop verdicts.

use super::*;
use FailoverState as S;

const KEY: &str = "eb0d497f27d8d73d12d6c5f13b12b5c0ebad872dc59536341cd1f31c4ede98d8";
const KEY_0X: &str = "0xEB0D497F27D8D73D12D6C5F13B12B5C0EBAD872DC59536341CD1F31C4EDE98D8";
const OTHER: &str = "0x046c00000000000000000000000000000000000000000000000000000000433c";

fn addr(raw: &str) -> PosAddress {
    PosAddress::parse(raw).expect("valid address")
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
            "two_voting_switches",
            "voting_without_secure_storage",
            "save_present_while_voting",
            "standby_holding_save_while_primary_votes"
        ]
    );
}

/// Short names for the table: t/f/n booleans, A/F/L storage.
const T: Option<bool> = Some(true);
const F: Option<bool> = Some(false);
const N: Option<bool> = None;
const A: Option<Storage> = Some(Storage::Absent);
const FR: Option<Storage> = Some(Storage::Fresh);
const L: Option<Storage> = Some(Storage::Live);
const NS: Option<Storage> = None;

type Row = (
    Option<bool>,
    Option<bool>,
    Option<Storage>,
    Option<bool>,
    Option<bool>,
    Option<bool>,
    Option<bool>,
    S,
);

#[test]
fn failover_state_table() {
    #[rustfmt::skip]
    let table: [Row; 36] = [
        // switch, signing, storage, .save, peer switch, peer signing, retired -> state
        (T, T, L, F, F, F, F, S::PrimaryVoting),
        (T, F, L, F, F, F, F, S::PrimaryVoting),
        (T, N, FR, F, F, F, N, S::PrimaryVoting),
        (T, T, L, F, T, T, F, S::DoubleVoting),
        (T, T, NS, N, T, T, N, S::DoubleVoting),
        // Two switches, but two signers not proven (a switch alone is not proof of signing: docs/node-facts.md#where-the-real-node-differs-from-the-documentation).
        (T, F, L, F, T, T, F, S::TwoVotingSwitches),
        (T, T, L, F, T, F, F, S::TwoVotingSwitches),
        (T, T, L, F, T, N, F, S::TwoVotingSwitches),
        (T, N, NS, N, T, N, N, S::TwoVotingSwitches),
        (T, F, A, F, F, F, F, S::VotingWithoutSecureStorage),
        (T, F, A, N, N, N, N, S::VotingWithoutSecureStorage),
        (T, T, L, T, F, F, F, S::SavePresentWhileVoting),
        (T, T, L, T, N, N, F, S::SavePresentWhileVoting),
        // Force-retired key whose node does not sign (item 4); a signing one is still the primary.
        (T, F, L, F, F, F, T, S::RetiredNotSigning),
        (T, N, L, F, N, N, T, S::RetiredNotSigning),
        (T, T, L, F, F, F, T, S::PrimaryVoting),
        // Unknown inputs: no normal state is claimed.
        (T, T, L, F, N, N, F, S::Unknown),
        (T, T, NS, F, F, F, F, S::Unknown),
        (T, T, L, N, F, F, F, S::Unknown),
        // Standbys (item 6: a fresh own file is not resumable safety data).
        (F, F, A, T, T, T, F, S::StandbyHoldingSaveWhilePrimaryVotes),
        (F, F, FR, T, T, N, F, S::StandbyHoldingSaveWhilePrimaryVotes),
        (F, F, L, F, T, F, F, S::StandbyHoldingSaveWhilePrimaryVotes),
        (F, F, A, T, F, F, F, S::StandbyReady),
        (F, F, FR, T, F, F, F, S::StandbyReady),
        (F, F, L, F, F, F, F, S::StandbyReady),
        (F, F, FR, F, F, F, F, S::StandbyFreshStorage),
        (F, F, FR, F, T, T, F, S::StandbyFreshStorage),
        (F, F, FR, F, N, N, N, S::StandbyFreshStorage),
        (F, F, A, F, F, F, F, S::StandbyIdle),
        (F, F, A, F, T, T, F, S::StandbyIdle),
        // Item 1: a holder whose switch is unknown never makes a standby "ready".
        (F, F, A, T, N, N, F, S::Unknown),
        (F, F, L, F, N, F, F, S::Unknown),
        // Item 2: file inputs dropped as stale leave nothing to claim.
        (F, F, NS, N, F, F, F, S::Unknown),
        (F, F, FR, N, F, F, F, S::Unknown),
        (N, N, L, F, F, F, F, S::Unknown),
        (N, T, L, F, T, T, F, S::Unknown),
    ];
    for (switch, signing, storage, save, peer, peer_signing, retired, want) in table {
        let i = FailoverInputs {
            voting_enabled: switch,
            signing,
            storage,
            save_present: save,
            peer_voting: peer,
            peer_signing,
            force_retired: retired,
        };
        assert_eq!(failover_state(i), want, "{i:?}");
    }
}

#[test]
fn owner_verdicts() {
    let (key, other) = (addr(KEY), addr(OTHER));
    // The two spellings of one key (file without 0x, RPC upper-case here) are one address once parsed.
    assert_eq!(
        owner_verdict(Some(&addr(KEY_0X)), Some(&key)),
        OwnerVerdict::Match
    );
    assert_eq!(
        owner_verdict(Some(&other), Some(&key)),
        OwnerVerdict::Mismatch {
            expected: other.clone(),
            found: key.clone()
        }
    );
    assert_eq!(owner_verdict(None, Some(&key)), OwnerVerdict::Unknown);
    assert_eq!(owner_verdict(Some(&key), None), OwnerVerdict::Unknown);
}

#[test]
fn safe_to_stop_only_when_in_no_current_or_future_term() {
    let (key, other) = (addr(KEY), addr(OTHER));
    assert!(safe_to_stop(&key, [], []));
    assert!(safe_to_stop(&key, [&other], [&other]));
    assert!(
        !safe_to_stop(&key, [&other, &addr(KEY_0X)], []),
        "in the committee"
    );
    assert!(!safe_to_stop(&key, [], [&key]), "elected for a future term");
}
