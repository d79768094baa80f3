//! PoS history end to end: an exporter restarted mid-epoch backfills to exactly the numbers of one that ran
//! throughout (and of the chain's own tally), and every block and transaction is read once, however often it is
//! polled.

use conflux_test_support as support;

use support::exposition::*;
use support::pos::*;
use support::scrape::*;
use support::tally::*;

use conflux_sim::EndpointPatch;

/// The series both exporters must agree on.
const COMPARED: &[&str] = &[
    "conflux_pos_votes_signed_total",
    "conflux_pos_votes_missed_total",
    "conflux_pos_votes_unknown_total",
    "conflux_pos_blocks_proposed_total",
    "conflux_pos_election_transactions_total",
    "conflux_pos_epochs_without_vote",
    "conflux_pos_force_retire_at_risk",
    "conflux_pos_consecutive_missed_blocks",
    "conflux_pos_epoch_blocks",
    "conflux_pos_epoch_blocks_signed",
    "conflux_pos_last_signed_block",
    "conflux_pos_reward_cfx_total",
];

#[tokio::test]
async fn a_restart_mid_epoch_gives_the_same_numbers_as_a_continuous_run() {
    let sim = pos_sim(true, true, None).await;
    let anchor = sim.pos_height();
    sim.advance_pos(2).unwrap();
    let continuous = watch(&sim, POLL_MS).await;
    let restarted = watch(&sim, POLL_MS).await;
    synced(&continuous, &sim).await;
    synced(&restarted, &sim).await;
    sim.advance_pos(3).unwrap();
    synced(&restarted, &sim).await;
    restarted.shutdown().await;
    // While it is down: the node stops voting, blocks are committed, and voting resumes.
    sim.patch_endpoint("node", EndpointPatch::default().voting(false))
        .await
        .unwrap();
    sim.advance_pos(4).unwrap();
    let restarted = watch(&sim, POLL_MS).await;
    synced(&restarted, &sim).await; // it restarts here, mid-epoch, and backfills
    sim.advance_pos(L + 3).unwrap();
    sim.patch_endpoint("node", EndpointPatch::default().voting(true))
        .await
        .unwrap();
    sim.advance_pos(2).unwrap();
    let a = synced(&continuous, &sim).await;
    let b = synced(&restarted, &sim).await;
    let pos_lines = |s: &Scrape| {
        s.text
            .lines()
            .filter(|l| l.starts_with("conflux_pos"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for name in COMPARED {
        assert_eq!(
            g(&a, name),
            g(&b, name),
            "{name} differs after a restart\n{}\n{}",
            pos_lines(&a),
            pos_lines(&b)
        );
        assert!(g(&a, name).is_some(), "{name} missing");
    }
    // Both equal the chain's own tally of every block since the simulator's anchor (the whole chain lies within
    // the restarted exporter's backfill window).
    let h = sim.pos_height();
    let mut chain = ChainReader::new(sim.url("ref").unwrap(), US, anchor);
    chain.read_to(h).await;
    let t = chain.tally(anchor, h);
    for (name, want) in [
        ("conflux_pos_votes_signed_total", t.signed),
        ("conflux_pos_votes_missed_total", t.missed),
        ("conflux_pos_votes_unknown_total", t.unknown),
    ] {
        assert_eq!(
            g(&a, name),
            Some(want as f64),
            "{name}: the chain says {t:?}\n{}",
            pos_lines(&a)
        );
    }
    assert!(t.missed > 0, "the silent stretch is on the chain: {t:?}");
    continuous.shutdown().await;
    restarted.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn each_block_and_transaction_is_read_once() {
    let sim = pos_sim(true, true, None).await;
    sim.advance_pos(5).unwrap();
    let app = watch(&sim, POLL_MS).await;
    let s0 = synced(&app, &sim).await;
    let txs = |s: &Scrape| -> f64 {
        s.series("conflux_pos_transactions_total")
            .iter()
            .map(|l| {
                s.get(
                    "conflux_pos_transactions_total",
                    &[("node", "local"), ("type", &l["type"])],
                )
                .unwrap()
            })
            .sum()
    };
    let tx0 = txs(&s0);
    let backfill = sim.stats("node").unwrap();
    sim.reset_stats();
    let k = 2 * L + 3;
    for _ in 0..k {
        // One block at a time, each seen by the exporter's status before the next: blocks arrive over many polls.
        let h = sim.advance_pos(1).unwrap() as f64;
        wait_for(app.local_addr(), DEADLINE, "status shows the block", |s| {
            g(s, "conflux_pos_latest_committed_block") == Some(h)
        })
        .await;
    }
    let s = synced(&app, &sim).await;
    let stats = sim.stats("node").unwrap();
    assert_eq!(
        stats.calls("pos_getBlockByNumber"),
        k,
        "each new committed block read exactly once: {stats:?}"
    );
    assert_eq!(
        stats.calls("pos_getTransactionByNumber") as f64,
        txs(&s) - tx0,
        "each transaction read exactly once"
    );
    assert!(
        backfill.calls("pos_getBlockByNumber") >= 3 * L - L,
        "backfill read the window: {backfill:?}"
    );
    assert!(stats.dangerous_methods.is_empty() && backfill.dangerous_methods.is_empty());
    app.shutdown().await;
    sim.shutdown().await;
}
