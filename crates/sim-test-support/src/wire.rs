//! The node's encodings as the tests check them: hex quantities and 32-byte hashes.

use serde_json::Value;

/// `"0x"` + lowercase hex without leading zeros.
pub fn is_qty(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.strip_prefix("0x").is_some_and(|d| {
            !d.is_empty()
                && d.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                && (d == "0" || !d.starts_with('0'))
        })
    })
}

/// `"0x"` + 64 lowercase hex.
pub fn is_h256(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 66
            && s.starts_with("0x")
            && s[2..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Parses a quantity.
pub fn qty(v: &Value) -> u64 {
    let s = v.as_str().expect("quantity is a string");
    u64::from_str_radix(s.trim_start_matches("0x"), 16).expect("quantity is hex")
}
