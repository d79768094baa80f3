//! The optional TOML file. Every table refuses unknown keys, so a typo such as `rpc_ulr` fails at start with the
//! key's name instead of silently using a default.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

pub(crate) use super::paths::NodePaths;

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
    /// `[[fork]]` entries: hard forks announced after this release.
    #[serde(default)]
    pub fork: Vec<super::forks::ForkSection>,
}

/// `[web]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSection {
    /// e.g. `":12541"` or `"127.0.0.1:12541"`.
    pub listen_address: Option<String>,
    /// e.g. `"/metrics"`.
    pub telemetry_path: Option<String>,
    /// `--web.config.file`: TLS and basic auth (exporter-toolkit YAML); relative to the working directory.
    pub config_file: Option<PathBuf>,
    /// Open HTTP connections at most.
    pub max_connections: Option<usize>,
    /// Deadline for writing one HTTP response.
    #[serde(default, with = "humantime_serde")]
    pub write_timeout: Option<Duration>,
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
    /// Where the node's process and files are (`work_dir`, `data_dir`, `pos_dir`, `pos_config_dir`, `pid_file`,
    /// `process_name`), declared once in [`NodePaths`].
    #[serde(flatten)]
    pub paths: NodePaths,
    /// Overrides `pos.cip99_transition_view` for this node's chain.
    pub cip99_transition_view: Option<u64>,
}

impl NodeSection {
    /// The keys a `[[node]]` takes. Serde cannot list them itself once [`NodePaths`] is flattened in, so an
    /// "unknown field" error adds them; `tests::node_keys_are_the_fields` keeps this list equal to the struct.
    pub fn keys() -> Vec<&'static str> {
        let own = ["name", "rpc_url", "pos_address", "cip99_transition_view"];
        let paths = NodePaths::default().paths().map(|(k, _)| k);
        let mut keys: Vec<_> = own.into_iter().chain(paths).collect();
        keys.push("process_name");
        keys
    }
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

/// A file error: the dotted key it is about (`poll.node_interval`, `node[1].rpc_url`; `None` for plain syntax
/// errors that sit on no key), the 1-based line, and toml's message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{}: {message}", key.as_deref().map(|k| format!("key `{k}`")).unwrap_or_else(|| "syntax".into()), line.map(|l| format!(" (line {l})")).unwrap_or_default())]
pub struct FileError {
    /// Dotted key, when the error is about one.
    pub key: Option<String>,
    /// Line of the error, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// Parses the file text, naming the offending key and line on error.
pub fn parse(text: &str) -> Result<FileConfig, FileError> {
    toml::from_str(text).map_err(|e: toml::de::Error| {
        let at = e
            .span()
            .map(|s| key_in_flattened_table(text, s.start, e.message()).unwrap_or(s.start));
        let key = at.and_then(|at| super::toml_key::key_at(text, at));
        FileError {
            line: at.map(|at| text[..at.min(text.len())].matches('\n').count() + 1),
            message: with_node_keys(key.as_deref(), e.message().trim()),
            key,
        }
    })
}

/// Serde lists the expected keys with an unknown one, except in `[[node]]` (flattened): adds them there.
fn with_node_keys(key: Option<&str>, message: &str) -> String {
    let in_node = key.is_some_and(|k| k.starts_with("node["));
    if !in_node || !message.starts_with("unknown field `") || message.contains("expected") {
        return message.to_string();
    }
    let keys: Vec<String> = NodeSection::keys()
        .iter()
        .map(|k| format!("`{k}`"))
        .collect();
    format!("{message}, expected one of {}", keys.join(", "))
}

/// `[[node]]` takes its paths flattened from [`NodePaths`], and serde reports errors inside a flattened struct
/// (and unknown keys of a table that flattens) at the table header, not at the key. When the error sits on a
/// header, finds the key: the one an "unknown field" message names, else the first entry whose value alone does
/// not fit [`NodePaths`].
fn key_in_flattened_table(text: &str, at: usize, message: &str) -> Option<usize> {
    let entries = super::toml_key::table_entries(text, at);
    if let Some(name) = message
        .strip_prefix("unknown field `")
        .and_then(|r| r.split('`').next())
    {
        return entries.iter().find(|(_, k)| *k == name).map(|(o, _)| *o);
    }
    entries
        .iter()
        .find(|(o, _)| {
            let line = text[*o..].lines().next().unwrap_or("");
            toml::from_str::<NodePaths>(line).is_err()
        })
        .map(|(o, _)| *o)
}
