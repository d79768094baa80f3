//! Correct accounting under faults, without a network: the exporter's PoS source reads a simulated PoS chain
//! in-process while requests fail as a whole (timeouts), single answers fail (error objects) and head polls are
//! lost, at random (seeded). After every chain step it must reach exactly the signed / missed / unknown counters
//! and the force-retire verdict of a fault-free reader, and both must equal the chain's own tally. And a machine too
//! slow for more than one history request per poll, on a chain that commits a block every poll, still completes
//! the start-up backfill, and not before the window is read.

use conflux_pos_exporter::assess::retire;
use conflux_pos_exporter::rpc::{to_raw, Answer, RpcError};
use conflux_pos_exporter::watch::pos::PosSource;
use conflux_sim::pos::{PosChain, PosParams};
use serde_json::{json, Value};

const US: &str = "0xabababababababababababababababababababababababababababababababab";
const LEN: u64 = 10;

/// Fault probabilities of one reader (0 = fault-free).
#[derive(Clone, Copy)]
struct Faults {
    head_lost: f64,
    request_timeout: f64,
    answer_error: f64,
    /// Historical committee answers fail more often: they decide whether a silent block is a miss.
    committee_error: f64,
}

const NONE: Faults = Faults {
    head_lost: 0.0,
    request_timeout: 0.0,
    answer_error: 0.0,
    committee_error: 0.0,
};

/// The chain's answer as the client hands it over: raw JSON text.
fn raw_answer(chain: &PosChain, method: &str, params: &Value) -> Answer {
    answer(chain, method, params).map(|v| to_raw(&v))
}

fn answer(chain: &PosChain, method: &str, params: &Value) -> Result<Value, RpcError> {
    match method {
        "test_posVotingStatus" => Ok(json!(true)),
        m if m.starts_with("pos_") => {
            let params = params.as_array().cloned().unwrap_or_default();
            chain
                .rpc(m, &params, chain.latest_committed())
                .map_err(|(code, message)| RpcError::Rpc { code, message })
        }
        other => Err(RpcError::Rpc {
            code: -32601,
            message: format!("{other} not served here"),
        }),
    }
}

/// One poll: the head batch, then history requests until caught up or a request fails.
fn poll(src: &mut PosSource, chain: &PosChain, rng: &mut fastrand::Rng, f: Faults) {
    let calls = src.calls();
    if rng.f64() < f.head_lost {
        src.apply(Err(RpcError::Timeout(std::time::Duration::from_secs(30))));
        src.choose_local();
        return;
    }
    let head: Vec<_> = calls
        .iter()
        .map(|c| raw_answer(chain, c.method, &c.params))
        .collect();
    src.apply(Ok(head));
    src.choose_local();
    for _ in 0..40 {
        let Some(calls) = src.extra_calls() else {
            break;
        };
        if rng.f64() < f.request_timeout {
            src.history_failed(&RpcError::Timeout(std::time::Duration::from_secs(30)));
            break;
        }
        let answers = calls
            .iter()
            .map(|c| {
                let historical = c.method == "pos_getCommittee";
                let p = if historical {
                    f.committee_error
                } else {
                    f.answer_error
                };
                if rng.f64() < p {
                    Err(RpcError::Rpc {
                        code: -32000,
                        message: "injected".into(),
                    })
                } else {
                    raw_answer(chain, c.method, &c.params)
                }
            })
            .collect();
        src.apply_extra(answers);
    }
}

/// Polls until everything up to the chain's height is read (faults make this take several polls).
fn catch_up(src: &mut PosSource, chain: &PosChain, rng: &mut fastrand::Rng, f: Faults) {
    for _ in 0..500 {
        poll(src, chain, rng, f);
        let caught = src.obs.history.caught_up
            && src.obs.ledger.last_height == Some(chain.latest_committed())
            && src.obs.status.as_ref().map(|s| s.latest_committed.0)
                == Some(chain.latest_committed());
        if caught {
            return;
        }
    }
    panic!("never caught up at height {}", chain.latest_committed());
}

