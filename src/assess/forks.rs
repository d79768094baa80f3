//! Hard-fork readiness as a function of (chain, PoW epoch, PoS view, node version): the built-in table of the
//! forks of mainnet (1029) and testnet (1), the operator's additions, which fork comes next, whether a node's
//! version is ready for it and how far away it is. A node left on an old version past an activation stops
//! following the chain and is then force-retired for its silence, so this is judged for every node, the standby
//! as much as the primary. The version rules live in [`super::forks_version`].

pub use super::forks_version::Version;

/// One hard fork of one chain. An activation point that is `None` is not part of that fork (or not sourced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fork {
    /// The chain (`cfx_getStatus` `chainId`).
    pub chain_id: u64,
    /// The release that introduced it, e.g. `v3.0.0` (the `fork` label).
    pub name: String,
    /// The oldest conflux-rust version that follows the chain past it.
    pub min_version: Version,
    /// The PoW epoch at which it activates (the node-upgrade deadline of the release notes).
    pub epoch: Option<u64>,
    /// The PoS view (block number) at which its PoS part activates.
    pub pos_view: Option<u64>,
}

/// A built-in fork: (name, minimum version, PoW epoch, PoS view).
type BuiltIn = (&'static str, (u64, u64, u64), Option<u64>, Option<u64>);

/// Mainnet (1029). Epochs are the "Node Upgrade" deadlines of the Conflux documentation's hard-fork pages
/// (Conflux-Chain/conflux-documentation `docs/general/hardforks/*.md`) and equal the transition heights compiled
/// into conflux-rust tag `v3.0.3-fix` (`crates/config/src/configuration.rs`); views are the PoS activations.
const MAINNET: &[BuiltIn] = &[
    // v2.0.md "Mainnet Upgrade schedule": epoch 36935000; run/hydra.toml `hydra_transition_height = 36935000`.
    // PoS itself started there (no PoS view to activate).
    ("v2.0.0", (2, 0, 0), Some(36_935_000), None),
    // v2.1.md: epochNumber 56800000, CIP-99 PoS block 330000; configuration.rs `dao_vote_transition_height`
    // Some(56800000), `pos_cip99_transition_view` 330000.
    ("v2.1.0", (2, 1, 0), Some(56_800_000), Some(330_000)),
    // v2.3.md: node upgrade before epoch 79050000, CIP-113 at PoS block 766200; configuration.rs
    // `cip112_transition_height` Some(79050000).
    ("v2.3.0", (2, 3, 0), Some(79_050_000), Some(766_200)),
    // v2.4.md: epoch 101900000, CIP-136 at PoS block 1684080; configuration.rs
    // `base_fee_burn_transition_height` Some(101900000), `pos_cip136_transition_view` 1684080.
    ("v2.4.0", (2, 4, 0), Some(101_900_000), Some(1_684_080)),
    // v3.0.md: epoch 129680000, CIP-156 at PoS block 2754720; configuration.rs `eoa_code_transition_height`
    // Some(129680000), `pos_cip156_transition_view` 2754720.
    ("v3.0.0", (3, 0, 0), Some(129_680_000), Some(2_754_720)),
    // v3.1: "The mainnet release will be published after the testnet upgrade completes" (v3.1.md): not yet
    // scheduled, so not built in — add it with a `[[fork]]` entry once announced.
];

/// Testnet (1). Same sources, from the testnet rows of the documentation and the testnet tags of conflux-rust.
const TESTNET: &[BuiltIn] = &[
    // v2.0.md "Testnet Upgrade schedule": epoch 55095000; configuration.rs (v3.1.0-testnet)
    // `hydra_transition_height` Some(55095000).
    ("v2.0.0", (2, 0, 0), Some(55_095_000), None),
    // v2.1.md: epochNumber 88100000, CIP-99 PoS block 342000; run/testnet.toml (v2.1.0-testnet)
    // `dao_vote_transition_height = 88100000`, `pos_cip99_transition_view = 342000`.
    ("v2.1.0", (2, 1, 0), Some(88_100_000), Some(342_000)),
    // v2.3.md: epoch 129100000, CIP-113 at PoS block 741900; configuration.rs (v3.0.0-testnet)
    // `cip112_transition_height` Some(129100000). The later v2.3.0-3-testnet deadline (epoch 132220000) needs a
    // build suffix a version number cannot express, so it is not built in.
    ("v2.3.0", (2, 3, 0), Some(129_100_000), Some(741_900)),
    // v2.4.md: epoch 175600000; configuration.rs (v3.0.0-testnet) `base_fee_burn_transition_height`
    // Some(175600000) and `pos_cip136_transition_view` 1685520 — the documentation says PoS block 1685544; the
    // node activates at the compiled value, so that one is used.
    ("v2.4.0", (2, 4, 0), Some(175_600_000), Some(1_685_520)),
    // v3.0.md: release v3.0.1-testnet, epoch 223340000, CIP-156 at PoS block 2745000; configuration.rs
    // (v3.0.1-testnet) `eoa_code_transition_height` Some(223340000), `pos_cip156_transition_view` 2745000.
    ("v3.0.1", (3, 0, 1), Some(223_340_000), Some(2_745_000)),
    // v3.1.md: release v3.1.0-testnet, epoch 259240000, CIP-173 at PoS block 3870720; configuration.rs
    // (v3.1.0-testnet) `osaka_opcode_transition_height` Some(259240000), `pos_cip173_transition_view` 3870720.
    ("v3.1.0", (3, 1, 0), Some(259_240_000), Some(3_870_720)),
];

/// The built-in forks of `chain_id` (none for other chains: configure them).
pub fn builtin(chain_id: u64) -> Vec<Fork> {
    let rows = match chain_id {
        1029 => MAINNET,
        1 => TESTNET,
        _ => &[],
    };
    rows.iter()
        .map(|&(name, (a, b, c), epoch, pos_view)| Fork {
            chain_id,
            name: name.to_string(),
            min_version: Version::new(a, b, c),
            epoch,
            pos_view,
        })
        .collect()
}

/// The forks of `chain_id`: the built-in ones with the configured ones added (a configured fork of the same name
/// replaces the built-in one), in activation order.
pub fn table(chain_id: u64, configured: &[Fork]) -> Vec<Fork> {
    let mine: Vec<&Fork> = configured
        .iter()
        .filter(|f| f.chain_id == chain_id)
        .collect();
    let mut all: Vec<Fork> = builtin(chain_id)
        .into_iter()
        .filter(|b| !mine.iter().any(|c| c.name == b.name))
        .chain(mine.iter().map(|f| (*f).clone()))
        .collect();
    all.sort_by_key(|f| (f.epoch.unwrap_or(u64::MAX), f.pos_view.unwrap_or(u64::MAX)));
    all
}

/// Where the chain is: its PoW epoch and PoS view, each when known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    /// Best PoW epoch (the furthest of the node and the references: a node that stopped following is behind).
    pub epoch: Option<u64>,
    /// Latest committed PoS view.
    pub pos_view: Option<u64>,
}

