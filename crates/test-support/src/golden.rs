//! Golden expositions: `/metrics` of a fixed simulated world, normalised so that it only changes when the
//! exporter's output changes, compared with (or written to) a file under `tests/fixtures/`.
//!
//! **Masking rule.** HELP and TYPE lines, names and label names are kept as they are. A sample's value is kept
//! too — the worlds are deterministic (blocks are produced by the test, identities are fixed), so a verdict that
//! turns from 1 to 0 is a difference — except where it measures the moment or the machine:
//! - families whose name ends in `_seconds` (times, durations, ages, timestamps, the RPC duration histogram) or
//!   `_bytes` (sizes): masked as `_`;
//! - the families of [`NONDETERMINISTIC`], each with its reason: masked as `_`;
//! - the label values of [`MASKED_LABELS`] (paths of temporary directories, the build's version): masked as `*`.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Instant;

use super::exposition::Scrape;
use super::scrape::{scrape, DEADLINE};

/// Label values that name the machine or the build rather than the world.
pub const MASKED_LABELS: &[&str] = &["version", "path", "mountpoint", "device", "fstype"];

/// Families whose values depend on how many polls ran or on the test machine, not on the world.
pub const NONDETERMINISTIC: &[(&str, &str)] = &[
    (
        "conflux_exporter_rpc_requests_total",
        "the number of polls so far",
    ),
    (
        "conflux_exporter_rpc_errors_total",
        "grows with every poll of a failing target, and a loaded machine may time out a request",
    ),
    (
        "conflux_pos_history_batch_size",
        "adapts to the timeouts of the moment",
    ),
    (
        "conflux_node_process_open_fds",
        "the stand-in process inherits the test runner's descriptors",
    ),
    (
        "conflux_node_process_max_fds",
        "the stand-in process inherits the test runner's limits",
    ),
];

/// Whether the value of a sample of family `family` is masked (see the module's rule).
pub fn value_masked(family: &str) -> bool {
    family.ends_with("_seconds")
        || family.ends_with("_bytes")
        || NONDETERMINISTIC.iter().any(|(f, _)| *f == family)
}

/// The family a sample line belongs to: its name without a histogram's `_bucket`, `_sum` or `_count`.
fn family_of<'a>(sample: &'a str, families: &BTreeSet<&str>) -> &'a str {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = sample.strip_suffix(suffix) {
            if families.contains(base) {
                return base;
            }
        }
    }
    sample
}

/// HELP and TYPE lines as they are; each sample as its name and labels (masked where machine-dependent) and its
/// value (masked where the rule says so), in the exposition's own order, so the file reads like `/metrics`.
pub fn normalise(text: &str) -> String {
    let families: BTreeSet<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with('#') {
            out.push_str(line);
        } else if let Some((series, value)) = line.rsplit_once(' ') {
            let name = series.split('{').next().unwrap_or(series);
            out.push_str(&mask_labels(series));
            out.push(' ');
            out.push_str(if value_masked(family_of(name, &families)) {
                "_"
            } else {
                value
            });
        } else {
            continue;
        }
        out.push('\n');
    }
    out
}

fn mask_labels(series: &str) -> String {
    let Some((name, rest)) = series.split_once('{') else {
        return series.to_string();
    };
    let labels = rest.trim_end_matches('}');
    let masked: Vec<String> = split_labels(labels)
        .into_iter()
        .map(|(k, v)| {
            let v = if MASKED_LABELS.contains(&k.as_str()) {
                "*".to_string()
            } else {
                v
            };
            format!("{k}=\"{v}\"")
        })
        .collect();
    format!("{name}{{{}}}", masked.join(","))
}

/// `a="x",b="y\"z"` -> pairs (values keep their escapes).
fn split_labels(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some((key, after)) = rest.split_once("=\"") {
        let mut end = 0;
        let bytes = after.as_bytes();
        while end < bytes.len() && !(bytes[end] == b'"' && (end == 0 || bytes[end - 1] != b'\\')) {
            end += 1;
        }
        out.push((
            key.trim_start_matches(',').to_string(),
            after[..end].to_string(),
        ));
        rest = after.get(end + 1..).unwrap_or("");
    }
    out
}

