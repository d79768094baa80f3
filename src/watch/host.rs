//! Host poller, one per node: finds the node's process again on every poll (nodes restart, pids change), reads
//! its facts, the free space of its directories and its PoS key files, and writes a fresh [`HostObs`] into the
//! state. It sends no RPC, so it runs in its own task next to the node's RPC poller. All blocking work (`/proc`
//! walks, `statvfs`, file reads) runs on the blocking pool through the `host` module's async wrappers, and
//! `statvfs` under a timeout, so a hung mount never stalls this loop or any other.
//!
//! Process lookup precedence: a configured `pid_file` or `process_name` wins over the RPC-port lookup, because
//! the operator said where the node is; the port lookup is used only when neither is configured and the RPC
//! URL's host is this machine. (The port can also be held by a proxy or, in tests, by a simulator, which the
//! operator's explicit setting disambiguates.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::Poller;
use crate::assess::guard::{owner_verdict, OwnerVerdict};
use crate::config::NodeConfig;
use crate::host::disk::{disk_targets, DiskProber};
use crate::host::facts::{read_process_facts_async, restriction_hint, Restricted};
use crate::host::keyfiles::{probe_key_files_async, KeyFilePaths, KeyFilesReport};
use crate::host::local::is_local_host;
use crate::host::process::{find_node_process_async, FindError, ProcessQuery};
use crate::state::{DiskObs, HostObs, Hub, ProbeFailure, ProcessObs};

/// Longest wait for one `statvfs`; a call still running after this is reported as `timeout`, then `stuck`.
pub const DISK_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Where one node's process and files are, from its `[[node]]` section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostSpec {
    /// The RPC port, when the RPC URL's host is this machine.
    pub local_rpc_port: Option<u16>,
    /// Configured pid file.
    pub pid_file: Option<PathBuf>,
    /// Configured process name.
    pub process_name: Option<String>,
    /// Configured working directory (else the process's `/proc/PID/cwd`).
    pub work_dir: Option<PathBuf>,
    /// Configured `conflux_data_dir` (else `<work_dir>/blockchain_data`).
    pub data_dir: Option<PathBuf>,
    /// Configured PoS data dir (else `<work_dir>/pos_db`).
    pub pos_dir: Option<PathBuf>,
    /// Configured `pos_config` dir (else `<work_dir>/pos_config`).
    pub pos_config_dir: Option<PathBuf>,
}

impl HostSpec {
    /// The spec of a configured node.
    pub fn from_config(n: &NodeConfig) -> Self {
        Self {
            local_rpc_port: local_rpc_port(&n.rpc_url),
            pid_file: n.pid_file.clone(),
            process_name: n.process_name.clone(),
            work_dir: n.work_dir.clone(),
            data_dir: n.data_dir.clone(),
            pos_dir: n.pos_dir.clone(),
            pos_config_dir: n.pos_config_dir.clone(),
        }
    }

    /// False when nothing about the host can be learned (remote node, nothing configured): no poller is started.
    pub fn watches_anything(&self) -> bool {
        self.local_rpc_port.is_some()
            || self.pid_file.is_some()
            || self.process_name.is_some()
            || self.work_dir.is_some()
            || self.data_dir.is_some()
            || self.pos_dir.is_some()
            || self.pos_config_dir.is_some()
    }

    /// The process query for this poll: configured methods win; the port lookup only when none is configured.
    pub fn query(&self, last_pid: Option<i32>) -> ProcessQuery {
        let configured = self.pid_file.is_some() || self.process_name.is_some();
        ProcessQuery {
            local_rpc_port: if configured {
                None
            } else {
                self.local_rpc_port
            },
            pid_file: self.pid_file.clone(),
            process_name: self.process_name.clone(),
            last_pid,
        }
    }

    /// `pos_db` known from the configuration alone (no `/proc`), for the PoS-address fallback.
    pub fn configured_pos_db_dir(&self) -> Option<PathBuf> {
        resolve_dir(self.pos_dir.as_deref(), self.work_dir.as_deref(), "pos_db")
    }
}

/// The RPC URL's port when its host is this machine (`http` default 80, `https` 443).
pub fn local_rpc_port(rpc_url: &str) -> Option<u16> {
    let url = url::Url::parse(rpc_url).ok()?;
    let host = url.host_str()?;
    if !is_local_host(host) {
        return None;
    }
    url.port_or_known_default()
}

/// A node directory: the configured one (relative ones resolve against the working directory, as the node
/// resolves them), else `<work_dir>/<default>`; `None` when it cannot be placed.
pub fn resolve_dir(
    configured: Option<&Path>,
    work_dir: Option<&Path>,
    default: &str,
) -> Option<PathBuf> {
    let work_dir = work_dir.filter(|w| w.is_absolute());
    match configured {
        Some(p) if p.is_absolute() => Some(p.to_path_buf()),
        Some(p) => work_dir.map(|w| w.join(p)),
        None => work_dir.map(|w| w.join(default)),
    }
}

