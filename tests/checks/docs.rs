//! The documentation's generated parts and its links. docs/metrics.md carries the metric table generated from the
//! catalogue (the README links to it rather than holding a second copy); the README's configuration table is
//! generated from the flags' clap definition (`Cli::command()`), so neither can drift from the code: these tests
//! fail when one does, and `UPDATE_DOCS=1 cargo test --test checks docs::` rewrites both. Every relative link of the README
//! and `docs/` must land on a file and heading that exist.

use clap::CommandFactory;
use conflux_pos_exporter::config::{file, Cli};
use conflux_pos_exporter::metrics::doc::markdown_table;
use conflux_test_support as support;
use support::markdown::{anchors, relative_links};
use support::repo::{read, repo};

const BEGIN: &str =
    "<!-- metrics:begin (generated from src/metrics; UPDATE_DOCS=1 cargo test --test checks docs::) -->\n";
const END: &str = "<!-- metrics:end -->";

const CONFIG_BEGIN: &str =
    "<!-- config:begin (generated from src/config/cli.rs; UPDATE_DOCS=1 cargo test --test checks docs::) -->\n";
const CONFIG_END: &str = "<!-- config:end -->";

/// Where each flag's value sits in the TOML file (`section.key`, or `[[node]].key` for a key of every `[[node]]`
/// entry). The file is not part of the clap definition, so this list is the one hand-written column:
/// `config_table` refuses a flag missing here and `file_keys_are_accepted_by_the_file_parser` proves every key.
const FILE_KEYS: &[(&str, &[&str])] = &[
    ("config.file", &[]),
    ("config.check", &[]),
    ("web.listen-address", &["web.listen_address"]),
    ("web.config.file", &["web.config_file"]),
    ("web.telemetry-path", &["web.telemetry_path"]),
    ("web.max-connections", &["web.max_connections"]),
    ("web.write-timeout", &["web.write_timeout"]),
    ("log.level", &["log.level"]),
    ("log.format", &["log.format"]),
    ("node.rpc-url", &["[[node]].rpc_url"]),
    ("node.name", &["[[node]].name"]),
    ("node.pos-address", &["[[node]].pos_address"]),
    (
        "reference.url",
        &["[[reference]].name", "[[reference]].url"],
    ),
    ("reference.auto", &["poll.auto_reference"]),
    ("poll.node-interval", &["poll.node_interval"]),
    ("poll.reference-interval", &["poll.reference_interval"]),
    ("rpc.timeout", &["poll.rpc_timeout"]),
    ("rpc.history-timeout", &["poll.history_timeout"]),
    ("poll.node-down-after", &["poll.node_down_after"]),
    (
        "pos.cip99-transition-view",
        &[
            "pos.cip99_transition_view",
            "[[node]].cip99_transition_view",
        ],
    ),
    (
        "fork",
        &[
            "[[fork]].chain_id",
            "[[fork]].name",
            "[[fork]].min_version",
            "[[fork]].epoch",
            "[[fork]].pos_view",
        ],
    ),
    ("rpc.max-response-bytes", &["poll.max_response_bytes"]),
];

/// Rewrites (with `UPDATE_DOCS`) or checks the text between `begin` and `end` in a repository file.
fn check_block(rel: &str, begin: &str, end: &str, generated: &str) {
    let path = repo(rel);
    let text = read(rel);
    let start = text
        .find(begin)
        .unwrap_or_else(|| panic!("{rel} lacks the marker {begin}"))
        + begin.len();
    let stop = text[start..]
        .find(end)
        .unwrap_or_else(|| panic!("{rel} lacks the marker {end}"))
        + start;
    if text[start..stop] != *generated {
        if std::env::var_os("UPDATE_DOCS").is_some() {
            // Written aside and renamed: the other tests of this binary run at the same time and read the file.
            let new = format!("{}{}{}", &text[..start], generated, &text[stop..]);
            let aside = path.with_extension("md.new");
            std::fs::write(&aside, new).unwrap_or_else(|e| panic!("{rel}: {e}"));
            std::fs::rename(&aside, &path).unwrap_or_else(|e| panic!("{rel}: {e}"));
        } else {
            panic!("{rel}: generated block is stale; run UPDATE_DOCS=1 cargo test --test checks docs::");
        }
    }
}

