//! Reading a batch answer: the envelope straight from the bytes, each result kept as raw JSON text (decoded later
//! into its own type by [`super::decode`]), and never more answers kept than calls were sent, whatever the peer
//! puts in the array.

use std::borrow::Borrow;

use serde::de::{self, DeserializeOwned};
use serde_json::value::RawValue;

use super::error::RpcError;
use super::wire::Response;

/// One call's answer: its raw JSON text, read into a type only by [`decode`].
pub type Answer = Result<Box<RawValue>, RpcError>;

/// Decodes a call's answer, straight from its raw JSON text, into the type the call expects: no intermediate
/// tree, so memory follows the fields declared, not what the peer sent. Errors are bounded text.
pub fn decode<T: DeserializeOwned>(raw: impl Borrow<RawValue>) -> Result<T, RpcError> {
    serde_json::from_str(raw.borrow().get()).map_err(|e| RpcError::decode(e.to_string()))
}

/// Raw JSON text of any serialisable value, for answers built in tests and tools (a fixture, a simulated chain).
pub fn to_raw(v: &impl serde::Serialize) -> Box<RawValue> {
    serde_json::value::to_raw_value(v).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

/// A batch answer matched to its calls: one answer per call, in call order, and the number of items dropped
/// (more items than calls, unknown or repeated ids, items that are not a response object).
#[derive(Debug)]
pub(crate) struct Matched {
    /// One answer per call; a call the server did not answer gets a decode error.
    pub answers: Vec<Answer>,
    /// Items of the answer not kept.
    pub dropped: usize,
}

/// Matches a batch answer to the request ids `first..first+n`, reading the envelope from the bytes: each result is
/// kept as raw JSON text until [`decode`] reads it into its type, and at most `n` results are kept whatever the
/// answer holds. A single error object instead of an array means the server rejected the whole batch.
pub(crate) fn match_batch(bytes: &[u8], first: u64, n: usize) -> Result<Matched, RpcError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => {
            let mut de = serde_json::Deserializer::from_slice(bytes);
            let matched = de::DeserializeSeed::deserialize(BatchSeed { first, n }, &mut de)
                .and_then(|m| de.end().map(|()| m))
                .map_err(|e| RpcError::decode(format!("not a JSON batch ({e})")))?;
            Ok(matched)
        }
        Some(b'{') => {
            let single: Response =
                serde_json::from_slice(bytes).map_err(|e| RpcError::decode(e.to_string()))?;
            match single.error {
                Some(err) => Err(RpcError::rpc(err.code, &err.message)),
                None => Err(RpcError::decode("expected a batch array, got one object")),
            }
        }
        _ => Err(RpcError::decode(
            "answer is neither a JSON array nor an object",
        )),
    }
}

/// Reads the batch array item by item, keeping only answers to ids of this request.
struct BatchSeed {
    first: u64,
    n: usize,
}

impl<'de> de::DeserializeSeed<'de> for BatchSeed {
    type Value = Matched;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Matched, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> de::Visitor<'de> for BatchSeed {
    type Value = Matched;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON-RPC batch answer")
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Matched, A::Error> {
        let mut slots: Vec<Option<Answer>> = Vec::new();
        slots.resize_with(self.n, || None);
        let mut dropped = 0usize;
        // Each item is first taken as borrowed raw text (no copy), so a malformed one is dropped, not fatal.
        while let Some(item) = seq.next_element::<&'de RawValue>()? {
            let slot = serde_json::from_str::<Response>(item.get())
                .ok()
                .and_then(|r| {
                    let i =
                        r.id.and_then(|id| id.get().parse::<u64>().ok())?
                            .checked_sub(self.first)?;
                    let i = usize::try_from(i).ok().filter(|i| *i < self.n)?;
                    Some((i, r))
                })
                .filter(|(i, _)| slots[*i].is_none());
            match slot {
                Some((i, r)) => {
                    slots[i] = Some(match r.error {
                        Some(err) => Err(RpcError::rpc(err.code, &err.message)),
                        None => Ok(r.result.unwrap_or_else(|| RawValue::NULL.to_owned())),
                    })
                }
                None => dropped += 1,
            }
        }
        let first = self.first;
        let answers = slots
            .into_iter()
            .zip(0u64..)
            .map(|(a, i)| {
                a.unwrap_or_else(|| {
                    Err(RpcError::decode(format!(
                        "no answer for id {}",
                        first.saturating_add(i)
                    )))
                })
            })
            .collect();
        Ok(Matched { answers, dropped })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::wire::HexU64;
    use proptest::prelude::*;

