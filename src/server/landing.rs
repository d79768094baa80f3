//! The landing page: links and each target's state, HTML-escaped (names and URLs come from the config; URLs are
//! already redacted).

use super::Served;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn landing_page(served: &Served) -> String {
    let state = served.hub().lock();
    let mut rows = String::new();
    let targets = state
        .nodes
        .iter()
        .map(|n| ("node", &n.name, &n.display_url, &n.poll))
        .chain(
            state
                .references
                .iter()
                .map(|r| ("reference", &r.name, &r.display_url, &r.poll)),
        );
    for (kind, name, url, poll) in targets {
        let status = match (poll.polled, poll.up) {
            (false, _) => "not polled yet",
            (true, true) => "up",
            (true, false) => "DOWN",
        };
        rows.push_str(&format!(
            "<tr><td>{kind}</td><td>{}</td><td>{}</td><td>{status}</td><td>{}</td></tr>\n",
            escape(name),
            escape(url),
            escape(poll.last_error.as_deref().unwrap_or("")),
        ));
    }
    let path = escape(served.telemetry_path());
    format!(
        "<!doctype html>\n<html><head><title>conflux-pos-exporter</title></head><body>\n\
         <h1>conflux-pos-exporter {}</h1>\n<p>Prometheus exporter for Conflux PoS validator nodes.</p>\n\
         <ul><li><a href=\"{path}\">{path}</a></li><li><a href=\"/-/healthy\">/-/healthy</a></li>\
         <li><a href=\"/-/ready\">/-/ready</a></li></ul>\n\
         <table border=\"1\"><tr><th>kind</th><th>name</th><th>url</th><th>state</th><th>last error</th></tr>\n{rows}</table>\n\
         </body></html>\n",
        env!("CARGO_PKG_VERSION")
    )
}
