use std::path::Path;

use super::*;

// Cost 4 keeps the tests fast; the format is the same as a production cost-10 hash.
fn hash(pw: &str) -> String {
    bcrypt::hash(pw, 4).unwrap()
}

#[test]
fn empty_file_means_plain_http_without_auth() {
    let c = parse("", Path::new("/")).unwrap();
    assert_eq!(c.tls, None);
    assert!(c.users.is_empty());
}

#[test]
fn relative_tls_paths_resolve_against_the_config_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.pem"), "x").unwrap();
    std::fs::write(dir.path().join("k.pem"), "x").unwrap();
    let text = format!(
        "tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\nbasic_auth_users:\n  prom: '{}'\n",
        hash("pw")
    );
    let c = parse(&text, dir.path()).unwrap();
    let tls = c.tls.unwrap();
    assert_eq!(tls.cert_file, dir.path().join("c.pem"));
    assert_eq!(tls.key_file, dir.path().join("k.pem"));
    assert_eq!(c.users.keys().collect::<Vec<_>>(), ["prom"]);
}

#[test]
fn missing_tls_file_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.pem"), "x").unwrap();
    let (key, msg) = parse(
        "tls_server_config:\n  cert_file: c.pem\n  key_file: nope.pem\n",
        dir.path(),
    )
    .unwrap_err();
    assert_eq!(key, "tls_server_config.key_file");
    assert!(msg.contains("nope.pem"), "{msg}");
    let (key, _) = parse("tls_server_config:\n  cert_file: c.pem\n", dir.path()).unwrap_err();
    assert_eq!(key, "tls_server_config.key_file");
}

#[test]
fn unknown_and_unsupported_keys_are_refused_by_name() {
    let (key, msg) = parse("basic_auth_user:\n  a: b\n", Path::new("/")).unwrap_err();
    assert_eq!(key, "basic_auth_user");
    assert!(msg.contains("unknown key"), "{msg}");
    let (key, msg) = parse(
        "tls_server_config:\n  cert_file: a\n  client_auth_type: RequireAndVerifyClientCert\n",
        Path::new("/"),
    )
    .unwrap_err();
    assert_eq!(key, "tls_server_config.client_auth_type");
    assert!(msg.contains("does not implement"), "{msg}");
}

#[test]
fn a_plain_text_password_is_refused_without_echoing_it() {
    let (key, msg) = parse("basic_auth_users:\n  prom: hunter2\n", Path::new("/")).unwrap_err();
    assert_eq!(key, "basic_auth_users.prom");
    assert!(!msg.contains("hunter2"), "{msg}");
    let err = WebConfigError {
        file: "f".into(),
        key,
        message: msg,
    };
    assert!(!err.to_string().contains("hunter2"));
}

#[test]
fn debug_output_hides_hashes() {
    let h = hash("pw");
    let c = parse(
        &format!("basic_auth_users:\n  prom: '{h}'\n"),
        Path::new("/"),
    )
    .unwrap();
    let dbg = format!("{c:?}");
    assert!(dbg.contains("prom") && !dbg.contains(&h), "{dbg}");
}

#[test]
fn shipped_example_is_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let c = load(&root.join("examples/web.yml")).unwrap();
    assert_eq!(c.tls, None);
    let hash = &c.users["prometheus"];
    assert!(bcrypt::verify("change-me-example-only", hash).unwrap());
}

#[test]
fn an_unusable_hash_names_the_user_and_a_costly_one_warns() {
    let tail = "BCr8qRUJEhcRD.LhTVAnNecz0YxDcnahi4yAtDeJ7N2ohAv9lmvna";
    let (key, msg) = parse(
        &format!("basic_auth_users:\n  prom: '$2b$99${tail}'\n"),
        Path::new("/"),
    )
    .unwrap_err();
    assert_eq!(key, "basic_auth_users.prom");
    assert!(msg.contains("cost 99") && !msg.contains(tail), "{msg}");
    let c = parse(
        &format!("basic_auth_users:\n  a: '$2b$13${tail}'\n  b: '$2b$12${tail}'\n"),
        Path::new("/"),
    )
    .unwrap();
    let w = c.warnings(Path::new("/etc/web.yml"));
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("/etc/web.yml") && w[0].contains("`a`") && w[0].contains("cost 13"),
        "{w:?}"
    );
    assert!(!w[0].contains(tail));
}
