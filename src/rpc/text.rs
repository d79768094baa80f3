//! Text a peer chose (JSON-RPC error messages, the client version, the sync phase, hashes, payload fields) is
//! bounded where it enters: cut to [`MAX_TEXT`] characters with control and bidi-override characters escaped. So an
//! answer carrying a 15 MB message or a terminal escape sequence reaches logs, error texts, the landing page and
//! label values as at most a few hundred harmless characters, whatever the size cap on answers allows.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// Longest remote text kept, in characters (escapes count at their printed length).
pub(crate) const MAX_TEXT: usize = 256;
/// Longest hash-like string accepted (`0x` + 64 hex is 66); longer is malformed, not cut: a cut hash would compare
/// equal to nothing and look valid.
pub(crate) const MAX_HASH: usize = 130;
/// Marks text that was cut.
const CUT: &str = "…";

/// `s` cut to [`MAX_TEXT`] characters, control characters escaped.
pub(crate) fn bounded(s: &str) -> String {
    bounded_to(s, MAX_TEXT)
}

/// `s` cut to `max` printed characters, control and bidi-override characters escaped (`\n`, `\u{1b}`, ...).
pub(crate) fn bounded_to(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max * 4) + CUT.len());
    let mut used = 0;
    for c in s.chars() {
        let escape = needs_escape(c);
        let width = if escape {
            c.escape_default().count()
        } else {
            1
        };
        if used + width > max {
            out.push_str(CUT);
            return out;
        }
        if escape {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
        used += width;
    }
    out
}

/// A short excerpt of remote text for an error message about it (a malformed quantity, an unknown phase).
pub(crate) fn excerpt(s: &str) -> String {
    bounded_to(s, 24)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A remote string, bounded with [`bounded`] as it is decoded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RemoteText(pub String);

impl<'de> Deserialize<'de> for RemoteText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(BoundedVisitor).map(RemoteText)
    }
}

/// `deserialize_with` for a `String` field of remote text: bounded with [`bounded`].
pub(crate) fn de_bounded<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_str(BoundedVisitor)
}

/// `deserialize_with` for an optional remote text field (`null` or absent = `None`).
pub(crate) fn de_bounded_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<RemoteText>::deserialize(d).map(|o| o.map(|t| t.0))
}

/// `deserialize_with` for a hash (block hash): at most [`MAX_HASH`] characters of hex, else malformed.
pub(crate) fn de_hash<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_str(HashVisitor)
}

/// `deserialize_with` for a payload field read only when it is a string: any other JSON value (or absence)
/// is `None`, and is skipped without being kept.
pub(crate) fn de_lenient_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(LenientVisitor)
}

struct BoundedVisitor;

impl Visitor<'_> for BoundedVisitor {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(bounded(v))
    }
}

struct HashVisitor;

impl Visitor<'_> for HashVisitor {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a hex hash string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        let hex = v.strip_prefix("0x").unwrap_or(v);
        if v.len() > MAX_HASH || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(E::custom(format!(
                "a hash of {} bytes that is not 0x-hex of at most {MAX_HASH} characters",
                v.len()
            )));
        }
        Ok(v.to_string())
    }
}

struct LenientVisitor;

impl<'de> Visitor<'de> for LenientVisitor {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(bounded(v)))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// The length of a JSON array, counted without keeping its items (`test_getPeerInfo`: one object per peer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count(pub u64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Count, A::Error> {
                let mut n = 0u64;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    n = n.saturating_add(1);
                }
                Ok(Count(n))
            }
        }
        d.deserialize_seq(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn long_text_is_cut_and_controls_escaped() {
        assert_eq!(bounded("ok"), "ok");
        assert_eq!(bounded("a\nb\u{1b}[31m"), "a\\nb\\u{1b}[31m");
        assert_eq!(bounded("\u{202e}x"), "\\u{202e}x");
        let cut = bounded(&"x".repeat(15_000_000));
        assert_eq!(cut.chars().count(), MAX_TEXT + 1);
        assert!(cut.ends_with(CUT));
        let t: RemoteText = serde_json::from_str(&format!("\"{}\"", "é".repeat(1000))).unwrap();
        assert_eq!(t.0.chars().count(), MAX_TEXT + 1);
    }

    #[test]
    fn hashes_are_bounded_not_cut() {
        #[derive(Deserialize)]
        struct H {
            #[serde(deserialize_with = "de_hash")]
            h: String,
        }
        assert_eq!(
            serde_json::from_str::<H>(r#"{"h":"0xaa"}"#).unwrap().h,
            "0xaa"
        );
        let long = format!(r#"{{"h":"0x{}"}}"#, "a".repeat(200));
        let e = serde_json::from_str::<H>(&long).err().unwrap().to_string();
        assert!(!e.contains("aaaa"), "{e}");
        assert!(serde_json::from_str::<H>(r#"{"h":"<script>"}"#).is_err());
    }

    #[test]
    fn lenient_fields_keep_only_strings() {
        #[derive(Deserialize)]
        struct P {
            #[serde(default, deserialize_with = "de_lenient_text")]
            a: Option<String>,
        }
        for (json, want) in [
            (r#"{"a":"x"}"#, Some("x")),
            (r#"{"a":{"b":[1,2]}}"#, None),
            (r#"{"a":[1,"x"]}"#, None),
            (r#"{"a":5}"#, None),
            (r#"{}"#, None),
        ] {
            let p: P = serde_json::from_str(json).unwrap();
            assert_eq!(p.a.as_deref(), want, "{json}");
        }
    }

    #[test]
    fn arrays_are_counted() {
        let c: Count = serde_json::from_str(r#"[{"a":1},2,[3]]"#).unwrap();
        assert_eq!(c, Count(3));
        assert!(serde_json::from_str::<Count>(r#""no""#).is_err());
    }

    proptest! {
        #[test]
        fn bounded_text_is_short_and_printable(s in any::<String>(), max in 0usize..64) {
            let out = bounded_to(&s, max);
            prop_assert!(out.chars().count() <= max + 1);
            prop_assert!(!out.chars().any(needs_escape));
        }
    }
}
