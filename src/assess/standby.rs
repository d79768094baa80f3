//! Whether a standby could really vote if it took over now. `standby_ready` says its switches and key files allow
//! a hand-over; this says whether the node itself could then keep up: synced, on the reference's fork and PoS
//! view, not older than the primary, holding its own safety data, with room for the node's files. A standby that
//! looks ready but is behind, forked or old cannot take over when it must.

use super::forks::Version;
use crate::host::limits::LimitValue;

/// The open-file soft limit the seed requires (`ulimit -n 65536`).
pub const MIN_OPEN_FILES: u64 = 65_536;
/// Free space the seed requires for the node's directories (500 GB).
pub const MIN_DISK_BYTES: u64 = 500_000_000_000;
/// Epochs behind the references a standby may be and still take over (the epoch-lag warning's bound).
pub const MAX_EPOCH_LAG: i64 = 100;

/// Why a standby cannot vote now (the `reason` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// The node does not answer.
    Down,
    /// Its sync phase is not `NormalSyncPhase`.
    NotSynced,
    /// Its best epoch is more than [`MAX_EPOCH_LAG`] behind the references.
    EpochLag,
    /// Its own PoS view is stale (stuck or far behind the references).
    PosViewStale,
    /// Its pivot chain differs from the references' (another fork).
    Fork,
    /// Its version is older than the primary's.
    VersionBehind,
    /// Its version is older than the next hard fork requires.
    ForkNotReady,
    /// Its safety data belongs to another PoS address.
    KeyOwner,
    /// Its open-file soft limit is below [`MIN_OPEN_FILES`].
    OpenFileLimit,
    /// One of its directories has less than [`MIN_DISK_BYTES`] available.
    DiskSpace,
}

impl Reason {
    /// Every reason, in label order.
    pub const ALL: [Reason; 10] = [
        Reason::Down,
        Reason::NotSynced,
        Reason::EpochLag,
        Reason::PosViewStale,
        Reason::Fork,
        Reason::VersionBehind,
        Reason::ForkNotReady,
        Reason::KeyOwner,
        Reason::OpenFileLimit,
        Reason::DiskSpace,
    ];

    /// The `reason` label value.
    pub fn label(self) -> &'static str {
        match self {
            Reason::Down => "down",
            Reason::NotSynced => "not_synced",
            Reason::EpochLag => "epoch_lag",
            Reason::PosViewStale => "pos_view_stale",
            Reason::Fork => "fork",
            Reason::VersionBehind => "version_behind",
            Reason::ForkNotReady => "fork_not_ready",
            Reason::KeyOwner => "key_owner",
            Reason::OpenFileLimit => "open_file_limit",
            Reason::DiskSpace => "disk_space",
        }
    }
}

/// The standby's facts; `None` = not known now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StandbyInput<'a> {
    /// The node answers `cfx_getStatus`.
    pub up: bool,
    /// `debug_currentSyncPhase`.
    pub sync_phase: Option<&'a str>,
    /// Epochs behind the references' median.
    pub epoch_lag: Option<i64>,
    /// Its own PoS view is fresh.
    pub pos_view_fresh: Option<bool>,
    /// Its pivot hash differs from every usable reference's.
    pub fork: Option<bool>,
    /// Its `cfx_clientVersion`, and the voting primary's when this exporter watches it.
    pub versions: (Option<&'a str>, Option<&'a str>),
    /// Its version is too old for the next hard fork (`Some(false)` also when no fork is ahead; `None`: version
    /// unparsable or the fork table unknown).
    pub fork_not_ready: Option<bool>,
    /// Its safety data belongs to another address (`None`: not scanned).
    pub owner_mismatch: Option<bool>,
    /// Its open-file soft limit.
    pub open_files_soft: Option<LimitValue>,
    /// The least space available among its directories.
    pub disk_available_min: Option<u64>,
}

/// Per reason: `Some(true)` when it stops the standby from voting, `Some(false)` when checked and fine, `None`
/// when it cannot be told now. While the node is down, only `down` is told.
pub fn unable_reasons(i: &StandbyInput) -> Vec<(Reason, Option<bool>)> {
    if !i.up {
        return Reason::ALL
            .iter()
            .map(|r| (*r, (*r == Reason::Down).then_some(true)))
            .collect();
    }
    Reason::ALL
        .iter()
        .map(|r| {
            let v = match r {
                Reason::Down => Some(false),
                Reason::NotSynced => i.sync_phase.map(|p| p != "NormalSyncPhase"),
                Reason::EpochLag => i.epoch_lag.map(|l| l > MAX_EPOCH_LAG),
                Reason::PosViewStale => i.pos_view_fresh.map(|f| !f),
                Reason::Fork => i.fork,
                Reason::VersionBehind => version_behind(i.versions.0, i.versions.1),
                Reason::ForkNotReady => i.fork_not_ready,
                Reason::KeyOwner => i.owner_mismatch,
                Reason::OpenFileLimit => i.open_files_soft.map(|l| match l {
                    LimitValue::Limited(n) => n < MIN_OPEN_FILES,
                    LimitValue::Unlimited => false,
                }),
                Reason::DiskSpace => i.disk_available_min.map(|b| b < MIN_DISK_BYTES),
            };
            (*r, v)
        })
        .collect()
}

/// Able to vote now: no reason holds and every reason but the version (only told when the primary is watched by
/// the same exporter) is known; `None` otherwise.
pub fn able_to_vote(reasons: &[(Reason, Option<bool>)]) -> Option<bool> {
    if reasons.iter().any(|(_, v)| *v == Some(true)) {
        return Some(false);
    }
    let known = reasons
        .iter()
        .all(|(r, v)| v.is_some() || *r == Reason::VersionBehind);
    known.then_some(true)
}

/// Whether `ours` is an older release than `primary` (build suffixes do not order); `None` when either does not
/// parse.
pub fn version_behind(ours: Option<&str>, primary: Option<&str>) -> Option<bool> {
    Some(Version::parse(ours?)? < Version::parse(primary?)?)
}

#[cfg(test)]
#[path = "standby_tests.rs"]
mod tests;
