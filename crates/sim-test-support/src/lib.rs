//! The helpers of the simulator crate's integration tests, one module per purpose, plus the reader of the
//! captured node answers that the exporter's tests share ([`fixtures`]). A library (a dev-dependency) rather than
//! `tests/support/` files declared by every test binary: compiled once, and its public helpers are never dead
//! code in a binary that uses only some of them. It does not depend on the exporter.

pub mod control;
pub mod fixtures;
pub mod rpc;
pub mod shapes;
pub mod sim;
pub mod wire;
