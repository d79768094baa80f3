//! One consistent look at every node holding a PoS key, remembered across publishes.
//!
//! The RPC poller reads the voting switch and the host poller scans the key files, each on its own clock, so a
//! switch read a moment ago may meet a file scan taken before the switch changed: during a correct
//! `start_voting` the standby's `.save` is renamed and its switch turned on in one call, and combining the new
//! switch with the old scan shows `save_present_while_voting`. [`GuardMemory`] therefore remembers since when
//! each switch has held its value and uses a node's files only when they were scanned while it surely did: after
//! the answer that first showed the value arrived, and before the request of the latest reading was sent. The
//! answer's arrival is no upper bound: a slow answer describes the node as of when it was asked, and
//! `stop_voting` (switch off, then storage renamed to `.save`) may lie in between. It also
//! remembers each node's PoS address (a node that stops answering still holds its key: its switch becomes
//! unknown, it does not disappear) and how each node's own safety data moves, which is the evidence that a node
//! actually signs rather than merely having its switch on. Pure: time comes in as an argument.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

pub(crate) use super::keys::KeyCount;
use super::keys::{count_keys, peers, NodeFacts};
use super::{failover_state, FailoverInputs, FailoverState, Storage};
use crate::pos_address::PosAddress;

/// How long after its safety data last advanced a node still counts as signing. A committee member signs a
/// vote or a timeout every round; rounds time out after at most a minute or two, so two minutes without any
/// write means the node does not sign.
pub(crate) const SIGNING_WINDOW: Duration = Duration::from_secs(120);

/// A switch reading older than this is unknown: the PoS poller keeps the last head through a couple of slow
/// polls, and a value that old may have changed since.
pub(crate) const SWITCH_STALE_AFTER: Duration = Duration::from_secs(60);

/// Scans remembered per node: enough to find one between two switch readings when both pollers run at the same
/// interval, even with a scan or two in flight.
const KEPT_SCANS: usize = 4;

/// `safety_data` of a `secure_storage.json`, the fields that move when the node signs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SafetyMark {
    /// `safety_data.value.epoch`.
    pub epoch: Option<u64>,
    /// `safety_data.value.last_voted_round`.
    pub last_voted_round: Option<u64>,
    /// `safety_data.last_update` (Unix seconds, written by the node on every signature).
    pub updated: Option<u64>,
}

impl SafetyMark {
    fn has_voted(&self) -> bool {
        self.last_voted_round.unwrap_or(0) > 0
    }

    fn position(&self) -> (u64, u64) {
        (self.epoch.unwrap_or(0), self.last_voted_round.unwrap_or(0))
    }
}

/// `secure_storage.json` as one scan saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageLook {
    /// Not there.
    Absent,
    /// Read and parsed.
    Present(SafetyMark),
    /// There but unreadable as safety data (malformed, too large).
    Unreadable,
}

/// One scan of a node's `pos_db`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilesLook {
    /// When the scan started (no file was read before).
    pub scanned_at: SystemTime,
    /// When the scan ended (no file was read after): a slow scan may read the files after the switch moved.
    pub finished_at: SystemTime,
    /// `secure_storage.json`; `None` when it could not be checked (permission, I/O, no `pos_db` directory).
    pub storage: Option<StorageLook>,
    /// `secure_storage.json.save` exists; `None` when it could not be checked.
    pub save_present: Option<bool>,
}

/// What is known about one node right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeLook {
    /// Configured name.
    pub node: String,
    /// PoS address from RPC or configuration, else the safety file's owner.
    pub address: Option<PosAddress>,
    /// The voting switch; `None` while the node is down or does not answer `test_posVotingStatus`.
    pub switch: Option<bool>,
    /// When the request that read `switch` was sent: the node read it then or later.
    pub switch_asked_at: Option<SystemTime>,
    /// When the answer carrying `switch` arrived: the node read it then or earlier. Ages count from here.
    pub switch_seen_at: Option<SystemTime>,
    /// The last file scan; `None` without host checks.
    pub files: Option<FilesLook>,
    /// The key is force-retired, when the account could be read.
    pub force_retired: Option<bool>,
}

