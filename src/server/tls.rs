//! TLS for the HTTP endpoints (rustls, via `tokio-rustls`), from the web config's PEM files. The crypto provider
//! is named explicitly: the HTTP client already links aws-lc-rs, and relying on a process-wide default would
//! panic if another provider ever got linked in.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::webconfig::TlsFiles;

/// Why the TLS files could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate file has no usable PEM certificate.
    #[error("tls_server_config.cert_file {file}: {message}")]
    Cert {
        /// Path.
        file: String,
        /// Cause.
        message: String,
    },
    /// The key file has no usable PEM private key (the key itself is never printed).
    #[error("tls_server_config.key_file {file}: {message}")]
    Key {
        /// Path.
        file: String,
        /// Cause.
        message: String,
    },
    /// rustls refused the pair (e.g. the key does not match the certificate).
    #[error("tls_server_config: {0}")]
    Config(String),
}

impl TlsError {
    /// Stable kind for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Cert { .. } => "tls_cert",
            Self::Key { .. } => "tls_key",
            Self::Config(_) => "tls_config",
        }
    }
}

/// Builds the acceptor (HTTP/1.1 only, TLS 1.2 and 1.3).
pub(crate) fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, TlsError> {
    let cert_name = files.cert_file.display().to_string();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert_file)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::Cert {
            file: cert_name.clone(),
            message: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Cert {
            file: cert_name,
            message: "no PEM certificate in the file".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(&files.key_file).map_err(|e| TlsError::Key {
        file: files.key_file.display().to_string(),
        message: format!("no usable PEM private key ({})", pem_kind(&e)),
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The error's variant only: pem errors may quote file content, which for a key file is the secret.
fn pem_kind(e: &rustls::pki_types::pem::Error) -> &'static str {
    use rustls::pki_types::pem::Error as E;
    match e {
        E::NoItemsFound => "no key found",
        E::Io(_) => "cannot read the file",
        _ => "malformed PEM",
    }
}
