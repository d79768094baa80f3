//! Finding the Conflux node's process, again on every poll (nodes restart,
//! pids change).
//!
//! Three methods, tried in this order: the process listening on the RPC port
//! (only when the RPC URL points at this host; it is exactly the process we
//! poll), a configured pid file (explicit, but can go stale), a configured
//! process name (can be ambiguous). The caller learns which one worked.
//! Whether the RPC URL is local is decided by [`super::local::is_local_host`].

use std::path::{Path, PathBuf};

use thiserror::Error;

use super::capped::{read_capped, CappedError};
use super::sockets::{read_listening_inodes, scan_socket_owners};

const PROC: &str = "/proc";

/// How the node's process should be looked for. Fill what the configuration
/// gives; unset methods are skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessQuery {
    /// The RPC port, only when the RPC URL's host [`super::local::is_local_host`].
    pub local_rpc_port: Option<u16>,
    /// A pid file written by the node's supervisor.
    pub pid_file: Option<PathBuf>,
    /// `/proc/PID/comm` (15 characters at most) or the basename of `argv[0]`.
    pub process_name: Option<String>,
    /// The pid found on the previous poll; checked first by the port lookup.
    pub last_pid: Option<i32>,
}

/// Which method found the process (a label for logs or metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoundBy {
    /// It owns the socket listening on the RPC port.
    ListeningPort,
    /// The pid file names it and it is running.
    PidFile,
    /// It is the only process with the configured name.
    ProcessName,
}

impl FoundBy {
    /// Stable label value.
    pub fn as_str(self) -> &'static str {
        match self {
            FoundBy::ListeningPort => "listening_port",
            FoundBy::PidFile => "pid_file",
            FoundBy::ProcessName => "process_name",
        }
    }
}

/// The node's process as found on this poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeProcess {
    /// Thread-group id.
    pub pid: i32,
    /// Which method found it.
    pub found_by: FoundBy,
}

/// Why one method did not find the process.
#[derive(Debug, Error)]
pub enum AttemptError {
    /// Nothing listens on the port in this network namespace.
    #[error("nothing listens on TCP port {port}")]
    NotListening {
        /// The TCP port.
        port: u16,
    },
    /// A socket listens but its owner is hidden among processes whose fds we
    /// may not read.
    #[error(
        "TCP port {port} is listening but its owner is not visible: the fds of {unreadable} \
         processes could not be read; {}",
        super::PORT_LOOKUP_HINT
    )]
    OwnerNotVisible {
        /// The TCP port.
        port: u16,
        /// How many processes' fds could not be read.
        unreadable: usize,
    },
    /// Several processes hold the listening socket or carry the name.
    #[error("{method} matches several processes {pids:?}; configure a pid file")]
    Ambiguous {
        /// Which lookup matched several processes.
        method: &'static str,
        /// The matching pids.
        pids: Vec<i32>,
    },
    /// The pid file does not contain a positive integer. Its content is never shown: the path may name any file
    /// the service can read.
    #[error("pid file {path:?} is not a pid file: it does not hold one positive integer")]
    PidFileInvalid {
        /// The path concerned.
        path: PathBuf,
    },
    /// The pid file is not a small regular file; it was not read.
    #[error("pid file {path:?} is not a pid file: it {reason}")]
    PidFileRefused {
        /// The path concerned.
        path: PathBuf,
        /// Why (a FIFO, too large, ...).
        reason: String,
    },
    /// The pid file names a process that is not running.
    #[error("pid file {path:?} names pid {pid}, which is not running")]
    StalePidFile {
        /// The path concerned.
        path: PathBuf,
        /// The process id.
        pid: i32,
    },
    /// No process carries the name.
    #[error("no process is named {name:?}")]
    NoSuchName {
        /// The configured name.
        name: String,
    },
    /// A file could not be read.
    #[error("reading {path:?}: {source}")]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl AttemptError {
    /// Short stable label of the failure.
    pub fn kind(&self) -> &'static str {
        match self {
            AttemptError::NotListening { .. } | AttemptError::NoSuchName { .. } => "not_found",
            AttemptError::OwnerNotVisible { .. } => "permission_denied",
            AttemptError::Ambiguous { .. } => "ambiguous",
            AttemptError::PidFileInvalid { .. } | AttemptError::PidFileRefused { .. } => {
                "invalid_pid_file"
            }
            AttemptError::StalePidFile { .. } => "stale_pid_file",
            AttemptError::Io { source, .. }
                if source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                "permission_denied"
            }
            AttemptError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                "not_found"
            }
            AttemptError::Io { .. } => "io",
        }
    }
}