    fn text(a: &Answer) -> &str {
        a.as_ref().unwrap().get()
    }

    #[test]
    fn batch_answers_are_matched_by_id_in_any_order() {
        let body =
            br#"[{"jsonrpc":"2.0","id":12,"result":"0x2"},{"jsonrpc":"2.0","id":10,"result":null},
            {"jsonrpc":"2.0","id":11,"error":{"code":-32601,"message":"Method not found"}}]"#;
        let m = match_batch(body, 10, 3).unwrap();
        assert_eq!(text(&m.answers[0]), "null");
        assert!(m.answers[1].as_ref().unwrap_err().is_method_not_found());
        assert_eq!(text(&m.answers[2]), r#""0x2""#);
        assert_eq!(m.dropped, 0);
        assert_eq!(
            decode::<HexU64>(m.answers[2].as_deref().unwrap())
                .unwrap()
                .0,
            2
        );
    }

    #[test]
    fn missing_unknown_duplicate_and_extra_items_are_dropped_and_counted() {
        let m = match_batch(br#"[{"jsonrpc":"2.0","id":1,"result":1}]"#, 1, 2).unwrap();
        assert_eq!(m.answers[1].as_ref().unwrap_err().kind(), "decode");
        let m = match_batch(br#"[{"jsonrpc":"2.0","id":99,"result":1}]"#, 1, 1).unwrap();
        assert_eq!((m.answers[0].is_err(), m.dropped), (true, 1));
        let m = match_batch(br#"[{"id":1,"result":1},{"id":1,"result":2}]"#, 1, 1).unwrap();
        assert_eq!(
            (text(&m.answers[0]), m.dropped),
            ("1", 1),
            "the first answer wins"
        );
        let many = format!(
            "[{}]",
            vec![r#"{"id":1,"result":[1,2,3]}"#; 10_000].join(",")
        );
        let m = match_batch(many.as_bytes(), 1, 1).unwrap();
        assert_eq!((m.answers.len(), m.dropped), (1, 9_999));
        let m = match_batch(
            br#"[5, "x", {"id":"1","result":1}, {"id":1,"result":2}]"#,
            1,
            1,
        )
        .unwrap();
        assert_eq!((text(&m.answers[0]), m.dropped), ("2", 3));
        assert!(match_batch(b"<html>oops</html>", 1, 1).is_err());
        assert!(match_batch(b"[{\"id\":1,\"result\":1}] trailing", 1, 1).is_err());
    }

    #[test]
    fn whole_batch_rejection_is_an_rpc_error() {
        let e = match_batch(
            br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid request"}}"#,
            1,
            2,
        )
        .unwrap_err();
        assert_eq!(e.kind(), "rpc_error");
    }

    #[test]
    fn a_huge_error_message_is_bounded_where_it_enters() {
        let msg = format!("{}\\u001b[2J", "A".repeat(15_000_000));
        let body = format!(r#"[{{"id":1,"error":{{"code":-32000,"message":"{msg}"}}}}]"#);
        let m = match_batch(body.as_bytes(), 1, 1).unwrap();
        let e = m.answers[0].as_ref().unwrap_err().to_string();
        assert!(e.len() < 400, "{} bytes", e.len());
        let single = format!(r#"{{"id":null,"error":{{"code":-32000,"message":"{msg}"}}}}"#);
        assert!(
            match_batch(single.as_bytes(), 1, 1)
                .unwrap_err()
                .to_string()
                .len()
                < 400
        );
        let bad = format!(r#"[{{"id":1,"result":"0x{}"}}]"#, "z".repeat(1_000_000));
        let m = match_batch(bad.as_bytes(), 1, 1).unwrap();
        let e = decode::<HexU64>(m.answers[0].as_deref().unwrap()).unwrap_err();
        assert!(e.to_string().len() < 400, "{e}");
    }

    proptest! {
        #[test]
        fn any_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..200), n in 0usize..4) {
            let _ = match_batch(&body, 1, n);
        }

        #[test]
        fn any_items_keep_at_most_one_answer_per_call(
            ids in prop::collection::vec(prop_oneof![any::<u64>(), 0u64..6], 0..20), n in 0usize..5,
        ) {
            let items: Vec<String> = ids.iter().map(|id| format!(r#"{{"id":{id},"result":{id}}}"#)).collect();
            let m = match_batch(format!("[{}]", items.join(",")).as_bytes(), 1, n).unwrap();
            prop_assert_eq!(m.answers.len(), n);
            let kept = m.answers.iter().filter(|a| a.is_ok()).count();
            prop_assert_eq!(kept + m.dropped, ids.len());
        }
    }
}
