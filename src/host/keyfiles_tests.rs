//! Tests of `host::keyfiles` on temp dirs laid out like a node's `run/`.

use super::*;
use std::os::unix::fs::MetadataExt;

const OWNER: &str = "eb0d497f27d8d73d12d6c5f13b12b5c0ebad872dc59536341cd1f31c4ede98d8";

fn storage_json(epoch: u64, round: u64, updated: u64) -> String {
    format!(
        r#"{{"owner_account":{{"data":"GetResponse","last_update":1717000000,"value":"{OWNER}"}},"safety_data":{{"data":"GetResponse","last_update":{updated},"value":{{"epoch":{epoch},"last_voted_round":{round},"preferred_round":{},"last_vote":null}}}},"waypoint":{{"data":"GetResponse","last_update":1717000000,"value":"0:bb0ed10f00000000000000000000000000000000000000000000000000000000ff94"}}}}"#,
        round.saturating_sub(2)
    )
}

/// A node working dir with `pos_config/pos_key` (given mode) and `pos_db/`.
fn node_dir(key_mode: Option<u32>) -> (tempfile::TempDir, KeyFilePaths) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("pos_config")).expect("mkdir");
    std::fs::create_dir(dir.path().join("pos_db")).expect("mkdir");
    let paths = KeyFilePaths::under_working_dir(dir.path());
    if let Some(mode) = key_mode {
        std::fs::write(&paths.pos_key, b"\x30\x82encrypted").expect("write key");
        std::fs::set_permissions(&paths.pos_key, std::fs::Permissions::from_mode(mode))
            .expect("chmod");
    }
    (dir, paths)
}

#[test]
fn parses_the_documented_shape() {
    let got = parse_secure_storage(storage_json(28500, 87, 1717003600).as_bytes());
    assert_eq!(
        got,
        Ok(SecureStorage {
            owner_account: Some(owner()),
            safety_data_updated: Some(1717003600),
            epoch: Some(28500),
            last_voted_round: Some(87),
        })
    );
}

#[test]
fn empty_and_partial_stores_are_not_errors() {
    assert_eq!(parse_secure_storage(b""), Ok(SecureStorage::default()));
    assert_eq!(parse_secure_storage(b" \n"), Ok(SecureStorage::default()));
    assert_eq!(parse_secure_storage(b"{}"), Ok(SecureStorage::default()));
    let owner_only = format!(
        r#"{{"owner_account":{{"data":"GetResponse","last_update":1,"value":"0x{}"}}}}"#,
        OWNER.to_uppercase()
    );
    let got = parse_secure_storage(owner_only.as_bytes()).expect("owner only");
    assert_eq!(got.owner_account, Some(owner()));
    assert_eq!(got.safety_data_updated, None);
    let no_round = r#"{"safety_data":{"data":"GetResponse","last_update":5,"value":{"epoch":3}}}"#;
    let got = parse_secure_storage(no_round.as_bytes()).expect("no round");
    assert_eq!(
        (got.epoch, got.last_voted_round, got.safety_data_updated),
        (Some(3), None, Some(5))
    );
}

#[test]
fn malformed_stores_are_errors_not_panics() {
    for bad in [
        "{",
        "[]",
        "null",
        r#"{"owner_account":"abc"}"#,
        r#"{"owner_account":{"data":"GetResponse","last_update":1}}"#,
        r#"{"owner_account":{"data":"GetResponse","last_update":1,"value":"0x12"}}"#,
        r#"{"owner_account":{"data":"GetResponse","last_update":1,"value":7}}"#,
        r#"{"safety_data":{"data":"GetResponse","value":{"epoch":1}}}"#,
        r#"{"safety_data":{"data":"GetResponse","last_update":-1,"value":{}}}"#,
        r#"{"safety_data":{"data":"GetResponse","last_update":1,"value":[]}}"#,
        r#"{"safety_data":{"data":"GetResponse","last_update":1,"value":{"epoch":"0x1"}}}"#,
        r#"{"safety_data":{"data":"GetResponse","last_update":1,"value":{"last_voted_round":1.5}}}"#,
    ] {
        assert!(parse_secure_storage(bad.as_bytes()).is_err(), "{bad}");
    }
    assert!(parse_secure_storage(&[0xff, 0xfe]).is_err());
}

