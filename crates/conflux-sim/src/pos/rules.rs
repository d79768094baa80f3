//! The epoch-end verdicts: who is force-retired (docs/node-facts.md#pos-rules) and who earns what (docs/node-facts.md#pos-rpc).
//!
//! Pure functions over per-epoch vote tallies, so the rule the exporter is judged against can be read and
//! tested on its own. The tallies count the *real* quorum certificates: a signature hidden from the RPC by the
//! `empty_signatures` knob (a node that never learnt the QC) still counts, exactly as the node's executor
//! counts QCs from its consensus DB whatever one RPC server can show.

use std::collections::BTreeMap;

/// Points a committee seat-holder gets per unit of voting power (`COMMITTEE_POINTS`).
pub(crate) const COMMITTEE_POINTS: u64 = 6_000_000 * 75 / 100 / 50 / 6;
/// Cap on the extra votes one QC can earn its leader (`BONUS_VOTE_MAX_SIZE`).
const BONUS_VOTE_MAX: u64 = 100;

/// The validator set of one epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Committee {
    /// Epoch number.
    pub epoch: u64,
    /// `(address, voting power)` sorted by address; every power is > 0.
    pub nodes: Vec<(String, u64)>,
}

impl Committee {
    /// Sum of all voting power.
    pub fn total(&self) -> u64 {
        self.nodes.iter().map(|(_, p)| p).sum()
    }

    /// `total*2/3 + 1`, as `ValidatorVerifier` computes it.
    pub fn quorum(&self) -> u64 {
        self.total() * 2 / 3 + 1
    }

    /// Voting power of `addr` in this epoch, 0 if not a member.
    pub fn power_of(&self, addr: &str) -> u64 {
        self.nodes
            .iter()
            .find(|(a, _)| a == addr)
            .map_or(0, |(_, p)| *p)
    }
}

/// What one member did in one epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct VoteCount {
    /// Blocks whose QC carries its signature.
    pub signed_blocks: u64,
    /// Sum of its voting power over those QCs (the executor's `vote_count`).
    pub vote_power: u64,
    /// Blocks it proposed.
    pub leader_count: u64,
    /// Votes above quorum in the QCs of the blocks it proposed.
    pub extra_votes: u64,
}

/// Per-member counts of one epoch.
pub(crate) type Tally = BTreeMap<String, VoteCount>;

/// Members of `committee` (epoch `epoch`) to force-retire when that epoch ends: no signature in epoch `epoch`,
/// nor in the `lookback − 1` epochs before it. Epochs in which a member was not in the committee hold no
/// signature of it, so a member that joined inside the window is judged on the epochs it served.
pub(crate) fn force_retire_targets(
    epoch: u64,
    committee: &Committee,
    tallies: &BTreeMap<u64, Tally>,
    lookback: u64,
) -> Vec<String> {
    if epoch == 0 {
        return Vec::new();
    }
    let first = epoch.saturating_sub(lookback) + 1;
    let signed_in = |e: u64, addr: &str| {
        tallies
            .get(&e)
            .and_then(|t| t.get(addr))
            .is_some_and(|c| c.signed_blocks > 0)
    };
    committee
        .nodes
        .iter()
        .map(|(addr, _)| addr)
        .filter(|addr| !(first..=epoch).any(|e| signed_in(e, addr)))
        .cloned()
        .collect()
}

/// Extra votes a QC earns its leader: signed power above quorum, capped.
pub(crate) fn extra_votes(signed_power: u64, quorum: u64) -> u64 {
    signed_power.saturating_sub(quorum).min(BONUS_VOTE_MAX)
}

/// Reward (drip) per member of `committee` for one epoch; only positive entries, sorted by address.
///
/// Points follow `term_state.rs` incentives: power × 15 000, + 3 % of 6 M per led block spread over the term's
/// rounds, + 2 % per extra vote; a member with no counted vote gets nothing. Election ("candy") points and the
/// PoW-side interest rate are not modelled: points are paid at a fixed `drip_per_point`.
pub(crate) fn epoch_rewards(
    committee: &Committee,
    tally: &Tally,
    epoch_length: u64,
    drip_per_point: u64,
) -> Vec<(String, u128)> {
    let leader_points = 6_000_000 * 3 / 100 / epoch_length.max(1);
    let bonus_points = 6_000_000 * 2 / 100 / epoch_length.max(1) / BONUS_VOTE_MAX;
    committee
        .nodes
        .iter()
        .filter_map(|(addr, power)| {
            let c = tally.get(addr).copied().unwrap_or_default();
            if c.vote_power == 0 {
                return None;
            }
            let points = u128::from(*power) * u128::from(COMMITTEE_POINTS)
                + u128::from(c.leader_count) * u128::from(leader_points)
                + u128::from(c.extra_votes) * u128::from(bonus_points);
            let reward = points * u128::from(drip_per_point);
            (reward > 0).then(|| (addr.clone(), reward))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committee(nodes: &[(&str, u64)]) -> Committee {
        Committee {
            epoch: 5,
            nodes: nodes.iter().map(|(a, p)| (a.to_string(), *p)).collect(),
        }
    }

    fn signed(blocks: u64, power: u64) -> VoteCount {
        VoteCount {
            signed_blocks: blocks,
            vote_power: blocks * power,
            ..VoteCount::default()
        }
    }

    #[test]
    fn quorum_is_two_thirds_plus_one() {
        let c = committee(&[("a", 200), ("b", 50)]);
        assert_eq!((c.total(), c.quorum()), (250, 167));
        assert_eq!((c.power_of("b"), c.power_of("z")), (50, 0));
    }

    #[test]
    fn one_signature_anywhere_in_the_window_saves_a_member() {
        let c = committee(&[("a", 1), ("b", 1), ("c", 1)]);
        let mut tallies = BTreeMap::new();
        tallies.insert(3, Tally::from([("a".to_string(), signed(1, 1))]));
        tallies.insert(5, Tally::from([("b".to_string(), signed(4, 1))]));
        assert_eq!(
            force_retire_targets(5, &c, &tallies, 3),
            vec!["c".to_string()]
        );
        assert_eq!(
            force_retire_targets(6, &c, &tallies, 3).len(),
            2,
            "epoch 3 has left the window"
        );
        assert_eq!(
            force_retire_targets(5, &c, &tallies, 1),
            vec!["a".to_string(), "c".to_string()]
        );
        assert!(
            force_retire_targets(0, &c, &tallies, 3).is_empty(),
            "epoch 0 is never checked"
        );
    }

    #[test]
    fn rewards_skip_silent_members_and_pay_leaders() {
        let c = committee(&[("a", 10), ("b", 10), ("c", 10)]);
        let mut t = Tally::new();
        t.insert(
            "a".into(),
            VoteCount {
                leader_count: 2,
                extra_votes: 3,
                ..signed(4, 10)
            },
        );
        t.insert("b".into(), signed(1, 10));
        t.insert(
            "c".into(),
            VoteCount {
                leader_count: 1,
                ..VoteCount::default()
            },
        );
        let r = epoch_rewards(&c, &t, 120, 2);
        assert_eq!(r.len(), 2);
        assert_eq!(
            r[0],
            ("a".to_string(), 2 * (10 * 15_000 + 2 * 1_500 + 3 * 10))
        );
        assert_eq!(r[1], ("b".to_string(), 2 * 10 * 15_000));
        assert_eq!(extra_votes(250, 201), 49);
        assert_eq!(extra_votes(100, 201), 0);
    }
}
