//! The helpers of the exporter's integration tests, one module per purpose. A library (a dev-dependency of the
//! exporter) rather than `tests/support/` files declared by every test binary: it is compiled once, and its
//! public helpers are never dead code in a binary that uses only some of them.
//!
//! Every child process a helper starts is owned by a [`process::Guarded`] (killed and reaped on drop, also when
//! an assert fails); every simulator by its `SimHandle` (see [`world`]).

pub mod alertmanager;
pub mod chatsink;
pub mod exporter;
pub mod exposition;
pub mod golden;
pub mod grafana;
pub mod guard;
pub mod ha;
pub mod hostfiles;
pub mod hostile;
pub mod markdown;
pub mod modgraph;
pub mod pages;
pub mod ports;
pub mod pos;
pub mod process;
pub mod prometheus;
pub mod promql;
pub mod ready;
pub mod repo;
pub mod rpc;
pub mod rules;
pub mod scrape;
pub mod shipped;
pub mod stack;
pub mod tally;
pub mod tools;
pub mod webhook;
pub mod world;

/// The captured node answers: one reader for the exporter's and the simulator's tests.
pub use conflux_sim_test_support::fixtures;
