//! Child processes of the tests (the exporter binary, Prometheus, Alertmanager, helper programs): every running
//! child is owned by a [`Guarded`] whose drop kills and reaps it, so a failing assert or a panic never leaks a
//! process.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running child process, killed and reaped when dropped.
pub struct Guarded {
    /// Always `Some` until [`Guarded::output`] hands the child over to be waited for.
    child: Option<Child>,
}

impl Guarded {
    /// Spawns `cmd`; panics naming `what` if it cannot start.
    pub fn spawn(cmd: &mut Command, what: &str) -> Self {
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{what} does not start: {e}"));
        Self { child: Some(child) }
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Waits (up to 10 s, else fails the test) until the child has exec'd the program named `comm` (a `sleep`)
    /// and settled into its sleep. The name changes at exec, but the program then still maps libraries and locale
    /// files (a transient fourth fd), and the kernel sums resident pages lazily (per-CPU counters since Linux
    /// 6.2: right after exec `/proc/PID/stat` says 0 pages). Tests that read the process's fds or memory wait here.
    pub fn wait_running(&self, comm: &str) {
        let pid = self.pid();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !(proc_comm(pid).is_some_and(|c| c == comm) && resident_pages(pid) > 0 && asleep(pid))
        {
            assert!(
                std::time::Instant::now() < deadline,
                "pid {pid} did not settle into {comm} within 10 s"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The child itself (to take its pipes or signal it); it stays owned by the guard.
    pub fn child(&mut self) -> &mut Child {
        self.child
            .as_mut()
            .expect("the child is owned until output()")
    }

    /// Sends SIGTERM (what systemd sends) and waits up to `timeout` for the child to exit, reading its output
    /// meanwhile (a chatty child cannot block on a full pipe). Fails the test if it does not exit in time, after
    /// killing and reaping it.
    pub fn terminate(mut self, timeout: Duration) -> std::process::Output {
        let pid = self.pid().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let child = self
            .child
            .take()
            .expect("the child is owned until output()");
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        match rx.recv_timeout(timeout) {
            Ok(out) => out.expect("wait for the child"),
            Err(_) => {
                let _ = Command::new("kill").args(["-KILL", &pid]).status();
                let _ = waiter.join(); // the waiter reaps it
                panic!("pid {pid} did not exit on SIGTERM within {timeout:?}");
            }
        }
    }

    /// Closes the child's stdin, waits for it to exit and collects its output (it is reaped either way).
    pub fn output(mut self) -> std::process::Output {
        let child = self
            .child
            .take()
            .expect("the child is owned until output()");
        child.wait_with_output().expect("wait for the child")
    }
}

fn proc_comm(pid: u32) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(text.trim_end().to_owned())
}

/// Blocked in a sleep: state `S` and, where the kernel names it, the wait channel is a nanosleep.
fn asleep(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    let wchan = std::fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
    state == Some("S") && (wchan.is_empty() || wchan == "0" || wchan.contains("nanosleep"))
}

fn resident_pages(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/statm"))
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

impl Drop for Guarded {
    fn drop(&mut self) {
        // Already exited is fine: kill fails, wait reaps.
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A stand-in node: a copy of `sleep` with a unique name, so that name
/// lookups cannot collide with other processes on a shared machine.
pub struct StandIn {
    /// Holds the copy; the process's working directory.
    pub dir: tempfile::TempDir,
    /// The copy's file name, its `comm` (under 15 characters).
    pub name: String,
}

impl StandIn {
    /// Copies `sleep` under a fresh unique name into a new temp dir.
    pub fn create() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let name = format!("cfxt{:07}", fastrand::u32(..10_000_000));
        let sleep = ["/usr/bin/sleep", "/bin/sleep"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("a sleep binary");
        std::fs::copy(sleep, dir.path().join(&name)).expect("copy sleep");
        StandIn { dir, name }
    }

    /// Starts it with RLIMIT_NOFILE 1024:4096, in the temp dir as cwd.
    pub fn start(&self) -> Guarded {
        let child = Guarded::spawn(
            Command::new("prlimit")
                .arg("--nofile=1024:4096")
                .arg(self.dir.path().join(&self.name))
                .arg("30")
                .current_dir(self.dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            "prlimit",
        );
        child.wait_running(&self.name);
        child
    }

    /// Where a test writes the pid file (nothing writes it by itself).
    pub fn pid_file(&self) -> PathBuf {
        self.dir.path().join("node.pid")
    }
}
