//! The node's process, disks and PoS key files, from the host poller's facts. Re-derived on every publish: a
//! probe that fails drops the series that depend on it and shows the failure in a `*_probe_error` series, and a
//! process that is gone leaves `process_up` 0 with no fd, limit or memory series behind.

use super::def::catalogue;
use super::value::{flag, set};
use crate::host::keyfiles::KeyFileError;
use crate::host::limits::SoftHard;
use crate::state::{HostObs, NodeState, ProcessObs, State};

/// The two safety-rules files, as the `file` label spells them.
pub(crate) const STORAGE_FILES: [&str; 2] = ["secure_storage.json", "secure_storage.json.save"];

catalogue! {
    /// Host families.
    pub struct HostFamilies {
        section("Host", "Probes of the node's host: its process, disks and PoS key files, for a node on the exporter's own host (the paths are per-node keys of the configuration).");
        process_up: Gauge("conflux_node_process_up", ["node"], "1 when the node process is found", doc: "1 when the node's process was found (configured pid_file or process_name, else the listener of the local RPC port) and read; 0 when not (conflux_node_process_probe_error says why). Absent when no lookup method applies (remote RPC host, nothing configured)."),
        process_probe_error: Gauge("conflux_node_process_probe_error", ["node", "kind"], "1 with why the process probe failed", doc: "1 with the reason the node's process could not be found or read (not_found, stale_pid_file, gone, ambiguous, permission_denied, invalid_pid_file, io, parse, internal); absent while it is read."),
        start_time: Gauge("conflux_node_process_start_time_seconds", ["node"], "Node process start time", doc: "Start time of the node's process in Unix seconds; a change means the node restarted."),
        open_fds: Gauge("conflux_node_process_open_fds", ["node"], "Node process open file descriptors", doc: "Open file descriptors of the node's process; absent when neither the fd listing nor the kernel's count (Linux >= 6.2) is readable."),
        max_fds: Gauge("conflux_node_process_max_fds", ["node", "limit"], "Node process open-file limits", doc: "RLIMIT_NOFILE of the node's process, soft and hard (limit=soft|hard); +Inf when unlimited."),
        rss: Gauge("conflux_node_process_resident_memory_bytes", ["node"], "Node resident memory", doc: "Resident memory of the node's process in bytes."),
        readable: Gauge("conflux_node_process_readable", ["node"], "1 when the process is fully readable", doc: "1 when the node's /proc entry was fully readable; 0 when its fd listing or working directory belongs to another user (run as the node's user, or grant CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE; see the README)."),
        disk_available: Gauge("conflux_disk_available_bytes", ["node", "path"], "Bytes available at the path", doc: "Bytes available to unprivileged users on the filesystem holding the node's working dir, data dir or pos_db (one series per path, even when they share a filesystem)."),
        disk_size: Gauge("conflux_disk_size_bytes", ["node", "path"], "Filesystem size at the path", doc: "Size in bytes of the filesystem holding the path (the node's working dir, data dir or pos_db)."),
        disk_free: Gauge("conflux_disk_free_bytes", ["node", "path"], "Free bytes at the path", doc: "Free bytes, root-reserved blocks included, on the filesystem holding the path."),
        disk_probe_error: Gauge("conflux_disk_probe_error", ["node", "path", "kind"], "1 with why the disk probe failed", doc: "1 when statvfs of the path failed (not_found, permission_denied, io, timeout, stuck: an earlier call has not returned, internal); the path's usage series are then absent."),
        key_present: Gauge("conflux_pos_key_present", ["node"], "1 when pos_config/pos_key exists", doc: "1 when pos_config/pos_key exists, 0 when it is missing (a restart would create a new PoS identity)."),
        key_permissions_ok: Gauge("conflux_pos_key_permissions_ok", ["node"], "1 when pos_key is owner-only", doc: "1 when pos_key is not readable by group or others, 0 when it is; absent when the key is missing."),
        secure_storage_present: Gauge("conflux_pos_secure_storage_present", ["node", "file"], "1 when pos_db holds the file", doc: "1 when pos_db holds the file (secure_storage.json: the live safety data; secure_storage.json.save: the copy stop_voting leaves for a hand-over), 0 when not."),
        safety_data_updated: Gauge("conflux_pos_safety_data_updated_timestamp_seconds", ["node"], "When the safety data was written", doc: "last_update of the safety data in secure_storage.json, in Unix seconds: the node rewrites it whenever it signs a vote or timeout."),
        key_file_probe_error: Gauge("conflux_pos_key_file_probe_error", ["node", "file", "kind"], "1 with why a key file probe failed", doc: "1 when a PoS key file could not be inspected (permission_denied, malformed, too_large, not_regular_file: a FIFO or device is never read, io); its dependent series are then absent."),
    }
}

