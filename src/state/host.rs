//! What the host poller last found for a node: its process, the space of its directories and its PoS key files,
//! and how the double-voting guard reads the key-file scan.

use std::time::SystemTime;

use crate::assess::guard::look::{FilesLook, SafetyMark, StorageLook};
use crate::host::disk::{DiskError, DiskUsage};
use crate::host::facts::ProcessFacts;
use crate::host::keyfiles::{KeyFileError, KeyFilesReport, SecureStorage};
use crate::host::process::FoundBy;
use crate::pos_address::PosAddress;

/// Why a host probe failed, kept as text plus a stable kind (the `kind` label of the probe-error metrics):
/// the probes' own errors hold `io::Error`s, which cannot be cloned into the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProbeFailure {
    /// Stable kind (`not_found`, `permission_denied`, `timeout`, ...).
    pub kind: &'static str,
    /// The error's text, for logs.
    pub message: String,
}

/// The node's process as the last host probe saw it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ProcessObs {
    /// No lookup method applies (remote RPC host, no pid file or name): nothing can be said about the process.
    NotWatched,
    /// Found and read.
    Found {
        /// Which lookup found it.
        found_by: FoundBy,
        /// What could be read.
        facts: ProcessFacts,
    },
    /// Not found or not readable; no stale facts are kept.
    Failed(ProbeFailure),
}

/// Space of one watched directory's filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DiskObs {
    /// The directory (the `path` label).
    pub path: std::path::PathBuf,
    /// `statvfs` result; an error drops the usage series and shows the error instead.
    pub usage: Result<DiskUsage, DiskError>,
}

/// What the last host probe of a node found. Facts only; the guard verdicts are derived at publish.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HostObs {
    /// The node's process.
    pub process: ProcessObs,
    /// Working dir, data dir and PoS dir, each once per path.
    pub disks: Vec<DiskObs>,
    /// The PoS key files; `None` when no PoS directory is known (nothing configured, working dir unknown).
    pub keys: Option<KeyFilesReport>,
    /// Whether `keys.pos_key` was really probed (the `pos_config` directory was known).
    pub pos_key_checked: bool,
    /// When the key-file scan started: the guard combines it with a voting switch only when it is newer than the
    /// switch's first reading with its current value.
    pub scanned_at: SystemTime,
    /// When the key-file scan ended: the guard combines it with a voting switch only when it is older than the
    /// switch's latest reading (a slow scan may read the files after the switch moved).
    pub scan_finished_at: SystemTime,
}

impl HostObs {
    /// The key-file scan as the double-voting guard reads it; file facts are unknown when the `pos_db`
    /// directory itself is missing or unreadable (wrong path), never "absent".
    pub(crate) fn files_look(&self) -> Option<FilesLook> {
        let k = self.keys.as_ref()?;
        let dir_known = k.pos_db_dir == Some(true);
        let storage = match &k.secure_storage {
            Ok(None) => Some(StorageLook::Absent),
            Ok(Some(s)) => Some(StorageLook::Present(SafetyMark {
                epoch: s.epoch,
                last_voted_round: s.last_voted_round,
                updated: s.safety_data_updated,
            })),
            Err(_) if k.secure_storage_present() == Some(true) => Some(StorageLook::Unreadable),
            Err(_) => None,
        };
        Some(FilesLook {
            scanned_at: self.scanned_at,
            finished_at: self.scan_finished_at,
            storage: storage.filter(|_| dir_known),
            save_present: k.secure_storage_save_present().filter(|_| dir_known),
        })
    }

    /// The (epoch, last voted round) of the safety data `start_voting` would resume from: the `.save` when there
    /// is one (`start_voting` without `--initialize` swaps it in), else the live `secure_storage.json`.
    pub(crate) fn resume_from(&self) -> Option<(u64, u64)> {
        let k = self.keys.as_ref()?;
        let save = k.secure_storage_save.as_ref().ok()?.as_ref();
        let live = k.secure_storage.as_ref().ok()?.as_ref();
        let file = save.or(live)?;
        Some((file.epoch?, file.last_voted_round?))
    }

    /// The safety data's owner: `secure_storage.json`'s, else the `.save`'s (the one `start_voting` would use).
    pub(crate) fn storage_owner(&self) -> Option<&PosAddress> {
        let k = self.keys.as_ref()?;
        owner_of(&k.secure_storage).or_else(|| owner_of(&k.secure_storage_save))
    }
}

fn owner_of(r: &Result<Option<SecureStorage>, KeyFileError>) -> Option<&PosAddress> {
    r.as_ref()
        .ok()
        .and_then(Option::as_ref)
        .and_then(|s| s.owner_account.as_ref())
}

#[cfg(test)]
#[path = "host_tests.rs"]
mod tests;
