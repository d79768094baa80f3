//! Which node speaks for each PoS key. Facts about an address (votes, force-retire risk, account, rewards,
//! slashing) are the chain's, not a node's: a standby sharing the primary's key reads the same history, and
//! publishing it under both names would show a standby "signing" votes it never cast. So each key gets one reader:
//! the node that has read furthest.

use std::collections::BTreeMap;

use crate::pos_address::PosAddress;

/// A node as the choice sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Candidate<'a> {
    /// Its PoS address; `None` when unknown.
    pub address: Option<&'a PosAddress>,
    /// How far it has read — (latest committed block, history read) — while it is up with a PoS status; `None`
    /// otherwise (a down node speaks for nothing).
    pub progress: Option<(u64, u64)>,
}

/// For each candidate, whether it reads for its key: the most advanced one (latest committed block, then history
/// read), the first in order on a tie. Nodes without an address or progress read for nothing.
pub(crate) fn key_readers(nodes: &[Candidate]) -> Vec<bool> {
    let mut best: BTreeMap<&PosAddress, (usize, (u64, u64))> = BTreeMap::new();
    for (i, c) in nodes.iter().enumerate() {
        let (Some(addr), Some(progress)) = (c.address, c.progress) else {
            continue;
        };
        match best.get(&addr) {
            Some((_, seen)) if *seen >= progress => {}
            _ => {
                best.insert(addr, (i, progress));
            }
        }
    }
    let mut out = vec![false; nodes.len()];
    for (i, _) in best.values() {
        out[*i] = true;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(address: &PosAddress, progress: Option<(u64, u64)>) -> Candidate<'_> {
        Candidate {
            address: Some(address),
            progress,
        }
    }

    #[test]
    fn the_most_advanced_node_reads_for_its_key() {
        let key = PosAddress::parse(&"11".repeat(32)).unwrap();
        let other = PosAddress::parse(&"22".repeat(32)).unwrap();
        let nodes = [
            c(&key, Some((100, 100))),
            c(&key, Some((101, 90))),
            c(&key, None),
            c(&other, Some((5, 0))),
            c(&key, Some((101, 95))),
        ];
        assert_eq!(key_readers(&nodes), [false, false, false, true, true]);
        let tie = [c(&key, Some((7, 7))), c(&key, Some((7, 7)))];
        assert_eq!(key_readers(&tie), [true, false], "the first on a tie");
        let unknown = Candidate {
            address: None,
            progress: Some((1, 1)),
        };
        assert_eq!(key_readers(&[unknown]), [false]);
    }
}
