//! Hard-fork readiness on the real devnet: its `cfx_clientVersion` parses to a release number, and with a fork
//! configured ahead of the devnet's chain (which has no built-in table) every hard-fork series of the node appears,
//! the ETA once the exporter has measured the epoch rate from the chain's own timestamps.

use std::time::Duration;

use conflux_pos_exporter::assess::forks::Version;
use serde_json::json;

use super::checks::value;
use super::devnet::Devnet;
use super::exporter::Exporter;
use super::recorder::Recorder;
use super::rpc::hex;

/// A fork far enough ahead that the devnet never reaches it during the test, on a version no build has.
const FORK: &str = "v9.9.9";

pub async fn run(test: &str) {
    let net = Devnet::up(None);
    let rpc = net.rpc(0);
    let (mut out, mut fail) = (Vec::new(), Vec::new());
    let raw = rpc.must("cfx_clientVersion", json!([])).await;
    let text = raw.as_str().unwrap_or_default().to_string();
    let parsed = Version::parse(&text);
    out.push(format!("cfx_clientVersion {text:?} parses to {parsed:?}"));
    if parsed.is_none() {
        fail.push(format!(
            "the devnet's version string {text:?} has no release number"
        ));
    }
    let status = rpc.must("cfx_getStatus", json!([])).await;
    let (chain, epoch) = (hex(&status["chainId"]), hex(&status["epochNumber"]));
    let (Some(chain), Some(epoch)) = (chain, epoch) else {
        panic!("cfx_getStatus without chainId or epochNumber: {status}");
    };
    let at = epoch + 10_000_000;
    let extra = format!(
        "[[fork]]\nchain_id = {chain}\nname = \"{FORK}\"\nmin_version = \"9.9.9\"\nepoch = {at}\n"
    );
    out.push(format!(
        "chain id {chain}, epoch {epoch}; configured {FORK} at epoch {at}"
    ));
    let exp = Exporter::start(&[super::watched(&net, 0)], &extra);
    let rec = Recorder::start(exp.port, vec![("node0".into(), rpc.clone())], exp.started);
    let fork = |s: &conflux_test_support::exposition::Scrape, name: &str| {
        s.get(name, &[("node", "node0"), ("fork", FORK)])
    };
    match rec
        .try_wait_for(
            "every hard-fork series of node0",
            Duration::from_secs(240),
            |s| {
                fork(s, "conflux_hardfork_next_activation_seconds").is_some()
                    && fork(s, "conflux_hardfork_ready").is_some()
            },
        )
        .await
    {
        Ok((t, s)) => {
            out.push(format!(
                "series complete {t:.1}s after the exporter's start:"
            ));
            for name in [
                "conflux_node_info",
                "conflux_node_version_parsed",
                "conflux_hardfork_next_info",
                "conflux_hardfork_next_activation_epoch",
                "conflux_hardfork_next_activation_seconds",
                "conflux_hardfork_ready",
            ] {
                out.extend(
                    super::checks::lines(&s, name, "node0")
                        .into_iter()
                        .map(|l| format!("  {l}")),
                );
            }
            if value(&s, "conflux_node_version_parsed", "node0") != Some(1.0) {
                fail.push("conflux_node_version_parsed is not 1".into());
            }
            if fork(&s, "conflux_hardfork_ready") != Some(0.0) {
                fail.push(format!(
                    "a node on {parsed:?} should not be ready for {FORK}"
                ));
            }
            if fork(&s, "conflux_hardfork_next_activation_epoch") != Some(at as f64) {
                fail.push("the activation epoch differs from the configured one".into());
            }
            match fork(&s, "conflux_hardfork_next_activation_seconds") {
                Some(secs) if secs > 0.0 => out.push(format!(
                    "ETA {secs:.0}s for {} epochs: {:.3} s per epoch observed",
                    at - epoch,
                    secs / (at - epoch) as f64
                )),
                other => fail.push(format!("ETA {other:?}")),
            }
        }
        Err(last) => fail.push(format!(
            "hard-fork series incomplete after 240s; last scrape:\n{last}"
        )),
    }
    super::report(test, &out, &fail);
}
