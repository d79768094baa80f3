//! Facts about the node's process: when it started, how much memory it holds,
//! how close it is to its open-files limit, and where it runs from.
//!
//! The exporter often runs as another user than the node. Linux then still
//! shows `/proc/PID/stat` (start time, RSS), `/proc/PID/limits` and, since
//! 6.2, the fd count (the `st_size` of `/proc/PID/fd`), but not the fd
//! listing or the working directory. Those parts come back as `None` with a
//! hint naming exactly what would make them readable, instead of failing the
//! whole probe.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use procfs::process::Process;
use procfs::ProcError;
use thiserror::Error;

use super::limits::{parse_max_open_files, LimitsError, SoftHard};

/// What one probe of the node's process could read.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessFacts {
    /// Thread-group id the facts belong to.
    pub pid: i32,
    /// Start time in Unix seconds (boot time + `starttime` ticks); a restart
    /// shows up as a jump of this value.
    pub start_time_seconds: f64,
    /// Resident set size in bytes.
    pub resident_memory_bytes: u64,
    /// Open file descriptors; `None` when neither the listing nor the
    /// kernel's count (Linux >= 6.2) was available.
    pub open_fds: Option<u64>,
    /// RLIMIT_NOFILE, soft and hard.
    pub max_open_files: SoftHard,
    /// Working directory, the base of the node's relative paths
    /// (`blockchain_data`, `pos_db`, `pos_config`).
    pub cwd: Option<PathBuf>,
    /// The parts that were denied to us; empty when everything was readable.
    pub restricted: Vec<Restricted>,
}

/// A part of `/proc/PID` that another user may not read, and what grants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restricted {
    /// Listing `/proc/PID/fd`: a 0500 directory owned by the node's user, so
    /// it needs that user or CAP_DAC_READ_SEARCH.
    FdList,
    /// Reading the `/proc/PID/cwd` link: a ptrace-read check, so it needs
    /// the node's user or CAP_SYS_PTRACE.
    Cwd,
}

impl Restricted {
    /// The capability that lifts this restriction without running as the
    /// node's user.
    pub fn capability(self) -> &'static str {
        match self {
            Restricted::FdList => "CAP_DAC_READ_SEARCH",
            Restricted::Cwd => "CAP_SYS_PTRACE",
        }
    }

    fn object(self) -> &'static str {
        match self {
            Restricted::FdList => "list /proc/PID/fd",
            Restricted::Cwd => "read /proc/PID/cwd",
        }
    }
}

impl ProcessFacts {
    /// False when some part was denied (`conflux_node_process_readable`).
    pub fn readable(&self) -> bool {
        self.restricted.is_empty()
    }

    /// What the operator can do about the denied parts, or `None` when all
    /// was readable.
    pub fn hint(&self) -> Option<String> {
        restriction_hint(&self.restricted)
    }
}

/// The hint text for a set of denied parts, naming only the capabilities that
/// are really needed (verified on Linux 6.18 with `setpriv`).
pub(crate) fn restriction_hint(restricted: &[Restricted]) -> Option<String> {
    if restricted.is_empty() {
        return None;
    }
    let grants: Vec<String> = restricted
        .iter()
        .map(|r| format!("{} (to {})", r.capability(), r.object()))
        .collect();
    Some(format!(
        "run the exporter as the node's user, or grant {}",
        grants.join(" and ")
    ))
}

/// Reading the process failed as a whole.
#[derive(Debug, Error)]
pub enum FactsError {
    /// The process exited (or never existed).
    #[error("process {pid} is gone")]
    Gone {
        /// The process id.
        pid: i32,
    },
    /// A part that is normally world-readable was denied (hardened /proc,
    /// `hidepid=`).
    #[error("reading {what} of process {pid}: permission denied")]
    PermissionDenied {
        /// The process id.
        pid: i32,
        /// Which part of `/proc/PID` was being read.
        what: &'static str,
    },
    /// Any other read failure.
    #[error("reading {what} of process {pid}: {detail}")]
    Io {
        /// The process id.
        pid: i32,
        /// Which part of `/proc/PID` was being read.
        what: &'static str,
        /// The underlying error's message.
        detail: String,
    },
    /// `/proc/PID/limits` did not have the expected shape.
    #[error("parsing /proc/{pid}/limits: {source}")]
    Limits {
        /// The process id.
        pid: i32,
        /// The underlying error.
        #[source]
        source: LimitsError,
    },
}

impl FactsError {
    /// Short stable label of the failure.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            FactsError::Gone { .. } => "gone",
            FactsError::PermissionDenied { .. } => "permission_denied",
            FactsError::Io { .. } => "io",
            FactsError::Limits { .. } => "parse",
        }
    }
}

fn from_proc(pid: i32, what: &'static str, e: ProcError) -> FactsError {
    match e {
        ProcError::NotFound(_) => FactsError::Gone { pid },
        ProcError::PermissionDenied(_) => FactsError::PermissionDenied { pid, what },
        other => FactsError::Io {
            pid,
            what,
            detail: other.to_string(),
        },
    }
}

