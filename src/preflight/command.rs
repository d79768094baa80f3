//! `conflux-pos-exporter preflight`: asks the running exporter whether `start_voting` is safe on a node now,
//! prints the evidence and the exact call, and exits with one code per verdict (see [`Exit`]). It sends one GET
//! to the exporter and nothing to any node: the operator makes the state-changing call themselves.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::report::{NodeReport, Report};
use crate::rpc::redact_url;

/// Largest report accepted (a report is about 1.5 KiB per node).
pub const MAX_REPORT_BYTES: usize = 1 << 20;

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

/// What to ask.
#[derive(Debug, Clone)]
pub struct Ask {
    /// Base URL of the exporter (`http://127.0.0.1:12541`).
    pub exporter: String,
    /// The node to judge; may be left out when the exporter watches one node.
    pub node: Option<String>,
    /// Deadline of the request.
    pub timeout: Duration,
    /// A report older than this is not trusted (`unknown`).
    pub max_age: Duration,
}

/// Why the exporter's answer is unusable.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    /// The request failed (connection, TLS, timeout).
    #[error("cannot read {url}: {message}")]
    Request { url: String, message: String },
    /// Not a 200.
    #[error("{url} answered HTTP {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    /// Larger than [`MAX_REPORT_BYTES`].
    #[error("{url} answered more than {MAX_REPORT_BYTES} bytes")]
    TooLarge { url: String },
    /// Not a report.
    #[error("{url} answered something that is not a preflight report: {message}")]
    Malformed { url: String, message: String },
    /// The node is not watched by this exporter, or none was named among several.
    #[error("{0}")]
    Node(String),
}

impl AskError {
    /// Short kind, for tests and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Request { .. } => "request",
            Self::Status { .. } => "status",
            Self::TooLarge { .. } => "too_large",
            Self::Malformed { .. } => "malformed",
            Self::Node(_) => "node",
        }
    }
}

/// Fetches the report from the exporter (at most [`MAX_REPORT_BYTES`]).
pub async fn fetch(ask: &Ask) -> Result<Report, AskError> {
    let url = format!(
        "{}{}",
        ask.exporter.trim_end_matches('/'),
        crate::server::PREFLIGHT_PATH
    );
    // The base alone is redacted (credentials), so the fixed path stays readable.
    let shown = format!(
        "{}{}",
        redact_url(&ask.exporter).trim_end_matches('/'),
        crate::server::PREFLIGHT_PATH
    );
    let request = |e: reqwest::Error| AskError::Request {
        url: shown.clone(),
        message: crate::rpc::client::error_chain(&e.without_url()),
    };
    let client = reqwest::Client::builder()
        .timeout(ask.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(request)?;
    let mut resp = client.get(&url).send().await.map_err(request)?;
    let status = resp.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(request)? {
        if body.len() + chunk.len() > MAX_REPORT_BYTES {
            return Err(AskError::TooLarge { url: shown });
        }
        body.extend_from_slice(&chunk);
    }
    if status != 200 {
        let text = String::from_utf8_lossy(&body);
        return Err(AskError::Status {
            url: shown,
            status,
            body: crate::server::landing::bounded(text.trim()),
        });
    }
    serde_json::from_slice(&body).map_err(|e| AskError::Malformed {
        url: shown,
        message: e.to_string(),
    })
}

/// The node's entry: the one named, or the only one.
pub fn pick<'a>(report: &'a Report, node: Option<&str>) -> Result<&'a NodeReport, AskError> {
    let names = || {
        report
            .nodes
            .iter()
            .map(|n| n.node.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match node {
        Some(name) => report.nodes.iter().find(|n| n.node == name).ok_or_else(|| {
            AskError::Node(format!(
                "the exporter watches no node named {name:?} (it watches: {})",
                names()
            ))
        }),
        None => match report.nodes.as_slice() {
            [one] => Ok(one),
            _ => Err(AskError::Node(format!(
                "the exporter watches {} nodes ({}); name one with --node",
                report.nodes.len(),
                names()
            ))),
        },
    }
}

/// The verdict to act on: the report's, or `unknown` when the report is older than `max_age`.
pub fn judged(n: &NodeReport, generated_at: u64, max_age: Duration, now: SystemTime) -> Exit {
    let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    if now.saturating_sub(generated_at) > max_age.as_secs() {
        return Exit::Unknown;
    }
    Exit::of(&n.verdict)
}

/// Asks, prints, and returns the exit code.
pub async fn run(ask: &Ask) -> Exit {
    let report = match fetch(ask).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("preflight: {e}");
            return Exit::Error;
        }
    };
    let n = match pick(&report, ask.node.as_deref()) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("preflight: {e}");
            return Exit::Error;
        }
    };
    let exit = judged(n, report.generated_at, ask.max_age, SystemTime::now());
    let age = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .saturating_sub(report.generated_at);
    print!("{}", super::text::render(n, exit, age));
    exit
}
