//! Shared helpers for the operator-artifact tests (`tests/ops_*.rs`): the rule file, the Alertmanager example,
//! the dashboards and the real `promtool`/`amtool` binaries. Kept apart from `tests/common` so these tests need
//! neither the simulator nor the exporter.
//!
//! Reusable by later tests (e.g. one that runs every panel query against a real Prometheus):
//! [`dashboard_exprs`] lists every panel target's PromQL with the dashboard variables substituted.
#![allow(dead_code)]

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

/// Metric names an expression selects (not functions, keywords, labels, numbers or durations). Good enough for
/// the PromQL in this repository: strings, label matchers, ranges and `by (...)`-style lists are dropped first.
pub fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut s = strip_delimited(expr, &['"', '\'', '`']);
    s = strip_brackets(&s, '{', '}');
    s = strip_brackets(&s, '[', ']');
    s = strip_label_lists(&s);
    let chars: Vec<char> = s.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '_')
            {
                i += 1;
            }
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let next = chars[i..].iter().find(|c| !c.is_whitespace());
            let keyword = matches!(
                word.to_ascii_lowercase().as_str(),
                "and" | "or" | "unless" | "by" | "without" | "on" | "ignoring" | "group_left" | "group_right" | "bool" | "offset" | "inf" | "nan"
                    // aggregation operators, which may be followed by `by (...)` instead of `(`
                    | "sum" | "min" | "max" | "avg" | "group" | "stddev" | "stdvar" | "count" | "count_values" | "bottomk" | "topk" | "quantile"
            );
            if next != Some(&'(') && !keyword {
                names.insert(word);
            }
            continue;
        }
        i += 1;
    }
    names
}

/// Whether `name` is a metric the exporter publishes (histogram series included) or one of the recorded names.
pub fn is_known_metric(name: &str, recorded: &BTreeSet<String>) -> bool {
    if KNOWN_METRICS.contains(&name) || recorded.contains(name) {
        return true;
    }
    ["_bucket", "_sum", "_count"].iter().any(|suffix| {
        name.strip_suffix(suffix)
            .is_some_and(|base| HISTOGRAMS.contains(&base))
    })
}

/// Every `rate(`, `irate(` or `increase(` applied directly to a metric: (function, metric name).
pub fn counter_functions(expr: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in ["irate(", "rate(", "increase("] {
        let mut rest = expr;
        while let Some(pos) = rest.find(f) {
            let before = rest[..pos].chars().last();
            let after = &rest[pos + f.len()..];
            rest = after;
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue; // e.g. "irate(" inside "rate(" search, or a longer function name
            }
            let name: String = after
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            out.push((f.trim_end_matches('(').to_string(), name));
        }
    }
    out
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

/// Checks that every expression parses as PromQL, by writing them as recording rules into a temporary rules file
/// and running `promtool check rules` on it. `exprs` are (name for messages, expression).
pub fn promtool_check_exprs(exprs: &[(String, String)]) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("exprs.rules.yml");
    let mut text = String::from("groups:\n  - name: exprs\n    rules:\n");
    for (i, (_, expr)) in exprs.iter().enumerate() {
        // JSON strings are valid YAML flow scalars and escape everything that matters.
        let quoted = serde_json::to_string(expr).map_err(|e| e.to_string())?;
        text.push_str(&format!(
            "      - record: expr_{i}\n        expr: {quoted}\n"
        ));
    }
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    let (ok, out, err) = run(
        "promtool",
        &["check", "rules", path.to_str().unwrap_or_default()],
    );
    if ok {
        return Ok(());
    }
    let legend: Vec<String> = exprs
        .iter()
        .enumerate()
        .map(|(i, (name, e))| format!("expr_{i} = {name}: {e}"))
        .collect();
    Err(format!(
        "promtool check rules failed:\n{out}{err}\n{}",
        legend.join("\n")
    ))
}

/// One PromQL query of a dashboard panel.
#[derive(Debug, Clone)]
pub struct PanelExpr {
    /// The dashboard's uid.
    pub dashboard: String,
    /// The panel's title.
    pub panel: String,
    /// The target's refId.
    pub ref_id: String,
    /// Whether the target asks for an instant query.
    pub instant: bool,
    /// The expression as written in the dashboard.
    pub raw: String,
    /// The expression with the variables replaced (see [`default_vars`]).
    pub expr: String,
}

/// Values for the dashboard variables that make every query valid PromQL and select everything: the label
/// variables become `.*` (they are only used with `=~`), the Grafana interval variables become durations.
pub fn default_vars() -> Vec<(&'static str, &'static str)> {
    vec![
        ("__rate_interval", "1m"),
        ("__interval_ms", "60000"),
        ("__interval", "1m"),
        ("__range_s", "3600"),
        ("__range", "1h"),
        ("job", ".*"),
        ("instance", ".*"),
        ("node", ".*"),
        ("pos_address", ".*"),
    ]
}

