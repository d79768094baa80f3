//! conflux-pos-exporter
pub mod config;
pub mod rpc;
