//! Lint for `alerts/conflux-pos.rules.yml`: the conventions promtool does not check. Alert names are CamelCase,
//! severities are critical|warning|info, every alert has a summary, a templated description and a runbook link
//! whose anchor exists in `docs/runbook.md`, info alerts never reach a receiver that notifies anybody (checked by
//! routing them through `examples/alertmanager.yml` with `amtool`), counters are the only things rated, the scrape
//! job is named only where the convention says, and every metric named is one the exporter publishes.

use conflux_test_support as support;

use support::promql::*;
use support::repo::*;
use support::rules::*;

use std::collections::BTreeSet;

fn alerts() -> Vec<Rule> {
    rules().into_iter().filter(|r| r.alert.is_some()).collect()
}

fn is_camel_case(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
        && name.chars().any(|c| c.is_ascii_lowercase())
}

#[test]
fn alert_names_are_camel_case_and_severities_known() {
    let alerts = alerts();
    assert!(
        alerts.len() >= 30,
        "expected the full alert set, found {}",
        alerts.len()
    );
    for r in &alerts {
        let name = r.alert.as_deref().unwrap_or_default();
        assert!(is_camel_case(name), "alert name {name:?} is not CamelCase");
        let sev = r.labels.get("severity").map(String::as_str);
        assert!(
            matches!(sev, Some("critical" | "warning" | "info")),
            "{name}: severity {sev:?} is not critical|warning|info"
        );
    }
}

#[test]
fn camel_case_check_rejects_bad_names() {
    assert!(is_camel_case("ConfluxNodeDown"));
    assert!(!is_camel_case("conflux_node_down"));
    assert!(!is_camel_case("confluxNodeDown"));
    assert!(!is_camel_case("CONFLUX"));
    assert!(!is_camel_case("Conflux-Node"));
}

#[test]
fn every_alert_has_summary_templated_description_and_runbook_link() {
    let anchors = support::markdown::anchors(&read("docs/runbook.md"));
    let with_node = alerts_tested_with_node_label();
    // Facts about a key (retirement, votes, slashing) page once per pos_address; the rest are per node.
    assert!(
        with_node.len() > 15,
        "expected most alerts to be per node: {with_node:?}"
    );
    let mut problems = Vec::new();
    for r in alerts() {
        let name = r.alert.clone().unwrap_or_default();
        let a = &r.annotations;
        match a.get("summary") {
            Some(s) if s.trim().ends_with('.') && !s.contains("{{") => {}
            other => problems.push(format!(
                "{name}: summary must be a plain sentence ending in '.', got {other:?}"
            )),
        }
        match a.get("description") {
            Some(d) if d.contains("{{") && (d.contains("$value") || d.contains("| value")) => {}
            other => problems.push(format!(
                "{name}: description must be templated and show the value, got {other:?}"
            )),
        }
        // Alerts that carry a node label (as the promtool tests show) must name the node in the description.
        if with_node.contains(&name)
            && !a
                .get("description")
                .is_some_and(|d| d.contains("$labels.node"))
        {
            problems.push(format!("{name}: description does not name the node"));
        }
        match a
            .get("runbook_url")
            .and_then(|u| u.strip_prefix(RUNBOOK_BASE))
        {
            Some(anchor) if anchor == name.to_lowercase() => {
                if !anchors.contains(anchor) {
                    problems.push(format!(
                        "{name}: docs/runbook.md has no heading with anchor #{anchor}"
                    ));
                }
            }
            _ => problems.push(format!(
                "{name}: runbook_url must be {RUNBOOK_BASE}{}",
                name.to_lowercase()
            )),
        }
    }
    assert!(
        problems.is_empty(),
        "annotation problems:\n{}",
        problems.join("\n")
    );
}

/// Alerts whose expected labels in the promtool tests include `node`.
fn alerts_tested_with_node_label() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(repo("alerts/tests"))
        .expect("alerts/tests")
        .filter_map(|e| e.ok())
    {
        let doc = yaml(&format!(
            "alerts/tests/{}",
            entry.file_name().to_string_lossy()
        ));
        for t in doc["tests"].as_sequence().into_iter().flatten() {
            for case in t["alert_rule_test"].as_sequence().into_iter().flatten() {
                for a in case["exp_alerts"].as_sequence().into_iter().flatten() {
                    if a["exp_labels"].get("node").is_some() {
                        out.insert(case["alertname"].as_str().unwrap_or_default().to_string());
                    }
                }
            }
        }
    }
    out
}

#[test]
fn rule_names_and_groups_are_well_formed() {
    for r in rules() {
        if let Some(rec) = &r.record {
            assert_eq!(
                rec.split(':').count(),
                3,
                "recording rule {rec} must be named level:metric:operation"
            );
        }
        assert!(
            r.group.starts_with("conflux-pos."),
            "group {} must be named conflux-pos.*",
            r.group
        );
        if let Some(f) = &r.for_ {
            assert!(
                f.ends_with('m') || f.ends_with('h') || f.ends_with('s'),
                "{:?}: for: {f} is not a duration",
                r.alert
            );
        }
    }
}

