//! A signature is a safety-data round that moves; a voting switch alone signs nothing.

use super::*;

#[test]
fn switches_are_not_signers() {
    let mut m = GuardMemory::default();
    // A signs; B got `test_posStartVoting [true]` without safety data: switch on, nothing advances.
    let look = |t: u64, round: u64| {
        [
            node("a", Some(true), t, mark(round, t), false, t),
            node("b", Some(true), t, mark(0, 0), false, t),
        ]
    };
    m.look(&look(0, 10), at(0));
    let v = m.look(&look(5, 11), at(5));
    assert_eq!(states(&v), [S::TwoVotingSwitches, S::TwoVotingSwitches]);
    assert_eq!(
        (v.nodes[0].signing, v.nodes[1].signing),
        (Some(true), Some(false))
    );
    let k = v.keys[&key()];
    assert_eq!((k.active_voters(), k.signers()), (Some(2), Some(1)));

    // Old primary restarted with pos_started_as_voter=true: a new own file, then it signs too.
    let both = |t: u64, ra: u64, rb: u64| {
        [
            node("a", Some(true), t, mark(ra, t), false, t),
            node("b", Some(true), t, mark(rb, t), false, t),
        ]
    };
    m.look(&both(10, 12, 1), at(10));
    let v = m.look(&both(15, 13, 2), at(15));
    assert_eq!(states(&v), [S::DoubleVoting, S::DoubleVoting]);
    assert_eq!(v.keys[&key()].signers(), Some(2));

    // B stops signing; two minutes later it no longer counts as a signer.
    let v = m.look(&both(20, 14, 2), at(20));
    assert_eq!(
        v.keys[&key()].signers(),
        Some(2),
        "signed within the window"
    );
    let late = 15 + SIGNING_WINDOW.as_secs() + 1;
    let v = m.look(&both(late, 15, 2), at(late));
    assert_eq!(v.keys[&key()].signers(), Some(1));
}

#[test]
fn an_old_primary_restarted_as_voter_signs_at_its_first_scan() {
    let mut m = GuardMemory::default();
    // After the hand-over: switch off, no store, the stale .save still there.
    m.look(
        &[node("a", Some(false), 0, StorageLook::Absent, true, 0)],
        at(0),
    );
    // Restarted with pos_started_as_voter=true: a new store that has already voted, written since the last scan.
    let v = m.look(&[node("a", Some(true), 10, mark(2, 9), true, 10)], at(10));
    assert_eq!(v.nodes[0].signing, Some(true));
    // A store copied in from elsewhere (written long before the previous scan) is not a signature.
    let mut m = GuardMemory::default();
    m.look(
        &[node("b", Some(false), 20, StorageLook::Absent, false, 20)],
        at(20),
    );
    let v = m.look(&[node("b", Some(true), 30, mark(2, 5), false, 30)], at(30));
    assert_eq!(v.nodes[0].signing, Some(false));
}

#[test]
fn a_resumed_save_is_not_a_signature() {
    let mut m = GuardMemory::default();
    // Standby's own fresh file, then the .save (round 900, written 30 s ago) renamed over it.
    m.look(&[node("b", Some(false), 0, mark(0, 0), true, 0)], at(0));
    let v = m.look(
        &[node("b", Some(true), 40, mark(900, 10), false, 40)],
        at(40),
    );
    assert_eq!(v.nodes[0].signing, Some(false));
    let v = m.look(
        &[node("b", Some(true), 45, mark(901, 44), false, 45)],
        at(45),
    );
    assert_eq!(v.nodes[0].signing, Some(true));
}

#[test]
fn a_fresh_file_that_starts_voting_signs_at_once() {
    // Old primary restarted with pos_started_as_voter=true: new own file, then its first vote.
    let mut m = GuardMemory::default();
    m.look(&[node("a", Some(true), 0, mark(0, 0), true, 0)], at(0));
    let v = m.look(&[node("a", Some(true), 5, mark(1, 4), true, 5)], at(5));
    assert_eq!(v.nodes[0].signing, Some(true));
}

#[test]
fn without_movement_signing_is_unknown_until_the_window_has_passed() {
    let mut m = GuardMemory::default();
    let v = m.look(&[node("b", Some(true), 0, mark(9, 0), false, 0)], at(1));
    assert_eq!(v.nodes[0].signing, None, "just started watching");
    let late = SIGNING_WINDOW.as_secs() + 1;
    let v = m.look(
        &[node("b", Some(true), late, mark(9, 0), false, late)],
        at(late),
    );
    assert_eq!(v.nodes[0].signing, Some(false));
    // A never-voted store cannot be signing, even at first sight.
    let mut m = GuardMemory::default();
    let v = m.look(&[node("b", Some(true), 0, mark(0, 0), false, 0)], at(1));
    assert_eq!(v.nodes[0].signing, Some(false));
}

#[test]
fn movement_before_the_switch_went_off_does_not_count_after_it_goes_on() {
    let mut m = GuardMemory::default();
    m.look(&[node("b", Some(true), 0, mark(5, 0), false, 0)], at(0));
    let v = m.look(&[node("b", Some(true), 5, mark(6, 5), false, 5)], at(5));
    assert_eq!(v.nodes[0].signing, Some(true));
    let v = m.look(&[node("b", Some(false), 10, mark(6, 5), false, 10)], at(10));
    assert_eq!(v.nodes[0].signing, Some(false));
    // `[true]` on a node that cannot sign: the switch is on again, nothing moves.
    let v = m.look(&[node("b", Some(true), 15, mark(6, 5), false, 15)], at(15));
    assert_eq!(v.nodes[0].signing, Some(false));
    let v = m.look(&[node("b", Some(true), 20, mark(7, 20), false, 20)], at(20));
    assert_eq!(v.nodes[0].signing, Some(true));
}

#[test]
fn force_retired_key_that_does_not_sign() {
    let mut m = GuardMemory::default();
    let mut a = node("a", Some(true), 300, mark(9, 0), false, 300);
    a.force_retired = Some(true);
    a.address = PosAddress::parse(BARE).ok();
    let v = m.look(&[a], at(301));
    assert_eq!(v.nodes[0].state, S::RetiredNotSigning);
    assert_eq!(v.nodes[0].address, Some(key()), "one address, any spelling");
}
