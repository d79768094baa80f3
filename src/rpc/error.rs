//! Everything that can go wrong talking to a node, with a stable `kind()` used as the `kind` label of
//! `conflux_exporter_rpc_errors_total`. Messages never contain the target URL (see [`super::redact`]), and text
//! that came from the peer is bounded by the constructors ([`super::text`]), so an error is always short.

use super::text::bounded;
use super::wire::ErrorCode;

/// Why a call or a whole batch failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum RpcError {
    /// The request did not complete within the configured timeout.
    #[error("timed out after {0:?}")]
    Timeout(std::time::Duration),
    /// No TCP/TLS connection could be made (node down, wrong port, DNS).
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The server answered with a non-2xx HTTP status.
    #[error("HTTP status {0}")]
    HttpStatus(u16),
    /// The server answered with a redirect, which is never followed: the target would get our request (and
    /// whatever secret its URL carries) from a host nobody configured.
    #[error("HTTP status {0}: a redirect, not followed (configure the final URL)")]
    Redirect(u16),
    /// The node answered this call with a JSON-RPC error object.
    #[error("JSON-RPC error {code} ({}): {message}", ErrorCode::from_code(*code).name())]
    Rpc {
        /// Raw code, e.g. −32078.
        code: i64,
        /// The node's message.
        message: String,
    },
    /// The answer was not the JSON we expect (not JSON, wrong shape, missing id).
    #[error("malformed answer: {0}")]
    Decode(String),
    /// The answer exceeded the configured size cap and was abandoned.
    #[error("answer larger than {0} bytes")]
    TooLarge(usize),
    /// The method is not on the read-only allow-list; nothing was sent.
    #[error("method {0} is not on the read-only allow-list; refused before sending")]
    Forbidden(String),
}

impl RpcError {
    /// A JSON-RPC error object from the peer; its message is bounded here, where it enters.
    pub fn rpc(code: i64, message: &str) -> Self {
        Self::Rpc {
            code,
            message: bounded(message),
        }
    }

    /// A malformed answer; the text (which may quote the peer) is bounded.
    pub(crate) fn decode(text: impl AsRef<str>) -> Self {
        Self::Decode(bounded(text.as_ref()))
    }

    /// A transport failure; the text (which may quote the peer, e.g. a TLS alert) is bounded.
    pub(crate) fn connect(text: impl AsRef<str>) -> Self {
        Self::Connect(bounded(text.as_ref()))
    }

    /// Stable label value for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Timeout(_) => "timeout",
            Self::Connect(_) => "connect",
            Self::HttpStatus(_) => "http_status",
            Self::Redirect(_) => "redirect",
            Self::Rpc { .. } => "rpc_error",
            Self::Decode(_) => "decode",
            Self::TooLarge(_) => "too_large",
            Self::Forbidden(_) => "forbidden",
        }
    }

    /// The named JSON-RPC code, when this is a JSON-RPC error.
    pub(crate) fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Rpc { code, .. } => Some(ErrorCode::from_code(*code)),
            _ => None,
        }
    }

    /// −32601: the method or namespace is not served on this port.
    pub(crate) fn is_method_not_found(&self) -> bool {
        self.code() == Some(ErrorCode::MethodNotFound)
    }

    /// −32078: PoS has not started on this node.
    pub(crate) fn is_pos_not_enabled(&self) -> bool {
        self.code() == Some(ErrorCode::PosNotEnabled)
    }
}

/// Every `kind()` value, so metric families can be pre-initialised and documented.
pub const ERROR_KINDS: &[&str] = &[
    "timeout",
    "connect",
    "http_status",
    "redirect",
    "rpc_error",
    "decode",
    "too_large",
    "forbidden",
];
