//! PoS source of a node: the head (status, committee, our account, our identity and voting switch) in one small
//! batch, and the history (the block/transaction backlog of [`BlockTracker`]) in separate requests sized
//! adaptively: a real node under load answers a 250-call batch in tens of seconds, so a slow history read must
//! shrink until it fits its deadline instead of failing forever, and must never hold up the head.

pub(crate) mod activity;
pub(crate) mod backlog;
pub(crate) mod head;
pub(crate) mod poller;
pub(crate) mod remote;
pub(crate) mod tracker;
pub(crate) mod txs;

use std::path::PathBuf;

use serde_json::json;

use crate::host::keyfiles::{probe_key_files_async, KeyFilePaths};
use crate::pos_address::PosAddress;
use crate::rpc::pos::{Account, CommitteeState, PosStatus, Registration};
use crate::rpc::{decode, Answer, Call, RpcError};
use crate::state::{PosDown, PosObs, ViewData, ViewSource};

use tracker::{BlockTracker, Want, BACKFILL_EPOCHS};

/// Largest history request.
pub(crate) const BACKLOG_PER_REQUEST: usize = 250;
/// Longest PoS epoch believed from the election schedule (mainnet: 120 blocks); a longer one is a malformed
/// answer, so epoch arithmetic downstream never sees an absurd length.
pub(crate) const MAX_EPOCH_LENGTH: u64 = 100_000;
/// First history request size: small enough for a slow node, doubled on each success.
pub(crate) const INITIAL_HISTORY_BATCH: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Head {
    Status,
    Committee,
    Account,
    Register,
    Voting,
}

impl Head {
    fn method(self) -> &'static str {
        match self {
            Head::Status => "pos_getStatus",
            Head::Committee => "pos_getCommittee",
            Head::Account => "pos_getAccount",
            Head::Register => "test_posRegister",
            Head::Voting => "test_posVotingStatus",
        }
    }
}

/// The PoS part of one node's polls.
#[derive(Debug, Default)]
pub struct PosSource {
    /// Facts and the vote record, copied into the state after each poll.
    pub obs: PosObs,
    tracker: BlockTracker,
    head: Vec<Head>,
    wants: Vec<Want>,
    warned_unknown_address: bool,
    planned_at: Option<std::time::Instant>,
    /// When the head calls were last built, just before they are sent: a lower bound of when the node read
    /// its voting switch (the answer stamp alone would let a file scan taken after a change meet the old value).
    head_asked_at: Option<std::time::SystemTime>,
    /// `pos_db` of the node, for the address fallback (`secure_storage.json`'s owner).
    pos_db_dir: Option<PathBuf>,
    /// The view whose heads the tracker last followed.
    target_source: Option<ViewSource>,
    /// `test_posRegister` failed at least once (the fallback only runs after that).
    register_failed: bool,
    warned_no_owner: bool,
    /// Calls per history request now, and the smallest size that last timed out (growth stops below it).
    history_size: usize,
    history_ceiling: usize,
    /// Successful history requests since the ceiling was last lowered: the ceiling is raised again after a while,
    /// since a node's load changes.
    history_successes: u32,
}

impl PosSource {
    /// `configured`: the node's `pos_address` from the configuration, if any.
    pub fn new(configured: Option<PosAddress>) -> Self {
        let mut s = Self {
            obs: PosObs {
                address: configured,
                ..Default::default()
            },
            history_size: INITIAL_HISTORY_BATCH,
            history_ceiling: BACKLOG_PER_REQUEST,
            ..Default::default()
        };
        s.obs.history.batch_size = s.history_size;
        s
    }

    /// The chain's CIP-99 transition view as configured (`pos.cip99_transition_view`), if any.
    pub(crate) fn with_cip99_transition_view(mut self, view: Option<u64>) -> Self {
        self.obs.cip99_transition_view = view;
        self
    }

