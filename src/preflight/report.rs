//! The preflight report: per node, the judge's verdict with the evidence it was computed from, and the
//! `start_voting` call to run when it says `safe`. Built once per publish and served as bytes, so a request to
//! `/-/preflight` never locks or computes anything; its size is bounded by the number of configured nodes.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::judge::Verdicts;
use crate::server::landing::bounded;
use crate::state::{NodeState, State};

/// The whole report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    /// Unix seconds of the judgement: a reader refuses an old report.
    pub generated_at: u64,
    /// One entry per configured node, in configuration order.
    pub nodes: Vec<NodeReport>,
}

/// (epoch, round) of a PoS vote.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Round {
    /// PoS epoch.
    pub epoch: u64,
    /// Round within it.
    pub round: u64,
}

impl From<(u64, u64)> for Round {
    fn from((epoch, round): (u64, u64)) -> Self {
        Self { epoch, round }
    }
}

/// The key's last sign of life in the committed chain.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct LastSigned {
    /// Committed block (height).
    pub block: u64,
    /// Its (epoch, round), when known.
    pub at: Option<Round>,
}

/// The safety data `start_voting` would resume from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SafetyData {
    /// `secure_storage.json.save` (used by `start_voting [false]`) or `secure_storage.json` (`[true]`).
    pub file: String,
    /// Its `safety_data` (epoch, last voted round).
    pub at: Round,
}

/// The downtime budget of a committee member.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Budget {
    /// Committed blocks left before the key is force-retired if nothing signs.
    pub blocks: u64,
    /// The retiring block.
    pub end_block: u64,
}

/// The `start_voting` call for this node.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StartVoting {
    /// `false`: swap in `secure_storage.json.save`; `true` (`--initialize`): keep the local safety data.
    pub initialize: bool,
    /// The node's RPC URL as configured (credentials redacted).
    pub rpc_url: String,
}

/// One node's preflight.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NodeReport {
    /// Node name.
    pub node: String,
    /// PoS address judged, when known.
    pub pos_address: Option<String>,
    /// `unsafe`, `wait`, `unknown` or `safe` (`unknown` also while the address is not known).
    pub verdict: String,
    /// Reason labels (empty for `safe`).
    pub reasons: Vec<String>,
    /// Latest committed block and epoch of the view judged.
    pub latest_block: Option<u64>,
    /// Current PoS epoch.
    pub epoch: Option<u64>,
    /// Newest committed block the key signed.
    pub last_signed: Option<LastSigned>,
    /// Newest committed block the key proposed.
    pub last_proposed_block: Option<u64>,
    /// Block of the key's newest Election transaction.
    pub last_election_block: Option<u64>,
    /// Newest (epoch, round) the key signed or proposed among blocks not committed yet.
    pub uncommitted_signed: Option<Round>,
    /// Blocks the node's consensus DB answered with (`None`: `pos_getConsensusBlocks` not served or failed).
    pub consensus_blocks: Option<usize>,
    /// Committed blocks since the last sign of life.
    pub quiet_blocks: Option<u64>,
    /// Quiet blocks needed before `safe`.
    pub quiet_needed: u64,
    /// The key is in the current committee.
    pub in_committee: Option<bool>,
    /// Another holder of the key has its voting switch on.
    pub other_switch_on: Option<bool>,
    /// The downtime budget (a committee member's blocks until force-retirement).
    pub downtime_budget: Option<Budget>,
    /// The safety data this node would resume from.
    pub safety_data: Option<SafetyData>,
    /// The newest (epoch, round) the chain shows the key signed (committed or not).
    pub chain_signed: Option<Round>,
    /// The call to make when the verdict is `safe` (`None` while no safety file is visible).
    pub start_voting: Option<StartVoting>,
}

/// The report of one publish.
pub(crate) fn report(state: &State, verdicts: &Verdicts, now: SystemTime) -> Report {
    let nodes = state
        .nodes
        .iter()
        .zip(&verdicts.nodes)
        .map(|(node, v)| node_report(node, v))
        .collect();
    Report {
        generated_at: now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        nodes,
    }
}

fn node_report(node: &NodeState, v: &crate::judge::NodeVerdicts) -> NodeReport {
    let save = node
        .host
        .as_ref()
        .and_then(|h| h.keys.as_ref())
        .and_then(|k| k.secure_storage_save_present());
    let p = v.preflight.as_ref();
    let i = p.map(|p| p.input).unwrap_or_default();
    let status = node.chain_view().and_then(|p| p.status.as_ref());
    let safety_data = i.resume_from.map(|at| SafetyData {
        file: if save == Some(true) {
            "secure_storage.json.save"
        } else {
            "secure_storage.json"
        }
        .into(),
        at: at.into(),
    });
    NodeReport {
        node: bounded(&node.name),
        pos_address: node.pos_address().map(|a| a.as_str().to_string()),
        verdict: p.map_or("unknown", |p| p.verdict.label()).into(),
        reasons: p.map_or_else(Vec::new, |p| {
            p.reasons.iter().map(|r| r.label().to_string()).collect()
        }),
        latest_block: status.map(|s| s.latest_committed.0),
        epoch: status.map(|s| s.epoch.0),
        last_signed: i.last_signed.map(|block| LastSigned {
            block,
            at: i.chain_signed.map(Round::from),
        }),
        last_proposed_block: i.last_proposed,
        last_election_block: i.last_election,
        uncommitted_signed: i.pending_signed.map(Round::from),
        consensus_blocks: node
            .pos
            .as_ref()
            .filter(|_| node.poll.up)
            .and_then(|p| p.pending)
            .map(|p| p.blocks),
        quiet_blocks: p.and_then(|p| p.quiet_blocks),
        quiet_needed: i.quiet_needed,
        in_committee: i.in_committee,
        other_switch_on: i.other_switch_on,
        downtime_budget: v.pos.and_then(|p| p.budget).map(|b| Budget {
            blocks: b.blocks,
            end_block: b.end_block,
        }),
        start_voting: safety_data.as_ref().map(|s| StartVoting {
            initialize: s.file == "secure_storage.json",
            rpc_url: bounded(&node.display_url),
        }),
        safety_data,
        chain_signed: i.newest_signed().map(Round::from),
    }
}

impl Report {
    /// The report as served.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// One line per node for the landing page: name, verdict, reasons and the quiet blocks.
    pub fn lines(&self) -> Vec<(String, String)> {
        self.nodes
            .iter()
            .map(|n| {
                let mut line = n.verdict.clone();
                if !n.reasons.is_empty() {
                    line.push_str(&format!(" ({})", n.reasons.join(", ")));
                }
                if let Some(q) = n.quiet_blocks {
                    line.push_str(&format!("; {q} of {} quiet blocks", n.quiet_needed));
                }
                (n.node.clone(), line)
            })
            .collect()
    }
}
