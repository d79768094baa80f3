//! Prometheus exporter for Conflux PoS validator nodes.

pub mod assess;
pub mod host;
