//! JSON-RPC 2.0 envelopes and the node's quantity encodings.
//!
//! Conflux encodes every `U64`/`U256` as a `"0x…"` string (never a JSON number), so the decoders here refuse
//! numbers: accepting them would hide a simulator or fixture that drifted from what a real node sends.

use std::fmt;

use super::text::excerpt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

/// A request object as sent in a batch. Ids are numbers we choose, so answers can be matched in any order.
#[derive(Debug, Serialize)]
pub(crate) struct Request<'a> {
    /// Always `"2.0"`.
    pub jsonrpc: &'static str,
    /// Position-independent key used to match the answer.
    pub id: u64,
    /// Method name; checked against the allow-list before it gets here.
    pub method: &'a str,
    /// Positional parameters (the node takes arrays only).
    pub params: &'a Value,
}

/// One answer object, read from the answer's bytes: the id as borrowed raw text (it is only compared), the result
/// as raw text decoded later into its own type. `result` may legitimately be `null` (e.g. an unknown block).
#[derive(Debug, Deserialize)]
pub struct Response<'a> {
    /// Echo of the request id; `None` when `null` (the server could not parse the request) or absent.
    #[serde(default, borrow)]
    pub id: Option<&'a RawValue>,
    /// The answer; `None` both for an explicit null and when absent (then `error` is set).
    #[serde(default)]
    pub result: Option<Box<RawValue>>,
    /// The error object when the call failed.
    #[serde(default)]
    pub error: Option<ErrorObject>,
}

/// A JSON-RPC error object as the node returns it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ErrorObject {
    /// Numeric code; the ones the exporter acts on are named by [`ErrorCode`].
    pub code: i64,
    /// Human text from the node, bounded as it is decoded. It never contains our secrets (it comes from the
    /// remote side).
    #[serde(default, deserialize_with = "super::text::de_bounded")]
    pub message: String,
}

/// The JSON-RPC error codes that change what the exporter concludes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorCode {
    /// −32601: the method or its whole namespace is not served on this port (e.g. `pos` on a public port).
    MethodNotFound,
    /// −32602: bad parameters, e.g. an epoch above the node's tip.
    InvalidParams,
    /// −32078: the PoS module has not started yet (early sync), so every `pos_*` call fails.
    PosNotEnabled,
    /// −32072: throttled by the node's or the gateway's rate limiter.
    Throttled,
    /// Any other code.
    Other(i64),
}

impl ErrorCode {
    /// Names a raw code.
    pub(crate) fn from_code(code: i64) -> Self {
        match code {
            -32601 => Self::MethodNotFound,
            -32602 => Self::InvalidParams,
            -32078 => Self::PosNotEnabled,
            -32072 => Self::Throttled,
            other => Self::Other(other),
        }
    }

    /// A short stable name, usable in logs and as a label value.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::MethodNotFound => "method_not_found",
            Self::InvalidParams => "invalid_params",
            Self::PosNotEnabled => "pos_not_enabled",
            Self::Throttled => "throttled",
            Self::Other(_) => "other",
        }
    }
}

/// A `U64` quantity as the node writes it: `"0x"` + lowercase hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HexU64(pub u64);

/// A `U256` quantity (drip amounts) decoded into `u128`, which holds far more than the total CFX supply in drip;
/// larger values are rejected as a decode error instead of wrapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HexU128(pub u128);

/// Parses `"0x…"` into an integer, refusing missing prefixes, empty digits and overflow.
pub(crate) fn parse_hex_u128(s: &str) -> Result<u128, String> {
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .ok_or_else(|| format!("quantity {:?} lacks the 0x prefix", excerpt(s)))?;
    if digits.is_empty() {
        return Err("quantity \"0x\" has no digits".into());
    }
    u128::from_str_radix(digits, 16).map_err(|e| format!("quantity {:?}: {e}", excerpt(s)))
}

/// Like [`parse_hex_u128`] but for values that must fit 64 bits (epochs, heights, counts).
pub(crate) fn parse_hex_u64(s: &str) -> Result<u64, String> {
    let v = parse_hex_u128(s)?;
    u64::try_from(v).map_err(|_| format!("quantity {:?} does not fit 64 bits", excerpt(s)))
}

/// Formats a quantity the way the node expects it in parameters.
pub(crate) fn to_hex(v: u64) -> String {
    format!("{v:#x}")
}

struct HexVisitor;

impl Visitor<'_> for HexVisitor {
    type Value = u128;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a 0x-prefixed hex quantity string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<u128, E> {
        parse_hex_u128(v).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for HexU64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = d.deserialize_str(HexVisitor)?;
        u64::try_from(v)
            .map(HexU64)
            .map_err(|_| de::Error::custom("quantity does not fit 64 bits"))
    }
}

impl<'de> Deserialize<'de> for HexU128 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(HexVisitor).map(HexU128)
    }
}

impl Serialize for HexU64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&to_hex(self.0))
    }
}

impl Serialize for HexU128 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:#x}", self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn hex_u64_round_trips(v in any::<u64>()) {
            let json = serde_json::to_string(&HexU64(v)).unwrap();
            prop_assert_eq!(json.clone(), format!("\"{v:#x}\""));
            let back: HexU64 = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back.0, v);
        }

        #[test]
        fn hex_u128_round_trips(v in any::<u128>()) {
            let json = serde_json::to_string(&HexU128(v)).unwrap();
            let back: HexU128 = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back.0, v);
        }

        #[test]
        fn hex_u64_never_panics_on_strings(s in ".{0,40}") {
            let _ = serde_json::from_value::<HexU64>(Value::String(s));
        }
    }

    #[test]
    fn rejects_what_a_node_never_sends() {
        for bad in [
            r#"5"#,
            r#""5""#,
            r#""0x""#,
            r#""0xzz""#,
            r#"null"#,
            r#""0x1ffffffffffffffff""#,
        ] {
            assert!(
                serde_json::from_str::<HexU64>(bad).is_err(),
                "{bad} must be refused"
            );
        }
        assert_eq!(serde_json::from_str::<HexU64>(r#""0x0""#).unwrap().0, 0);
        assert_eq!(
            serde_json::from_str::<HexU64>(r#""0x140c""#).unwrap().0,
            0x140c
        );
    }

    #[test]
    fn reward_sized_values_fit_u128() {
        let v: HexU128 = serde_json::from_str(r#""0x2d49549e023888cd390""#).unwrap();
        assert_eq!(v.0, 0x2d49549e023888cd390);
    }

    #[test]
    fn error_codes_are_named() {
        assert_eq!(ErrorCode::from_code(-32078), ErrorCode::PosNotEnabled);
        assert_eq!(ErrorCode::from_code(-32601).name(), "method_not_found");
        assert_eq!(ErrorCode::from_code(-1), ErrorCode::Other(-1));
    }
}
