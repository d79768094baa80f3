//! The double-voting guard against the primary/standby hand-over of
//! conflux-rust PR #2438 (node reference §4.2): every step, and the mistakes
//! that make two nodes sign with one key.

use conflux_pos_exporter::assess::guard::{
    active_voters, failover_state, peer_voting, FailoverInputs, FailoverState as S, VoterInput,
};

const KEY: &str = "eb0d497f27d8d73d12d6c5f13b12b5c0ebad872dc59536341cd1f31c4ede98d8";
const KEY_0X: &str = "0xEB0D497F27D8D73D12D6C5F13B12B5C0EBAD872DC59536341CD1F31C4EDE98D8";

fn v<'a>(node: &'a str, addr: Option<&'a str>, voting: Option<bool>) -> VoterInput<'a> {
    VoterInput {
        node,
        pos_address: addr,
        voting_enabled: voting,
    }
}

fn inputs(
    voting: Option<bool>,
    ss: Option<bool>,
    save: Option<bool>,
    peer: Option<bool>,
) -> FailoverInputs {
    FailoverInputs {
        voting_enabled: voting,
        secure_storage_present: ss,
        save_present: save,
        peer_voting: peer,
    }
}

#[test]
fn failover_state_table() {
    let (t, f, n) = (Some(true), Some(false), None);
    let table = [
        // voting, secure_storage.json, .save, peer votes -> state
        (t, t, f, f, S::PrimaryVoting),
        (t, t, f, t, S::DoubleVoting),
        (t, f, t, t, S::DoubleVoting),
        (t, n, n, t, S::DoubleVoting),
        (t, f, f, f, S::VotingWithoutSecureStorage),
        (t, f, n, n, S::VotingWithoutSecureStorage),
        (t, t, t, f, S::SavePresentWhileVoting),
        (t, t, t, n, S::SavePresentWhileVoting),
        (t, t, f, n, S::Unknown),
        (t, n, f, f, S::Unknown),
        (f, f, t, t, S::StandbyHoldingSaveWhilePrimaryVotes),
        (f, t, t, t, S::StandbyHoldingSaveWhilePrimaryVotes),
        (f, f, t, f, S::StandbyReady),
        (f, t, t, f, S::StandbyReady),
        (f, t, f, f, S::StandbyIdle),
        (f, f, f, t, S::StandbyIdle),
        (f, n, f, n, S::StandbyIdle),
        (f, t, t, n, S::Unknown),
        (f, t, n, f, S::Unknown),
        (n, t, f, f, S::Unknown),
    ];
    for (voting, ss, save, peer, want) in table {
        let got = failover_state(inputs(voting, ss, save, peer));
        assert_eq!(
            got, want,
            "voting={voting:?} ss={ss:?} save={save:?} peer={peer:?}"
        );
    }
}
/// The files and switch of one node, changed only the way the node's own
/// RPCs change them (§4.1 of the node reference).
#[derive(Clone, Copy)]
struct Sim {
    voting: bool,
    secure_storage: bool,
    save: bool,
}

impl Sim {
    /// Started with `pos_started_as_voter=false`: the safety-rules store is
    /// created at start-up, nothing votes.
    fn started_as_standby() -> Self {
        Sim {
            voting: false,
            secure_storage: true,
            save: false,
        }
    }
    fn start_voting_initialize(&mut self) {
        self.voting = true;
    }
    fn stop_voting(&mut self) {
        self.voting = false;
        if self.secure_storage {
            self.secure_storage = false;
            self.save = true;
        }
    }
    fn start_voting_from_save(&mut self) {
        assert!(self.save, "start_voting without --initialize needs a .save");
        self.save = false;
        self.secure_storage = true;
        self.voting = true;
    }
}

/// States of A and B (same key) plus the voter count, as the exporter
/// would compute them from the two nodes' observations.
fn observe(a: Sim, b: Sim) -> (S, S, usize) {
    let nodes = [
        v("A", Some(KEY), Some(a.voting)),
        v("B", Some(KEY_0X), Some(b.voting)),
    ];
    let state = |name: &str, s: Sim| {
        failover_state(FailoverInputs {
            voting_enabled: Some(s.voting),
            secure_storage_present: Some(s.secure_storage),
            save_present: Some(s.save),
            peer_voting: peer_voting(name, &nodes),
        })
    };
    let voters = active_voters(&nodes)[&format!("0x{KEY}")].voting;
    (state("A", a), state("B", b), voters)
}

#[test]
fn hot_standby_handover_sequence() {
    let mut a = Sim::started_as_standby();
    let mut b = Sim::started_as_standby();
    assert_eq!(
        observe(a, b),
        (S::StandbyIdle, S::StandbyIdle, 0),
        "both start not voting"
    );

    a.start_voting_initialize();
    assert_eq!(
        observe(a, b),
        (S::PrimaryVoting, S::StandbyIdle, 1),
        "A start_voting --initialize"
    );

    a.stop_voting();
    assert!(
        !a.secure_storage && a.save,
        "stop_voting renames the safety data to .save"
    );
    assert_eq!(
        observe(a, b),
        (S::StandbyReady, S::StandbyIdle, 0),
        "A stop_voting"
    );

    b.save = a.save; // the operator copies A's .save into B's pos_db
    assert_eq!(
        observe(a, b),
        (S::StandbyReady, S::StandbyReady, 0),
        ".save copied to B"
    );

    b.start_voting_from_save();
    assert_eq!(
        observe(a, b),
        (S::StandbyHoldingSaveWhilePrimaryVotes, S::PrimaryVoting, 1),
        "B start_voting: A's leftover .save is now stale"
    );
}

#[test]
fn handover_mistakes_are_flagged() {
    // B starts voting while A still votes (A never ran stop_voting; an
    // old .save was copied to B).
    let mut a = Sim::started_as_standby();
    let mut b = Sim::started_as_standby();
    a.start_voting_initialize();
    b.save = true;
    b.start_voting_from_save();
    assert_eq!(observe(a, b), (S::DoubleVoting, S::DoubleVoting, 2));

    // Both were started as voters with the same key.
    let both = Sim {
        voting: true,
        secure_storage: true,
        save: false,
    };
    assert_eq!(observe(both, both), (S::DoubleVoting, S::DoubleVoting, 2));

    // Fail-back from A's stale .save while B votes.
    let mut a = Sim::started_as_standby();
    let mut b = Sim::started_as_standby();
    a.start_voting_initialize();
    a.stop_voting();
    b.save = true;
    b.start_voting_from_save();
    a.start_voting_from_save();
    assert_eq!(observe(a, b), (S::DoubleVoting, S::DoubleVoting, 2));

    // A restarts voting with --initialize while its .save still lies around.
    let mut a = Sim::started_as_standby();
    let b = Sim::started_as_standby();
    a.start_voting_initialize();
    a.stop_voting();
    a.start_voting_initialize();
    assert_eq!(
        observe(a, b),
        (S::VotingWithoutSecureStorage, S::StandbyIdle, 1)
    );
    a.secure_storage = true; // the node rewrites it on its next vote
    assert_eq!(
        observe(a, b),
        (S::SavePresentWhileVoting, S::StandbyIdle, 1)
    );
}
