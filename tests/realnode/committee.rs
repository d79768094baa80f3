//! Issue 22 on the real devnet ("was it just me?"): one exporter per validator, as on four hosts. node1's voting is
//! stopped as an operator would (`test_posStopVoting`, sent by the suite). Its exporter must count its misses as
//! solo misses (the three others keep signing every block: without node1 they are exactly the quorum), the other
//! exporters none; and the committee participation each exporter publishes must match the QC signatures and the
//! committee read by hand (`pos_getBlockByNumber`, `pos_getEpochState`) for the same blocks.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use super::checks::value;
use super::devnet::Devnet;
use super::exporter::Exporter;
use super::recorder::Recorder;
use super::rpc::{hex, Rpc};
use super::{report, watched};

const NODES: u16 = 4;
/// Blocks node1 must miss after the stop before the counters are judged.
const MISSES: f64 = 10.0;

pub async fn just_me(test: &str) {
    let net = Devnet::up(None);
    let (mut out, mut fail) = (Vec::new(), Vec::new());
    let exps: Vec<Exporter> = (0..NODES)
        .map(|i| Exporter::start(&[watched(&net, i)], ""))
        .collect();
    let recs: Vec<Recorder> = exps
        .iter()
        .map(|e| Recorder::start(e.port, vec![], e.started))
        .collect();
    let name = |i: usize| format!("node{i}");
    for (i, rec) in recs.iter().enumerate() {
        let node = name(i);
        if let Err(last) = rec
            .try_wait_for(
                &format!("{node} signed > 0"),
                Duration::from_secs(240),
                |s| value(s, "conflux_pos_votes_signed_total", &node).is_some_and(|v| v > 0.0),
            )
            .await
        {
            fail.push(format!("{node}: no signed vote within 240s; last:\n{last}"));
            return report(test, &out, &fail);
        }
    }
    let counters = |rec: &Recorder, node: &str| {
        let s = rec.samples().into_iter().rev().find_map(|s| s.scrape);
        let g = |m: &str| s.as_ref().and_then(|s| value(s, m, node));
        (
            g("conflux_pos_votes_missed_total"),
            g("conflux_pos_votes_solo_missed_total"),
        )
    };
    let rpc1 = net.rpc(1);
    // Past the genesis epoch, whose QC votes count another power than the committee's (the exporter leaves its
    // participation unknown), so every miss after the stop can be classified.
    super::recorder::until("PoS epoch 3", Duration::from_secs(120), || async {
        let (_, epoch, _) = rpc1.pos_status().await;
        (epoch >= 3).then_some(())
    })
    .await;
    let before: Vec<_> = (0..NODES as usize)
        .map(|i| counters(&recs[i], &name(i)))
        .collect();
    let (stop_block, stop_epoch, _) = rpc1.pos_status().await;
    let stop_at = recs[1].mark("test_posStopVoting on node1");
    rpc1.must("test_posStopVoting", json!([])).await;
    out.push(format!(
        "node1 stopped voting at PoS block {stop_block} epoch {stop_epoch}"
    ));
    let missed0 = before[1].0.unwrap_or(0.0);
    match recs[1]
        .try_wait_for("node1 missed 10 more", Duration::from_secs(300), |s| {
            value(s, "conflux_pos_votes_missed_total", "node1")
                .is_some_and(|m| m >= missed0 + MISSES)
        })
        .await
    {
        Ok((t, _)) => out.push(format!(
            "node1: {MISSES} misses counted {:.1}s after the stop",
            t - stop_at
        )),
        Err(last) => {
            fail.push(format!(
                "node1: not {MISSES} misses within 300s; last:\n{last}"
            ));
            return report(test, &out, &fail);
        }
    }
    // Let the other exporters read the same blocks.
    tokio::time::sleep(Duration::from_secs(12)).await;
    for i in 0..NODES as usize {
        let node = name(i);
        let (m0, s0) = before[i];
        let (m1, s1) = counters(&recs[i], &node);
        let (m0, s0) = (m0.unwrap_or(0.0), s0.unwrap_or(0.0));
        let (Some(m1), Some(s1)) = (m1, s1) else {
            fail.push(format!("{node}: missed or solo-missed counter absent"));
            continue;
        };
        out.push(format!(
            "{node}: missed {m0} -> {m1}, solo missed {s0} -> {s1} (before the stop -> now)"
        ));
        if i == 1 {
            if s1 - s0 != m1 - m0 || s1 - s0 < MISSES {
                fail.push(format!(
                    "node1: {} misses since the stop but {} solo",
                    m1 - m0,
                    s1 - s0
                ));
            }
        } else if s1 != 0.0 {
            fail.push(format!(
                "{node}: {s1} solo misses while node1 was the one silent"
            ));
        }
    }
    for (i, rec) in recs.iter().enumerate() {
        participation_by_hand(rec, &name(i), &net.rpc(i as u16), &mut out, &mut fail).await;
    }
    report(test, &out, &fail);
}

/// Every (last block read, participation) pair the exporter published, checked against the block's QC votes over
/// its epoch's committee power, read by hand.
async fn participation_by_hand(
    rec: &Recorder,
    node: &str,
    rpc: &Rpc,
    out: &mut Vec<String>,
    fail: &mut Vec<String>,
) {
    let mut seen: BTreeMap<u64, f64> = BTreeMap::new();
    for s in rec.samples().into_iter().filter_map(|s| s.scrape) {
        let last = value(&s, "conflux_pos_last_read_block", node);
        let part = value(&s, "conflux_pos_committee_participation_ratio", node);
        if let (Some(h), Some(p)) = (last, part) {
            seen.insert(h as u64, p);
        }
    }
    let (mut checked, mut values) = (0, BTreeMap::<String, u32>::new());
    for (h, published) in &seen {
        let b = rpc
            .must("pos_getBlockByNumber", json!([format!("{h:#x}")]))
            .await;
        let signed: u64 = b["signatures"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| hex(&s["votes"]))
            .sum();
        let Some(epoch) = hex(&b["epoch"]) else {
            continue;
        };
        // The epoch's validator set as the node keeps it (the committee's power in that epoch).
        let Ok(state) = rpc
            .call(
                "pos_getEpochState",
                json!([format!("{epoch:#x}")]),
                Duration::from_secs(60),
            )
            .await
        else {
            continue;
        };
        let Some(total) = hex(&state["verifier"]["totalVotingPower"]) else {
            continue;
        };
        let by_hand = signed as f64 / total as f64;
        checked += 1;
        *values.entry(format!("{signed}/{total}")).or_default() += 1;
        if (by_hand - published).abs() > 1e-9 {
            fail.push(format!(
                "{node}: block {h} participation {published} published, {signed}/{total} = {by_hand} by hand"
            ));
        }
    }
    out.push(format!(
        "{node}: participation checked by hand on {checked} of {} blocks (QC power/committee power: {values:?})",
        seen.len()
    ));
    if checked == 0 {
        fail.push(format!("{node}: no block's participation could be checked"));
    }
}
