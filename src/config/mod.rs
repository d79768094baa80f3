//! Configuration: flags (with env vars) and an optional TOML file merged into one validated [`Config`].
//! Precedence is flag/env > file > default. Every error names the key it is about, so an operator can fix the
//! file without reading code.

mod check;
pub(crate) mod cli;
pub mod env;
pub mod file;
mod forks;
mod paths;
mod targets;
mod toml_key;
mod urls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use cli::Cli;
use file::FileConfig;
pub(crate) use paths::NodePaths;

use crate::pos_address::PosAddress;
use crate::webconfig::{self, WebConfig};
use targets::{resolve_nodes, resolve_references};

/// Defaults, in one place so the README and `--help` can be checked against them.
pub mod defaults {
    use std::time::Duration;
    /// Outside the node's own 12535–12540 and the crowded 9100–9999 exporter range.
    pub(crate) const LISTEN_ADDRESS: &str = ":12541";
    /// Prometheus convention.
    pub(crate) const TELEMETRY_PATH: &str = "/metrics";
    /// The node's local HTTP port, which serves `cfx`, `pos`, `test` and `debug`.
    pub(crate) const NODE_RPC_URL: &str = "http://127.0.0.1:12539";
    /// Label of the node when none is configured.
    pub(crate) const NODE_NAME: &str = "local";
    /// Local RPC is cheap; 5 s keeps block age and lag sharp.
    pub(crate) const NODE_INTERVAL: Duration = Duration::from_secs(5);
    /// 15 s keeps one reference well under the public endpoint's 100k calls/day.
    pub(crate) const REFERENCE_INTERVAL: Duration = Duration::from_secs(15);
    /// Shorter than the node interval so a poll never overlaps the next.
    pub(crate) const RPC_TIMEOUT: Duration = Duration::from_secs(4);
    /// A real node under load answers history batches in tens of seconds; the adaptive batch size keeps each
    /// request under this deadline.
    pub(crate) const HISTORY_TIMEOUT: Duration = Duration::from_secs(30);
    /// A node whose status calls only time out for this long is down; shorter silences are slowness.
    pub(crate) const NODE_DOWN_AFTER: Duration = Duration::from_secs(30);
    /// A Prometheus pair and a few people need a handful of connections; 64 keeps the exporter's descriptors far
    /// below the usual soft limit of 1024.
    pub const MAX_CONNECTIONS: usize = 64;
    /// A scrape whose answer takes longer to write is useless to Prometheus anyway.
    pub(crate) const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
    /// PoS block batches are the largest answers; 16 MiB leaves ample room.
    pub(crate) const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
    /// Official public RPC for mainnet (chain id 1029).
    pub(crate) const MAINNET_REFERENCE: &str = "https://main.confluxrpc.com";
    /// Official public RPC for testnet (chain id 1).
    pub(crate) const TESTNET_REFERENCE: &str = "https://test.confluxrpc.com";
}

/// A configuration problem, always tied to the key that caused it.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("config key `{key}`: {message}")]
pub struct ConfigError {
    /// Dotted path of the key, e.g. `node[1].rpc_url`.
    pub key: String,
    /// What is wrong and what is expected.
    pub message: String,
}

fn err(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        message: message.into(),
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `key=value` lines, the usual exporter default.
    Logfmt,
    /// One JSON object per line.
    Json,
}

/// One watched node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeConfig {
    /// Label value of `node`.
    pub name: String,
    /// Local RPC URL.
    pub rpc_url: String,
    /// Configured PoS address.
    pub pos_address: Option<PosAddress>,
    /// Where its process and files are.
    pub paths: NodePaths,
    /// The chain's CIP-99 transition view, when configured (else known per chain id, else the node's default).
    pub cip99_transition_view: Option<u64>,
}

