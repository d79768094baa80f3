//! The chat receiver examples (`examples/alertmanager-{telegram,discord,wechat,dingtalk,feishu}.yml`) and their
//! message templates (`examples/conflux-pos.tmpl`).
//!
//! Each example passes `amtool check-config` (which also parses the templates) and keeps the routing, grouping and
//! inhibition of `examples/alertmanager.yml` to the letter. Then each is run by a real Alertmanager whose service
//! URLs (`api_url`, `webhook_url`, the bridges' addresses) point at a loopback sink that answers like the service:
//! Alertmanager renders the templates and sends the very request the service would get. Alerts are injected with
//! `amtool alert add`, carrying the labels and annotations the promtool tests expect the rules to produce (so the
//! messages are checked against what the rules really send), plus the test notification command of
//! `docs/runbook.md` as written there. Every message must carry the summary, the node (node alerts), the PoS
//! address (key alerts), the ETA of ConfluxPosForceRetireImminent and the runbook link. DingTalk's bridge is not
//! run: its configured templates are rendered by `amtool template render` on the very JSON Alertmanager posted to
//! it (the bridge executes the same Go templates on the same data).

use conflux_test_support as support;

use support::alertmanager::Alertmanager;
use support::chatsink::{ChatSink, Received};
use support::repo::*;
use support::rules::expected_alert;
use support::shipped::scale_durations;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_norway::Value;

type Labels = BTreeMap<String, String>;

const APPS: [&str; 5] = ["telegram", "discord", "wechat", "dingtalk", "feishu"];
const TEMPLATES: &str = "examples/conflux-pos.tmpl";
const BRIDGE: &str = "examples/prometheus-webhook-dingtalk.yml";
const T: Duration = Duration::from_secs(30);

fn example(app: &str) -> String {
    format!("examples/alertmanager-{app}.yml")
}

#[test]
fn every_receiver_example_passes_amtool_and_keeps_the_shipped_routing() {
    let base = yaml("examples/alertmanager.yml");
    let listed: BTreeSet<String> = std::fs::read_dir(repo("examples"))
        .expect("examples/")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("alertmanager-") && n.ends_with(".yml"))
        .collect();
    let tested: BTreeSet<String> = APPS
        .iter()
        .map(|a| format!("alertmanager-{a}.yml"))
        .collect();
    assert_eq!(listed, tested, "every receiver example is tested here");
    for app in APPS {
        let file = example(app);
        let (ok, out, err) = run("amtool", &["check-config", &file]);
        assert!(ok && !out.contains("FAILED"), "{file}:\n{out}{err}");
        let doc = yaml(&file);
        for key in ["global", "route", "inhibit_rules"] {
            assert_eq!(
                doc[key], base[key],
                "{file}: {key} differs from the shipped one"
            );
        }
        let names: Vec<&str> = doc["receivers"]
            .as_sequence()
            .expect("receivers")
            .iter()
            .filter_map(|r| r["name"].as_str())
            .collect();
        assert_eq!(names, ["pager", "chat", "deadmansswitch", "null"], "{file}");
        assert_eq!(
            doc["receivers"][2], base["receivers"][2],
            "{file}: heartbeat"
        );
        assert_eq!(doc["receivers"][3], base["receivers"][3], "{file}: null");
        // A template glob matching nothing passes amtool but fails every notification: the file must be there.
        for t in doc["templates"].as_sequence().into_iter().flatten() {
            let rel = format!("examples/{}", t.as_str().unwrap_or_default());
            assert_eq!(rel, TEMPLATES, "{file}: templates");
            assert!(repo(&rel).is_file(), "{file}: {rel} missing");
        }
    }
}

#[test]
fn the_dingtalk_bridge_serves_every_target_alertmanager_posts_to_with_defined_templates() {
    let bridge = yaml(BRIDGE);
    let tmpl = read(TEMPLATES);
    let files: Vec<&str> = bridge["templates"]
        .as_sequence()
        .expect("templates")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        files.iter().all(|f| f.ends_with("/conflux-pos.tmpl")),
        "{files:?}"
    );
    let targets = bridge["targets"].as_mapping().expect("targets");
    let am = yaml(&example("dingtalk"));
    for r in am["receivers"]
        .as_sequence()
        .expect("receivers")
        .iter()
        .take(2)
    {
        let url = r["webhook_configs"][0]["url"].as_str().expect("url");
        let path = url::Url::parse(url).expect("url").path().to_string();
        let name = path
            .strip_prefix("/dingtalk/")
            .and_then(|p| p.strip_suffix("/send"))
            .unwrap_or_else(|| panic!("{url} is not /dingtalk/<target>/send"));
        let target = &bridge["targets"][name];
        assert!(target["url"].is_string(), "bridge target {name} missing");
        for part in ["title", "text"] {
            let text = target["message"][part].as_str().expect("message");
            let used = text
                .split("template \"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .expect("a named template");
            assert!(
                tmpl.contains(&format!("define \"{used}\"")),
                "{BRIDGE}: {name}.{part} uses {used}, which {TEMPLATES} does not define"
            );
        }
    }
    assert_eq!(targets.len(), 2, "pager and chat");
}

