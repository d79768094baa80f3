//! The HA examples as files: `examples/prometheus-ha.yml` passes `promtool check config`, loads the same rules and
//! scrape job as `examples/prometheus.yml`, and its `alert_relabel_configs` removes the `replica` label and nothing
//! else (promtool cannot evaluate relabelling, so the rules' regex is applied here with Prometheus' anchoring);
//! the Alertmanager cluster flags of `examples/alertmanager-cluster.default` are flags Alertmanager knows, with a
//! peer timeout below every route's `group_interval`. `tests/e2e_ha.rs` runs both for real.

use conflux_test_support as support;

use support::repo::*;
use support::shipped::parse_duration;
use support::tools::find_tool;

use std::process::Command;

const HA: &str = "examples/prometheus-ha.yml";
const CLUSTER: &str = "examples/alertmanager-cluster.default";

#[test]
fn promtool_accepts_the_ha_example_with_the_shipped_rules_and_job() {
    let (ok, out, err) = run("promtool", &["check", "config", HA]);
    assert!(ok, "promtool check config {HA} failed:\n{out}{err}");
    assert!(out.contains(" rules found"), "{out}");
    let ha = yaml(HA);
    let single = yaml("examples/prometheus.yml");
    assert_eq!(ha["rule_files"], single["rule_files"]);
    assert_eq!(ha["scrape_configs"][0]["job_name"], JOB);
    let targets = |v: &serde_norway::Value| {
        v.as_sequence()
            .map_or(0, |s| s.iter().filter(|t| t.is_string()).count())
    };
    let exporters = &ha["scrape_configs"][0]["static_configs"][0]["targets"];
    assert_eq!(
        targets(exporters),
        2,
        "both exporters (primary and standby)"
    );
    let ams = &ha["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"];
    assert!(targets(ams) >= 2, "every Alertmanager of the cluster");
}

#[test]
fn only_the_replica_label_is_dropped_from_alerts() {
    let ha = yaml(HA);
    let labels: Vec<String> = ha["global"]["external_labels"]
        .as_mapping()
        .expect("external_labels")
        .keys()
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect();
    assert!(labels.iter().any(|l| l == "replica"), "{labels:?}");
    let rules = ha["alerting"]["alert_relabel_configs"]
        .as_sequence()
        .expect("alert_relabel_configs");
    let dropped = |label: &str| {
        rules.iter().any(|r| {
            r["action"].as_str() == Some("labeldrop")
                && r["regex"]
                    .as_str()
                    .is_some_and(|re| anchored_match(re, label))
        })
    };
    assert!(dropped("replica"));
    // What must survive: every label the rules put on alerts, and the runbook base the annotations use.
    for label in [
        "alertname",
        "severity",
        "pos_address",
        "node",
        "instance",
        "job",
        "path",
        "runbook_base_url",
    ] {
        assert!(!dropped(label), "{label} would be dropped from the alerts");
    }
}

/// Prometheus anchors relabelling regexes (`^(?:re)$`); the shipped ones are plain alternations of names.
fn anchored_match(re: &str, label: &str) -> bool {
    re.split('|').any(|alt| alt == label)
}

#[test]
fn the_cluster_flags_are_alertmanager_flags_and_the_peer_timeout_fits_the_routes() {
    let text = read(CLUSTER);
    let args = text
        .split("ARGS=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("ARGS=\"...\"")
        .replace("\\\n", " ");
    let flags: Vec<&str> = args.split_whitespace().collect();
    for needed in [
        "--cluster.listen-address=",
        "--cluster.advertise-address=",
        "--cluster.peer=",
        "--cluster.peer-timeout=",
    ] {
        assert!(
            flags.iter().any(|f| f.starts_with(needed)),
            "{CLUSTER} lacks {needed}"
        );
    }
    // Alertmanager's flag parser rejects an unknown flag even next to --help.
    let bin = find_tool(
        &["prometheus-alertmanager", "alertmanager"],
        "prometheus-alertmanager",
    );
    let out = Command::new(bin)
        .arg("--help")
        .args(&flags)
        .output()
        .expect("alertmanager runs");
    assert!(
        out.status.success(),
        "alertmanager refuses {flags:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let timeout = flags
        .iter()
        .find_map(|f| f.strip_prefix("--cluster.peer-timeout="))
        .map(|d| parse_duration(d).expect("peer timeout"))
        .expect("peer timeout");
    let am = yaml("examples/alertmanager.yml");
    let mut intervals = vec![&am["route"]["group_interval"]];
    intervals.extend(
        am["route"]["routes"]
            .as_sequence()
            .into_iter()
            .flatten()
            .map(|r| &r["group_interval"]),
    );
    for i in intervals.into_iter().filter_map(|v| v.as_str()) {
        assert!(
            timeout < parse_duration(i).expect("group_interval"),
            "peer timeout {timeout:?} must stay below group_interval {i}"
        );
    }
}