/// Whether one activation point is behind the chain: `None` while the chain's position on that axis is unknown.
fn reached(point: Option<u64>, at: Option<u64>) -> Option<bool> {
    match point {
        None => Some(true),
        Some(p) => at.map(|a| a >= p),
    }
}

/// Whether `fork` is fully active at `at` (every activation point reached); `None` when it cannot be told.
pub fn active(fork: &Fork, at: Position) -> Option<bool> {
    match (
        reached(fork.epoch, at.epoch),
        reached(fork.pos_view, at.pos_view),
    ) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// Whether any activation point of `fork` is behind the chain (the fork has begun).
fn begun(fork: &Fork, at: Position) -> bool {
    let past = |p: Option<u64>, a: Option<u64>| p.zip(a).is_some_and(|(p, a)| a >= p);
    past(fork.epoch, at.epoch) || past(fork.pos_view, at.pos_view)
}

/// The first fork of `forks` (in activation order) that is not yet fully active; `None` when every fork is active
/// or the chain's position cannot tell.
pub fn next(forks: &[Fork], at: Position) -> Option<&Fork> {
    for f in forks {
        if !active(f, at)? {
            return Some(f);
        }
    }
    None
}

/// The newest fork that has begun on the chain and needs a newer version than `version`: the node is past an
/// activation it was not ready for, and no longer follows the chain.
pub fn missed(forks: &[Fork], at: Position, version: Version) -> Option<&Fork> {
    forks
        .iter()
        .rfind(|f| begun(f, at) && version < f.min_version)
}

/// Observed rates: seconds per PoW epoch and per PoS block, each when known.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Rates {
    /// Seconds per PoW epoch (from block timestamps).
    pub epoch_seconds: Option<f64>,
    /// Seconds per committed PoS block (from PoS block timestamps).
    pub pos_block_seconds: Option<f64>,
}

/// Seconds until `fork` is active: the earliest of its pending activation points. `None` when a pending point's
/// rate or the chain's position on its axis is unknown (it might come first), or when it is already active.
pub fn seconds_until(fork: &Fork, at: Position, rates: Rates) -> Option<f64> {
    let eta = |point: Option<u64>, pos: Option<u64>, rate: Option<f64>| -> Option<Option<f64>> {
        let Some(p) = point else { return Some(None) };
        let a = pos?;
        if a >= p {
            return Some(None);
        }
        Some(Some((p - a) as f64 * rate?))
    };
    let e = eta(fork.epoch, at.epoch, rates.epoch_seconds)?;
    let v = eta(fork.pos_view, at.pos_view, rates.pos_block_seconds)?;
    match (e, v) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The readiness of one node for the chain's next fork.
#[derive(Debug, Clone, PartialEq)]
pub struct Readiness {
    /// The next fork (`None`: every known fork is active).
    pub next: Option<Fork>,
    /// The node's version is at least the next fork's minimum (`None`: version unparsable or no next fork).
    pub ready: Option<bool>,
    /// Seconds until the next fork activates.
    pub seconds: Option<f64>,
    /// The newest begun fork the node's version is too old for (`None` when unparsable or none).
    pub missed: Option<Fork>,
    /// The newest fork that has begun on the chain (what a node must at least run now).
    pub last_begun: Option<Fork>,
    /// Whether the node's version checks were possible (a parsed version).
    pub version: Option<Version>,
}

/// Judges one node: `version` is its parsed version (`None` leaves every version verdict absent, never "ready"
/// nor "not ready").
pub fn readiness(
    forks: &[Fork],
    at: Position,
    rates: Rates,
    version: Option<Version>,
) -> Readiness {
    let next = next(forks, at).cloned();
    let ready = next.as_ref().zip(version).map(|(f, v)| v >= f.min_version);
    let seconds = next.as_ref().and_then(|f| seconds_until(f, at, rates));
    let missed = version.and_then(|v| missed(forks, at, v)).cloned();
    let last_begun = forks.iter().rfind(|f| begun(f, at)).cloned();
    Readiness {
        next,
        ready,
        seconds,
        missed,
        last_begun,
        version,
    }
}

#[cfg(test)]
#[path = "forks_tests.rs"]
mod tests;
