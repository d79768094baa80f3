//! Issue 19 on the real devnet: the start-voting preflight (`conflux-pos-exporter preflight`, the operator's
//! command) at each step of a handover from node0 to node4 (a standby holding node0's key): (a) node4 while node0
//! votes → unsafe, naming node0's latest signed block; (b) after node0's stop_voting and the `.save` move → wait,
//! then safe after the quiet blocks, and start_voting [false] a clean takeover (no Dispute); (c) a `.save` copied
//! earlier while node0 went on voting → unsafe "stale safety data"; (d) after the handover, node0 → unsafe. The
//! seconds from each step to each verdict are reported. The test sends the operator's state-changing calls to
//! the devnet; the exporter and the command never do.

use std::time::{Duration, Instant};

use serde_json::json;

use super::devnet::Devnet;
use super::exporter::{Exporter, Watched};
use super::recorder::until;
use super::{report, watched, RULE_3_EPOCHS};

const BIN: &str = env!("CARGO_BIN_EXE_conflux-pos-exporter");

/// Runs the operator's command for `node`: (exit code, output).
async fn preflight(port: u16, node: &str) -> (i32, String) {
    let out = tokio::process::Command::new(BIN)
        .args(["preflight", "--timeout=30s"])
        .arg(format!("--exporter=http://127.0.0.1:{port}"))
        .arg(format!("--node={node}"))
        .output()
        .await
        .expect("run the preflight command");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// Asks every second until the command exits with `code` (and its text passes `also`); the seconds it took and
/// the text, or the last text after `timeout`.
async fn until_code(
    port: u16,
    node: &str,
    code: i32,
    timeout: Duration,
    also: impl Fn(&str) -> bool,
) -> Result<(f64, String), String> {
    let t = Instant::now();
    let mut last = String::new();
    while t.elapsed() < timeout {
        let (got, text) = preflight(port, node).await;
        if got == code && also(&text) {
            eprintln!(
                "[preflight {node}] exit {code} after {:.1}s",
                t.elapsed().as_secs_f64()
            );
            return Ok((t.elapsed().as_secs_f64(), text));
        }
        last = format!("exit {got}:\n{text}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Err(last)
}

/// The number after `prefix` in the command's text.
fn number_after(text: &str, prefix: &str) -> Option<u64> {
    let at = text.find(prefix)? + prefix.len();
    text[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .ok()
}

/// Records a verdict's outcome: its seconds and the evidence lines, or a failure with the last answer.
fn verdict(
    what: &str,
    r: &Result<(f64, String), String>,
    out: &mut Vec<String>,
    fail: &mut Vec<String>,
) {
    match r {
        Ok((s, text)) => {
            out.push(format!("{what}: {s:.1}s"));
            for l in text.lines().filter(|l| {
                l.starts_with("verdict")
                    || l.starts_with("note")
                    || l.contains("because")
                    || l.contains("last signed")
                    || l.contains("not committed yet")
                    || l.contains("quiet blocks")
                    || l.contains("safety data")
            }) {
                out.push(format!("    {}", l.trim()));
            }
        }
        Err(last) => fail.push(format!("{what}: not seen; last answer:\n{last}")),
    }
}

pub async fn run(test: &str) {
    let net = Devnet::up(Some(0));
    net.standby();
    let (r0, r4) = (net.rpc(0), net.rpc(4));
    let address = r0.pos_address().await;
    let nodes: Vec<Watched> = [0, 4].iter().map(|&i| watched(&net, i)).collect();
    let (mut out, mut fail) = (Vec::new(), Vec::new());
    let exp = Exporter::start(&nodes, RULE_3_EPOCHS);
    let port = exp.port;
    let long = Duration::from_secs(300);

    // The node's own answer to the debug method the preflight reads (served or not).
    match r4
        .call("pos_getConsensusBlocks", json!([]), Duration::from_secs(30))
        .await
    {
        Ok(v) => {
            out.push(format!(
                "pos_getConsensusBlocks on node4: {} blocks",
                v.as_array().map_or(0, Vec::len)
            ));
            let raw = v.to_string();
            out.push(format!("    raw: {}", &raw[..raw.len().min(1500)]));
        }
        Err(e) => out.push(format!("pos_getConsensusBlocks on node4 not served: {e}")),
    }

    // (a) node0 votes: node4 must not start; the evidence names node0's latest signed block.
    let a = until_code(port, "node4", 10, long, |t| t.contains("key_signing")).await;
    verdict(
        "(a) exporter start -> node4 unsafe",
        &a,
        &mut out,
        &mut fail,
    );
    if let Ok((_, text)) = &a {
        match number_after(text, "last signed: block ") {
            Some(b) if r0.block(b).await.signers.contains(&address) => {
                let (head, _, _) = r0.pos_status().await;
                out.push(format!(
                    "(a) names block {b}, signed by node0's key (chain head {head})"
                ));
            }
            other => fail.push(format!(
                "(a) the block named ({other:?}) is not signed by node0's key"
            )),
        }
    }
    // A copy of node0's safety data now, kept while node0 goes on voting (for (c)).
    let earlier = std::fs::read(net.storage(0)).expect("node0's secure_storage.json");
    let (h0, _, _) = r0.pos_status().await;
    until(
        "node0 signs 5 more blocks",
        Duration::from_secs(120),
        || {
            let r0 = r0.clone();
            async move { (r0.pos_status().await.0 >= h0 + 5).then_some(()) }
        },
    )
    .await;

    // (b) stop_voting on node0, its .save moved to node4: wait, then safe after the quiet blocks.
    let t_stop = Instant::now();
    r0.must("test_posStopVoting", json!([])).await;
    std::fs::rename(net.save(0), net.save(4)).expect("move the .save");
    let w = until_code(port, "node4", 11, long, |_| true).await;
    verdict(
        "(b) stop_voting + .save move -> node4 wait",
        &w,
        &mut out,
        &mut fail,
    );
    let s = until_code(port, "node4", 0, long, |_| true).await;
    verdict(
        "(b) stop_voting + .save move -> node4 safe",
        &s,
        &mut out,
        &mut fail,
    );
    if let Ok((_, text)) = &s {
        out.push(format!(
            "(b) stop_voting -> safe: {:.1}s in all; the call printed: {}",
            t_stop.elapsed().as_secs_f64(),
            text.lines()
                .find(|l| l.contains("conflux rpc local"))
                .unwrap_or("none")
                .trim()
        ));
    }

    // (c) the earlier copy as node4's .save: a new voter could sign a round the key already signed.
    let current = std::fs::read(net.save(4)).expect("node4's .save");
    std::fs::write(net.save(4), &earlier).unwrap();
    let c = until_code(port, "node4", 10, long, |t| t.contains("stale safety data")).await;
    verdict(
        "(c) earlier .save -> node4 unsafe (stale)",
        &c,
        &mut out,
        &mut fail,
    );
    std::fs::write(net.save(4), &current).unwrap();
    let s2 = until_code(port, "node4", 0, long, |_| true).await;
    verdict(
        "(c) current .save back -> node4 safe",
        &s2,
        &mut out,
        &mut fail,
    );

    // The takeover: start_voting [false] on node4, then node0's key signs again, and no Dispute.
    let (h_start, _, tx_from) = r4.pos_status().await;
    let t_start = Instant::now();
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
    let signed = until("node0's key signs again via node4", long, || {
        let (r4, address) = (r4.clone(), address.clone());
        async move { r4.first_signed_after(&address, h_start).await }
    })
    .await;
    out.push(format!(
        "start_voting [false] on node4 -> key signs block {signed}: {:.1}s",
        t_start.elapsed().as_secs_f64()
    ));

    // (d) after the handover the old primary must not start again.
    let d = until_code(port, "node0", 10, long, |t| t.contains("key_signing")).await;
    verdict("(d) handover -> node0 unsafe", &d, &mut out, &mut fail);
    let (_, _, tx_to) = r4.pos_status().await;
    let disputes = r4.disputes(&address, tx_from, tx_to).await;
    if disputes.is_empty() {
        out.push(format!(
            "no Dispute for the key in PoS transactions {tx_from}..={tx_to}: clean takeover"
        ));
    } else {
        fail.push(format!(
            "Dispute transactions after the takeover: {disputes:?}"
        ));
    }
    for l in exp.log_lines("start_voting preflight", 3) {
        out.push(format!("log: {l}"));
    }
    report(test, &out, &fail);
}