fn from_io(pid: i32, what: &'static str, e: std::io::Error) -> FactsError {
    match e.kind() {
        ErrorKind::NotFound => FactsError::Gone { pid },
        ErrorKind::PermissionDenied => FactsError::PermissionDenied { pid, what },
        _ => FactsError::Io {
            pid,
            what,
            detail: e.to_string(),
        },
    }
}

/// Start time in Unix seconds from the boot time and the process's
/// `starttime` in clock ticks since boot.
pub(crate) fn start_time_seconds(
    boot_time_secs: u64,
    starttime_ticks: u64,
    ticks_per_second: u64,
) -> f64 {
    boot_time_secs as f64 + starttime_ticks as f64 / ticks_per_second.max(1) as f64
}

/// Reads the facts of `pid`. Blocking; see [`read_process_facts_async`].
pub fn read_process_facts(pid: i32) -> Result<ProcessFacts, FactsError> {
    let process = Process::new(pid).map_err(|e| from_proc(pid, "/proc/PID", e))?;
    let stat = process.stat().map_err(|e| from_proc(pid, "stat", e))?;
    let boot = procfs::boot_time_secs().map_err(|e| from_proc(pid, "/proc/stat", e))?;
    let root = PathBuf::from(format!("/proc/{pid}"));
    let limits_text =
        std::fs::read_to_string(root.join("limits")).map_err(|e| from_io(pid, "limits", e))?;
    let max_open_files =
        parse_max_open_files(&limits_text).map_err(|source| FactsError::Limits { pid, source })?;

    let mut restricted = Vec::new();
    let open_fds = count_fds(pid, &root.join("fd"), &mut restricted)?;
    let cwd = match std::fs::read_link(root.join("cwd")) {
        Ok(path) => Some(path),
        Err(e) if e.kind() == ErrorKind::PermissionDenied => {
            restricted.push(Restricted::Cwd);
            None
        }
        // A zombie has no cwd; the next poll re-resolves the process.
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => return Err(from_io(pid, "cwd", e)),
    };
    Ok(ProcessFacts {
        pid,
        start_time_seconds: start_time_seconds(boot, stat.starttime, procfs::ticks_per_second()),
        resident_memory_bytes: stat.rss.saturating_mul(procfs::page_size()),
        open_fds,
        max_open_files,
        cwd,
        restricted,
    })
}

/// Lists the fd directory when allowed; otherwise falls back to its
/// `st_size`, which Linux >= 6.2 sets to the number of open fds for anyone.
fn count_fds(
    pid: i32,
    fd_dir: &Path,
    restricted: &mut Vec<Restricted>,
) -> Result<Option<u64>, FactsError> {
    match std::fs::read_dir(fd_dir) {
        Ok(entries) => Ok(Some(entries.flatten().count() as u64)),
        Err(e) if e.kind() == ErrorKind::PermissionDenied => {
            restricted.push(Restricted::FdList);
            Ok(std::fs::metadata(fd_dir)
                .ok()
                .map(|m| m.len())
                .filter(|n| *n > 0))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Err(FactsError::Gone { pid }),
        Err(e) => Err(from_io(pid, "fd", e)),
    }
}

/// [`read_process_facts`] on the blocking pool.
pub(crate) async fn read_process_facts_async(pid: i32) -> Result<ProcessFacts, FactsError> {
    tokio::task::spawn_blocking(move || read_process_facts(pid))
        .await
        .unwrap_or_else(|join| {
            Err(FactsError::Io {
                pid,
                what: "blocking task",
                detail: join.to_string(),
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_from_ticks() {
        assert_eq!(
            start_time_seconds(1_700_000_000, 41087, 100),
            1_700_000_410.87
        );
        assert_eq!(
            start_time_seconds(10, 5, 0),
            15.0,
            "a zero tick rate never divides by zero"
        );
    }

    #[test]
    fn hints_name_only_the_needed_capability() {
        assert_eq!(restriction_hint(&[]), None);
        let fd = restriction_hint(&[Restricted::FdList]).unwrap_or_default();
        assert!(
            fd.contains("CAP_DAC_READ_SEARCH") && !fd.contains("CAP_SYS_PTRACE"),
            "{fd}"
        );
        let both = restriction_hint(&[Restricted::FdList, Restricted::Cwd]).unwrap_or_default();
        assert_eq!(
            both,
            "run the exporter as the node's user, or grant CAP_DAC_READ_SEARCH (to list \
             /proc/PID/fd) and CAP_SYS_PTRACE (to read /proc/PID/cwd)"
        );
    }

    #[test]
    fn own_process_is_fully_readable() {
        let me = std::process::id() as i32;
        let facts = read_process_facts(me).unwrap();
        assert!(facts.readable() && facts.hint().is_none());
        assert!(facts.resident_memory_bytes > 0);
        assert!(facts.open_fds.unwrap_or_default() >= 3);
        assert_eq!(facts.cwd, std::env::current_dir().ok());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default();
        assert!(facts.start_time_seconds <= now + 1.0 && facts.start_time_seconds > now - 600.0);
    }

    #[test]
    fn missing_process_is_gone() {
        // Above the kernel's pid_max limit (4194304), so never a real pid.
        let err = read_process_facts(i32::MAX).unwrap_err();
        assert_eq!(err.kind(), "gone", "{err}");
    }
}
