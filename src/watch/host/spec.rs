//! Where one node's process and files are: the configured [`NodePaths`] plus what the RPC URL says (its port, when
//! the node runs on this machine), and how each directory is placed when only the working directory is known.
//!
//! Process lookup precedence: a configured `pid_file` or `process_name` wins over the RPC-port lookup, because
//! the operator said where the node is; the port lookup is used only when neither is configured and the RPC
//! URL's host is this machine. (The port can also be held by a proxy or, in tests, by a simulator, which the
//! operator's explicit setting disambiguates.)

use std::path::{Path, PathBuf};

use crate::config::{NodeConfig, NodePaths};
use crate::host::local::is_local_host;
use crate::host::process::ProcessQuery;

/// Where one node's process and files are, from its `[[node]]` section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct HostSpec {
    /// The RPC port, when the RPC URL's host is this machine.
    pub local_rpc_port: Option<u16>,
    /// The configured directories, pid file and process name.
    pub paths: NodePaths,
}

impl HostSpec {
    /// The spec of a configured node.
    pub(crate) fn from_config(n: &NodeConfig) -> Self {
        Self {
            local_rpc_port: local_rpc_port(&n.rpc_url),
            paths: n.paths.clone(),
        }
    }

    /// False when nothing about the host can be learned (remote node, nothing configured): no poller is started.
    pub(crate) fn watches_anything(&self) -> bool {
        self.local_rpc_port.is_some() || self.paths.any()
    }

    /// The process query for this poll: configured methods win; the port lookup only when none is configured.
    pub(crate) fn query(&self, last_pid: Option<i32>) -> ProcessQuery {
        let p = &self.paths;
        let configured = p.pid_file.is_some() || p.process_name.is_some();
        ProcessQuery {
            local_rpc_port: if configured {
                None
            } else {
                self.local_rpc_port
            },
            pid_file: p.pid_file.clone(),
            process_name: p.process_name.clone(),
            last_pid,
        }
    }

    /// `pos_db` known from the configuration alone (no `/proc`), for the PoS-address fallback.
    pub(crate) fn configured_pos_db_dir(&self) -> Option<PathBuf> {
        self.pos_db_dir(self.paths.work_dir.as_deref())
    }

    /// `pos_db` under the given working directory (configured or discovered).
    pub(crate) fn pos_db_dir(&self, work_dir: Option<&Path>) -> Option<PathBuf> {
        resolve_dir(self.paths.pos_dir.as_deref(), work_dir, "pos_db")
    }

    /// `pos_config` under the given working directory.
    pub(crate) fn pos_config_dir(&self, work_dir: Option<&Path>) -> Option<PathBuf> {
        resolve_dir(self.paths.pos_config_dir.as_deref(), work_dir, "pos_config")
    }
}

/// The RPC URL's port when its host is this machine (`http` default 80, `https` 443).
pub(super) fn local_rpc_port(rpc_url: &str) -> Option<u16> {
    let url = url::Url::parse(rpc_url).ok()?;
    let host = url.host_str()?;
    if !is_local_host(host) {
        return None;
    }
    url.port_or_known_default()
}

/// A node directory: the configured one (relative ones resolve against the working directory, as the node
/// resolves them), else `<work_dir>/<default>`; `None` when it cannot be placed.
pub(super) fn resolve_dir(
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
        s.paths.pid_file = Some("/run/conflux.pid".into());
        let q = s.query(None);
        assert_eq!(q.local_rpc_port, None);
        assert_eq!(q.pid_file, s.paths.pid_file);
        s.paths.pid_file = None;
        s.paths.process_name = Some("conflux".into());
        assert_eq!(s.query(None).local_rpc_port, None);
        assert!(s.watches_anything());
        assert!(!HostSpec::default().watches_anything());
        let only_a_dir = HostSpec {
            paths: NodePaths {
                pos_config_dir: Some("/srv/pos_config".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(only_a_dir.watches_anything(), "every path key counts");
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
        let mut spec = HostSpec::default();
        spec.paths.work_dir = Some(w.to_path_buf());
        assert_eq!(spec.configured_pos_db_dir(), Some(w.join("pos_db")));
        assert_eq!(spec.pos_config_dir(Some(w)), Some(w.join("pos_config")));
    }
}
