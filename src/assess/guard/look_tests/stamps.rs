//! A switch reading takes time (asked, then answered) and so does a file scan (started, then finished): a correct
//! `stop_voting` (switch off, then `secure_storage.json` renamed to `.save`) that happens while either is under
//! way must never be judged dangerous, and a real danger must still show.

use super::*;

fn ms(t: u64) -> SystemTime {
    at(0) + Duration::from_millis(t)
}

/// Node `a` (the primary): switch `on` asked at `asked` and answered at `seen`; files scanned over `scan`.
fn primary(
    on: bool,
    (asked, seen): (u64, u64),
    files: (StorageLook, bool),
    scan: (u64, u64),
) -> NodeLook {
    NodeLook {
        node: "a".into(),
        address: Some(key()),
        switch: Some(on),
        switch_asked_at: Some(ms(asked)),
        switch_seen_at: Some(ms(seen)),
        files: Some(FilesLook {
            scanned_at: ms(scan.0),
            finished_at: ms(scan.1),
            storage: Some(files.0),
            save_present: Some(files.1),
        }),
        force_retired: Some(false),
    }
}

/// The standby `b`, switch off with its own never-voted store, read at `t`.
fn standby(t: u64) -> NodeLook {
    let mut b = node("b", Some(false), 0, mark(0, 0), false, 0);
    b.switch_asked_at = Some(ms(t));
    b.switch_seen_at = Some(ms(t + 5));
    b.files = b.files.map(|f| FilesLook {
        scanned_at: ms(t + 10),
        finished_at: ms(t + 12),
        ..f
    });
    b
}

const LIVE: (StorageLook, bool) = (
    StorageLook::Present(SafetyMark {
        epoch: Some(7),
        last_voted_round: Some(5),
        updated: Some(T0),
    }),
    false,
);
const STOPPED: (StorageLook, bool) = (StorageLook::Absent, true);

/// Judges `a` with the standby beside it; the standby is never dangerous either.
fn judge_a(m: &mut GuardMemory, a: NodeLook, now: u64) -> S {
    let v = m.look(&[a, standby(now - 20)], ms(now));
    assert!(!v.nodes[1].state.is_dangerous(), "B {:?}", v.nodes[1].state);
    v.nodes[0].state
}

/// A primary voting normally, its switch read at 0/10 and 100/110, its files scanned at 20 and 150.
fn voting_primary() -> GuardMemory {
    let mut m = GuardMemory::default();
    judge_a(&mut m, primary(true, (0, 10), LIVE, (20, 25)), 30);
    let s = judge_a(&mut m, primary(true, (100, 110), LIVE, (150, 155)), 160);
    assert_eq!(s, S::PrimaryVoting);
    m
}

#[test]
fn a_slow_switch_answer_is_not_combined_with_a_scan_taken_after_stop_voting() {
    let mut m = voting_primary();
    // Asked at 200, the node answers "on"; stop_voting at 300 (off, then rename at 310); the scan at 400 sees
    // the .save; the answer is processed at 500. Before it is, the scan is newer than the latest reading.
    let s = judge_a(&mut m, primary(true, (100, 110), STOPPED, (400, 405)), 410);
    assert!(!s.is_dangerous(), "before the slow answer: {s:?}");
    let s = judge_a(&mut m, primary(true, (200, 500), STOPPED, (400, 405)), 510);
    assert_eq!(
        s,
        S::PrimaryVoting,
        "judged on the scan at 150, before the ask"
    );
    // The off reading: until a scan falls between its answer and a later ask, nothing is claimed.
    let s = judge_a(&mut m, primary(false, (600, 610), STOPPED, (700, 705)), 710);
    assert_eq!(s, S::Unknown);
    let s = judge_a(&mut m, primary(false, (800, 810), STOPPED, (700, 705)), 820);
    assert_eq!(s, S::StandbyReady);
}

#[test]
fn a_slow_scan_is_not_combined_with_a_switch_read_while_it_ran() {
    let mut m = voting_primary();
    // The scan starts at 190, the switch is asked at 200 and answers "on" at 210, stop_voting at 300; the scan
    // reads the files only at 400, after the rename.
    let s = judge_a(&mut m, primary(true, (200, 210), STOPPED, (190, 400)), 410);
    assert_eq!(s, S::PrimaryVoting, "judged on the scan at 150");
}

#[test]
fn a_voter_that_lost_its_store_is_still_reported() {
    let mut m = voting_primary();
    // The store is renamed away while the switch stays on: the next reading asked after the scan shows it.
    let s = judge_a(&mut m, primary(true, (200, 210), STOPPED, (300, 305)), 310);
    assert_eq!(
        s,
        S::PrimaryVoting,
        "the scan at 300 is newer than the ask at 200"
    );
    let s = judge_a(&mut m, primary(true, (400, 900), STOPPED, (300, 305)), 910);
    assert_eq!(s, S::VotingWithoutSecureStorage);
    let s = judge_a(
        &mut m,
        primary(true, (1000, 1010), LIVE, (1020, 1025)),
        1030,
    );
    assert_eq!(
        s,
        S::VotingWithoutSecureStorage,
        "until a later scan is usable"
    );
}
