//! Teardown by guard: a child owned by `support::process::Guarded` is killed and reaped when the test holding it
//! fails, so a failing assert never leaves a process behind (every helper that starts a program goes through it).

use conflux_test_support as support;

use std::process::{Command, Stdio};
use std::time::Duration;

use support::process::Guarded;

fn sleeper() -> Guarded {
    Guarded::spawn(
        Command::new("sleep")
            .arg("600")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        "sleep",
    )
}

/// Whether `pid` still has a process-table entry (running or an unreaped zombie).
fn exists(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn a_failing_assert_kills_and_reaps_the_child() {
    let (tx, rx) = std::sync::mpsc::channel();
    let outcome = std::panic::catch_unwind(move || {
        let child = sleeper();
        tx.send(child.pid()).unwrap();
        assert!(exists(child.pid()), "the child runs while its guard lives");
        panic!("a test assertion fails while the child runs");
    });
    assert!(outcome.is_err(), "the closure failed as a test would");
    let pid = rx.recv().unwrap();
    assert!(pid > 0);
    // Drop ran during unwinding and waited for the child: the entry is gone, not a zombie.
    assert!(!exists(pid), "pid {pid} outlived its guard");
}

#[test]
fn terminate_collects_the_output_of_a_child_that_exits_on_sigterm() {
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "trap 'echo bye >&2; exit 3' TERM; echo ready; while :; do sleep 0.05; done",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = Guarded::spawn(&mut cmd, "sh");
    // Wait on the child's own word that its trap is installed, not on the clock.
    let mut line = String::new();
    let stdout = child.child().stdout.take().unwrap();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
    assert_eq!(line, "ready\n");
    let out = child.terminate(Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "bye\n");
}

#[test]
fn a_child_that_ignores_sigterm_is_killed_and_reaped_and_the_test_fails() {
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "trap '' TERM; echo ready; while :; do sleep 0.05; done",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    let mut child = Guarded::spawn(&mut cmd, "sh");
    let pid = child.pid();
    let mut line = String::new();
    let stdout = child.child().stdout.take().unwrap();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
    assert_eq!(line, "ready\n");
    // The child never exits on its own, so the deadline passes however loaded the machine is.
    let outcome = std::panic::catch_unwind(move || child.terminate(Duration::from_millis(300)));
    assert!(outcome.is_err(), "terminate must fail the test");
    assert!(!exists(pid), "pid {pid} outlived its guard");
}
