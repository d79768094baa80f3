//! The Grafana dashboards in `dashboards/` import anywhere and query what the exporter publishes: a Prometheus
//! datasource input and a datasource variable used by every panel and target, `__requires` listing the panel
//! types, `job`/`instance`/`node` variables used by every selector, stable uids, no top-level numeric id, units on
//! every panel, `$__rate_interval` in rate queries, only known metrics, and every expression parses as PromQL
//! (`promtool check rules` on a scratch rule file).

use conflux_test_support as support;

use support::grafana::*;
use support::promql::*;
use support::repo::*;
use support::rules::*;

use std::collections::BTreeSet;

use serde_json::Value;

const DS_VAR: &str = "${datasource}";

fn is_ds_var(v: &Value) -> bool {
    v["type"] == "prometheus" && v["uid"] == DS_VAR
}

#[test]
fn dashboards_are_importable_anywhere() {
    for (rel, uid) in DASHBOARDS
        .iter()
        .zip(["conflux-pos-node", "conflux-pos-fleet"])
    {
        let d = dashboard(rel);
        assert!(
            d.get("id").is_none_or(Value::is_null),
            "{rel}: no numeric id at the top level (Grafana assigns it)"
        );
        assert_eq!(d["uid"], uid, "{rel}: stable uid");
        assert!(
            d["title"].as_str().is_some_and(|t| !t.is_empty()),
            "{rel}: title"
        );

        let inputs = d["__inputs"].as_array().expect("__inputs");
        let ds_input = inputs
            .iter()
            .find(|i| i["type"] == "datasource" && i["pluginId"] == "prometheus")
            .expect("a Prometheus datasource input");
        let input_ref = format!("${{{}}}", ds_input["name"].as_str().expect("input name"));

        let requires = d["__requires"].as_array().expect("__requires");
        let has =
            |kind: &str, id: &str| requires.iter().any(|r| r["type"] == kind && r["id"] == id);
        assert!(
            has("grafana", "grafana") && has("datasource", "prometheus"),
            "{rel}: __requires grafana and prometheus"
        );

        let vars = d["templating"]["list"].as_array().expect("templating");
        let var = |name: &str| {
            vars.iter()
                .find(|v| v["name"] == name)
                .unwrap_or_else(|| panic!("{rel}: no variable {name}"))
        };
        let ds = var("datasource");
        assert_eq!(ds["type"], "datasource");
        assert_eq!(ds["query"], "prometheus");
        assert_eq!(
            ds["current"]["value"],
            input_ref.as_str(),
            "{rel}: the import choice ({input_ref}) selects the datasource variable"
        );
        for name in ["job", "instance", "node"] {
            let v = var(name);
            assert_eq!(v["type"], "query", "{rel}: ${name} is a query variable");
            assert!(
                is_ds_var(&v["datasource"]),
                "{rel}: ${name} queries through the datasource variable"
            );
        }
        // The input is referenced only by the datasource variable; everything else goes through the variable.
        let text = read(rel);
        assert_eq!(
            text.matches(&input_ref).count(),
            2,
            "{rel}: {input_ref} only in the datasource variable's current value"
        );

        let mut ids = BTreeSet::new();
        for p in panels(&d) {
            let title = p["title"].as_str().unwrap_or_default();
            let id = p["id"]
                .as_u64()
                .unwrap_or_else(|| panic!("{rel}: panel {title:?} has no numeric id"));
            assert!(ids.insert(id), "{rel}: panel id {id} used twice");
            let g = &p["gridPos"];
            let (x, w) = (
                g["x"].as_u64().expect("gridPos.x"),
                g["w"].as_u64().expect("gridPos.w"),
            );
            assert!(
                x + w <= 24 && g["h"].as_u64().is_some() && g["y"].as_u64().is_some(),
                "{rel}: {title:?} gridPos"
            );
            let kind = p["type"].as_str().expect("panel type");
            if kind == "row" {
                continue;
            }
            assert!(
                has("panel", kind),
                "{rel}: __requires lacks panel type {kind}"
            );
            assert!(
                is_ds_var(&p["datasource"]),
                "{rel}: panel {title:?} must use the datasource variable"
            );
            assert!(
                p["fieldConfig"]["defaults"]["unit"]
                    .as_str()
                    .is_some_and(|u| !u.is_empty()),
                "{rel}: panel {title:?} has no unit"
            );
            let targets = p["targets"]
                .as_array()
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| panic!("{rel}: panel {title:?} has no targets"));
            let mut refs = BTreeSet::new();
            for t in targets {
                assert!(
                    is_ds_var(&t["datasource"]),
                    "{rel}: a target of {title:?} must use the datasource variable"
                );
                assert!(
                    t["expr"].as_str().is_some_and(|e| !e.trim().is_empty()),
                    "{rel}: a target of {title:?} has no expr"
                );
                assert!(
                    refs.insert(t["refId"].as_str().expect("refId")),
                    "{rel}: refId repeated in {title:?}"
                );
            }
        }
        assert!(ids.len() > 10, "{rel}: too few panels");
    }
}

