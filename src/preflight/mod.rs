//! The start-voting preflight as an operator reads it: the exporter publishes, after each judgement, a small JSON
//! report per node (`/-/preflight`, [`report`]), and `conflux-pos-exporter preflight` ([`command`]) fetches it,
//! prints the evidence and the exact `start_voting` call, and exits with one code per verdict so that a script
//! can gate the failover's last step on it. The command reads the running exporter rather than the node: the
//! verdict needs the vote history of the force-retire window and the other holders' switches, which only the
//! exporter has; and it sends nothing to any node.

pub mod command;
pub mod report;
pub mod text;

/// The exit codes, one per verdict, so that a script can gate on them (`&&` runs the next step only on `safe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: safe to run `start_voting` here now.
    Safe = 0,
    /// 10: the key shows a sign of life, another holder votes, or the safety data is stale: do not start.
    Unsafe = 10,
    /// 11: no sign of life yet, but not quiet long enough: ask again later.
    Wait = 11,
    /// 12: a fact is missing (node not synced, history not read, files not visible, report too old).
    Unknown = 12,
    /// 13: the exporter could not be asked or its answer was unusable (unreachable, bad answer, no such node).
    Error = 13,
}

impl Exit {
    /// The code of a verdict label.
    pub fn of(verdict: &str) -> Self {
        match verdict {
            "safe" => Self::Safe,
            "unsafe" => Self::Unsafe,
            "wait" => Self::Wait,
            _ => Self::Unknown,
        }
    }
}
