//! Core-space result types. Only the fields the exporter reads are declared; unknown fields are ignored so a
//! newer node that adds fields keeps working, while a missing or mistyped field we rely on is a decode error.

use serde::Deserialize;

use super::wire::HexU64;

/// The six sync-phase names a node reports through `debug_currentSyncPhase` (docs/node-facts.md#status-and-sync-phases).
pub(crate) const SYNC_PHASES: &[&str] = &[
    "CatchUpRecoverBlockHeaderFromDbPhase",
    "CatchUpSyncBlockHeaderPhase",
    "CatchUpCheckpointPhase",
    "CatchUpFillBlockBodyPhase",
    "CatchUpSyncBlockPhase",
    "NormalSyncPhase",
];

/// `cfx_getStatus`: every field is a non-null hex quantity (docs/node-facts.md#status-and-sync-phases).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// Best (pivot) epoch, same as `cfx_epochNumber("latest_mined")`.
    pub epoch_number: HexU64,
    /// Newest executed epoch (≈ epoch − 5).
    pub latest_state: HexU64,
    /// Confirmation-meter estimate.
    pub latest_confirmed: HexU64,
    /// Newest PoW epoch finalised by PoS.
    pub latest_finalized: HexU64,
    /// Current era genesis height.
    pub latest_checkpoint: HexU64,
    /// Native-space chain id (1029 mainnet, 1 testnet); picks the default reference.
    pub chain_id: HexU64,
    /// P2P network id.
    pub network_id: HexU64,
    /// Transactions not yet packed.
    pub pending_tx_number: HexU64,
}

/// The part of a core-space block the exporter reads (`cfx_getBlockByEpochNumber`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Block {
    /// Block hash, compared with the reference for the fork check.
    #[serde(deserialize_with = "super::text::de_hash")]
    pub hash: String,
    /// Epoch of the block; nullable in the node's type.
    #[serde(default)]
    pub epoch_number: Option<HexU64>,
    /// Header timestamp in Unix **seconds** (PoS timestamps are µs; these are not).
    pub timestamp: HexU64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_example_from_reference_decodes() {
        let s: Status = serde_json::from_str(
            r#"{"bestHash":"0x64c9","chainId":"0x1","ethereumSpaceChainId":"0x47","networkId":"0x1",
            "epochNumber":"0xcdee1fd","blockNumber":"0x10be2f9b","pendingTxNumber":"0x8cf",
            "latestCheckpoint":"0xcdd7500","latestConfirmed":"0xcdee1c3","latestState":"0xcdee1f9",
            "latestFinalized":"0xcdee0ac"}"#,
        )
        .unwrap();
        assert_eq!(s.epoch_number.0 - s.latest_state.0, 4);
        assert_eq!(s.epoch_number.0 - s.latest_finalized.0, 337);
    }
}
