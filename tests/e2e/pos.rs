//! PoS participation end to end: the exporter against the simulator's PoS chain, whose force-retire verdicts
//! follow conflux-rust's rule. The exporter's forecast is compared with the chain's own verdict block by block.

use conflux_test_support as support;

use support::exposition::*;
use support::pos::*;
use support::scrape::*;

use conflux_sim::{EndpointPatch, SimHandle};
use serde_json::json;

/// Epoch of the newest committed block (a block at a term boundary ends the epoch before the state's).
fn newest_block_epoch(sim: &SimHandle) -> u64 {
    let st = sim_state(sim);
    let epoch = st["epoch"].as_u64().unwrap();
    if st["viewInTerm"] == 0 {
        epoch - 1
    } else {
        epoch
    }
}

#[tokio::test]
async fn stopped_voter_is_forecast_block_by_block_then_retired() {
    let sim = pos_sim(true, true, None).await;
    sim.advance_pos(3 * L + 3).unwrap();
    let app = watch(&sim, POLL_MS).await;
    let s = synced(&app, &sim).await;
    assert_eq!(g(&s, "conflux_pos_committee_member"), Some(1.0));
    assert_eq!(g(&s, "conflux_pos_force_retire_at_risk"), Some(0.0));
    assert_eq!(g(&s, "conflux_pos_votes_missed_total"), Some(0.0));
    assert!(
        g(&s, "conflux_pos_votes_signed_total").unwrap() >= 2.0 * L as f64,
        "backfill read the window"
    );
    let info = s.series("conflux_pos_info");
    assert_eq!(
        info[0]["pos_address"], US,
        "discovered with test_posRegister"
    );

    sim.patch_endpoint("node", EndpointPatch::default().voting(false))
        .await
        .unwrap();
    let last_signed_epoch = newest_block_epoch(&sim);
    let mut missed_blocks = 0.0;
    let mut saw_risk = false;
    let mut predicted_end = None;
    let mut most_silent_epochs = 0.0_f64;
    for _ in 0..5 * L {
        sim.advance_pos(1).unwrap();
        missed_blocks += 1.0;
        let s = synced(&app, &sim).await;
        let status_epoch = g(&s, "conflux_pos_epoch").unwrap() as u64;
        let retired = !retirements(&sim).is_empty();
        most_silent_epochs =
            most_silent_epochs.max(g(&s, "conflux_pos_epochs_without_vote").unwrap());
        // At risk from the start of the third silent epoch until the chain retires us.
        let expected = status_epoch == last_signed_epoch + 3 && !retired;
        assert_eq!(
            g(&s, "conflux_pos_force_retire_at_risk"),
            Some(if expected { 1.0 } else { 0.0 }),
            "status epoch {status_epoch}, last signed in {last_signed_epoch}:\n{}",
            s.text
        );
        saw_risk |= expected;
        if expected {
            let remaining = g(&s, "conflux_pos_epoch_remaining_blocks").unwrap();
            predicted_end = Some(g(&s, "conflux_pos_latest_committed_block").unwrap() + remaining);
            assert!(g(&s, "conflux_pos_force_retire_eta_seconds").is_some());
            assert!((1.0..=L as f64).contains(&remaining));
        } else {
            assert!(
                g(&s, "conflux_pos_force_retire_eta_seconds").is_none(),
                "ETA only while at risk"
            );
        }
        if retired {
            let r = &retirements(&sim)[0];
            assert_eq!(
                r["epoch"].as_u64(),
                Some(last_signed_epoch + 3),
                "the chain retires at the end of the 3rd silent epoch"
            );
            assert_eq!(g(&s, "conflux_pos_force_retired"), Some(1.0));
            assert_eq!(
                r["view"].as_f64(),
                predicted_end,
                "the forecast epoch end is the retiring block"
            );
            assert_eq!(g(&s, "conflux_pos_force_retired_block"), r["view"].as_f64());
            assert!(g(&s, "conflux_pos_votes_missed_total").unwrap() >= missed_blocks - 1.0);
            // Counted while an epoch has blocks: three silent epochs before the one the retiring block opens.
            assert!(most_silent_epochs >= 3.0, "{most_silent_epochs}");
            break;
        }
    }
    assert!(
        saw_risk && !retirements(&sim).is_empty(),
        "the scenario reached retirement"
    );
    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn new_member_silent_for_its_first_epoch() {
    let sim = pos_sim(false, false, None).await;
    // Past the simulated chain's first epochs, whose committees no node can tell: the new member's look-back
    // window then holds only epochs known not to include it, and the forecast can decide.
    sim.advance_pos(3 * L + 2).unwrap();
    let app = watch(&sim, POLL_MS).await;
    let s = synced(&app, &sim).await;
    assert_eq!(g(&s, "conflux_pos_committee_member"), Some(0.0));
    assert_eq!(g(&s, "conflux_pos_force_retire_at_risk"), Some(0.0));
    sim.pos_control(&json!({"cmd": "add_member", "address": US, "voting_power": 10}))
        .unwrap();
    let mut risk_epochs = std::collections::BTreeSet::new();
    for _ in 0..4 * L {
        sim.advance_pos(1).unwrap();
        let s = synced(&app, &sim).await;
        if g(&s, "conflux_pos_force_retire_at_risk") == Some(1.0) {
            assert_eq!(g(&s, "conflux_pos_committee_member"), Some(1.0));
            risk_epochs.insert(g(&s, "conflux_pos_epoch").unwrap() as u64);
        }
        if let Some(r) = retirements(&sim).first() {
            assert_eq!(
                risk_epochs.iter().copied().collect::<Vec<_>>(),
                vec![r["epoch"].as_u64().unwrap()],
                "at risk exactly during the epoch that retired it"
            );
            assert_eq!(g(&s, "conflux_pos_force_retired"), Some(1.0));
            app.shutdown().await;
            sim.shutdown().await;
            return;
        }
    }
    panic!("the new member was never retired; risk seen in {risk_epochs:?}");
}

#[tokio::test]
async fn a_node_outside_the_committee_is_never_at_risk() {
    let sim = pos_sim(false, true, None).await;
    let app = watch(&sim, POLL_MS).await;
    for _ in 0..4 {
        sim.advance_pos(L).unwrap();
        let s = synced(&app, &sim).await;
        assert_eq!(g(&s, "conflux_pos_committee_member"), Some(0.0));
        assert_eq!(g(&s, "conflux_pos_force_retire_at_risk"), Some(0.0));
        assert_eq!(g(&s, "conflux_pos_epochs_without_vote"), Some(0.0));
        assert_eq!(g(&s, "conflux_pos_votes_missed_total"), Some(0.0));
    }
    assert!(retirements(&sim).is_empty());
    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_qcs_are_not_misses_and_a_dispute_is_slashing() {
    let sim = pos_sim(true, true, None).await;
    sim.advance_pos(2).unwrap();
    let app = watch(&sim, POLL_MS).await;
    let s = synced(&app, &sim).await;
    let (missed, unknown) = (
        g(&s, "conflux_pos_votes_missed_total").unwrap(),
        g(&s, "conflux_pos_votes_unknown_total").unwrap(),
    );
    sim.pos_control(&json!({"cmd": "empty_signatures", "blocks": 3}))
        .unwrap();
    sim.advance_pos(3).unwrap();
    let s = synced(&app, &sim).await;
    assert_eq!(
        g(&s, "conflux_pos_votes_unknown_total"),
        Some(unknown + 3.0)
    );
    assert_eq!(g(&s, "conflux_pos_votes_missed_total"), Some(missed));
    assert_eq!(g(&s, "conflux_pos_slashed"), Some(0.0));
    sim.pos_control(&json!({"cmd": "dispute", "address": US}))
        .unwrap();
    sim.advance_pos(2).unwrap();
    let s = synced(&app, &sim).await;
    assert_eq!(g(&s, "conflux_pos_slashed"), Some(1.0), "{}", s.text);
    assert_eq!(
        s.get(
            "conflux_pos_transactions_total",
            &[("node", "local"), ("type", "Dispute")]
        ),
        Some(1.0)
    );
    assert!(s
        .get(
            "conflux_pos_queue_next_maturity_block",
            &[("node", "local"), ("queue", "out_queue")]
        )
        .is_some());
    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn pos_not_started_and_not_served_are_named() {
    let sim = pos_sim(true, true, None).await;
    sim.patch_endpoint("node", EndpointPatch::default().pos_not_started(true))
        .await
        .unwrap();
    let app = watch(&sim, POLL_MS).await;
    let a = app.local_addr();
    let reason = |s: &Scrape, r: &str| {
        s.get(
            "conflux_pos_unavailable_reason",
            &[("node", "local"), ("reason", r)],
        )
    };
    let s = wait_for(a, DEADLINE, "not started", |s| {
        reason(s, "pos_not_started") == Some(1.0)
    })
    .await;
    assert_eq!(g(&s, "conflux_pos_up"), Some(0.0));
    assert_eq!(g(&s, "conflux_up"), Some(1.0), "the node itself is up");
    assert!(
        s.series("conflux_pos_force_retire_at_risk").is_empty(),
        "no verdict without data"
    );
    sim.patch_endpoint(
        "node",
        EndpointPatch::default()
            .pos_not_started(false)
            .disable_namespace("pos"),
    )
    .await
    .unwrap();
    wait_for(a, DEADLINE, "not served", |s| {
        reason(s, "pos_not_served") == Some(1.0) && reason(s, "pos_not_started") == Some(0.0)
    })
    .await;
    sim.patch_endpoint("node", EndpointPatch::default().enable_namespace("pos"))
        .await
        .unwrap();
    wait_for(a, DEADLINE, "back", |s| {
        g(s, "conflux_pos_up") == Some(1.0) && s.series("conflux_pos_unavailable_reason").is_empty()
    })
    .await;
    app.shutdown().await;
    sim.shutdown().await;
}

/// The simulator's upcoming terms, in start order: (start block, finalized, whether `US` is among the nodes).
async fn chain_terms(sim: &SimHandle) -> Vec<(u64, bool, bool)> {
    let r = support::rpc::result(&sim.url("ref").unwrap(), "pos_getCommittee", json!([])).await;
    let mut terms: Vec<(u64, bool, bool)> = r["elections"]
        .as_array()
        .expect("elections")
        .iter()
        .map(|e| {
            let start = e["startBlockNumber"]
                .as_str()
                .unwrap()
                .trim_start_matches("0x");
            let ours = e["topElectingNodes"].as_array().unwrap().iter().any(|n| {
                n["address"]
                    .as_str()
                    .map(str::to_ascii_lowercase)
                    .as_deref()
                    == Some(US)
            });
            (
                u64::from_str_radix(start, 16).unwrap(),
                e["isFinalized"] == true,
                ours,
            )
        })
        .collect();
    terms.sort();
    terms
}

/// The two upcoming terms keep their names (`next`, `after_next`) from term to term, so the series set does not
/// grow; their start blocks, finality and our candidacy follow the chain's `pos_getCommittee`.
#[tokio::test]
async fn upcoming_terms_keep_their_names_across_terms() {
    let sim = pos_sim(true, true, None).await;
    sim.advance_pos(2 * L + 3).unwrap();
    let app = watch(&sim, POLL_MS).await;
    let mut next_starts = Vec::new();
    for _ in 0..2 {
        synced(&app, &sim).await;
        let chain = chain_terms(&sim).await;
        assert_eq!(chain.len(), 2, "{chain:?}");
        let s = wait_for(
            app.local_addr(),
            T,
            "the exporter's terms match the chain's",
            |s| {
                ["next", "after_next"].iter().zip(&chain).all(|(t, c)| {
                    s.get("conflux_pos_election_term_start_block", &[("term", t)])
                        == Some(c.0 as f64)
                        && s.get(
                            "conflux_pos_election_candidate",
                            &[
                                ("term", t),
                                ("finalized", if c.1 { "true" } else { "false" }),
                            ],
                        ) == Some(if c.2 { 1.0 } else { 0.0 })
                })
            },
        )
        .await;
        for name in [
            "conflux_pos_election_term_start_block",
            "conflux_pos_election_candidate",
        ] {
            let mut terms: Vec<String> = s.series(name).iter().map(|l| l["term"].clone()).collect();
            terms.sort();
            assert_eq!(terms, ["after_next", "next"], "{name}");
        }
        assert!(!s.text.contains("term_start_block="), "{}", s.text);
        next_starts.push(chain[0].0);
        sim.advance_pos(L).unwrap();
    }
    assert_eq!(
        next_starts[1],
        next_starts[0] + L,
        "the next term moved on by one term"
    );
}