    /// Where the node's `pos_db` is, when known from the configuration: lets the address be read from
    /// `secure_storage.json` when `test_posRegister` cannot give it (port without the `test` namespace).
    pub(crate) fn with_pos_db_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.pos_db_dir = dir;
        self
    }

    /// The address fallback: while no address is configured or discovered and `test_posRegister` has failed,
    /// reads `owner_account` from `pos_db/secure_storage.json` (else the `.save`), read-only, on the blocking
    /// pool. Called once per poll before the batch; a no-op once the address is known.
    pub(crate) async fn address_from_safety_file(&mut self) {
        if self.obs.address.is_some() || !self.register_failed {
            return;
        }
        let Some(dir) = self.pos_db_dir.clone() else {
            return;
        };
        // Only the safety files matter here; `pos_key` is stat'ed in `dir` too, which is harmless.
        let report = probe_key_files_async(KeyFilePaths::new(&dir, &dir)).await;
        let owner = [&report.secure_storage, &report.secure_storage_save]
            .into_iter()
            .find_map(|r| r.as_ref().ok()?.as_ref()?.owner_account.clone());
        match owner {
            Some(a) => {
                tracing::info!(pos_address = %a, dir = %dir.display(), "PoS address read from pos_db/secure_storage.json owner_account (test_posRegister unavailable)");
                self.obs.address = Some(a);
            }
            None if !self.warned_no_owner => {
                self.warned_no_owner = true;
                tracing::warn!(dir = %dir.display(), "no owner_account in pos_db/secure_storage.json or .save; the PoS address stays unknown until test_posRegister answers or pos_address is configured");
            }
            None => {}
        }
    }

    /// Calls for the regular batch.
    pub fn calls(&mut self) -> Vec<Call> {
        self.head = vec![Head::Status, Head::Committee, Head::Voting];
        if self.obs.address.is_some() {
            self.head.push(Head::Account);
        } else {
            self.head.push(Head::Register);
        }
        self.wants.clear();
        self.head_asked_at = Some(std::time::SystemTime::now());
        let us = self
            .obs
            .address
            .as_ref()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default();
        let calls: Vec<Call> = self
            .head
            .iter()
            .map(|h| match h {
                Head::Status => Call::new("pos_getStatus", json!([])),
                Head::Committee => Call::new("pos_getCommittee", json!([])),
                Head::Voting => Call::new("test_posVotingStatus", json!([])),
                Head::Account => Call::new("pos_getAccount", json!([us])),
                // Read-only: builds call data and returns our address; nothing is sent to the chain.
                Head::Register => Call::new("test_posRegister", json!(["0x1"])),
            })
            .collect();
        calls
    }

    /// Applies the answers to [`Self::calls`] (`Err` = the whole request failed). Returns the methods whose answers
    /// were malformed (present but of the wrong shape).
    pub fn apply(&mut self, answers: Result<Vec<Answer>, RpcError>) -> Vec<&'static str> {
        let mut answers = match answers {
            Ok(a) => a.into_iter(),
            Err(_) => {
                self.obs.local.status = None;
                self.obs.down = Some(PosDown::Error);
                return Vec::new();
            }
        };
        let mut bad = Vec::new();
        let head = std::mem::take(&mut self.head);
        for h in &head {
            let answer = answers
                .next()
                .unwrap_or(Err(RpcError::Decode("missing answer".into())));
            if self.apply_head(*h, answer) > 0 {
                bad.push(h.method());
            }
        }
        bad
    }

    /// Makes `source` the view the verdicts read (`None`: no view is fresh), `remote` being the reference's
    /// answers. The tracker may then read history up to that view's head, from the same source.
    pub(crate) fn choose(&mut self, source: Option<ViewSource>, remote: &ViewData) {
        let data = match source {
            Some(ViewSource::Reference) => remote,
            _ => &self.obs.local,
        };
        let (status, committee, account, at) = (
            data.status.clone(),
            data.committee.clone(),
            data.account.clone(),
            data.advanced_at,
        );
        if let Some(c) = &committee {
            self.learn_grid(c);
            if source.is_some() {
                self.obs.record_committee(c);
            }
        }
        self.obs.view.source = source;
        self.obs.status = status;
        self.obs.committee = committee;
        self.obs.account = account;
        self.obs.latest_committed_seen_at = at;
        if let (Some(s), Some(source)) = (&self.obs.status, source) {
            // Views trail each other by a few blocks: a switch to one a little behind is not the chain going
            // back (the tracker's guard would take it for a reset), so it only moves the target forward.
            let switched = self.target_source != Some(source);
            let head = s.latest_committed.0;
            if !switched || head >= self.tracker.target() {
                self.target_source = Some(source);
                self.tracker.set_target(head, s.epoch.0);
            }
            self.plan();
            self.note_progress();
        }
    }

    /// Makes the node's own answers the view in use: what the poller does while the local view is fresh (and
    /// what tests driving a source directly, without references, want).
    pub fn choose_local(&mut self) {
        self.choose(Some(ViewSource::Local), &ViewData::default());
    }

    /// The epoch length and a point of the term grid, from the election schedule (the same on every view).
    fn learn_grid(&mut self, c: &CommitteeState) {
        if let [a, b, ..] = c.elections.as_slice() {
            let (a, b) = (a.start_block_number.0, b.start_block_number.0);
            if b > a && b - a <= MAX_EPOCH_LENGTH {
                self.obs.epoch_length = Some(b - a);
                self.obs.grid_point = Some(a);
            }
        }
    }

    fn apply_head(&mut self, h: Head, answer: Answer) -> usize {
        match (h, answer) {
            (Head::Status, Ok(v)) => match decode::<PosStatus>(v) {
                Ok(s) => {
                    self.obs.local.set_status(s, std::time::SystemTime::now());
                    self.obs.down = None;
                    0
                }
                Err(_) => {
                    self.obs.local.status = None;
                    self.obs.down = Some(PosDown::Error);
                    1
                }
            },
            (Head::Status, Err(e)) => {
                let down = if e.is_pos_not_enabled() {
                    PosDown::NotStarted
                } else if e.is_method_not_found() {
                    PosDown::NotServed
                } else {
                    PosDown::Error
                };
                if self.obs.down != Some(down) {
                    tracing::warn!(reason = down.label(), error = %e, "PoS data unavailable");
                }
                self.obs.local.status = None;
                self.obs.down = Some(down);
                0
            }
            (Head::Committee, Ok(v)) => match decode::<CommitteeState>(v) {
                Ok(c) => {
                    self.obs.record_committee(&c);
                    self.obs.local.committee = Some(c);
                    0
                }
                Err(_) => 1,
            },
            (Head::Account, Ok(v)) => match decode::<Account>(v) {
                Ok(a) => {
                    self.obs.local.account = Some(a);
                    0
                }
                Err(_) => 1,
            },
            (Head::Register, Ok(v)) => {
                let found = decode::<Registration>(v).ok().map(|r| r.0);
                match found {
                    Some(a) => {
                        tracing::info!(pos_address = %a, "PoS address discovered with test_posRegister");
                        self.obs.address = Some(a);
                        0
                    }
                    None => {
                        self.register_failed = true;
                        1
                    }
                }
            }
            (Head::Voting, Ok(v)) => match decode::<bool>(v).ok() {
                Some(b) => {
                    self.obs.voting_enabled = Some(b);
                    self.obs.voting_asked_at = self.head_asked_at;
                    self.obs.voting_seen_at = Some(std::time::SystemTime::now());
                    0
                }
                None => {
                    self.obs.voting_enabled = None;
                    1
                }
            },
            (Head::Voting, Err(_)) => {
                self.obs.voting_enabled = None;
                0
            }
            (Head::Register, Err(e)) => {
                self.register_failed = true;
                if !self.warned_unknown_address {
                    self.warned_unknown_address = true;
                    tracing::warn!(error = %e, "cannot discover the node's PoS address (test_posRegister); set pos_address or pos_dir in the configuration; votes are not tracked until it is known");
                }
                0
            }
            (Head::Committee | Head::Account, Err(_)) => 0,
        }
    }

    /// Sets the starting block once the address, status and epoch grid are known; restarts the window when the
    /// backlog is far larger than the look-back (after a long outage the older blocks no longer matter).
    fn plan(&mut self) {
        let (Some(_), Some(_)) = (&self.obs.status, &self.obs.address) else {
            return;
        };
        // The head the tracker believes, not this poll's reading (which may be wild: see `watch::pos::head`).
        let (latest, epoch) = (self.tracker.target(), self.tracker.epoch());
        let (Some(len), Some(grid)) = (self.obs.epoch_length, self.obs.grid_point) else {
            return;
        };
        let Some(last) = crate::assess::retire::epoch_last_block(latest, grid, len) else {
            return;
        };
        let Some(start) = last.checked_add(1).and_then(|l| l.checked_sub(len)) else {
            return;
        };
        let far = self
            .tracker
            .next_height()
            .is_some_and(|n| latest > n.saturating_add(len.saturating_mul(2 * BACKFILL_EPOCHS)));
        if far {
            tracing::warn!(from = self.tracker.next_height(), to = latest, "PoS backlog larger than the force-retire window; restarting the vote record at the window start");
            self.tracker = BlockTracker::default();
            self.tracker.set_target(latest, epoch);
        }
        if !self.tracker.planned() {
            self.tracker.plan(start, len, epoch, grid);
            self.planned_at = Some(std::time::Instant::now());
        }
    }

    /// The next history request (at most the adaptive size, up to the head of the view in use, which is where it
    /// is sent), or `None` when nothing is left to read or no view is fresh.
    pub fn extra_calls(&mut self) -> Option<Vec<Call>> {
        if self.obs.view.source.is_none() || self.obs.address.is_none() {
            return None;
        }
        let head = self.obs.status.as_ref()?;
        let ceiling = (head.latest_committed.0, head.latest_tx_number.map(|t| t.0));
        self.wants = self.tracker.backlog(self.history_size, ceiling);
        if self.wants.is_empty() {
            return None;
        }
        Some(self.wants.iter().map(|w| w.call()).collect())
    }

    /// Applies the answers to [`Self::extra_calls`]; returns the methods of malformed answers. A request that
    /// answered grows the next one (up to the last size that timed out).
    pub fn apply_extra(&mut self, answers: Vec<Answer>) -> Vec<&'static str> {
        let wants = std::mem::take(&mut self.wants);
        let bad = self.tracker.apply(&wants, answers, &mut self.obs);
        self.history_successes += 1;
        if self.history_successes >= 8 && self.history_ceiling < BACKLOG_PER_REQUEST {
            // The node's load changes: probe a larger size again now and then.
            self.history_ceiling =
                (self.history_ceiling + self.history_ceiling / 4 + 1).min(BACKLOG_PER_REQUEST);
            self.history_successes = 0;
        }
        self.history_size = (self.history_size * 2).min(self.history_ceiling.max(1));
        self.note_progress();
        bad
    }

    /// A history request failed as a whole. A timeout (or an answer too large) halves the size so the next one
    /// fits; the wants stay in the backlog and are asked again, so the reads resume where they stopped.
    pub fn history_failed(&mut self, e: &RpcError) {
        self.wants.clear();
        if matches!(e, RpcError::Timeout(_) | RpcError::TooLarge(_)) {
            self.history_ceiling = self.history_size.saturating_sub(1).max(1);
            self.history_size = (self.history_size / 2).max(1);
            self.history_successes = 0;
        }
        self.note_progress();
    }

    /// Publishes the history progress, and marks the start-up backfill complete once the window planned at start
    /// is read (saying how long it took): not on catching up, which a head moving every poll can put off forever.
    fn note_progress(&mut self) {
        self.obs.history.remaining_blocks = self.tracker.remaining_blocks();
        self.obs.history.caught_up = self.tracker.caught_up();
        self.obs.history.batch_size = self.history_size;
        if self.obs.backfilled || !self.tracker.window_read() {
            return;
        }
        self.obs.backfilled = true;
        let l = &self.obs.ledger;
        let blocks = l.signed_total + l.missed_total + l.unknown_total;
        tracing::info!(
            elapsed_ms = self
                .planned_at
                .map_or(0, |t| t.elapsed().as_millis() as u64),
            member_blocks = blocks,
            transactions = self.obs.activity.tx_by_type.values().sum::<u64>(),
            "PoS backfill of the force-retire window complete"
        );
    }
}