impl HostFamilies {
    /// Re-derives every host series from `state`.
    pub(crate) fn publish(&self, state: &State) {
        self.reset_gauges();
        for node in &state.nodes {
            if let Some(h) = &node.host {
                self.publish_node(node, h);
            }
        }
    }

    fn publish_node(&self, node: &NodeState, h: &HostObs) {
        let n = node.name.as_str();
        match &h.process {
            ProcessObs::NotWatched => {}
            ProcessObs::Failed(f) => {
                set(&self.process_up, &[n], 0.0);
                set(&self.process_probe_error, &[n, f.kind], 1.0);
            }
            ProcessObs::Found { facts, .. } => {
                set(&self.process_up, &[n], 1.0);
                set(&self.start_time, &[n], facts.start_time_seconds);
                set(&self.rss, &[n], facts.resident_memory_bytes as f64);
                if let Some(fds) = facts.open_fds {
                    set(&self.open_fds, &[n], fds as f64);
                }
                self.publish_limits(n, facts.max_open_files);
                set(&self.readable, &[n], flag(facts.readable()));
            }
        }
        for d in &h.disks {
            let path = d.path.to_string_lossy();
            let labels = [n, path.as_ref()];
            match &d.usage {
                Ok(u) => {
                    set(&self.disk_available, &labels, u.available_bytes as f64);
                    set(&self.disk_size, &labels, u.size_bytes as f64);
                    set(&self.disk_free, &labels, u.free_bytes as f64);
                }
                Err(e) => set(&self.disk_probe_error, &[n, &path, e.kind()], 1.0),
            }
        }
        self.publish_keys(n, h);
    }

    fn publish_limits(&self, n: &str, limits: SoftHard) {
        set(&self.max_fds, &[n, "soft"], limits.soft.as_f64());
        set(&self.max_fds, &[n, "hard"], limits.hard.as_f64());
    }

