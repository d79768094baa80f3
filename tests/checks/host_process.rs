//! The node-process probes against real processes: a uniquely named copy of
//! `sleep` started under `prlimit`, listeners on loopback ports, and the same
//! probes run as an unprivileged user to check the readable flag and hint.

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use conflux_test_support as support;
use tokio::net::TcpSocket;

use support::process::{Guarded, StandIn};

use conflux_pos_exporter::host::facts::{read_process_facts, Restricted};
use conflux_pos_exporter::host::limits::LimitValue;
use conflux_pos_exporter::host::process::{
    find_node_process, find_node_process_async, FindError, FoundBy, ProcessQuery,
};

/// Stops a child now (its guard would at the end of the test anyway).
fn stop(child: Guarded) {
    drop(child);
}

fn by_pid_file(node: &StandIn) -> ProcessQuery {
    ProcessQuery {
        pid_file: Some(node.pid_file()),
        ..Default::default()
    }
}

fn by_name(node: &StandIn) -> ProcessQuery {
    ProcessQuery {
        process_name: Some(node.name.clone()),
        ..Default::default()
    }
}

#[test]
fn finds_and_reads_a_restarting_node() {
    let node = StandIn::create();
    let child = node.start();
    let pid = child.pid() as i32;
    std::fs::write(node.pid_file(), format!("{pid}\n")).expect("write pid file");

    let found = find_node_process(&by_pid_file(&node)).expect("by pid file");
    assert_eq!((found.pid, found.found_by), (pid, FoundBy::PidFile));
    let found = find_node_process(&by_name(&node)).expect("by name");
    assert_eq!((found.pid, found.found_by), (pid, FoundBy::ProcessName));

    let facts = read_process_facts(pid).expect("facts");
    assert_eq!(facts.max_open_files.soft, LimitValue::Limited(1024));
    assert_eq!(facts.max_open_files.hard, LimitValue::Limited(4096));
    let listed = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("fd dir")
        .count() as u64;
    assert_eq!(facts.open_fds, Some(listed));
    assert!(listed >= 3, "stdin, stdout, stderr");
    assert!(facts.resident_memory_bytes > 0);
    assert_eq!(facts.cwd.as_deref(), Some(node.dir.path()));
    assert!(facts.readable());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64();
    assert!((now - 10.0..=now + 1.0).contains(&facts.start_time_seconds));

    stop(child);
    let err = find_node_process(&by_pid_file(&node)).expect_err("stale pid file");
    assert_eq!(err.kind(), "stale_pid_file", "{err}");
    let err = find_node_process(&by_name(&node)).expect_err("no such name");
    assert_eq!(err.kind(), "not_found", "{err}");

    std::thread::sleep(Duration::from_millis(30));
    let child = node.start();
    let new_pid = child.pid() as i32;
    std::fs::write(node.pid_file(), format!("{new_pid}\n")).expect("rewrite pid file");
    assert_ne!(new_pid, pid);
    let found = find_node_process(&ProcessQuery {
        pid_file: Some(node.pid_file()),
        process_name: Some(node.name.clone()),
        ..Default::default()
    })
    .expect("after restart");
    assert_eq!((found.pid, found.found_by), (new_pid, FoundBy::PidFile));
    let again = read_process_facts(new_pid).expect("facts after restart");
    assert!(again.start_time_seconds > facts.start_time_seconds);
    stop(child);
}

