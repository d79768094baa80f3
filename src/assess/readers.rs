//! Which node speaks for each PoS key. Facts about an address (votes, force-retire risk, account, rewards,
//! slashing) are the chain's, not a node's: a standby sharing the primary's key reads the same history, and
//! publishing it under both names would show a standby "signing" votes it never cast. So each key gets one reader:
//! the node that has read furthest.

use std::collections::BTreeMap;

use super::guard::normalize_pos_address;

/// A node as the choice sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate<'a> {
    /// Its PoS address, however spelled; `None` when unknown.
    pub address: Option<&'a str>,
    /// How far it has read — (latest committed block, history read) — while it is up with a PoS status; `None`
    /// otherwise (a down node speaks for nothing).
    pub progress: Option<(u64, u64)>,
}

/// For each candidate, whether it reads for its key: the most advanced one (latest committed block, then history
/// read), the first in order on a tie. Nodes without a valid address or progress read for nothing.
pub fn key_readers(nodes: &[Candidate]) -> Vec<bool> {
    let mut best: BTreeMap<String, (usize, (u64, u64))> = BTreeMap::new();
    for (i, c) in nodes.iter().enumerate() {
        let (Some(addr), Some(progress)) = (c.address.and_then(normalize_pos_address), c.progress)
        else {
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

    const KEY: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";
    const OTHER: &str = "0x2222222222222222222222222222222222222222222222222222222222222222";

    fn c(address: &str, progress: Option<(u64, u64)>) -> Candidate<'_> {
        Candidate {
            address: Some(address),
            progress,
        }
    }

    #[test]
    fn the_most_advanced_node_reads_for_its_key() {
        let nodes = [
            c(KEY, Some((100, 100))),
            c(KEY, Some((101, 90))),
            c(KEY, None),
            c(OTHER, Some((5, 0))),
            c(&KEY[2..], Some((101, 95))),
            c("junk", Some((999, 999))),
        ];
        assert_eq!(
            key_readers(&nodes),
            [false, false, false, true, true, false]
        );
        let tie = [c(KEY, Some((7, 7))), c(KEY, Some((7, 7)))];
        assert_eq!(key_readers(&tie), [true, false], "the first on a tie");
        let unknown = Candidate {
            address: None,
            progress: Some((1, 1)),
        };
        assert_eq!(key_readers(&[unknown]), [false]);
    }
}
