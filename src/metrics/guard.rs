//! The double-voting guard across the configured nodes: how many hold, switch on and actually sign with each PoS
//! key, where each node stands in a primary/standby hand-over, how old the inputs of that verdict are, whether its
//! safety data belongs to its own key, and whether it may be stopped without missing votes. Verdicts (and the
//! memory and logging they need) come from the judge (`assess::judge`); this file only turns them into series.

use super::def::catalogue;
use super::value::{flag, set};
use crate::assess::guard::look::{KeyCount, NodeVerdict};
use crate::assess::guard::{FailoverState, OwnerVerdict};
use crate::judge::{NodeVerdicts, Verdicts};
use crate::state::{NodeState, State};

catalogue! {
    /// Guard families.
    pub struct GuardFamilies {
        section("Double-voting guard", "Across the nodes this exporter watches: how many hold, switch on and actually sign with each PoS key, where each node stands in a primary/standby hand-over, and whether it may be stopped. A node that stops answering still holds its key, and an unknown is never counted as off.");
        active_voters: Gauge("conflux_pos_active_voters", ["pos_address"], "Key holders with voting on", doc: "How many of this exporter's configured nodes holding the PoS address have their voting switch on (test_posVotingStatus); above 1 means one switch too many (see conflux_pos_signing_holders for actual signers). Absent while a holder's switch is unknown (node down, RPC timed out) unless two are already on: an unknown is never counted as off. A node that stops answering still holds its key."),
        key_holders: Gauge("conflux_pos_key_holders", ["pos_address", "state"], "Key holders by voting switch state", doc: "Configured nodes holding the PoS address by voting switch: state voting, not_voting or unknown (down, timed out, not served; a node whose own address is unknown and might vote counts as unknown for every key)."),
        signing_holders: Gauge("conflux_pos_signing_holders", ["pos_address"], "Key holders that sign (2+: equivocation)", doc: "How many of this exporter's nodes holding the PoS address actually sign: their own pos_db/secure_storage.json safety data (epoch, last_voted_round) advanced within the last 120 s. Above 1 is equivocation in progress. Absent while a holder's signing is unknown (key files not visible) unless two already sign."),
        signing: Gauge("conflux_pos_signing", ["node"], "1 when the node signs", doc: "1 when the node's own safety data (secure_storage.json epoch / last_voted_round) advanced within the last 120 s, i.e. it signs votes or timeouts, not merely has its switch on; 0 when the switch is off, the file is absent or did not advance; absent when the files are not visible."),
        failover_state: Gauge("conflux_pos_failover_state", ["node", "state"], "1 for the node's primary/standby state", doc: "1 for the node's primary/standby state, 0 for the others: primary_voting, standby_ready, standby_fresh_storage, standby_idle, retired_not_signing, unknown, and the dangerous double_voting (two signers), two_voting_switches, voting_without_secure_storage, save_present_while_voting, standby_holding_save_while_primary_votes. The key files are combined with the voting switch only when scanned while the switch held its current value (after its first and before its latest reading of that value); otherwise the state is unknown until such a scan exists."),
        input_age: Gauge("conflux_pos_guard_input_age_seconds", ["node", "input"], "Age of the failover inputs", doc: "Age of the failover verdict's inputs at publish: input voting_switch (last test_posVotingStatus read) and key_files (last scan of pos_db). Absent while that input is unknown."),
        owner_mismatch: Gauge("conflux_pos_key_owner_mismatch", ["node"], "1 when the safety data is another key's", doc: "1 when owner_account in pos_db/secure_storage.json (else the .save) differs from the node's PoS address: the safety data is another key's. Absent while either side is unknown."),
        safe_to_stop: Gauge("conflux_pos_safe_to_stop", ["node"], "1 when stopping the node misses no vote", doc: "1 when our PoS address is neither in the current committee nor among the elected or electing nodes of the two upcoming terms (pos_getCommittee), so the node can stop without missing votes; the exporter never calls stop_election. Absent while the node's own switch or another holder's switch is unknown."),
    }
}

