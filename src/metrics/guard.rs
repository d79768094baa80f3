//! The double-voting guard across the configured nodes: how many vote with each PoS key, where each node stands
//! in a primary/standby hand-over, whether its safety data belongs to its own key, and whether it may be
//! stopped without missing votes. Verdicts come from `assess::guard`; this file only turns them into series.

use super::def::catalogue;
use crate::assess::guard::{
    active_voters, failover_state, owner_verdict, safe_to_stop, FailoverState, OwnerVerdict,
};
use crate::state::{HostObs, NodeState, State};

catalogue! {
    /// Guard families.
    pub struct GuardFamilies {
        active_voters: Gauge("conflux_pos_active_voters", ["pos_address"], "How many of this exporter's configured nodes holding the PoS address have their voting switch on (test_posVotingStatus); above 1 is equivocation in progress (the double-voting guard). Nodes that are down or whose address is unknown are not counted."),
        failover_state: Gauge("conflux_pos_failover_state", ["node", "state"], "1 for the node's primary/standby state, 0 for the others: primary_voting, standby_ready, standby_idle, unknown, and the dangerous double_voting, voting_without_secure_storage, save_present_while_voting, standby_holding_save_while_primary_votes. Inputs: the voting switch, secure_storage.json / .save presence, and whether another configured node votes with the same key."),
        owner_mismatch: Gauge("conflux_pos_key_owner_mismatch", ["node"], "1 when owner_account in pos_db/secure_storage.json (else the .save) differs from the node's PoS address: the safety data is another key's. Absent while either side is unknown."),
        safe_to_stop: Gauge("conflux_pos_safe_to_stop", ["node"], "1 when our PoS address is neither in the current committee nor among the elected or electing nodes of the two upcoming terms (pos_getCommittee), so the node can stop without missing votes; the exporter never calls stop_election."),
    }
}

impl GuardFamilies {
    /// Re-derives every guard series from `state`.
    pub fn publish(&self, state: &State) {
        self.reset_gauges();
        let voters = state.voters();
        for (address, count) in active_voters(&voters) {
            self.active_voters
                .with_label_values(&[&address])
                .set(count.voting as f64);
        }
        for node in &state.nodes {
            let n = node.name.as_str();
            if let Some(inputs) = state.failover_inputs(n) {
                let current = failover_state(inputs);
                for s in FailoverState::ALL {
                    self.failover_state
                        .with_label_values(&[n, s.as_str()])
                        .set(if s == current { 1.0 } else { 0.0 });
                }
            }
            self.publish_node(node);
        }
    }

    fn publish_node(&self, node: &NodeState) {
        let n = node.name.as_str();
        let address = node.voter().pos_address;
        let owner = node.host.as_ref().and_then(HostObs::storage_owner);
        match owner_verdict(address, owner) {
            OwnerVerdict::Match => self.owner_mismatch.with_label_values(&[n]).set(0.0),
            OwnerVerdict::Mismatch { .. } => self.owner_mismatch.with_label_values(&[n]).set(1.0),
            OwnerVerdict::Unknown => {}
        }
        let Some(pos) = node.pos.as_ref().filter(|_| node.poll.up) else {
            return;
        };
        let (Some(us), Some(c)) = (&pos.address, &pos.committee) else {
            return;
        };
        let seated: Vec<&str> = c
            .current_committee
            .nodes
            .iter()
            .map(|m| m.address.as_str())
            .collect();
        let electing: Vec<&str> = c
            .elections
            .iter()
            .flat_map(|e| e.top_electing_nodes.iter().map(|m| m.address.as_str()))
            .collect();
        if let Some(safe) = safe_to_stop(us, &seated, &electing) {
            self.safe_to_stop
                .with_label_values(&[n])
                .set(if safe { 1.0 } else { 0.0 });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
                address: Some(KEY.into()),
                voting_enabled: voting,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn families() -> (prometheus::Registry, GuardFamilies) {
        let r = prometheus::Registry::new();
        let f = GuardFamilies::register(&r).unwrap();
        (r, f)
    }

    fn state_of(f: &GuardFamilies, n: &str) -> Vec<&'static str> {
        FailoverState::ALL
            .iter()
            .filter(|s| f.failover_state.with_label_values(&[n, s.as_str()]).get() == 1.0)
            .map(|s| s.as_str())
            .collect()
    }

    #[test]
    fn voters_are_counted_per_key_and_a_down_node_is_not_a_voter() {
        let (registry, f) = families();
        let mut state = State {
            nodes: vec![node("a", true, Some(true)), node("b", true, Some(true))],
            ..Default::default()
        };
        f.publish(&state);
        assert_eq!(f.active_voters.with_label_values(&[KEY]).get(), 2.0);
        assert_eq!(state_of(&f, "a"), ["double_voting"]);
        assert_eq!(state_of(&f, "b"), ["double_voting"]);

        state.nodes[1] = node("b", false, None);
        f.publish(&state);
        assert_eq!(f.active_voters.with_label_values(&[KEY]).get(), 1.0);
        assert_eq!(state_of(&f, "b"), ["unknown"]);
        // Without its safety files known, A's primary state cannot be claimed.
        assert_eq!(state_of(&f, "a"), ["unknown"]);
        // No committee read: safe-to-stop is not claimed; no files: no owner verdict.
        let mut buf = Vec::new();
        prometheus::Encoder::encode(
            &prometheus::TextEncoder::new(),
            &registry.gather(),
            &mut buf,
        )
        .unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(!text.contains("conflux_pos_safe_to_stop{"), "{text}");
        assert!(!text.contains("conflux_pos_key_owner_mismatch{"), "{text}");
    }
}
