//! Where the judge applies the hard-fork rules (`assess::forks`) to a node: it gathers the chain's position (the
//! furthest of the node and the references on its chain, since a node left behind by a fork stops moving), the
//! observed rates, the node's version and the references' versions, and keeps each node's epoch-rate memory.

use std::collections::BTreeMap;

use crate::assess::forks::{self, Fork, Position, Rates, Readiness, Version};
use crate::assess::forks_rate::EpochRate;
use crate::state::{NodeState, State};

/// The hard-fork verdicts of one node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ForkVerdicts {
    /// Readiness for the chain's next fork (and any begun fork missed).
    pub readiness: Readiness,
    /// Whether the node's version is older than the newest version a reference on its chain runs (`None`:
    /// either version unknown or unparsable).
    pub behind_reference: Option<bool>,
}

/// The judge's hard-fork memory: the configured forks and each node's epoch rate.
#[derive(Debug, Default)]
pub(super) struct ForkMemory {
    /// Forks from the configuration (added to the built-in ones of their chain).
    pub configured: Vec<Fork>,
    rates: BTreeMap<String, EpochRate>,
}

impl super::Judge {
    /// A judge that also knows the forks announced after this release (`[[fork]]` in the configuration).
    pub(crate) fn with_forks(configured: Vec<Fork>) -> Self {
        let mut judge = super::Judge::default();
        judge.forks.configured = configured;
        judge
    }
}

impl ForkMemory {
    /// The verdicts of `node` at this publish; `None` while its chain id is unknown (node never answered).
    pub(super) fn judge(&mut self, state: &State, node: &NodeState) -> Option<ForkVerdicts> {
        let chain = node.chain.as_ref().filter(|_| node.poll.up);
        let view = node.chain_view();
        let chain_id = chain
            .map(|c| c.status.chain_id.0)
            .or_else(|| view.and_then(|p| p.chain_id))?;
        let rate = self.rates.entry(node.name.clone()).or_default();
        if let Some((c, ts)) = chain.and_then(|c| Some((c, c.best_block_timestamp?))) {
            rate.observe(c.status.epoch_number.0, ts);
        }
        let references = state
            .references
            .iter()
            .filter(|r| r.poll.up && r.chain_id == Some(chain_id));
        let epoch = chain
            .map(|c| c.status.epoch_number.0)
            .into_iter()
            .chain(references.clone().filter_map(|r| r.epoch))
            .max();
        let at = Position {
            epoch,
            pos_view: view.and_then(|p| Some(p.status.as_ref()?.latest_committed.0)),
        };
        let rates = Rates {
            epoch_seconds: rate.seconds_per_epoch(),
            pos_block_seconds: view.and_then(|p| p.ledger.block_interval_seconds()),
        };
        let version = chain.and_then(|c| Version::parse(c.version.as_deref()?));
        let table = forks::table(chain_id, &self.configured);
        let newest_reference = references
            .filter_map(|r| Version::parse(r.version.as_deref()?))
            .max();
        Some(ForkVerdicts {
            readiness: forks::readiness(&table, at, rates, version),
            behind_reference: version.zip(newest_reference).map(|(v, r)| v < r),
        })
    }
}
