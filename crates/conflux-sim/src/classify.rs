//! Which calls are expensive history reads and which ones a node without PoS cannot survive, decided from the
//! method and its parameters only, so the transport can act on a whole body before answering it.

use serde_json::Value;

use super::call::{Body, Item};

/// A read of past PoS data: what a real node answers slowly under load (0.01–50 s per call), unlike its
/// status calls. Tags such as `latest_committed` read the head and stay cheap.
pub fn is_history_read(method: &str, params: &[Value]) -> bool {
    let hex_arg = |i: usize| {
        params
            .get(i)
            .and_then(Value::as_str)
            .is_some_and(|s| s.starts_with("0x"))
    };
    match method {
        "pos_getBlockByNumber" => hex_arg(0),
        "pos_getTransactionByNumber" | "pos_getRewardsByEpoch" => true,
        "pos_getCommittee" => hex_arg(0),
        "pos_getAccount" => hex_arg(1),
        _ => false,
    }
}

/// `pos_*` methods a real node serves (docs/node-facts.md#pos-rpc); any other `pos_*` name is −32601, even without PoS.
const POS_METHODS: [&str; 14] = [
    "pos_getStatus",
    "pos_getBlockByNumber",
    "pos_getBlockByHash",
    "pos_getTransactionByNumber",
    "pos_getCommittee",
    "pos_getAccount",
    "pos_getAccountByPowAddress",
    "pos_getRewardsByEpoch",
    "pos_getEpochState",
    "pos_getLedgerInfoByEpoch",
    "pos_getLedgerInfoByBlockNumber",
    "pos_getLedgerInfoByEpochAndRound",
    "pos_getLedgerInfosByEpoch",
    "pos_getConsensusBlocks",
];

/// Block-number tags the node's decoder accepts besides hex.
const TAGS: [&str; 3] = ["latest_committed", "latest_voted", "earliest"];

/// Whether the params get past the node's decoder (hex or tags; the PoW-address lookup takes any string).
fn decodes(method: &str, params: &[Value]) -> bool {
    params.iter().all(|p| {
        p.as_str().is_some_and(|s| {
            method == "pos_getAccountByPowAddress" || s.starts_with("0x") || TAGS.contains(&s)
        })
    })
}

/// What a node started without PoS answers to a `pos_*` call that does not close the connection: `null`
/// for the two calls captured answering so, `None` (answer normally: −32601 or −32602) for the rest.
pub fn answer_without_pos(method: &str, params: &[Value]) -> Option<Value> {
    let null = match method {
        "pos_getRewardsByEpoch" => true,
        "pos_getTransactionByNumber" => params.first().and_then(Value::as_str) == Some("0x0"),
        _ => false,
    };
    (null && decodes(method, params)).then_some(Value::Null)
}

/// Whether a node started without PoS drops the connection on this call. Captured on a real node
/// (`rpc-real/devmode-nopos`): every served `pos_*` call whose params decode does, except
/// `pos_getRewardsByEpoch` and `pos_getTransactionByNumber ["0x0"]`, which answer `null`; unknown methods
/// and bad params are answered as usual.
pub fn closes_without_pos(method: &str, params: &[Value]) -> bool {
    POS_METHODS.contains(&method)
        && decodes(method, params)
        && answer_without_pos(method, params).is_none()
}

/// Every well-formed call of a body.
fn calls(body: &Body) -> Vec<(&str, &[Value])> {
    let items: &[Item] = match body {
        Body::Single(i) => std::slice::from_ref(i),
        Body::Batch(items) => items,
        Body::ParseError | Body::EmptyBatch => &[],
    };
    items
        .iter()
        .filter_map(|i| match i {
            Item::Call {
                method,
                params: Ok(p),
                ..
            } => Some((method.as_str(), p.as_slice())),
            _ => None,
        })
        .collect()
}

/// How many history reads a body holds.
pub fn history_reads(body: &Body) -> u64 {
    calls(body)
        .into_iter()
        .filter(|(m, p)| is_history_read(m, p))
        .count() as u64
}

/// Whether a node without PoS drops the connection on this body (one such call loses the whole batch).
pub fn lost_without_pos(body: &Body) -> bool {
    calls(body)
        .into_iter()
        .any(|(m, p)| closes_without_pos(m, p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::parse;

    #[test]
    fn history_reads_are_counted_per_call() {
        let body = parse(
            br#"[{"id":1,"method":"cfx_getStatus"},{"id":2,"method":"pos_getBlockByNumber","params":["0x10"]},
                {"id":3,"method":"pos_getBlockByNumber","params":["latest_committed"]},
                {"id":4,"method":"pos_getTransactionByNumber","params":["0x3"]},
                {"id":5,"method":"pos_getAccount","params":["0xab"]},{"id":6,"method":"pos_getAccount","params":["0xab","0x14"]},
                {"id":7,"method":"pos_getCommittee","params":[]},{"id":8,"method":"pos_getCommittee","params":["0x14"]},
                {"id":9,"method":"pos_getRewardsByEpoch","params":["0x2"]}]"#,
        );
        assert_eq!(history_reads(&body), 5);
        assert_eq!(
            history_reads(&parse(br#"{"id":1,"method":"pos_getStatus"}"#)),
            0
        );
    }

    #[test]
    fn one_pos_call_loses_the_whole_body_without_pos() {
        let with_pos =
            parse(br#"[{"id":1,"method":"cfx_getStatus"},{"id":2,"method":"pos_getStatus"}]"#);
        assert!(lost_without_pos(&with_pos));
        assert!(!lost_without_pos(&parse(
            br#"{"id":1,"method":"cfx_getStatus"}"#
        )));
        let rewards = parse(br#"{"id":1,"method":"pos_getRewardsByEpoch","params":["0x1"]}"#);
        assert!(!lost_without_pos(&rewards));
        let tx0 = parse(br#"{"id":1,"method":"pos_getTransactionByNumber","params":["0x0"]}"#);
        let tx1 = parse(br#"{"id":1,"method":"pos_getTransactionByNumber","params":["0x1"]}"#);
        assert!(!lost_without_pos(&tx0) && lost_without_pos(&tx1));
        let unknown = parse(br#"{"id":1,"method":"pos_noSuchMethod","params":[]}"#);
        let bad = parse(br#"{"id":1,"method":"pos_getBlockByNumber","params":["not-a-number"]}"#);
        assert!(!lost_without_pos(&unknown) && !lost_without_pos(&bad));
        assert_eq!(
            answer_without_pos("pos_getRewardsByEpoch", &[serde_json::json!("0x1")]),
            Some(Value::Null)
        );
        assert_eq!(answer_without_pos("pos_getStatus", &[]), None);
    }
}
