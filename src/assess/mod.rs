//! Pure verdicts over the state: no I/O, no clocks (time comes in as an argument), no metrics. Every chain rule
//! the exporter applies lives here, so it can be unit-tested exhaustively. The vote ledger lives here too: how a
//! committed block counts for us (signed, missed, unknown) is the chain's rule, and the force-retire window sizes
//! its memory.

pub mod budget;
pub mod forecast;
pub mod freshness;
pub mod guard;
pub mod guard_keys;
pub mod guard_look;
pub mod lag;
pub mod preflight;
pub mod readers;
pub mod retire;
pub mod stake;
pub mod standby;
pub mod stop;
pub mod terms;
pub mod votes;
pub mod window;
