//! # conflux-pos-exporter
//!
//! A Prometheus exporter for Conflux PoS validator nodes. It polls the node's local JSON-RPC port and one or more
//! reference nodes, and exposes what an operator needs to avoid the chain's penalties: sync lag and forks,
//! PoS vote participation and force-retire risk, double-voting risk between a primary and a standby, and host
//! limits (disk, open files).
//!
//! ## Flow (one way)
//! `config` -> `app` starts `watch::*` poll loops -> each writes facts into `state::Hub` -> the publisher runs the
//! `judge` (applying the pure rules of `assess::*`) and `metrics` (the catalogue) -> encodes once -> `server` serves
//! the bytes.
//!
//! ## Layout
//! - [`rpc`]: JSON-RPC client (batches, timeouts, size cap, allow-list, URL redaction) and wire types.
//! - [`config`]: flags + TOML file -> validated [`config::Config`].
//! - [`watch`]: one poller per source (chain, reference, ...).
//! - [`state`]: the latest facts per target.
//! - [`assess`]: pure functions from facts to verdicts, and every chain rule (the vote ledger, the force-retire
//!   window, lag, stake, terms, the guard).
//! - [`judge`]: applies the rules of `assess` to a state snapshot once per publish, keeps the memory verdicts need
//!   (guard history, the forecast's self-check) and logs each change; publishers read its [`judge::Verdicts`].
//! - [`host`]: local probes of the node process, disks and PoS key files (blocking work in spawn_blocking).
//! - [`metrics`]: every metric family, and the publish step.
//! - [`pos_address`]: the one PoS address type, parsed where text enters.
//! - [`preflight`]: the start-voting preflight report (served at `/-/preflight`) and the `preflight` subcommand
//!   that reads it.
//! - [`server`]: HTTP endpoints (TLS, basic auth and gzip included).
//! - [`webconfig`]: the `--web.config.file` (exporter-toolkit format).
//! - [`app`]: wiring and shutdown.
//!
//! The simulated network the tests, the demo and the benchmarks run against is a separate crate of the workspace
//! (`crates/conflux-sim`): the exporter neither ships nor depends on it.

// Private by default: an item is `pub` only when the binary, the tests or the support crates use it, so the
// compiler reports dead code; `unreachable_pub` keeps the rest `pub(crate)`.
#![warn(unreachable_pub)]

pub mod app;
pub mod assess;
pub mod config;
pub mod host;
pub(crate) mod judge;
pub mod metrics;
pub mod pos_address;
pub mod preflight;
pub mod rpc;
pub(crate) mod server;
pub(crate) mod state;
pub mod upgrade;
pub mod watch;
pub mod webconfig;
