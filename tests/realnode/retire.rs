//! The force-retirement checks on the real devnet: a validator stopped with `test_posStopVoting` must be
//! flagged at risk before the chain retires it, under the node's default 1-epoch rule and the 3-epoch rule, and an
//! exporter told the wrong rule must notice its own missed forecast.

use std::time::Duration;

use serde_json::json;

use super::checks::{self, failover_state, value};
use super::devnet::Devnet;
use super::exporter::{self, Exporter};
use super::exposition::Scrape;
use super::recorder::{until, Recorder};
use super::{liveness, report, watched, RULE_3_EPOCHS};

/// Stops node1's voting as an operator would and judges the forecast against the chain's retirement. On the
/// default (1-epoch) devnet a second exporter is told the wrong rule (3 epochs) and must count a missed forecast.
pub async fn retirement(test: &str, cip99: Option<u64>) {
    let net = Devnet::up(cip99);
    let rpc = net.rpc(1);
    let address = rpc.pos_address().await;
    let (mut out, mut fail) = (Vec::new(), Vec::new());
    let rule = if cip99.is_some() { RULE_3_EPOCHS } else { "" };
    if let Err(e) = exporter::config_check(&[watched(&net, 1)], RULE_3_EPOCHS) {
        fail.push(format!(
            "the exporter refuses pos.cip99_transition_view: {e}"
        ));
        if cip99.is_some() {
            return report(test, &out, &fail);
        }
    }
    let exp = Exporter::start(&[watched(&net, 1)], rule);
    let wrong = cip99
        .is_none()
        .then(|| Exporter::start(&[watched(&net, 1)], RULE_3_EPOCHS));
    let rec = Recorder::start(exp.port, vec![("node1".into(), rpc.clone())], exp.started);
    let rec_wrong = wrong
        .as_ref()
        .map(|w| Recorder::start(w.port, vec![], w.started));
    let node = "node1";

    match rec
        .try_wait_for("signed votes > 0", Duration::from_secs(180), |s| {
            value(s, "conflux_pos_votes_signed_total", node).is_some_and(|v| v > 0.0)
        })
        .await
    {
        Ok((t, _)) => out.push(format!(
            "first signed vote counted {t:.1}s after exporter start"
        )),
        Err(last) => fail.push(format!("no signed vote within 180s; last:\n{last}")),
    }
    if let Err(last) = rec
        .try_wait_for("at_risk 0 while voting", Duration::from_secs(60), |s| {
            value(s, "conflux_pos_force_retire_at_risk", node) == Some(0.0)
        })
        .await
    {
        let ewv = checks::lines(
            &Scrape::parse(last),
            "conflux_pos_epochs_without_vote",
            node,
        );
        fail.push(format!(
            "conflux_pos_force_retire_at_risk never 0 while voting (epochs_without_vote {ewv:?})"
        ));
    }
    if let Some(w) = value_now(&rec, "conflux_pos_force_retire_window_epochs", node) {
        out.push(format!("window in use: {w} epoch(s)"));
    }
    let (stop_block, stop_epoch, _) = rpc.pos_status().await;
    let stop_at = rec.mark("test_posStopVoting on node1");
    rpc.must("test_posStopVoting", json!([])).await;
    out.push(format!(
        "stop_voting at PoS block {stop_block} epoch {stop_epoch}; .save present: {}",
        net.save(1).exists()
    ));
    if !net.save(1).exists() || net.storage(1).exists() {
        fail.push("stop_voting did not leave only the .save".into());
    }
    match rec
        .try_wait_for(
            "failover state standby_ready",
            Duration::from_secs(30),
            |s| failover_state(s, node).as_deref() == Some("standby_ready"),
        )
        .await
    {
        Ok((t, s)) => {
            let files = checks::lines(&s, "conflux_pos_secure_storage_present", node);
            let safe = value(&s, "conflux_pos_safe_to_stop", node);
            out.push(format!(
                "failover standby_ready {:.1}s after stop_voting; safe_to_stop {safe:?}; {files:?}",
                t - stop_at
            ));
            if !files
                .iter()
                .any(|l| l.contains("file=\"secure_storage.json.save\"") && l.ends_with(" 1"))
            {
                fail.push(format!("the .save is not reported present: {files:?}"));
            }
            if safe != Some(0.0) {
                fail.push(format!(
                    "safe_to_stop {safe:?} while node1 still sits in the committee"
                ));
            }
        }
        Err(last) => fail.push(format!("no standby_ready after stop_voting; last:\n{last}")),
    }
    let retired = until(
        "chain force-retires node1",
        Duration::from_secs(300),
        || async { rpc.force_retired(&address).await },
    )
    .await;
    let seen = rec.mark("chain shows node1 force-retired");
    let retire_time = rpc.block(retired).await.timestamp;
    out.push(format!(
        "chain: retired at block {retired} ({} blocks after the stop), seen by the suite {:.1}s after the stop",
        retired - stop_block,
        seen - stop_at
    ));
    at_risk_lead(&rec, node, stop_at, retire_time, &mut out, &mut fail);
    match rec
        .try_wait_for("force_retired_block = chain", Duration::from_secs(60), |s| {
            value(s, "conflux_pos_force_retired_block", node) == Some(retired as f64)
        })
        .await
    {
        Ok((t, s)) => out.push(format!(
            "conflux_pos_force_retired_block {retired} {:.1}s after the suite saw it; safe_to_stop now {:?}",
            t - seen,
            value(&s, "conflux_pos_safe_to_stop", node)
        )),
        Err(_) => fail.push(format!("conflux_pos_force_retired_block never {retired}")),
    }
    forecast_missed(&rec, node, "correct rule", false, &mut out, &mut fail).await;
    if let Some(rw) = &rec_wrong {
        forecast_missed(
            rw,
            node,
            "wrong rule (3 epochs on a 1-epoch chain)",
            true,
            &mut out,
            &mut fail,
        )
        .await;
    }
    if let Some(w) = &wrong {
        let missed = w.log_lines("forecast", 2);
        out.push(format!("wrong-rule exporter log on the miss: {missed:?}"));
    }
    liveness(&rec, &exp, node, &mut out, &mut fail);
    report(test, &out, &fail);
}