/// (signed, missed, unknown) of the chain's own blocks `from..=to` for `US`, membership from the committee
/// state at the epoch-ending view before each block's epoch.
fn chain_tally(chain: &PosChain, from: u64, to: u64) -> (u64, u64, u64) {
    let mut t = (0, 0, 0);
    for h in from..=to {
        let b = answer(chain, "pos_getBlockByNumber", &json!([format!("{h:#x}")])).unwrap();
        let sigs = b["signatures"].as_array().unwrap();
        if sigs.iter().any(|s| s["account"] == US) {
            t.0 += 1;
            continue;
        }
        let view = (h - 1) / LEN * LEN;
        let c = answer(chain, "pos_getCommittee", &json!([format!("{view:#x}")])).unwrap();
        let member = c["currentCommittee"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["address"] == US);
        match (member, sigs.is_empty()) {
            (true, true) => t.2 += 1,
            (true, false) => t.1 += 1,
            _ => {}
        }
    }
    t
}

fn counters(src: &PosSource) -> (u64, u64, u64) {
    let l = &src.obs.ledger;
    (l.signed_total, l.missed_total, l.unknown_total)
}

fn verdict(src: &PosSource) -> Option<bool> {
    let s = src.obs.status.as_ref()?;
    let grid = src.obs.epoch_length.zip(src.obs.grid_point);
    retire::judge(&src.obs.ledger, s.epoch.0, s.latest_committed.0, grid, 0)
        .verdict
        .at_risk
}

fn run(seed: u64) {
    let mut params = PosParams::for_identities(&[US.to_string()], 3, LEN);
    // The 3-epoch rule (as on mainnet), which the verdicts below are judged with.
    params.cip99_transition_view = Some(0);
    let mut chain = PosChain::new(params);
    let mut now = 1_000_000u64;
    let mut step = |chain: &mut PosChain, n: u64| {
        for _ in 0..n {
            now += 1_000_000;
            chain.commit_block(now, (1, format!("0x{:064x}", 1)));
        }
    };
    step(&mut chain, 2 * LEN);
    // Silent before the readers start: their backfill needs the historical committees to count these blocks.
    chain.omit_signature(US, true).unwrap();
    step(&mut chain, LEN + 4);
    chain.omit_signature(US, false).unwrap();
    let faults = Faults {
        head_lost: 0.15,
        request_timeout: 0.25,
        answer_error: 0.2,
        committee_error: 0.5,
    };
    let (mut clean, mut faulty) = (
        PosSource::new(conflux_pos_exporter::pos_address::PosAddress::parse(US).ok()),
        PosSource::new(conflux_pos_exporter::pos_address::PosAddress::parse(US).ok()),
    );
    let (mut r0, mut r1) = (
        fastrand::Rng::with_seed(seed),
        fastrand::Rng::with_seed(seed ^ 0x5eed),
    );
    catch_up(&mut clean, &chain, &mut r0, NONE);
    catch_up(&mut faulty, &chain, &mut r1, faults);
    let first =
        chain.latest_committed() - counters(&clean).0 - counters(&clean).1 - counters(&clean).2 + 1;
    // Silent for a while (our signature left out of every QC), a few unknown QCs, then voting again.
    let plan: [(&str, u64); 5] = [
        ("vote", 4),
        ("silent", 2 * LEN + 5),
        ("empty", 3),
        ("silent", LEN),
        ("vote", LEN),
    ];
    for (what, n) in plan {
        match what {
            "silent" => chain.omit_signature(US, true).unwrap(),
            "vote" => chain.omit_signature(US, false).unwrap(),
            _ => chain.empty_signatures_next(n),
        }
        for _ in 0..n {
            step(&mut chain, 1);
            catch_up(&mut clean, &chain, &mut r0, NONE);
            catch_up(&mut faulty, &chain, &mut r1, faults);
            let h = chain.latest_committed();
            assert_eq!(
                counters(&faulty),
                counters(&clean),
                "seed {seed}, height {h}: counters"
            );
            assert_eq!(
                verdict(&faulty),
                verdict(&clean),
                "seed {seed}, height {h}: at-risk verdict"
            );
            assert_eq!(
                counters(&clean),
                chain_tally(&chain, first, h),
                "seed {seed}, height {h}: chain tally"
            );
        }
    }
    assert!(
        counters(&clean).1 >= 2 * LEN,
        "the run had silent epochs: {:?}",
        counters(&clean)
    );
    assert!(
        counters(&clean).2 >= 1,
        "and unknown QCs: {:?}",
        counters(&clean)
    );
}

