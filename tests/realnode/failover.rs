//! The failover on the real devnet: node0 (primary) and node4 (standby holding node0's key) watched by one exporter;
//! the operator's handover step by step, then the old primary restarted with its defaults (real equivocation).
//! The guard's verdicts are judged at every recorded scrape, not only at the steps.

use std::time::Duration;

use serde_json::json;

use super::checks::failover_state;
use super::devnet::Devnet;
use super::exporter::{self, Exporter, Watched};
use super::exposition::Scrape;
use super::failover_checks::{equivocation_timeline, every_scrape, once_per_address};
use super::recorder::{until, Recorder};
use super::{report, watched, RULE_3_EPOCHS};

/// The state saying "two nodes sign with one key" (the guard's page).
const TWO_SIGNERS: &[&str] = &["double_voting"];
pub const NODES: [&str; 2] = ["node0", "node4"];
pub async fn run(test: &str) {
    // The mainnet-like 3-epoch rule: a one-epoch sit-out after the handover (stale .save) must not retire the key.
    let net = Devnet::up(Some(0));
    net.standby();
    let (r0, r4) = (net.rpc(0), net.rpc(4));
    let address = r0.pos_address().await;
    let nodes: Vec<Watched> = [0, 4].iter().map(|&i| watched(&net, i)).collect();
    let (mut out, mut fail) = (Vec::new(), Vec::new());
    // The guard does not depend on the look-back: without the key (older builds) watch anyway and say so.
    let rule = match exporter::config_check(&nodes, RULE_3_EPOCHS) {
        Ok(()) => RULE_3_EPOCHS,
        Err(e) => {
            fail.push(format!(
                "the exporter refuses pos.cip99_transition_view: {e}"
            ));
            ""
        }
    };
    let exp = Exporter::start(&nodes, rule);
    let rec = Recorder::start(
        exp.port,
        vec![("node0".into(), r0.clone()), ("node4".into(), r4.clone())],
        exp.started,
    );

    let t = rec.mark("start");
    let w = rec.try_wait_for(
        "node0 primary_voting, node4 a standby",
        Duration::from_secs(120),
        // node4 created its own never-voted secure_storage.json at start (standby_fresh_storage in guard's words).
        |s| {
            state_is(s, "node0", "primary_voting")
                && (state_is(s, "node4", "standby_idle")
                    || state_is(s, "node4", "standby_fresh_storage"))
        },
    );
    step(
        "exporter start -> node0 primary_voting, node4 a standby",
        w.await,
        t,
        &mut out,
        &mut fail,
    );

    let t = rec.mark("step 1: test_posStopVoting on node0");
    r0.must("test_posStopVoting", json!([])).await;
    out.push(format!(
        "after stop_voting node0 .save present: {}",
        net.save(0).exists()
    ));
    let w = rec.try_wait_for("node0 standby_ready", Duration::from_secs(30), |s| {
        state_is(s, "node0", "standby_ready")
    });
    step(
        "stop_voting -> node0 standby_ready",
        w.await,
        t,
        &mut out,
        &mut fail,
    );

    let t = rec.mark("step 2: move node0's .save into node4's pos_db");
    std::fs::rename(net.save(0), net.save(4)).expect("move the .save");
    let w = rec.try_wait_for(
        "node0 standby_idle, node4 standby_ready",
        Duration::from_secs(30),
        |s| state_is(s, "node0", "standby_idle") && state_is(s, "node4", "standby_ready"),
    );
    step(
        "move .save -> node4 standby_ready",
        w.await,
        t,
        &mut out,
        &mut fail,
    );

    let (h_start, _, _) = r4.pos_status().await;
    let t = rec.mark("step 3: test_posStartVoting [false] on node4");
    if let Err(e) = r4
        .call(
            "test_posStartVoting",
            json!([false]),
            Duration::from_secs(60),
        )
        .await
    {
        fail.push(format!("test_posStartVoting [false] on node4: {e}"));
    }
    let w = rec.try_wait_for("node4 primary_voting", Duration::from_secs(30), |s| {
        state_is(s, "node4", "primary_voting")
    });
    step(
        "start_voting -> node4 primary_voting",
        w.await,
        t,
        &mut out,
        &mut fail,
    );
    let signed = until(
        "node0's key signs again (node4)",
        Duration::from_secs(120),
        || {
            let (r4, address) = (r4.clone(), address.clone());
            async move { r4.first_signed_after(&address, h_start).await }
        },
    )
    .await;
    let t_signed = rec.mark("chain: node0's key signs again (via node4)");
    out.push(format!(
        "start_voting -> key signs on chain again: {:.1}s (block {signed})",
        t_signed - t
    ));
    let handover = (rec.marks()[1].0, rec.now());

    let (_, _, tx_before) = r0.pos_status().await;
    let t_restart =
        rec.mark("step 4: restart node0 with its defaults (pos_started_as_voter = true)");
    net.restart(0);
    until("node0 answers again", Duration::from_secs(300), || {
        let r0 = r0.clone();
        async move {
            r0.call("cfx_getStatus", json!([]), Duration::from_secs(10))
                .await
                .ok()
        }
    })
    .await;
    // Discovery is off on the devnet: its peers dial the restarted node again, as `devnet up` did.
    let node0 = json!([
        net.node_id(0),
        format!("127.0.0.1:{}", super::devnet::P2P_PORT_BASE)
    ]);
    for peer in [1, 4] {
        let _ = net
            .rpc(peer)
            .call("test_addNode", node0.clone(), Duration::from_secs(30))
            .await;
    }
    let t_up = rec.mark("node0 answers again");
    out.push(format!("restart -> node0 RPC up: {:.1}s", t_up - t_restart));
    let storage = net.storage(0);
    until(
        "node0 signs (secure_storage.json last_voted_round > 0)",
        Duration::from_secs(180),
        || {
            let storage = storage.clone();
            async move { (last_voted_round(&storage)? > 0).then_some(()) }
        },
    )
    .await;
    let t_sig2 = rec.mark("node0 signed again: second signer");
    out.push(format!(
        "restart -> second signature (node0's safety data): {:.1}s",
        t_sig2 - t_restart
    ));
    let two = rec.try_wait_for("two signers", Duration::from_secs(60), |s| {
        NODES
            .iter()
            .any(|n| TWO_SIGNERS.iter().any(|st| state_is(s, n, st)))
    });
    match two.await {
        Ok((t, s)) => {
            out.push(format!(
                "second signature -> two signers paged: {:.1}s (states {:?})",
                t - t_sig2,
                states(&s)
            ));
            if t - t_sig2 > 5.0 + 2.0 {
                fail.push(format!(
                    "two signers {:.1}s after the second signature (> one poll)",
                    t - t_sig2
                ));
            }
        }
        Err(last) => fail.push(format!("two signers never shown; last:\n{last}")),
    }
    // Each PoS transaction is read once: the cursor moves past what was scanned.
    let cursor = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(tx_before + 1));
    let dispute = until(
        "chain records a Dispute for node0's key",
        Duration::from_secs(180),
        || {
            let (r4, address, cursor) = (r4.clone(), address.clone(), cursor.clone());
            async move {
                let (_, _, latest) = r4.pos_status().await;
                let from = cursor.swap(latest + 1, std::sync::atomic::Ordering::SeqCst);
                r4.disputes(&address, from, latest).await.first().copied()
            }
        },
    )
    .await;
    let t_dispute = rec.mark("chain: Dispute recorded");
    out.push(format!(
        "restart -> Dispute transaction {dispute}: {:.1}s",
        t_dispute - t_restart
    ));
    let slashed = rec.try_wait_for("conflux_pos_slashed 1", Duration::from_secs(60), |s| {
        s.series("conflux_pos_slashed").iter().any(|l| {
            let pairs: Vec<(&str, &str)> =
                l.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            s.get("conflux_pos_slashed", &pairs) == Some(1.0)
        })
    });
    match slashed.await {
        Ok((t, _)) => out.push(format!(
            "Dispute seen -> conflux_pos_slashed 1: {:.1}s",
            t - t_dispute
        )),
        Err(_) => fail.push("conflux_pos_slashed never 1 after the Dispute".into()),
    }

    let samples = rec.samples();
    equivocation_timeline(&samples, &address, t_sig2, &mut out);
    every_scrape(&samples, handover, &mut out, &mut fail);
    if let Some(last) = samples.iter().rev().find_map(|s| s.scrape.clone()) {
        once_per_address(&last, &address, &mut out, &mut fail);
    }
    for n in NODES {
        super::liveness(&rec, &exp, n, &mut out, &mut fail);
    }
    for l in exp.log_lines("malformed", 3) {
        out.push(format!("log: {l}"));
    }
    report(test, &out, &fail);
}

/// Records how long a step took to show in the exporter, or that it never did.
fn step(
    what: &str,
    t: Result<(f64, Scrape), String>,
    since: f64,
    out: &mut Vec<String>,
    fail: &mut Vec<String>,
) {
    match t {
        Ok((t, s)) => out.push(format!(
            "{what}: {:.1}s (states {:?})",
            t - since,
            states(&s)
        )),
        Err(last) => fail.push(format!("{what}: not seen; last scrape:\n{last}")),
    }
}

pub fn state_is(s: &Scrape, node: &str, state: &str) -> bool {
    failover_state(s, node).as_deref() == Some(state)
}

pub fn states(s: &Scrape) -> Vec<(String, Option<String>)> {
    NODES
        .iter()
        .map(|n| (n.to_string(), failover_state(s, n)))
        .collect()
}

/// `last_voted_round` in a secure_storage.json (the safety data is stored as JSON text inside the file).
fn last_voted_round(path: &std::path::Path) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let at = text.find("last_voted_round")?;
    let digits: String = text[at..]
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}
