//! A reference's view of our key: what a node's verdicts are read from while its own PoS view is stale or absent.
//! The chain's state of a key is the same on every node, so a reference answers the same `pos_getStatus`,
//! `pos_getAccount(us)` and `pos_getCommittee` the node would. A public reference has a daily call budget, so this
//! head is read at most once per reference interval, and the committee (one per epoch) only when the epoch moved
//! or now and then for the election schedule.

use std::time::{Duration, Instant, SystemTime};

use serde_json::json;

use crate::pos_address::PosAddress;
use crate::rpc::pos::{Account, CommitteeState, PosStatus};
use crate::rpc::{decode, Answer, Call, RpcError};
use crate::state::ViewData;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    Status,
    Committee,
    Account,
}

/// The last head read from a reference, for one node's key.
#[derive(Debug, Default)]
pub(crate) struct RemoteView {
    /// The reference read (its configured or automatic name).
    pub reference: Option<String>,
    /// Its answers.
    pub data: ViewData,
    asked: Vec<Ask>,
    read_at: Option<Instant>,
}

impl RemoteView {
    /// Whether a head read of `reference` is due: never read, another reference, or `every` has passed.
    pub(crate) fn due(&self, reference: &str, every: Duration) -> bool {
        self.reference.as_deref() != Some(reference)
            || self.read_at.is_none_or(|t| t.elapsed() >= every)
    }

    /// The head calls for `reference` about `us`; a new reference starts from nothing.
    pub(crate) fn calls(&mut self, reference: &str, us: Option<&PosAddress>) -> Vec<Call> {
        if self.reference.as_deref() != Some(reference) {
            *self = Self {
                reference: Some(reference.to_string()),
                ..Default::default()
            };
        }
        self.read_at = Some(Instant::now());
        // The committee in the same batch as the status: an epoch that has just begun has no block yet, and
        // only the committee tells whether we serve in it (without it the verdict would be unknown until the
        // next read).
        self.asked = vec![Ask::Status, Ask::Committee];
        if us.is_some() {
            self.asked.push(Ask::Account);
        }
        let us = us.map(|a| a.as_str().to_string()).unwrap_or_default();
        self.asked
            .iter()
            .map(|a| match a {
                Ask::Status => Call::new("pos_getStatus", json!([])),
                Ask::Committee => Call::new("pos_getCommittee", json!([])),
                Ask::Account => Call::new("pos_getAccount", json!([us])),
            })
            .collect()
    }

    /// Applies the answers to [`Self::calls`]. A failed request or status answer leaves no status: the reference
    /// cannot stand in (a reference that does not serve `pos_*` gives "unknown", never "safe"). Returns the
    /// methods whose answers were present but malformed.
    pub(crate) fn apply(
        &mut self,
        answers: Result<Vec<Answer>, RpcError>,
        now: SystemTime,
    ) -> Vec<&'static str> {
        let asked = std::mem::take(&mut self.asked);
        let Ok(answers) = answers else {
            self.data.status = None;
            return Vec::new();
        };
        let mut bad = Vec::new();
        for (ask, answer) in asked.iter().zip(answers) {
            let ok = match (ask, answer) {
                (Ask::Status, Ok(v)) => decode::<PosStatus>(v)
                    .map(|s| self.data.set_status(s, now))
                    .is_ok(),
                (Ask::Status, Err(_)) => {
                    self.data.status = None;
                    true
                }
                (Ask::Committee, Ok(v)) => decode::<CommitteeState>(v)
                    .map(|c| self.data.committee = Some(c))
                    .is_ok(),
                (Ask::Account, Ok(v)) => decode::<Account>(v)
                    .map(|a| self.data.account = Some(a))
                    .is_ok(),
                // An error object was counted by the client; the last good answer stays until the next read.
                (_, Err(_)) => true,
            };
            if !ok {
                if *ask == Ask::Status {
                    self.data.status = None;
                }
                bad.push(match ask {
                    Ask::Status => "pos_getStatus",
                    Ask::Committee => "pos_getCommittee",
                    Ask::Account => "pos_getAccount",
                });
            }
        }
        bad
    }

    /// Forgets the reference's answers (none is usable any more), keeping nothing that could pass for fresh.
    pub(crate) fn forget(&mut self) {
        *self = Self::default();
    }
}
