//! A stale PoS view on the real devnet: the exporter watches node0 with node3 as its reference; node0 is paused for 45 s
//! (afterwards its `cfx_*` answers but its PoS chain stays stuck) or stopped, while the other three go on and
//! retire its key. The verdicts about the key must come from the reference's view: the local view turns stale
//! within a minute, `at_risk` is 1 before the chain retires the key, `force_retired` 1 once it has, no missed
//! forecast, and (node stopped) the downtime budget counts down to the retirement.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::checks::value;
use super::devnet::Devnet;
use super::exporter::{self, Exporter};
use super::recorder::Recorder;
use super::rpc::Rpc;
use super::view_checks::{
    budget, budget_checks, first, reads, reference_requests, rows, stale_local_verdicts, timeline,
    Heads, Row,
};
use super::{liveness, report, watched, RULE_3_EPOCHS};

/// What happens to node0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `kill -STOP`, 45 s, `kill -CONT`.
    Stall,
    /// `kill` (SIGTERM), not started again.
    Stop,
}

const NODE: &str = "node0";
/// How long node0 is paused (the length measured to leave its PoS chain stuck).
const PAUSE: Duration = Duration::from_secs(45);
/// The bound: the verdict leaves the stale local view within a minute of the local head falling behind.
const SWITCH_WITHIN_S: f64 = 60.0;

/// Sends `kill -CONT` when dropped, so a failing assertion never leaves node0 paused.
struct Paused(String);

impl Drop for Paused {
    fn drop(&mut self) {
        signal(&self.0, "CONT");
    }
}

fn signal(pid: &str, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), pid])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -{sig} {pid}");
}

fn node0_pid(net: &Devnet) -> String {
    let f = net.node_dir(0).join("conflux.pid");
    std::fs::read_to_string(&f)
        .unwrap_or_else(|e| panic!("{}: {e}", f.display()))
        .trim()
        .to_string()
}

