//! What our node's PoS transactions and rewards say: elections sent, stake changes naming us, disputes (the
//! double-vote penalty), and rewards per epoch. Pure bookkeeping over decoded transactions.

use sha3::{Digest, Keccak256};

use crate::pos_address::PosAddress;
use crate::rpc::pos::{EpochRewards, PosTransaction};
use crate::rpc::wire::parse_hex_u64;
use crate::state::PosObs;

/// A PoS address is keccak256(BLS public key ‖ VRF public key) (docs/node-facts.md#addresses-and-registration).
pub(crate) fn pos_address_of(bls_hex: &str, vrf_hex: &str) -> Option<PosAddress> {
    let bytes = |h: &str| -> Option<Vec<u8>> {
        let h = h.strip_prefix("0x")?;
        (h.is_ascii() && h.len() % 2 == 0)
            .then(|| {
                (0..h.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&h[i..i + 2], 16).ok())
                    .collect::<Option<Vec<u8>>>()
            })
            .flatten()
    };
    let mut hasher = Keccak256::new();
    hasher.update(bytes(bls_hex)?);
    hasher.update(bytes(vrf_hex)?);
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    PosAddress::parse(&hex).ok()
}

fn field<'a>(t: &'a PosTransaction, key: &str) -> Option<&'a str> {
    let p = &t.payload;
    match key {
        "address" => p.address.as_deref(),
        "publicKey" => p.public_key.as_deref(),
        "vrfPublicKey" => p.vrf_public_key.as_deref(),
        "targetTerm" => p.target_term.as_deref(),
        _ => None,
    }
}

/// Counts one transaction. Only executed transactions count as ours (a Discarded election changed nothing).
/// The type is one of [`crate::rpc::pos::TX_TYPES`] (the decoder maps any other name to `Other`), so the counters
/// stay a fixed set whatever a node sends.
pub(crate) fn record_transaction(obs: &mut PosObs, t: &PosTransaction) {
    let counter = obs
        .activity
        .tx_by_type
        .entry(t.tx_type.clone())
        .or_default();
    *counter = counter.saturating_add(1);
    let Some(us) = obs.address.clone() else {
        return;
    };
    let executed = t.status.as_deref().is_none_or(|s| s == "Executed");
    // Payload addresses are raw JSON text: parsed here, where they enter.
    let names_us = |key: &str| field(t, key).is_some_and(|a| us.is(a));
    match t.tx_type.as_str() {
        "Election" if t.from == us && executed => {
            obs.activity.elections = obs.activity.elections.saturating_add(1);
            if let Some(b) = t.block_number {
                obs.activity.last_election_block = Some(b.0);
            }
            if let Some(term) = field(t, "targetTerm").and_then(|v| parse_hex_u64(v).ok()) {
                obs.activity.last_election_target_term = Some(term);
            }
            if let (Some(bls), Some(vrf)) = (field(t, "publicKey"), field(t, "vrfPublicKey")) {
                obs.activity.own_keys = Some((bls.to_ascii_lowercase(), vrf.to_ascii_lowercase()));
            }
        }
        "Register" => {
            let (bls, vrf) = (
                field(t, "publicKey").unwrap_or(""),
                field(t, "vrfPublicKey").unwrap_or(""),
            );
            let by_keys =
                obs.activity.own_keys.as_ref().is_some_and(|(b, v)| {
                    b.eq_ignore_ascii_case(bls) && v.eq_ignore_ascii_case(vrf)
                });
            let by_hash = pos_address_of(bls, vrf).is_some_and(|a| a == us);
            if by_keys || by_hash {
                let n = obs
                    .activity
                    .own_tx_by_type
                    .entry("Register".into())
                    .or_default();
                *n = n.saturating_add(1);
            }
        }
        "UpdateVotingPower" | "Retire" if names_us("address") => {
            let n = obs
                .activity
                .own_tx_by_type
                .entry(t.tx_type.clone())
                .or_default();
            *n = n.saturating_add(1);
        }
        "Dispute" if names_us("address") => {
            if !obs.activity.dispute_seen {
                tracing::error!(address = %us, "a Dispute transaction names our PoS address: double voting was detected and the stake is locked");
            }
            obs.activity.dispute_seen = true;
        }
        _ => {}
    }
}

