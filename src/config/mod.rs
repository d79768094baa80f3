//! Configuration: flags (with env vars) and an optional TOML file merged into one validated [`Config`].
//! Precedence is flag/env > file > default. Every error names the key it is about, so an operator can fix the
//! file without reading code.

mod check;
pub mod cli;
pub mod file;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

pub use cli::Cli;
use file::FileConfig;

use crate::rpc::redact_url;

/// Defaults, in one place so the README and `--help` can be checked against them.
pub mod defaults {
    use std::time::Duration;
    /// Outside the node's own 12535–12540 and the crowded 9100–9999 exporter range.
    pub const LISTEN_ADDRESS: &str = ":12541";
    /// Prometheus convention.
    pub const TELEMETRY_PATH: &str = "/metrics";
    /// The node's local HTTP port, which serves `cfx`, `pos`, `test` and `debug`.
    pub const NODE_RPC_URL: &str = "http://127.0.0.1:12539";
    /// Label of the node when none is configured.
    pub const NODE_NAME: &str = "local";
    /// Local RPC is cheap; 5 s keeps block age and lag sharp.
    pub const NODE_INTERVAL: Duration = Duration::from_secs(5);
    /// 15 s keeps one reference well under the public endpoint's 100k calls/day.
    pub const REFERENCE_INTERVAL: Duration = Duration::from_secs(15);
    /// Shorter than the node interval so a poll never overlaps the next.
    pub const RPC_TIMEOUT: Duration = Duration::from_secs(4);
    /// A real node under load answers history batches in tens of seconds; the adaptive batch size keeps each
    /// request under this deadline.
    pub const HISTORY_TIMEOUT: Duration = Duration::from_secs(30);
    /// A node whose status calls only time out for this long is down; shorter silences are slowness.
    pub const NODE_DOWN_AFTER: Duration = Duration::from_secs(30);
    /// PoS block batches are the largest answers; 16 MiB leaves ample room.
    pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
    /// Official public RPC for mainnet (chain id 1029).
    pub const MAINNET_REFERENCE: &str = "https://main.confluxrpc.com";
    /// Official public RPC for testnet (chain id 1).
    pub const TESTNET_REFERENCE: &str = "https://test.confluxrpc.com";
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
    /// Configured PoS address, normalised to lowercase `0x` + 64 hex.
    pub pos_address: Option<String>,
    /// The node's working directory.
    pub work_dir: Option<PathBuf>,
    /// `conflux_data_dir`.
    pub data_dir: Option<PathBuf>,
    /// PoS data directory (`pos_db`).
    pub pos_dir: Option<PathBuf>,
    /// Directory holding `pos_key`.
    pub pos_config_dir: Option<PathBuf>,
    /// Pid file of the node process.
    pub pid_file: Option<PathBuf>,
    /// Process name of the node.
    pub process_name: Option<String>,
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
    /// Path of the metrics endpoint.
    pub telemetry_path: String,
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
            file::parse(&text)
                .map_err(|m| err("config.file", format!("{}: {m}", path.display())))?
        }
        None => FileConfig::default(),
    };
    resolve(cli, file)
}

/// Merges flags over the file over defaults, then validates.
pub fn resolve(cli: &Cli, file: FileConfig) -> Result<Config, ConfigError> {
    let listen = pick(
        cli.listen_address.clone(),
        file.web.listen_address,
        defaults::LISTEN_ADDRESS.into(),
    );
    let listen_address = parse_listen(&listen).map_err(|m| err("web.listen_address", m))?;
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
    let node_interval = pick(
        cli.node_interval,
        file.poll.node_interval,
        defaults::NODE_INTERVAL,
    );
    let reference_interval = pick(
        cli.reference_interval,
        file.poll.reference_interval,
        defaults::REFERENCE_INTERVAL,
    );
    let rpc_timeout = pick(
        cli.rpc_timeout,
        file.poll.rpc_timeout,
        defaults::RPC_TIMEOUT,
    );
    let history_timeout = pick(
        cli.history_timeout,
        file.poll.history_timeout,
        defaults::HISTORY_TIMEOUT,
    );
    let node_down_after = pick(
        cli.node_down_after,
        file.poll.node_down_after,
        defaults::NODE_DOWN_AFTER,
    );
    for (key, d) in [
        ("poll.node_interval", node_interval),
        ("poll.reference_interval", reference_interval),
        ("poll.rpc_timeout", rpc_timeout),
        ("poll.history_timeout", history_timeout),
        ("poll.node_down_after", node_down_after),
    ] {
        if d < Duration::from_millis(10) {
            return Err(err(
                key,
                format!(
                    "{} is too short (minimum 10ms)",
                    humantime::format_duration(d)
                ),
            ));
        }
    }
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
        telemetry_path,
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
    })
}

