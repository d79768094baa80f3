//! End-to-end tests: the exporter binary against the simulator, with real Prometheus and Alertmanager where
//! a test needs them. One binary (one link step) for all of them; one module per feature.

mod alerting;
mod chain;
mod chain_rules;
mod chain_view;
mod committee;
mod dashboards;
mod eta;
mod faults;
mod forks;
mod guard;
mod guard_logs;
mod ha;
mod host;
mod liveness;
mod pos;
mod pos_history;
mod preflight;
mod upgrade;
