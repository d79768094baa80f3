//! Everything that can go wrong talking to a node, with a stable `kind()` used as the `kind` label of
//! `conflux_exporter_rpc_errors_total`. Messages never contain the target URL (see [`super::redact`]).

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
    /// Stable label value for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Timeout(_) => "timeout",
            Self::Connect(_) => "connect",
            Self::HttpStatus(_) => "http_status",
            Self::Rpc { .. } => "rpc_error",
            Self::Decode(_) => "decode",
            Self::TooLarge(_) => "too_large",
            Self::Forbidden(_) => "forbidden",
        }
    }

    /// The named JSON-RPC code, when this is a JSON-RPC error.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Rpc { code, .. } => Some(ErrorCode::from_code(*code)),
            _ => None,
        }
    }

    /// −32601: the method or namespace is not served on this port.
    pub fn is_method_not_found(&self) -> bool {
        self.code() == Some(ErrorCode::MethodNotFound)
    }

    /// −32078: PoS has not started on this node.
    pub fn is_pos_not_enabled(&self) -> bool {
        self.code() == Some(ErrorCode::PosNotEnabled)
    }
}

/// Every `kind()` value, so metric families can be pre-initialised and documented.
pub const ERROR_KINDS: &[&str] = &[
    "timeout",
    "connect",
    "http_status",
    "rpc_error",
    "decode",
    "too_large",
    "forbidden",
];