/// Replaces Grafana variables (`$name`, `${name}`, `${name:format}`, `[[name]]`) with the given values.
/// Longer names are listed first in [`default_vars`], so `$__interval_ms` is not cut at `$__interval`.
pub fn substitute(expr: &str, vars: &[(&str, &str)]) -> String {
    let mut out = expr.to_string();
    for (name, value) in vars {
        out = out
            .replace(&format!("${{{name}}}"), value)
            .replace(&format!("[[{name}]]"), value);
        while let Some(start) = out.find(&format!("${{{name}:")) {
            let Some(end) = out[start..].find('}') else {
                break;
            };
            out.replace_range(start..start + end + 1, value);
        }
        // `$name` only when not followed by another identifier character.
        let needle = format!("${name}");
        let mut result = String::new();
        let mut rest = out.as_str();
        while let Some(pos) = rest.find(&needle) {
            let after = &rest[pos + needle.len()..];
            let continues = after
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            result.push_str(&rest[..pos]);
            result.push_str(if continues { &needle } else { value });
            rest = after;
        }
        result.push_str(rest);
        out = result;
    }
    out
}

/// Every panel of a dashboard, rows' nested panels included, in order.
pub fn panels(dashboard: &serde_json::Value) -> Vec<&serde_json::Value> {
    fn walk<'a>(list: &'a serde_json::Value, out: &mut Vec<&'a serde_json::Value>) {
        for p in list.as_array().into_iter().flatten() {
            out.push(p);
            walk(&p["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&dashboard["panels"], &mut out);
    out
}

/// Loads a dashboard JSON file of the repository.
pub fn dashboard(rel: &str) -> serde_json::Value {
    serde_json::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not valid JSON: {e}"))
}

/// The dashboard files shipped in `dashboards/`.
pub const DASHBOARDS: &[&str] = &[
    "dashboards/conflux-pos-node.json",
    "dashboards/conflux-pos-fleet.json",
];

/// Every panel target's PromQL of the dashboard at `rel`, with `vars` substituted (use [`default_vars`]).
pub fn dashboard_exprs(rel: &str, vars: &[(&str, &str)]) -> Vec<PanelExpr> {
    let d = dashboard(rel);
    let uid = d["uid"].as_str().unwrap_or_default().to_string();
    let mut out = Vec::new();
    for p in panels(&d) {
        for t in p["targets"].as_array().into_iter().flatten() {
            let Some(raw) = t["expr"].as_str() else {
                continue;
            };
            out.push(PanelExpr {
                dashboard: uid.clone(),
                panel: p["title"].as_str().unwrap_or_default().to_string(),
                ref_id: t["refId"].as_str().unwrap_or_default().to_string(),
                instant: t["instant"].as_bool().unwrap_or(false),
                raw: raw.to_string(),
                expr: substitute(raw, vars),
            });
        }
    }
    out
}

fn strip_delimited(s: &str, quotes: &[char]) -> String {
    let mut out = String::new();
    let mut open: Option<char> = None;
    let mut escaped = false;
    for c in s.chars() {
        match open {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    open = None;
                    out.push(' ');
                }
            }
            None if quotes.contains(&c) => open = Some(c),
            None => out.push(c),
        }
    }
    out
}

fn strip_brackets(s: &str, open: char, close: char) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in s.chars() {
        if c == open {
            depth += 1;
        } else if c == close && depth > 0 {
            depth -= 1;
            if depth == 0 {
                out.push(' ');
            }
        } else if depth == 0 {
            out.push(c);
        }
    }
    out
}

fn strip_label_lists(s: &str) -> String {
    let mut out = s.to_string();
    for kw in [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ] {
        let mut result = String::new();
        let mut rest = out.as_str();
        while let Some(pos) = find_word(rest, kw) {
            let after = &rest[pos + kw.len()..];
            let trimmed = after.trim_start();
            result.push_str(&rest[..pos + kw.len()]);
            if let (true, Some(close)) = (trimmed.starts_with('('), trimmed.find(')')) {
                result.push(' ');
                rest = &trimmed[close + 1..];
            } else {
                rest = after;
            }
        }
        result.push_str(rest);
        out = result;
    }
    out
}

fn find_word(s: &str, word: &str) -> Option<usize> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut from = 0;
    while let Some(pos) = s[from..].find(word).map(|p| p + from) {
        let before_ok = s[..pos].chars().last().is_none_or(|c| !is_ident(c));
        let after_ok = s[pos + word.len()..]
            .chars()
            .next()
            .is_none_or(|c| !is_ident(c));
        if before_ok && after_ok {
            return Some(pos);
        }
        from = pos + word.len();
    }
    None
}
