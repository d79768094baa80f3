//! The hostile host-file rows of docs/security.md, against the real binary: a pid file that is a 512 MiB sparse file is refused without
//! being read (the exporter's peak memory stays small); a pid file and a `secure_storage.json` pointing at files that
//! are not theirs (the unit grants CAP_DAC_READ_SEARCH, so any file on the host) never have a line of their content
//! logged; a FIFO named `secure_storage.json` is reported as such on the key-file probe-error series and does not
//! stall the node's other host probes.

use conflux_test_support as support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::hostile::wait_lines;
use support::ports::*;
use support::process::Guarded;

const BIN: &str = env!("CARGO_BIN_EXE_conflux-pos-exporter");
/// What a line of someone else's file looks like; no fragment of it may reach the logs.
const SECRET: &str = "root:$6$SeCrEtHaSh0123:19000:0:99999:7:::";

/// A node working directory with `pos_config/pos_key` (0600) and `pos_db/`.
fn work_dir(root: &Path, name: &str) -> std::path::PathBuf {
    let work = root.join(name);
    for sub in ["pos_db", "pos_config"] {
        std::fs::create_dir_all(work.join(sub)).unwrap();
    }
    let key = work.join("pos_config/pos_key");
    std::fs::write(&key, "0123456789abcdef\n").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    work
}

fn kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap()
}

#[tokio::test]
async fn hostile_pid_and_key_files_are_refused_unread_and_never_quoted() {
    let dir = tempfile::tempdir().unwrap();
    // Node a: a 512 MiB sparse pid file, and a FIFO where the safety-rules file should be.
    let work_a = work_dir(dir.path(), "a");
    let sparse = dir.path().join("big.pid");
    std::fs::File::create(&sparse)
        .unwrap()
        .set_len(512 << 20)
        .unwrap();
    let fifo = work_a.join("pos_db/secure_storage.json");
    rustix::fs::mkfifoat(rustix::fs::CWD, &fifo, rustix::fs::Mode::from(0o600)).unwrap();
    // Node b: its pid file and its secure_storage.json name another file holding a secret line.
    let work_b = work_dir(dir.path(), "b");
    let shadow = dir.path().join("shadow");
    std::fs::write(&shadow, format!("{SECRET}\n")).unwrap();
    std::fs::write(
        work_b.join("pos_db/secure_storage.json"),
        format!(r#"{{"owner_account":{{"data":"GetResponse","value":"{SECRET}"}}}}"#),
    )
    .unwrap();
    let (dead_a, dead_b) = (dead_port(), dead_port());
    let config = dir.path().join("exporter.toml");
    std::fs::write(
        &config,
        format!(
            "[[node]]\nname = \"a\"\nrpc_url = \"http://127.0.0.1:{}\"\nwork_dir = {:?}\npid_file = {:?}\n\n\
             [[node]]\nname = \"b\"\nrpc_url = \"http://127.0.0.1:{}\"\nwork_dir = {:?}\npid_file = {:?}\n",
            dead_a.port, work_a, sparse, dead_b.port, work_b, shadow
        ),
    )
    .unwrap();
    // The log goes to a file: an unread pipe fills under debug logging and blocks the exporter.
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut child = Guarded::spawn(
        Command::new(BIN)
            .args(["--config.file", config.to_str().unwrap()])
            .args([
                "--web.listen-address",
                "127.0.0.1:0",
                "--poll.node-interval",
                "200ms",
            ])
            .args(["--reference.auto", "false", "--log.level", "debug"])
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap()),
        "the exporter binary",
    );
    let port = listening_port(
        &mut child,
        "the exporter binary",
        Duration::from_secs(30),
        String::new,
    )
    .await;
    let a_disk = format!(
        "conflux_disk_available_bytes{{node=\"a\",path={:?}",
        work_a.display().to_string()
    );
    wait_lines(
        port,
        &[
            "conflux_node_process_probe_error{kind=\"invalid_pid_file\",node=\"a\"} 1",
            "conflux_node_process_probe_error{kind=\"invalid_pid_file\",node=\"b\"} 1",
            "conflux_pos_key_file_probe_error{file=\"secure_storage.json\",kind=\"not_regular_file\",node=\"a\"} 1",
            "conflux_pos_key_file_probe_error{file=\"secure_storage.json\",kind=\"malformed\",node=\"b\"} 1",
            // The FIFO stalls nothing: node a's other probes keep reporting.
            "conflux_pos_key_present{node=\"a\"} 1",
            &a_disk,
        ],
    )
    .await;
    // A few more polls, each of which would have read the pid file whole before.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let peak_mib = kib(child.pid(), "VmHWM:") / 1024;
    child.terminate(Duration::from_secs(10));
    let logs = std::fs::read_to_string(log.path()).unwrap_or_default();
    assert!(
        peak_mib < 64,
        "peak RSS {peak_mib} MiB: the sparse pid file was read"
    );
    for fragment in ["SeCrEt", "root:", "99999"] {
        assert!(
            !logs.contains(fragment),
            "{fragment} leaked into the logs:\n{logs}"
        );
    }
    assert!(logs.contains("is not a pid file"), "{logs}");
    assert!(logs.contains("is a FIFO, not a regular file"), "{logs}");
    assert!(logs.contains("is not a safety-rules file"), "{logs}");
}
