//! Grafana dashboard helpers: panels, their PromQL with the variables substituted.

use super::repo::read;

/// One PromQL query of a dashboard panel.
#[derive(Debug, Clone)]
pub struct PanelExpr {
    /// The dashboard's uid.
    pub dashboard: String,
    /// The panel's title.
    pub panel: String,
    /// The target's refId.
    pub ref_id: String,
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
                raw: raw.to_string(),
                expr: substitute(raw, vars),
            });
        }
    }
    out
}