    fn publish_keys(&self, n: &str, h: &HostObs) {
        let Some(k) = &h.keys else { return };
        let error = |file: &str, e: Option<&KeyFileError>| {
            if let Some(e) = e {
                set(&self.key_file_probe_error, &[n, file, e.kind()], 1.0);
            }
        };
        if h.pos_key_checked {
            if let Some(p) = k.pos_key_present() {
                set(&self.key_present, &[n], flag(p));
            }
            if let Some(ok) = k.pos_key_permissions_ok() {
                set(&self.key_permissions_ok, &[n], flag(ok));
            }
            error("pos_key", k.pos_key.as_ref().err());
        }
        let presence = [k.secure_storage_present(), k.secure_storage_save_present()];
        let results = [&k.secure_storage, &k.secure_storage_save];
        for ((file, present), result) in STORAGE_FILES.into_iter().zip(presence).zip(results) {
            if let Some(p) = present {
                set(&self.secure_storage_present, &[n, file], flag(p));
            }
            error(file, result.as_ref().err());
        }
        let updated = k
            .secure_storage
            .as_ref()
            .ok()
            .and_then(Option::as_ref)
            .and_then(|s| s.safety_data_updated);
        if let Some(t) = updated {
            set(&self.safety_data_updated, &[n], t as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::SystemTime;

    use super::*;
    use crate::host::disk::{DiskError, DiskUsage};
    use crate::host::facts::ProcessFacts;
    use crate::host::limits::LimitValue;
    use crate::host::process::FoundBy;
    use crate::metrics::test_support::{present, text, value};
    use crate::state::{DiskObs, ProbeFailure};

    fn host(process: ProcessObs) -> HostObs {
        HostObs {
            process,
            disks: vec![
                DiskObs {
                    path: PathBuf::from("/data"),
                    usage: Ok(DiskUsage {
                        available_bytes: 10,
                        size_bytes: 100,
                        free_bytes: 20,
                    }),
                },
                DiskObs {
                    path: PathBuf::from("/gone"),
                    usage: Err(DiskError::NotFound {
                        path: PathBuf::from("/gone"),
                    }),
                },
            ],
            keys: None,
            pos_key_checked: false,
            scanned_at: SystemTime::now(),
            scan_finished_at: SystemTime::now(),
        }
    }

    fn published(process: ProcessObs) -> String {
        let r = prometheus::Registry::new();
        let f = HostFamilies::register(&r).unwrap();
        let state = State {
            nodes: vec![NodeState {
                name: "n".into(),
                host: Some(host(process)),
                ..Default::default()
            }],
            ..Default::default()
        };
        f.publish(&state);
        text(&r)
    }

    #[test]
    fn a_failed_probe_says_why_and_leaves_no_stale_series() {
        let t = published(ProcessObs::Failed(ProbeFailure {
            kind: "not_found",
            message: "no process listens on 12539".into(),
        }));
        let n = ("node", "n");
        assert_eq!(value(&t, "conflux_node_process_up", &[n]), Some(0.0));
        let error = [n, ("kind", "not_found")];
        assert_eq!(
            value(&t, "conflux_node_process_probe_error", &error),
            Some(1.0)
        );
        for absent in [
            "conflux_node_process_open_fds",
            "conflux_node_process_max_fds",
        ] {
            assert!(!present(&t, absent), "{absent}\n{t}");
        }
        let data = [n, ("path", "/data")];
        assert_eq!(value(&t, "conflux_disk_available_bytes", &data), Some(10.0));
        assert_eq!(value(&t, "conflux_disk_free_bytes", &data), Some(20.0));
        let gone = [n, ("path", "/gone"), ("kind", "not_found")];
        assert_eq!(value(&t, "conflux_disk_probe_error", &gone), Some(1.0));
        assert_eq!(
            value(&t, "conflux_disk_size_bytes", &[n, ("path", "/gone")]),
            None
        );
        assert!(
            !present(&t, "conflux_pos_key_present"),
            "key files not checked"
        );
    }

    #[test]
    fn a_found_process_with_an_unlimited_hard_limit() {
        let facts = ProcessFacts {
            pid: 42,
            start_time_seconds: 1_700_000_000.0,
            resident_memory_bytes: 4096,
            open_fds: None,
            max_open_files: SoftHard {
                soft: LimitValue::Limited(1024),
                hard: LimitValue::Unlimited,
            },
            cwd: None,
            restricted: vec![],
        };
        let t = published(ProcessObs::Found {
            found_by: FoundBy::ListeningPort,
            facts,
        });
        let n = ("node", "n");
        assert_eq!(value(&t, "conflux_node_process_up", &[n]), Some(1.0));
        assert_eq!(
            value(&t, "conflux_node_process_resident_memory_bytes", &[n]),
            Some(4096.0)
        );
        let max = "conflux_node_process_max_fds";
        assert_eq!(value(&t, max, &[n, ("limit", "soft")]), Some(1024.0));
        assert_eq!(value(&t, max, &[n, ("limit", "hard")]), Some(f64::INFINITY));
        assert!(
            !present(&t, "conflux_node_process_open_fds"),
            "unreadable count: absent"
        );
        assert!(!present(&t, "conflux_node_process_probe_error"));
    }
}