/// One reference RPC.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceConfig {
    /// Label value of `reference`.
    pub name: String,
    /// URL, possibly with an API key; print only through [`redact_url`].
    pub url: String,
}

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Where `/metrics` is served.
    pub listen_address: SocketAddr,
    /// `--web.config.file`, as given.
    pub web_config_file: Option<PathBuf>,
    /// TLS and basic auth loaded from it (`None`: plain HTTP, no auth).
    pub web_config: Option<WebConfig>,
    /// Path of the metrics endpoint.
    pub telemetry_path: String,
    /// Open HTTP connections at most (further clients wait in the listen backlog).
    pub max_connections: usize,
    /// Deadline for writing one HTTP response.
    pub write_timeout: Duration,
    /// Tracing filter directive.
    pub log_level: String,
    /// Log format.
    pub log_format: LogFormat,
    /// Node poll interval.
    pub node_interval: Duration,
    /// Reference poll interval.
    pub reference_interval: Duration,
    /// Per-request deadline of the chain calls (liveness).
    pub rpc_timeout: Duration,
    /// Per-request deadline of the PoS calls (head and history).
    pub history_timeout: Duration,
    /// Timeouts for this long make a node down.
    pub node_down_after: Duration,
    /// Answer size cap.
    pub max_response_bytes: usize,
    /// Whether to pick references by chain id when none are configured.
    pub auto_reference: bool,
    /// Watched nodes (at least one).
    pub nodes: Vec<NodeConfig>,
    /// Configured references (empty = automatic).
    pub references: Vec<ReferenceConfig>,
    /// Hard forks added to (or replacing) the built-in table of their chain.
    pub forks: Vec<crate::assess::forks::Fork>,
}

impl Config {
    /// Settings that work but deserve a word at start. Not errors: a poll never overlaps the next one, so a long
    /// timeout only stretches the schedule; the operator should know that is what they chose.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.rpc_timeout >= self.node_interval {
            out.push(format!(
                "poll.rpc_timeout ({}) is not shorter than poll.node_interval ({}): polls never overlap, so a slow node stretches the interval to the timeout and block age and lag update less often; keep rpc_timeout below node_interval (slowness is already tolerated for poll.node_down_after)",
                humantime::format_duration(self.rpc_timeout),
                humantime::format_duration(self.node_interval)
            ));
        }
        if self.node_down_after < self.rpc_timeout {
            out.push(format!(
                "poll.node_down_after ({}) is shorter than poll.rpc_timeout ({}): one timed-out status call makes the node down, so a slow node is reported as a down one",
                humantime::format_duration(self.node_down_after),
                humantime::format_duration(self.rpc_timeout)
            ));
        }
        if let (Some(w), Some(file)) = (&self.web_config, &self.web_config_file) {
            out.extend(w.warnings(file));
        }
        out
    }
}

/// The official reference for a chain id, if Conflux runs one.
pub fn default_reference_for_chain(chain_id: u64) -> Option<ReferenceConfig> {
    let (name, url) = match chain_id {
        1029 => ("confluxrpc-mainnet", defaults::MAINNET_REFERENCE),
        1 => ("confluxrpc-testnet", defaults::TESTNET_REFERENCE),
        _ => return None,
    };
    Some(ReferenceConfig {
        name: name.into(),
        url: url.into(),
    })
}

/// Reads the file named by the flags (if any) and merges.
pub fn load(cli: &Cli) -> Result<Config, ConfigError> {
    let file = match &cli.config_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                err(
                    "config.file",
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            file::parse(&text).map_err(|e| e.into_config_error(&path.display().to_string()))?
        }
        None => FileConfig::default(),
    };
    resolve(cli, file)
}

impl file::FileError {
    /// Names the key (`config.file` only for syntax errors that sit on no key) and where it is.
    pub(crate) fn into_config_error(self, origin: &str) -> ConfigError {
        let line = self.line.map(|l| format!(" line {l}")).unwrap_or_default();
        let key = self.key.unwrap_or_else(|| "config.file".into());
        err(key, format!("{} ({origin}{line})", self.message))
    }
}