#[test]
fn two_processes_with_one_name_are_ambiguous_and_fall_back_to_the_pid_file() {
    let node = StandIn::create();
    let (a, b) = (node.start(), node.start());
    let err = find_node_process(&by_name(&node)).expect_err("ambiguous");
    assert_eq!(err.kind(), "ambiguous", "{err}");
    std::fs::write(node.pid_file(), b.pid().to_string()).expect("pid file");
    let query = ProcessQuery {
        process_name: Some(node.name.clone()),
        ..by_pid_file(&node)
    };
    assert_eq!(
        find_node_process(&query).map(|f| f.pid).ok(),
        Some(b.pid() as i32)
    );
    std::fs::write(node.pid_file(), "not a pid").expect("pid file");
    match find_node_process(&query) {
        Err(FindError::NotFound { attempts }) => {
            let kinds: Vec<_> = attempts.iter().map(|(m, e)| (*m, e.kind())).collect();
            assert_eq!(
                kinds,
                [
                    (FoundBy::PidFile, "invalid_pid_file"),
                    (FoundBy::ProcessName, "ambiguous")
                ]
            );
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    stop(a);
    stop(b);
}

/// A listener on one loopback family whose port number is ours on the other family too: that address is bound
/// but not listening (the finder skips it), so no other process of a busy machine can listen on the same number
/// there and make the port ambiguous — on a host, one node owns its RPC port. Without IPv6 there is nothing to
/// reserve.
fn exclusive_listener(v6: bool) -> Option<(TcpListener, Option<TcpSocket>)> {
    for _ in 0..100 {
        let listener = TcpListener::bind(if v6 { "[::1]:0" } else { "127.0.0.1:0" }).ok()?;
        let port = listener.local_addr().expect("addr").port();
        match reserve(!v6, port) {
            Ok(guard) => return Some((listener, Some(guard))),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => continue,
            Err(_) => return Some((listener, None)),
        }
    }
    panic!("no loopback port free on both families in 100 tries");
}

/// Binds loopback `port` of one family without listening.
fn reserve(v6: bool, port: u16) -> std::io::Result<TcpSocket> {
    let (socket, ip): (_, IpAddr) = if v6 {
        (TcpSocket::new_v6()?, Ipv6Addr::LOCALHOST.into())
    } else {
        (TcpSocket::new_v4()?, Ipv4Addr::LOCALHOST.into())
    };
    socket.bind(SocketAddr::new(ip, port))?;
    Ok(socket)
}

#[tokio::test]
async fn finds_the_test_process_by_its_loopback_listener() {
    let (v4, _v6_side) = exclusive_listener(false).expect("IPv4 loopback");
    let me = std::process::id() as i32;
    for last_pid in [None, Some(me), Some(1)] {
        let query = ProcessQuery {
            local_rpc_port: Some(v4.local_addr().expect("addr").port()),
            last_pid,
            ..Default::default()
        };
        let found = find_node_process_async(query).await.expect("by port");
        assert_eq!((found.pid, found.found_by), (me, FoundBy::ListeningPort));
    }
    match exclusive_listener(true) {
        Some((v6, _v4_side)) => {
            let query = ProcessQuery {
                local_rpc_port: Some(v6.local_addr().expect("addr").port()),
                ..Default::default()
            };
            assert_eq!(find_node_process(&query).map(|f| f.pid).ok(), Some(me));
        }
        None => eprintln!("no IPv6 loopback here; IPv6 parsing is covered by unit tests"),
    }
    // A port bound on both families but listening on neither: nobody can listen there meanwhile.
    let (port, _closed) = (0..100)
        .find_map(|_| {
            let v4 = reserve(false, 0).expect("bind");
            let port = v4.local_addr().expect("addr").port();
            match reserve(true, port) {
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => None,
                v6 => Some((port, (v4, v6.ok()))),
            }
        })
        .expect("a loopback port free on both families");
    let err = find_node_process(&ProcessQuery {
        local_rpc_port: Some(port),
        ..Default::default()
    })
    .expect_err("nothing listens");
    assert_eq!(err.kind(), "not_found");
    assert!(err.to_string().contains("nothing listens"), "{err}");
}

/// Listens on 127.0.0.1, reserves the same port on [::1] (bound, not listening) when IPv6 exists, prints the port.
const LISTENER_PY: &str = r#"
import errno, socket, time
while True:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    try:
        reserved = socket.socket(socket.AF_INET6)
        reserved.bind(("::1", port))
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            s.close()
            continue
    break
s.listen()
print(port, flush=True)
time.sleep(30)
"#;

/// A child listening on 127.0.0.1 (python3), and its port; it also binds [::1] on that port without listening,
/// so no other process can listen on the same number there meanwhile (see [`exclusive_listener`]).
fn spawn_listener() -> (Guarded, u16) {
    let mut child = Guarded::spawn(
        Command::new("python3")
            .args(["-c", LISTENER_PY])
            .stdin(Stdio::null())
            .stdout(Stdio::piped()),
        "python3",
    );
    let mut line = String::new();
    let stdout = child.child().stdout.take().expect("stdout");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("port line");
    let port = line.trim().parse().expect("port number");
    (child, port)
}

#[test]
fn finds_a_child_by_its_listening_port() {
    let (child, port) = spawn_listener();
    let found = find_node_process(&ProcessQuery {
        local_rpc_port: Some(port),
        ..Default::default()
    })
    .expect("by port");
    assert_eq!(
        (found.pid, found.found_by),
        (child.pid() as i32, FoundBy::ListeningPort)
    );
    stop(child);
}

const CHILD_ENV: &str = "CFX_HOST_TEST_TARGET";

/// Runs the probes as uid/gid 65534 with the given extra capabilities (the
/// test binary re-executed through `setpriv`) and returns what it saw.
fn probe_as_nobody(pid: u32, port: u16, caps: &str) -> serde_json::Value {
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
    if !caps.is_empty() {
        cmd.arg(format!("--inh-caps={caps}"));
        cmd.arg(format!("--ambient-caps={caps}"));
    }
    let out = cmd
        .arg(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            // The test's name within this binary (its module, then the function).
            "host_process::other_users_process_is_partly_readable",
            "--nocapture",
        ])
        .env(CHILD_ENV, format!("{pid}:{port}"))
        .output()
        .expect("run setpriv");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("PROBE "))
        .unwrap_or_else(|| {
            panic!(
                "no probe output: {stdout} {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    serde_json::from_str(line).expect("probe json")
}

fn probe_here(target: &str) {
    let (pid, port) = target.split_once(':').expect("pid:port");
    let facts = read_process_facts(pid.parse().expect("pid")).expect("facts");
    let lookup = find_node_process(&ProcessQuery {
        local_rpc_port: Some(port.parse().expect("port")),
        ..Default::default()
    });
    let restricted: Vec<&str> = facts
        .restricted
        .iter()
        .map(|r| match r {
            Restricted::FdList => "fd_list",
            Restricted::Cwd => "cwd",
        })
        .collect();
    let json = serde_json::json!({
        "readable": facts.readable(),
        "restricted": restricted,
        "open_fds": facts.open_fds,
        "has_cwd": facts.cwd.is_some(),
        "soft": facts.max_open_files.soft.as_f64(),
        "hint": facts.hint(),
        "lookup": lookup.map(|f| f.pid.to_string()).unwrap_or_else(|e| e.kind().to_string()),
    });
    println!("PROBE {json}");
}

#[test]
fn other_users_process_is_partly_readable() {
    if let Ok(target) = std::env::var(CHILD_ENV) {
        return probe_here(&target);
    }
    let root = std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false);
    if !root || Command::new("setpriv").arg("--version").output().is_err() {
        eprintln!("skipped: needs root and setpriv to act as another user");
        return;
    }
    let (child, port) = spawn_listener();
    let fds = std::fs::read_dir(format!("/proc/{}/fd", child.pid()))
        .expect("fds")
        .count();

    let plain = probe_as_nobody(child.pid(), port, "");
    assert_eq!(plain["readable"], false);
    assert_eq!(plain["restricted"], serde_json::json!(["fd_list", "cwd"]));
    assert_eq!(plain["has_cwd"], false);
    assert_eq!(
        plain["open_fds"], fds,
        "st_size of /proc/PID/fd counts fds (Linux >= 6.2)"
    );
    assert!(
        plain["soft"].as_f64().is_some_and(|s| s > 0.0),
        "limits are world-readable"
    );
    assert_eq!(plain["lookup"], "permission_denied");
    let hint = plain["hint"].as_str().unwrap_or_default();
    assert!(
        hint.contains("CAP_DAC_READ_SEARCH") && hint.contains("CAP_SYS_PTRACE"),
        "{hint}"
    );

    let dac = probe_as_nobody(child.pid(), port, "+dac_read_search");
    assert_eq!(dac["restricted"], serde_json::json!(["cwd"]));
    assert_eq!(dac["open_fds"], fds);
    assert_eq!(
        dac["lookup"], "permission_denied",
        "fd links also need CAP_SYS_PTRACE"
    );

    let ptrace = probe_as_nobody(child.pid(), port, "+sys_ptrace");
    assert_eq!(ptrace["restricted"], serde_json::json!(["fd_list"]));
    assert_eq!(ptrace["has_cwd"], true);

    let both = probe_as_nobody(child.pid(), port, "+dac_read_search,+sys_ptrace");
    assert_eq!(both["readable"], true);
    assert_eq!(both["lookup"], child.pid().to_string());
    stop(child);
}
