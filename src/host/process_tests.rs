//! Unit tests of the process finder on a fake `/proc`.

use super::*;

#[test]
fn pid_file_content() {
    assert_eq!(parse_pid_file("1234\n"), Some(1234));
    assert_eq!(parse_pid_file("  77  "), Some(77));
    assert_eq!(parse_pid_file("0"), None);
    assert_eq!(parse_pid_file("-5"), None);
    assert_eq!(parse_pid_file("12 34"), None);
    assert_eq!(parse_pid_file(""), None);
    assert_eq!(parse_pid_file("conflux"), None);
}

#[test]
fn names_match_comm_truncation_and_argv0() {
    assert!(name_matches("conflux", "conflux\n", None));
    assert!(!name_matches("conflux", "conflux-sim\n", None));
    assert!(name_matches(
        "conflux",
        "sh\n",
        Some("/opt/conflux/conflux")
    ));
    assert!(name_matches("conflux", "x\n", Some("./conflux")));
    assert!(!name_matches(
        "conflux",
        "x\n",
        Some("/usr/bin/conflux-other")
    ));
    assert!(name_matches(
        "conflux-validator-a",
        "conflux-validat\n",
        None
    ));
    assert!(!name_matches(
        "conflux-validat",
        "conflux-validator-a",
        None
    ));
    assert!(!name_matches("", "", Some("")));
}

#[test]
fn find_error_kind_prefers_actionable_failures() {
    let err = FindError::NotFound {
        attempts: vec![
            (
                FoundBy::ListeningPort,
                AttemptError::NotListening { port: 1 },
            ),
            (
                FoundBy::PidFile,
                AttemptError::StalePidFile {
                    path: "/run/c.pid".into(),
                    pid: 9,
                },
            ),
            (
                FoundBy::ProcessName,
                AttemptError::Ambiguous {
                    method: "process name",
                    pids: vec![1, 2],
                },
            ),
        ],
    };
    assert_eq!(err.kind(), "ambiguous");
    assert!(err
        .to_string()
        .contains("pid_file: pid file \"/run/c.pid\" names pid 9"));
    let down = FindError::NotFound {
        attempts: vec![(
            FoundBy::ListeningPort,
            AttemptError::NotListening { port: 1 },
        )],
    };
    assert_eq!(down.kind(), "not_found");
    assert_eq!(FindError::NoMethod.kind(), "no_method");
    assert!(matches!(
        find_node_process(&ProcessQuery::default()),
        Err(FindError::NoMethod)
    ));
}

#[test]
fn pid_files_are_read_capped_and_never_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let proc_root = dir.path().join("proc");
    std::fs::create_dir(&proc_root).unwrap();
    let other = dir.path().join("shadow");
    std::fs::write(&other, "root:$6$SeCrEtHaSh:19000:0:99999:7:::\n").unwrap();
    let e = by_pid_file(&proc_root, &other).unwrap_err();
    assert_eq!(e.kind(), "invalid_pid_file");
    assert!(!e.to_string().contains("SeCrEt"), "{e}");
    assert!(e.to_string().contains("is not a pid file"), "{e}");

    let sparse = dir.path().join("sparse.pid");
    std::fs::File::create(&sparse)
        .unwrap()
        .set_len(512 << 20)
        .unwrap();
    let e = by_pid_file(&proc_root, &sparse).unwrap_err();
    assert_eq!(e.kind(), "invalid_pid_file");
    assert!(e.to_string().contains("more than the 64 bytes"), "{e}");

    let fifo = dir.path().join("fifo.pid");
    rustix::fs::mkfifoat(rustix::fs::CWD, &fifo, rustix::fs::Mode::from(0o600)).unwrap();
    let e = by_pid_file(&proc_root, &fifo).unwrap_err();
    assert!(e.to_string().contains("is a FIFO"), "{e}");

    let binary = dir.path().join("binary.pid");
    std::fs::write(&binary, [0xff, 0xfe, b'1']).unwrap();
    assert_eq!(
        by_pid_file(&proc_root, &binary).unwrap_err().kind(),
        "invalid_pid_file"
    );
    let missing = by_pid_file(&proc_root, &dir.path().join("none")).unwrap_err();
    assert_eq!(missing.kind(), "not_found");
}
