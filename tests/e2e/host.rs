//! Host checks end to end: the exporter watches a real child process (a copy of `sleep` under `prlimit`, limits set
//! here) through a pid file, follows it across a restart and notices when it is gone; statvfs of the node's
//! directories, a missing data dir reported as an error; the PoS key file's presence and permissions; and the
//! RPC-port lookup when nothing is configured.

use conflux_test_support as support;

use support::exporter::*;
use support::exposition::*;
use support::process::{Guarded, StandIn};
use support::scrape::*;
use support::world::*;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use conflux_pos_exporter::config::{self, Cli};
use conflux_pos_exporter::host::facts::read_process_facts;
use conflux_sim::{EndpointSpec, SimConfig, SimHandle};

const T: Duration = Duration::from_secs(8);

fn config_with(url: &str, extra: &str) -> config::Config {
    let text = format!(
        "[web]\nlisten_address = \"127.0.0.1:0\"\n[poll]\nnode_interval = \"50ms\"\nrpc_timeout = \"300ms\"\nauto_reference = false\n[[node]]\nname = \"n\"\nrpc_url = \"{url}\"\n{extra}\n"
    );
    config::resolve(&Cli::default(), config::file::parse(&text).expect("parses")).expect("valid")
}

async fn node_sim() -> SimHandle {
    sim(SimConfig {
        endpoints: vec![EndpointSpec::node("node", None)],
        ..Default::default()
    })
    .await
}

fn g(s: &Scrape, name: &str) -> Option<f64> {
    s.get(name, &[("node", "n")])
}

fn at(s: &Scrape, name: &str, path: &Path) -> Option<f64> {
    s.get(name, &[("node", "n"), ("path", &path.to_string_lossy())])
}

fn write_pid(file: &Path, p: &Guarded) {
    std::fs::write(file, format!("{}\n", p.pid())).expect("pid file");
}

