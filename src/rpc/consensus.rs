//! `pos_getConsensusBlocks` (a read-only debug method, reference §3.10): the current epoch's blocks the node
//! holds in its consensus DB, most not committed yet, each with the signers of the QC that certifies it. A key
//! that still votes shows up here a few rounds before any committed block carries it, so the preflight reads it
//! as the freshest sign of life. Blocks not executed yet carry `height` 0 and a `null` `pivotDecision`, so only
//! what the preflight needs is declared, and the rest may be absent.

use serde::Deserialize;

use super::pos::Signature;
use super::wire::HexU64;
use crate::pos_address::PosAddress;

/// Consensus blocks read at most from one answer: a real node holds a handful (the rounds since the last commit),
/// and the answer's size is bounded by the client anyway.
pub const MAX_CONSENSUS_BLOCKS: usize = 1_000;

/// One block of the consensus DB.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ConsensusBlock {
    /// PoS epoch of the block.
    pub epoch: HexU64,
    /// Round within the epoch.
    pub round: HexU64,
    /// Proposer; `null` for NIL blocks.
    #[serde(default)]
    pub miner: Option<PosAddress>,
    /// Signers of the QC certifying this block; empty while no QC is known.
    #[serde(default)]
    pub signatures: Vec<Signature>,
}

/// What the consensus DB shows of one key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PendingSigns {
    /// Blocks in the answer.
    pub blocks: usize,
    /// Newest (epoch, round) whose QC holds the key's signature.
    pub signed: Option<(u64, u64)>,
    /// Newest (epoch, round) the key proposed.
    pub proposed: Option<(u64, u64)>,
}

impl PendingSigns {
    /// The key's signs in `blocks` (at most [`MAX_CONSENSUS_BLOCKS`] of them are looked at).
    pub fn of(blocks: &[ConsensusBlock], key: &PosAddress) -> Self {
        let mut p = Self {
            blocks: blocks.len(),
            ..Self::default()
        };
        for b in blocks.iter().take(MAX_CONSENSUS_BLOCKS) {
            let at = Some((b.epoch.0, b.round.0));
            if b.signatures.iter().any(|s| &s.account == key) {
                p.signed = p.signed.max(at);
            }
            if b.miner.as_ref() == Some(key) {
                p.proposed = p.proposed.max(at);
            }
        }
        p
    }

    /// The newest of the key's signs, signature or proposal.
    pub fn newest(&self) -> Option<(u64, u64)> {
        self.signed.max(self.proposed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &str = "0x5a7fe8dd0b0d2ba4f80ae9f2b8a7fd2e7c1b2ea1d3c3c15bb5e7a0c6f1e948ca";
    const OTHER: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";

    fn key() -> PosAddress {
        PosAddress::parse(KEY).unwrap()
    }

    #[test]
    fn executed_and_not_executed_blocks_both_decode() {
        // conflux-rust's shape: a not executed block has height 0, lastTxNumber 0 and no pivot decision.
        let answer = json!([
            {"hash": format!("0x{}", "ab".repeat(32)), "height": "0x2a", "epoch": "0x5", "round": "0x3",
             "lastTxNumber": "0x99", "miner": OTHER, "parentHash": format!("0x{}", "cd".repeat(32)),
             "timestamp": "0x5cce0e869522a", "pivotDecision": {"blockHash": format!("0x{}", "ef".repeat(32)), "height": "0x10"},
             "signatures": [{"account": KEY, "votes": "0x1"}, {"account": OTHER, "votes": "0x1"}]},
            {"hash": format!("0x{}", "12".repeat(32)), "height": "0x0", "epoch": "0x5", "round": "0x4",
             "lastTxNumber": "0x0", "miner": KEY, "parentHash": format!("0x{}", "ab".repeat(32)),
             "timestamp": "0x5cce0e869522b", "pivotDecision": null, "signatures": []},
        ]);
        let blocks: Vec<ConsensusBlock> = serde_json::from_value(answer).unwrap();
        let p = PendingSigns::of(&blocks, &key());
        assert_eq!(p.blocks, 2);
        assert_eq!((p.signed, p.proposed), (Some((5, 3)), Some((5, 4))));
        assert_eq!(p.newest(), Some((5, 4)));
        // The documentation's minimal shape (no height, no pivot decision) and an empty DB.
        let blocks: Vec<ConsensusBlock> =
            serde_json::from_value(json!([{"epoch": "0x6", "round": "0x1", "miner": null}]))
                .unwrap();
        assert_eq!(PendingSigns::of(&blocks, &key()).newest(), None);
        let none: Vec<ConsensusBlock> = serde_json::from_value(json!([])).unwrap();
        assert_eq!(PendingSigns::of(&none, &key()), PendingSigns::default());
    }

    /// The first of five blocks node4 of the real devnet answered (conflux-rust 3790f62), as captured.
    #[test]
    fn the_devnet_answer_decodes() {
        let text = r#"[{"epoch":"0x1","hash":"0x1121f0f74c601d0294e3d6ddea37174e74140f629dee2c08d6514e10c3de406f","height":"0x6","lastTxNumber":"0x5","miner":"0x5a7fe8dd688946b24acc68e1f6d11e9ad36d5c6c96c212198181ed067bd648ca","parentHash":"0x9bce945b1f139d173adba098f9dd7b621f27c0b66e76d7398480d467ba9d3ae9","pivotDecision":{"blockHash":"0x64d7711f581858fdf9848ba98d52e6d8a16c33ad580dc3f50b454072e9bd5114","height":"0x0"},"round":"0x6","signatures":[{"account":"0x1107df9be07a57c028a4e0c426fcc62eac0fd6069428c789188622a61fe386ce","votes":"0x4e"},{"account":"0x19c84ca666e2e97732526ef606a590c78a164b84db708c37e1cffb8a5122a0c5","votes":"0x49"},{"account":"0x5a7fe8dd688946b24acc68e1f6d11e9ad36d5c6c96c212198181ed067bd648ca","votes":"0x4f"},{"account":"0xac0db7c3836f6f3f981121802f7d60bc486552997096e9fda6d13423668d32c8","votes":"0x46"}],"timestamp":"0x66216fe2f3236"}]"#;
        let blocks: Vec<ConsensusBlock> = serde_json::from_str(text).unwrap();
        let node0 =
            PosAddress::parse("0x5a7fe8dd688946b24acc68e1f6d11e9ad36d5c6c96c212198181ed067bd648ca")
                .unwrap();
        let p = PendingSigns::of(&blocks, &node0);
        assert_eq!(
            (p.blocks, p.signed, p.proposed),
            (1, Some((1, 6)), Some((1, 6)))
        );
    }

    #[test]
    fn malformed_answers_are_errors_not_panics() {
        for bad in [
            json!(null),
            json!({"epoch": "0x1"}),
            json!([{"epoch": 5, "round": "0x1"}]),
            json!([{"epoch": "0x1", "round": "0x1", "signatures": [{"account": "0x12", "votes": "0x1"}]}]),
            json!([{"epoch": "0x1", "round": "0x1", "miner": "zz"}]),
        ] {
            assert!(serde_json::from_value::<Vec<ConsensusBlock>>(bad).is_err());
        }
    }
}