#[test]
fn only_counters_are_rated_and_only_known_metrics_are_used() {
    let recorded = recorded_names();
    let mut problems = Vec::new();
    for r in rules() {
        let who = r.alert.clone().or(r.record.clone()).unwrap_or_default();
        for (f, metric) in counter_functions(&r.expr) {
            if !(metric.ends_with("_total")
                || metric.ends_with("_count")
                || metric.ends_with("_sum")
                || metric.ends_with("_bucket"))
            {
                problems.push(format!(
                    "{who}: {f}() over {metric:?}, which is not a counter"
                ));
            }
        }
        for m in metric_names(&r.expr) {
            if !is_known_metric(&m, &recorded) {
                problems.push(format!("{who}: unknown metric {m}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn metric_name_extraction_ignores_labels_functions_and_numbers() {
    let got = metric_names(
        r#"sum by (instance, job) (rate(conflux_exporter_rpc_errors_total{kind!="rpc_error"}[5m])) / on(instance) group_left(pos_address) foo:bar:baz > 4 * 3600 and x offset 3h or absent(up{job="a b"}) < 500e9"#,
    );
    let want: BTreeSet<String> = [
        "conflux_exporter_rpc_errors_total",
        "foo:bar:baz",
        "x",
        "up",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(got, want);
    assert_eq!(
        counter_functions("irate(a[1m]) + rate( b_total[1m]) + increase(c_total[1h])").len(),
        3
    );
    assert_eq!(
        counter_functions("irate(a[1m])"),
        vec![("irate".to_string(), "a".to_string())]
    );
}

#[test]
fn the_job_label_is_used_only_by_the_documented_convention() {
    for r in rules() {
        let who = r.alert.clone().or(r.record.clone()).unwrap_or_default();
        let mentions_job =
            r.expr.contains("job=") || r.expr.contains("job!=") || r.expr.contains("job=~");
        if mentions_job {
            assert_eq!(
                who, "ConfluxExporterDown",
                "{who} selects on job; only ConfluxExporterDown may (see the file header)"
            );
            assert_eq!(
                r.expr.matches(&format!("job=\"{JOB}\"")).count(),
                r.expr.matches("job").count(),
                "{who}: job must be {JOB:?}"
            );
        }
    }
    assert!(read("alerts/conflux-pos.rules.yml").contains(&format!("up{{job=\"{JOB}\"}}")));
}

/// Which receiver `amtool` routes a label set to, with the example Alertmanager configuration.
fn route(labels: &[String]) -> Vec<String> {
    let mut args = vec![
        "config",
        "routes",
        "test",
        "--config.file=examples/alertmanager.yml",
    ];
    args.extend(labels.iter().map(String::as_str));
    let (ok, out, err) = run("amtool", &args);
    assert!(
        ok,
        "amtool config routes test {labels:?} failed:\n{out}{err}"
    );
    out.trim()
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn info_alerts_never_page_and_severities_reach_their_receivers() {
    let am = yaml("examples/alertmanager.yml");
    let silent: BTreeSet<String> = am["receivers"]
        .as_sequence()
        .expect("receivers")
        .iter()
        .filter(|r| {
            r.as_mapping()
                .is_some_and(|m| m.keys().all(|k| k.as_str() == Some("name")))
        })
        .filter_map(|r| r["name"].as_str().map(str::to_string))
        .collect();
    assert!(
        silent.contains("null"),
        "examples/alertmanager.yml needs a receiver named null without any configs"
    );
    for r in alerts() {
        let name = r.alert.clone().unwrap_or_default();
        let mut labels = vec![format!("alertname={name}")];
        labels.extend(r.labels.iter().map(|(k, v)| format!("{k}={v}")));
        labels.extend([
            "instance=a:12541".to_string(),
            "node=primary".to_string(),
            format!("job={JOB}"),
        ]);
        let receivers = route(&labels);
        match r.labels["severity"].as_str() {
            "critical" => assert_eq!(receivers, vec!["pager"], "{name} (critical) must page"),
            "warning" => assert_eq!(receivers, vec!["chat"], "{name} (warning) must go to chat"),
            _ if name == "Watchdog" => assert_eq!(
                receivers,
                vec!["deadmansswitch"],
                "Watchdog goes to the dead-man's switch only"
            ),
            _ => {
                assert!(
                    receivers.iter().all(|x| silent.contains(x)),
                    "{name} (info) reaches {receivers:?}; info must never notify"
                );
                assert!(!receivers.iter().any(|x| x == "pager"));
            }
        }
    }
}

#[test]
fn runbook_links_resolve_and_thresholds_cover_every_alert() {
    let md = read("docs/runbook.md");
    let anchors = support::markdown::anchors(&md);
    let mut rest = md.as_str();
    let mut links = 0;
    while let Some(pos) = rest.find("](#") {
        let after = &rest[pos + 3..];
        let end = after.find(')').expect("link closes");
        assert!(
            anchors.contains(&after[..end]),
            "docs/runbook.md links to #{} which is no heading",
            &after[..end]
        );
        links += 1;
        rest = &after[end..];
    }
    assert!(links > 10, "the runbook's cross references were not found");
    let thresholds = md
        .split("\n# Thresholds")
        .nth(1)
        .expect("docs/runbook.md has a '# Thresholds' section");
    for r in alerts() {
        let name = r.alert.unwrap_or_default();
        assert!(
            thresholds.contains(&format!("| {name} |")),
            "the Thresholds table has no row for {name}"
        );
    }
    for procedure in [
        "stop_election",
        "stop_voting",
        "start_voting",
        "secure_storage.json.save",
        "voting_status",
        "LimitNOFILE=65536",
    ] {
        assert!(
            md.contains(procedure),
            "the runbook does not explain {procedure}"
        );
    }
}

/// The prefix every `runbook_url` starts with: the base from the external label `runbook_base_url`, else the
/// copy the Debian package installs; the anchor after `#` is the alert name in lower case.
const RUNBOOK_BASE: &str = "{{ with $externalLabels.runbook_base_url }}{{ . }}{{ else }}file:///usr/share/conflux-pos-exporter/docs/runbook.md{{ end }}#";
