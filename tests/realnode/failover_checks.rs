//! The failover scenario's judgements over the recording: the guard's verdicts at every scrape, when each of its
//! signals about a second holder appeared, and whether chain facts about the key are published once.

use super::checks::{failover_state, first_after, for_address, value};
use super::exposition::Scrape;
use super::failover::{state_is, states, NODES};
use super::recorder::Sample;

/// States that must never show during a correct handover.
const DANGEROUS: &[&str] = &[
    "double_voting",
    "two_voting_switches",
    "voting_without_secure_storage",
    "save_present_while_voting",
    "standby_holding_save_while_primary_votes",
];
/// Metrics that are facts about an address on the chain: one series per address, not per holder.
const CHAIN_FACTS: &[&str] = &[
    "conflux_pos_votes_signed_total",
    "conflux_pos_votes_missed_total",
    "conflux_pos_slashed",
    "conflux_pos_force_retired",
    "conflux_pos_account_votes",
];

/// When each of the guard's signals about the second holder appeared, relative to its first signature.
pub fn equivocation_timeline(
    samples: &[Sample],
    address: &str,
    t_sig2: f64,
    out: &mut Vec<String>,
) {
    let at_least_two = |name: &'static str| {
        move |s: &Scrape| for_address(s, name, address).is_some_and(|v| v >= 2.0)
    };
    let switches = |s: &Scrape| NODES.iter().any(|n| state_is(s, n, "two_voting_switches"));
    for (what, t) in [
        (
            "conflux_pos_active_voters >= 2",
            first_after(
                samples,
                t_sig2 - 30.0,
                at_least_two("conflux_pos_active_voters"),
            ),
        ),
        (
            "conflux_pos_signing_holders >= 2",
            first_after(
                samples,
                t_sig2 - 30.0,
                at_least_two("conflux_pos_signing_holders"),
            ),
        ),
        (
            "two_voting_switches",
            first_after(samples, t_sig2 - 30.0, switches),
        ),
    ] {
        out.push(format!(
            "{what}: {}",
            t.map_or("never".into(), |t| format!(
                "{:+.1}s from the second signature",
                t - t_sig2
            ))
        ));
    }
}

/// At every scrape: no dangerous state during the handover window, and no standby_ready while any holder's
/// voting switch is unknown (node down or switch series absent).
pub fn every_scrape(
    samples: &[Sample],
    handover: (f64, f64),
    out: &mut Vec<String>,
    fail: &mut Vec<String>,
) {
    let mut checked = 0;
    for s in samples {
        let Some(sc) = &s.scrape else { continue };
        checked += 1;
        if s.at >= handover.0 && s.at <= handover.1 {
            for n in NODES {
                if let Some(st) =
                    failover_state(sc, n).filter(|st| DANGEROUS.contains(&st.as_str()))
                {
                    fail.push(format!(
                        "t={:.1}s during the handover {n} in {st}: {:?}",
                        s.at,
                        states(sc)
                    ));
                }
            }
        }
        let unknown: Vec<&str> = NODES
            .iter()
            .copied()
            .filter(|n| {
                value(sc, "conflux_up", n) != Some(1.0)
                    || value(sc, "conflux_pos_voting_enabled", n).is_none()
            })
            .collect();
        if !unknown.is_empty() {
            for n in NODES {
                if state_is(sc, n, "standby_ready") {
                    fail.push(format!(
                        "t={:.1}s {n} standby_ready while the switch of {unknown:?} is unknown",
                        s.at
                    ));
                }
            }
        }
    }
    out.push(format!(
        "failover verdicts checked at {checked} scrapes (handover {:.0}s..{:.0}s)",
        handover.0, handover.1
    ));
}

/// Chain facts about node0's address appear once, not once per holder.
pub fn once_per_address(sc: &Scrape, address: &str, out: &mut Vec<String>, fail: &mut Vec<String>) {
    for m in CHAIN_FACTS {
        let ours: Vec<_> = sc
            .series(m)
            .into_iter()
            .filter(|l| {
                l.get("pos_address").map(String::as_str) == Some(address)
                    || l.get("node").is_some_and(|n| NODES.contains(&n.as_str()))
            })
            .collect();
        // One fact is one set of labels apart from who publishes it (node) and for which key (pos_address):
        // account_votes has one series per `state`, each of which must appear once.
        let mut facts = std::collections::BTreeMap::<Vec<(String, String)>, Vec<String>>::new();
        for l in &ours {
            let key = l
                .iter()
                .filter(|(k, _)| *k != "node" && *k != "pos_address");
            let node = l.get("node").cloned().unwrap_or_default();
            facts
                .entry(key.map(|(k, v)| (k.clone(), v.clone())).collect())
                .or_default()
                .push(node);
        }
        let publishers: std::collections::BTreeSet<&String> = facts.values().flatten().collect();
        out.push(format!(
            "{m}: {} series for node0's key, published by {publishers:?}",
            ours.len()
        ));
        for (fact, nodes) in facts.iter().filter(|(_, n)| n.len() > 1) {
            fail.push(format!(
                "{m}{fact:?} published {} times for one address (by {nodes:?})",
                nodes.len()
            ));
        }
    }
}
