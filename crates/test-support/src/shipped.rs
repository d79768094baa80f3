//! The shipped operator files, loaded the way the end-to-end tests are allowed to load them.
//!
//! The tests prove that the files an operator installs work, so they read them from the repository and change
//! only what cannot be waited for in a test:
//! - the rule file: every `for:` is divided by [`FOR_DIVISOR`] (`for: 2m` becomes `for: 1000ms`); expressions,
//!   thresholds, labels and annotations are untouched (checked by [`changed_lines_only`]);
//! - the Alertmanager example: the webhook URLs point at the test's receiver (same paths), and every
//!   `group_wait`, `group_interval` and `repeat_interval` is divided by [`TIMER_DIVISOR`] (`group_wait: 30s`
//!   becomes `500ms`); routes, matchers, receivers and inhibitions are untouched.
//!
//! The Prometheus configuration is the test's own (loopback targets, short intervals), but it uses the job name
//! of `examples/prometheus.yml`, which `ConfluxExporterDown` depends on.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::repo;

/// The shipped alerting and recording rules.
pub const RULES: &str = "alerts/conflux-pos.rules.yml";
/// The shipped Alertmanager example.
pub const ALERTMANAGER: &str = "examples/alertmanager.yml";
/// The shipped Prometheus example.
pub const PROMETHEUS: &str = "examples/prometheus.yml";

/// Every rule's `for:` is divided by this: 2 minutes become 1 second, 15 minutes 7.5 seconds.
pub const FOR_DIVISOR: u32 = 120;
/// Every Alertmanager notification timer is divided by this: 30 s of `group_wait` become 500 ms, 5 minutes of
/// `group_interval` 5 s.
pub const TIMER_DIVISOR: u32 = 60;

/// Parses a Prometheus/Alertmanager duration as written in the shipped files (`30s`, `2m`, `4h`, `0s`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("bad duration {s:?}: {e}"))
}

/// Rewrites the value of every `key: <duration>` line to the duration divided by `divisor`, written in
/// milliseconds (which both Prometheus and Alertmanager accept). Indentation and a trailing `# comment` are
/// kept. Returns the new text and how many lines changed.
pub fn scale_durations(text: &str, key: &str, divisor: u32) -> Result<(String, usize), String> {
    let prefix = format!("{key}:");
    let mut out = String::with_capacity(text.len());
    let mut changed = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let trimmed = body.trim_start();
        if !trimmed.starts_with(&prefix) {
            out.push_str(line);
            continue;
        }
        let indent = &body[..body.len() - trimmed.len()];
        let rest = &trimmed[prefix.len()..];
        let (value, comment) = match rest.find('#') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let d = parse_duration(value.trim())?;
        let scaled = d / divisor;
        let comment = if comment.is_empty() {
            String::new()
        } else {
            format!("  {comment}")
        };
        out.push_str(&format!(
            "{indent}{prefix} {}ms{comment}",
            scaled.as_millis()
        ));
        if line.ends_with('\n') {
            out.push('\n');
        }
        changed += 1;
    }
    Ok((out, changed))
}

/// Points every `url: '<scheme>://<host:port>/<path>'` line at `base` (e.g. `http://127.0.0.1:PORT`), keeping
/// the path, so each receiver still has its own URL. Returns the new text and how many lines changed.
pub fn redirect_urls(text: &str, base: &str) -> Result<(String, usize), String> {
    let mut out = String::with_capacity(text.len());
    let mut changed = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let trimmed = body.trim_start().trim_start_matches("- ");
        let Some(value) = trimmed.strip_prefix("url:") else {
            out.push_str(line);
            continue;
        };
        let quoted = value.trim();
        let raw = quoted.trim_matches(|c| c == '\'' || c == '"');
        let url = url::Url::parse(raw).map_err(|e| format!("bad url {raw:?}: {e}"))?;
        let start = body.len() - trimmed.len();
        let redirected = format!("{}{}", base.trim_end_matches('/'), url.path());
        out.push_str(&format!("{}url: '{redirected}'", &body[..start]));
        if line.ends_with('\n') {
            out.push('\n');
        }
        changed += 1;
    }
    Ok((out, changed))
}

