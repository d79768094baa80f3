//! The shipped operations files against the real tools: alert rules (promtool, lint), Alertmanager routing and
//! receivers, the HA examples, dashboards' queries on a real Prometheus, and the Debian package.

mod alertmanager;
mod dashboards;
mod ha;
mod package_deb;
mod prometheus;
mod receivers;
mod rules;
mod rules_lint;
