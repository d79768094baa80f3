//! The upgrade walk on a real devnet validator (issue 20): the exporter's read-only stop estimate against
//! `test_posStopElection` on the same node (sent here as the operator would; the exporter never sends it), in the
//! committee and out of it; `upgrade-check` at each step of a stop/upgrade-like restart; and a standby made unable
//! by a low open-file limit.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::devnet::{Devnet, P2P_PORT_BASE};
use super::exporter::{Exporter, Watched, BIN};
use conflux_test_support::exposition::Scrape;

/// Polls every second: the devnet's term is about 10 s, so the estimate is compared within one term.
const FAST: &str = "[poll]\nnode_interval = \"1s\"\n";

async fn scrape(port: u16) -> Option<Scrape> {
    let r = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .ok()?;
    Some(Scrape::parse(r.text().await.ok()?))
}

fn v(s: &Scrape, name: &str, node: &str) -> Option<f64> {
    s.get(name, &[("node", node)])
}

/// Scrapes until `cond` holds or `limit` passes; the last scrape either way.
async fn until(
    port: u16,
    limit: Duration,
    cond: impl Fn(&Scrape) -> bool,
) -> Result<Scrape, String> {
    let deadline = Instant::now() + limit;
    loop {
        let s = scrape(port).await;
        if let Some(s) = &s {
            if cond(s) {
                return Ok(s.clone());
            }
        }
        if Instant::now() > deadline {
            return Err(s.map(|s| s.text).unwrap_or_default());
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// `upgrade-check` against the exporter and the node: (exit code, stdout).
fn check(port: u16, node_url: &str, restarted: bool) -> (i32, String) {
    let mut c = Command::new(BIN);
    c.arg("upgrade-check")
        .arg(format!("--exporter.url=http://127.0.0.1:{port}/metrics"))
        .arg(format!("--node.rpc-url={node_url}"));
    if restarted {
        c.arg("--restarted");
    }
    let out = c.output().expect("upgrade-check runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

fn watched(net: &Devnet, i: u16) -> Watched {
    Watched {
        name: format!("node{i}"),
        rpc_url: net.rpc_url(i),
        work_dir: net.node_dir(i),
    }
}

/// The exporter's estimate (`Some(block)`, `None` for null) next to `test_posStopElection`'s answer, taken
/// between two scrapes that agree (the same term's view). Returns (exporter, node, latest committed).
async fn estimate_vs_node(
    port: u16,
    net: &Devnet,
    i: u16,
) -> Result<(Option<u64>, Option<u64>, u64), String> {
    let node = format!("node{i}");
    let est = |s: &Scrape| match v(s, "conflux_pos_serving_any_term", &node) {
        Some(0.0) => Some(None),
        Some(_) => v(s, "conflux_pos_stop_after_block", &node).map(|b| Some(b as u64)),
        None => None,
    };
    let rpc = net.rpc(i);
    for _ in 0..20 {
        let Some(before) = scrape(port).await else {
            continue;
        };
        let answer = rpc.must("test_posStopElection", json!([])).await;
        let (latest, _, _) = rpc.pos_status().await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let Some(after) = scrape(port).await else {
            continue;
        };
        match (est(&before), est(&after)) {
            (Some(a), Some(b)) if a == b => {
                let real = match answer {
                    Value::Null => None,
                    ref n => n.as_u64(),
                };
                return Ok((a, real, latest));
            }
            _ => continue,
        }
    }
    Err("the exporter's estimate never held still for two scrapes".into())
}

pub async fn walk(test: &str) {
    let (mut out, mut fail) = (Vec::new(), Vec::new());
    let net = Devnet::up(None);
    let url = net.rpc_url(1);
    let exp = Exporter::start(&[watched(&net, 1)], FAST);
    let version = net.rpc(1).must("cfx_clientVersion", json!([])).await;
    out.push(format!(
        "node1 version {version} parses as {:?}",
        conflux_pos_exporter::assess::forks::Version::parse(version.as_str().unwrap_or(""))
    ));
    let ready = until(exp.port, Duration::from_secs(240), |s| {
        v(s, "conflux_pos_elections_sending", "node1") == Some(1.0)
            && v(s, "conflux_pos_stop_after_block", "node1").is_some()
    })
    .await;
    if let Err(last) = ready {
        fail.push(format!(
            "no stop estimate while electing; last scrape:\n{last}"
        ));
        super::report(test, &out, &fail);
        return;
    }
    let (code, text) = check(exp.port, &url, false);
    out.push(format!("step 1 (electing member), exit {code}:\n{text}"));
    if code != 1 || !text.contains("stop elections: do this now") {
        fail.push("step 1: expected `stop elections: do this now`, exit 1".into());
    }
    // In the committee: the read-only estimate against the node's own answer (this also stops its elections).
    match estimate_vs_node(exp.port, &net, 1).await {
        Ok((e, n, latest)) => {
            out.push(format!(
                "in committee at block {latest}: exporter {e:?}, test_posStopElection {n:?}"
            ));
            if e != n || n.is_none() {
                fail.push(format!(
                    "in committee: estimate {e:?} != test_posStopElection {n:?}"
                ));
            }
        }
        Err(e) => fail.push(e),
    }
    let stopped = until(exp.port, Duration::from_secs(120), |s| {
        v(s, "conflux_pos_elections_sending", "node1") == Some(0.0)
    })
    .await;
    if stopped.is_err() {
        fail.push("elections never showed as stopped".into());
    }
    let (code, text) = check(exp.port, &url, false);
    out.push(format!("step 2 (elections stopped), exit {code}:\n{text}"));
    if code != 1 || !text.contains("stop elections: done") || !text.contains("until PoS block") {
        fail.push("step 2: expected `stop elections: done` and a block to wait for, exit 1".into());
    }
    let free = until(exp.port, Duration::from_secs(240), |s| {
        v(s, "conflux_pos_serving_any_term", "node1") == Some(0.0)
    })
    .await;
    if free.is_err() {
        fail.push("never in no committee".into());
    }
    let (code, text) = check(exp.port, &url, false);
    out.push(format!("step 3 (in no committee), exit {code}:\n{text}"));
    if code != 0 || !text.contains("safe to stop") {
        fail.push("step 3: expected safe to stop, exit 0".into());
    }
    match estimate_vs_node(exp.port, &net, 1).await {
        Ok((e, n, latest)) => {
            out.push(format!(
                "out of committee at block {latest}: exporter {e:?}, test_posStopElection {n:?}"
            ));
            if e != n {
                fail.push(format!(
                    "out of committee: estimate {e:?} != test_posStopElection {n:?}"
                ));
            }
        }
        Err(e) => fail.push(e),
    }
    restart_and_vote(&net, &exp, &url, &mut out, &mut fail).await;
    super::report(test, &out, &fail);
}

async fn restart_and_vote(
    net: &Devnet,
    exp: &Exporter,
    url: &str,
    out: &mut Vec<String>,
    fail: &mut Vec<String>,
) {
    net.restart(1);
    let (code, text) = check(exp.port, url, true);
    out.push(format!("step 4 (just restarted), exit {code}:\n{text}"));
    let rpc = net.rpc(1);
    let deadline = Instant::now() + Duration::from_secs(120);
    while rpc
        .call("cfx_getStatus", json!([]), Duration::from_secs(5))
        .await
        .is_err()
    {
        if Instant::now() > deadline {
            fail.push("node1 never answered after the restart".into());
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let peer = json!([net.node_id(1), format!("127.0.0.1:{}", P2P_PORT_BASE + 1)]);
    for p in [0, 2, 3] {
        let _ = net
            .rpc(p)
            .call("test_addNode", peer.clone(), Duration::from_secs(30))
            .await;
    }
    let mut last = String::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let (code, text) = check(exp.port, url, true);
        if text != last {
            out.push(format!("after restart, exit {code}:\n{text}"));
            last = text.clone();
        }
        if code == 0 {
            if !text.contains("vote again / hand over: done") {
                fail.push("exit 0 without voting again".into());
            }
            return;
        }
        if Instant::now() > deadline {
            fail.push("never voting again within 300 s of the restart".into());
            return;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// A standby (node4, node0's key, not voting) shows why it could not vote: its open-file limit lowered with
/// prlimit, as a misconfigured unit would.
pub async fn standby_unable(test: &str) {
    let (mut out, mut fail) = (Vec::new(), Vec::new());
    let net = Devnet::up(None);
    net.standby();
    let exp = Exporter::start(&[watched(&net, 4)], FAST);
    let reasons = |s: &Scrape| -> Vec<String> {
        s.series("conflux_pos_standby_unable_reason")
            .into_iter()
            .filter(|l| l.get("node").map(String::as_str) == Some("node4"))
            .filter(|l| {
                s.get(
                    "conflux_pos_standby_unable_reason",
                    &[("node", "node4"), ("reason", &l["reason"])],
                ) == Some(1.0)
            })
            .map(|l| l["reason"].clone())
            .collect()
    };
    match until(exp.port, Duration::from_secs(240), |s| {
        v(s, "conflux_pos_standby_able_to_vote", "node4").is_some()
    })
    .await
    {
        Ok(s) => out.push(format!(
            "before: able {:?}, reasons {:?}",
            v(&s, "conflux_pos_standby_able_to_vote", "node4"),
            reasons(&s)
        )),
        Err(last) => fail.push(format!("no standby verdict; last scrape:\n{last}")),
    }
    let pid = std::fs::read_to_string(net.node_dir(4).join("conflux.pid")).unwrap_or_default();
    // This machine's hard open-file limit (20000) is below the floor, and its disk below 500 GB: both reasons hold
    // from the start. Lowering the limit further keeps `open_file_limit`; stopping the process (kill -STOP, as a
    // hung node) adds `down`, and after -CONT its PoS view stays stuck for a while (`pos_view_stale`).
    let pid = pid.trim().to_string();
    let st = Command::new("prlimit")
        .args(["--pid", &pid, "--nofile=4096:4096"])
        .status();
    out.push(format!("prlimit --pid {pid} --nofile=4096:4096: {st:?}"));
    let has = |r: &'static str| move |s: &Scrape| reasons(s).iter().any(|x| x == r);
    for (step, signal, reason) in [
        ("open-file limit 4096", None, "open_file_limit"),
        ("kill -STOP (hung node)", Some("-STOP"), "down"),
        ("kill -CONT", Some("-CONT"), "pos_view_stale"),
    ] {
        if let Some(sig) = signal {
            let _ = Command::new("kill").args([sig, &pid]).status();
        }
        match until(exp.port, Duration::from_secs(150), has(reason)).await {
            Ok(s) => out.push(format!(
                "{step}: able {:?}, reasons {:?}",
                v(&s, "conflux_pos_standby_able_to_vote", "node4"),
                reasons(&s)
            )),
            Err(last) => {
                let seen = Scrape::parse(last);
                out.push(format!(
                    "{step}: `{reason}` not shown within 150 s; reasons {:?}",
                    reasons(&seen)
                ));
                if reason != "pos_view_stale" {
                    fail.push(format!("{step}: reason {reason} never shown"));
                }
            }
        }
    }
    let _ = Command::new("kill").args(["-CONT", &pid]).status();
    let text = check(exp.port, &net.rpc_url(4), false).1;
    out.push(format!("upgrade-check on the standby's exporter:\n{text}"));
    super::report(test, &out, &fail);
}