/// Checks that `changed` differs from `original` only on lines whose key (the text before the first `:`,
/// after indentation and a list dash) is one of `keys`. Returns the differing lines' keys, or why not.
pub fn changed_lines_only(
    original: &str,
    changed: &str,
    keys: &[&str],
) -> Result<Vec<String>, String> {
    let a: Vec<&str> = original.lines().collect();
    let b: Vec<&str> = changed.lines().collect();
    if a.len() != b.len() {
        return Err(format!("line count {} became {}", a.len(), b.len()));
    }
    let key_of = |l: &str| {
        l.trim_start()
            .trim_start_matches("- ")
            .split(':')
            .next()
            .unwrap_or_default()
            .to_string()
    };
    let mut out = Vec::new();
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        if x == y {
            continue;
        }
        let (kx, ky) = (key_of(x), key_of(y));
        if kx != ky || !keys.contains(&kx.as_str()) {
            return Err(format!(
                "line {} changed beyond {keys:?}:\n- {x}\n+ {y}",
                i + 1
            ));
        }
        out.push(kx);
    }
    Ok(out)
}

/// The shipped rules with every `for:` divided by [`FOR_DIVISOR`].
pub fn scaled_rules() -> String {
    let original = repo::read(RULES);
    let (text, n) =
        scale_durations(&original, "for", FOR_DIVISOR).unwrap_or_else(|e| panic!("{RULES}: {e}"));
    assert!(n > 0, "{RULES} has no for: to scale");
    let keys = changed_lines_only(&original, &text, &["for"]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(keys.len(), n);
    text
}

/// Writes [`scaled_rules`] into `dir` and returns the file's path.
pub fn write_scaled_rules(dir: &Path) -> PathBuf {
    let path = dir.join("conflux-pos.rules.yml");
    std::fs::write(&path, scaled_rules()).expect("write the scaled rules");
    path
}

/// The shipped Alertmanager example with its webhooks pointed at `webhook_base` and its timers divided by
/// [`TIMER_DIVISOR`].
pub fn alertmanager_config(webhook_base: &str) -> String {
    alertmanager_config_scaled(
        webhook_base,
        Timers {
            group_wait: TIMER_DIVISOR,
            group_interval: TIMER_DIVISOR,
            repeat_interval: TIMER_DIVISOR,
        },
    )
}

/// By how much each Alertmanager notification timer of the shipped example is divided.
#[derive(Debug, Clone, Copy)]
pub struct Timers {
    /// Divides every `group_wait`.
    pub group_wait: u32,
    /// Divides every `group_interval`.
    pub group_interval: u32,
    /// Divides every `repeat_interval`.
    pub repeat_interval: u32,
}

/// The shipped Alertmanager example with its webhooks pointed at `webhook_base` and its timers divided by
/// `timers` (routes, matchers, receivers and inhibitions untouched).
pub fn alertmanager_config_scaled(webhook_base: &str, timers: Timers) -> String {
    let original = repo::read(ALERTMANAGER);
    let (mut text, urls) =
        redirect_urls(&original, webhook_base).unwrap_or_else(|e| panic!("{ALERTMANAGER}: {e}"));
    assert!(urls >= 3, "pager, chat and deadmansswitch webhooks");
    for (key, divisor) in [
        ("group_wait", timers.group_wait),
        ("group_interval", timers.group_interval),
        ("repeat_interval", timers.repeat_interval),
    ] {
        text = scale_durations(&text, key, divisor)
            .unwrap_or_else(|e| panic!("{ALERTMANAGER}: {e}"))
            .0;
    }
    changed_lines_only(
        &original,
        &text,
        &["url", "group_wait", "group_interval", "repeat_interval"],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    text
}

/// The `key` durations of the shipped Alertmanager example, divided by `divisor`, per route receiver (the top
/// route's value is inherited where a route has none): how the tests know each receiver's timers.
pub fn alertmanager_timer(receiver: &str, key: &str, divisor: u32) -> Duration {
    let doc = repo::yaml(ALERTMANAGER);
    let top = &doc["route"];
    let route = top["routes"]
        .as_sequence()
        .into_iter()
        .flatten()
        .find(|r| r["receiver"].as_str() == Some(receiver))
        .unwrap_or(top);
    let value = route[key]
        .as_str()
        .or(top[key].as_str())
        .unwrap_or_else(|| panic!("{ALERTMANAGER}: no {key} for {receiver}"));
    parse_duration(value).unwrap_or_else(|e| panic!("{ALERTMANAGER}: {e}")) / divisor
}

/// The scrape job name of `examples/prometheus.yml` (the rules' contract: `up{job="conflux-pos-exporter"}`).
pub fn job_name() -> String {
    let doc = repo::yaml(PROMETHEUS);
    let job = doc["scrape_configs"][0]["job_name"]
        .as_str()
        .unwrap_or_else(|| panic!("{PROMETHEUS}: no scrape_configs[0].job_name"))
        .to_string();
    assert_eq!(
        job,
        repo::JOB,
        "the example's job name is the rules' job name"
    );
    job
}

/// A Prometheus configuration scraping `targets` in the shipped job, every `interval` (also the rule evaluation
/// interval), loading `rules`, and sending alerts to `alertmanager` if given.
pub fn prometheus_config(
    targets: &[SocketAddr],
    interval: Duration,
    rules: &Path,
    alertmanager: Option<SocketAddr>,
) -> String {
    config_text(targets, interval, Some(rules), alertmanager)
}

/// The same scrape job without rules or alerting: what the test Prometheus starts with, so the shipped rules are
/// loaded (by a reload) only once every target has been scraped. Otherwise `absent(up)` of the exporter-down alert
/// would count Prometheus' own start-up, which the scaled-down `for:` cannot absorb on a loaded machine.
pub fn scrape_only_config(targets: &[SocketAddr], interval: Duration) -> String {
    config_text(targets, interval, None, None)
}

fn config_text(
    targets: &[SocketAddr],
    interval: Duration,
    rules: Option<&Path>,
    alertmanager: Option<SocketAddr>,
) -> String {
    let ms = interval.as_millis();
    let list = |addrs: &[SocketAddr]| {
        addrs
            .iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut text = format!(
        "global:\n  scrape_interval: {ms}ms\n  scrape_timeout: {ms}ms\n  evaluation_interval: {ms}ms\n"
    );
    if let Some(rules) = rules {
        text.push_str(&format!("rule_files:\n  - '{}'\n", rules.display()));
    }
    if let Some(am) = alertmanager {
        text.push_str(&format!(
            "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [{}]\n",
            list(&[am])
        ));
    }
    text.push_str(&format!(
        "scrape_configs:\n  - job_name: {}\n    static_configs:\n      - targets: [{}]\n",
        job_name(),
        list(targets)
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn for_is_scaled_and_comments_and_indentation_kept() {
        let text = "      - alert: A\n        for: 2m\n        expr: x > 1 # for: 5m is not a key\n  group_wait: 30s   # wait\n";
        let (out, n) = scale_durations(text, "for", 120).unwrap();
        assert_eq!(n, 1);
        assert_eq!(
            out,
            "      - alert: A\n        for: 1000ms\n        expr: x > 1 # for: 5m is not a key\n  group_wait: 30s   # wait\n"
        );
        let (out, n) = scale_durations(text, "group_wait", 60).unwrap();
        assert_eq!(n, 1);
        assert!(out.ends_with("  group_wait: 500ms  # wait\n"), "{out}");
        assert!(scale_durations("for: soon\n", "for", 2).is_err());
    }

    #[test]
    fn urls_keep_their_paths() {
        let text = "receivers:\n  - name: pager\n    webhook_configs:\n      - url: 'http://127.0.0.1:5001/pager'\n        send_resolved: true\n";
        let (out, n) = redirect_urls(text, "http://127.0.0.1:4242/").unwrap();
        assert_eq!(n, 1);
        assert!(
            out.contains("      - url: 'http://127.0.0.1:4242/pager'\n"),
            "{out}"
        );
        assert!(redirect_urls("url: 'not a url'\n", "http://x").is_err());
    }

    #[test]
    fn only_allowed_keys_may_change() {
        let a = "a: 1\n  for: 2m\nexpr: up\n";
        assert_eq!(
            changed_lines_only(a, "a: 1\n  for: 1s\nexpr: up\n", &["for"]).unwrap(),
            vec!["for"]
        );
        assert!(changed_lines_only(a, "a: 1\n  for: 2m\nexpr: down\n", &["for"]).is_err());
        assert!(changed_lines_only(a, "a: 1\n", &["for"]).is_err());
    }

    #[test]
    fn the_shipped_files_scale_cleanly() {
        let rules = scaled_rules();
        assert!(rules.contains("for: 1000ms"), "2m became 1 s");
        assert!(!rules.contains("for: 2m"));
        let am = alertmanager_config("http://127.0.0.1:9");
        assert!(am.contains("url: 'http://127.0.0.1:9/pager'"));
        assert!(am.contains("group_wait: 500ms"));
        assert!(!am.contains("5001"));
    }
}
