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

/// Whether a rule or panel may name `metric`: Prometheus' own `up`, or a family of the exporter's catalogue (the
/// single place metrics are declared; histograms also answer to their `_bucket`, `_sum` and `_count` series).
/// Anything else is a typo or an undocumented dependency.
pub fn known_metric(metric: &str) -> bool {
    use conflux_pos_exporter::metrics::{catalogue, Kind};
    metric == "up"
        || catalogue().iter().any(|d| {
            d.name == metric
                || (d.kind == Kind::Histogram
                    && ["_bucket", "_sum", "_count"]
                        .iter()
                        .any(|s| metric.strip_suffix(s) == Some(d.name)))
        })
}

/// The prefix every `runbook_url` starts with: the base from the external label `runbook_base_url`, else the
/// copy the Debian package installs; the anchor after `#` is the alert name in lower case.
pub const RUNBOOK_BASE: &str = "{{ with $externalLabels.runbook_base_url }}{{ . }}{{ else }}file:///usr/share/conflux-pos-exporter/docs/runbook.md{{ end }}#";

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
