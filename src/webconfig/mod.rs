//! `--web.config.file`: TLS and basic auth for the HTTP endpoints, in the YAML format of the Prometheus
//! exporter-toolkit (`tls_server_config`, `basic_auth_users`), so operators can reuse the file they already have
//! for node_exporter. Only the parts this exporter implements are accepted; any other key is refused by name
//! rather than silently ignored, because an ignored `client_auth_type` would be a security hole.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub(crate) mod hash;

/// A web-config problem, tied to the YAML key that caused it.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("web config file {file}, key `{key}`: {message}")]
pub struct WebConfigError {
    /// The file, as given.
    pub file: String,
    /// Dotted key, e.g. `tls_server_config.cert_file`.
    pub key: String,
    /// What is wrong (never contains a password hash).
    pub message: String,
}

/// The validated web configuration.
#[derive(Clone, PartialEq)]
pub struct WebConfig {
    /// Serve HTTPS with this certificate chain and key, when set.
    pub tls: Option<TlsFiles>,
    /// User name -> bcrypt hash. Empty = no authentication.
    pub users: BTreeMap<String, String>,
}

/// PEM files of the server certificate chain and its private key (paths resolved against the config's folder).
#[derive(Debug, Clone, PartialEq)]
pub struct TlsFiles {
    /// Certificate chain, leaf first.
    pub cert_file: PathBuf,
    /// Private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
}

impl fmt::Debug for WebConfig {
    /// Never prints the hashes: a bcrypt hash is still an offline-crackable secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebConfig")
            .field("tls", &self.tls)
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl WebConfig {
    /// Start-up warnings about a valid but costly set-up: users whose bcrypt cost is above
    /// [`hash::COST_WARN_ABOVE`]. `file` is the web config file, named in each line.
    pub fn warnings(&self, file: &Path) -> Vec<String> {
        self.users
            .iter()
            .filter_map(|(user, h)| Some((user, hash::check(h).ok()?)))
            .filter(|(_, cost)| *cost > hash::COST_WARN_ABOVE)
            .map(|(user, cost)| {
                format!(
                    "web config file {}, user `{user}`: bcrypt cost {cost} is above {}: every login not yet in the cache costs 2^{cost} rounds of CPU (cost 12 is about 0.25 s, each step doubles it) and logins are checked one at a time; 10 is the usual choice",
                    file.display(),
                    hash::COST_WARN_ABOVE
                )
            })
            .collect()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    tls_server_config: Option<RawTls>,
    #[serde(default)]
    basic_auth_users: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
}

/// Reads and validates the file: both TLS files must exist, every hash must be a bcrypt hash the server can use
/// ([`hash::check`]).
pub fn load(path: &Path) -> Result<WebConfig, WebConfigError> {
    let file = path.display().to_string();
    let e = |key: &str, message: String| WebConfigError {
        file: file.clone(),
        key: key.into(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|err| e("(file)", err.to_string()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse(&text, base).map_err(|(key, message)| e(&key, message))
}

/// Parses the YAML text; relative TLS paths are resolved against `base` (the folder of the file, as the
/// exporter-toolkit does). Errors are (key, message).
pub fn parse(text: &str, base: &Path) -> Result<WebConfig, (String, String)> {
    if text.trim().is_empty() {
        return Ok(WebConfig {
            tls: None,
            users: BTreeMap::new(),
        });
    }
    let raw: Raw = serde_norway::from_str(text).map_err(|err| yaml_error_key(&err))?;
    let tls = match raw.tls_server_config {
        None => None,
        Some(t) => Some(TlsFiles {
            cert_file: existing(base, t.cert_file, "tls_server_config.cert_file")?,
            key_file: existing(base, t.key_file, "tls_server_config.key_file")?,
        }),
    };
    for (user, hash) in &raw.basic_auth_users {
        let key = format!("basic_auth_users.{user}");
        if user.is_empty() || user.contains(':') {
            return Err((
                key,
                "a user name must be non-empty and contain no ':'".into(),
            ));
        }
        hash::check(hash).map_err(|message| (key, message))?;
    }
    Ok(WebConfig {
        tls,
        users: raw.basic_auth_users,
    })
}

fn existing(base: &Path, p: Option<PathBuf>, key: &str) -> Result<PathBuf, (String, String)> {
    let p = p.ok_or_else(|| {
        (
            key.to_string(),
            "is required when tls_server_config is set".into(),
        )
    })?;
    let full = if p.is_absolute() { p } else { base.join(p) };
    std::fs::metadata(&full)
        .map_err(|err| (key.to_string(), format!("{}: {err}", full.display())))?;
    Ok(full)
}

/// serde_norway names the unknown field and its location; turn that into our (key, message) without echoing
/// values (a value could be a hash).
fn yaml_error_key(err: &serde_norway::Error) -> (String, String) {
    let text = err.to_string();
    let field = text
        .split("unknown field `")
        .nth(1)
        .and_then(|rest| rest.split('`').next());
    let key = match field {
        Some(f) if text.starts_with("tls_server_config") => format!("tls_server_config.{f}"),
        Some(f) => f.to_string(),
        None => text.split(':').next().unwrap_or("(file)").to_string(),
    };
    let message = match field {
        Some(f) if KNOWN_UNSUPPORTED.contains(&f) => {
            "is an exporter-toolkit option this exporter does not implement (supported: tls_server_config.cert_file, tls_server_config.key_file, basic_auth_users)".to_string()
        }
        Some(_) => "unknown key (supported: tls_server_config.cert_file, tls_server_config.key_file, basic_auth_users)".to_string(),
        None => format!("not valid here: {}", first_line(&text)),
    };
    (key, message)
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// exporter-toolkit keys that are valid there but not here.
const KNOWN_UNSUPPORTED: &[&str] = &[
    "http_server_config",
    "client_auth_type",
    "client_ca_file",
    "client_allowed_sans",
    "min_version",
    "max_version",
    "cipher_suites",
    "curve_preferences",
    "prefer_server_cipher_suites",
    "cert",
    "key",
];

#[cfg(test)]
mod tests;
