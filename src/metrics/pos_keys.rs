//! Which node speaks for each PoS key. Facts about an address (votes signed and missed, force-retire risk,
//! account, rewards, slashing) are the chain's, not a node's: a standby sharing the primary's key reads exactly the
//! same history, and publishing it under both names showed a standby "signing" votes it never cast. Each address's
//! facts are therefore published once, from the most advanced node that is up and holds it.

use std::collections::BTreeMap;
use std::time::SystemTime;

use super::def::{sync_counter, sync_float_counter};
use super::pos::{flag, since, unix_now, PosFamilies, DRIP_PER_CFX, SLASH_RELOCK_MIN_BLOCKS};
use crate::assess::retire::{self, Judgement};
use crate::pos_address::PosAddress;
use crate::state::{NodeState, PosObs, State};

/// For each configured node, whether it is the one whose reading of its address's chain facts is published: the
/// up node with a PoS status that has read furthest (latest committed block, then history read), the first in
/// configuration order on a tie. Nodes without a known address or PoS status speak for nothing.
pub fn key_readers(state: &State) -> Vec<bool> {
    let mut best: BTreeMap<&PosAddress, (usize, (u64, u64))> = BTreeMap::new();
    for (i, node) in state.nodes.iter().enumerate() {
        let Some(p) = node.pos.as_ref().filter(|_| node.poll.up) else {
            continue;
        };
        let (Some(addr), Some(s)) = (p.address.as_ref(), &p.status) else {
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

/// What the reading node knows about its key at this publish.
pub struct KeyFacts<'a> {
    /// The reading node (the `node` label says where the facts were read).
    pub node: &'a str,
    /// The key's canonical spelling (the `pos_address` label).
    pub address: &'a str,
    /// The node's PoS observation.
    pub pos: &'a PosObs,
    /// Latest committed PoS block.
    pub latest: u64,
    /// Current PoS epoch.
    pub epoch: u64,
    /// Observed seconds per block.
    pub interval: Option<f64>,
    /// Blocks left in the epoch.
    pub remaining: Option<u64>,
    /// The force-retire judgement, once the window is read; its verdict `None` while undecidable.
    pub judged: Option<(Judgement, Option<bool>)>,
    /// Publish time.
    pub now: SystemTime,
}

/// Counters of a key that a node no longer reads for: dropped, so the key's counters appear once.
pub fn forget_counters(f: &PosFamilies, node: &NodeState) {
    let Some(a) = node.pos.as_ref().and_then(|p| p.address.as_ref()) else {
        return;
    };
    let k = [node.name.as_str(), a.as_str()];
    for c in [
        &f.votes_signed,
        &f.votes_missed,
        &f.votes_unknown,
        &f.proposed,
        &f.elections,
    ] {
        let _ = c.remove_label_values(&k);
    }
    for t in ["Register", "UpdateVotingPower", "Retire"] {
        let _ = f.own_txs.remove_label_values(&[k[0], k[1], t]);
    }
    let _ = f.reward.remove_label_values(&k);
}

/// Every fact about the key, labelled `node` (where read) and `pos_address`.
pub fn publish_key(f: &PosFamilies, k: &KeyFacts<'_>) {
    committee(f, k);
    account(f, k);
    activity(f, k);
    let Some((j, at_risk)) = &k.judged else {
        return;
    };
    let (l, kk) = (&k.pos.ledger, [k.node, k.address]);
    let current = l.epochs.get(&k.epoch).cloned().unwrap_or_default();
    f.epoch_blocks_signed
        .with_label_values(&kk)
        .set(current.signed as f64);
    f.consecutive_missed
        .with_label_values(&kk)
        .set(l.consecutive_missed as f64);
    if let Some(h) = l.last_signed_block {
        f.last_signed_block.with_label_values(&kk).set(h as f64);
    }
    if let Some(ts) = l.last_vote_timestamp_us {
        f.last_vote_ts.with_label_values(&kk).set(ts as f64 / 1e6);
    }
    f.epochs_without_vote
        .with_label_values(&kk)
        .set(j.verdict.epochs_without_vote as f64);
    let Some(at_risk) = *at_risk else { return };
    f.at_risk.with_label_values(&kk).set(flag(at_risk));
    if let (true, Some(r), Some(i)) = (at_risk, k.remaining, k.interval) {
        let eta = retire::eta_seconds(r, i, since(k.pos.latest_committed_seen_at, k.now));
        f.eta.with_label_values(&kk).set(eta);
        f.eta_timestamp
            .with_label_values(&kk)
            .set(unix_now(k.now) + eta);
    }
}

fn activity(f: &PosFamilies, k: &KeyFacts<'_>) {
    let (p, kk) = (k.pos, [k.node, k.address]);
    let l = &p.ledger;
    sync_counter(&f.votes_signed, &kk, l.signed_total);
    sync_counter(&f.votes_missed, &kk, l.missed_total);
    sync_counter(&f.votes_unknown, &kk, l.unknown_total);
    sync_counter(&f.proposed, &kk, l.proposed_total);
    sync_counter(&f.elections, &kk, p.activity.elections);
    for t in ["Register", "UpdateVotingPower", "Retire"] {
        let n = p.activity.own_tx_by_type.get(t).copied().unwrap_or(0);
        sync_counter(&f.own_txs, &[k.node, k.address, t], n);
    }
    let cfx = p.activity.reward_drip_total as f64 / DRIP_PER_CFX;
    sync_float_counter(&f.reward, &kk, cfx);
    if let Some(r) = p.activity.last_epoch_reward_drip {
        f.last_reward
            .with_label_values(&kk)
            .set(r as f64 / DRIP_PER_CFX);
    }
    if let Some(t) = p.activity.last_election_target_term {
        f.last_election_term.with_label_values(&kk).set(t as f64);
    }
}

fn committee(f: &PosFamilies, k: &KeyFacts<'_>) {
    let Some(c) = &k.pos.committee else { return };
    let (us, kk) = (k.address, [k.node, k.address]);
    let cc = &c.current_committee;
    let ours = cc.nodes.iter().find(|m| m.address.as_str() == us);
    f.committee_member
        .with_label_values(&kk)
        .set(flag(ours.is_some()));
    f.voting_power
        .with_label_values(&kk)
        .set(ours.map_or(0.0, |m| m.voting_power.0 as f64));
    for e in &c.elections {
        let candidate = e
            .top_electing_nodes
            .iter()
            .any(|m| m.address.as_str() == us);
        let start = e.start_block_number.0.to_string();
        let finalized = if e.is_finalized { "true" } else { "false" };
        f.election_candidate
            .with_label_values(&[k.node, us, &start, finalized])
            .set(flag(candidate));
    }
}

fn account(f: &PosFamilies, k: &KeyFacts<'_>) {
    let Some(a) = &k.pos.account else { return };
    let kk = [k.node, k.address];
    f.registered
        .with_label_values(&kk)
        .set(flag(a.is_registered()));
    let st = &a.status;
    let in_queue: u64 = st.in_queue.iter().map(|i| i.power.0).sum();
    let out_queue: u64 = st.out_queue.iter().map(|i| i.power.0).sum();
    for (state, v) in [
        ("available", st.available_votes.0),
        ("locked", st.locked.0),
        ("unlocked", st.unlocked.0),
        ("in_queue", in_queue),
        ("out_queue", out_queue),
        ("forfeited", st.forfeited.0),
    ] {
        f.account_votes
            .with_label_values(&[k.node, k.address, state])
            .set(v as f64);
    }
    f.force_retired
        .with_label_values(&kk)
        .set(flag(st.force_retired.is_some()));
    if let Some(b) = st.force_retired {
        f.force_retired_block.with_label_values(&kk).set(b.0 as f64);
    }
    for (queue, items) in [("in_queue", &st.in_queue), ("out_queue", &st.out_queue)] {
        if let Some(end) = items.iter().map(|i| i.end_block_number.0).min() {
            let labels = [k.node, k.address, queue];
            f.queue_block.with_label_values(&labels).set(end as f64);
            if let Some(i) = k.interval {
                f.queue_seconds
                    .with_label_values(&labels)
                    .set(end.saturating_sub(k.latest) as f64 * i);
            }
        }
    }
    let relocked = st
        .out_queue
        .iter()
        .any(|i| i.end_block_number.0 >= a.block_number.0 + SLASH_RELOCK_MIN_BLOCKS);
    f.slashed
        .with_label_values(&kk)
        .set(flag(relocked || k.pos.activity.dispute_seen));
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
            address: PosAddress::parse(addr).ok(),
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

    #[test]
    fn a_keys_facts_appear_once_and_follow_the_reader() {
        let r = prometheus::Registry::new();
        let f = PosFamilies::register(&r).unwrap();
        let mut state = State {
            nodes: vec![
                node(true, KEY, 100, Some(100)),
                node(true, KEY, 90, Some(90)),
            ],
            ..Default::default()
        };
        for (i, n) in state.nodes.iter_mut().enumerate() {
            n.name = format!("n{i}");
            n.pos.as_mut().unwrap().ledger.signed_total = 27;
        }
        let signed = |f: &PosFamilies| {
            let mut out = Vec::new();
            for m in prometheus::core::Collector::collect(&f.votes_signed) {
                for s in m.get_metric() {
                    let labels: Vec<String> = s
                        .get_label()
                        .iter()
                        .map(|l| l.value().to_string())
                        .collect();
                    out.push(labels.join(","));
                }
            }
            out
        };
        f.publish(&state, SystemTime::now());
        assert_eq!(
            signed(&f),
            [format!("n0,{KEY}")],
            "the standby does not show votes it never cast"
        );
        state.nodes[0].poll.up = false;
        f.publish(&state, SystemTime::now());
        assert_eq!(signed(&f), [format!("n1,{KEY}")]);
    }
}
