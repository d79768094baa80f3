//! Documentation generated from the catalogue, so `docs/metrics.md` (the one metric reference; the README links to
//! it) can never drift from what the exporter really serves (a test compares; `UPDATE_DOCS=1 cargo test --test
//! docs` rewrites it). It shows both texts of each family: the one-line HELP the exposition carries and the longer
//! explanation kept for the docs.

use super::groups;

/// One Markdown section per family group (its introduction, then a table: name, type, labels, HELP and details).
pub fn markdown_table() -> String {
    let mut out = String::from(PREFACE);
    for g in groups() {
        out.push_str(&format!("\n### {}\n\n", g.title));
        if !g.about.is_empty() {
            out.push_str(&format!("{}\n\n", g.about));
        }
        out.push_str("| metric | type | labels | HELP | details |\n|---|---|---|---|---|\n");
        for d in g.defs {
            let labels = d
                .labels
                .iter()
                .map(|l| format!("`{l}`"))
                .collect::<Vec<_>>()
                .join(", ");
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                d.name,
                d.kind.type_name(),
                labels,
                cell(d.help),
                cell(d.doc)
            ));
        }
    }
    out
}

/// How to read the tables; said once here rather than in every HELP.
const PREFACE: &str = "\nEach family's HELP is the one line `/metrics` sends with it; *details* holds the rest. A HELP \
reading \"1 when …\" means 0 otherwise, unless the details say when the series is absent instead (the exporter \
never writes 0 for \"unknown\"). \"We\", \"us\" and \"our\" mean the watched node's PoS key.\n";

/// Text safe inside a table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}
