//! Where a node's process and files are: the `[[node]]` keys the host checks read. Declared once: the file
//! section takes them as they are (flattened into `[[node]]`), the validated [`super::NodeConfig`] and the host
//! poller's spec carry the same struct, so a new path is one field here (plus its use).

use std::path::PathBuf;

use serde::Deserialize;

/// The node's directories, pid file and process name, as configured (relative directories resolve against the
/// working directory, as the node resolves them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct NodePaths {
    /// The node's working directory (`run/`); discovered from `/proc/PID/cwd` when absent.
    pub work_dir: Option<PathBuf>,
    /// `conflux_data_dir` (default `<work_dir>/blockchain_data`).
    pub data_dir: Option<PathBuf>,
    /// The PoS data directory holding `secure_storage.json` (default `<work_dir>/pos_db`).
    pub pos_dir: Option<PathBuf>,
    /// The directory holding `pos_key` (default `<work_dir>/pos_config`).
    pub pos_config_dir: Option<PathBuf>,
    /// A pid file, when the process cannot be found by its listening port.
    pub pid_file: Option<PathBuf>,
    /// A process name, when neither port nor pid file finds it.
    pub process_name: Option<String>,
}

impl NodePaths {
    /// The path-valued keys with their names, in file order (for `--config.check` and "is anything set").
    pub fn paths(&self) -> [(&'static str, Option<&PathBuf>); 5] {
        [
            ("work_dir", self.work_dir.as_ref()),
            ("data_dir", self.data_dir.as_ref()),
            ("pos_dir", self.pos_dir.as_ref()),
            ("pos_config_dir", self.pos_config_dir.as_ref()),
            ("pid_file", self.pid_file.as_ref()),
        ]
    }

    /// True when any key is set.
    pub fn any(&self) -> bool {
        self.process_name.is_some() || self.paths().iter().any(|(_, p)| p.is_some())
    }
}
