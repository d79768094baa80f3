//! Tests of `assess::guard::look` with a fake clock: unknown holders and stale scans here, signers versus switches
//! in `signers.rs`.

use super::*;
use FailoverState as S;

mod signers;
mod stamps;

const KEY: &str = "0x5eed00000000000000000000000000000000000000000000000000000000c0de";
const BARE: &str = "5eed00000000000000000000000000000000000000000000000000000000c0de";
const T0: u64 = 1_800_000_000;

fn key() -> PosAddress {
    PosAddress::parse(KEY).expect("valid")
}

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + secs)
}

fn mark(round: u64, updated: u64) -> StorageLook {
    StorageLook::Present(SafetyMark {
        epoch: Some(7),
        last_voted_round: Some(round),
        updated: Some(T0 + updated),
    })
}

/// One node: switch read at `switch_at` (asked and answered at once), files scanned at `scan_at` (instantly).
fn node(
    name: &str,
    switch: Option<bool>,
    switch_at: u64,
    storage: StorageLook,
    save: bool,
    scan_at: u64,
) -> NodeLook {
    NodeLook {
        node: name.into(),
        address: Some(key()),
        switch,
        switch_asked_at: Some(at(switch_at)),
        switch_seen_at: Some(at(switch_at)),
        files: Some(FilesLook {
            scanned_at: at(scan_at),
            finished_at: at(scan_at),
            storage: Some(storage),
            save_present: Some(save),
        }),
        force_retired: Some(false),
    }
}

fn states(v: &GuardView) -> Vec<S> {
    v.nodes.iter().map(|n| n.state).collect()
}

#[test]
fn an_unknown_holder_makes_every_dependent_verdict_unknown() {
    let mut m = GuardMemory::default();
    // Old primary A holds a stale .save; new primary B votes and signs.
    let a = node("a", Some(false), 1, StorageLook::Absent, true, 1);
    let b0 = node("b", Some(true), 1, mark(10, 0), false, 1);
    let b1 = node("b", Some(true), 6, mark(12, 5), false, 6);
    m.look(&[a.clone(), b0], at(1));
    let v = m.look(&[a.clone(), b1.clone()], at(6));
    assert_eq!(
        states(&v),
        [S::StandbyHoldingSaveWhilePrimaryVotes, S::PrimaryVoting]
    );
    assert_eq!(v.keys[&key()].active_voters(), Some(1));
    assert_eq!(v.keys[&key()].signers(), Some(1));
    assert!(v.switches_known(&v.nodes[0]) && v.switches_known(&v.nodes[1]));

    // B's RPC times out; its files are not visible to this exporter either (remote host).
    let mut b_down = b1.clone();
    b_down.switch = None;
    b_down.switch_seen_at = None;
    b_down.files = None;
    let v = m.look(&[a.clone(), b_down], at(10));
    assert_eq!(states(&v), [S::Unknown, S::Unknown], "never standby_ready");
    let k = v.keys[&key()];
    assert_eq!(
        (k.holders, k.switch_unknown),
        (2, 1),
        "B still holds the key"
    );
    assert_eq!(k.active_voters(), None, "not undercounted as 0");
    assert_eq!(k.signers(), None);
    assert!(
        !v.switches_known(&v.nodes[0]),
        "A's own switch is known, B's is not"
    );
    assert!(!v.switches_known(&v.nodes[1]));

    // B's RPC times out but its files (same host) keep advancing: it signs, so A's .save is still stale.
    let mut b_timeout = b1;
    b_timeout.switch = None;
    b_timeout.switch_seen_at = None;
    b_timeout.files = Some(FilesLook {
        scanned_at: at(11),
        finished_at: at(11),
        storage: Some(mark(15, 11)),
        save_present: Some(false),
    });
    let v = m.look(&[a, b_timeout], at(12));
    assert_eq!(
        states(&v),
        [S::StandbyHoldingSaveWhilePrimaryVotes, S::Unknown]
    );
    assert_eq!(v.keys[&key()].signers(), Some(1));
    assert_eq!(v.nodes[1].signing, Some(true));
}

#[test]
fn an_old_switch_reading_is_unknown() {
    let mut m = GuardMemory::default();
    let a = node("a", Some(false), 100, StorageLook::Absent, true, 100);
    let b = node("b", Some(false), 100, StorageLook::Absent, false, 100);
    let v = m.look(&[a.clone(), b.clone()], at(101));
    assert_eq!(v.nodes[0].state, S::StandbyReady);
    // B's PoS head keeps timing out: its last reading ages.
    let mut b_old = b;
    b_old.switch_seen_at = Some(at(100));
    let late = 101 + SWITCH_STALE_AFTER.as_secs();
    let v = m.look(&[a, b_old], at(late));
    assert_eq!(
        v.nodes[0].state,
        S::Unknown,
        "A's .save is not 'ready' on B's old word"
    );
    assert_eq!(v.keys[&key()].active_voters(), None);
}

