//! The preflight as the operator reads it at the failover's last step: verdict first, then the evidence, then the
//! exact `start_voting` call (to run only on `safe`), then the exit code.

use std::fmt::Write;

use super::report::{NodeReport, Round};
use super::Exit;

fn round(r: Option<Round>) -> String {
    r.map_or("unknown".into(), |r| {
        format!("(epoch {}, round {})", r.epoch, r.round)
    })
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or("unknown".into(), |v| v.to_string())
}

/// Why, in words, for each reason label.
fn explain(reason: &str) -> &'static str {
    match reason {
        "key_signing" => "the key signed the latest committed block: it still votes somewhere",
        "key_proposing" => "the key proposed the latest committed block: it still votes somewhere",
        "key_signing_uncommitted" => {
            "the key signed or proposed a block not committed yet: it still votes somewhere"
        }
        "other_switch_on" => "another node holding the key has its voting switch on",
        "stale_safety_data" => {
            "stale safety data: the file start_voting would resume from is older than the key's newest signed round"
        }
        "not_synced" => "this node is not synced, or its PoS view is not fresh",
        "history_incomplete" => "the vote history of the force-retire window is not read yet",
        "input_unknown" => {
            "another holder's switch, the committee membership or the safety data file is not known"
        }
        "quiet_too_short" => "the key is silent, but not for long enough yet",
        _ => "",
    }
}

/// The whole text for one node.
pub fn render(n: &NodeReport, exit: Exit, age_s: u64) -> String {
    let mut s = String::new();
    let verdict = if exit == Exit::Unknown && n.verdict != "unknown" {
        format!(
            "unknown (the exporter's report is {age_s} s old; the exporter judged {})",
            n.verdict
        )
    } else {
        n.verdict.clone()
    };
    let _ = writeln!(
        s,
        "node {} (PoS address {})",
        n.node,
        n.pos_address.as_deref().unwrap_or("unknown")
    );
    let _ = writeln!(s, "verdict: {}", verdict.to_uppercase());
    for r in &n.reasons {
        let _ = writeln!(s, "  because {r}: {}", explain(r));
    }
    let _ = writeln!(s, "evidence (judged {age_s} s ago):");
    let _ = writeln!(
        s,
        "  latest committed block {} (epoch {})",
        opt(n.latest_block),
        opt(n.epoch)
    );
    let signed = n
        .last_signed
        .map_or("none in the history read".into(), |l| {
            format!("block {} {}", l.block, round(l.at))
        });
    let _ = writeln!(s, "  last signed: {signed}");
    let _ = writeln!(
        s,
        "  last proposed: {}; last Election: {}",
        n.last_proposed_block
            .map_or("none read".into(), |b| format!("block {b}")),
        n.last_election_block
            .map_or("none read".into(), |b| format!("block {b}"))
    );
    let pending = match (n.consensus_blocks, n.uncommitted_signed) {
        (None, _) => {
            "not read (the node does not serve pos_getConsensusBlocks, or it failed)".into()
        }
        (Some(b), None) => format!("{b} blocks, none signed or proposed by the key"),
        (Some(b), Some(r)) => format!("{b} blocks; the key signed {}", round(Some(r))),
    };
    let _ = writeln!(s, "  not committed yet (pos_getConsensusBlocks): {pending}");
    let _ = writeln!(
        s,
        "  quiet blocks: {} of {} needed",
        opt(n.quiet_blocks),
        n.quiet_needed
    );
    let _ = writeln!(
        s,
        "  in the committee: {}; another holder's switch on: {}",
        opt(n.in_committee),
        opt(n.other_switch_on)
    );
    let budget = n.downtime_budget.map_or(
        "unknown (not a committee member, or the history cannot tell)".into(),
        |b| {
            format!(
                "{} blocks (force-retired at block {} if nothing signs)",
                b.blocks, b.end_block
            )
        },
    );
    let _ = writeln!(s, "  downtime budget: {budget}");
    let file = n
        .safety_data
        .as_ref()
        .map_or("no safety data file visible".into(), |d| {
            format!("{} at {}", d.file, round(Some(d.at)))
        });
    let _ = writeln!(
        s,
        "  safety data: {file}; the key's newest signed on chain: {}",
        round(n.chain_signed)
    );
    if let (Some(d), Some(epoch)) = (&n.safety_data, n.epoch) {
        if d.at.epoch < epoch {
            let _ = writeln!(
                s,
                "note: the safety data is from epoch {}, the chain is in epoch {epoch}: the new voter signs nothing until the next epoch starts (mind the downtime budget)",
                d.at.epoch
            );
        }
    }
    match &n.start_voting {
        Some(c) => {
            let (flag, param) = if c.initialize {
                (" --initialize", "true")
            } else {
                ("", "false")
            };
            let head = if exit == Exit::Safe {
                "safe now: run on this node"
            } else {
                "do NOT run start_voting now; once the preflight says safe, run on this node"
            };
            let _ = writeln!(s, "{head}:");
            let _ = writeln!(s, "  conflux rpc local pos start_voting{flag}");
            let _ = writeln!(
                s,
                "  (JSON-RPC: test_posStartVoting [{param}] at {}: curl -s -H 'Content-Type: application/json' --data '{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_posStartVoting\",\"params\":[{param}]}}' {})",
                c.rpc_url, c.rpc_url
            );
        }
        None => {
            let _ = writeln!(
                s,
                "no start_voting call: no safety data file of this node is visible to the exporter"
            );
        }
    }
    let _ = writeln!(
        s,
        "exit code {} ({})",
        exit as u8,
        format!("{exit:?}").to_lowercase()
    );
    s
}