#[test]
fn key_permissions_by_mode() {
    for (mode, ok) in [
        (0o600, true),
        (0o400, true),
        (0o700, true),
        (0o644, false),
        (0o640, false),
        (0o604, false),
        (0o660, false),
    ] {
        let (_dir, paths) = node_dir(Some(mode));
        let report = probe_key_files(&paths);
        assert_eq!(report.pos_key_present(), Some(true));
        assert_eq!(report.pos_key_permissions_ok(), Some(ok), "mode {mode:o}");
        assert_eq!(
            report.pos_key.clone().ok().flatten().map(|k| k.mode),
            Some(mode)
        );
    }
}

#[test]
fn absent_files() {
    let (_dir, paths) = node_dir(None);
    let report = probe_key_files(&paths);
    assert_eq!(report.pos_key_present(), Some(false));
    assert_eq!(report.pos_key_permissions_ok(), None);
    assert_eq!(report.secure_storage_present(), Some(false));
    assert_eq!(report.secure_storage_save_present(), Some(false));
    let gone = KeyFilePaths::new(Path::new("/nonexistent/cfg"), Path::new("/nonexistent/db"));
    assert_eq!(probe_key_files(&gone).pos_key_present(), Some(false));
}

#[tokio::test]
async fn stopped_primary_holds_only_the_save() {
    let (_dir, paths) = node_dir(Some(0o600));
    std::fs::write(paths.secure_storage_save(), storage_json(9, 41, 1717000100)).expect("write");
    let report = probe_key_files_async(paths).await;
    assert_eq!(report.secure_storage_present(), Some(false));
    assert_eq!(report.secure_storage_save_present(), Some(true));
    let save = report
        .secure_storage_save
        .expect("readable")
        .expect("present");
    assert_eq!((save.epoch, save.last_voted_round), (Some(9), Some(41)));
    assert_eq!(save.owner_account, Some(owner()));
}

#[test]
fn malformed_or_huge_files_are_present_with_an_error_kind() {
    let (_dir, paths) = node_dir(Some(0o600));
    std::fs::write(paths.secure_storage(), b"{\"owner_account\": ").expect("write");
    let huge = vec![b' '; MAX_STORAGE_BYTES as usize + 1];
    std::fs::write(paths.secure_storage_save(), huge).expect("write");
    let report = probe_key_files(&paths);
    assert_eq!(report.secure_storage_present(), Some(true));
    assert_eq!(
        report.secure_storage.as_ref().map_err(|e| e.kind()),
        Err("malformed")
    );
    assert_eq!(report.secure_storage_save_present(), Some(true));
    assert_eq!(
        report.secure_storage_save.as_ref().map_err(|e| e.kind()),
        Err("too_large")
    );
}

#[test]
fn unreadable_locations_are_unknown_not_absent() {
    // pos_db is a regular file: opening "pos_db/secure_storage.json" fails
    // with ENOTDIR, which must not be reported as "absent".
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("pos_db"), b"").expect("write");
    let report = probe_key_files(&KeyFilePaths::under_working_dir(dir.path()));
    assert_eq!(report.secure_storage_present(), None);
    assert_eq!(
        report.secure_storage.as_ref().map_err(|e| e.kind()),
        Err("io")
    );
}

