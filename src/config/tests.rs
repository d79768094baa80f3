use super::*;
use clap::Parser;
use std::path::Path;

fn cli(args: &[&str]) -> Cli {
    let mut v = vec!["conflux-pos-exporter"];
    v.extend_from_slice(args);
    Cli::try_parse_from(v).unwrap()
}

fn from_toml(args: &[&str], text: &str) -> Result<Config, ConfigError> {
    let file = file::parse(text).map_err(|e| e.into_config_error("test.toml"))?;
    resolve(&cli(args), file)
}

#[test]
fn zero_config_watches_one_local_node() {
    let c = resolve(&cli(&[]), FileConfig::default()).unwrap();
    assert_eq!(c.nodes.len(), 1);
    assert_eq!(c.nodes[0].name, "local");
    assert_eq!(c.nodes[0].rpc_url, "http://127.0.0.1:12539");
    assert_eq!(c.listen_address.port(), 12541);
    assert_eq!(c.telemetry_path, "/metrics");
    assert_eq!(c.node_interval, Duration::from_secs(5));
    assert_eq!(c.reference_interval, Duration::from_secs(15));
    assert!(c.references.is_empty() && c.auto_reference);
}

#[test]
fn flags_override_file_which_overrides_defaults() {
    let text = r#"
        [web]
        listen_address = "127.0.0.1:9999"
        telemetry_path = "/m"
        [poll]
        node_interval = "2s"
        reference_interval = "1m"
    "#;
    let c = from_toml(
        &[
            "--web.listen-address",
            ":7000",
            "--poll.node-interval",
            "750ms",
        ],
        text,
    )
    .unwrap();
    assert_eq!(c.listen_address.to_string(), "0.0.0.0:7000");
    assert_eq!(c.telemetry_path, "/m");
    assert_eq!(c.node_interval, Duration::from_millis(750));
    assert_eq!(c.reference_interval, Duration::from_secs(60));
}

#[test]
fn unknown_keys_fail_naming_the_key() {
    let e = from_toml(&[], "[[node]]\nname = \"a\"\nrpc_ulr = \"http://x\"\n").unwrap_err();
    assert!(e.to_string().contains("rpc_ulr"), "{e}");
    let e = from_toml(&[], "[poll]\nnode_interval = \"5 parsecs\"\n").unwrap_err();
    assert!(e.to_string().contains("node_interval"), "{e}");
    let e = from_toml(&[], "typo = 1\n").unwrap_err();
    assert!(e.to_string().contains("typo"), "{e}");
}

#[test]
fn bad_values_fail_naming_the_key() {
    let cases: &[(&str, &str)] = &[
        (
            "[[node]]\nname = \"a\"\nrpc_url = \"not a url\"\n",
            "node[0].rpc_url",
        ),
        (
            "[[node]]\nname = \"a\"\n[[node]]\nname = \"a\"\n",
            "node[1].name",
        ),
        ("[[node]]\nname = \"bad name\"\n", "node[0].name"),
        ("[[node]]\npos_address = \"0x12\"\n", "node[0].pos_address"),
        ("[web]\nlisten_address = \"nope\"\n", "web.listen_address"),
        (
            "[web]\ntelemetry_path = \"metrics\"\n",
            "web.telemetry_path",
        ),
        ("[log]\nformat = \"xml\"\n", "log.format"),
        ("[poll]\nrpc_timeout = \"1ms\"\n", "poll.rpc_timeout"),
        ("[[reference]]\nname = \"r\"\n", "reference[0].url"),
        (
            "[[reference]]\nname = \"r\"\nurl = \"ftp://x\"\n",
            "reference[0].url",
        ),
    ];
    for (text, key) in cases {
        let e = from_toml(&[], text).unwrap_err();
        assert_eq!(&e.key, key, "{text} -> {e}");
    }
}

#[test]
fn node_flags_conflict_with_file_nodes() {
    let e = from_toml(
        &["--node.rpc-url", "http://127.0.0.1:1"],
        "[[node]]\nname = \"a\"\n",
    )
    .unwrap_err();
    assert_eq!(e.key, "node.rpc_url");
}

