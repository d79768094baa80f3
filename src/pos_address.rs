//! The one PoS address type. A PoS address is 32 bytes written as hex, but the node spells it three ways:
//! PoS RPC answers carry `0x` + 64 lower-case hex, while `test_posRegister`'s payload and `secure_storage.json`
//! may carry it without `0x`, and operators paste either. Comparing raw strings would call the same key two keys,
//! so text is parsed into a [`PosAddress`] where it enters (configuration, RPC answers, key files) and everything
//! inside compares the parsed value. Its spelling is the one the labels have always shown: lower-case, `0x`.
//!
//! A leaf module: it imports nothing from the crate, so every layer may use it without a cycle.

use std::fmt;
use std::str::FromStr;

/// A valid PoS address, stored in its canonical spelling (`0x` + 64 lower-case hex).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct PosAddress(String);

/// Why a text is not a PoS address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PosAddressError {
    /// Not 64 hex digits long (after an optional `0x`).
    #[error("has {0} characters after the optional 0x; a PoS address is 64 hex digits, optionally prefixed with 0x")]
    Length(usize),
    /// The right length, but not all hex digits.
    #[error("is not hex: a PoS address has 64 hex digits (0-9, a-f)")]
    NotHex,
}

impl PosAddressError {
    /// A short stable name for logs and error counters.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Length(_) => "length",
            Self::NotHex => "not_hex",
        }
    }
}

impl PosAddress {
    /// Parses 64 hex digits, with or without `0x`/`0X`, in any case; surrounding whitespace (a pasted line, a
    /// file's newline) is ignored.
    pub fn parse(raw: &str) -> Result<Self, PosAddressError> {
        let trimmed = raw.trim();
        let hex = trimmed
            .strip_prefix("0x")
            .or_else(|| trimmed.strip_prefix("0X"))
            .unwrap_or(trimmed);
        if hex.len() != 64 {
            return Err(PosAddressError::Length(hex.chars().count()));
        }
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(PosAddressError::NotHex);
        }
        Ok(Self(format!("0x{}", hex.to_ascii_lowercase())))
    }

    /// The canonical spelling, as used in labels and logs.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `raw` spells this address (any accepted spelling); malformed text is never equal.
    pub fn is(&self, raw: &str) -> bool {
        Self::parse(raw).is_ok_and(|a| a == *self)
    }
}

impl FromStr for PosAddress {
    type Err = PosAddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for PosAddress {
    type Error = PosAddressError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl fmt::Display for PosAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for PosAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "33F8d0ba8e2e0a6fdbd6f3c4a3b0b4b0e9d7a1c2b3a4f5e6d7c8b9a0f1e2d3c4";

    fn canonical() -> String {
        format!("0x{}", HEX.to_ascii_lowercase())
    }

    #[test]
    fn every_spelling_parses_to_the_lower_case_0x_form() {
        for raw in [
            HEX.to_string(),
            format!("0x{HEX}"),
            format!("0X{HEX}"),
            HEX.to_ascii_uppercase(),
            format!(" 0x{HEX}\n"),
        ] {
            let a = PosAddress::parse(&raw).expect(&raw);
            assert_eq!(a.as_str(), canonical(), "{raw:?}");
            assert_eq!(a.to_string(), canonical());
        }
    }

    #[test]
    fn anything_else_is_refused_with_its_kind() {
        assert_eq!(
            PosAddress::parse(&HEX[..63]),
            Err(PosAddressError::Length(63))
        );
        assert_eq!(
            PosAddress::parse(&format!("{HEX}00")),
            Err(PosAddressError::Length(66))
        );
        assert_eq!(PosAddress::parse(""), Err(PosAddressError::Length(0)));
        let g = PosAddress::parse(&format!("0x{}", "g".repeat(64))).unwrap_err();
        assert_eq!((g.kind(), g), ("not_hex", PosAddressError::NotHex));
        // Non-ASCII of 64 bytes is neither a panic nor an address.
        assert!(PosAddress::parse(&"é".repeat(32)).is_err());
    }

    #[test]
    fn comparison_ignores_the_spelling_and_deserialising_checks() {
        let a: PosAddress = HEX.parse().expect("valid");
        assert!(a.is(&format!("0x{}", HEX.to_ascii_lowercase())));
        assert!(!a.is("0x12"));
        let json = format!("\"{HEX}\"");
        let b: PosAddress = serde_json::from_str(&json).expect("valid json");
        assert_eq!(a, b);
        assert!(serde_json::from_str::<PosAddress>("\"0x12\"").is_err());
    }
}
