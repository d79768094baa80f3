//! Wire encodings as the node writes them: hex quantities, H256 hashes, verbose base32 addresses and
//! JSON-RPC error objects. Written by hand, never shared with the exporter's client, so a shape bug on one
//! side cannot hide the same bug on the other.

use serde_json::{json, Value};

/// JSON-RPC "method not found"; also what a port answers for a namespace it does not serve.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// JSON-RPC "invalid params": bad hex, unknown tag, epoch above the tip.
pub const INVALID_PARAMS: i64 = -32602;
/// JSON-RPC "invalid request": not an object, no method, empty batch.
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC "parse error": the body is not JSON.
pub const PARSE_ERROR: i64 = -32700;
/// Conflux `POS_NOT_ENABLED`: every `pos_*` call before PoS initialises (docs/node-facts.md#ports-and-errors).
pub const POS_NOT_ENABLED: i64 = -32078;

/// A JSON-RPC error object ready to be put in a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcError {
    /// JSON-RPC error code.
    pub code: i64,
    /// Human-readable message.
    pub message: String,
    /// Optional `data` member (the node puts details of invalid params here).
    pub data: Option<String>,
}

impl RpcError {
    /// Any code and message, as injected by the `error` fault.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// −32601 "Method not found".
    pub fn method_not_found() -> Self {
        Self::new(METHOD_NOT_FOUND, "Method not found")
    }

    /// −32602 with the details in `data`, as parity's `invalid_params` does.
    pub fn invalid_params(details: impl Into<String>) -> Self {
        Self {
            code: INVALID_PARAMS,
            message: "Invalid params".to_string(),
            data: Some(details.into()),
        }
    }

    /// −32603 "Internal error" with the details in `data`, e.g. "Pos not initialized!" from the voting
    /// methods of a node started without PoS.
    pub fn internal(details: impl Into<String>) -> Self {
        Self {
            code: -32603,
            message: "Internal error".to_string(),
            data: Some(details.into()),
        }
    }

    /// −32078 "PoS chain is not enabled".
    pub fn pos_not_enabled() -> Self {
        Self::new(POS_NOT_ENABLED, "PoS chain is not enabled")
    }

    /// The `error` member of a response.
    pub fn to_json(&self) -> Value {
        match &self.data {
            Some(d) => json!({"code": self.code, "message": self.message, "data": d}),
            None => json!({"code": self.code, "message": self.message}),
        }
    }
}

/// A `U64`/`U256` quantity: `"0x"` + lowercase hex, no leading zeros, `"0x0"` for zero.
pub fn qty(n: u64) -> Value {
    Value::String(format!("{n:#x}"))
}

/// Parses a quantity parameter the way the node does: `0x` prefix required, hex digits, fits in u64.
pub fn parse_qty(s: &str) -> Result<u64, RpcError> {
    let digits = s
        .strip_prefix("0x")
        .ok_or_else(|| RpcError::invalid_params("Invalid epoch number: missing 0x prefix"))?;
    if digits.is_empty() {
        return Err(RpcError::invalid_params(
            "Invalid epoch number: no hex digits",
        ));
    }
    u64::from_str_radix(digits, 16)
        .map_err(|e| RpcError::invalid_params(format!("Invalid epoch number: {e}")))
}

/// splitmix64: a small, well-mixed step so derived hashes look random yet stay reproducible.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A deterministic 64-bit value from a list of inputs.
pub fn derive_u64(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0x243f_6a88_85a3_08d3, |acc, p| mix(acc ^ mix(*p)))
}

/// A deterministic H256 (`0x` + 64 hex) from a list of inputs; the same inputs always give the same hash.
pub fn derive_h256(parts: &[u64]) -> String {
    let base = derive_u64(parts);
    let mut out = String::with_capacity(66);
    out.push_str("0x");
    for i in 0..4u64 {
        out.push_str(&format!("{:016x}", mix(base ^ mix(i))));
    }
    out
}

/// The all-zero H256, used as the parent of epoch 0.
pub fn zero_h256() -> String {
    format!("0x{}", "0".repeat(64))
}

/// Stable 64-bit value of a string (FNV-1a), used to give each endpoint its own fork salt.
pub fn str_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A verbose CIP-37 user address with the network's prefix. The payload is a fixed, plausible string: the
/// exporter never decodes it, it only has to look like what the node prints (upper case, `TYPE.USER`).
pub fn verbose_address(network_id: u64) -> String {
    let prefix = match network_id {
        1029 => "CFX".to_string(),
        1 => "CFXTEST".to_string(),
        n => format!("NET{n}"),
    };
    format!("{prefix}:TYPE.USER:AARC9ABYCUE0HHZGYRR53M6CXEDGCCRMMYYBJGH4XG")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_have_no_leading_zeros() {
        assert_eq!(qty(0), json!("0x0"));
        assert_eq!(qty(1029), json!("0x405"));
        assert_eq!(qty(u64::MAX), json!("0xffffffffffffffff"));
    }

    #[test]
    fn quantity_parsing_matches_node_rules() {
        assert_eq!(parse_qty("0x405"), Ok(1029));
        assert_eq!(parse_qty("0x0005"), Ok(5));
        assert_eq!(parse_qty("405").map_err(|e| e.code), Err(INVALID_PARAMS));
        assert!(parse_qty("0x").is_err());
        assert!(parse_qty("0xzz").is_err());
        assert!(parse_qty("0x10000000000000000").is_err());
    }

    #[test]
    fn derived_hashes_are_h256_and_deterministic() {
        let a = derive_h256(&[1, 2, 3]);
        assert_eq!(a.len(), 66);
        assert!(a.starts_with("0x"));
        assert!(a[2..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(a, derive_h256(&[1, 2, 3]));
        assert_ne!(a, derive_h256(&[1, 2, 4]));
        assert_ne!(a, derive_h256(&[2, 1, 3]));
    }

    #[test]
    fn error_objects_carry_code_and_message() {
        assert_eq!(
            RpcError::method_not_found().to_json(),
            json!({"code": -32601, "message": "Method not found"})
        );
        assert_eq!(RpcError::pos_not_enabled().to_json()["code"], json!(-32078));
        assert_eq!(RpcError::invalid_params("x").to_json()["data"], json!("x"));
    }

    #[test]
    fn addresses_use_the_network_prefix() {
        assert!(verbose_address(1029).starts_with("CFX:TYPE.USER:"));
        assert!(verbose_address(1).starts_with("CFXTEST:TYPE.USER:"));
        assert!(verbose_address(8888).starts_with("NET8888:TYPE.USER:"));
    }
}