#[test]
fn probing_never_modifies_the_files() {
    let (_dir, paths) = node_dir(Some(0o600));
    std::fs::write(paths.secure_storage(), storage_json(10, 3, 1717000200)).expect("write");
    std::fs::write(paths.secure_storage_save(), storage_json(9, 41, 1717000100)).expect("write");
    let files = [
        paths.pos_key.clone(),
        paths.secure_storage(),
        paths.secure_storage_save(),
    ];
    let snapshot = |p: &PathBuf| {
        let meta = std::fs::metadata(p).expect("stat");
        let content = std::fs::read(p).expect("read");
        (
            meta.mtime(),
            meta.mtime_nsec(),
            meta.ctime_nsec(),
            meta.mode(),
            content,
        )
    };
    let before: Vec<_> = files.iter().map(snapshot).collect();
    for _ in 0..3 {
        let report = probe_key_files(&paths);
        assert_eq!(report.secure_storage_present(), Some(true));
    }
    let after: Vec<_> = files.iter().map(snapshot).collect();
    assert_eq!(before, after);
    let names: Vec<_> = std::fs::read_dir(&paths.pos_db_dir)
        .expect("ls")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temp or lock files created: {names:?}");
}

#[test]
fn a_missing_pos_db_directory_is_reported_as_such() {
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = KeyFilePaths::under_working_dir(dir.path());
    let r = probe_key_files(&paths);
    assert_eq!(r.pos_db_dir, Some(false));
    // The files read as absent, but the guard must not take that for "the node has no safety data" (how the
    // state turns this into an unknown file look is tested in `state`).
    assert_eq!(r.secure_storage_present(), Some(false));
    std::fs::create_dir(dir.path().join("pos_db")).expect("mkdir");
    let r = probe_key_files(&paths);
    assert_eq!(r.pos_db_dir, Some(true));
    assert_eq!(r.secure_storage_present(), Some(false));
}

fn owner() -> crate::pos_address::PosAddress {
    crate::pos_address::PosAddress::parse(OWNER).expect("valid owner")
}

#[test]
fn a_fifo_is_reported_as_such_and_never_blocks_the_probe() {
    let (_dir, paths) = node_dir(Some(0o600));
    let fifo = paths.secure_storage();
    rustix::fs::mkfifoat(rustix::fs::CWD, &fifo, rustix::fs::Mode::from(0o600)).expect("mkfifo");
    // Nobody ever writes to the FIFO: a blocking open would hang here forever.
    let report = probe_key_files(&paths);
    let e = report.secure_storage.as_ref().unwrap_err();
    assert_eq!(e.kind(), "not_regular_file");
    assert!(e.to_string().contains("is a FIFO"), "{e}");
    assert_eq!(report.secure_storage_present(), Some(true));
    assert_eq!(
        report.pos_key_present(),
        Some(true),
        "the other files are still probed"
    );
}

#[test]
fn another_file_at_the_path_is_never_quoted() {
    let (_dir, paths) = node_dir(Some(0o600));
    let secret = "root:$6$SeCrEtHaSh:19000:0:99999:7:::";
    for content in [
        format!(r#"{{"owner_account":{{"value":"{secret}"}}}}"#),
        format!(r#"{{"owner_account":"{secret}"}}"#),
        format!(r#"{{"safety_data":{{"last_update":"{secret}","value":{{}}}}}}"#),
        format!("{secret}\n"),
        format!(r#"["{secret}"]"#),
    ] {
        std::fs::write(paths.secure_storage(), &content).expect("write");
        let report = probe_key_files(&paths);
        let e = report.secure_storage.unwrap_err();
        assert_eq!(e.kind(), "malformed", "{content}");
        let text = e.to_string();
        assert!(text.contains("is not a safety-rules file"), "{text}");
        assert!(
            !text.contains("SeCrEt") && !text.contains("root:"),
            "{text}"
        );
    }
}

#[test]
fn a_huge_sparse_file_is_refused_without_being_read() {
    let (_dir, paths) = node_dir(Some(0o600));
    let f = std::fs::File::create(paths.secure_storage()).expect("create");
    f.set_len(512 << 20).expect("sparse");
    let report = probe_key_files(&paths);
    assert_eq!(
        report.secure_storage.as_ref().map_err(|e| e.kind()),
        Err("too_large")
    );
}
