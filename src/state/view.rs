//! The PoS views a node's verdicts can be read from: the node's own answers, and a reference's answers about the
//! same key. The chain's verdict about a key is the same on every node, so when the local view is stale (a node
//! whose PoS is stuck while `cfx_*` answers, a node stopped for an upgrade) it is read from a reference instead.

use std::time::SystemTime;

use crate::assess::freshness::{Head, ViewVerdict};
use crate::rpc::pos::{Account, CommitteeState, PosStatus};

/// What one source said about the PoS chain and our key in its last head read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ViewData {
    /// `pos_getStatus`; `None` when the last read failed.
    pub status: Option<PosStatus>,
    /// `pos_getCommittee` (the current committee and the election schedule).
    pub committee: Option<CommitteeState>,
    /// `pos_getAccount(us)`.
    pub account: Option<Account>,
    /// When the current `latestCommitted` was first seen: freshness and ETAs count from the head's move.
    pub advanced_at: Option<SystemTime>,
}

impl ViewData {
    /// Records a status answer, noting when the head moved.
    pub fn set_status(&mut self, s: PosStatus, now: SystemTime) {
        let previous = self.status.as_ref().map(|p| p.latest_committed);
        if previous != Some(s.latest_committed) || self.advanced_at.is_none() {
            self.advanced_at = Some(now);
        }
        self.status = Some(s);
    }

    /// The committed head as freshness sees it.
    pub fn head(&self) -> Option<Head> {
        Some(Head {
            committed: self.status.as_ref()?.latest_committed.0,
            advanced_at: self.advanced_at?,
        })
    }
}

/// Which view the verdicts of a node's key were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewSource {
    /// The node's own answers (fresh).
    Local,
    /// A reference's answers (the local view is stale or absent).
    Reference,
}

impl ViewSource {
    /// Label value of `conflux_pos_verdict_view`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Reference => "reference",
        }
    }

    /// Every source, for publishing one series per value.
    pub const ALL: [ViewSource; 2] = [ViewSource::Local, ViewSource::Reference];
}

/// How the local view compares with the chain, and which view the verdicts use.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ViewChoice {
    /// The local view's verdict; `None` before the first judgement.
    pub local: Option<ViewVerdict>,
    /// The view in use; `None` while no fresh view exists (every verdict is then unknown).
    pub source: Option<ViewSource>,
    /// Name of the reference read, while the source is a reference.
    pub reference: Option<String>,
}
