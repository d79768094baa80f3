//! Files of the repository (rules, dashboards, examples, docs) read as the operator receives them, and the
//! Prometheus tools run from the repository root.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::tools::tool;

/// The scrape job name the rules and the example Prometheus config agree on.
pub const JOB: &str = "conflux-pos-exporter";

/// A path inside the repository (this crate is `crates/test-support` of it).
pub fn repo(rel: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2);
    root.expect("crates/test-support has a repository root")
        .join(rel)
}

/// Reads a repository file or fails naming it.
pub fn read(rel: &str) -> String {
    std::fs::read_to_string(repo(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

/// Runs a tool from the repository root; returns (success, stdout, stderr).
pub fn run(name: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(tool(name))
        .args(args)
        .current_dir(repo("."))
        .output()
        .unwrap_or_else(|e| panic!("{name} does not run: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Parses a YAML file of the repository.
pub fn yaml(rel: &str) -> serde_norway::Value {
    serde_norway::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not valid YAML: {e}"))
}
