//! Pure verdicts over the state: no I/O, no clocks (time comes in as an argument), no metrics. Every chain rule
//! the exporter applies lives here, so it can be unit-tested exhaustively. The vote ledger lives here too: how a
//! committed block counts for us (signed, missed, unknown) is the chain's rule, and the force-retire window sizes
//! its memory.

pub(crate) mod budget;
pub(crate) mod committee;
pub(crate) mod forecast;
pub mod forks;
pub(crate) mod forks_rate;
pub(crate) mod forks_version;
pub(crate) mod freshness;
pub mod guard;
pub(crate) mod key_readers;
pub(crate) mod lag;
pub(crate) mod preflight;
pub mod retire;
pub(crate) mod reward;
pub(crate) mod stake;
pub mod standby;
pub(crate) mod stop;
pub(crate) mod terms;
pub(crate) mod votes;
pub(crate) mod window;
