//! The start-voting preflight as an operator reads it: the exporter publishes, after each judgement, a small JSON
//! report per node (`/-/preflight`, [`report`]), and `conflux-pos-exporter preflight` ([`command`]) fetches it,
//! prints the evidence and the exact `start_voting` call, and exits with one code per verdict so that a script
//! can gate the failover's last step on it. The command reads the running exporter rather than the node: the
//! verdict needs the vote history of the force-retire window and the other holders' switches, which only the
//! exporter has; and it sends nothing to any node.

pub mod command;
pub mod report;
pub mod text;