/// The guard's verdict for one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeVerdict {
    /// Configured name.
    pub node: String,
    /// The address, remembered while the node is down.
    pub address: Option<PosAddress>,
    /// The node's own safety data advanced within [`SIGNING_WINDOW`].
    pub signing: Option<bool>,
    /// The inputs actually combined (stale file inputs already dropped).
    pub inputs: FailoverInputs,
    /// The failover state.
    pub state: FailoverState,
    /// Age of the switch reading.
    pub switch_age: Option<Duration>,
    /// Age of the file scan.
    pub files_age: Option<Duration>,
}

/// The whole look: per node and per key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuardView {
    /// In input order.
    pub nodes: Vec<NodeVerdict>,
    /// Per address.
    pub keys: BTreeMap<PosAddress, KeyCount>,
}

impl GuardView {
    /// Whether the switches that decide "safe to stop" for `v` are all known: its own and every other holder's of
    /// its key (a holder whose switch is unknown might be the one voting, so nothing may be claimed safe).
    pub fn switches_known(&self, v: &NodeVerdict) -> bool {
        let key = v.address.as_ref().and_then(|a| self.keys.get(a));
        v.inputs.voting_enabled.is_some() && key.is_some_and(|k| k.switch_unknown == 0)
    }
}

#[derive(Debug, Clone, Default)]
struct Remembered {
    address: Option<PosAddress>,
    /// The switch value and when the first answer with that value arrived.
    switch: Option<(bool, SystemTime)>,
    mark: Option<SafetyMark>,
    save_present: Option<bool>,
    scanned_at: Option<SystemTime>,
    first_scan_at: Option<SystemTime>,
    /// Last time the switch was read off: only safety data moving after that is signing with the switch on.
    last_off_at: Option<SystemTime>,
    /// The last few scans, newest last, to find one taken while the switch held its current value.
    scans: std::collections::VecDeque<FilesLook>,
    advanced_at: Option<SystemTime>,
}

/// Per-node memory between publishes.
#[derive(Debug, Default)]
pub struct GuardMemory {
    nodes: BTreeMap<String, Remembered>,
}

impl GuardMemory {
    /// Folds the latest observations into the memory and judges every node and key at `now`.
    pub fn look(&mut self, looks: &[NodeLook], now: SystemTime) -> GuardView {
        let fresh: Vec<NodeLook> = looks.iter().map(|l| without_stale_switch(l, now)).collect();
        let looks = fresh.as_slice();
        let firsts: Vec<(NodeFacts, FailoverInputs)> = looks
            .iter()
            .map(|l| {
                let m = self.nodes.entry(l.node.clone()).or_default();
                remember(m, l);
                own_facts(m, l, now)
            })
            .collect();
        let keys = count_keys(&firsts);
        let nodes = looks
            .iter()
            .enumerate()
            .map(|(i, l)| judge(i, &firsts, l, now))
            .collect();
        GuardView { nodes, keys }
    }
}

fn without_stale_switch(l: &NodeLook, now: SystemTime) -> NodeLook {
    let stale = l.switch_seen_at.is_none_or(|t| {
        now.duration_since(t)
            .is_ok_and(|age| age > SWITCH_STALE_AFTER)
    });
    let mut l = l.clone();
    if stale {
        l.switch = None;
    }
    l
}

/// Updates the memory with one look: address, since when the switch holds its value, safety-data movement.
fn remember(m: &mut Remembered, l: &NodeLook) {
    if let Some(a) = &l.address {
        m.address = Some(a.clone());
    }
    if l.switch == Some(false) {
        m.last_off_at = l.switch_seen_at.or(m.last_off_at);
    }
    m.switch = match (l.switch, l.switch_seen_at, m.switch) {
        (Some(v), Some(_), Some((old, since))) if old == v => Some((v, since)),
        (Some(v), Some(at), _) => Some((v, at)),
        // Unknown even for a moment: it may have flipped meanwhile, so the next value starts afresh.
        _ => None,
    };
    let Some(files) = &l.files else { return };
    if m.scanned_at.is_some_and(|t| t >= files.scanned_at) {
        return;
    }
    let previous_scan = m.scanned_at.replace(files.scanned_at);
    m.scans.push_back(*files);
    if m.scans.len() > KEPT_SCANS {
        m.scans.pop_front();
    }
    let mark = match files.storage {
        Some(StorageLook::Present(mark)) => Some(mark),
        _ => None,
    };
    // `start_voting [false]` renames the .save over a never-voted file: that jump is not a signature.
    let resumed = m.save_present == Some(true) && files.save_present != Some(true);
    match (m.mark, mark) {
        (Some(prev), Some(new))
            if new.position() > prev.position() && (prev.has_voted() || !resumed) =>
        {
            m.advanced_at = Some(files.scanned_at);
        }
        // A file that appeared since the last scan and has already voted: a node (re)started as a voter signed
        // with a new store, unless it is a renamed .save or a copy (written before the previous scan).
        (None, Some(new)) if new.has_voted() && !resumed && written_since(&new, previous_scan) => {
            m.advanced_at = Some(files.scanned_at);
        }
        _ => {}
    }
    m.first_scan_at.get_or_insert(files.scanned_at);
    m.mark = mark;
    m.save_present = files.save_present;
}