/// The two rule alerts every receiver is tried with: a key alert with an ETA and a node alert.
fn rule_alerts() -> Vec<(Labels, Labels, Option<&'static str>)> {
    let (l, a) = expected_alert("ConfluxPosForceRetireImminent", "29m 0s");
    let (nl, na) = expected_alert("ConfluxNodeDown", "was in the PoS committee");
    vec![(l, a, Some("29m 0s")), (nl, na, None)]
}

/// Sends an alert through `amtool alert add`.
fn add_alert(am: &Alertmanager, labels: &Labels, annotations: &Labels) {
    let mut args = vec![
        format!("--alertmanager.url={}", am.url),
        "alert".into(),
        "add".into(),
    ];
    args.extend(labels.iter().map(|(k, v)| format!("{k}={v}")));
    args.extend(
        annotations
            .iter()
            .map(|(k, v)| format!("--annotation={k}={v}")),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, out, err) = run("amtool", &args);
    assert!(ok, "amtool alert add: {out}{err}");
}

/// The test notification command of docs/runbook.md, run as written against `am`; returns what it claims to send.
fn send_documented_test(am: &Alertmanager) -> (Labels, Labels) {
    let doc = read("docs/runbook.md");
    let line = doc
        .lines()
        .find(|l| l.starts_with("amtool --alertmanager.url=http://localhost:9093 alert add "))
        .expect("docs/runbook.md shows an amtool alert add command");
    let cmd = line.replace("http://localhost:9093", &am.url);
    let out = std::process::Command::new("sh")
        .args(["-c", &cmd])
        .current_dir(repo("."))
        .output()
        .expect("sh runs");
    assert!(out.status.success(), "{cmd}: {out:?}");
    let word = |w: &str| {
        line.split(w)
            .nth(1)
            .and_then(|s| s.split([' ', '\'']).next())
    };
    let labels: Labels = ["alertname", "severity", "node", "pos_address"]
        .iter()
        .map(|k| (k.to_string(), word(&format!(" {k}=")).expect(k).to_string()))
        .collect();
    let summary = line
        .split("summary='")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .expect("summary");
    let runbook = word("runbook_url=").expect("runbook_url");
    let annotations = [("summary", summary), ("runbook_url", runbook)]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (labels, annotations)
}

/// `app`'s example with its services pointed at `sink`, the shipped template file by absolute path, and the
/// notification timers divided by 60.
fn config_for(app: &str, sink: &str) -> String {
    let mut text = read(&example(app));
    for key in ["group_wait", "group_interval", "repeat_interval"] {
        text = scale_durations(&text, key, 60).expect("durations").0;
    }
    let mut doc: Value = serde_norway::from_str(&text).expect("yaml");
    if doc["templates"].is_sequence() {
        doc["templates"] = Value::Sequence(vec![repo(TEMPLATES).display().to_string().into()]);
    }
    let to_sink = |url: &str, path: &str| {
        let u = url::Url::parse(url).expect("url");
        let query = u.query().map(|q| format!("?{q}")).unwrap_or_default();
        format!("{sink}{path}{}{query}", u.path())
    };
    for r in doc["receivers"]
        .as_sequence_mut()
        .expect("receivers")
        .iter_mut()
        .take(2)
    {
        for c in r["telegram_configs"]
            .as_sequence_mut()
            .into_iter()
            .flatten()
        {
            c["api_url"] = format!("{sink}/telegram").into();
        }
        for c in r["discord_configs"].as_sequence_mut().into_iter().flatten() {
            let url = c["webhook_url"].as_str().expect("webhook_url").to_string();
            c["webhook_url"] = to_sink(&url, "/discord").into();
        }
        for c in r["wechat_configs"].as_sequence_mut().into_iter().flatten() {
            c["api_url"] = format!("{sink}/wechat/").into();
        }
        for c in r["webhook_configs"].as_sequence_mut().into_iter().flatten() {
            let url = c["url"].as_str().expect("url").to_string();
            c["url"] = to_sink(&url, "").into();
        }
    }
    serde_norway::to_string(&doc).expect("yaml")
}

