//! The double-voting guard against the primary/standby hand-over of conflux-rust PR #2438 as measured on a real
//! node (measured on the real devnet): a standby creates its own never-voted `secure_storage.json` at start; `start_voting [false]`
//! renames the `.save` over it; `[true]` turns the switch on without safety data; restarting the old primary with
//! the default `pos_started_as_voter=true` makes a second signer. Every step through `GuardMemory` with a fake
//! clock, switch reads and file scans alternating as the two pollers do.

use std::time::{Duration, SystemTime};

use conflux_pos_exporter::assess::guard::look::{
    FilesLook, GuardMemory, GuardView, NodeLook, SafetyMark, StorageLook,
};
use conflux_pos_exporter::assess::guard::FailoverState as S;

const KEY: &str = "eb0d497f27d8d73d12d6c5f13b12b5c0ebad872dc59536341cd1f31c4ede98d8";
const KEY_0X: &str = "0xEB0D497F27D8D73D12D6C5F13B12B5C0EBAD872DC59536341CD1F31C4EDE98D8";

/// One node's switch and `pos_db`, changed only the way the node's own RPCs and start-up change them.
#[derive(Clone, Copy, Debug)]
struct Node {
    voting: bool,
    /// `secure_storage.json`: `Some(last_voted_round)`.
    storage: Option<u64>,
    /// `.save`: `Some(last_voted_round)`.
    save: Option<u64>,
    /// `test_posStartVoting [true]` without safety data: the switch is on but nothing can be signed.
    broken: bool,
}

impl Node {
    /// Started with `pos_started_as_voter=false`: own fresh file (round 0), switch off.
    fn standby() -> Self {
        Node {
            voting: false,
            storage: Some(0),
            save: None,
            broken: false,
        }
    }
    /// Started as a voter (the default): own file, switch on, signs from round 1.
    fn voter() -> Self {
        Node {
            voting: true,
            storage: Some(1),
            ..Self::standby()
        }
    }
    fn stop_voting(&mut self) {
        self.voting = false;
        self.save = self.storage.take();
    }
    /// `[false]`: the `.save` is renamed over the node's own file; fails without the own file.
    fn start_voting_resume(&mut self) -> Result<(), &'static str> {
        if self.storage.is_none() {
            return Err("No such file or directory");
        }
        self.storage = Some(self.save.take().ok_or("no .save")?);
        self.voting = true;
        Ok(())
    }
    fn start_voting_true(&mut self) {
        self.voting = true;
        self.broken = self.storage.unwrap_or(0) == 0;
    }
    /// One round passes: a voting node with usable safety data signs.
    fn tick(&mut self) {
        if self.voting && !self.broken {
            self.storage = self.storage.map(|r| r + 1);
        }
    }
}

struct World {
    memory: GuardMemory,
    t: u64,
}

impl World {
    fn at(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + self.t)
    }

    fn look_of(&self, name: &str, addr: &str, n: &Node) -> NodeLook {
        let mark = |r: u64| SafetyMark {
            epoch: Some(3),
            last_voted_round: Some(r),
            updated: Some(1_800_000_000 + self.t),
        };
        NodeLook {
            node: name.into(),
            address: conflux_pos_exporter::pos_address::PosAddress::parse(addr).ok(),
            switch: Some(n.voting),
            switch_asked_at: Some(self.at()),
            switch_seen_at: Some(self.at()),
            files: Some(FilesLook {
                scanned_at: self.at() + Duration::from_millis(1),
                finished_at: self.at() + Duration::from_millis(1),
                storage: Some(
                    n.storage
                        .map_or(StorageLook::Absent, |r| StorageLook::Present(mark(r))),
                ),
                save_present: Some(n.save.is_some()),
            }),
            force_retired: Some(false),
        }
    }

    /// Two polls 5 s apart with a round in between, as the exporter would see the pair after a step.
    fn observe(&mut self, a: &mut Node, b: &mut Node) -> (S, S, Option<usize>, Option<usize>) {
        let mut v = GuardView::default();
        for _ in 0..2 {
            a.tick();
            b.tick();
            self.t += 5;
            let looks = [self.look_of("A", KEY, a), self.look_of("B", KEY_0X, b)];
            v = self
                .memory
                .look(&looks, self.at() + Duration::from_millis(2));
        }
        let k = v.keys[&conflux_pos_exporter::pos_address::PosAddress::parse(KEY).expect("valid")];
        (
            v.nodes[0].state,
            v.nodes[1].state,
            k.active_voters(),
            k.signers(),
        )
    }
}

fn world() -> World {
    World {
        memory: GuardMemory::default(),
        t: 0,
    }
}

#[test]
fn measured_handover_sequence() {
    let mut w = world();
    let (mut a, mut b) = (Node::voter(), Node::standby());
    assert_eq!(
        w.observe(&mut a, &mut b),
        (S::PrimaryVoting, S::StandbyFreshStorage, Some(1), Some(1))
    );
    a.stop_voting();
    assert_eq!(
        a.clone().start_voting_resume(),
        Err("No such file or directory"),
        "the stopped node cannot resume from its own .save"
    );
    assert_eq!(
        w.observe(&mut a, &mut b),
        (S::StandbyReady, S::StandbyFreshStorage, Some(0), Some(0))
    );
    b.save = a.save; // the operator copies A's .save into B's pos_db
    assert_eq!(
        w.observe(&mut a, &mut b),
        (S::StandbyReady, S::StandbyReady, Some(0), Some(0))
    );
    b.start_voting_resume().unwrap();
    assert_eq!(
        w.observe(&mut a, &mut b),
        (
            S::StandbyHoldingSaveWhilePrimaryVotes,
            S::PrimaryVoting,
            Some(1),
            Some(1)
        ),
        "A's leftover .save is now stale"
    );
    a.save = None; // archived
    assert_eq!(
        w.observe(&mut a, &mut b),
        (S::StandbyIdle, S::PrimaryVoting, Some(1), Some(1))
    );
}

#[test]
fn restarting_the_old_primary_with_default_settings_is_two_signers() {
    let mut w = world();
    let (mut a, mut b) = (Node::voter(), Node::standby());
    w.observe(&mut a, &mut b);
    a.stop_voting();
    b.save = a.save;
    b.start_voting_resume().unwrap();
    w.observe(&mut a, &mut b);
    // Restart of A with pos_started_as_voter=true: it re-creates secure_storage.json and votes.
    a = Node {
        save: a.save,
        ..Node::voter()
    };
    let (sa, sb, voters, signers) = w.observe(&mut a, &mut b);
    assert_eq!((voters, signers), (Some(2), Some(2)));
    assert_eq!((sa, sb), (S::DoubleVoting, S::DoubleVoting));
}

#[test]
fn start_voting_true_without_safety_data_is_a_switch_not_a_signer() {
    let mut w = world();
    let (mut a, mut b) = (Node::voter(), Node::standby());
    w.observe(&mut a, &mut b);
    b.start_voting_true();
    let (sa, sb, voters, signers) = w.observe(&mut a, &mut b);
    assert_eq!((sa, sb), (S::TwoVotingSwitches, S::TwoVotingSwitches));
    assert_eq!((voters, signers), (Some(2), Some(1)));
}