/// Merges flags over the file over defaults, then validates.
pub fn resolve(cli: &Cli, file: FileConfig) -> Result<Config, ConfigError> {
    let listen = pick(
        cli.listen_address.clone(),
        file.web.listen_address,
        defaults::LISTEN_ADDRESS.into(),
    );
    let listen_address = parse_listen(&listen).map_err(|m| err("web.listen_address", m))?;
    let web_config_file = cli.web_config_file.clone().or(file.web.config_file);
    let web_config = match &web_config_file {
        Some(p) => Some(webconfig::load(p).map_err(|e| err("web.config_file", e.to_string()))?),
        None => None,
    };
    let telemetry_path = pick(
        cli.telemetry_path.clone(),
        file.web.telemetry_path,
        defaults::TELEMETRY_PATH.into(),
    );
    if !telemetry_path.starts_with('/')
        || telemetry_path.len() < 2
        || telemetry_path.starts_with("/-/")
    {
        return Err(err(
            "web.telemetry_path",
            format!("{telemetry_path:?} must start with / and not be / or /-/…"),
        ));
    }
    let max_connections = pick(
        cli.max_connections,
        file.web.max_connections,
        defaults::MAX_CONNECTIONS,
    );
    if max_connections == 0 {
        return Err(err("web.max_connections", "must be at least 1"));
    }
    let write_timeout = duration(
        "web.write_timeout",
        cli.write_timeout,
        file.web.write_timeout,
        defaults::WRITE_TIMEOUT,
    )?;
    let log_level = pick(cli.log_level.clone(), file.log.level, "info".into());
    if tracing_subscriber::EnvFilter::try_new(&log_level).is_err() {
        return Err(err(
            "log.level",
            format!("{log_level:?} is not a level (error|warn|info|debug|trace)"),
        ));
    }
    let log_format = match pick(cli.log_format.clone(), file.log.format, "logfmt".into()).as_str() {
        "logfmt" => LogFormat::Logfmt,
        "json" => LogFormat::Json,
        other => {
            return Err(err(
                "log.format",
                format!("{other:?}: expected logfmt or json"),
            ))
        }
    };
    let poll = &file.poll;
    let node_interval = duration(
        "poll.node_interval",
        cli.node_interval,
        poll.node_interval,
        defaults::NODE_INTERVAL,
    )?;
    let reference_interval = duration(
        "poll.reference_interval",
        cli.reference_interval,
        poll.reference_interval,
        defaults::REFERENCE_INTERVAL,
    )?;
    let rpc_timeout = duration(
        "poll.rpc_timeout",
        cli.rpc_timeout,
        poll.rpc_timeout,
        defaults::RPC_TIMEOUT,
    )?;
    let history_timeout = duration(
        "poll.history_timeout",
        cli.history_timeout,
        poll.history_timeout,
        defaults::HISTORY_TIMEOUT,
    )?;
    let node_down_after = duration(
        "poll.node_down_after",
        cli.node_down_after,
        poll.node_down_after,
        defaults::NODE_DOWN_AFTER,
    )?;
    let max_response_bytes = pick(
        cli.max_response_bytes,
        file.poll.max_response_bytes,
        defaults::MAX_RESPONSE_BYTES,
    );
    if max_response_bytes < 1024 {
        return Err(err("poll.max_response_bytes", "must be at least 1024"));
    }
    let auto_reference = pick(cli.auto_reference, file.poll.auto_reference, true);
    let cip99 = cli.cip99_transition_view.or(file.pos.cip99_transition_view);
    let mut nodes = resolve_nodes(cli, file.node)?;
    for n in &mut nodes {
        n.cip99_transition_view = n.cip99_transition_view.or(cip99);
    }
    let references = resolve_references(cli, file.reference)?;
    let forks = forks::resolve_forks(&cli.forks, file.fork)?;
    if let Some(r) = references
        .iter()
        .find(|r| nodes.iter().any(|n| n.name == r.name))
    {
        return Err(err(
            "reference.name",
            format!(
                "{:?} is also a node name; both label the same target series",
                r.name
            ),
        ));
    }
    Ok(Config {
        listen_address,
        web_config_file,
        web_config,
        telemetry_path,
        max_connections,
        write_timeout,
        log_level,
        log_format,
        node_interval,
        reference_interval,
        rpc_timeout,
        history_timeout,
        node_down_after,
        max_response_bytes,
        auto_reference,
        nodes,
        references,
        forks,
    })
}

fn pick<T>(flag: Option<T>, file: Option<T>, default: T) -> T {
    flag.or(file).unwrap_or(default)
}

/// [`pick`] for a duration, refused below 10 ms: a zero interval or timeout would spin or fail every call.
fn duration(
    key: &str,
    flag: Option<Duration>,
    file: Option<Duration>,
    default: Duration,
) -> Result<Duration, ConfigError> {
    let d = pick(flag, file, default);
    if d < Duration::from_millis(10) {
        return Err(err(
            key,
            format!(
                "{} is too short (minimum 10ms)",
                humantime::format_duration(d)
            ),
        ));
    }
    Ok(d)
}

fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    let full = if s.starts_with(':') {
        format!("0.0.0.0{s}")
    } else {
        s.to_string()
    };
    full.parse()
        .map_err(|_| format!("{s:?} is not HOST:PORT or :PORT"))
}

#[cfg(test)]
mod tests;
