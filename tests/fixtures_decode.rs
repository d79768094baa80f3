//! Every real response body from Conflux's RPC docs (tests/fixtures/rpc, copied from shared/fixtures) goes through
//! the client's decoders unchanged.

use conflux_pos_exporter::rpc::cfx::{Block, Status};
use conflux_pos_exporter::rpc::pos::{
    Account, CommitteeState, EpochRewards, PosBlock, PosStatus, PosTransaction,
};
use conflux_pos_exporter::rpc::wire::{HexU128, HexU64};
use serde::de::DeserializeOwned;
use serde_json::Value;

fn result<T: DeserializeOwned>(file: &str) -> T {
    let path = format!("{}/tests/fixtures/rpc/{file}", env!("CARGO_MANIFEST_DIR"));
    let body: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    serde_json::from_value(body["result"].clone()).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn core_space_fixtures_decode() {
    let s: Status = result("cfx_getStatus.json");
    assert_eq!(s.epoch_number.0, 0xaf28ab);
    assert_eq!(s.chain_id.0, 1);
    let b: Block = result("cfx_getBlockByHash.json");
    assert_eq!(
        b.timestamp.0, 0x5e8d32a1,
        "core-space timestamps are seconds"
    );
    assert_eq!(b.epoch_number, Some(HexU64(0x1394cb)));
    let v: String = result("cfx_clientVersion.json");
    assert_eq!(v, "conflux-rust-0.6.3");
    let e: HexU64 = result("cfx_epochNumber.json");
    assert_eq!(e.0, 0x49);
    let r: EpochRewards = result("cfx_getPoSRewardByEpoch.json");
    assert_eq!(r.account_rewards.len(), 2);
    let econ: Value = result("cfx_getPoSEconomics.json");
    let staked: HexU128 = serde_json::from_value(econ["totalPosStakingTokens"].clone()).unwrap();
    assert!(staked.0 > u64::MAX as u128);
}

#[test]
fn pos_fixtures_decode() {
    let s: PosStatus = result("pos_getStatus.json");
    assert_eq!(
        (s.epoch.0, s.latest_committed.0, s.latest_voted),
        (0x56, 0x140c, Some(HexU64(0x140e)))
    );
    assert_eq!(
        s.latest_tx_number, None,
        "the docs' example lacks latestTxNumber"
    );
    let b: PosBlock = result("pos_getBlockByHash.json");
    assert_eq!(b.signatures.len(), 2);
    assert_eq!(
        b.timestamp.0, 0x5cce0e869522a,
        "PoS timestamps are microseconds"
    );
    assert_eq!(b.miner.as_deref(), Some(b.signatures[0].account.as_str()));
    let c: CommitteeState = result("pos_getCommittee.json");
    assert_eq!(c.elections.len(), 2);
    assert_eq!(c.current_committee.quorum_voting_power.0, 0xa7);
    let a: Account = result("pos_getAccount.json");
    assert!(a.is_registered());
    assert_eq!(a.status.force_retired, None);
    let t: PosTransaction = result("pos_getTransactionByNumber.json");
    assert_eq!(t.tx_type, "PivotDecision");
    let r: EpochRewards = result("pos_getRewardsByEpoch.json");
    assert_eq!(r.account_rewards[1].reward.0, 0x2d49549e023888cd390);
}

#[test]
fn zero_filled_account_is_not_registered() {
    let a: Account = serde_json::from_value(serde_json::json!({
        "address": "0x0000000000000000000000000000000000000000000000000000000000000001", "blockNumber": "0x10",
        "status": {"availableVotes":"0x0","forfeited":"0x0","forceRetired":null,"inQueue":[],"locked":"0x0","outQueue":[],"unlocked":"0x0"}
    }))
    .unwrap();
    assert!(!a.is_registered());
}
