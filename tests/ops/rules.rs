//! The alert rules are a tested artifact: `promtool check rules` accepts the file, every promtool unit test in
//! `alerts/tests/` passes, every alert has both a firing case and a near miss that must not fire, and the example
//! Prometheus configuration (which loads the rules by relative path) is valid.

use conflux_test_support as support;

use support::repo::*;
use support::rules::*;

use std::collections::{BTreeMap, BTreeSet};

fn test_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(repo("alerts/tests"))
        .expect("alerts/tests exists")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .map(|p| {
            format!(
                "alerts/tests/{}",
                p.file_name().and_then(|n| n.to_str()).unwrap_or_default()
            )
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no promtool test files in alerts/tests");
    files
}

#[test]
fn promtool_accepts_the_rule_file() {
    let (ok, out, err) = run(
        "promtool",
        &["check", "rules", "alerts/conflux-pos.rules.yml"],
    );
    assert!(ok, "promtool check rules failed:\n{out}{err}");
    let n = rules().len();
    assert!(
        out.contains(&format!("SUCCESS: {n} rules found")),
        "promtool saw a different rule count than {n}:\n{out}"
    );
}

#[test]
fn promtool_unit_tests_pass() {
    let files = test_files();
    let mut args = vec!["test", "rules"];
    args.extend(files.iter().map(String::as_str));
    let (ok, out, err) = run("promtool", &args);
    assert!(ok, "promtool test rules failed:\n{out}{err}");
    assert_eq!(
        out.matches("SUCCESS").count(),
        files.len(),
        "not every test file succeeded:\n{out}{err}"
    );
}

#[test]
fn every_alert_has_a_firing_case_and_a_near_miss() {
    // alert name -> (has a case where it fires, has a case where it must not fire)
    let mut seen: BTreeMap<String, (bool, bool)> = BTreeMap::new();
    for file in test_files() {
        let doc = yaml(&file);
        let rule_files: Vec<&str> = doc["rule_files"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
            .collect();
        assert_eq!(
            rule_files,
            vec!["../conflux-pos.rules.yml"],
            "{file} must test the shipped rule file"
        );
        for t in doc["tests"].as_sequence().expect("tests") {
            for case in t["alert_rule_test"].as_sequence().into_iter().flatten() {
                let name = case["alertname"].as_str().expect("alertname").to_string();
                let fires = case["exp_alerts"]
                    .as_sequence()
                    .is_some_and(|a| !a.is_empty());
                let entry = seen.entry(name).or_default();
                if fires {
                    entry.0 = true;
                } else {
                    entry.1 = true;
                }
            }
        }
    }
    let alerts: BTreeSet<String> = rules().into_iter().filter_map(|r| r.alert).collect();
    let mut problems = Vec::new();
    for a in &alerts {
        match seen.get(a) {
            None => problems.push(format!("{a}: no test")),
            Some((false, _)) => problems.push(format!("{a}: no case where it fires")),
            // Watchdog always fires by design: it has no near miss.
            Some((_, false)) if a != "Watchdog" => {
                problems.push(format!("{a}: no near miss (a case with exp_alerts: [])"))
            }
            _ => {}
        }
    }
    for a in seen.keys().filter(|a| !alerts.contains(*a)) {
        problems.push(format!("{a}: tested but not defined in the rule file"));
    }
    assert!(
        problems.is_empty(),
        "alert test coverage:\n{}",
        problems.join("\n")
    );
}

#[test]
fn example_prometheus_config_is_valid_and_loads_the_rules() {
    let (ok, out, err) = run("promtool", &["check", "config", "examples/prometheus.yml"]);
    assert!(ok, "promtool check config failed:\n{out}{err}");
    assert!(
        out.contains("alerts/conflux-pos.rules.yml"),
        "the example config does not load the rule file:\n{out}"
    );
    let doc = yaml("examples/prometheus.yml");
    let rule_files: Vec<&str> = doc["rule_files"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(rule_files, vec!["../alerts/conflux-pos.rules.yml"]);
    let scrape = &doc["scrape_configs"][0];
    assert_eq!(
        scrape["job_name"].as_str(),
        Some(JOB),
        "the example job name is the one ConfluxExporterDown selects"
    );
    assert_eq!(
        scrape["static_configs"][0]["targets"][0].as_str(),
        Some("localhost:12541")
    );
    assert_eq!(
        doc["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"][0].as_str(),
        Some("localhost:9093")
    );
}