#[test]
fn faults_never_change_the_tally_or_the_verdict() {
    for seed in 0..20 {
        run(seed);
    }
}

/// `lastTxNumber` of the chain's block `height`.
fn last_tx(chain: &PosChain, height: u64) -> u64 {
    let b = answer(
        chain,
        "pos_getBlockByNumber",
        &json!([format!("{height:#x}")]),
    )
    .unwrap();
    let n = b["lastTxNumber"].as_str().unwrap().trim_start_matches("0x");
    u64::from_str_radix(n, 16).unwrap()
}

/// The head never stands still: every poll has time for one history request only (its budget is spent), and the
/// chain commits a block between every two polls. A new block's transaction range is learned from the block, so its
/// transactions are always one request behind and "caught up" is never true; the backfill must still complete once
/// the window planned at start (up to the height then committed) is read — and not before: while the history
/// answers `withheld(method, params, window end)` fail (error objects), during the first `polls_withheld` polls, it
/// must not complete.
fn backfill_under_a_moving_head(
    name: &str,
    withheld: impl Fn(&str, &Value, u64) -> bool,
    polls_withheld: u32,
) {
    let mut chain = PosChain::new(PosParams::for_identities(&[US.to_string()], 3, LEN));
    let mut now = 1_000_000u64;
    let mut commit = |chain: &mut PosChain| {
        now += 1_000_000;
        chain.commit_block(now, (1, format!("0x{:064x}", 1)));
    };
    for _ in 0..4 * LEN + 5 {
        commit(&mut chain);
    }
    let mut src = PosSource::new(conflux_pos_exporter::pos_address::PosAddress::parse(US).ok());
    // Planned on the first poll: the window ends at the height committed then, and starts two epochs before it.
    let window_end = chain.latest_committed();
    let anchor = (window_end - 1) / LEN * LEN - 2 * LEN;
    let window_txs = last_tx(&chain, window_end) - last_tx(&chain, anchor);
    let txs_read = |src: &PosSource| src.obs.activity.tx_by_type.values().sum::<u64>();
    let mut polls = 0;
    while !src.obs.backfilled {
        polls += 1;
        assert!(polls <= 100, "{name}: backfill never completed");
        let calls = src.calls();
        let head = calls
            .iter()
            .map(|c| raw_answer(&chain, c.method, &c.params));
        src.apply(Ok(head.collect()));
        src.choose_local();
        if let Some(calls) = src.extra_calls() {
            let history = calls.iter().map(|c| match c.method {
                m if polls <= polls_withheld && withheld(m, &c.params, window_end) => {
                    Err(RpcError::Rpc {
                        code: -32000,
                        message: "withheld".into(),
                    })
                }
                m => raw_answer(&chain, m, &c.params),
            });
            src.apply_extra(history.collect());
        }
        assert!(
            !src.obs.history.caught_up,
            "poll {polls}: the head stood still"
        );
        commit(&mut chain);
    }
    assert!(
        polls > polls_withheld,
        "{name}: complete at poll {polls} without its answers"
    );
    assert!(
        src.obs.ledger.last_height >= Some(window_end),
        "{name}: blocks"
    );
    assert!(
        txs_read(&src) >= window_txs,
        "{name}: {} of {window_txs} transactions",
        txs_read(&src)
    );
    let last = src.obs.ledger.last_height.unwrap();
    assert_eq!(
        counters(&src),
        chain_tally(&chain, anchor + 1, last),
        "{name}"
    );
    assert_eq!(
        verdict(&src),
        Some(false),
        "{name}: a voting member's verdict, known once backfilled"
    );
}

#[test]
fn backfill_completes_while_a_block_arrives_every_poll() {
    backfill_under_a_moving_head("nothing withheld", |_, _, _| false, 0);
}

#[test]
fn backfill_waits_for_every_part_of_the_window() {
    // The window's last block (the blocks before it, and the anchor, answer).
    let last_block =
        |m: &str, p: &Value, end: u64| m == "pos_getBlockByNumber" && p[0] == format!("{end:#x}");
    backfill_under_a_moving_head("the last block", last_block, 5);
    for method in [
        "pos_getTransactionByNumber",
        "pos_getCommittee",
        "pos_getRewardsByEpoch",
    ] {
        backfill_under_a_moving_head(method, |m, _, _| m == method, 5);
    }
}
