//! The metric catalogue and the single publish step. Each group file declares its families with the
//! `catalogue!` macro; [`catalogue`] lists them all (docs and lint tests are generated from it), and
//! [`Metrics::publish`] turns the state into series and encodes the exposition once, so a scrape only copies bytes.
//!
//! # Adding a metric (three files)
//!
//! 1. **Declare it** in the `catalogue!` block of the file that publishes its kind of fact: `chain.rs` (node and
//!    reference chain health), `pos.rs` (a node's PoS facts), `pos_keys.rs` (facts about a PoS key, once per key),
//!    `guard.rs`, `host.rs` or `exporter.rs` — one line: field, kind, full name (`conflux_` prefix, base units,
//!    `_total` for counters), labels (`node` first; never a label whose values grow without bound, such as a block
//!    number: publish that as a value), a one-line HELP (at most [`HELP_MAX_CHARS`] characters: what the value is,
//!    in base units; it is sent on every scrape) and, when more needs saying (label values, when the series is
//!    absent, how it is derived), `doc: "..."`, which only `docs/metrics.md` shows. What holds for every family of
//!    a file goes once in its `section(...)`. `catalogue_follows_prometheus_conventions` below checks it.
//! 2. **Set it in the same file's publish fn** from a fact of [`crate::state::State`] (`set(&self.family,
//!    &[node, ...], value)`, see [`value`]). Gauges are reset before every publish, so a fact that is unknown simply
//!    leaves the series absent — never write 0 for "unknown". A value that needs a chain rule (a threshold, a
//!    comparison, a verdict) calls a pure function of `src/assess/`; `metrics/` only publishes (a new rule is its own
//!    change there, with its unit test).
//! 3. **Regenerate** what is derived from the catalogue: `UPDATE_DOCS=1 cargo test --test checks docs::` rewrites the table
//!    in `docs/metrics.md` (the README links to it), and `UPDATE_GOLDEN=1 cargo test --test checks golden_exposition::`
//!    adds the series to `tests/fixtures/exposition.txt` (a healthy world) or `exposition-risk.txt` (a world where
//!    things go wrong), whichever publishes it. A family neither world publishes fails that test until a world
//!    does, or until it is listed with the reason in `EXEMPT` of `tests/checks/golden_exposition.rs`.
//!
//! Nothing else lists metrics by hand. A new family group (a new file) is the exception: it also needs a line in
//! [`catalogue`], a field in [`Metrics`] and its `register`/`publish` calls below.

pub(crate) mod chain;
pub(crate) mod def;
pub mod doc;
pub(crate) mod exporter;
pub(crate) mod forks;
pub(crate) mod guard;
pub(crate) mod host;
pub(crate) mod pos;
pub(crate) mod pos_keys;
pub(crate) mod preflight;
#[cfg(test)]
mod test_support;
pub(crate) mod value;

use std::sync::Arc;
use std::time::SystemTime;

use prometheus::{Encoder, Registry, TextEncoder};

pub use def::{Def, Group, Kind, HELP_MAX_CHARS};

use crate::judge::Verdicts;
use crate::state::State;

/// Every family group, in documentation order.
pub fn groups() -> [&'static Group; 8] {
    [
        &chain::ChainFamilies::GROUP,
        &pos::PosFamilies::GROUP,
        &pos_keys::PosKeyFamilies::GROUP,
        &guard::GuardFamilies::GROUP,
        &preflight::PreflightFamilies::GROUP,
        &forks::ForkFamilies::GROUP,
        &host::HostFamilies::GROUP,
        &exporter::ExporterFamilies::GROUP,
    ]
}

/// Every family the exporter can expose, in documentation order.
pub fn catalogue() -> Vec<&'static Def> {
    groups().into_iter().flat_map(|g| g.defs).collect()
}

/// All families, registered in one private registry (never the global default one).
pub struct Metrics {
    registry: Registry,
    /// Node and reference chain health.
    pub chain: chain::ChainFamilies,
    /// PoS participation and risk.
    pub pos: pos::PosFamilies,
    /// Facts about each PoS key.
    pub pos_keys: pos_keys::PosKeyFamilies,
    /// The double-voting guard.
    pub guard: guard::GuardFamilies,
    /// The preflight before `start_voting`.
    pub preflight: preflight::PreflightFamilies,
    /// Hard-fork readiness.
    pub forks: forks::ForkFamilies,
    /// Node process, disks and PoS key files.
    pub host: host::HostFamilies,
    /// Self-metrics, shared with the RPC clients as their observer.
    pub exporter: Arc<exporter::ExporterFamilies>,
}

impl Metrics {
    /// Registers every family.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let chain = chain::ChainFamilies::register(&registry)?;
        let pos = pos::PosFamilies::register(&registry)?;
        let pos_keys = pos_keys::PosKeyFamilies::register(&registry)?;
        let guard = guard::GuardFamilies::register(&registry)?;
        let preflight = preflight::PreflightFamilies::register(&registry)?;
        let forks = forks::ForkFamilies::register(&registry)?;
        let host = host::HostFamilies::register(&registry)?;
        let exporter = Arc::new(exporter::ExporterFamilies::register(&registry)?);
        exporter
            .build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1.0);
        Ok(Self {
            registry,
            chain,
            pos,
            pos_keys,
            guard,
            preflight,
            forks,
            host,
            exporter,
        })
    }

    /// Re-derives every state-driven series from `state` and the judge's `verdicts` about it, at `now`.
    pub(crate) fn publish(&self, state: &State, verdicts: &Verdicts, now: SystemTime) {
        self.chain.publish(state, verdicts, now);
        self.pos.publish(state, verdicts, now, &self.pos_keys);
        self.guard.publish(state, verdicts);
        self.preflight.publish(state, verdicts);
        self.forks.publish(state, verdicts);
        self.host.publish(state);
    }

    /// Encodes the registry in the Prometheus text format 0.0.4.
    pub fn encode(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(16 * 1024);
        // Encoding into a Vec cannot fail for I/O reasons; a family error would be a catalogue bug caught by tests.
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buf) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_follows_prometheus_conventions() {
        let mut seen = std::collections::HashSet::new();
        for d in catalogue() {
            assert!(seen.insert(d.name), "{} declared twice", d.name);
            assert!(d.name.starts_with("conflux_"), "{}", d.name);
            assert!(!d.help.is_empty(), "{} has no help", d.name);
            assert!(
                d.help.chars().count() <= HELP_MAX_CHARS && !d.help.contains('\n'),
                "{}: HELP is one line of at most {HELP_MAX_CHARS} characters; move the rest to doc: ({} now)",
                d.name,
                d.help.chars().count()
            );
            assert_eq!(
                d.kind == Kind::Counter,
                d.name.ends_with("_total"),
                "{}: _total iff counter",
                d.name
            );
            assert!(
                !d.name.contains("_ms") && !d.name.ends_with("_milliseconds"),
                "{}: base units",
                d.name
            );
            for l in d.labels {
                assert!(
                    !l.starts_with("__") && *l != "instance" && *l != "job",
                    "{}: label {l}",
                    d.name
                );
            }
        }
    }

    #[test]
    fn every_family_registers_and_encodes() {
        let m = Metrics::new().unwrap();
        m.publish(&State::default(), &Verdicts::default(), SystemTime::now());
        let text = String::from_utf8(m.encode()).unwrap();
        assert!(
            text.contains("conflux_exporter_build_info{version=\""),
            "{text}"
        );
    }
}