/// The message text of a request to `app`'s service, if it is a message.
fn message(app: &str, r: &Received) -> Option<String> {
    let j = r.json();
    let text = match app {
        "telegram" if r.target.ends_with("/sendMessage") => j["text"].as_str()?.to_string(),
        "discord" => format!(
            "{}\n{}",
            j["embeds"][0]["title"].as_str()?,
            j["embeds"][0]["description"].as_str()?
        ),
        "wechat" if r.target.contains("/message/send") => {
            j["text"]["content"].as_str()?.to_string()
        }
        _ => return None,
    };
    Some(text)
}

/// Go's `html` template function, for comparing with Telegram's HTML messages.
fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('\'', "&#39;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
}

/// Fails unless `msg` carries the alert's summary, node, exporter, PoS address, ETA and runbook link.
fn assert_carries(app: &str, msg: &str, labels: &Labels, annotations: &Labels, eta: Option<&str>) {
    let esc = |s: &str| {
        if app == "telegram" {
            html(s)
        } else {
            s.to_string()
        }
    };
    let mut want: Vec<String> = vec![esc(&labels["alertname"])];
    want.extend(["summary", "runbook_url"].map(|k| esc(&annotations[k])));
    for k in ["node", "instance", "pos_address"] {
        if let Some(v) = labels.get(k) {
            want.push(esc(v));
        }
    }
    want.extend(eta.map(String::from));
    for w in want {
        assert!(msg.contains(&w), "{app}: the message lacks {w:?}:\n{msg}");
    }
}

#[tokio::test]
async fn native_receivers_deliver_the_summary_node_pos_address_eta_and_runbook() {
    for app in ["telegram", "discord", "wechat"] {
        let sink = ChatSink::start().await;
        let am = Alertmanager::start(&config_for(app, &sink.base)).await;
        let mut alerts = rule_alerts();
        for (labels, annotations, _) in &alerts {
            add_alert(&am, labels, annotations);
        }
        let (labels, annotations) = send_documented_test(&am);
        alerts.push((labels, annotations, None));
        for (labels, annotations, eta) in &alerts {
            let name = &labels["alertname"];
            let r = sink
                .wait_for(&format!("{app} {name}"), T, |r| {
                    message(app, r).is_some_and(|m| m.contains(name.as_str()))
                })
                .await;
            let msg = message(app, &r).unwrap_or_default();
            assert_carries(app, &msg, labels, annotations, *eta);
        }
        let hosts: BTreeSet<String> = sink.received().iter().map(|r| r.target.clone()).collect();
        eprintln!("{app}: {} requests to {hosts:?}", sink.received().len());
    }
}

#[tokio::test]
async fn bridges_get_every_alert_and_the_dingtalk_templates_render_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (app, path) in [
        ("dingtalk", "/dingtalk/pager/send"),
        ("feishu", "/prometheusalert"),
    ] {
        let sink = ChatSink::start().await;
        let am = Alertmanager::start(&config_for(app, &sink.base)).await;
        for (labels, annotations, eta) in rule_alerts() {
            add_alert(&am, &labels, &annotations);
            let name = labels["alertname"].clone();
            let r = sink
                .wait_for(&format!("{app} {name}"), T, |r| {
                    r.target.starts_with(path)
                        && r.json()["alerts"][0]["labels"]["alertname"] == name.as_str()
                })
                .await;
            if app == "feishu" {
                assert!(r.target.contains("type=fs"), "{}", r.target);
                let a = &r.json()["alerts"][0];
                for (k, v) in &annotations {
                    assert_eq!(a["annotations"][k], v.as_str(), "feishu: {k}");
                }
                continue;
            }
            let data = tmp.path().join(format!("{name}.json"));
            std::fs::write(&data, &r.body).expect("write");
            let bridge = yaml(BRIDGE);
            let mut rendered = String::new();
            for part in ["title", "text"] {
                let text = bridge["targets"]["pager"]["message"][part]
                    .as_str()
                    .expect("message");
                let (ok, out, err) = run(
                    "amtool",
                    &[
                        "template",
                        "render",
                        &format!("--template.glob={TEMPLATES}"),
                        &format!("--template.text={text}"),
                        &format!("--template.data={}", data.display()),
                    ],
                );
                assert!(ok, "amtool template render {text}: {out}{err}");
                rendered.push_str(&out);
            }
            assert_carries(app, &rendered, &labels, &annotations, eta);
        }
    }
}
