//! The house rules of the code base: no module import cycles inside `src/` (of the exporter and of the simulator
//! crate), read from the source text; and the simulator stays out of the exporter's build (and the reverse), read
//! from `cargo tree`, so the simulator remains an independent check of the node's behaviour, never a mirror
//! built from the exporter's own decoders; nor does the exporter's test support (a dev-dependency only).

use conflux_test_support::modgraph;

use std::path::Path;

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
