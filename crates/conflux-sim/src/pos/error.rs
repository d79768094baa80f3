//! Errors of the PoS simulator's control surface.
//!
//! RPC errors are not here: they go back to the client as JSON-RPC `(code, message)` pairs, exactly like a node's.

/// Why a control command or a parameter set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PosError {
    /// The address is not `0x` + 64 hex digits.
    #[error("invalid PoS address {0:?}: expected 0x followed by 64 hex digits")]
    InvalidAddress(String),
    /// The command names a PoS address the chain has never seen.
    #[error("unknown PoS address {0}")]
    UnknownAddress(String),
    /// `add_member` for an address that already has an account.
    #[error("PoS address {0} is already registered")]
    AlreadyRegistered(String),
    /// A parameter value the chain cannot work with.
    #[error("invalid parameter: {0}")]
    InvalidParam(String),
    /// A JSON control command that does not parse.
    #[error("bad control command: {0}")]
    BadCommand(String),
}

impl PosError {
    /// Stable short label, usable as a metric label or in test assertions.
    pub fn kind(&self) -> &'static str {
        match self {
            PosError::InvalidAddress(_) => "invalid_address",
            PosError::UnknownAddress(_) => "unknown_address",
            PosError::AlreadyRegistered(_) => "already_registered",
            PosError::InvalidParam(_) => "invalid_param",
            PosError::BadCommand(_) => "bad_command",
        }
    }
}
