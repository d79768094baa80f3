//! The chain's own tally of one PoS address, computed the way an outside observer would from the committed
//! blocks: who signed each block (its QC) and which committee that block's epoch had. Read over JSON-RPC from a
//! simulator endpoint that no fault touches, with none of the exporter's code, so the exporter's counters and
//! forecasts can be checked against it.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// What one committed block says about the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockFacts {
    /// The block's PoS epoch.
    pub epoch: u64,
    /// The address signed the block's QC.
    pub signed: bool,
    /// The QC's signatures are not shown (`signatures: []`).
    pub qc_hidden: bool,
    /// The address is in the committee of the block's epoch.
    pub member: bool,
}

/// Counters over a range of blocks, as the chain tells them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Blocks whose QC holds the address's signature.
    pub signed: u64,
    /// Blocks of epochs it served whose QC lacks its signature.
    pub missed: u64,
    /// Blocks of epochs it served whose QC is not shown.
    pub unknown: u64,
}

/// Reads and caches the committed blocks and committees of one endpoint.
pub struct ChainReader {
    url: String,
    us: String,
    /// The oldest block that exists.
    first: u64,
    /// Facts by height, from height 1.
    blocks: BTreeMap<u64, BlockFacts>,
    /// Committee membership by epoch.
    members: BTreeMap<u64, bool>,
    /// State epoch (committee epoch) after each committed height.
    state_epoch: BTreeMap<u64, u64>,
}

impl ChainReader {
    /// A reader of the endpoint at `url`, judging address `us`, for the chain's blocks from `first` on (the
    /// simulator's chain starts mid-history: blocks before its anchor do not exist).
    pub fn new(url: String, us: &str, first: u64) -> Self {
        Self {
            first,
            url,
            us: us.to_ascii_lowercase(),
            blocks: BTreeMap::new(),
            members: BTreeMap::new(),
            state_epoch: BTreeMap::new(),
        }
    }

    async fn call(&self, method: &str, params: Value) -> Value {
        super::rpc::result(&self.url, method, params).await
    }

    async fn try_call(&self, method: &str, params: Value) -> Result<Value, Value> {
        super::rpc::try_result(&self.url, method, params).await
    }

    /// The committee after view `view` (`None`: the latest state): its epoch and whether the address is in it.
    /// `None` where the node keeps no state (a real node and the simulator only keep epoch-ending views).
    async fn committee(&self, view: Option<u64>) -> Option<(u64, bool)> {
        let params = view.map_or(json!([]), |v| json!([format!("{v:#x}")]));
        let c = self.try_call("pos_getCommittee", params).await.ok()?;
        let cur = &c["currentCommittee"];
        let epoch = hex(&cur["epochNumber"]);
        let member =
            cur["nodes"].as_array().into_iter().flatten().any(|n| {
                n["address"].as_str().map(str::to_ascii_lowercase) == Some(self.us.clone())
            });
        Some((epoch, member))
    }

    /// Reads every block up to `height` not read yet; `height` must be the endpoint's latest committed block (its
    /// state epoch is read from `pos_getStatus`).
    pub async fn read_to(&mut self, height: u64) {
        let from = self.blocks.keys().next_back().map_or(self.first, |h| h + 1);
        for h in from..=height {
            let b = self
                .call("pos_getBlockByNumber", json!([format!("{h:#x}")]))
                .await;
            let epoch = hex(&b["epoch"]);
            let sigs = b["signatures"].as_array().cloned().unwrap_or_default();
            let signed = sigs.iter().any(|s| {
                s["account"].as_str().map(str::to_ascii_lowercase) == Some(self.us.clone())
            });
            if !self.members.contains_key(&epoch) {
                // The committee of the epoch a block belongs to is the state after the block before it (an
                // epoch-ending view when this is the epoch's first block).
                if let Some((e, member)) = self.committee(Some(h.saturating_sub(1))).await {
                    if e == epoch {
                        self.members.insert(epoch, member);
                    }
                }
            }
            // The state after a block is the epoch of the block that follows it.
            if h > self.first {
                self.state_epoch.insert(h - 1, epoch);
            }
            self.blocks.insert(
                h,
                BlockFacts {
                    epoch,
                    signed,
                    qc_hidden: sigs.is_empty(),
                    member: self.members.get(&epoch).copied().unwrap_or(false) || signed,
                },
            );
        }
        let status = self.call("pos_getStatus", json!([])).await;
        assert_eq!(hex(&status["latestCommitted"]), height, "{status}");
        let state = hex(&status["epoch"]);
        self.state_epoch.insert(height, state);
        if !self.members.contains_key(&state) {
            if let Some((e, member)) = self.committee(None).await {
                if e == state {
                    self.members.insert(state, member);
                }
            }
        }
    }

    /// The tally of blocks `from..=to` (all read before).
    pub fn tally(&self, from: u64, to: u64) -> Tally {
        let mut t = Tally::default();
        for f in self.blocks.range(from..=to).map(|(_, f)| f) {
            if f.signed {
                t.signed += 1;
            } else if f.member && f.qc_hidden {
                t.unknown += 1;
            } else if f.member {
                t.missed += 1;
            }
        }
        t
    }
}

/// The chain's own verdicts, read back from the tally: only the fault test replays the rule against them.
impl ChainReader {
    /// The chain's force-retire candidate after block `height` with a look-back of `window` epochs: a member of
    /// the current (state) epoch's committee with no signature in the blocks committed so far in that epoch nor in
    /// the `window − 1` epochs before it.
    pub fn at_risk(&self, height: u64, window: u64) -> bool {
        let Some(&current) = self.state_epoch.get(&height) else {
            panic!("block {height} not read");
        };
        let first = current.saturating_sub(window.saturating_sub(1));
        let member = self.members.get(&current).copied().unwrap_or(false);
        let signed_in_window = self
            .blocks
            .range(..=height)
            .any(|(_, f)| f.signed && (first..=current).contains(&f.epoch));
        member && !signed_in_window
    }

    /// Facts of block `height`.
    pub fn block(&self, height: u64) -> Option<BlockFacts> {
        self.blocks.get(&height).copied()
    }

    /// The state (committee) epoch after block `height` (read before).
    pub fn state_epoch(&self, height: u64) -> u64 {
        self.state_epoch[&height]
    }
}

fn hex(v: &Value) -> u64 {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("not a hex quantity: {v}"));
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap_or_else(|e| panic!("{s}: {e}"))
}
