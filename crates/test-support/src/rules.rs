//! The shipped rule file read as data (every rule flattened), the metric names it may use (the exporter's
//! catalogue), and what its promtool tests expect an alert to carry.

use std::collections::{BTreeMap, BTreeSet};

use serde_norway::Value;

use super::repo::{repo, yaml};

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

/// Label or annotation names and values.
pub type Labels = BTreeMap<String, String>;

/// The labels (alertname included) and annotations the promtool tests (`alerts/tests/*.yml`) expect for the first
/// alert `name` whose description contains `marker`: what the rules really send, as promtool checked it.
pub fn expected_alert(name: &str, marker: &str) -> (Labels, Labels) {
    let mut dir: Vec<_> = std::fs::read_dir(repo("alerts/tests"))
        .expect("alerts/tests")
        .filter_map(|e| e.ok())
        .collect();
    dir.sort_by_key(|e| e.file_name());
    let map = |v: &Value| -> Labels {
        v.as_mapping()
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                let s = |x: &Value| x.as_str().unwrap_or_default().to_string();
                (s(k), s(v))
            })
            .collect()
    };
    for e in dir {
        let doc = yaml(&format!("alerts/tests/{}", e.file_name().to_string_lossy()));
        for t in doc["tests"].as_sequence().into_iter().flatten() {
            for case in t["alert_rule_test"].as_sequence().into_iter().flatten() {
                if case["alertname"].as_str() != Some(name) {
                    continue;
                }
                for a in case["exp_alerts"].as_sequence().into_iter().flatten() {
                    let annotations = map(&a["exp_annotations"]);
                    if annotations
                        .get("description")
                        .is_some_and(|d| d.contains(marker))
                    {
                        let mut labels = map(&a["exp_labels"]);
                        labels.insert("alertname".into(), name.into());
                        return (labels, annotations);
                    }
                }
            }
        }
    }
    panic!("no promtool case of {name} with {marker:?}");
}
