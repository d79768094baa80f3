//! The optional TOML file. Every table refuses unknown keys, so a typo such as `rpc_ulr` fails at start with the
//! key's name instead of silently using a default.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// Top level of the file. Every field is optional: flags and defaults fill the gaps.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `[web]`
    #[serde(default)]
    pub web: WebSection,
    /// `[log]`
    #[serde(default)]
    pub log: LogSection,
    /// `[poll]`
    #[serde(default)]
    pub poll: PollSection,
    /// `[pos]`
    #[serde(default)]
    pub pos: PosSection,
    /// `[[node]]` entries.
    #[serde(default)]
    pub node: Vec<NodeSection>,
    /// `[[reference]]` entries.
    #[serde(default)]
    pub reference: Vec<ReferenceSection>,
}

/// `[web]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSection {
    /// e.g. `":12541"` or `"127.0.0.1:12541"`.
    pub listen_address: Option<String>,
    /// e.g. `"/metrics"`.
    pub telemetry_path: Option<String>,
}

/// `[log]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// `error|warn|info|debug|trace` or a tracing filter directive.
    pub level: Option<String>,
    /// `logfmt|json`.
    pub format: Option<String>,
}

/// `[poll]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollSection {
    /// How often each node is polled.
    #[serde(default, with = "humantime_serde")]
    pub node_interval: Option<Duration>,
    /// How often each reference is polled (public endpoints have daily quotas).
    #[serde(default, with = "humantime_serde")]
    pub reference_interval: Option<Duration>,
    /// Deadline of one HTTP request.
    #[serde(default, with = "humantime_serde")]
    pub rpc_timeout: Option<Duration>,
    /// Deadline of one PoS request (head or history): history reads may be slow without the node being down.
    #[serde(default, with = "humantime_serde")]
    pub history_timeout: Option<Duration>,
    /// How long status calls may only time out before the node counts as down.
    #[serde(default, with = "humantime_serde")]
    pub node_down_after: Option<Duration>,
    /// Largest accepted answer body.
    pub max_response_bytes: Option<usize>,
    /// Pick the official reference by chain id when no `[[reference]]` is configured.
    pub auto_reference: Option<bool>,
}

/// `[pos]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PosSection {
    /// The chain's `pos_cip99_transition_view` (node config), for chains other than mainnet and testnet.
    pub cip99_transition_view: Option<u64>,
}

/// One `[[node]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSection {
    /// Label value of `node`.
    pub name: Option<String>,
    /// The node's local RPC URL (default `http://127.0.0.1:12539`).
    pub rpc_url: Option<String>,
    /// The node's PoS address (0x + 64 hex), when it should not be discovered.
    pub pos_address: Option<String>,
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
    /// Overrides `pos.cip99_transition_view` for this node's chain.
    pub cip99_transition_view: Option<u64>,
}

/// One `[[reference]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceSection {
    /// Label value of `reference`.
    pub name: Option<String>,
    /// Public RPC URL; may carry an API key in its path (it is redacted everywhere).
    pub url: Option<String>,
}

/// Parses the file text, naming the offending key and line on error.
pub fn parse(text: &str) -> Result<FileConfig, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}