/// The process could not be found by any configured method.
#[derive(Debug, Error)]
pub enum FindError {
    /// No method applies: remote RPC host and no pid file or name.
    #[error("no way to find the node process: the RPC host is not local and neither a pid file nor a process name is configured")]
    NoMethod,
    /// Every applicable method failed; each failure is kept, in order.
    #[error("node process not found: {}", join(.attempts))]
    NotFound {
        /// Each method tried and why it failed, in order.
        attempts: Vec<(FoundBy, AttemptError)>,
    },
    /// The blocking task running the lookup failed (panic or shutdown).
    #[error("process lookup task failed: {0}")]
    Internal(String),
}

fn join(attempts: &[(FoundBy, AttemptError)]) -> String {
    let parts: Vec<String> = attempts
        .iter()
        .map(|(m, e)| format!("{}: {e}", m.as_str()))
        .collect();
    parts.join("; ")
}

impl FindError {
    /// The most telling failure: something the operator must fix
    /// (`ambiguous`, `permission_denied`, a bad pid file) wins over a plain
    /// `not_found`, which usually just means the node is down.
    pub fn kind(&self) -> &'static str {
        const ORDER: [&str; 6] = [
            "ambiguous",
            "permission_denied",
            "invalid_pid_file",
            "io",
            "stale_pid_file",
            "not_found",
        ];
        match self {
            FindError::NoMethod => "no_method",
            FindError::Internal(_) => "internal",
            FindError::NotFound { attempts } => ORDER
                .into_iter()
                .find(|k| attempts.iter().any(|(_, e)| e.kind() == *k))
                .unwrap_or("not_found"),
        }
    }
}

/// Finds the node's process with the configured methods, in order. Blocking:
/// walks `/proc`; see [`find_node_process_async`].
pub fn find_node_process(query: &ProcessQuery) -> Result<NodeProcess, FindError> {
    let mut attempts = Vec::new();
    if let Some(port) = query.local_rpc_port {
        match by_port(Path::new(PROC), port, query.last_pid) {
            Ok(pid) => return Ok(found(pid, FoundBy::ListeningPort)),
            Err(e) => attempts.push((FoundBy::ListeningPort, e)),
        }
    }
    if let Some(path) = &query.pid_file {
        match by_pid_file(Path::new(PROC), path) {
            Ok(pid) => return Ok(found(pid, FoundBy::PidFile)),
            Err(e) => attempts.push((FoundBy::PidFile, e)),
        }
    }
    if let Some(name) = &query.process_name {
        match by_name(Path::new(PROC), name) {
            Ok(pid) => return Ok(found(pid, FoundBy::ProcessName)),
            Err(e) => attempts.push((FoundBy::ProcessName, e)),
        }
    }
    if attempts.is_empty() {
        Err(FindError::NoMethod)
    } else {
        Err(FindError::NotFound { attempts })
    }
}

/// [`find_node_process`] on the blocking pool, so a poll loop never walks
/// `/proc` on an async worker.
pub async fn find_node_process_async(query: ProcessQuery) -> Result<NodeProcess, FindError> {
    match tokio::task::spawn_blocking(move || find_node_process(&query)).await {
        Ok(result) => result,
        Err(join) => Err(FindError::Internal(join.to_string())),
    }
}

fn found(pid: i32, found_by: FoundBy) -> NodeProcess {
    NodeProcess { pid, found_by }
}

