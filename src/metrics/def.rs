//! The shape of a catalogue entry and the macro that turns a list of entries into a typed struct of metric
//! families plus the static list the docs and tests are generated from. Declaring a metric anywhere else is a bug:
//! `docs/metrics.md`, the golden exposition and the lint tests all read [`super::catalogue`] (or what it registers).

/// How a family behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Current state; re-derived from the state on every publish, so absent facts drop their series.
    Gauge,
    /// Monotonic count.
    Counter,
    /// Distribution (request durations).
    Histogram,
}

impl Kind {
    /// The Prometheus TYPE word.
    pub fn type_name(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
            Kind::Histogram => "histogram",
        }
    }
}

/// One metric family.
#[derive(Debug, Clone, Copy)]
pub struct Def {
    /// Full name, `conflux_` prefix included.
    pub name: &'static str,
    /// HELP text: one line (at most [`HELP_MAX_CHARS`]) saying what the value is, in base units. It travels with
    /// every scrape and shows in Grafana tooltips, so the explanation lives in [`Def::doc`].
    pub help: &'static str,
    /// The longer explanation (label values, when absent, how it is derived), for `docs/metrics.md` only; empty
    /// when the HELP says it all.
    pub doc: &'static str,
    /// TYPE.
    pub kind: Kind,
    /// Label names, in order.
    pub labels: &'static [&'static str],
}

/// Longest HELP text: one line of a Grafana tooltip, and with ~100 families the HELP lines stay a small part of
/// every scrape (`tests/checks/golden_exposition.rs` measures the share).
pub const HELP_MAX_CHARS: usize = 100;

/// A group of families as `docs/metrics.md` shows it: a section whose introduction says once what holds for all
/// of them (rather than each HELP repeating it).
#[derive(Debug, Clone, Copy)]
pub struct Group {
    /// Section title.
    pub title: &'static str,
    /// What holds for every family of the group (Markdown).
    pub about: &'static str,
    /// The families.
    pub defs: &'static [Def],
}

/// Buckets for RPC durations: a local node answers in milliseconds, a public reference in hundreds.
pub(crate) const DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

macro_rules! family_type {
    (Gauge) => {
        prometheus::GaugeVec
    };
    (Counter) => {
        prometheus::IntCounterVec
    };
    (FloatCounter) => {
        prometheus::CounterVec
    };
    (Histogram) => {
        prometheus::HistogramVec
    };
}

macro_rules! make_family {
    (Gauge, $name:literal, $help:literal, $labels:expr) => {
        prometheus::GaugeVec::new(prometheus::Opts::new($name, $help), $labels)
    };
    (FloatCounter, $name:literal, $help:literal, $labels:expr) => {
        prometheus::CounterVec::new(prometheus::Opts::new($name, $help), $labels)
    };
    (Counter, $name:literal, $help:literal, $labels:expr) => {
        prometheus::IntCounterVec::new(prometheus::Opts::new($name, $help), $labels)
    };
    (Histogram, $name:literal, $help:literal, $labels:expr) => {
        prometheus::HistogramVec::new(
            prometheus::HistogramOpts::new($name, $help)
                .buckets($crate::metrics::def::DURATION_BUCKETS.to_vec()),
            $labels,
        )
    };
}

macro_rules! kind_of {
    (FloatCounter) => {
        $crate::metrics::def::Kind::Counter
    };
    ($k:ident) => {
        $crate::metrics::def::Kind::$k
    };
}

macro_rules! reset_gauge {
    (Gauge, $f:expr) => {
        $f.reset()
    };
    ($other:ident, $f:expr) => {};
}

/// Declares a group of families:
///
/// ```text
/// catalogue! { pub struct Name {
///     section("Title", "What holds for every family below.");
///     field: Kind("name", ["label", ...], "One-line HELP.", doc: "Longer explanation for the docs."),
/// } }
/// ```
///
/// `doc:` is optional; only the HELP reaches the exposition.
macro_rules! catalogue {
    ($(#[$meta:meta])* pub struct $S:ident {
        section($title:literal, $about:literal);
        $( $field:ident : $kind:ident ( $name:literal, [$($label:literal),*], $help:literal $(, doc: $doc:literal)? ) ),* $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $S {
            $( #[doc = $help] pub $field: $crate::metrics::def::family_type!($kind), )*
        }

        impl $S {
            /// Catalogue entries of this group.
            pub const DEFS: &'static [$crate::metrics::def::Def] = &[
                $( $crate::metrics::def::Def {
                    name: $name,
                    help: $help,
                    doc: concat!("" $(, $doc)?),
                    kind: $crate::metrics::def::kind_of!($kind),
                    labels: &[$($label),*],
                }, )*
            ];

            /// The group as the docs show it.
            pub const GROUP: $crate::metrics::def::Group = $crate::metrics::def::Group {
                title: $title,
                about: $about,
                defs: Self::DEFS,
            };

            /// Creates every family of the group and registers it.
            pub fn register(registry: &prometheus::Registry) -> Result<Self, prometheus::Error> {
                let s = Self { $( $field: $crate::metrics::def::make_family!($kind, $name, $help, &[$($label),*])?, )* };
                $( registry.register(Box::new(s.$field.clone()))?; )*
                Ok(s)
            }

            /// Drops every gauge series so that a publish re-creates only what the current state supports.
            pub fn reset_gauges(&self) {
                $( $crate::metrics::def::reset_gauge!($kind, self.$field); )*
            }
        }
    };
}

pub(crate) use {catalogue, family_type, kind_of, make_family, reset_gauge};

/// Advances a counter to `total` (a running total kept in the state). Counters only move forward: a smaller total
/// (which the state never produces) is ignored rather than faking a reset.
pub(crate) fn sync_counter(c: &prometheus::IntCounterVec, labels: &[&str], total: u64) {
    let m = c.with_label_values(labels);
    let cur = m.get();
    if total > cur {
        m.inc_by(total - cur);
    }
}

/// [`sync_counter`] for float counters.
pub(crate) fn sync_float_counter(c: &prometheus::CounterVec, labels: &[&str], total: f64) {
    let m = c.with_label_values(labels);
    let cur = m.get();
    if total > cur {
        m.inc_by(total - cur);
    }
}