#[test]
fn a_node_of_unknown_key_keeps_standby_ready_unknown() {
    let mut m = GuardMemory::default();
    let a = node("a", Some(false), 1, StorageLook::Absent, true, 1);
    let mut stranger = node("x", None, 0, StorageLook::Absent, false, 1);
    stranger.address = None;
    stranger.files = None;
    let v = m.look(&[a.clone(), stranger.clone()], at(2));
    assert_eq!(v.nodes[0].state, S::Unknown);
    assert_eq!(v.keys[&key()].active_voters(), None);
    // Known not to vote: it cannot be a second voter of any key.
    stranger.switch = Some(false);
    let v = m.look(&[a, stranger], at(3));
    assert_eq!(v.nodes[0].state, S::StandbyReady);
    assert_eq!(v.keys[&key()].active_voters(), Some(0));
}

#[test]
fn a_down_node_keeps_its_remembered_address() {
    let mut m = GuardMemory::default();
    let a = node("a", Some(false), 1, StorageLook::Absent, true, 1);
    let b = node("b", Some(true), 1, mark(3, 0), false, 1);
    m.look(&[a.clone(), b.clone()], at(2));
    let mut gone = b;
    gone.address = None;
    gone.switch = None;
    gone.files = None;
    let v = m.look(&[a, gone], at(3));
    assert_eq!(v.nodes[1].address, Some(key()));
    assert_eq!(v.keys[&key()].holders, 2);
    assert_eq!(v.nodes[0].state, S::Unknown);
}

/// The correct takeover on B, seen with every ordering of switch reads and file scans (item 2).
#[test]
fn stale_scans_never_produce_a_dangerous_state_during_a_correct_takeover() {
    // (description, switch on B, switch read at, B's scan: storage, .save, scanned at, B's expected state)
    let rows: [(&str, bool, u64, StorageLook, bool, u64, S); 6] = [
        ("before", false, 10, mark(0, 0), true, 10, S::StandbyReady),
        // start_voting [false] at 11: .save renamed over the own file, switch on. Scan still from 10.
        (
            "switch fresh, scan old",
            true,
            12,
            mark(0, 0),
            true,
            10,
            S::Unknown,
        ),
        (
            "scan at the switch read",
            true,
            12,
            mark(40, 9),
            false,
            12,
            S::PrimaryVoting,
        ),
        (
            "scan newer",
            true,
            15,
            mark(40, 9),
            false,
            16,
            S::PrimaryVoting,
        ),
        // A scan taken before the switch read but after the switch was first seen on is consistent.
        (
            "switch read again, scan between",
            true,
            20,
            mark(41, 18),
            false,
            18,
            S::PrimaryVoting,
        ),
        ("still", true, 25, mark(42, 24), false, 24, S::PrimaryVoting),
    ];
    let mut m = GuardMemory::default();
    let a = node("a", Some(false), 0, StorageLook::Absent, false, 0);
    for (what, on, read, storage, save, scan, want) in rows {
        let b = node("b", Some(on), read, storage, save, scan);
        let now = read.max(scan) + 1;
        let v = m.look(&[a.clone(), b], at(now));
        assert_eq!(v.nodes[1].state, want, "{what}");
        assert!(
            !v.nodes[0].state.is_dangerous(),
            "{what}: A {:?}",
            v.nodes[0].state
        );
        assert_eq!(
            v.nodes[1].switch_age,
            Some(Duration::from_secs(now - read)),
            "{what}"
        );
        assert_eq!(
            v.nodes[1].files_age,
            Some(Duration::from_secs(now - scan)),
            "{what}"
        );
    }
}

#[test]
fn the_stop_is_consistent_too() {
    let mut m = GuardMemory::default();
    let b = node("b", Some(false), 0, StorageLook::Absent, false, 0);
    m.look(
        &[node("a", Some(true), 0, mark(5, 0), false, 0), b.clone()],
        at(1),
    );
    // stop_voting at 3: switch off, file renamed to .save. The scan from 2 still shows the live file.
    let v = m.look(
        &[node("a", Some(false), 4, mark(5, 0), false, 2), b.clone()],
        at(4),
    );
    assert_eq!(v.nodes[0].state, S::Unknown, "old scan + new switch");
    // The scan at 5 is newer than the switch read at 4: the switch may have moved again meanwhile.
    let v = m.look(
        &[
            node("a", Some(false), 4, StorageLook::Absent, true, 5),
            b.clone(),
        ],
        at(5),
    );
    assert_eq!(v.nodes[0].state, S::Unknown, "new scan + old switch");
    let v = m.look(
        &[node("a", Some(false), 6, StorageLook::Absent, true, 5), b],
        at(6),
    );
    assert_eq!(v.nodes[0].state, S::StandbyReady);
}

#[test]
fn a_stale_switch_with_a_fresh_scan_is_not_combined() {
    // stop_voting at 3 renames the live file; the switch read at 2 still says on, the scan at 4 sees no file.
    let mut m = GuardMemory::default();
    let b = node("b", Some(false), 0, StorageLook::Absent, false, 0);
    m.look(
        &[node("a", Some(true), 1, mark(5, 0), false, 1), b.clone()],
        at(1),
    );
    let v = m.look(
        &[node("a", Some(true), 2, StorageLook::Absent, true, 4), b],
        at(4),
    );
    assert_eq!(
        v.nodes[0].state,
        S::PrimaryVoting,
        "judged on the scan at 1, taken while the switch was on"
    );
    assert_eq!(v.nodes[0].files_age, Some(Duration::from_secs(0)));
}