/// Waits until the node's process has exited (gone, or a zombie nobody reaped yet); SIGKILL after 60 s.
async fn wait_gone(pid: &str) -> f64 {
    let t = Instant::now();
    let running = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit_once(") ")
                .is_some_and(|(_, r)| !r.starts_with('Z'))
        })
    };
    while running() && t.elapsed() < Duration::from_secs(120) {
        if t.elapsed() > Duration::from_secs(60) {
            signal(pid, "KILL");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    t.elapsed().as_secs_f64()
}

/// Polls node3's `pos_getAccount` of `address` until it says force-retired (the retiring block).
async fn retirement(r3: &Rpc, address: &str, timeout: Duration) -> Option<u64> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(b) = r3.force_retired(address).await {
            return Some(b);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    None
}

pub async fn run(test: &str, fault: Fault, cip99: Option<u64>) {
    let net = Devnet::up(cip99);
    let (r0, r3) = (net.rpc(0), net.rpc(3));
    let address = r0.pos_address().await;
    let (mut out, mut fail) = (Vec::new(), Vec::new());
    let rule = if cip99.is_some() { RULE_3_EPOCHS } else { "" };
    // Default settings; REALNODE_REFERENCE_INTERVAL (e.g. 3s) only to compare with a reference polled faster
    // than the devnet's ~11 s epochs (the default 15 s is shorter than mainnet's hour-long epochs, not the devnet's).
    let poll = std::env::var("REALNODE_REFERENCE_INTERVAL")
        .map(|v| format!("[poll]\nreference_interval = \"{v}\"\n"))
        .unwrap_or_default();
    let extra = format!(
        "{poll}{rule}[[reference]]\nname = \"node3\"\nurl = \"{}\"\n",
        net.rpc_url(3)
    );
    if let Err(e) = exporter::config_check(&[watched(&net, 0)], &extra) {
        fail.push(format!("the exporter refuses the configuration: {e}"));
        return report(test, &out, &fail);
    }
    let exp = Exporter::start(&[watched(&net, 0)], &extra);
    let rec = Recorder::start(exp.port, vec![(NODE.into(), r0.clone())], exp.started);
    let heads = Heads::start(vec![(0, r0.clone()), (3, r3.clone())], rec.t0);
    let rule = if cip99.is_some() {
        "3 epochs"
    } else {
        "1 epoch"
    };
    let settings = if poll.is_empty() {
        "default settings"
    } else {
        poll.trim()
    };
    out.push(format!(
        "node0 {address}, reference node3, rule {rule}, {settings}"
    ));

    let synced = rec
        .try_wait_for(
            "synced: local view fresh, risk known, not at risk",
            Duration::from_secs(240),
            |s| {
                let v = |m: &str| value(s, m, NODE);
                v("conflux_pos_view_fresh") == Some(1.0)
                    && v("conflux_pos_force_retire_risk_known") == Some(1.0)
                    && v("conflux_pos_force_retire_at_risk") == Some(0.0)
                    && s.get(
                        "conflux_pos_verdict_view",
                        &[("node", NODE), ("view", "local")],
                    ) == Some(1.0)
            },
        )
        .await;
    let synced_at = match synced {
        Ok((t, _)) => t,
        Err(last) => {
            fail.push(format!("never synced within 240 s; last scrape:\n{last}"));
            return report(test, &out, &fail);
        }
    };
    out.push(format!("synced {synced_at:.1}s after the exporter's start"));
    // A few polls of the healthy state, so its budget shows in the timeline.
    let _ = rec
        .try_wait_for("10 s synced", Duration::from_secs(10), |_| false)
        .await;

    let (head0, epoch0, _) = r0.pos_status().await;
    let pid = node0_pid(&net);
    let fault_at = match fault {
        Fault::Stall => {
            let at = rec.mark("kill -STOP node0");
            signal(&pid, "STOP");
            let paused = Paused(pid.clone());
            tokio::time::sleep(PAUSE).await;
            drop(paused);
            let cont = rec.mark("kill -CONT node0");
            out.push(format!(
                "kill -STOP node0 at t={at:.1}s (its head {head0}, epoch {epoch0}), kill -CONT at t={cont:.1}s"
            ));
            at
        }
        Fault::Stop => {
            let at = rec.mark("kill node0");
            signal(&pid, "TERM");
            let took = wait_gone(&pid).await;
            out.push(format!(
                "kill node0 at t={at:.1}s (its head {head0}, epoch {epoch0}); process gone {took:.1}s later"
            ));
            at
        }
    };

    let Some(retired) = retirement(&r3, &address, Duration::from_secs(400)).await else {
        fail.push(
            "the chain did not retire node0's key within 400 s (node3's pos_getAccount)".into(),
        );
        let rows = rows(&rec.samples(), NODE);
        out.extend(timeline(&rows, synced_at));
        return report(test, &out, &fail);
    };
    let seen = rec.mark("node3 says node0 force-retired");
    let retire_t = r3.block(retired).await.timestamp - rec.wall0;
    out.push(format!(
        "chain: retired at PoS block {retired} ({} blocks after node0's head at the fault), block time t={retire_t:.1}s ({:.1}s after the fault), seen by the suite at t={seen:.1}s",
        retired.saturating_sub(head0),
        retire_t - fault_at
    ));
    match rec
        .try_wait_for("force_retired 1", Duration::from_secs(90), |s| {
            value(s, "conflux_pos_force_retired", NODE) == Some(1.0)
        })
        .await
    {
        Ok(_) => {}
        Err(last) => fail.push(format!("conflux_pos_force_retired never 1; last:\n{last}")),
    }
    // Three more polls, for a late forecast self-check to show.
    let _ = rec
        .try_wait_for("three more polls", Duration::from_secs(16), |_| false)
        .await;

    let rows = rows(&rec.samples(), NODE);
    let behind = heads
        .first_above(
            3,
            heads.at(0, fault_at).unwrap_or(head0).max(head0),
            fault_at,
        )
        .unwrap_or(fault_at);
    // The retiring block is proposed at `retire_t` but only committed (what any view can show) a few rounds later.
    if let Some(c) = heads.first_above(3, retired.saturating_sub(1), fault_at) {
        out.push(format!(
            "node3 committed the retiring block by t={c:.1}s ({:.1}s after its timestamp)",
            c - retire_t
        ));
    }
    verdicts(&rows, fault_at, behind, retire_t, &mut out, &mut fail);
    budget(&rows, fault_at, retire_t, fault == Fault::Stop, &mut out);
    reads(&rows, fault_at, retire_t, &mut out);
    reference_requests(&rec.samples(), "node3", fault_at - 10.0, &mut out);
    if fault == Fault::Stop {
        budget_checks(&rows, fault_at, retire_t, &mut fail);
        match first(&rows, fault_at, |r| r.up == Some(0.0)) {
            Some(r) => out.push(format!("conflux_up 0 at t={:.1}s", r.at)),
            None => fail.push("conflux_up never 0 after the kill".into()),
        }
    } else {
        let cont = fault_at + PAUSE.as_secs_f64();
        if let Some(r) = first(&rows, cont, |r| r.up == Some(1.0)) {
            out.push(format!("after -CONT: conflux_up 1 again at t={:.1}s", r.at));
        }
        let (h0, h3) = (heads.last(0), heads.last(3));
        out.push(format!(
            "heads at the end (t, committed): node0 {h0:?}, node3 {h3:?}"
        ));
    }
    out.push("timeline of node0's series (each change of state):".into());
    out.extend(timeline(&rows, synced_at - 1.0));
    for l in exp.log_lines("view", 4) {
        out.push(format!("log: {l}"));
    }
    for l in exp.log_lines("force-retired", 2) {
        out.push(format!("log: {l}"));
    }
    // While node0 is paused the suite's own probes wait for it and answer after the -CONT: the exporter's
    // conflux_up 0 from node_down_after (30 s) on is right then, not a false "down".
    let mut live = Vec::new();
    liveness(&rec, &exp, NODE, &mut out, &mut live);
    let paused = fault_at..fault_at + PAUSE.as_secs_f64() + 1.0;
    fail.extend(
        live.into_iter().filter(|l| {
            fault == Fault::Stop || !scrape_time(l).is_some_and(|t| paused.contains(&t))
        }),
    );
    keep_log(test, &exp, &mut out);
    report(test, &out, &fail);
}

/// The time of a "t=12.3s …" failure line.
fn scrape_time(line: &str) -> Option<f64> {
    line.strip_prefix("t=")?.split_once('s')?.0.parse().ok()
}

/// The exporter's log, kept beside the report (the exporter's own directory goes with the test).
fn keep_log(test: &str, exp: &Exporter, out: &mut Vec<String>) {
    let target = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target").into());
    let dir = Path::new(&target).join("realnode-logs");
    let dest = dir.join(format!("{test}.exporter.log"));
    match std::fs::create_dir_all(&dir).and_then(|_| std::fs::copy(&exp.log, &dest)) {
        Ok(_) => out.push(format!("exporter log: {}", dest.display())),
        Err(e) => out.push(format!("exporter log not kept: {e}")),
    }
}

/// The switch to the reference's view, the at-risk lead, force_retired, the forecast self-check, and no verdict
/// from a stale local view at any scrape.
fn verdicts(
    rows: &[Row],
    fault_at: f64,
    behind: f64,
    retire_t: f64,
    out: &mut Vec<String>,
    fail: &mut Vec<String>,
) {
    out.push(format!(
        "node3's head above node0's at t={behind:.1}s ({:.1}s after the fault)",
        behind - fault_at
    ));
    match first(rows, fault_at, |r| r.view.as_deref() != Some("local")) {
        Some(r) => {
            out.push(format!(
                "verdict left the local view at t={:.1}s: {:.1}s after the fault, {:.1}s after the head fell behind (view {:?}, fresh {:?})",
                r.at,
                r.at - fault_at,
                r.at - behind,
                r.view,
                r.fresh
            ));
            if r.at - behind > SWITCH_WITHIN_S {
                fail.push(format!(
                    "the verdict left the stale local view {:.1}s after the head fell behind (> {SWITCH_WITHIN_S}s)",
                    r.at - behind
                ));
            }
        }
        None => fail.push("the verdict never left the local view".into()),
    }
    match first(rows, fault_at, |r| r.view.as_deref() == Some("reference")) {
        Some(r) => out.push(format!(
            "verdict_view reference 1 at t={:.1}s ({:.1}s after the fault)",
            r.at,
            r.at - fault_at
        )),
        None => fail.push("conflux_pos_verdict_view{view=\"reference\"} never 1".into()),
    }
    match first(rows, fault_at, |r| {
        r.at_risk == Some(1.0) && r.view.as_deref() == Some("reference")
    }) {
        Some(r) => {
            let lead = retire_t - r.at;
            out.push(format!(
                "at_risk 1 (reference view) at t={:.1}s: {:.1}s after the fault, {lead:.1}s before the retiring block (eta {:?}s, budget {:?}s/{:?} blocks)",
                r.at,
                r.at - fault_at,
                r.eta_s,
                r.budget_s,
                r.budget_blocks
            ));
            if lead <= 0.0 {
                fail.push(format!("at_risk came {:.1}s after the retirement", -lead));
            }
        }
        None => {
            fail.push("conflux_pos_force_retire_at_risk never 1 from the reference's view".into())
        }
    }
    match first(rows, fault_at, |r| r.retired == Some(1.0)) {
        Some(r) => out.push(format!(
            "force_retired 1 at t={:.1}s, {:.1}s after the retiring block (view {:?})",
            r.at,
            r.at - retire_t,
            r.view
        )),
        None => fail.push("conflux_pos_force_retired never 1".into()),
    }
    let missed: Vec<f64> = rows.iter().filter_map(|r| r.missed_forecasts).collect();
    let max = missed.iter().copied().fold(0.0, f64::max);
    out.push(format!(
        "forecast_missed_total: max {max}, last {:?}",
        rows.last().and_then(|r| r.missed_forecasts)
    ));
    if max > 0.0 {
        fail.push(format!(
            "conflux_pos_force_retire_forecast_missed_total rose to {max}"
        ));
    }
    if rows.last().and_then(|r| r.missed_forecasts).is_none() {
        fail.push("conflux_pos_force_retire_forecast_missed_total absent at the end".into());
    }
    let stale = stale_local_verdicts(rows, fault_at);
    if !stale.is_empty() {
        fail.push(format!(
            "{} scrape(s) with a verdict from a stale local view, first: {:?}",
            stale.len(),
            &stale[..stale.len().min(3)]
        ));
    }
}