#[test]
fn reference_flags_parse_names_and_replace_file_entries() {
    let c = from_toml(
        &[
            "--reference.url",
            "ref=http://127.0.0.1:1/key,https://b.example/x",
        ],
        "[[reference]]\nname = \"f\"\nurl = \"http://f\"\n",
    )
    .unwrap();
    let names: Vec<_> = c.references.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["ref", "ref1"]);
}

#[test]
fn check_output_redacts_secrets() {
    let c = from_toml(
        &[],
        "[[node]]\nname = \"a\"\nrpc_url = \"http://u:pw@127.0.0.1:12539\"\n[[reference]]\nname = \"r\"\nurl = \"https://main.confluxrpc.com/SECRETKEY\"\n",
    )
    .unwrap();
    let out = c.to_string();
    assert!(!out.contains("SECRETKEY") && !out.contains("pw@"), "{out}");
    assert!(
        out.contains("https://main.confluxrpc.com/<redacted>"),
        "{out}"
    );
}

#[test]
fn pos_addresses_are_normalised() {
    let raw = "EB0D497F27D8D73D12D6C5F13B12B5C0EBAD872DC59536341CD1F31C4EDE98D8";
    let c = from_toml(&[], &format!("[[node]]\npos_address = \"{raw}\"\n")).unwrap();
    assert_eq!(
        c.nodes[0].pos_address.as_ref().map(|a| a.as_str()),
        Some(format!("0x{}", raw.to_lowercase()).as_str())
    );
}

#[test]
fn default_references_follow_chain_id() {
    assert_eq!(
        default_reference_for_chain(1029).unwrap().url,
        "https://main.confluxrpc.com"
    );
    assert_eq!(
        default_reference_for_chain(1).unwrap().url,
        "https://test.confluxrpc.com"
    );
    assert!(default_reference_for_chain(8888).is_none());
}

#[test]
fn shipped_example_file_is_valid() {
    let c = from_toml(&[], include_str!("../../examples/exporter.toml")).unwrap();
    assert_eq!(c.nodes[0].name, "primary");
    assert_eq!(c.listen_address.port(), 12541);
}

#[test]
fn node_and_reference_names_are_disjoint() {
    let e = from_toml(
        &[],
        "[[node]]\nname = \"x\"\n[[reference]]\nname = \"x\"\nurl = \"http://r\"\n",
    )
    .unwrap_err();
    assert_eq!(e.key, "reference.name");
}

#[test]
fn file_errors_name_section_and_key() {
    let e = from_toml(&[], "[poll]\nnode_interval = \"5x\"\n").unwrap_err();
    assert_eq!(e.key, "poll.node_interval", "{e}");
    assert!(e.message.contains("test.toml line 2"), "{e}");
    let e = from_toml(
        &[],
        "[[node]]\nname = \"a\"\n[[node]]\nrpc_ulr = \"http://x\"\n",
    )
    .unwrap_err();
    assert_eq!(e.key, "node[1].rpc_ulr", "{e}");
    assert!(
        e.message
            .contains("expected one of `name`, `rpc_url`, `pos_address`"),
        "{e}"
    );
    let e = from_toml(&[], "[web]\nlisten_address = 12541\n").unwrap_err();
    assert_eq!(e.key, "web.listen_address", "{e}");
    let e = from_toml(&[], "[poll\n").unwrap_err();
    assert!(e.message.contains("line 1"), "{e}");
}

#[test]
fn bad_web_config_file_names_the_key_and_the_yaml_key() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("web.yml");
    std::fs::write(&p, "basic_auth_users:\n  prom: plaintext\n").unwrap();
    let e = from_toml(&["--web.config.file", p.to_str().unwrap()], "").unwrap_err();
    assert_eq!(e.key, "web.config_file");
    assert!(e.message.contains("basic_auth_users.prom"), "{e}");
    assert!(!e.message.contains("plaintext"), "{e}");
}

