//! `examples/alertmanager.yml`: `amtool check-config` accepts it, and its inhibition rules do what the runbook
//! says. promtool cannot evaluate inhibition, so the matchers are evaluated by Alertmanager's own code: every
//! inhibit rule's source and target matchers become routes of a scratch configuration, and `amtool config routes
//! test` says which of them each alert matches. The alerts' label sets are the ones the promtool unit tests
//! expect (`alerts/tests/*.yml`), i.e. what the rules really produce.

use conflux_test_support as support;

use support::repo::*;

use std::collections::{BTreeMap, BTreeSet};

type Labels = BTreeMap<String, String>;

#[test]
fn amtool_accepts_the_example_config() {
    let (ok, out, err) = run("amtool", &["check-config", "examples/alertmanager.yml"]);
    assert!(ok, "amtool check-config failed:\n{out}{err}");
    assert!(out.contains("SUCCESS"), "{out}");
}

/// Every distinct label set (alertname included) the promtool tests expect an alert to carry.
fn alert_label_sets() -> Vec<Labels> {
    let mut out: BTreeSet<Labels> = BTreeSet::new();
    let dir = std::fs::read_dir(repo("alerts/tests")).expect("alerts/tests");
    for entry in dir.filter_map(|e| e.ok()) {
        let rel = format!("alerts/tests/{}", entry.file_name().to_string_lossy());
        let doc = yaml(&rel);
        for t in doc["tests"].as_sequence().into_iter().flatten() {
            for case in t["alert_rule_test"].as_sequence().into_iter().flatten() {
                let name = case["alertname"].as_str().unwrap_or_default();
                for a in case["exp_alerts"].as_sequence().into_iter().flatten() {
                    let mut labels: Labels = a["exp_labels"]
                        .as_mapping()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| {
                            (
                                k.as_str().unwrap_or_default().to_string(),
                                v.as_str().unwrap_or_default().to_string(),
                            )
                        })
                        .collect();
                    labels.insert("alertname".into(), name.into());
                    out.insert(labels);
                }
            }
        }
    }
    out.into_iter().collect()
}

/// One inhibit rule of the example config.
struct Inhibit {
    source: Vec<String>,
    target: Vec<String>,
    equal: Vec<String>,
}

fn inhibit_rules() -> Vec<Inhibit> {
    let am = yaml("examples/alertmanager.yml");
    let strings = |v: &serde_norway::Value| -> Vec<String> {
        v.as_sequence()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    am["inhibit_rules"]
        .as_sequence()
        .expect("inhibit_rules")
        .iter()
        .map(|r| Inhibit {
            source: strings(&r["source_matchers"]),
            target: strings(&r["target_matchers"]),
            equal: strings(&r["equal"]),
        })
        .collect()
}

/// For each label set, which inhibit rules' source (`s<i>`) and target (`t<i>`) matchers it matches, evaluated by
/// amtool on a scratch routing tree.
fn matches(rules: &[Inhibit], alerts: &[Labels]) -> Vec<BTreeSet<String>> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("am.yml");
    let mut text = String::from("route:\n  receiver: none\n  routes:\n");
    let mut receivers = String::from("receivers:\n  - name: none\n");
    for (i, r) in rules.iter().enumerate() {
        for (kind, m) in [("s", &r.source), ("t", &r.target)] {
            let matchers = serde_json::to_string(m).expect("json");
            text.push_str(&format!(
                "    - receiver: {kind}{i}\n      continue: true\n      matchers: {matchers}\n"
            ));
            receivers.push_str(&format!("  - name: {kind}{i}\n"));
        }
    }
    std::fs::write(&path, format!("{text}{receivers}")).expect("write");
    let (ok, out, err) = run(
        "amtool",
        &["check-config", path.to_str().unwrap_or_default()],
    );
    assert!(ok, "scratch config rejected:\n{out}{err}");
    alerts
        .iter()
        .map(|labels| {
            let mut args = vec![
                "config".to_string(),
                "routes".into(),
                "test".into(),
                format!("--config.file={}", path.display()),
            ];
            args.extend(labels.iter().map(|(k, v)| format!("{k}={v}")));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (ok, out, err) = run("amtool", &args);
            assert!(ok, "amtool routes test {labels:?}:\n{out}{err}");
            out.trim()
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty() && s != "none")
                .collect()
        })
        .collect()
}