/// Records `epoch`'s rewards (`None` = no reward event for that epoch), and how they compare with the committee's
/// when that epoch's committee is known. The comparison (a pure rule of `assess::reward`) is made here, as the
/// answer arrives, like the ledger's classification of a block: the epoch's reward list is not kept, so the memory
/// stays one verdict and one sum whatever the committee's size.
pub(crate) fn record_rewards(obs: &mut PosObs, epoch: u64, rewards: Option<&EpochRewards>) {
    let Some(us) = obs.address.as_ref() else {
        return;
    };
    let committee = obs.ledger.committees.get(&epoch);
    let members = committee.map_or(&[][..], |c| c.members.as_slice());
    if let Some(e) = crate::assess::reward::efficiency(epoch, rewards, members, us) {
        obs.activity.reward_lost_cfx_total += e.lost_cfx;
        obs.activity.efficiency = Some(e);
    } else if committee.is_none() {
        tracing::debug!(
            epoch,
            "committee of the rewarded epoch unknown; its reward is not compared"
        );
    }
    let ours: u128 = rewards
        .map(|r| {
            r.account_rewards
                .iter()
                .filter(|a| a.pos_address == *us)
                .map(|a| a.reward.0)
                .sum()
        })
        .unwrap_or(0);
    obs.activity.reward_drip_total = obs.activity.reward_drip_total.saturating_add(ours);
    obs.activity.last_epoch_reward_drip = Some(ours);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const US: &str = "0xabababababababababababababababababababababababababababababababab";
    const OTHER: &str = "0x0000000000000000000000000000000000000000000000000000000000000001";
    const ZERO: &str = "0x0000000000000000000000000000000000000000000000000000000000000000";

    fn tx(ty: &str, from: &str, payload: serde_json::Value) -> PosTransaction {
        serde_json::from_value(
            json!({"from": from, "number": "0x5", "blockNumber": "0x1", "status": "Executed",
            "type": ty, "payload": payload}),
        )
        .unwrap()
    }

    fn obs() -> PosObs {
        PosObs {
            address: PosAddress::parse(US).ok(),
            ..Default::default()
        }
    }

    #[test]
    fn keccak_of_empty_input_is_the_known_vector() {
        assert_eq!(
            pos_address_of("0x", "0x").unwrap().as_str(),
            "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
        assert_eq!(pos_address_of("0xz1", "0x"), None);
        assert_eq!(pos_address_of("0xé1", "0x"), None, "non-ASCII never panics");
    }

    #[test]
    fn elections_keys_registers_and_disputes() {
        let mut o = obs();
        record_transaction(
            &mut o,
            &tx(
                "Election",
                US,
                json!({"publicKey":"0xAA","vrfPublicKey":"0xbb","targetTerm":"0x2a","vrfProof":"0x"}),
            ),
        );
        record_transaction(
            &mut o,
            &tx(
                "Election",
                OTHER,
                json!({"publicKey":"0xcc","vrfPublicKey":"0xdd","targetTerm":"0x2b"}),
            ),
        );
        record_transaction(
            &mut o,
            &tx(
                "Register",
                ZERO,
                json!({"publicKey":"0xaa","vrfPublicKey":"0xbb"}),
            ),
        );
        record_transaction(
            &mut o,
            &tx(
                "Retire",
                ZERO,
                json!({"address": US.to_uppercase().replace("0X", "0x"), "votingPower":"0x1"}),
            ),
        );
        record_transaction(
            &mut o,
            &tx(
                "UpdateVotingPower",
                ZERO,
                json!({"address":"0x02","votingPower":"0x1"}),
            ),
        );
        assert!(!o.activity.dispute_seen);
        record_transaction(&mut o, &tx("Dispute", ZERO, json!({"address": US})));
        let a = &o.activity;
        assert_eq!((a.elections, a.last_election_target_term), (1, Some(42)));
        assert_eq!(a.own_tx_by_type.get("Register"), Some(&1));
        assert_eq!(a.own_tx_by_type.get("Retire"), Some(&1));
        assert_eq!(a.own_tx_by_type.get("UpdateVotingPower"), None);
        assert!(a.dispute_seen);
        assert_eq!(a.tx_by_type.values().sum::<u64>(), 6);
    }

    #[test]
    fn unknown_types_and_odd_payloads_stay_bounded() {
        let mut o = obs();
        for i in 0..1000 {
            record_transaction(&mut o, &tx(&format!("Type{i}"), ZERO, json!(null)));
        }
        record_transaction(&mut o, &tx("Dispute", ZERO, json!({"address": [US]})));
        record_transaction(&mut o, &tx("Retire", ZERO, json!("text")));
        record_transaction(
            &mut o,
            &tx(
                "Election",
                US,
                json!({"publicKey": "0x".repeat(100_000), "vrfPublicKey": "0x1"}),
            ),
        );
        assert_eq!(o.activity.tx_by_type.get("Other"), Some(&1000));
        assert_eq!(
            o.activity.tx_by_type.len(),
            4,
            "{:?}",
            o.activity.tx_by_type
        );
        assert!(
            !o.activity.dispute_seen,
            "an address that is not a string names no one"
        );
        let keys = o.activity.own_keys.as_ref().unwrap();
        assert!(keys.0.len() <= 4 * crate::rpc::text::MAX_TEXT);
    }

    #[test]
    fn rewards_sum_in_drip() {
        let mut o = obs();
        let r: EpochRewards =
            serde_json::from_value(json!({"powEpochHash":"0x1","accountRewards":[
            {"posAddress": US, "powAddress": "CFX:TYPE.USER:AAR", "reward": "0xde0b6b3a7640000"},
            {"posAddress": OTHER, "powAddress": "x", "reward": "0x5"}]}))
            .unwrap();
        record_rewards(&mut o, 1, Some(&r));
        record_rewards(&mut o, 2, None);
        assert_eq!(o.activity.reward_drip_total, 1_000_000_000_000_000_000);
        assert_eq!(o.activity.last_epoch_reward_drip, Some(0));
    }
}