/// One Markdown table row per flag: flag, environment variable, file key, default, meaning. The default is the
/// `[default: …]` the flag's help states (what `--help` shows), cut out of the meaning.
fn config_table() -> String {
    let mut out =
        String::from("| flag | env | file key | default | meaning |\n|---|---|---|---|---|\n");
    for arg in Cli::command().get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if long == "help" || long == "version" {
            continue;
        }
        let keys = FILE_KEYS
            .iter()
            .find(|(flag, _)| *flag == long)
            .unwrap_or_else(|| {
                panic!("--{long}: add its file key to FILE_KEYS in tests/checks/docs.rs")
            })
            .1;
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        let (mut meaning, default) = split_default(&help);
        if let Some(sep) = arg.get_value_delimiter() {
            meaning += &format!(" (or several, separated by `{sep}`)");
        }
        let env = arg
            .get_env()
            .map(|e| format!("`{}`", e.to_string_lossy()))
            .unwrap_or_default();
        out += &format!(
            "| `--{long}` | {env} | {} | {} | {} |\n",
            shown_keys(keys),
            default.map(|d| format!("`{d}`")).unwrap_or_default(),
            cell(&meaning),
        );
    }
    out
}

/// `("Address to serve metrics on.", Some(":12541"))` from `"Address to serve metrics on [default: :12541]."`.
fn split_default(help: &str) -> (String, Option<String>) {
    let Some(open) = help.find(" [default: ") else {
        return (help.to_string(), None);
    };
    let after = &help[open + " [default: ".len()..];
    let close = after
        .find(']')
        .unwrap_or_else(|| panic!("unclosed [default: in {help:?}"));
    let meaning = format!("{}{}", &help[..open], &after[close + 1..]);
    (meaning, Some(after[..close].to_string()))
}

/// `` `web.listen_address` ``, or `` `[[node]]` `rpc_url` `` with the keys of one array table named once.
fn shown_keys(keys: &[&str]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut table_before = None;
    for key in keys {
        match key.split_once("]].") {
            Some((table, k)) if table_before == Some(table) => out.push(format!("`{k}`")),
            Some((table, k)) => {
                out.push(format!("`{table}]]` `{k}`"));
                table_before = Some(table);
            }
            None => {
                out.push(format!("`{key}`"));
                table_before = None;
            }
        }
    }
    out.join(", ")
}

/// A table cell: `|` would end it, and `[[node]]` reads better as code.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace("[[node]]", "`[[node]]`")
        .replace("[[reference]]", "`[[reference]]`")
}

#[test]
fn readme_links_to_the_one_metric_table() {
    let readme = read("README.md");
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
    check_block("docs/metrics.md", BEGIN, END, &markdown_table());
}

#[test]
fn readme_configuration_table_matches_the_flags() {
    check_block("README.md", CONFIG_BEGIN, CONFIG_END, &config_table());
}

#[test]
fn file_keys_are_accepted_by_the_file_parser() {
    let toml = |key: &str| match key.split_once("]].") {
        Some((table, k)) => format!("{table}]]\n{k} = 0\n"),
        None => {
            let (section, k) = key.split_once('.').expect("section.key");
            format!("[{section}]\n{k} = 0\n")
        }
    };
    // A wrong type is fine here (0 is not a URL); only an unknown key is a stale FILE_KEYS entry.
    let unknown = |key: &str| match file::parse(&toml(key)) {
        Ok(_) => false,
        Err(e) => e.message.contains("unknown field"),
    };
    assert!(unknown("web.no_such_key") && unknown("[[node]].no_such_key"));
    for (flag, keys) in FILE_KEYS {
        for key in *keys {
            assert!(!unknown(key), "--{flag}: file key {key} is not accepted");
        }
    }
}

#[test]
fn readme_gives_the_two_set_up_commands_ci_runs() {
    let readme = read("README.md");
    for command in [
        "\ncargo run --release --bin conflux-pos-exporter\n",
        "\nbash scripts/test\n",
    ] {
        assert!(readme.contains(command), "README lacks {command:?}");
    }
    assert!(read(".ci/run").contains("\nexec bash scripts/test\n"));
}

#[test]
fn relative_links_resolve() {
    let mut docs = vec![
        "README.md".to_string(),
        "crates/conflux-sim/README.md".into(),
    ];
    for entry in std::fs::read_dir(repo("docs")).expect("docs/") {
        let name = entry.expect("docs/ entry").file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".md") {
            docs.push(format!("docs/{name}"));
        }
    }
    let mut checked = 0;
    for doc in &docs {
        let dir = repo(doc).parent().expect("a directory").to_path_buf();
        for link in relative_links(&read(doc)) {
            let target = if link.path.is_empty() {
                repo(doc)
            } else {
                dir.join(&link.path)
            };
            assert!(target.exists(), "{doc}: link to {} goes nowhere", link.path);
            if let Some(anchor) = &link.anchor {
                let text = std::fs::read_to_string(&target).unwrap_or_default();
                assert!(
                    anchors(&text).contains(anchor),
                    "{doc}: {}#{anchor} is no heading",
                    link.path
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} links found");
}
