//! docs/metrics.md carries the metric table generated from the catalogue (the README links to it rather than
//! holding a second copy). This test fails when it drifts; `UPDATE_DOCS=1 cargo test --test docs` rewrites it.

use conflux_pos_exporter::metrics::doc::markdown_table;

const BEGIN: &str =
    "<!-- metrics:begin (generated from src/metrics; UPDATE_DOCS=1 cargo test --test docs) -->\n";
const END: &str = "<!-- metrics:end -->";

fn check(path: &str) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let start = text
        .find(BEGIN)
        .unwrap_or_else(|| panic!("{path} lacks the metrics:begin marker"))
        + BEGIN.len();
    let end = text[start..]
        .find(END)
        .unwrap_or_else(|| panic!("{path} lacks the metrics:end marker"))
        + start;
    let table = markdown_table();
    if text[start..end] != table {
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(path, format!("{}{}{}", &text[..start], table, &text[end..])).unwrap();
        } else {
            panic!("{path}: metric table is stale; run UPDATE_DOCS=1 cargo test --test docs");
        }
    }
}

#[test]
fn readme_links_to_the_one_metric_table() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.contains("(docs/metrics.md)"),
        "README must link to docs/metrics.md"
    );
    assert!(
        !readme.contains(BEGIN),
        "README must not hold a second copy of the table"
    );
}

#[test]
fn metrics_doc_matches_catalogue() {
    check(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/metrics.md"));
}
