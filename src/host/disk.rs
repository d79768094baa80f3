//! Free space on the node's filesystems, without ever letting a hung mount
//! stall a poll loop.
//!
//! `statvfs` on a dead NFS mount can block for minutes. Each call runs on the
//! blocking pool under a timeout; a call that times out is abandoned but
//! stays registered as outstanding for its path, and the path is reported as
//! `stuck` (without a new call) until that very call returns. So at most one
//! blocking call per path is ever in flight, and a recovered mount is probed
//! again on the next poll.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use thiserror::Error;

/// Space on the filesystem holding one path, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DiskUsage {
    /// Available to unprivileged users (`f_bavail * f_frsize`): what the
    /// node, not running as root, can still write.
    pub available_bytes: u64,
    /// Filesystem size (`f_blocks * f_frsize`).
    pub size_bytes: u64,
    /// Free including root-reserved blocks (`f_bfree * f_frsize`).
    pub free_bytes: u64,
}

/// Why a path's usage could not be read.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub(crate) enum DiskError {
    /// The path (or one of its parents) does not exist.
    #[error("{path:?} does not exist")]
    NotFound {
        /// The path concerned.
        path: PathBuf,
    },
    /// A parent directory is not searchable for the exporter's user.
    #[error("{path:?}: permission denied")]
    PermissionDenied {
        /// The path concerned.
        path: PathBuf,
    },
    /// Any other `statvfs` failure.
    #[error("statvfs {path:?}: {detail}")]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error's message.
        detail: String,
    },
    /// The call did not return within the timeout and was abandoned.
    #[error("statvfs {path:?} did not return within {after:?}")]
    TimedOut {
        /// The path concerned.
        path: PathBuf,
        /// The timeout that elapsed.
        after: Duration,
    },
    /// An earlier call for this path has still not returned; no new call was
    /// made.
    #[error("statvfs {path:?} has been stuck for {for_:?}")]
    Stuck {
        /// The path concerned.
        path: PathBuf,
        /// Time since the outstanding call started.
        for_: Duration,
    },
    /// The blocking task failed (panic or runtime shutdown).
    #[error("statvfs {path:?}: blocking task failed: {detail}")]
    Internal {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error's message.
        detail: String,
    },
}

impl DiskError {
    /// Short stable label of the failure.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            DiskError::NotFound { .. } => "not_found",
            DiskError::PermissionDenied { .. } => "permission_denied",
            DiskError::Io { .. } => "io",
            DiskError::TimedOut { .. } => "timeout",
            DiskError::Stuck { .. } => "stuck",
            DiskError::Internal { .. } => "internal",
        }
    }

    fn from_io(path: &Path, e: std::io::Error) -> Self {
        let path = path.to_path_buf();
        match e.kind() {
            ErrorKind::NotFound | ErrorKind::NotADirectory => DiskError::NotFound { path },
            ErrorKind::PermissionDenied => DiskError::PermissionDenied { path },
            _ => DiskError::Io {
                path,
                detail: e.to_string(),
            },
        }
    }
}

/// `statvfs(path)` turned into byte counts. Blocking: may hang on a dead
/// network mount; use [`DiskProber`] from async code.
pub(crate) fn statvfs_usage(path: &Path) -> std::io::Result<DiskUsage> {
    let s = rustix::fs::statvfs(path)?;
    Ok(DiskUsage {
        available_bytes: s.f_bavail.saturating_mul(s.f_frsize),
        size_bytes: s.f_blocks.saturating_mul(s.f_frsize),
        free_bytes: s.f_bfree.saturating_mul(s.f_frsize),
    })
}

/// The blocking call a prober makes; replaceable so tests can simulate a
/// mount that hangs.
pub(crate) type StatFn = Arc<dyn Fn(&Path) -> std::io::Result<DiskUsage> + Send + Sync>;

type Outstanding = Arc<Mutex<HashMap<PathBuf, Instant>>>;

/// Probes paths with a timeout, remembering calls that have not returned.
/// Cheap to clone; clones share the outstanding-call registry, so one prober
/// should be shared by everything that probes the same paths.
#[derive(Clone)]
pub(crate) struct DiskProber {
    timeout: Duration,
    outstanding: Outstanding,
    stat: StatFn,
}

impl std::fmt::Debug for DiskProber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskProber")
            .field("timeout", &self.timeout)
            .field("outstanding", &lock(&self.outstanding).len())
            .finish()
    }
}

fn lock(m: &Mutex<HashMap<PathBuf, Instant>>) -> MutexGuard<'_, HashMap<PathBuf, Instant>> {
    // The map stays consistent even if a holder panicked: every critical
    // section is a single insert, remove or read.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Removes the path from the registry when the blocking call ends, however