/// Lines only in one of the two texts, marked `-` (golden) and `+` (now).
pub fn diff(expected: &str, actual: &str) -> String {
    let old: BTreeSet<&str> = expected.lines().collect();
    let new: BTreeSet<&str> = actual.lines().collect();
    let mut out = String::new();
    for l in old.difference(&new) {
        out.push_str(&format!("- {l}\n"));
    }
    for l in new.difference(&old) {
        out.push_str(&format!("+ {l}\n"));
    }
    out
}

/// The families (TYPE lines) of an exposition or a golden file.
pub fn families(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// Every request the exporter has sent so far, over all targets: how far its polling has got.
fn requests(s: &Scrape) -> f64 {
    s.series("conflux_exporter_rpc_requests_total")
        .iter()
        .filter_map(|l| {
            let target = l.get("target")?;
            s.get("conflux_exporter_rpc_requests_total", &[("target", target)])
        })
        .sum()
}

/// Whether this run rewrites the golden files (`UPDATE_GOLDEN` set) rather than checks them.
pub fn updating() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some()
}

/// The normalised exposition to compare with `expected`. Checking, it is the first scrape that equals
/// `expected`, or the last one at [`DEADLINE`] (so only a real difference waits that long). Updating, it is the
/// first one that satisfies `ready` and then stays the same while every target is polled a few more times
/// (counted from the exporter's own request counters, not from the clock, so it holds on a loaded machine).
pub async fn settled(addr: SocketAddr, expected: &str, ready: impl Fn(&Scrape) -> bool) -> String {
    let start = Instant::now();
    let mut last = String::new();
    let mut since = 0.0;
    loop {
        let s = scrape(addr).await;
        let now = normalise(&s.text);
        if now == expected || start.elapsed() > DEADLINE {
            return now;
        }
        if updating() {
            let targets = s.series("conflux_exporter_rpc_requests_total").len() as f64;
            if now != last || !ready(&s) {
                since = requests(&s);
            } else if requests(&s) - since >= 4.0 * targets.max(1.0) {
                return now;
            }
        }
        last = now;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Compares `actual` with the golden file at `path`; with `UPDATE_GOLDEN` set, rewrites the file instead.
pub fn check(path: &str, expected: &str, actual: &str) {
    if actual == expected {
        return;
    }
    if updating() {
        std::fs::write(path, actual).expect("write the golden file");
        return;
    }
    panic!(
        "/metrics differs from {path} (after an intended change: UPDATE_GOLDEN=1 cargo test --test checks \
         golden_exposition::, then review the diff):\n{}",
        diff(expected, actual)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_renamed_label_or_a_changed_verdict_is_a_difference() {
        let text =
            |labels: &str, v: &str| format!("# HELP m h\n# TYPE m gauge\nm{{{labels}}} {v}\n");
        let before = normalise(&text("node=\"a\",path=\"/x\"", "1"));
        let renamed = normalise(&text("name=\"a\",path=\"/y\"", "1"));
        let moved = normalise(&text("node=\"a\",path=\"/z\"", "1"));
        let flipped = normalise(&text("node=\"a\",path=\"/x\"", "0"));
        assert_eq!(before, moved, "masked labels do not count");
        assert_ne!(before, renamed);
        assert_ne!(before, flipped, "a verdict is a value");
        assert_eq!(
            diff(&before, &renamed),
            "- m{node=\"a\",path=\"*\"} 1\n+ m{name=\"a\",path=\"*\"} 1\n"
        );
    }

    #[test]
    fn times_sizes_and_poll_counts_are_masked() {
        let text = "# TYPE conflux_x_seconds histogram\nconflux_x_seconds_bucket{le=\"0.5\"} 3\n\
                    conflux_x_seconds_sum 0.2\n# TYPE conflux_d_bytes gauge\nconflux_d_bytes 1e9\n\
                    # TYPE conflux_exporter_rpc_requests_total counter\nconflux_exporter_rpc_requests_total 9\n\
                    # TYPE conflux_pos_epoch gauge\nconflux_pos_epoch 40001\n";
        let n = normalise(text);
        assert!(
            n.contains("conflux_x_seconds_bucket{le=\"0.5\"} _\n"),
            "{n}"
        );
        assert!(n.contains("conflux_x_seconds_sum _\n"), "{n}");
        assert!(n.contains("conflux_d_bytes _\n"), "{n}");
        assert!(n.contains("conflux_exporter_rpc_requests_total _\n"), "{n}");
        assert!(n.contains("conflux_pos_epoch 40001\n"), "{n}");
    }
}