impl GuardFamilies {
    /// Re-derives every guard series from the judge's verdicts.
    pub(crate) fn publish(&self, state: &State, verdicts: &Verdicts) {
        self.reset_gauges();
        let view = &verdicts.guard;
        for (address, count) in &view.keys {
            self.publish_key(address.as_str(), count);
        }
        let nodes = state.nodes.iter().zip(&view.nodes).zip(&verdicts.nodes);
        for ((node, v), nv) in nodes {
            self.publish_verdict(v);
            self.publish_node(node, nv, view.switches_known(v));
        }
    }

    fn publish_key(&self, address: &str, c: &KeyCount) {
        for (state, n) in [
            ("voting", c.switch_on),
            ("not_voting", c.switch_off),
            ("unknown", c.switch_unknown),
        ] {
            set(&self.key_holders, &[address, state], n as f64);
        }
        if let Some(n) = c.active_voters() {
            set(&self.active_voters, &[address], n as f64);
        }
        if let Some(n) = c.signers() {
            set(&self.signing_holders, &[address], n as f64);
        }
    }

    fn publish_verdict(&self, v: &NodeVerdict) {
        let n = v.node.as_str();
        for s in FailoverState::ALL {
            set(&self.failover_state, &[n, s.as_str()], flag(s == v.state));
        }
        if let Some(s) = v.signing {
            set(&self.signing, &[n], flag(s));
        }
        for (input, age) in [("voting_switch", v.switch_age), ("key_files", v.files_age)] {
            if let Some(age) = age {
                set(&self.input_age, &[n, input], age.as_secs_f64());
            }
        }
    }

