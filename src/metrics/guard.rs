//! The double-voting guard across the configured nodes: how many hold, switch on and actually sign with each PoS
//! key, where each node stands in a primary/standby hand-over, how old the inputs of that verdict are, whether its
//! safety data belongs to its own key, and whether it may be stopped without missing votes. Verdicts come from
//! `assess::guard` and `assess::guard_look`; this file only remembers between publishes, logs state changes and
//! turns verdicts into series.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::SystemTime;

use super::def::catalogue;
use super::value::{flag, set};
use crate::assess::guard::{owner_verdict, FailoverState, OwnerVerdict};
use crate::assess::guard_look::{GuardMemory, GuardView, KeyCount, NodeVerdict};
use crate::assess::terms::free_to_stop;
use crate::state::{HostObs, NodeState, State};

catalogue! {
    /// Guard families.
    pub struct GuardFamilies {
        section("Double-voting guard", "Across the nodes this exporter watches: how many hold, switch on and actually sign with each PoS key, where each node stands in a primary/standby hand-over, and whether it may be stopped. A node that stops answering still holds its key, and an unknown is never counted as off.");
        active_voters: Gauge("conflux_pos_active_voters", ["pos_address"], "Key holders with voting on", doc: "How many of this exporter's configured nodes holding the PoS address have their voting switch on (test_posVotingStatus); above 1 means one switch too many (see conflux_pos_signing_holders for actual signers). Absent while a holder's switch is unknown (node down, RPC timed out) unless two are already on: an unknown is never counted as off. A node that stops answering still holds its key."),
        key_holders: Gauge("conflux_pos_key_holders", ["pos_address", "state"], "Key holders by voting switch state", doc: "Configured nodes holding the PoS address by voting switch: state voting, not_voting or unknown (down, timed out, not served; a node whose own address is unknown and might vote counts as unknown for every key)."),
        signing_holders: Gauge("conflux_pos_signing_holders", ["pos_address"], "Key holders that sign (2+: equivocation)", doc: "How many of this exporter's nodes holding the PoS address actually sign: their own pos_db/secure_storage.json safety data (epoch, last_voted_round) advanced within the last 120 s. Above 1 is equivocation in progress. Absent while a holder's signing is unknown (key files not visible) unless two already sign."),
        signing: Gauge("conflux_pos_signing", ["node"], "1 when the node signs", doc: "1 when the node's own safety data (secure_storage.json epoch / last_voted_round) advanced within the last 120 s, i.e. it signs votes or timeouts, not merely has its switch on; 0 when the switch is off, the file is absent or did not advance; absent when the files are not visible."),
        failover_state: Gauge("conflux_pos_failover_state", ["node", "state"], "1 for the node's primary/standby state", doc: "1 for the node's primary/standby state, 0 for the others: primary_voting, standby_ready, standby_fresh_storage, standby_idle, retired_not_signing, unknown, and the dangerous double_voting (two signers), two_voting_switches, voting_without_secure_storage, save_present_while_voting, standby_holding_save_while_primary_votes. The key files are combined with the voting switch only when scanned while the switch held its current value (after its first and before its latest reading of that value); otherwise the state is unknown until such a scan exists."),
        input_age: Gauge("conflux_pos_guard_input_age_seconds", ["node", "input"], "Age of the failover verdict's inputs", doc: "Age of the failover verdict's inputs at publish: input voting_switch (last test_posVotingStatus read) and key_files (last scan of pos_db). Absent while that input is unknown."),
        owner_mismatch: Gauge("conflux_pos_key_owner_mismatch", ["node"], "1 when the safety data is another key's", doc: "1 when owner_account in pos_db/secure_storage.json (else the .save) differs from the node's PoS address: the safety data is another key's. Absent while either side is unknown."),
        safe_to_stop: Gauge("conflux_pos_safe_to_stop", ["node"], "1 when stopping the node misses no vote", doc: "1 when our PoS address is neither in the current committee nor among the elected or electing nodes of the two upcoming terms (pos_getCommittee), so the node can stop without missing votes; the exporter never calls stop_election. Absent while the node's own switch or another holder's switch is unknown."),
    }
}

