//! Helpers for the end-to-end tests that run the shipped operator files in real Prometheus and Alertmanager
//! (`tests/e2e_alerting.rs`, `tests/e2e_dashboards.rs`).
//!
//! - [`shipped`]: the shipped rule file and Alertmanager example, with only the changes the tests are allowed to
//!   make (shorter `for:` and notification timers, webhook URLs), and a Prometheus config using the shipped job
//!   name.
//! - [`alertmanager`]: a real Alertmanager on a loopback port with its own data directory, killed when dropped.
//! - [`webhook`]: the receiver Alertmanager notifies, recording every alert it is told about.
//! - [`stack`]: webhook + Alertmanager + Prometheus wired together.
//! - [`hostfiles`]: a fake node working directory (data dir, PoS key, safety-rules file, pid file of a child
//!   process) so the host and key-file metrics have something to look at.
//!
//! Needs `mod common;` and `mod ops_common;` in the test crate that declares it.
#![allow(dead_code)]

pub mod alertmanager;
pub mod hostfiles;
pub mod shipped;
pub mod stack;
pub mod webhook;

use std::path::PathBuf;

/// Finds the first of `names` on PATH, or fails saying how to install it (the suite's `scripts/test` does).
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
