//! Counting the holders of each PoS key for the guard: switches on, signers, and how many are unknown. A node that
//! does not answer still holds its key (unknown, never "off"), and a node whose key is unknown might hold any key.

use std::collections::BTreeMap;

use super::FailoverInputs;
use crate::pos_address::PosAddress;

/// What a node says about itself, before the other holders are considered (built by `guard_look`).
#[derive(Debug, Clone)]
pub(super) struct NodeFacts {
    pub(super) address: Option<PosAddress>,
    pub(super) switch: Option<bool>,
    pub(super) signing: Option<bool>,
}

/// Holders of one key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyCount {
    /// Nodes attributed to the key.
    pub holders: usize,
    /// Holders with the switch on.
    pub switch_on: usize,
    /// Holders with the switch off.
    pub switch_off: usize,
    /// Holders (or nodes of unknown key) whose switch is unknown.
    pub switch_unknown: usize,
    /// Holders seen signing.
    pub signing: usize,
    /// Holders (or nodes of unknown key) that might sign but whose signing is unknown.
    pub signing_unknown: usize,
}

impl KeyCount {
    /// Switches on, when that number is certain or already proves two; `None` while an unknown could change it.
    pub fn active_voters(&self) -> Option<usize> {
        (self.switch_unknown == 0 || self.switch_on > 1).then_some(self.switch_on)
    }

    /// Signers, under the same rule.
    pub fn signers(&self) -> Option<usize> {
        (self.signing_unknown == 0 || self.signing > 1).then_some(self.signing)
    }
}

pub(super) fn count_keys(all: &[(NodeFacts, FailoverInputs)]) -> BTreeMap<PosAddress, KeyCount> {
    let mut keys: BTreeMap<PosAddress, KeyCount> = BTreeMap::new();
    for (f, _) in all {
        if let Some(a) = &f.address {
            let k = keys.entry(a.clone()).or_default();
            k.holders += 1;
            tally(k, f);
        }
    }
    // A node whose key is unknown and that may vote could hold any of them.
    for (f, _) in all.iter().filter(|(f, _)| f.address.is_none()) {
        for k in keys.values_mut() {
            k.switch_unknown += usize::from(f.switch != Some(false));
            k.signing_unknown += usize::from(f.signing != Some(false));
        }
    }
    keys
}

fn tally(k: &mut KeyCount, f: &NodeFacts) {
    match f.switch {
        Some(true) => k.switch_on += 1,
        Some(false) => k.switch_off += 1,
        None => k.switch_unknown += 1,
    }
    match f.signing {
        Some(true) => k.signing += 1,
        Some(false) => {}
        None => k.signing_unknown += 1,
    }
}

/// Whether some other node (same key, or a node of unknown key) votes/signs: `Some(true)` as soon as one is
/// seen doing it, `Some(false)` only when every other candidate is known not to.
pub(super) fn peers(
    me: usize,
    all: &[(NodeFacts, FailoverInputs)],
) -> (Option<bool>, Option<bool>) {
    let Some(addr) = all[me].0.address.as_ref() else {
        return (None, None);
    };
    let others = all
        .iter()
        .enumerate()
        .filter(|(i, (f, _))| *i != me && f.address.as_ref().is_none_or(|a| a == addr))
        .map(|(_, (f, _))| f);
    let (mut voting, mut signing) = (Some(false), Some(false));
    for f in others {
        let votes = match (f.switch, f.signing) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), _) => Some(false),
            _ => None,
        };
        // A node of unknown key that votes might hold this key or another one: unknown, not a peer.
        let maybe = |v: Option<bool>| match (&f.address, v) {
            (None, Some(true)) => None,
            _ => v,
        };
        voting = either(voting, maybe(votes));
        signing = either(signing, maybe(f.signing));
    }
    (voting, signing)
}

fn either(acc: Option<bool>, next: Option<bool>) -> Option<bool> {
    match (acc, next) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}
