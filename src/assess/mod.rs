//! Pure verdicts over the state: no I/O, no clocks (time comes in as an argument), no metrics. Every chain rule
//! the exporter applies lives here, so it can be unit-tested exhaustively.

pub mod forecast;
pub mod guard;
pub mod guard_keys;
pub mod guard_look;
pub mod lag;
pub mod readers;
pub mod retire;
pub mod stake;
pub mod terms;
