//! Deterministic stand-ins for hashes, keys and signatures.
//!
//! The simulator must answer the same bytes on every run (tests compare exact values), and nothing checks the
//! cryptography, so every "hash" is a splitmix64 stream seeded by a tag and a number. Distinct numbers under
//! one tag give distinct first words, which is all uniqueness the lookups by hash need.

/// Tag for block hashes (number = height).
pub(crate) const TAG_BLOCK: u64 = 1;
/// Tag for transaction hashes (number = version).
pub(crate) const TAG_TX: u64 = 2;
/// Tag for BLS public keys (number = address key).
pub(crate) const TAG_BLS: u64 = 3;
/// Tag for VRF public keys (number = address key).
pub(crate) const TAG_VRF: u64 = 4;
/// Tag for VRF proofs (number mixes address and term).
pub(crate) const TAG_PROOF: u64 = 5;
/// Tag for signed-vote blobs in disputes (number mixes address and view).
pub(crate) const TAG_VOTE: u64 = 6;
/// Tag for default member addresses (number = member index).
pub(crate) const TAG_MEMBER: u64 = 7;
/// Tag for the anchor block's pivot hash.
pub(crate) const TAG_PIVOT: u64 = 8;

/// All-zero H256: the `from` of `BlockMetadata` and the parent of genesis.
pub(crate) const ZERO_H256: &str =
    "0x0000000000000000000000000000000000000000000000000000000000000000";

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
/// CIP-37 base32 alphabet, upper-cased as in the node's verbose address form.
const BASE32: &[u8; 32] = b"ABCDEFGHJKMNPRSTUVWXYZ0123456789";

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(GOLDEN);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn stream(tag: u64, n: u64) -> impl Iterator<Item = u64> {
    let seed = mix(tag.wrapping_mul(GOLDEN) ^ mix(n));
    (0u64..).map(move |i| mix(seed.wrapping_add(i)))
}

/// `len` pseudo-random bytes as `0x…` lower-case hex.
pub(crate) fn hex_bytes(tag: u64, n: u64, len: usize) -> String {
    let mut out = String::with_capacity(2 + 2 * len);
    out.push_str("0x");
    for word in stream(tag, n).take(len.div_ceil(8)).collect::<Vec<_>>() {
        for b in word.to_be_bytes() {
            if out.len() < 2 + 2 * len {
                out.push_str(&format!("{b:02x}"));
            }
        }
    }
    out
}

/// A 32-byte hash as the RPC prints an `H256`.
pub(crate) fn h256(tag: u64, n: u64) -> String {
    hex_bytes(tag, n, 32)
}

/// Stable 64-bit key of a string (FNV-1a), used to derive per-address keys.
pub(crate) fn str_key(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A plausible verbose mainnet user address (`CFX:TYPE.USER:AA…`, 42 base32 characters, checksum not valid).
pub(crate) fn pow_address(n: u64) -> String {
    let mut body = String::from("AA");
    for word in stream(TAG_MEMBER ^ 0xFF, n).take(5) {
        for i in 0..8 {
            body.push(char::from(BASE32[((word >> (i * 5)) & 31) as usize]));
        }
    }
    format!("CFX:TYPE.USER:{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_well_formed_deterministic_and_distinct() {
        let a = h256(TAG_BLOCK, 7);
        assert_eq!(a.len(), 66);
        assert!(
            a.starts_with("0x")
                && a[2..]
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_eq!(a, h256(TAG_BLOCK, 7));
        assert_ne!(a, h256(TAG_BLOCK, 8));
        assert_ne!(a, h256(TAG_TX, 7));
        assert_eq!(hex_bytes(TAG_BLS, 1, 48).len(), 2 + 96);
        assert_eq!(hex_bytes(TAG_VRF, 1, 33).len(), 2 + 66);
    }

    #[test]
    fn pow_addresses_look_like_verbose_base32() {
        let a = pow_address(3);
        let body = a.strip_prefix("CFX:TYPE.USER:").unwrap_or_default();
        assert_eq!(body.len(), 42);
        assert!(body.bytes().all(|b| BASE32.contains(&b)));
        assert_ne!(a, pow_address(4));
    }
}
