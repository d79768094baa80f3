//! The landing page: links and each target's state. Names and URLs come from the config (URLs redacted), the
//! last error from a node or reference, which may send anything: every string shown is cut to
//! [`MAX_SHOWN_CHARS`] with control characters escaped, and copied so while the shared state is locked, so the
//! page is small and the lock is held for a bounded copy, whatever a peer sent.

use super::Served;

/// Characters shown of any one string (name, URL, error).
pub(super) const MAX_SHOWN_CHARS: usize = 200;

/// One row of the table, already bounded.
struct Row {
    kind: &'static str,
    name: String,
    url: String,
    status: &'static str,
    last_error: String,
}

/// Up to [`MAX_SHOWN_CHARS`] characters of `s`, control characters (and bidi overrides) written as escapes (they count
/// towards the limit), and `…` when cut. Reads no further into `s` than it shows.
pub(super) fn bounded(s: &str) -> String {
    let mut out = String::new();
    for (shown, c) in s.chars().enumerate() {
        if shown >= MAX_SHOWN_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() || is_bidi_control(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Characters that reorder the text shown around them (a "Trojan Source" error message).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn rows(served: &Served) -> Vec<Row> {
    let state = served.hub().lock();
    let nodes = state
        .nodes
        .iter()
        .map(|n| ("node", &n.name, &n.display_url, &n.poll));
    let references = state
        .references
        .iter()
        .map(|r| ("reference", &r.name, &r.display_url, &r.poll));
    nodes
        .chain(references)
        .map(|(kind, name, url, poll)| Row {
            kind,
            name: bounded(name),
            url: bounded(url),
            status: match (poll.polled, poll.up) {
                (false, _) => "not polled yet",
                (true, true) => "up",
                (true, false) => "DOWN",
            },
            last_error: bounded(poll.last_error.as_deref().unwrap_or("")),
        })
        .collect()
}

pub(super) fn landing_page(served: &Served) -> String {
    let mut table = String::new();
    for r in rows(served) {
        table.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            r.kind,
            escape(&r.name),
            escape(&r.url),
            r.status,
            escape(&r.last_error),
        ));
    }
    let path = escape(served.telemetry_path());
    format!(
        "<!doctype html>\n<html><head><title>conflux-pos-exporter</title></head><body>\n\
         <h1>conflux-pos-exporter {}</h1>\n<p>Prometheus exporter for Conflux PoS validator nodes.</p>\n\
         <ul><li><a href=\"{path}\">{path}</a></li><li><a href=\"/-/healthy\">/-/healthy</a></li>\
         <li><a href=\"/-/ready\">/-/ready</a></li></ul>\n\
         <table border=\"1\"><tr><th>kind</th><th>name</th><th>url</th><th>state</th><th>last error</th></tr>\n{table}</table>\n\
         </body></html>\n",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::state::{Hub, NodeState, State};

    #[test]
    fn bounded_cuts_and_escapes() {
        assert_eq!(bounded("connect refused"), "connect refused");
        assert_eq!(bounded("a\nb\u{1b}[31m"), "a\\nb\\u{1b}[31m");
        assert_eq!(bounded("x\u{202e}y"), "x\\u{202e}y");
        let long = "x".repeat(10_000);
        let b = bounded(&long);
        assert_eq!(b.chars().count(), MAX_SHOWN_CHARS + 1);
        assert!(b.ends_with('…'));
        assert_eq!(
            bounded(&"é".repeat(MAX_SHOWN_CHARS)),
            "é".repeat(MAX_SHOWN_CHARS)
        );
    }

    #[test]
    fn a_huge_remote_error_makes_a_small_page() {
        let mut node = NodeState {
            name: "local".into(),
            display_url: "http://127.0.0.1:12539/".into(),
            ..Default::default()
        };
        node.poll.polled = true;
        node.poll.last_error = Some(format!("<script>{}\r\n", "A".repeat(15 << 20)));
        let hub = Hub::new(State {
            nodes: vec![node],
            references: Vec::new(),
        });
        let served = Served::new(Arc::clone(&hub), "/metrics".into());
        let page = landing_page(&served);
        assert!(page.len() < 4096, "{} bytes", page.len());
        assert!(
            page.contains("&lt;script&gt;AAAA") && !page.contains("<script>"),
            "{page}"
        );
        assert!(page.contains("DOWN"));
    }
}