/// it ends (return, panic, or the task never running).
struct Registration {
    outstanding: Outstanding,
    path: PathBuf,
}

impl Drop for Registration {
    fn drop(&mut self) {
        lock(&self.outstanding).remove(&self.path);
    }
}

impl DiskProber {
    /// A prober using the real `statvfs`.
    pub(crate) fn new(timeout: Duration) -> Self {
        Self::with_stat_fn(timeout, Arc::new(statvfs_usage))
    }

    /// A prober using `stat` instead of `statvfs` (tests).
    pub(crate) fn with_stat_fn(timeout: Duration, stat: StatFn) -> Self {
        DiskProber {
            timeout,
            outstanding: Arc::new(Mutex::new(HashMap::new())),
            stat,
        }
    }

    /// Usage of the filesystem holding `path`; never waits longer than the
    /// timeout, and returns [`DiskError::Stuck`] at once while an earlier
    /// call for the same path is still outstanding.
    pub(crate) async fn probe(&self, path: &Path) -> Result<DiskUsage, DiskError> {
        let registration = {
            let mut map = lock(&self.outstanding);
            if let Some(since) = map.get(path) {
                return Err(DiskError::Stuck {
                    path: path.to_path_buf(),
                    for_: since.elapsed(),
                });
            }
            map.insert(path.to_path_buf(), Instant::now());
            Registration {
                outstanding: Arc::clone(&self.outstanding),
                path: path.to_path_buf(),
            }
        };
        let stat = Arc::clone(&self.stat);
        let owned = path.to_path_buf();
        let call = tokio::task::spawn_blocking(move || {
            let _registration = registration;
            stat(&owned)
        });
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(Ok(usage))) => Ok(usage),
            Ok(Ok(Err(e))) => Err(DiskError::from_io(path, e)),
            Ok(Err(join)) => Err(DiskError::Internal {
                path: path.to_path_buf(),
                detail: join.to_string(),
            }),
            Err(_) => Err(DiskError::TimedOut {
                path: path.to_path_buf(),
                after: self.timeout,
            }),
        }
    }

    /// Paths whose call has been outstanding for longer than the timeout, and
    /// for how long: the hung mounts.
    #[cfg(test)]
    pub(crate) fn stuck_paths(&self) -> Vec<(PathBuf, Duration)> {
        let mut stuck: Vec<(PathBuf, Duration)> = lock(&self.outstanding)
            .iter()
            .map(|(p, since)| (p.clone(), since.elapsed()))
            .filter(|(_, age)| *age > self.timeout)
            .collect();
        stuck.sort();
        stuck
    }
}

/// One directory whose filesystem should be watched, with a stable label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DiskTarget {
    /// `working_dir`, `data_dir` or `pos_dir`.
    pub label: &'static str,
    /// Absolute path to probe.
    pub path: PathBuf,
}

/// The directories to watch for a node: its working directory (logs live
/// there), `conflux_data_dir` (default `<cwd>/blockchain_data`) and the PoS
/// data dir (default `<cwd>/pos_db`).
///
/// Relative configured paths resolve against the node's working directory,
/// as the node itself resolves them; without a known cwd they are left out.
/// Paths on one filesystem are all listed: each gets its own series, because
/// the operator asks "is the PoS db's disk full", not "which mount is it".
pub(crate) fn disk_targets(
    cwd: Option<&Path>,
    data_dir: Option<&Path>,
    pos_dir: Option<&Path>,
) -> Vec<DiskTarget> {
    let mut out = Vec::new();
    if let Some(cwd) = cwd.filter(|c| c.is_absolute()) {
        out.push(DiskTarget {
            label: "working_dir",
            path: clean(cwd),
        });
    }
    for (label, configured, default) in [
        ("data_dir", data_dir, "blockchain_data"),
        ("pos_dir", pos_dir, "pos_db"),
    ] {
        let path = match configured {
            Some(p) if p.is_absolute() => Some(clean(p)),
            Some(p) => cwd.filter(|c| c.is_absolute()).map(|c| clean(&c.join(p))),
            None => cwd
                .filter(|c| c.is_absolute())
                .map(|c| clean(&c.join(default))),
        };
        if let Some(path) = path {
            out.push(DiskTarget { label, path });
        }
    }
    out
}

/// Drops `.` components (`./blockchain_data` from the node's config), keeping
/// `..` untouched because a symlink may make it mean something else.
fn clean(p: &Path) -> PathBuf {
    p.components().filter(|c| *c != Component::CurDir).collect()
}

#[cfg(test)]
#[path = "disk_tests.rs"]
mod tests;
