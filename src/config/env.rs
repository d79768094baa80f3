//! Naming the environment variable behind a bad value. Every flag can come from a `CONFLUX_EXPORTER_*`
//! variable; when the value came from there, an error that names only the flag or file key sends the operator
//! to the wrong place (the unit file's `Environment=` rather than the command line).

use std::error::Error as _;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::CommandFactory;

use super::{Cli, ConfigError};

/// Which flag and variable set a file key, for the keys that have both.
const KEY_FLAGS: &[(&str, &str)] = &[
    ("web.listen_address", "web.listen-address"),
    ("web.telemetry_path", "web.telemetry-path"),
    ("web.config_file", "web.config.file"),
    ("web.max_connections", "web.max-connections"),
    ("web.write_timeout", "web.write-timeout"),
    ("log.level", "log.level"),
    ("log.format", "log.format"),
    ("poll.node_interval", "poll.node-interval"),
    ("poll.reference_interval", "poll.reference-interval"),
    ("poll.rpc_timeout", "rpc.timeout"),
    ("poll.max_response_bytes", "rpc.max-response-bytes"),
    ("poll.auto_reference", "reference.auto"),
    ("node[0].rpc_url", "node.rpc-url"),
    ("node[0].name", "node.name"),
    ("node[0].pos_address", "node.pos-address"),
    ("reference.url", "reference.url"),
    ("config.file", "config.file"),
    ("fork", "fork"),
];

/// The environment variable of a long flag (without `--`).
fn env_of(long: &str) -> Option<String> {
    Cli::command()
        .get_arguments()
        .find(|a| a.get_long() == Some(long))
        .and_then(|a| a.get_env())
        .map(|e| e.to_string_lossy().into_owned())
}

/// Whether `--long` appears on the command line (as `--long v` or `--long=v`).
fn on_command_line(args: &[String], long: &str) -> bool {
    let flag = format!("--{long}");
    args.iter()
        .any(|a| *a == flag || a.starts_with(&format!("{flag}=")))
}

/// Adds "set by environment variable X" to a config error whose value came from the environment.
pub fn explain(
    mut e: ConfigError,
    args: &[String],
    env: impl Fn(&str) -> Option<String>,
) -> ConfigError {
    let Some((_, long)) = KEY_FLAGS.iter().find(|(k, _)| *k == e.key) else {
        return e;
    };
    if on_command_line(args, long) {
        e.message = format!("{} (from --{long})", e.message);
    } else if let Some(var) = env_of(long).filter(|v| env(v).is_some()) {
        e.message = format!("{} (from environment variable {var})", e.message);
    }
    e
}

/// Parses the command line; an invalid value that came from an environment variable is reported with the
/// variable's name. Help, version and other clap outcomes are returned as clap errors for `exit()`.
pub fn parse_cli(
    args: &[String],
    env: impl Fn(&str) -> Option<String>,
) -> Result<Cli, Result<String, clap::Error>> {
    use clap::Parser;
    let e = match Cli::try_parse_from(args) {
        Ok(c) => return Ok(c),
        Err(e) => e,
    };
    if !matches!(
        e.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        return Err(Err(e));
    }
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else {
        return Err(Err(e));
    };
    let long = arg
        .trim_start_matches("--")
        .split([' ', '='])
        .next()
        .unwrap_or("")
        .to_string();
    match env_of(&long).filter(|v| env(v).is_some() && !on_command_line(args, &long)) {
        Some(var) => {
            let cause = e
                .get(ContextKind::InvalidValue)
                .map(|v| format!("invalid value {v}"))
                .unwrap_or_else(|| "invalid value".into());
            let detail = e.source().map(|s| format!(": {s}")).unwrap_or_default();
            Err(Ok(format!(
                "environment variable {var} (for --{long}): {cause}{detail}"
            )))
        }
        None => Err(Err(e)),
    }
}
