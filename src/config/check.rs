//! The `--config.check` rendering of a resolved configuration: TOML-like, every URL redacted, so it can be pasted
//! into a bug report without leaking an API key.

use std::fmt;

use super::{Config, LogFormat};
use crate::rpc::redact_url;

impl fmt::Display for Config {
    /// TOML-like dump for `--config.check`, with every URL redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "[web]\nlisten_address = \"{}\"\ntelemetry_path = \"{}\"\nmax_connections = {}\nwrite_timeout = \"{}\"",
            self.listen_address,
            self.telemetry_path,
            self.max_connections,
            humantime::format_duration(self.write_timeout)
        )?;
        if let Some(p) = &self.web_config_file {
            writeln!(f, "config_file = \"{}\"", p.display())?;
        }
        if let Some(w) = &self.web_config {
            let users: Vec<&str> = w.users.keys().map(String::as_str).collect();
            writeln!(
                f,
                "# web config: tls {}, basic auth users {:?} (hashes not shown)",
                if w.tls.is_some() { "on" } else { "off" },
                users
            )?;
        }
        let fmt = if self.log_format == LogFormat::Json {
            "json"
        } else {
            "logfmt"
        };
        writeln!(
            f,
            "\n[log]\nlevel = \"{}\"\nformat = \"{fmt}\"",
            self.log_level
        )?;
        writeln!(
            f,
            "\n[poll]\nnode_interval = \"{}\"\nreference_interval = \"{}\"\nrpc_timeout = \"{}\"\nhistory_timeout = \"{}\"\nnode_down_after = \"{}\"\nmax_response_bytes = {}\nauto_reference = {}",
            humantime::format_duration(self.node_interval),
            humantime::format_duration(self.reference_interval),
            humantime::format_duration(self.rpc_timeout),
            humantime::format_duration(self.history_timeout),
            humantime::format_duration(self.node_down_after),
            self.max_response_bytes,
            self.auto_reference
        )?;
        for n in &self.nodes {
            writeln!(
                f,
                "\n[[node]]\nname = \"{}\"\nrpc_url = \"{}\"",
                n.name,
                redact_url(&n.rpc_url)
            )?;
            if let Some(a) = &n.pos_address {
                writeln!(f, "pos_address = \"{a}\"")?;
            }
            for (k, v) in n.paths.paths() {
                if let Some(p) = v {
                    writeln!(f, "{k} = \"{}\"", p.display())?;
                }
            }
            if let Some(p) = &n.paths.process_name {
                writeln!(f, "process_name = \"{p}\"")?;
            }
            if let Some(v) = n.cip99_transition_view {
                writeln!(f, "cip99_transition_view = {v}")?;
            }
        }
        for r in &self.references {
            writeln!(
                f,
                "\n[[reference]]\nname = \"{}\"\nurl = \"{}\"",
                r.name,
                redact_url(&r.url)
            )?;
        }
        for k in &self.forks {
            writeln!(
                f,
                "\n[[fork]]\nchain_id = {}\nname = \"{}\"\nmin_version = \"{}\"",
                k.chain_id, k.name, k.min_version
            )?;
            if let Some(e) = k.epoch {
                writeln!(f, "epoch = {e}")?;
            }
            if let Some(v) = k.pos_view {
                writeln!(f, "pos_view = {v}")?;
            }
        }
        if self.references.is_empty() {
            let how = if self.auto_reference {
                "chosen by chain id at run time"
            } else {
                "none (disabled)"
            };
            writeln!(f, "\n# references: {how}")?;
        }
        Ok(())
    }
}