/// What was last logged, so each problem is logged once per change rather than once per poll.
#[derive(Debug, Default)]
struct Logged {
    process: Option<String>,
    restricted: Vec<Restricted>,
    disks: BTreeMap<PathBuf, Option<&'static str>>,
    keys: BTreeMap<&'static str, Option<String>>,
    key_permissions_ok: Option<bool>,
    owner: Option<OwnerVerdict>,
    pos_db_dir: Option<Option<bool>>,
}

/// Probes one node's host side.
pub struct HostPoller {
    node: String,
    hub: Arc<Hub>,
    spec: HostSpec,
    disks: DiskProber,
    last_pid: Option<i32>,
    logged: Logged,
}

impl HostPoller {
    /// `disks` may be shared by every node's poller (clones share the registry of calls still outstanding).
    pub fn new(node: String, hub: Arc<Hub>, spec: HostSpec, disks: DiskProber) -> Self {
        Self {
            node,
            hub,
            spec,
            disks,
            last_pid: None,
            logged: Logged::default(),
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

    async fn probe_keys(&self, work_dir: Option<&Path>) -> (Option<KeyFilesReport>, bool) {
        let s = &self.spec;
        let Some(pos_db) = resolve_dir(s.pos_dir.as_deref(), work_dir, "pos_db") else {
            return (None, false);
        };
        let pos_config = resolve_dir(s.pos_config_dir.as_deref(), work_dir, "pos_config");
        let checked = pos_config.is_some();
        let config_dir = pos_config.unwrap_or_else(|| pos_db.clone());
        let mut report = probe_key_files_async(KeyFilePaths::new(&config_dir, &pos_db)).await;
        if !checked {
            // Not a real place for pos_key; the flag keeps its series out.
            report.pos_key = Ok(None);
        }
        (Some(report), checked)
    }

    fn log_process(&mut self, p: &ProcessObs) {
        let n = &self.node;
        let key = match p {
            ProcessObs::NotWatched => "not_watched".to_string(),
            ProcessObs::Found { facts, .. } => format!("pid {}", facts.pid),
            ProcessObs::Failed(f) => f.kind.to_string(),
        };
        if self.logged.process.as_deref() != Some(key.as_str()) {
            match p {
                ProcessObs::NotWatched => {
                    tracing::info!(node = %n, "node process checks off: the RPC host is not this machine and neither pid_file nor process_name is configured")
                }
                ProcessObs::Found { found_by, facts } => {
                    tracing::info!(node = %n, pid = facts.pid, found_by = found_by.as_str(), "node process found")
                }
                ProcessObs::Failed(f) => {
                    tracing::warn!(node = %n, kind = f.kind, error = %f.message, "node process not found or not readable")
                }
            }
            self.logged.process = Some(key);
        }
        let restricted = match p {
            ProcessObs::Found { facts, .. } => facts.restricted.clone(),
            _ => Vec::new(),
        };
        if restricted != self.logged.restricted {
            if let Some(hint) = restriction_hint(&restricted) {
                tracing::warn!(node = %n, hint = %hint, "part of the node's /proc entry is not readable (conflux_node_process_readable 0): the fd listing or working directory belongs to another user");
            }
            self.logged.restricted = restricted;
        }
    }

    fn log_files(&mut self, obs: &HostObs) {
        let n = &self.node;
        for d in &obs.disks {
            let kind = d.usage.as_ref().err().map(|e| e.kind());
            if self.logged.disks.get(&d.path) != Some(&kind) {
                if let Err(e) = &d.usage {
                    tracing::warn!(node = %n, path = %d.path.display(), kind = e.kind(), error = %e, "disk probe failed");
                }
                self.logged.disks.insert(d.path.clone(), kind);
            }
        }
        let Some(k) = &obs.keys else { return };
        if self.logged.pos_db_dir != Some(k.pos_db_dir) {
            if k.pos_db_dir == Some(false) {
                // Not a failover danger: either the node never ran PoS here or the exporter looks in the wrong
                // place. The guard treats the files as unknown, never as "absent".
                tracing::warn!(node = %n, "no pos_db directory where the node's safety files should be: check work_dir / pos_dir (or the node has never started PoS); the failover state stays unknown");
            }
            self.logged.pos_db_dir = Some(k.pos_db_dir);
        }
        let files = [
            ("pos_key", k.pos_key.as_ref().err()),
            ("secure_storage.json", k.secure_storage.as_ref().err()),
            (
                "secure_storage.json.save",
                k.secure_storage_save.as_ref().err(),
            ),
        ];
        for (file, err) in files {
            let text = err.map(ToString::to_string);
            if self.logged.keys.get(file) != Some(&text) {
                if let Some(t) = &text {
                    tracing::warn!(node = %n, file, error = %t, "cannot inspect PoS key file");
                }
                self.logged.keys.insert(file, text);
            }
        }
        let perms = k.pos_key_permissions_ok();
        if perms != self.logged.key_permissions_ok {
            if perms == Some(false) {
                tracing::warn!(node = %n, "pos_config/pos_key is readable by group or others; chmod 600 it");
            }
            self.logged.key_permissions_ok = perms;
        }
    }

    /// Writes the observation and logs owner changes. The failover state is judged and logged by the publisher,
    /// which sees every node's switch and files together (`metrics::guard`).
    fn record(&mut self, obs: HostObs) {
        let mut state = self.hub.lock();
        let Some(node) = state.node_mut(&self.node) else {
            return;
        };
        // Every scan wakes the publisher: even unchanged files are a newer look the guard may combine with a
        // voting switch that changed since the previous scan.
        node.host = Some(obs);
        let address = node.reported_pos_address().map(str::to_string);
        let owner = node
            .host
            .as_ref()
            .and_then(HostObs::storage_owner)
            .map(str::to_string);
        drop(state);
        self.hub.changed();

        let verdict = owner_verdict(address.as_deref(), owner.as_deref());
        if self.logged.owner.as_ref() != Some(&verdict) {
            match &verdict {
                OwnerVerdict::Mismatch { expected, found } => {
                    tracing::error!(node = %self.node, expected = %expected, found = %found,
                    "PoS KEY OWNER MISMATCH: pos_db/secure_storage.json belongs to another PoS address than the node reports; this node's safety data is not its own (copied from another key?) and voting with it risks a Dispute")
                }
                OwnerVerdict::Match
                    if matches!(self.logged.owner, Some(OwnerVerdict::Mismatch { .. })) =>
                {
                    tracing::info!(node = %self.node, "secure_storage.json owner matches the PoS address again")
                }
                _ => {}
            }
            self.logged.owner = Some(verdict);
        }
    }
}

impl Poller for HostPoller {
    async fn poll(&mut self) {
        let process = self.probe_process().await;
        self.log_process(&process);
        let cwd = match &process {
            ProcessObs::Found { facts, .. } => facts.cwd.clone(),
            _ => None,
        };
        let work_dir = self.spec.work_dir.clone().or(cwd);
        let mut disks: Vec<DiskObs> = Vec::new();
        for t in disk_targets(
            work_dir.as_deref(),
            self.spec.data_dir.as_deref(),
            self.spec.pos_dir.as_deref(),
        ) {
            if disks.iter().any(|d| d.path == t.path) {
                continue;
            }
            let usage = self.disks.probe(&t.path).await;
            disks.push(DiskObs {
                path: t.path,
                usage,
            });
        }
        // Taken before the read: a scan counts as newer than a switch reading only if it started after it.
        let scanned_at = std::time::SystemTime::now();
        let (keys, pos_key_checked) = self.probe_keys(work_dir.as_deref()).await;
        let obs = HostObs {
            process,
            disks,
            keys,
            pos_key_checked,
            scanned_at,
        };
        self.log_files(&obs);
        self.record(obs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_port_only_for_this_host() {
        assert_eq!(local_rpc_port("http://127.0.0.1:12539"), Some(12539));
        assert_eq!(local_rpc_port("http://localhost"), Some(80));
        assert_eq!(local_rpc_port("https://[::1]/"), Some(443));
        assert_eq!(local_rpc_port("http://192.0.2.1:12539"), None);
        assert_eq!(local_rpc_port("http://conflux-node.invalid:12539"), None);
        assert_eq!(local_rpc_port("not a url"), None);
    }

    #[test]
    fn configured_pid_file_or_name_wins_over_the_port() {
        let mut s = HostSpec {
            local_rpc_port: Some(12539),
            ..Default::default()
        };
        assert_eq!(s.query(Some(7)).local_rpc_port, Some(12539));
        assert_eq!(s.query(Some(7)).last_pid, Some(7));
        s.pid_file = Some("/run/conflux.pid".into());
        let q = s.query(None);
        assert_eq!(q.local_rpc_port, None);
        assert_eq!(q.pid_file, s.pid_file);
        s.pid_file = None;
        s.process_name = Some("conflux".into());
        assert_eq!(s.query(None).local_rpc_port, None);
        assert!(s.watches_anything());
        assert!(!HostSpec::default().watches_anything());
    }

    #[test]
    fn directories_resolve_like_the_node_does() {
        let w = Path::new("/srv/conflux/run");
        assert_eq!(resolve_dir(None, Some(w), "pos_db"), Some(w.join("pos_db")));
        assert_eq!(
            resolve_dir(Some(Path::new("db2")), Some(w), "pos_db"),
            Some(w.join("db2"))
        );
        assert_eq!(
            resolve_dir(Some(Path::new("/data/pos")), None, "pos_db"),
            Some(PathBuf::from("/data/pos"))
        );
        assert_eq!(resolve_dir(Some(Path::new("db2")), None, "pos_db"), None);
        assert_eq!(resolve_dir(None, None, "pos_db"), None);
        assert_eq!(
            resolve_dir(None, Some(Path::new("relative")), "pos_db"),
            None
        );
        let spec = HostSpec {
            work_dir: Some(w.to_path_buf()),
            ..Default::default()
        };
        assert_eq!(spec.configured_pos_db_dir(), Some(w.join("pos_db")));
    }
}