    /// Owner cross-check and safe-to-stop; the latter only when every holder's switch of the key is known.
    fn publish_node(&self, node: &NodeState, v: &NodeVerdicts, switches_known: bool) {
        let n = node.name.as_str();
        match v.owner {
            Some(OwnerVerdict::Match) => set(&self.owner_mismatch, &[n], 0.0),
            Some(OwnerVerdict::Mismatch { .. }) => set(&self.owner_mismatch, &[n], 1.0),
            _ => {}
        }
        // The key's committee seats come from the view in use; stopping is judged only while the node answers.
        let free = v.key.as_ref().and_then(|k| k.free_to_stop);
        if let (true, true, Some(free)) = (node.poll.up, switches_known, free) {
            set(&self.safe_to_stop, &[n], flag(free));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::test_support::{text, value};
    use crate::state::{PollStatus, PosObs};
    use std::time::SystemTime;

    const KEY: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";

    fn node(name: &str, up: bool, voting: Option<bool>) -> NodeState {
        NodeState {
            name: name.into(),
            poll: PollStatus {
                polled: true,
                up,
                ..Default::default()
            },
            pos: up.then(|| PosObs {
                address: crate::pos_address::PosAddress::parse(KEY).ok(),
                voting_enabled: voting,
                voting_asked_at: Some(SystemTime::now()),
                voting_seen_at: Some(SystemTime::now()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// The families with the judge that feeds them, as the publisher runs them.
    struct Guard {
        families: GuardFamilies,
        judge: crate::judge::Judge,
    }

    impl Guard {
        fn publish(&mut self, state: &State, now: SystemTime) {
            let verdicts = self.judge.judge(state, now);
            self.families.publish(state, &verdicts);
        }
    }

    fn families() -> (prometheus::Registry, Guard) {
        let r = prometheus::Registry::new();
        let g = Guard {
            families: GuardFamilies::register(&r).unwrap(),
            judge: Default::default(),
        };
        (r, g)
    }

    fn state_of(g: &Guard, n: &str) -> Vec<&'static str> {
        FailoverState::ALL
            .iter()
            .filter(|s| {
                g.families
                    .failover_state
                    .with_label_values(&[n, s.as_str()])
                    .get()
                    == 1.0
            })
            .map(|s| s.as_str())
            .collect()
    }

    #[test]
    fn a_down_holder_is_unknown_not_a_non_voter() {
        let (registry, mut g) = families();
        let now = SystemTime::now();
        let mut state = State {
            nodes: vec![node("a", true, Some(true)), node("b", true, Some(true))],
            ..Default::default()
        };
        for n in &mut state.nodes {
            n.poll.last_success = Some(now);
        }
        g.publish(&state, now);
        let f = &g.families;
        assert_eq!(f.active_voters.with_label_values(&[KEY]).get(), 2.0);
        // No key files visible: two switches, signers not proven.
        assert_eq!(state_of(&g, "a"), ["two_voting_switches"]);
        assert_eq!(state_of(&g, "b"), ["two_voting_switches"]);
        assert!(!text(&registry).contains("conflux_pos_signing_holders{"));

        state.nodes[1] = node("b", false, None);
        g.publish(&state, now);
        assert_eq!(state_of(&g, "b"), ["unknown"]);
        assert_eq!(state_of(&g, "a"), ["unknown"]);
        let t = text(&registry);
        assert!(
            !t.contains("conflux_pos_active_voters{"),
            "unknown holder: no count\n{t}"
        );
        let unknown =
            format!("conflux_pos_key_holders{{pos_address=\"{KEY}\",state=\"unknown\"}} 1");
        assert!(t.contains(&unknown), "{t}");
        assert!(!t.contains("conflux_pos_safe_to_stop{"), "{t}");
        assert!(!t.contains("conflux_pos_key_owner_mismatch{"), "{t}");
        assert!(
            t.contains("conflux_pos_guard_input_age_seconds{input=\"voting_switch\",node=\"a\"} 0"),
            "{t}"
        );
    }

    #[test]
    fn safe_to_stop_follows_the_seats_once_every_switch_is_known() {
        use crate::rpc::pos::{Committee, CommitteeState, NodeVotes};
        use crate::rpc::wire::HexU64;
        let (registry, mut g) = families();
        let now = SystemTime::now();
        let seats = |address: &str| CommitteeState {
            current_committee: Committee {
                epoch_number: HexU64(1),
                quorum_voting_power: HexU64(1),
                total_voting_power: HexU64(1),
                nodes: vec![NodeVotes {
                    address: crate::pos_address::PosAddress::parse(address).unwrap(),
                    voting_power: HexU64(1),
                }],
            },
            elections: vec![],
        };
        let mut a = node("a", true, Some(false));
        // A fresh view of the chain (the node's own): seats are only judged from one.
        let p = a.pos.as_mut().unwrap();
        p.committee = Some(seats(&KEY.replace('1', "2")));
        p.status = Some(crate::rpc::pos::PosStatus {
            epoch: HexU64(1),
            latest_committed: HexU64(10),
            latest_voted: None,
            latest_tx_number: None,
        });
        p.view.source = Some(crate::state::ViewSource::Local);
        let mut state = State {
            nodes: vec![a],
            ..Default::default()
        };
        let safe = |r: &prometheus::Registry| {
            value(&text(r), "conflux_pos_safe_to_stop", &[("node", "a")])
        };
        g.publish(&state, now);
        assert_eq!(safe(&registry), Some(1.0));
        state.nodes[0].pos.as_mut().unwrap().committee = Some(seats(&KEY[2..]));
        g.publish(&state, now);
        assert_eq!(safe(&registry), Some(0.0), "seated");
        state.nodes[0].pos.as_mut().unwrap().voting_enabled = None;
        g.publish(&state, now);
        assert!(
            !text(&registry).contains("conflux_pos_safe_to_stop{"),
            "own switch unknown"
        );
        let p = state.nodes[0].pos.as_mut().unwrap();
        p.voting_enabled = Some(false);
        p.view.source = None;
        g.publish(&state, now);
        assert!(
            !text(&registry).contains("conflux_pos_safe_to_stop{"),
            "no fresh view of the seats"
        );
    }
}
