//! What the host poller logs: each problem once per change rather than once per poll, so a node whose pid file is
//! missing for a day writes one line, and its recovery another.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::host::facts::{restriction_hint, Restricted};
use crate::state::{HostObs, ProcessObs};

/// What was last logged for one node.
#[derive(Debug, Default)]
pub(super) struct HostLog {
    node: String,
    process: Option<String>,
    restricted: Vec<Restricted>,
    disks: BTreeMap<PathBuf, Option<&'static str>>,
    keys: BTreeMap<&'static str, Option<String>>,
    key_permissions_ok: Option<bool>,
    pos_db_dir: Option<Option<bool>>,
}

impl HostLog {
    /// Nothing logged yet for `node`.
    pub(super) fn new(node: String) -> Self {
        Self {
            node,
            ..Default::default()
        }
    }

    /// How the process was found (or why not), and which parts of its `/proc` entry are unreadable.
    pub(super) fn process(&mut self, p: &ProcessObs) {
        let n = &self.node;
        let key = match p {
            ProcessObs::NotWatched => "not_watched".to_string(),
            ProcessObs::Found { facts, .. } => format!("pid {}", facts.pid),
            ProcessObs::Failed(f) => f.kind.to_string(),
        };
        if self.process.as_deref() != Some(key.as_str()) {
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
            self.process = Some(key);
        }
        let restricted = match p {
            ProcessObs::Found { facts, .. } => facts.restricted.clone(),
            _ => Vec::new(),
        };
        if restricted != self.restricted {
            if let Some(hint) = restriction_hint(&restricted) {
                tracing::warn!(node = %n, hint = %hint, "part of the node's /proc entry is not readable (conflux_node_process_readable 0): the fd listing or working directory belongs to another user");
            }
            self.restricted = restricted;
        }
    }

    /// Disk probe failures, a missing `pos_db`, unreadable key files and a `pos_key` readable by others.
    pub(super) fn files(&mut self, obs: &HostObs) {
        for d in &obs.disks {
            let kind = d.usage.as_ref().err().map(|e| e.kind());
            if self.disks.get(&d.path) != Some(&kind) {
                if let Err(e) = &d.usage {
                    tracing::warn!(node = %self.node, path = %d.path.display(), kind = e.kind(), error = %e, "disk probe failed");
                }
                self.disks.insert(d.path.clone(), kind);
            }
        }
        let Some(k) = &obs.keys else { return };
        if self.pos_db_dir != Some(k.pos_db_dir) {
            if k.pos_db_dir == Some(false) {
                // Not a failover danger: either the node never ran PoS here or the exporter looks in the wrong
                // place. The guard treats the files as unknown, never as "absent".
                tracing::warn!(node = %self.node, "no pos_db directory where the node's safety files should be: check work_dir / pos_dir (or the node has never started PoS); the failover state stays unknown");
            }
            self.pos_db_dir = Some(k.pos_db_dir);
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
            if self.keys.get(file) != Some(&text) {
                if let Some(t) = &text {
                    tracing::warn!(node = %self.node, file, error = %t, "cannot inspect PoS key file");
                }
                self.keys.insert(file, text);
            }
        }
        let perms = k.pos_key_permissions_ok();
        if perms != self.key_permissions_ok {
            if perms == Some(false) {
                tracing::warn!(node = %self.node, "pos_config/pos_key is readable by group or others; chmod 600 it");
            }
            self.key_permissions_ok = perms;
        }
    }
}
