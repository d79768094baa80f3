//! The house rules of the code base: no module import cycles inside `src/` (of the exporter and of the simulator
//! crate), read from the source text; and the simulator stays out of the exporter's build (and the reverse), read
//! from `cargo tree`, so the simulator remains an independent check of the node's behaviour, never a mirror
//! built from the exporter's own decoders; nor does either crate's test support (dev-dependencies only). Test
//! helpers live in the support crates, so no test declares its own copy of them and none needs `allow(dead_code)`.

use std::path::{Path, PathBuf};

use conflux_test_support::modgraph;

fn assert_acyclic(src: &Path) {
    let graph = modgraph::read_crate(src);
    assert!(
        graph.len() > 10,
        "read only {} modules under {}",
        graph.len(),
        src.display()
    );
    let cycles = modgraph::sibling_cycles(&graph);
    assert!(
        cycles.is_empty(),
        "module cycles under {}:\n{}",
        src.display(),
        cycles
            .iter()
            .map(|c| format!("  {}", c.join(", ")))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn exporter_modules_have_no_cycles() {
    assert_acyclic(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
}

#[test]
fn simulator_modules_have_no_cycles() {
    assert_acyclic(&Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/conflux-sim/src"));
}

/// The checker itself: a ring through `use` groups and `super::` is found; a parent and its child are not a ring.
#[test]
fn the_checker_finds_a_ring_and_spares_parents() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    let write = |rel: &str, text: &str| {
        let path = src.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("lib.rs", "pub mod a;\npub mod b;\n");
    write("a/mod.rs", "pub mod x;\npub mod y;\nuse crate::a::x::X;\n");
    write("a/x.rs", "use super::{y::Y, *};\npub struct X;\n");
    write(
        "a/y.rs",
        "// crate::b is only a comment\npub struct Y(crate::a::x::X);\n",
    );
    write("b.rs", "use crate::{a::{self, x::X}};\n");
    let graph = modgraph::read_crate(src);
    assert_eq!(
        modgraph::sibling_cycles(&graph),
        vec![vec!["a::x -> a::y", "a::y -> a::x"]]
    );
    write("a/y.rs", "pub struct Y(crate::b::B);\n");
    let graph = modgraph::read_crate(src);
    assert_eq!(
        modgraph::sibling_cycles(&graph),
        vec![vec!["a -> b", "b -> a"]]
    );
}

/// Package names in the normal-dependency tree of `package` (`cargo tree -e normal`, offline: the lock file and
/// the already-fetched sources suffice).
fn normal_dependencies(package: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "tree",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
            "-p",
            package,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn the_exporter_and_the_simulator_do_not_depend_on_each_other() {
    let exporter = normal_dependencies("conflux-pos-exporter");
    assert!(
        exporter.iter().any(|p| p == "prometheus"),
        "tree read: {exporter:?}"
    );
    assert!(
        !exporter.iter().any(|p| p == "conflux-sim"),
        "the exporter's build contains the simulator"
    );
    let support = |p: &String| p == "conflux-test-support" || p == "conflux-sim-test-support";
    assert!(
        !exporter.iter().any(support),
        "the exporter's build contains test support"
    );
    let sim = normal_dependencies("conflux-sim");
    assert!(sim.iter().any(|p| p == "conflux-sim"), "tree read: {sim:?}");
    assert!(
        !sim.iter().any(|p| p == "conflux-pos-exporter"),
        "the simulator depends on the exporter"
    );
    assert!(
        !sim.iter().any(support),
        "the simulator's build contains test support"
    );
}

/// The `.rs` files under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Helpers shared by tests belong in `crates/test-support` or `crates/sim-test-support` (public items of a
/// library, compiled once), not in per-binary `mod support { ... }` copies silenced with `allow(dead_code)`.
#[test]
fn test_helpers_live_in_the_support_crates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [
        "tests",
        "crates/conflux-sim/tests",
        "crates/test-support/src",
        "crates/sim-test-support/src",
    ] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 40, "read only {} files", files.len());
    let dead_code = ["#[allow(", "dead_code)]"].concat();
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            text.contains(&dead_code) || text.lines().any(|l| l.starts_with("mod support {"))
        })
        .map(|f| f.strip_prefix(root).unwrap().display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "test helpers declared per binary or dead code allowed: {offenders:?}"
    );
    assert!(
        !files
            .iter()
            .any(|f| f.starts_with(root.join("tests/support"))),
        "tests/support/ is back: move its helpers into crates/test-support"
    );
}

/// Verdicts with memory or logging live in one place, the judge (`src/judge.rs`): watchers (`src/watch`)
/// and publishers (`src/metrics`) never compute them, so a change to such a verdict touches `assess/` and the judge alone.
/// The one rule a watcher applies itself is the freshness of a PoS view (`assess::freshness`): the poller reads
/// history from the view it chooses, so the choice is I/O, not a published verdict.
#[test]
fn watchers_and_publishers_do_not_call_the_judges_verdicts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src/watch"), &mut files);
    rust_files(&root.join("src/metrics"), &mut files);
    let verdicts = [
        "retire::judge(",
        "owner_verdict(",
        "downtime_budget(",
        "risk_unless_retired(",
        "key_readers(",
        "window::cip99_transition_view",
        "GuardMemory",
        "ForecastCheck",
        "catching_up(",
        "epoch_lag(",
        "hash_mismatch(",
        "reference_epoch(",
        "reference_pos_block(",
        "free_to_stop(",
        "schedule(",
        "upcoming(",
        "seat(",
        "queued_votes(",
        "next_maturity(",
        "seconds_until_block(",
        "slashed(",
        "eta_seconds(",
        "slots(",
    ];
    let mut offenders = Vec::new();
    for f in &files {
        if f.to_string_lossy().ends_with("_tests.rs") {
            continue; // a unit-test file of a publisher
        }
        let text = std::fs::read_to_string(f).unwrap();
        // Unit tests may drive the judge to feed a publisher.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for v in verdicts {
            if code.contains(v) {
                offenders.push(format!(
                    "{} calls {v}",
                    f.strip_prefix(root).unwrap().display()
                ));
            }
        }
    }
    assert!(files.len() > 20, "read only {} files", files.len());
    assert!(
        offenders.is_empty(),
        "verdicts outside the judge: {offenders:?}"
    );
}
