//! Pure assessments: data in, verdicts out, no I/O.

pub mod guard;
