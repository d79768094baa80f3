//! Documentation generated from the catalogue, so `docs/metrics.md` (the one metric table; the README links to it)
//! can never drift from what the exporter really serves (a test compares; `UPDATE_DOCS=1 cargo test --test docs`
//! rewrites it).

use super::catalogue;

/// A Markdown table of every family: name, type, labels, help.
pub fn markdown_table() -> String {
    let mut out = String::from("| metric | type | labels | meaning |\n|---|---|---|---|\n");
    for d in catalogue() {
        let labels = d
            .labels
            .iter()
            .map(|l| format!("`{l}`"))
            .collect::<Vec<_>>()
            .join(", ");
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            d.name,
            d.kind.type_name(),
            labels,
            d.help.replace('|', "\\|")
        ));
    }
    out
}
