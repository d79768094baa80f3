//! Command-line flags. Every value flag is optional here (no clap default) so that "not given" can be told apart
//! from "given as the default value" when merging with the file; defaults live in [`super::defaults`].

use std::path::PathBuf;

use clap::Parser;

/// Flags, each with an environment variable, named like other Prometheus exporters' flags.
#[derive(Debug, Default, Parser)]
#[command(
    name = "conflux-pos-exporter",
    version,
    about = "Prometheus exporter for Conflux PoS validator nodes"
)]
pub struct Cli {
    /// TOML configuration file; flags override its values.
    #[arg(long = "config.file", env = "CONFLUX_EXPORTER_CONFIG_FILE")]
    pub config_file: Option<PathBuf>,
    /// Print the resolved configuration (secrets redacted) and exit 0 if valid, 1 if not.
    #[arg(long = "config.check")]
    pub config_check: bool,
    /// Address to serve metrics on [default: :12541].
    #[arg(
        long = "web.listen-address",
        env = "CONFLUX_EXPORTER_WEB_LISTEN_ADDRESS"
    )]
    pub listen_address: Option<String>,
    /// Web config file (exporter-toolkit YAML: tls_server_config, basic_auth_users) for TLS and basic auth.
    #[arg(long = "web.config.file", env = "CONFLUX_EXPORTER_WEB_CONFIG_FILE")]
    pub web_config_file: Option<PathBuf>,
    /// Path of the metrics endpoint [default: /metrics].
    #[arg(
        long = "web.telemetry-path",
        env = "CONFLUX_EXPORTER_WEB_TELEMETRY_PATH"
    )]
    pub telemetry_path: Option<String>,
    /// Open HTTP connections at most; further clients wait until one closes [default: 64].
    #[arg(
        long = "web.max-connections",
        env = "CONFLUX_EXPORTER_WEB_MAX_CONNECTIONS"
    )]
    pub max_connections: Option<usize>,
    /// Deadline for writing one HTTP response; a client that does not read is dropped [default: 30s].
    #[arg(long = "web.write-timeout", env = "CONFLUX_EXPORTER_WEB_WRITE_TIMEOUT", value_parser = humantime::parse_duration)]
    pub write_timeout: Option<std::time::Duration>,
    /// Log level or filter directive [default: info].
    #[arg(long = "log.level", env = "CONFLUX_EXPORTER_LOG_LEVEL")]
    pub log_level: Option<String>,
    /// Log format: logfmt or json [default: logfmt].
    #[arg(long = "log.format", env = "CONFLUX_EXPORTER_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// RPC URL of the single node watched when the file defines no [[node]] [default: http://127.0.0.1:12539].
    #[arg(long = "node.rpc-url", env = "CONFLUX_EXPORTER_NODE_RPC_URL")]
    pub node_rpc_url: Option<String>,
    /// Name (label value) of that node [default: local].
    #[arg(long = "node.name", env = "CONFLUX_EXPORTER_NODE_NAME")]
    pub node_name: Option<String>,
    /// PoS address of that node (0x + 64 hex), instead of discovering it.
    #[arg(long = "node.pos-address", env = "CONFLUX_EXPORTER_NODE_POS_ADDRESS")]
    pub node_pos_address: Option<String>,
    /// Reference RPC as NAME=URL or URL; repeatable. Replaces the file's [[reference]] entries.
    #[arg(
        long = "reference.url",
        env = "CONFLUX_EXPORTER_REFERENCE_URL",
        value_delimiter = ','
    )]
    pub reference_urls: Vec<String>,
    /// Pick the official public RPC by chain id when no reference is configured [default: true].
    #[arg(long = "reference.auto", env = "CONFLUX_EXPORTER_REFERENCE_AUTO")]
    pub auto_reference: Option<bool>,
    /// Node poll interval [default: 5s].
    #[arg(long = "poll.node-interval", env = "CONFLUX_EXPORTER_POLL_NODE_INTERVAL", value_parser = humantime::parse_duration)]
    pub node_interval: Option<std::time::Duration>,
    /// Reference poll interval [default: 15s].
    #[arg(long = "poll.reference-interval", env = "CONFLUX_EXPORTER_POLL_REFERENCE_INTERVAL", value_parser = humantime::parse_duration)]
    pub reference_interval: Option<std::time::Duration>,
    /// Deadline of one RPC HTTP request [default: 4s].
    #[arg(long = "rpc.timeout", env = "CONFLUX_EXPORTER_RPC_TIMEOUT", value_parser = humantime::parse_duration)]
    pub rpc_timeout: Option<std::time::Duration>,
    /// Deadline of one PoS request (head or history reads) [default: 30s].
    #[arg(long = "rpc.history-timeout", env = "CONFLUX_EXPORTER_RPC_HISTORY_TIMEOUT", value_parser = humantime::parse_duration)]
    pub history_timeout: Option<std::time::Duration>,
    /// How long cfx_getStatus may only time out before the node counts as down [default: 30s].
    #[arg(long = "poll.node-down-after", env = "CONFLUX_EXPORTER_POLL_NODE_DOWN_AFTER", value_parser = humantime::parse_duration)]
    pub node_down_after: Option<std::time::Duration>,
    /// The chain's pos_cip99_transition_view, for chains other than mainnet (1029) and testnet (1).
    #[arg(
        long = "pos.cip99-transition-view",
        env = "CONFLUX_EXPORTER_POS_CIP99_TRANSITION_VIEW"
    )]
    pub cip99_transition_view: Option<u64>,
    /// A hard fork announced after this release, as CHAIN_ID:NAME:MIN_VERSION:EPOCH:POS_VIEW; repeatable. Replaces the file's [[fork]] entries
    #[arg(long = "fork", env = "CONFLUX_EXPORTER_FORK", value_delimiter = ',')]
    pub forks: Vec<String>,
    /// Largest accepted RPC answer in bytes [default: 16777216].
    #[arg(
        long = "rpc.max-response-bytes",
        env = "CONFLUX_EXPORTER_RPC_MAX_RESPONSE_BYTES"
    )]
    pub max_response_bytes: Option<usize>,
}