#[tokio::test]
async fn process_by_pid_file_across_restart_and_exit_plus_disks() {
    let sim = node_sim().await;
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir(work.path().join("pos_db")).unwrap();
    let pid_file = work.path().join("conflux.pid");
    let missing: PathBuf = work.path().join("no-such-data-dir");
    // The stand-in node: a uniquely named `sleep` with RLIMIT_NOFILE 1024:4096, restarted below.
    let node = StandIn::create();
    let first = node.start();
    write_pid(&pid_file, &first);
    let app = exporter(config_with(
        &sim.url("node").unwrap(),
        &format!(
            "pid_file = \"{}\"\nwork_dir = \"{}\"\ndata_dir = \"{}\"",
            pid_file.display(),
            work.path().display(),
            missing.display()
        ),
    ))
    .await;
    let addr = app.local_addr();
    let s = wait_for(addr, T, "process read", |s| {
        g(s, "conflux_node_process_up") == Some(1.0)
            && at(s, "conflux_disk_available_bytes", work.path()).is_some()
    })
    .await;
    let soft = s.get(
        "conflux_node_process_max_fds",
        &[("node", "n"), ("limit", "soft")],
    );
    let hard = s.get(
        "conflux_node_process_max_fds",
        &[("node", "n"), ("limit", "hard")],
    );
    assert_eq!((soft, hard), (Some(1024.0), Some(4096.0)), "{}", s.text);
    let fds = g(&s, "conflux_node_process_open_fds").unwrap();
    assert!((3.0..1024.0).contains(&fds), "sleep holds stdio: {fds}");
    assert!(g(&s, "conflux_node_process_resident_memory_bytes").unwrap() > 0.0);
    assert_eq!(g(&s, "conflux_node_process_readable"), Some(1.0));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let started = g(&s, "conflux_node_process_start_time_seconds").unwrap();
    assert!(
        (now - 30.0..=now + 1.0).contains(&started),
        "{started} vs {now}"
    );
    assert!(s.series("conflux_node_process_probe_error").is_empty());

    // Disks: the working dir and pos_db (same filesystem, one series each); the missing data dir is an error.
    let pos_db = work.path().join("pos_db");
    for p in [work.path(), pos_db.as_path()] {
        let avail = at(&s, "conflux_disk_available_bytes", p).unwrap();
        let size = at(&s, "conflux_disk_size_bytes", p).unwrap();
        let free = at(&s, "conflux_disk_free_bytes", p).unwrap();
        assert!(size > 0.0 && free >= avail && size >= free, "{p:?}");
    }
    assert_eq!(
        s.get(
            "conflux_disk_probe_error",
            &[
                ("node", "n"),
                ("path", &missing.to_string_lossy()),
                ("kind", "not_found")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(at(&s, "conflux_disk_available_bytes", &missing), None);

    // Restart: a new process, a new pid in the file, a later start time.
    drop(first);
    std::thread::sleep(Duration::from_millis(30));
    let second = node.start();
    write_pid(&pid_file, &second);
    let s = wait_for(addr, T, "restart seen", |s| {
        g(s, "conflux_node_process_start_time_seconds").is_some_and(|t| t > started)
    })
    .await;
    assert_eq!(g(&s, "conflux_node_process_up"), Some(1.0));

    // Gone: the pid file now names a dead process; nothing stale is left.
    drop(second);
    // A poll that found the process just before it died says `gone`; the next ones read the stale pid file.
    let s = wait_for(addr, T, "process gone", |s| {
        g(s, "conflux_node_process_up") == Some(0.0)
            && s.get(
                "conflux_node_process_probe_error",
                &[("node", "n"), ("kind", "stale_pid_file")],
            ) == Some(1.0)
    })
    .await;
    for name in [
        "conflux_node_process_open_fds",
        "conflux_node_process_start_time_seconds",
        "conflux_node_process_resident_memory_bytes",
        "conflux_node_process_readable",
    ] {
        assert_eq!(g(&s, name), None, "{name} must not outlive the process");
    }
    assert!(s.series("conflux_node_process_max_fds").is_empty());
    assert_eq!(
        s.get(
            "conflux_node_process_probe_error",
            &[("node", "n"), ("kind", "stale_pid_file")]
        ),
        Some(1.0)
    );
    assert!(
        at(&s, "conflux_disk_available_bytes", work.path()).is_some(),
        "configured work_dir is still watched"
    );
    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn key_file_presence_and_permissions() {
    let sim = node_sim().await;
    let work = tempfile::tempdir().unwrap();
    let (cfg_dir, db_dir) = (work.path().join("pos_config"), work.path().join("pos_db"));
    std::fs::create_dir(&cfg_dir).unwrap();
    std::fs::create_dir(&db_dir).unwrap();
    let key = cfg_dir.join("pos_key");
    std::fs::write(&key, b"encrypted").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(db_dir.join("secure_storage.json"), b"{not json").unwrap();
    let name = format!("cfx-absent-{}", fastrand::u32(..));
    let app = exporter(config_with(
        &sim.url("node").unwrap(),
        &format!(
            "work_dir = \"{}\"\nprocess_name = \"{name}\"",
            work.path().display()
        ),
    ))
    .await;
    let addr = app.local_addr();
    let s = wait_for(addr, T, "key checked", |s| {
        g(s, "conflux_pos_key_permissions_ok").is_some()
    })
    .await;
    assert_eq!(g(&s, "conflux_pos_key_present"), Some(1.0));
    assert_eq!(g(&s, "conflux_pos_key_permissions_ok"), Some(1.0));
    let present = |s: &Scrape, f: &str| {
        s.get(
            "conflux_pos_secure_storage_present",
            &[("node", "n"), ("file", f)],
        )
    };
    assert_eq!(
        present(&s, "secure_storage.json"),
        Some(1.0),
        "malformed but present"
    );
    assert_eq!(present(&s, "secure_storage.json.save"), Some(0.0));
    assert_eq!(
        s.get(
            "conflux_pos_key_file_probe_error",
            &[
                ("node", "n"),
                ("file", "secure_storage.json"),
                ("kind", "malformed")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        g(&s, "conflux_pos_safety_data_updated_timestamp_seconds"),
        None
    );
    // A configured name that matches nothing: down, and said why.
    assert_eq!(g(&s, "conflux_node_process_up"), Some(0.0));
    assert_eq!(
        s.get(
            "conflux_node_process_probe_error",
            &[("node", "n"), ("kind", "not_found")]
        ),
        Some(1.0)
    );

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    wait_for(addr, T, "world-readable key", |s| {
        g(s, "conflux_pos_key_permissions_ok") == Some(0.0)
    })
    .await;
    std::fs::write(
        db_dir.join("secure_storage.json"),
        br#"{"safety_data":{"data":"GetResponse","last_update":1716203600,"value":{"epoch":3,"last_voted_round":9}}}"#,
    )
    .unwrap();
    std::fs::remove_file(&key).unwrap();
    let s = wait_for(addr, T, "key removed", |s| {
        g(s, "conflux_pos_key_present") == Some(0.0)
            && g(s, "conflux_pos_safety_data_updated_timestamp_seconds").is_some()
    })
    .await;
    assert_eq!(g(&s, "conflux_pos_key_permissions_ok"), None);
    assert_eq!(
        g(&s, "conflux_pos_safety_data_updated_timestamp_seconds"),
        Some(1716203600.0)
    );
    assert!(s.series("conflux_pos_key_file_probe_error").is_empty());
    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn local_rpc_port_finds_the_listener_when_nothing_is_configured() {
    // The simulator listens inside this test process, so the port's owner is this very process.
    let sim = node_sim().await;
    let app = exporter(config_with(&sim.url("node").unwrap(), "")).await;
    let s = wait_for(app.local_addr(), T, "listener found", |s| {
        g(s, "conflux_node_process_up") == Some(1.0)
    })
    .await;
    let me = read_process_facts(std::process::id() as i32).expect("own facts");
    // Both readings add the process's start ticks to the boot time, which the kernel derives from the wall
    // clock at each read: equal unless the clock is stepped in between, so allow a second.
    let started = g(&s, "conflux_node_process_start_time_seconds").expect("start time");
    assert!(
        (started - me.start_time_seconds).abs() < 1.0,
        "{started} vs {}",
        me.start_time_seconds
    );
    let cwd = std::env::current_dir().unwrap();
    assert!(
        at(&s, "conflux_disk_available_bytes", &cwd).is_some(),
        "working dir from /proc/PID/cwd:\n{}",
        s.text
    );
    app.shutdown().await;
    sim.shutdown().await;
}