/// Alertmanager's rule: `target` is muted when a different firing alert matches the source matchers, the target
/// matches the target matchers and both have equal values (missing = empty) for every `equal` label.
fn inhibited_by(
    rule: usize,
    rules: &[Inhibit],
    source: (&Labels, &BTreeSet<String>),
    target: (&Labels, &BTreeSet<String>),
) -> bool {
    source.0 != target.0
        && source.1.contains(&format!("s{rule}"))
        && target.1.contains(&format!("t{rule}"))
        && rules[rule]
            .equal
            .iter()
            .all(|l| source.0.get(l) == target.0.get(l))
}

fn name(l: &Labels) -> &str {
    l.get("alertname").map(String::as_str).unwrap_or_default()
}

#[test]
fn reference_down_mutes_lag_alerts_of_the_same_exporter_only() {
    let rules = inhibit_rules();
    let alerts = alert_label_sets();
    let m = matches(&rules, &alerts);
    let idx = |n: &str| {
        alerts
            .iter()
            .position(|l| name(l) == n)
            .unwrap_or_else(|| panic!("no tested label set for {n}"))
    };
    let reference = idx("ConfluxReferenceUnavailable");
    let rule = (0..rules.len())
        .find(|&i| m[reference].contains(&format!("s{i}")))
        .expect("an inhibit rule has ConfluxReferenceUnavailable as its source");
    assert_eq!(
        rules[rule].equal,
        vec!["instance"],
        "the reference is per exporter: equal must be [instance]"
    );

    let lag_names = [
        "ConfluxEpochLagHigh",
        "ConfluxPosBlockLagHigh",
        "ConfluxForkSuspected",
    ];
    let mut muted = BTreeSet::new();
    for (i, l) in alerts.iter().enumerate() {
        // The same exporter as the reference alert: what the lag alerts of that exporter look like.
        let mut same = l.clone();
        if let Some(inst) = alerts[reference].get("instance") {
            same.insert("instance".into(), inst.clone());
        }
        let is_lag = lag_names.contains(&name(l));
        let hit = inhibited_by(
            rule,
            &rules,
            (&alerts[reference], &m[reference]),
            (&same, &m[i]),
        );
        assert_eq!(
            hit, is_lag,
            "{l:?}: muted by a reference outage = {hit}, expected {is_lag}"
        );
        if hit {
            muted.insert(format!("{}/{}", name(l), l["severity"]));
            // Another exporter's lag alerts stay audible.
            let mut other = same.clone();
            other.insert("instance".into(), "elsewhere:12541".into());
            assert!(
                !inhibited_by(
                    rule,
                    &rules,
                    (&alerts[reference], &m[reference]),
                    (&other, &m[i])
                ),
                "{l:?} muted across exporters"
            );
        }
    }
    let want: BTreeSet<String> = [
        "ConfluxEpochLagHigh/warning",
        "ConfluxEpochLagHigh/critical",
        "ConfluxPosBlockLagHigh/warning",
        "ConfluxForkSuspected/critical",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(muted, want);
}

#[test]
fn no_inhibition_can_mute_the_stake_protecting_alerts_and_warnings_never_mute_criticals() {
    let rules = inhibit_rules();
    let alerts = alert_label_sets();
    let m = matches(&rules, &alerts);
    let protected = [
        "ConfluxPosForceRetireImminent",
        "ConfluxPosForceRetired",
        "ConfluxPosMultipleActiveVoters",
        "ConfluxPosDoubleSigning",
        "ConfluxPosSlashed",
        "ConfluxPosFailoverInconsistent",
        "ConfluxPosKeyMismatch",
        "ConfluxNodeDown",
        "Watchdog",
    ];
    let rank = |l: &Labels| match l.get("severity").map(String::as_str) {
        Some("critical") => 2,
        Some("warning") => 1,
        _ => 0,
    };
    for (t, target) in alerts.iter().enumerate() {
        for (s, source) in alerts.iter().enumerate() {
            // Put both on the same exporter and node, the worst case for `equal`.
            let mut tgt = target.clone();
            for k in ["instance", "node", "job"] {
                match source.get(k) {
                    Some(v) => tgt.insert(k.to_string(), v.clone()),
                    None => tgt.remove(k),
                };
            }
            for rule in 0..rules.len() {
                if !inhibited_by(rule, &rules, (source, &m[s]), (&tgt, &m[t])) {
                    continue;
                }
                // The only muting allowed for them: their own critical variant mutes their warning variant.
                let own_critical = name(source) == name(target) && rank(source) > rank(target);
                assert!(
                    !protected.contains(&name(target)) || own_critical,
                    "{} can be muted by {}",
                    name(target),
                    name(source)
                );
                let reference_pair = name(source) == "ConfluxReferenceUnavailable";
                assert!(
                    rank(source) >= rank(target) || reference_pair,
                    "{} ({:?}) mutes the more severe {} ({:?})",
                    name(source),
                    source.get("severity"),
                    name(target),
                    target.get("severity")
                );
            }
        }
    }
}

#[test]
fn critical_mutes_its_own_warning_and_node_down_mutes_its_symptoms() {
    let rules = inhibit_rules();
    let alerts = alert_label_sets();
    let m = matches(&rules, &alerts);
    let find = |n: &str, sev: &str| {
        alerts
            .iter()
            .position(|l| name(l) == n && l["severity"] == sev)
            .unwrap_or_else(|| panic!("no {n}/{sev}"))
    };
    let any_rule = |s: usize, t: &Labels, ti: usize| {
        (0..rules.len()).any(|r| inhibited_by(r, &rules, (&alerts[s], &m[s]), (t, &m[ti])))
    };
    let same_place = |s: usize, t: usize| {
        let mut l = alerts[t].clone();
        for k in ["instance", "node", "job", "path"] {
            if let Some(v) = alerts[s].get(k) {
                l.insert(k.into(), v.clone());
            }
        }
        l
    };
    for n in [
        "ConfluxEpochLagHigh",
        "ConfluxDiskSpaceLow",
        "ConfluxOpenFilesHigh",
    ] {
        let (c, w) = (find(n, "critical"), find(n, "warning"));
        assert!(
            any_rule(c, &same_place(c, w), w),
            "{n}: critical must mute the warning"
        );
        assert!(
            !any_rule(w, &same_place(w, c), c),
            "{n}: warning must not mute the critical"
        );
        let mut other_node = same_place(c, w);
        other_node.insert("node".into(), "another".into());
        assert!(
            !any_rule(c, &other_node, w),
            "{n}: a critical on another node must not mute this warning"
        );
    }
    let down = find("ConfluxNodeDown", "critical");
    for n in [
        "ConfluxBlockStale",
        "ConfluxNodeCatchingUp",
        "ConfluxPosNotStarted",
        "ConfluxPosUnavailable",
    ] {
        let t = alerts.iter().position(|l| name(l) == n).expect("tested");
        assert!(
            any_rule(down, &same_place(down, t), t),
            "ConfluxNodeDown must mute {n} of the same node"
        );
    }
}

#[test]
fn routing_tree_repeats_and_groups_sensibly() {
    let am = yaml("examples/alertmanager.yml");
    let route = &am["route"];
    let group_by: Vec<&str> = route["group_by"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .collect();
    for l in ["alertname", "instance", "node"] {
        assert!(group_by.contains(&l), "group_by must contain {l}");
    }
    let secs = |s: &str| -> u64 {
        let (n, unit) = s.split_at(s.len() - 1);
        n.parse::<u64>().expect("number")
            * match unit {
                "s" => 1,
                "m" => 60,
                "h" => 3600,
                _ => panic!("unit of {s}"),
            }
    };
    for r in route["routes"].as_sequence().expect("routes") {
        let receiver = r["receiver"].as_str().unwrap_or_default();
        let repeat = r["repeat_interval"]
            .as_str()
            .or(route["repeat_interval"].as_str())
            .expect("repeat_interval");
        match receiver {
            "pager" => assert!(
                secs(repeat) <= 3600,
                "critical alerts must be repeated at least hourly"
            ),
            "deadmansswitch" => assert!(
                secs(repeat) <= 300,
                "the heartbeat must repeat within minutes"
            ),
            _ => assert!(secs(repeat) <= 24 * 3600),
        }
    }
    // Placeholder webhooks only: no real endpoint or secret is shipped.
    for r in am["receivers"].as_sequence().expect("receivers") {
        for w in r["webhook_configs"].as_sequence().into_iter().flatten() {
            let url = w["url"].as_str().unwrap_or_default();
            assert!(
                url.starts_with("http://127.0.0.1:"),
                "{url} is not a placeholder"
            );
        }
    }
}