fn pick<T>(flag: Option<T>, file: Option<T>, default: T) -> T {
    flag.or(file).unwrap_or(default)
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

fn check_url(key: &str, raw: &str) -> Result<(), ConfigError> {
    let url =
        Url::parse(raw).map_err(|e| err(key, format!("not a URL ({e}): {}", redact_url(raw))))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(err(
            key,
            format!("must be an http(s) URL with a host: {}", redact_url(raw)),
        ));
    }
    Ok(())
}

fn check_name(key: &str, name: &str, seen: &mut Vec<String>) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !ok {
        return Err(err(
            key,
            format!("{name:?} must be 1-64 characters of A-Z a-z 0-9 - _ ."),
        ));
    }
    if seen.iter().any(|s| s == name) {
        return Err(err(key, format!("{name:?} is used twice")));
    }
    seen.push(name.to_string());
    Ok(())
}

/// Normalises a PoS address to lowercase `0x` + 64 hex (accepts the no-`0x` form that `test_posRegister` and
/// `secure_storage.json` use).
pub fn normalise_pos_address(raw: &str) -> Option<String> {
    let hex = raw.strip_prefix("0x").unwrap_or(raw);
    (hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| format!("0x{}", hex.to_ascii_lowercase()))
}

fn resolve_nodes(
    cli: &Cli,
    sections: Vec<file::NodeSection>,
) -> Result<Vec<NodeConfig>, ConfigError> {
    let flags_given =
        cli.node_rpc_url.is_some() || cli.node_name.is_some() || cli.node_pos_address.is_some();
    let sections = if sections.is_empty() {
        vec![file::NodeSection {
            name: cli.node_name.clone(),
            rpc_url: cli.node_rpc_url.clone(),
            pos_address: cli.node_pos_address.clone(),
            ..Default::default()
        }]
    } else if flags_given {
        return Err(err("node.rpc_url", "the --node.* flags describe the single default node; the file already has [[node]] entries"));
    } else {
        sections
    };
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for (i, s) in sections.into_iter().enumerate() {
        let key = |k: &str| format!("node[{i}].{k}");
        let name = s.name.unwrap_or_else(|| {
            if i == 0 {
                defaults::NODE_NAME.into()
            } else {
                String::new()
            }
        });
        check_name(&key("name"), &name, &mut seen)?;
        let rpc_url = s.rpc_url.unwrap_or_else(|| defaults::NODE_RPC_URL.into());
        check_url(&key("rpc_url"), &rpc_url)?;
        let pos_address = match s.pos_address {
            Some(a) => Some(normalise_pos_address(&a).ok_or_else(|| {
                err(
                    key("pos_address"),
                    "must be 64 hex characters, optionally prefixed with 0x",
                )
            })?),
            None => None,
        };
        if s.process_name.as_deref() == Some("") {
            return Err(err(key("process_name"), "must not be empty"));
        }
        out.push(NodeConfig {
            name,
            rpc_url,
            pos_address,
            work_dir: s.work_dir,
            data_dir: s.data_dir,
            pos_dir: s.pos_dir,
            pos_config_dir: s.pos_config_dir,
            pid_file: s.pid_file,
            process_name: s.process_name,
            cip99_transition_view: s.cip99_transition_view,
        });
    }
    Ok(out)
}

fn resolve_references(
    cli: &Cli,
    sections: Vec<file::ReferenceSection>,
) -> Result<Vec<ReferenceConfig>, ConfigError> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    if !cli.reference_urls.is_empty() {
        for (i, raw) in cli.reference_urls.iter().enumerate() {
            let (name, url) = match raw.split_once('=') {
                Some((n, u)) if !n.contains("://") => (n.to_string(), u.to_string()),
                _ => (format!("ref{i}"), raw.clone()),
            };
            check_name("reference.url", &name, &mut seen)?;
            check_url("reference.url", &url)?;
            out.push(ReferenceConfig { name, url });
        }
        return Ok(out);
    }
    for (i, s) in sections.into_iter().enumerate() {
        let key = |k: &str| format!("reference[{i}].{k}");
        let name = s.name.ok_or_else(|| err(key("name"), "is required"))?;
        check_name(&key("name"), &name, &mut seen)?;
        let url = s.url.ok_or_else(|| err(key("url"), "is required"))?;
        check_url(&key("url"), &url)?;
        out.push(ReferenceConfig { name, url });
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