/// The guard's families plus what it remembers between publishes (switch history, safety-data movement, last
/// logged state per node).
pub struct Guard {
    /// The series.
    pub families: GuardFamilies,
    memory: Mutex<(GuardMemory, BTreeMap<String, FailoverState>)>,
}

impl Guard {
    /// Registers the families.
    pub fn register(registry: &prometheus::Registry) -> Result<Self, prometheus::Error> {
        Ok(Self {
            families: GuardFamilies::register(registry)?,
            memory: Mutex::new(Default::default()),
        })
    }

    /// Judges the state at `now`, logs state changes, and re-derives every guard series.
    pub fn publish(&self, state: &State, now: SystemTime) -> GuardView {
        let mut memory = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        let view = memory.0.look(&state.guard_looks(), now);
        for v in &view.nodes {
            log_change(&mut memory.1, v);
        }
        drop(memory);
        self.families.publish(state, &view);
        view
    }
}

/// Logs a node's state when it differs from the last known one. `unknown` (an input missing for a poll or two)
/// is not remembered, so a state interrupted by it is not logged again: one line per real change.
fn log_change(logged: &mut BTreeMap<String, FailoverState>, v: &NodeVerdict) {
    let (n, st) = (&v.node, v.state.as_str());
    if v.state == FailoverState::Unknown {
        tracing::debug!(node = %n, inputs = ?v.inputs, "PoS failover state unknown for now");
        return;
    }
    if logged.insert(v.node.clone(), v.state) == Some(v.state) {
        return;
    }
    match v.state {
        s if s.is_dangerous() => {
            tracing::error!(node = %n, state = st, inputs = ?v.inputs, "dangerous PoS failover state: two voters for one key, or safety files inconsistent with the voting switch")
        }
        FailoverState::RetiredNotSigning => {
            tracing::warn!(node = %n, state = st, "voting switch on but the PoS key is force-retired and this node does not sign: it votes for nothing until the key is registered again")
        }
        _ => tracing::info!(node = %n, state = st, "PoS failover state"),
    }
}

impl GuardFamilies {
    fn publish(&self, state: &State, view: &GuardView) {
        self.reset_gauges();
        for (address, count) in &view.keys {
            self.publish_key(address.as_str(), count);
        }
        for (node, v) in state.nodes.iter().zip(&view.nodes) {
            self.publish_verdict(v);
            self.publish_node(node, view.switches_known(v));
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
    fn publish_node(&self, node: &NodeState, switches_known: bool) {
        let n = node.name.as_str();
        let address = node.reported_pos_address();
        let owner = node.host.as_ref().and_then(HostObs::storage_owner);
        match owner_verdict(address, owner) {
            OwnerVerdict::Match => set(&self.owner_mismatch, &[n], 0.0),
            OwnerVerdict::Mismatch { .. } => set(&self.owner_mismatch, &[n], 1.0),
            OwnerVerdict::Unknown => {}
        }
        let Some(pos) = node.pos.as_ref().filter(|_| node.poll.up && switches_known) else {
            return;
        };
        let (Some(us), Some(c)) = (&pos.address, &pos.committee) else {
            return;
        };
        set(&self.safe_to_stop, &[n], flag(free_to_stop(c, us)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::test_support::{text, value};
    use crate::state::{PollStatus, PosObs};

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

    fn families() -> (prometheus::Registry, Guard) {
        let r = prometheus::Registry::new();
        let g = Guard::register(&r).unwrap();
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
        let (registry, g) = families();
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
        let (registry, g) = families();
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
        a.pos.as_mut().unwrap().committee = Some(seats(&KEY.replace('1', "2")));
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
    }
}
