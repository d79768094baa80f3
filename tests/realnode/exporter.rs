//! The real exporter binary, as a user runs it: default settings plus only what finds the node (its RPC URL and,
//! for the host and guard checks, its working directory). Logs go to a file the test can quote as evidence; Drop
//! sends SIGTERM (then SIGKILL) even when an assertion fails.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_conflux-pos-exporter");

/// One watched node: its name, RPC URL and working directory.
pub struct Watched {
    pub name: String,
    pub rpc_url: String,
    pub work_dir: PathBuf,
}

pub struct Exporter {
    child: Child,
    pub port: u16,
    pub log: PathBuf,
    pub started: Instant,
    _dir: tempfile::TempDir,
}

/// The TOML a user writes for these nodes; `extra` adds top-level sections (e.g. the look-back rule).
pub fn config_text(port: u16, nodes: &[Watched], extra: &str) -> String {
    let mut t = format!("[web]\nlisten_address = \"127.0.0.1:{port}\"\n{extra}\n");
    for n in nodes {
        let w = n.work_dir.display();
        // The devnet keeps pos_key under blockchain_data/net_config (conflux-rust's default layout).
        t.push_str(&format!(
            "[[node]]\nname = \"{}\"\nrpc_url = \"{}\"\nwork_dir = \"{w}\"\npos_config_dir = \"{w}/blockchain_data/net_config\"\n",
            n.name, n.rpc_url
        ));
    }
    t
}

/// `--config.check` on the TOML the suite would start with: the exporter's own verdict (e.g. a key this build
/// does not know yet), so a scenario fails at once with the exporter's message instead of timing out.
pub fn config_check(nodes: &[Watched], extra: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("exporter.toml");
    std::fs::write(&cfg, config_text(0, nodes, extra)).unwrap();
    let out = Command::new(BIN)
        .arg("--config.file")
        .arg(&cfg)
        .arg("--config.check")
        .output()
        .expect("exporter runs");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// The port the exporter got for `listen_address = "127.0.0.1:0"`, read back from the kernel.
fn bound_port(pid: u32, log: &std::path::Path) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let [port] = super::ports::listening_ports(pid)
            .into_iter()
            .collect::<Vec<_>>()[..]
        {
            return port;
        }
        assert!(
            Instant::now() < deadline,
            "the exporter does not listen; log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Exporter {
    pub fn start(nodes: &[Watched], extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("exporter.toml");
        std::fs::write(&cfg, config_text(0, nodes, extra)).unwrap();
        let log = dir.path().join("exporter.log");
        let child = Command::new(BIN)
            .arg("--config.file")
            .arg(&cfg)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.path().join("stdout.log")).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("exporter starts");
        let port = bound_port(child.id(), &log);
        Self {
            child,
            port,
            log,
            started: Instant::now(),
            _dir: dir,
        }
    }

    /// The exporter's log so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Log lines containing `needle` (at most `max`), for evidence in reports and failures.
    pub fn log_lines(&self, needle: &str, max: usize) -> Vec<String> {
        self.logs()
            .lines()
            .filter(|l| l.contains(needle))
            .take(max)
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
