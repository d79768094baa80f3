//! Host probes: the node's process, its limits, its disks and its PoS key
//! files, read from this machine's `/proc` and filesystem.
//!
//! Everything here is plain functions returning plain structs; watchers call
//! them (the blocking ones through their `*_async` wrappers or
//! [`disk::DiskProber`]) and turn the results into metrics. Nothing writes:
//! the node's files are opened read-only, `/proc` is only read.

pub(crate) mod capped;
pub(crate) mod disk;
pub mod facts;
pub mod keyfiles;
pub mod limits;
pub(crate) mod local;
pub mod process;
pub mod sockets;

/// What makes other processes' socket links readable, for the port lookup
/// (listing `/proc/PID/fd` needs CAP_DAC_READ_SEARCH, reading the links in
/// it a ptrace-read check, hence CAP_SYS_PTRACE).
pub const PORT_LOOKUP_HINT: &str = "run the exporter as the node's user, or grant \
     CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE (both are needed to read another user's \
     /proc/PID/fd links), or configure a pid file";