fn value_now(rec: &Recorder, name: &str, node: &str) -> Option<f64> {
    rec.samples()
        .iter()
        .rev()
        .find_map(|s| value(s.scrape.as_ref()?, name, node))
}

/// The first at-risk scrape after the stop, and how long before the retiring block it came.
fn at_risk_lead(
    rec: &Recorder,
    node: &str,
    stop_at: f64,
    retire_time: f64,
    out: &mut Vec<String>,
    fail: &mut Vec<String>,
) {
    let samples = rec.samples();
    let first = samples.iter().find(|s| {
        s.at > stop_at
            && s.scrape
                .as_ref()
                .is_some_and(|sc| value(sc, "conflux_pos_force_retire_at_risk", node) == Some(1.0))
    });
    let max_ewv = samples
        .iter()
        .filter_map(|s| value(s.scrape.as_ref()?, "conflux_pos_epochs_without_vote", node))
        .fold(0.0, f64::max);
    let unknown = samples
        .iter()
        .filter(|s| s.at > stop_at)
        .filter_map(|s| {
            value(
                s.scrape.as_ref()?,
                "conflux_pos_force_retire_risk_known",
                node,
            )
        })
        .filter(|v| *v == 0.0)
        .count();
    out.push(format!(
        "after the stop: {unknown} scrapes with conflux_pos_force_retire_risk_known 0"
    ));
    match first {
        Some(s) => {
            let lead = retire_time - (rec.wall0 + s.at);
            let sc = s.scrape.as_ref().unwrap();
            let at = |m: &str| value(sc, m, node).map_or("-".into(), |v| v.to_string());
            out.push(format!(
                "at_risk 1 {:.1}s after the stop, {lead:.1}s before the retiring block (exporter at block {}, epoch {}, {} blocks left in it, epochs_without_vote {}, eta {}s)",
                s.at - stop_at,
                at("conflux_pos_latest_committed_block"),
                at("conflux_pos_epoch"),
                at("conflux_pos_epoch_remaining_blocks"),
                at("conflux_pos_epochs_without_vote"),
                at("conflux_pos_force_retire_eta_seconds"),
            ));
            if lead <= 0.0 {
                fail.push(format!("at_risk came {:.1}s after the retirement", -lead));
            }
        }
        None => fail.push(format!(
            "conflux_pos_force_retire_at_risk never 1 (max epochs_without_vote {max_ewv})"
        )),
    }
}

/// `conflux_pos_force_retire_forecast_missed_total` after the exporter saw the retirement: 0 under the right rule,
/// rising under the wrong one.
async fn forecast_missed(
    rec: &Recorder,
    node: &str,
    what: &str,
    expect: bool,
    out: &mut Vec<String>,
    fail: &mut Vec<String>,
) {
    let name = "conflux_pos_force_retire_forecast_missed_total";
    let seen = rec
        .try_wait_for(
            "exporter sees force_retired",
            Duration::from_secs(60),
            |s| value(s, "conflux_pos_force_retired", node) == Some(1.0),
        )
        .await;
    if seen.is_err() {
        fail.push(format!("{what}: conflux_pos_force_retired never 1"));
        return;
    }
    let got = if expect {
        rec.try_wait_for("forecast missed > 0", Duration::from_secs(30), |s| {
            value(s, name, node).is_some_and(|v| v > 0.0)
        })
        .await
        .ok()
        .and_then(|(_, s)| value(&s, name, node))
    } else {
        // A few more polls after the exporter saw the retirement, for a late self-check to show.
        let _ = rec
            .try_wait_for("three more polls", Duration::from_secs(16), |_| false)
            .await;
        value_now(rec, name, node)
    };
    out.push(format!("{what}: {name} = {got:?}"));
    let max = rec
        .samples()
        .iter()
        .filter_map(|s| value(s.scrape.as_ref()?, name, node))
        .fold(0.0, f64::max);
    match (expect, got) {
        (true, Some(v)) if v > 0.0 => {}
        (false, Some(_)) if max == 0.0 => {}
        _ => fail.push(format!(
            "{what}: {name} {got:?} (max {max}), expected {}",
            if expect { ">0" } else { "0" }
        )),
    }
}
