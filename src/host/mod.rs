//! Host probes.
