//! Shared helpers for the operator-artifact tests (`tests/ops_*.rs`): the rule file, the Alertmanager example,
//! the dashboards and the real `promtool`/`amtool` binaries. Kept apart from `tests/common` so these tests need
//! neither the simulator nor the exporter.
//!
//! Reusable by later tests (e.g. one that runs every panel query against a real Prometheus):
//! [`dashboard_exprs`] lists every panel target's PromQL with the dashboard variables substituted.
#![allow(dead_code)]

mod grafana;
mod promql;

#[allow(unused_imports)] // each test crate uses a different part
pub use grafana::*;
#[allow(unused_imports)]
pub use promql::*;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The metric names the exporter publishes (issue 5's contract), plus Prometheus' own `up`. A rule or panel that
/// names anything else is a typo or an undocumented dependency.
pub const KNOWN_METRICS: &[&str] = &[
    "up",
    // chain
    "conflux_up",
    "conflux_node_info",
    "conflux_epoch_number",
    "conflux_block_age_seconds",
    "conflux_sync_phase",
    "conflux_catching_up",
    "conflux_peers",
    "conflux_txpool_pending",
    "conflux_rpc_method_unavailable",
    "conflux_epoch_lag",
    "conflux_reference_hash_mismatch",
    "conflux_reference_up",
    "conflux_reference_state",
    "conflux_reference_epoch_number",
    "conflux_exporter_build_info",
    "conflux_exporter_rpc_requests_total",
    "conflux_exporter_rpc_errors_total",
    "conflux_exporter_rpc_duration_seconds",
    "conflux_exporter_last_success_timestamp_seconds",
    // PoS
    "conflux_pos_info",
    "conflux_pos_address_known",
    "conflux_pos_up",
    "conflux_pos_unavailable_reason",
    "conflux_pos_epoch",
    "conflux_pos_latest_committed_block",
    "conflux_pos_latest_voted_block",
    "conflux_pos_block_lag",
    "conflux_pos_committed_block_age_seconds",
    "conflux_pos_votes_signed_total",
    "conflux_pos_votes_missed_total",
    "conflux_pos_votes_unknown_total",
    "conflux_pos_epoch_blocks",
    "conflux_pos_epoch_blocks_signed",
    "conflux_pos_consecutive_missed_blocks",
    "conflux_pos_last_signed_block",
    "conflux_pos_last_vote_timestamp_seconds",
    "conflux_pos_blocks_proposed_total",
    "conflux_pos_epochs_without_vote",
    "conflux_pos_force_retire_at_risk",
    "conflux_pos_force_retire_eta_seconds",
    "conflux_pos_epoch_remaining_blocks",
    "conflux_pos_block_interval_seconds",
    "conflux_pos_epoch_length_blocks",
    "conflux_pos_committee_member",
    "conflux_pos_voting_power",
    "conflux_pos_committee_voting_power",
    "conflux_pos_election_candidate",
    "conflux_pos_account_votes",
    "conflux_pos_force_retired",
    "conflux_pos_force_retired_block",
    "conflux_pos_queue_next_maturity_block",
    "conflux_pos_queue_next_maturity_seconds",
    "conflux_pos_election_transactions_total",
    "conflux_pos_last_election_target_term",
    "conflux_pos_own_transactions_total",
    "conflux_pos_transactions_total",
    "conflux_pos_slashed",
    "conflux_pos_reward_cfx_total",
    "conflux_pos_last_epoch_reward_cfx",
    // host and guard
    "conflux_node_process_up",
    "conflux_node_process_start_time_seconds",
    "conflux_node_process_open_fds",
    "conflux_node_process_max_fds",
    "conflux_node_process_resident_memory_bytes",
    "conflux_node_process_readable",
    "conflux_disk_available_bytes",
    "conflux_disk_size_bytes",
    "conflux_disk_free_bytes",
    "conflux_pos_key_present",
    "conflux_pos_key_permissions_ok",
    "conflux_pos_secure_storage_present",
    "conflux_pos_key_owner_mismatch",
    "conflux_pos_safety_data_updated_timestamp_seconds",
    "conflux_pos_voting_enabled",
    "conflux_pos_active_voters",
    "conflux_pos_failover_state",
    "conflux_pos_safe_to_stop",
];

/// Histograms among [`KNOWN_METRICS`]: their `_bucket`, `_sum` and `_count` series are known too.
pub const HISTOGRAMS: &[&str] = &["conflux_exporter_rpc_duration_seconds"];

/// The prefix every `runbook_url` starts with; the anchor after `#` is the alert name in lower case.
pub const RUNBOOK_BASE: &str =
    "https://github.com/conflux-pos-exporter/conflux-pos-exporter/blob/main/docs/runbook.md#";

/// The scrape job name the rules and the example Prometheus config agree on.
pub const JOB: &str = "conflux-pos-exporter";

/// A path inside the repository.
pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Reads a repository file or fails naming it.
pub fn read(rel: &str) -> String {
    std::fs::read_to_string(repo(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

/// Finds a tool on PATH, or fails saying how to install it.
pub fn tool(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|f| f.is_file()))
        .unwrap_or_else(|| {
            panic!(
                "{name} not found on PATH: run `bash scripts/test` (installs Debian's prometheus and \
                 prometheus-alertmanager), or `apt-get install prometheus prometheus-alertmanager`"
            )
        })
}

/// Runs a tool from the repository root; returns (success, stdout, stderr).
pub fn run(name: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(tool(name))
        .args(args)
        .current_dir(repo("."))
        .output()
        .unwrap_or_else(|e| panic!("{name} does not run: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Parses a YAML file of the repository.
pub fn yaml(rel: &str) -> serde_norway::Value {
    serde_norway::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not valid YAML: {e}"))
}

/// One rule of the rule file, flattened.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The group it belongs to.
    pub group: String,
    /// `alert:` name, if an alerting rule.
    pub alert: Option<String>,
    /// `record:` name, if a recording rule.
    pub record: Option<String>,
    /// The PromQL expression.
    pub expr: String,
    /// `for:` as written, if any.
    pub for_: Option<String>,
    /// Static labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
}

/// Every rule of `alerts/conflux-pos.rules.yml`.
pub fn rules() -> Vec<Rule> {
    let doc = yaml("alerts/conflux-pos.rules.yml");
    let groups = doc["groups"].as_sequence().expect("rules file has groups");
    let mut out = Vec::new();
    for g in groups {
        let group = g["name"].as_str().expect("group name").to_string();
        for r in g["rules"].as_sequence().expect("group has rules") {
            let s = |k: &str| r[k].as_str().map(str::to_string);
            let map = |k: &str| -> BTreeMap<String, String> {
                r[k].as_mapping()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| {
                                (
                                    k.as_str().unwrap_or_default().to_string(),
                                    v.as_str().unwrap_or_default().to_string(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            };
            out.push(Rule {
                group: group.clone(),
                alert: s("alert"),
                record: s("record"),
                expr: s("expr").expect("rule has an expr"),
                for_: s("for"),
                labels: map("labels"),
                annotations: map("annotations"),
            });
        }
    }
    out
}

/// The names of the recording rules.
pub fn recorded_names() -> BTreeSet<String> {
    rules().into_iter().filter_map(|r| r.record).collect()
}

/// GitHub's heading anchors of a Markdown document (lower case; punctuation other than `-`/`_` dropped; spaces
/// become `-`; repeated headings get `-1`, `-2`, ...). Headings inside code fences do not count.
pub fn markdown_anchors(md: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    let mut in_fence = false;
    for line in md.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if hashes == 0 || hashes > 6 || !line[hashes..].starts_with(' ') {
            continue;
        }
        let slug: String = line[hashes..]
            .trim()
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect();
        let n = seen.entry(slug.clone()).or_insert(0);
        out.insert(if *n == 0 {
            slug.clone()
        } else {
            format!("{slug}-{n}")
        });
        *n += 1;
    }
    out
}
