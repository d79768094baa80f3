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
