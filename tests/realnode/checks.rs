//! Judgements over a recorded run: `conflux_up` against the suite's own status probes, requests per poll, the
//! vote counters against the chain's signatures, and the failover verdicts scrape by scrape.

use super::exposition::Scrape;
use super::recorder::{Probe, Sample};
use super::rpc::Rpc;

/// `conflux_up{node} 0` samples (their times), and those among them taken while the node answered every one of the
/// suite's own `cfx_getStatus` calls started in the 10 s before (a false "down"; the probe of the same tick starts
/// just after the scrape's time is taken, hence the second of slack).
///
/// Samples before the exporter's first answered request to the node (no
/// `conflux_exporter_last_success_timestamp_seconds` yet) are listed apart in the third value: the exporter has not
/// asked yet, which the report shows without calling it a false "down".
pub fn up_zero(
    samples: &[Sample],
    probes: &[Probe],
    node: &str,
) -> (Vec<f64>, Vec<String>, Vec<f64>) {
    let mut zeros = Vec::new();
    let mut false_down = Vec::new();
    let mut before_first = Vec::new();
    for s in samples {
        let Some(sc) = &s.scrape else { continue };
        if sc.get("conflux_up", &[("node", node)]) != Some(0.0) {
            continue;
        }
        let asked = sc
            .get(
                "conflux_exporter_last_success_timestamp_seconds",
                &[("target", node)],
            )
            .is_some();
        if !asked {
            before_first.push(s.at);
            continue;
        }
        zeros.push(s.at);
        let near: Vec<&Probe> = probes
            .iter()
            .filter(|p| p.node == node && p.started >= s.at - 10.0 && p.started <= s.at + 1.0)
            .collect();
        if !near.is_empty() && near.iter().all(|p| p.ok) {
            let lat: Vec<String> = near.iter().map(|p| format!("{:.2}s", p.latency)).collect();
            false_down.push(format!(
                "t={:.1}s conflux_up 0 while cfx_getStatus answered in {}",
                s.at,
                lat.join(",")
            ));
        }
    }
    (zeros, false_down, before_first)
}

/// Requests per poll: the growth of `conflux_exporter_rpc_requests_total{target}` between the first and last
/// scrape, divided by the node polls due in that time at `interval_s`.
pub fn requests_per_poll(
    samples: &[Sample],
    target: &str,
    interval_s: f64,
) -> Option<(f64, f64, f64)> {
    let with: Vec<(f64, f64)> = samples
        .iter()
        .filter_map(|s| {
            let v = s
                .scrape
                .as_ref()?
                .get("conflux_exporter_rpc_requests_total", &[("target", target)])?;
            Some((s.at, v))
        })
        .collect();
    let (first, last) = (with.first()?, with.last()?);
    let polls = (last.0 - first.0) / interval_s;
    (polls > 0.0).then(|| ((last.1 - first.1) / polls, last.1 - first.1, polls))
}

/// The value of `name{node}` or 0 when absent is NOT assumed: `None` stays `None`.
pub fn value(sc: &Scrape, name: &str, node: &str) -> Option<f64> {
    sc.get(name, &[("node", node)])
}

/// Every sample line of `name` for `node`, as exposed (for reports, whatever other labels the series has).
pub fn lines(sc: &Scrape, name: &str, node: &str) -> Vec<String> {
    let label = format!("node=\"{node}\"");
    sc.text
        .lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains(&label))
        .map(str::to_string)
        .collect()
}

/// The failover state whose series is 1 for `node`.
pub fn failover_state(sc: &Scrape, node: &str) -> Option<String> {
    sc.series("conflux_pos_failover_state")
        .into_iter()
        .filter(|l| l.get("node").map(String::as_str) == Some(node))
        .find(|l| {
            sc.get(
                "conflux_pos_failover_state",
                &[("node", node), ("state", &l["state"])],
            ) == Some(1.0)
        })
        .map(|l| l["state"].clone())
}

/// The exporter's vote counters against the chain: the ledger counted `signed + missed + unknown` blocks ending at
/// `hi` (every validator of this devnet is in every committee), so the same number of blocks ending at `hi` is
/// read from the chain and its signatures for `address` counted. Returns a mismatch description, if any.
pub async fn votes_against_chain(
    rpc: &Rpc,
    sc: &Scrape,
    node: &str,
    address: &str,
    hi: u64,
) -> Result<String, String> {
    let get = |m: &str| value(sc, m, node).ok_or(format!("{m} absent"));
    let signed = get("conflux_pos_votes_signed_total")? as u64;
    let missed = get("conflux_pos_votes_missed_total")? as u64;
    let unknown = get("conflux_pos_votes_unknown_total")? as u64;
    let n = signed + missed + unknown;
    if n == 0 || n > hi {
        return Err(format!("exporter counted {n} blocks up to {hi}"));
    }
    let (mut c_signed, mut c_missed, mut c_unknown) = (0, 0, 0);
    for h in hi + 1 - n..=hi {
        let b = rpc.block(h).await;
        if b.signers.is_empty() {
            c_unknown += 1;
        } else if b.signers.iter().any(|s| s == address) {
            c_signed += 1;
        } else {
            c_missed += 1;
        }
    }
    let text = format!(
        "blocks {}..={hi}: exporter signed/missed/unknown {signed}/{missed}/{unknown}, chain {c_signed}/{c_missed}/{c_unknown}",
        hi + 1 - n
    );
    if (signed, missed, unknown) == (c_signed, c_missed, c_unknown) {
        Ok(text)
    } else {
        Err(text)
    }
}

/// The time of the first recorded scrape at or after `from` satisfying `cond`.
pub fn first_after(samples: &[Sample], from: f64, cond: impl Fn(&Scrape) -> bool) -> Option<f64> {
    samples
        .iter()
        .filter(|s| s.at >= from)
        .find(|s| s.scrape.as_ref().is_some_and(&cond))
        .map(|s| s.at)
}

/// The value of `name` for one PoS address (the guard's per-key series).
pub fn for_address(sc: &Scrape, name: &str, address: &str) -> Option<f64> {
    sc.get(name, &[("pos_address", address)])
}