fn written_since(mark: &SafetyMark, scan: Option<SystemTime>) -> bool {
    match (mark.updated, scan) {
        // last_update has whole seconds: a write in the same second as the previous scan counts.
        (Some(secs), Some(scan)) => SystemTime::UNIX_EPOCH + Duration::from_secs(secs + 1) > scan,
        _ => false,
    }
}

/// Signing evidence from a present store: it moved within [`SIGNING_WINDOW`] and after the switch was last
/// seen off. A never-voted store cannot be signing; while the exporter has neither seen the switch off nor
/// watched the file for a whole window, no movement means unknown rather than "no".
fn signing_from(m: &Remembered, mark: &SafetyMark, now: SystemTime) -> Option<bool> {
    if !mark.has_voted() {
        return Some(false);
    }
    let within = |t: SystemTime| now.duration_since(t).map_or(true, |d| d <= SIGNING_WINDOW);
    let moved = m
        .advanced_at
        .is_some_and(|t| within(t) && m.last_off_at.is_none_or(|off| t > off));
    if moved {
        Some(true)
    } else if m.last_off_at.is_none() && m.first_scan_at.is_some_and(within) {
        None
    } else {
        Some(false)
    }
}

fn own_facts(m: &Remembered, l: &NodeLook, now: SystemTime) -> (NodeFacts, FailoverInputs) {
    let files = l.files.as_ref();
    let storage = files.and_then(|f| f.storage);
    let signing = match (l.switch, storage) {
        (Some(false), _) => Some(false),
        (_, Some(StorageLook::Absent)) => Some(false),
        (_, Some(StorageLook::Present(mark))) => signing_from(m, &mark, now),
        _ => None,
    };
    // Files are combined with the switch only when scanned while the switch surely held its current value:
    // started after the first answer with that value arrived, ended before the latest reading was asked for
    // (the switch may have moved while that request was under way).
    let usable = match (m.switch, l.switch_asked_at) {
        (Some((_, since)), Some(asked)) => m
            .scans
            .iter()
            .rev()
            .find(|f| f.scanned_at >= since && f.finished_at <= asked),
        _ => None,
    };
    let inputs = FailoverInputs {
        voting_enabled: l.switch,
        signing,
        storage: usable.and_then(|f| f.storage).map(|s| match s {
            StorageLook::Absent => Storage::Absent,
            StorageLook::Present(m) if !m.has_voted() => Storage::Fresh,
            _ => Storage::Live,
        }),
        save_present: usable.and_then(|f| f.save_present),
        force_retired: l.force_retired,
        ..Default::default()
    };
    let facts = NodeFacts {
        address: m.address.clone(),
        switch: l.switch,
        signing,
    };
    (facts, inputs)
}

fn judge(
    me: usize,
    all: &[(NodeFacts, FailoverInputs)],
    l: &NodeLook,
    now: SystemTime,
) -> NodeVerdict {
    let (facts, own) = &all[me];
    let (peer_voting, peer_signing) = peers(me, all);
    let inputs = FailoverInputs {
        peer_voting,
        peer_signing,
        ..*own
    };
    let age = |t: SystemTime| now.duration_since(t).unwrap_or_default();
    NodeVerdict {
        node: l.node.clone(),
        address: facts.address.clone(),
        signing: facts.signing,
        inputs,
        state: failover_state(inputs),
        switch_age: l.switch_seen_at.filter(|_| l.switch.is_some()).map(age),
        files_age: l.files.as_ref().map(|f| age(f.scanned_at)),
    }
}

#[cfg(test)]
#[path = "look_tests/mod.rs"]
mod tests;
