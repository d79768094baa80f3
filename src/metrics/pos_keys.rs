//! Which node speaks for each PoS key. Facts about an address (votes signed and missed, force-retire risk,
//! account, rewards, slashing) are the chain's, not a node's: a standby sharing the primary's key reads exactly the
//! same history, and publishing it under both names showed a standby "signing" votes it never cast. Each address's
//! facts are therefore published once, from the most advanced node that is up and holds it.

use std::collections::BTreeMap;

use crate::assess::guard::normalize_pos_address;
use crate::state::State;

/// For each configured node, whether it is the one whose reading of its address's chain facts is published: the
/// up node with a PoS status that has read furthest (latest committed block, then history read), the first in
/// configuration order on a tie. Nodes without a known address or PoS status speak for nothing.
pub fn key_readers(state: &State) -> Vec<bool> {
    let mut best: BTreeMap<String, (usize, (u64, u64))> = BTreeMap::new();
    for (i, node) in state.nodes.iter().enumerate() {
        let Some(p) = node.pos.as_ref().filter(|_| node.poll.up) else {
            continue;
        };
        let (Some(addr), Some(s)) = (
            p.address.as_deref().and_then(normalize_pos_address),
            &p.status,
        ) else {
            continue;
        };
        let progress = (s.latest_committed.0, p.ledger.last_height.unwrap_or(0));
        match best.get(&addr) {
            Some((_, seen)) if *seen >= progress => {}
            _ => {
                best.insert(addr, (i, progress));
            }
        }
    }
    let mut out = vec![false; state.nodes.len()];
    for (i, _) in best.values() {
        out[*i] = true;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::pos::PosStatus;
    use crate::rpc::wire::HexU64;
    use crate::state::{NodeState, PollStatus, PosObs};

    const KEY: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";
    const OTHER: &str = "0x2222222222222222222222222222222222222222222222222222222222222222";

    fn node(up: bool, addr: &str, committed: u64, read: Option<u64>) -> NodeState {
        let status = PosStatus {
            epoch: HexU64(1),
            latest_committed: HexU64(committed),
            latest_voted: None,
            latest_tx_number: None,
        };
        let mut pos = PosObs {
            address: Some(addr.into()),
            status: Some(status),
            ..Default::default()
        };
        pos.ledger.last_height = read;
        NodeState {
            poll: PollStatus {
                polled: true,
                up,
                ..Default::default()
            },
            pos: Some(pos),
            ..Default::default()
        }
    }

    #[test]
    fn one_reader_per_key_the_most_advanced_up_node() {
        let state = State {
            nodes: vec![
                node(true, KEY, 100, Some(100)),
                node(true, KEY, 101, Some(90)),
                node(false, KEY, 200, Some(200)),
                node(true, OTHER, 5, None),
                node(true, &KEY[2..], 101, Some(95)),
            ],
            ..Default::default()
        };
        assert_eq!(key_readers(&state), [false, false, false, true, true]);
        let tie = State {
            nodes: vec![node(true, KEY, 7, Some(7)), node(true, KEY, 7, Some(7))],
            ..Default::default()
        };
        assert_eq!(key_readers(&tie), [true, false]);
    }
}