fn by_port(proc_root: &Path, port: u16, last_pid: Option<i32>) -> Result<i32, AttemptError> {
    let inodes = read_listening_inodes(proc_root, port).map_err(|source| AttemptError::Io {
        path: proc_root.join("net/tcp"),
        source,
    })?;
    if inodes.is_empty() {
        return Err(AttemptError::NotListening { port });
    }
    let scan = scan_socket_owners(proc_root, &inodes, last_pid);
    let owners: Vec<i32> = scan.owners.into_iter().collect();
    match owners.as_slice() {
        [pid] => Ok(*pid),
        [] if scan.unreadable > 0 => Err(AttemptError::OwnerNotVisible {
            port,
            unreadable: scan.unreadable,
        }),
        // The socket closed between the two reads.
        [] => Err(AttemptError::NotListening { port }),
        _ => Err(AttemptError::Ambiguous {
            method: "listening port",
            pids: owners,
        }),
    }
}

/// Parses pid file content: one positive integer, surrounding whitespace
/// allowed (pid files end with a newline).
pub(crate) fn parse_pid_file(content: &str) -> Option<i32> {
    content.trim().parse::<i32>().ok().filter(|pid| *pid > 0)
}

/// Largest pid file read: a pid and a newline (`/proc/sys/kernel/pid_max` is at most 2^22) with room to spare.
pub(crate) const MAX_PID_FILE_BYTES: u64 = 64;

fn by_pid_file(proc_root: &Path, path: &Path) -> Result<i32, AttemptError> {
    let bytes = read_capped(path, MAX_PID_FILE_BYTES).map_err(|e| match e {
        CappedError::Io(source) => AttemptError::Io {
            path: path.to_path_buf(),
            source,
        },
        refused => AttemptError::PidFileRefused {
            path: path.to_path_buf(),
            reason: refused.to_string(),
        },
    })?;
    let pid = std::str::from_utf8(&bytes)
        .ok()
        .and_then(parse_pid_file)
        .ok_or_else(|| AttemptError::PidFileInvalid {
            path: path.to_path_buf(),
        })?;
    if is_running(proc_root, pid) {
        Ok(pid)
    } else {
        Err(AttemptError::StalePidFile {
            path: path.to_path_buf(),
            pid,
        })
    }
}

/// A pid is running when its `/proc` entry exists and it is not a zombie.
fn is_running(proc_root: &Path, pid: i32) -> bool {
    match std::fs::read_to_string(proc_root.join(pid.to_string()).join("stat")) {
        // The state follows the last ')' (comm may contain parentheses).
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Whether a process with `comm` and `argv0` carries `name`.
///
/// The kernel keeps at most 15 bytes of the executable's name in `comm`, so a
/// longer configured name matches its 15-byte prefix there; `argv[0]` (the
/// first NUL-separated field of `/proc/PID/cmdline`) matches by basename.
pub(crate) fn name_matches(name: &str, comm: &str, argv0: Option<&str>) -> bool {
    if name.is_empty() {
        return false;
    }
    let comm = comm.trim_end_matches('\n');
    let truncated = name.get(..15).unwrap_or(name);
    if comm == name || (name.len() > 15 && comm == truncated) {
        return true;
    }
    argv0
        .and_then(|a| Path::new(a).file_name())
        .is_some_and(|base| base == name)
}

fn by_name(proc_root: &Path, name: &str) -> Result<i32, AttemptError> {
    let me = std::process::id() as i32;
    let mut pids = Vec::new();
    for pid in super::sockets::list_pids(proc_root)
        .into_iter()
        .filter(|p| *p != me)
    {
        let dir = proc_root.join(pid.to_string());
        let Ok(comm) = std::fs::read_to_string(dir.join("comm")) else {
            continue;
        };
        let argv0 = if name_matches(name, &comm, None) {
            None
        } else {
            match std::fs::read(dir.join("cmdline")) {
                Ok(raw) => {
                    let first = raw.split(|b| *b == 0).next().unwrap_or_default();
                    Some(String::from_utf8_lossy(first).into_owned())
                }
                Err(_) => continue,
            }
        };
        if name_matches(name, &comm, argv0.as_deref()) && is_running(proc_root, pid) {
            pids.push(pid);
        }
    }
    match pids.as_slice() {
        [pid] => Ok(*pid),
        [] => Err(AttemptError::NoSuchName {
            name: name.to_string(),
        }),
        _ => Err(AttemptError::Ambiguous {
            method: "process name",
            pids,
        }),
    }
}

#[cfg(test)]
#[path = "process_tests.rs"]
mod tests;
