//! `conflux-pos-exporter preflight`: asks the running exporter whether `start_voting` is safe on a node now,
//! prints the evidence and the exact call, and exits with one code per verdict (see [`Exit`]). It sends one GET
//! to the exporter and nothing to any node: the operator makes the state-changing call themselves.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::report::{NodeReport, Report};
use super::Exit;
use crate::rpc::redact_url;

/// Largest report accepted (a report is about 1.5 KiB per node).
pub const MAX_REPORT_BYTES: usize = 1 << 20;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, verdict: &str) -> NodeReport {
        let json = serde_json::json!({
            "node": name, "pos_address": null, "verdict": verdict, "reasons": [], "latest_block": null,
            "epoch": null, "last_signed": null, "last_proposed_block": null, "last_election_block": null,
            "uncommitted_signed": null, "consensus_blocks": null, "quiet_blocks": null, "quiet_needed": 10,
            "in_committee": null, "other_switch_on": null, "downtime_budget": null, "safety_data": null,
            "chain_signed": null, "start_voting": null,
        });
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn an_old_report_is_unknown_and_a_verdict_has_its_code() {
        let at = UNIX_EPOCH + Duration::from_secs(1_000);
        let age = Duration::from_secs(60);
        let n = node("b", "safe");
        assert_eq!(judged(&n, 1_000, age, at), Exit::Safe);
        assert_eq!(judged(&n, 940, age, at), Exit::Safe);
        assert_eq!(judged(&n, 939, age, at), Exit::Unknown, "61 s old");
        for (v, code) in [("unsafe", 10), ("wait", 11), ("unknown", 12), ("odd", 12)] {
            assert_eq!(judged(&node("b", v), 1_000, age, at) as u8, code);
        }
    }

    #[test]
    fn the_node_is_named_or_the_only_one() {
        let one = Report {
            generated_at: 0,
            nodes: vec![node("a", "safe")],
        };
        assert_eq!(pick(&one, None).unwrap().node, "a");
        assert_eq!(pick(&one, Some("x")).unwrap_err().kind(), "node");
        let two = Report {
            generated_at: 0,
            nodes: vec![node("a", "safe"), node("b", "wait")],
        };
        assert_eq!(pick(&two, Some("b")).unwrap().verdict, "wait");
        assert!(pick(&two, None).unwrap_err().to_string().contains("a, b"));
    }
}