#[test]
fn env_errors_name_the_variable() {
    let args: Vec<String> = ["conflux-pos-exporter"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let env =
        |k: &str| (k == "CONFLUX_EXPORTER_WEB_LISTEN_ADDRESS").then(|| "nonsense".to_string());
    let e = err(
        "web.listen_address",
        "\"nonsense\" is not HOST:PORT or :PORT",
    );
    let e = env::explain(e, &args, env);
    assert!(
        e.message
            .contains("environment variable CONFLUX_EXPORTER_WEB_LISTEN_ADDRESS"),
        "{e}"
    );
    let mut with_flag = args.clone();
    with_flag.extend(["--web.listen-address".to_string(), "x".to_string()]);
    let e = env::explain(err("web.listen_address", "bad"), &with_flag, env);
    assert!(
        e.message.contains("from --web.listen-address") && !e.message.contains("environment"),
        "{e}"
    );
}

#[test]
fn a_timeout_not_shorter_than_the_interval_is_a_warning_naming_both_keys() {
    let ok = resolve(&Cli::default(), FileConfig::default()).unwrap();
    assert!(ok.warnings().is_empty(), "defaults warn about nothing");
    let file = file::parse("[poll]\nnode_interval = \"5s\"\nrpc_timeout = \"5s\"\n").unwrap();
    let w = resolve(&Cli::default(), file).unwrap().warnings();
    assert_eq!(w.len(), 1);
    assert!(
        w[0].contains("poll.rpc_timeout") && w[0].contains("poll.node_interval"),
        "{w:?}"
    );
    let file = file::parse("[poll]\nrpc_timeout = \"3s\"\nnode_down_after = \"1s\"\n").unwrap();
    let w = resolve(&Cli::default(), file).unwrap().warnings();
    assert!(
        w.iter().any(|w| w.contains("poll.node_down_after")),
        "{w:?}"
    );
}

#[test]
fn errors_in_the_shared_path_keys_name_the_key() {
    for (text, key, line) in [
        (
            "[[node]]\nname = \"a\"\nwork_dir = 5\n",
            "node[0].work_dir",
            3,
        ),
        (
            "[[node]]\nname = \"a\"\n[[node]]\nname = \"b\"\nprocess_name = [1]\n",
            "node[1].process_name",
            5,
        ),
        (
            "[[node]]\npos_config_dir = \"/p\"\nwork_dri = \"/w\"\n",
            "node[0].work_dri",
            3,
        ),
    ] {
        let e = from_toml(&[], text).unwrap_err();
        assert_eq!(e.key, key, "{text} -> {e}");
        assert!(e.message.contains(&format!("line {line})")), "{e}");
    }
    let c = from_toml(
        &[],
        "[[node]]\npid_file = \"/run/c.pid\"\nwork_dir = \"/srv\"\n",
    )
    .unwrap();
    assert_eq!(
        c.nodes[0].paths.pid_file.as_deref(),
        Some(Path::new("/run/c.pid"))
    );
    assert_eq!(
        c.nodes[0].paths.work_dir.as_deref(),
        Some(Path::new("/srv"))
    );
}

#[test]
fn node_keys_are_the_fields() {
    // Debug prints every field by name: the flattened `paths` stands for the fields of NodePaths.
    let shown = format!("{:?}", file::NodeSection::default());
    let mut fields: Vec<&str> = shown
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
        .filter(|w| *w != "paths")
        .collect();
    let mut keys = file::NodeSection::keys();
    fields.sort_unstable();
    keys.sort_unstable();
    assert_eq!(fields, keys, "{shown}");
    for key in keys {
        let value = if key.ends_with("_view") { "1" } else { "\"x\"" };
        let text = format!("[[node]]\n{key} = {value}\n");
        let parsed = file::parse(&text);
        assert!(
            parsed
                .as_ref()
                .err()
                .is_none_or(|e| !e.message.contains("unknown field")),
            "{key}: {parsed:?}"
        );
    }
}
