//! Reward efficiency: our reward per unit of voting power in a finished epoch against the committee's median, from
//! `pos_getRewardsByEpoch` and that epoch's committee. The reward formula is not modelled: the other members of the
//! same committee, paid by the same rules in the same epoch, are the yardstick.

use crate::pos_address::PosAddress;
use crate::rpc::pos::EpochRewards;

/// Drip per CFX.
const DRIP_PER_CFX: f64 = 1e18;

/// One finished epoch's reward against the committee's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RewardEfficiency {
    /// The epoch rewarded.
    pub epoch: u64,
    /// Our reward per unit of voting power, in CFX.
    pub ours_per_vote_cfx: f64,
    /// The median of every member's reward per unit of voting power (members not listed earned 0), in CFX.
    pub median_per_vote_cfx: f64,
    /// Ours over the median; `None` when the median is 0 (nobody was paid: nothing to compare with).
    pub ratio: Option<f64>,
    /// What a median member earned for our power in an epoch that paid us nothing, in CFX (0 when we were paid).
    pub lost_cfx: f64,
}

/// Our efficiency in `epoch`, given its rewards (`None`: the node recorded no reward event) and its committee
/// `members` (address, voting power); `None` when we were not a member with power, or the committee is unknown.
pub(crate) fn efficiency(
    epoch: u64,
    rewards: Option<&EpochRewards>,
    members: &[(PosAddress, u64)],
    us: &PosAddress,
) -> Option<RewardEfficiency> {
    let our_power = members.iter().find(|(a, _)| a == us).map(|(_, p)| *p)?;
    if our_power == 0 {
        return None;
    }
    let reward_of = |a: &PosAddress| -> f64 {
        rewards.map_or(0.0, |r| {
            r.account_rewards
                .iter()
                .filter(|x| x.pos_address == *a)
                .fold(0.0, |sum, x| sum + x.reward.0 as f64)
                / DRIP_PER_CFX
        })
    };
    let mut per_vote: Vec<f64> = members
        .iter()
        .filter(|(_, p)| *p > 0)
        .map(|(a, p)| reward_of(a) / *p as f64)
        .collect();
    per_vote.sort_by(f64::total_cmp);
    let median = median(&per_vote)?;
    let ours = reward_of(us) / our_power as f64;
    Some(RewardEfficiency {
        epoch,
        ours_per_vote_cfx: ours,
        median_per_vote_cfx: median,
        ratio: (median > 0.0).then(|| ours / median),
        lost_cfx: if ours > 0.0 {
            0.0
        } else {
            median * our_power as f64
        },
    })
}

/// The median of sorted values (the mean of the two middle ones for an even count).
fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> PosAddress {
        PosAddress::parse(s).expect("address")
    }

    /// The real capture (`pos_getRewardsByEpoch [0x25]` on the devnet) and the power of each member in epoch
    /// 0x25, read from the QC of that epoch's block 0x172 (the `pos_getBlockByNumber` capture): 62, 92, 84 and 62
    /// of 300 (the committee's totalVotingPower, 0x12c).
    fn real() -> (EpochRewards, Vec<(PosAddress, u64)>) {
        let result = |text: &str| -> serde_json::Value {
            let v: serde_json::Value = serde_json::from_str(text).expect("capture");
            v["result"].clone()
        };
        let r: EpochRewards = serde_json::from_value(result(include_str!(
            "../../tests/fixtures/rpc-real/pos_getRewardsByEpoch.json"
        )))
        .expect("rewards");
        let b: crate::rpc::pos::PosBlock = serde_json::from_value(result(include_str!(
            "../../tests/fixtures/rpc-real/pos_getBlockByNumber.json"
        )))
        .expect("block");
        assert_eq!(b.epoch.0, 0x25);
        let members: Vec<_> = b
            .signatures
            .into_iter()
            .map(|s| (s.account, s.votes.0))
            .collect();
        assert_eq!(members.iter().map(|m| m.1).sum::<u64>(), 300);
        (r, members)
    }

    #[test]
    fn ratio_on_the_real_capture_matches_the_hand_computation() {
        let (r, members) = real();
        // By hand (CFX): 0x1107 476.803712569421846234 / 62 = 7.690382
        //                0x19c8 647.260354881397754415 / 92 = 7.035439
        //                0x5a7f 605.707838271727704602 / 84 = 7.210808
        //                0xac0d 442.785443476889824283 / 62 = 7.141701
        // median = (7.141701 + 7.210808) / 2 = 7.176254; 0x1107's ratio = 7.690382 / 7.176254 = 1.071643.
        let e = efficiency(0x25, Some(&r), &members, &members[0].0).unwrap();
        assert!((e.ours_per_vote_cfx - 7.690_382).abs() < 1e-5, "{e:?}");
        assert!((e.median_per_vote_cfx - 7.176_254).abs() < 1e-5, "{e:?}");
        assert!((e.ratio.unwrap() - 1.071_643).abs() < 1e-5, "{e:?}");
        assert_eq!(e.lost_cfx, 0.0);
        let low = efficiency(0x25, Some(&r), &members, &members[1].0).unwrap();
        assert!((low.ratio.unwrap() - 7.035_439 / 7.176_254).abs() < 1e-5);
    }

    #[test]
    fn an_unpaid_member_lost_the_median_for_its_power() {
        let (r, mut members) = real();
        let us = addr(&format!("0x{}", "ab".repeat(32)));
        members.push((us.clone(), 50));
        // Five members, per vote sorted: 0, 7.035, 7.141, 7.210, 7.690 -> median 7.141701.
        let e = efficiency(0x25, Some(&r), &members, &us).unwrap();
        assert_eq!(e.ratio, Some(0.0));
        assert!((e.lost_cfx - 50.0 * 7.141_701).abs() < 1e-3, "{e:?}");
        let none = efficiency(0x25, None, &members, &us).unwrap();
        assert_eq!((none.ratio, none.lost_cfx), (None, 0.0), "nobody paid");
    }

    #[test]
    fn not_a_member_or_no_committee_is_unknown() {
        let (r, members) = real();
        let us = addr(&format!("0x{}", "ab".repeat(32)));
        assert_eq!(efficiency(1, Some(&r), &members, &us), None);
        assert_eq!(efficiency(1, Some(&r), &[], &members[0].0), None);
    }
}
