//! The golden exposition: the exporter's `/metrics` for one fixed simulated world (a PoS committee member that
//! votes, a reference node, and a fake host with the node's process, data directory and key files), checked in
//! as `tests/fixtures/exposition.txt`. Any change of a metric's name, labels, type or help shows as a diff of
//! that file in review. Values and the few label values that depend on the machine or the moment (paths, the
//! version) are masked; the other tests check values.
//!
//! After an intended change: `UPDATE_GOLDEN=1 cargo test --test golden_exposition`, and review the diff.

use conflux_test_support as support;

use support::exporter::*;
use support::hostfiles::FakeHost;
use support::pos::{pos_sim, L, US};
use support::scrape::*;

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/exposition.txt");

/// Label values that name the machine or the build rather than the world.
const MASKED_LABELS: &[&str] = &["version", "path", "mountpoint", "device", "fstype"];

#[tokio::test]
async fn metrics_of_a_fixed_world_match_the_golden_file() {
    let sim = pos_sim(true, true, None).await;
    sim.advance_pos(3 * L + 3).unwrap();
    let host = FakeHost::create(US);
    let app = exporter(exporter_config_every(
        &[("local", sim.url("node").unwrap())],
        &[("ref", sim.url("ref").unwrap())],
        &host.node_keys(),
        100,
    ))
    .await;
    wait_pos_caught_up(app.local_addr(), "local", sim.pos_height()).await;
    let expected = std::fs::read_to_string(GOLDEN).unwrap_or_default();
    let actual = settled(app.local_addr(), &expected).await;
    if actual == expected {
        return;
    }
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(GOLDEN, &actual).expect("write the golden file");
        return;
    }
    panic!(
        "/metrics differs from {GOLDEN} (after an intended change: UPDATE_GOLDEN=1 cargo test --test \
         golden_exposition, then review the diff):\n{}",
        diff(&expected, &actual)
    );
}

/// The normalised exposition once it equals `expected`, or once it has stopped changing (the same for several
/// polls in a row, the later families present: the account and the fork check come a poll after the status).
/// Waiting on the text itself, not on a count of polls, holds on a loaded machine.
async fn settled(addr: std::net::SocketAddr, expected: &str) -> String {
    const SAME_IN_A_ROW: usize = 8;
    let start = std::time::Instant::now();
    let (mut last, mut same) = (String::new(), 0);
    loop {
        let s = scrape(addr).await;
        let now = normalise(&s.text);
        let complete = !s.series("conflux_pos_account_votes").is_empty()
            && !s.series("conflux_reference_hash_mismatch").is_empty()
            && !s.series("conflux_node_process_open_fds").is_empty()
            && !s.series("conflux_pos_key_present").is_empty();
        if now == expected {
            return now;
        }
        same = if now == last { same + 1 } else { 0 };
        if (complete && same >= SAME_IN_A_ROW) || start.elapsed() > DEADLINE {
            return now;
        }
        last = now;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// HELP and TYPE lines as they are; each sample as its name and labels (masked where machine-dependent) with the
/// value replaced by `_`; sorted within each family as the exposition already is, so the file reads like
/// `/metrics`.
fn normalise(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with('#') {
            out.push_str(line);
        } else if let Some((series, _value)) = line.rsplit_once(' ') {
            out.push_str(&mask_labels(series));
            out.push_str(" _");
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
fn diff(expected: &str, actual: &str) -> String {
    let old: std::collections::BTreeSet<&str> = expected.lines().collect();
    let new: std::collections::BTreeSet<&str> = actual.lines().collect();
    let mut out = String::new();
    for l in old.difference(&new) {
        out.push_str(&format!("- {l}\n"));
    }
    for l in new.difference(&old) {
        out.push_str(&format!("+ {l}\n"));
    }
    out
}

/// The check itself: a renamed label is a difference.
#[test]
fn a_renamed_label_is_a_difference() {
    let before = normalise("# HELP m h\n# TYPE m gauge\nm{node=\"a\",path=\"/x\"} 1\n");
    let renamed = normalise("# HELP m h\n# TYPE m gauge\nm{name=\"a\",path=\"/y\"} 2\n");
    let revalued = normalise("# HELP m h\n# TYPE m gauge\nm{node=\"a\",path=\"/z\"} 3\n");
    assert_eq!(before, revalued, "values and masked labels do not count");
    assert_ne!(before, renamed);
    assert_eq!(
        diff(&before, &renamed),
        "- m{node=\"a\",path=\"*\"} _\n+ m{name=\"a\",path=\"*\"} _\n"
    );
}
