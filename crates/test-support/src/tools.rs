//! Finding the programs the tests run (Prometheus' tools, Alertmanager, ...) on PATH, or failing with how to
//! install them.

use std::path::PathBuf;

/// Finds a program on PATH, or fails saying how to install it (the suite's `scripts/test` does).
pub fn tool(name: &str) -> PathBuf {
    find_tool(&[name], "prometheus prometheus-alertmanager")
}

/// Finds the first of `names` on PATH, or fails saying how to install it.
pub fn find_tool(names: &[&str], package: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .flat_map(|d| names.iter().map(move |n| d.join(n)))
                .find(|f| f.is_file())
        })
        .unwrap_or_else(|| {
            panic!(
                "none of {names:?} found on PATH: run `bash scripts/test` (installs it), or \
                 `apt-get install {package}`"
            )
        })
}