/// The range of every `rate(`/`irate(` call in `expr`.
fn rate_ranges(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(pos) = rest.find("rate(") {
        let after = &rest[pos + 5..];
        if let (Some(open), Some(close)) = (after.find('['), after.find(']')) {
            out.push(after[open + 1..close].to_string());
        }
        rest = after;
    }
    out
}

#[test]
fn queries_use_known_metrics_filtered_by_the_variables() {
    let recorded = recorded_names();
    let mut problems = Vec::new();
    for rel in DASHBOARDS {
        let exprs = dashboard_exprs(rel, &default_vars());
        assert!(
            exprs.iter().any(|e| e.raw.contains("$node")),
            "{rel}: the node variable is never used"
        );
        for e in &exprs {
            let at = format!("{rel} / {} / {}", e.panel, e.ref_id);
            for range in rate_ranges(&e.raw) {
                if range != "$__rate_interval" {
                    problems.push(format!(
                        "{at}: rate over [{range}] instead of [$__rate_interval]"
                    ));
                }
            }
            for (f, metric) in counter_functions(&e.raw) {
                if !(metric.ends_with("_total")
                    || metric.ends_with("_bucket")
                    || metric.ends_with("_count")
                    || metric.ends_with("_sum"))
                {
                    problems.push(format!("{at}: {f}() over {metric}, which is not a counter"));
                }
            }
            for m in metric_names(&e.raw) {
                if !is_known_metric(&m, &recorded) {
                    problems.push(format!("{at}: unknown metric {m}"));
                }
                // Per-PoS-address recordings carry no job/instance; they are always joined with a filtered series.
                if m.starts_with("pos_address:") {
                    continue;
                }
                for selector in selectors_of(&e.raw, &m) {
                    if !selector.contains("job=~\"$job\"")
                        || !selector.contains("instance=~\"$instance\"")
                    {
                        problems.push(format!(
                            "{at}: {m}{selector} is not filtered by $job and $instance"
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The `{...}` selector following each whole-word occurrence of `metric` (empty string when there is none).
fn selectors_of(expr: &str, metric: &str) -> Vec<String> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = expr[from..].find(metric).map(|p| p + from) {
        let end = pos + metric.len();
        from = end;
        if expr[..pos].chars().last().is_some_and(ident)
            || expr[end..].chars().next().is_some_and(ident)
        {
            continue;
        }
        let rest = &expr[end..];
        out.push(if rest.starts_with('{') {
            rest[..rest.find('}').map_or(rest.len(), |c| c + 1)].to_string()
        } else {
            String::new()
        });
    }
    out
}

#[test]
fn every_query_and_variable_parses_as_promql() {
    let mut exprs = Vec::new();
    let recorded = recorded_names();
    for rel in DASHBOARDS {
        for e in dashboard_exprs(rel, &default_vars()) {
            assert!(
                !e.expr.contains('$'),
                "{rel} / {}: unsubstituted variable in {}",
                e.panel,
                e.expr
            );
            exprs.push((format!("{rel} / {} / {}", e.panel, e.ref_id), e.expr));
        }
        // label_values(selector, label) of the query variables: the selector must parse and be a known metric.
        let d = dashboard(rel);
        for v in d["templating"]["list"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| v["type"] == "query")
        {
            let q = v["query"].as_str().expect("string query");
            let inner = q
                .strip_prefix("label_values(")
                .and_then(|s| s.rsplit_once(','))
                .map(|(sel, _)| sel)
                .unwrap_or_else(|| panic!("{rel}: {q}"));
            let sel = substitute(inner, &default_vars());
            assert!(
                metric_names(&sel)
                    .iter()
                    .all(|m| is_known_metric(m, &recorded)),
                "{rel}: variable query {q}"
            );
            exprs.push((format!("{rel} / variable {}", v["name"]), sel));
        }
    }
    assert!(
        exprs.len() > 80,
        "expected every panel query, found {}",
        exprs.len()
    );
    promtool_check_exprs(&exprs).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn the_parse_check_rejects_bad_promql() {
    let bad = vec![("broken".to_string(), "sum(rate(x[5m])".to_string())];
    assert!(promtool_check_exprs(&bad).is_err());
}

#[test]
fn substitution_handles_every_variable_syntax() {
    let vars = default_vars();
    assert_eq!(
        substitute("rate(a{node=~\"$node\"}[$__rate_interval])", &vars),
        "rate(a{node=~\".*\"}[1m])"
    );
    assert_eq!(
        substitute(
            "${node} [[instance]] ${job:regex} $__interval_ms $__interval",
            &vars
        ),
        ".* .* .* 60000 1m"
    );
    assert_eq!(
        substitute("$nodes", &vars),
        "$nodes",
        "a longer name is not a variable we know"
    );
}

#[test]
fn node_dashboard_covers_the_issue_and_fleet_highlights_double_voters() {
    let node: String = dashboard_exprs(DASHBOARDS[0], &default_vars())
        .iter()
        .map(|e| e.raw.clone() + "\n")
        .collect();
    for m in [
        "conflux_up",
        "conflux_catching_up",
        "conflux_pos_voting_enabled",
        "conflux_pos_committee_member",
        "conflux_pos_force_retire_at_risk",
        "instance_node:conflux_pos_force_retire_eta_seconds:estimate",
        "conflux_pos_force_retired",
        "pos_address:conflux_pos_active_voters:max",
        "conflux_epoch_lag",
        "conflux_pos_block_lag",
        "conflux_pos_votes_signed_total",
        "conflux_pos_votes_missed_total",
        "conflux_pos_last_vote_timestamp_seconds",
        "conflux_pos_voting_power",
        "conflux_pos_committee_voting_power",
        "conflux_pos_account_votes",
        "conflux_pos_queue_next_maturity_seconds",
        "conflux_pos_reward_cfx_total",
        "conflux_pos_committee_participation_ratio",
        "conflux_pos_votes_solo_missed_total",
        "conflux_pos_epoch_signed_ratio",
        "conflux_pos_reward_efficiency_ratio",
        "conflux_pos_reward_lost_cfx_total",
        "conflux_disk_available_bytes",
        "conflux_node_process_open_fds",
        "conflux_node_process_max_fds",
        "conflux_exporter_rpc_errors_total",
    ] {
        assert!(node.contains(m), "the node dashboard does not show {m}");
    }
    let fleet = dashboard(DASHBOARDS[1]);
    let highlighted: Vec<&Value> = panels(&fleet)
        .into_iter()
        .filter(|p| p["type"] == "table")
        .filter(|p| {
            p["targets"].as_array().into_iter().flatten().any(|t| {
                t["expr"]
                    .as_str()
                    .is_some_and(|e| e.contains("pos_address:conflux_pos_active_voters:max"))
            })
        })
        .filter(|p| {
            p["fieldConfig"]["overrides"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|o| {
                    let props = o["properties"].as_array().cloned().unwrap_or_default();
                    let colored = props.iter().any(|pr| {
                        pr["id"] == "custom.cellOptions"
                            && pr["value"]["type"] == "color-background"
                    });
                    let red_at_two = props.iter().any(|pr| {
                        pr["id"] == "thresholds"
                            && pr["value"]["steps"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .any(|s| s["color"] == "red" && s["value"] == 2)
                    });
                    colored && red_at_two
                })
        })
        .collect();
    assert_eq!(
        highlighted.len(),
        2,
        "both fleet tables (addresses and nodes) colour keys with two or more voters red"
    );
}
