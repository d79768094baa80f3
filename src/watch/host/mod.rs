//! Host poller, one per node: finds the node's process again on every poll (nodes restart, pids change), reads
//! its facts, the free space of its directories and its PoS key files, and writes a fresh [`HostObs`] into the
//! state. It sends no RPC, so it runs in its own task next to the node's RPC poller. All blocking work (`/proc`
//! walks, `statvfs`, file reads) runs on the blocking pool through the `host` module's async wrappers, and
//! `statvfs` under a timeout, so a hung mount never stalls this loop or any other.
//!
//! Where things are is [`spec`]; what is logged, once per change, is [`logged`].

mod logged;
mod spec;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::Poller;
use crate::host::disk::{disk_targets, DiskProber};
use crate::host::facts::read_process_facts_async;
use crate::host::keyfiles::{probe_key_files_async, KeyFilePaths, KeyFilesReport};
use crate::host::process::{find_node_process_async, FindError};
use crate::state::{DiskObs, HostObs, Hub, ProbeFailure, ProcessObs};
use logged::HostLog;
pub(crate) use spec::HostSpec;

/// Longest wait for one `statvfs`; a call still running after this is reported as `timeout`, then `stuck`.
pub(crate) const DISK_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Probes one node's host side.
pub(crate) struct HostPoller {
    node: String,
    hub: Arc<Hub>,
    spec: HostSpec,
    disks: DiskProber,
    last_pid: Option<i32>,
    log: HostLog,
}

impl HostPoller {
    /// `disks` may be shared by every node's poller (clones share the registry of calls still outstanding).
    pub(crate) fn new(node: String, hub: Arc<Hub>, spec: HostSpec, disks: DiskProber) -> Self {
        Self {
            log: HostLog::new(node.clone()),
            node,
            hub,
            spec,
            disks,
            last_pid: None,
        }
    }

    async fn probe_process(&mut self) -> ProcessObs {
        let failed = |kind, message| ProcessObs::Failed(ProbeFailure { kind, message });
        let found = match find_node_process_async(self.spec.query(self.last_pid)).await {
            Ok(p) => p,
            Err(FindError::NoMethod) => return ProcessObs::NotWatched,
            Err(e) => return failed(e.kind(), e.to_string()),
        };
        self.last_pid = Some(found.pid);
        match read_process_facts_async(found.pid).await {
            Ok(facts) => ProcessObs::Found {
                found_by: found.found_by,
                facts,
            },
            Err(e) => failed(e.kind(), e.to_string()),
        }
    }

    async fn probe_disks(&self, work_dir: Option<&Path>) -> Vec<DiskObs> {
        let p = &self.spec.paths;
        let mut disks: Vec<DiskObs> = Vec::new();
        for t in disk_targets(work_dir, p.data_dir.as_deref(), p.pos_dir.as_deref()) {
            if disks.iter().any(|d| d.path == t.path) {
                continue;
            }
            let usage = self.disks.probe(&t.path).await;
            disks.push(DiskObs {
                path: t.path,
                usage,
            });
        }
        disks
    }

    async fn probe_keys(&self, work_dir: Option<&Path>) -> (Option<KeyFilesReport>, bool) {
        let Some(pos_db) = self.spec.pos_db_dir(work_dir) else {
            return (None, false);
        };
        let pos_config = self.spec.pos_config_dir(work_dir);
        let checked = pos_config.is_some();
        let config_dir = pos_config.unwrap_or_else(|| pos_db.clone());
        let mut report = probe_key_files_async(KeyFilePaths::new(&config_dir, &pos_db)).await;
        if !checked {
            // Not a real place for pos_key; the flag keeps its series out.
            report.pos_key = Ok(None);
        }
        (Some(report), checked)
    }

    /// Writes the observation and logs owner changes. The failover state is judged and logged by the publisher,
    /// which sees every node's switch and files together (the judge, `assess::judge`).
    fn record(&mut self, obs: HostObs) {
        let mut state = self.hub.lock();
        let Some(node) = state.node_mut(&self.node) else {
            return;
        };
        // Every scan wakes the publisher: even unchanged files are a newer look the guard may combine with a
        // voting switch that changed since the previous scan.
        node.host = Some(obs);
        drop(state);
        self.hub.changed();
    }
}

impl Poller for HostPoller {
    async fn poll(&mut self) {
        let process = self.probe_process().await;
        self.log.process(&process);
        let cwd = match &process {
            ProcessObs::Found { facts, .. } => facts.cwd.clone(),
            _ => None,
        };
        let work_dir = self.spec.paths.work_dir.clone().or(cwd);
        let disks = self.probe_disks(work_dir.as_deref()).await;
        // Taken before the read: a scan counts as newer than a switch reading only if it started after it.
        let scanned_at = std::time::SystemTime::now();
        let (keys, pos_key_checked) = self.probe_keys(work_dir.as_deref()).await;
        // Taken after the read: a scan counts as older than a switch reading only if it ended before it was asked.
        let scan_finished_at = std::time::SystemTime::now();
        let obs = HostObs {
            process,
            disks,
            keys,
            pos_key_checked,
            scanned_at,
            scan_finished_at,
        };
        self.log.files(&obs);
        self.record(obs);
    }
}
