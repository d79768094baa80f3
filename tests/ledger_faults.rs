//! Correct accounting under faults, without a network: the exporter's PoS source reads a simulated PoS chain
//! in-process while requests fail as a whole (timeouts), single answers fail (error objects) and head polls are
//! lost, at random (seeded). After every chain step it must reach exactly the signed / missed / unknown counters
//! and the force-retire verdict of a fault-free reader, and both must equal the chain's own tally.

use conflux_pos_exporter::assess::retire;
use conflux_pos_exporter::rpc::RpcError;
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
        return;
    }
    let head: Vec<_> = calls
        .iter()
        .map(|c| answer(chain, c.method, &c.params))
        .collect();
    src.apply(Ok(head));
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
                    answer(chain, c.method, &c.params)
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
