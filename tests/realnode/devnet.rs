//! A real conflux-rust devnet for one test: started in a fresh temporary directory through the shared `devnet`
//! script (as an operator would), stopped by its Drop even when an assertion fails, so no node outlives a test.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::rpc::Rpc;

/// The suite's own port bases, apart from every other devnet on the machine.
pub const RPC_PORT_BASE: u16 = 18200;
pub const P2P_PORT_BASE: u16 = 18100;

/// Why the suite does not run here, or `None` when it does: it is opt-in (`CONFLUX_REALNODE=1`) and needs the
/// shared devnet next to the repository, so CI without a devnet stays green and fast.
pub fn skip_reason() -> Option<String> {
    if std::env::var("CONFLUX_REALNODE").ok().as_deref() != Some("1") {
        return Some("CONFLUX_REALNODE is not 1 (run scripts/test-realnode)".into());
    }
    match shared_dir() {
        Some(_) => None,
        None => Some(
            "no shared/realnode/devnet beside the repository (set CONFLUX_REALNODE_DIR)".into(),
        ),
    }
}

/// `CONFLUX_REALNODE_DIR`, else the first `shared/realnode` beside the repository or one of its parents (a git
/// worktree sits one level deeper than the main checkout).
pub fn shared_dir() -> Option<PathBuf> {
    if let Ok(d) = std::env::var("CONFLUX_REALNODE_DIR") {
        let d = PathBuf::from(d);
        return d.join("devnet").is_file().then_some(d);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .skip(1)
        .map(|p| p.join("shared/realnode"))
        .find(|d| d.join("devnet").is_file())
}

/// A running devnet; stops its nodes and block generator when dropped.
pub struct Devnet {
    pub dir: tempfile::TempDir,
    script: PathBuf,
    cip99_view: Option<u64>,
}

impl Devnet {
    /// `devnet up` in a fresh directory; `cip99_view` sets `POS_CIP99_TRANSITION_VIEW` (None: the node default,
    /// the 1-epoch look-back).
    pub fn up(cip99_view: Option<u64>) -> Self {
        let net = Self {
            dir: tempfile::Builder::new()
                .prefix("realnode-")
                .tempdir()
                .unwrap(),
            script: shared_dir().expect("shared devnet").join("devnet"),
            cip99_view,
        };
        let t = Instant::now();
        net.run("up");
        eprintln!(
            "devnet up in {:.1}s at {}",
            t.elapsed().as_secs_f64(),
            net.dir.path().display()
        );
        net
    }

    fn run(&self, cmd: &str) {
        let mut c = Command::new(&self.script);
        c.arg(cmd)
            .env("DEVNET_DIR", self.dir.path())
            .env("RPC_PORT_BASE", RPC_PORT_BASE.to_string())
            .env("P2P_PORT_BASE", P2P_PORT_BASE.to_string())
            .stdin(Stdio::null());
        if let Some(v) = self.cip99_view {
            c.env("POS_CIP99_TRANSITION_VIEW", v.to_string());
        }
        let out = c.output().expect("devnet script runs");
        assert!(
            out.status.success(),
            "devnet {cmd} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Adds node4: a standby holding node0's PoS key, started with `pos_started_as_voter=false`.
    pub fn standby(&self) {
        self.run("standby");
    }

    pub fn rpc(&self, i: u16) -> Rpc {
        Rpc::new(RPC_PORT_BASE + i)
    }

    pub fn rpc_url(&self, i: u16) -> String {
        format!("http://127.0.0.1:{}", RPC_PORT_BASE + i)
    }

    pub fn node_dir(&self, i: u16) -> PathBuf {
        self.dir.path().join(format!("node{i}"))
    }

    pub fn storage(&self, i: u16) -> PathBuf {
        self.node_dir(i).join("pos_db/secure_storage.json")
    }

    pub fn save(&self, i: u16) -> PathBuf {
        self.node_dir(i).join("pos_db/secure_storage.json.save")
    }

    /// Stops node `i` (SIGTERM, waiting for it to exit) and starts it again from its own configuration — the
    /// operator restarting a node with its defaults. The node belongs to the devnet (its pid file), not to the
    /// test: `devnet stop` ends it, so it is not waited on here.
    #[allow(clippy::zombie_processes)]
    pub fn restart(&self, i: u16) {
        let pid_file = self.node_dir(i).join("conflux.pid");
        let pid = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Path::new(&format!("/proc/{pid}")).exists() {
            assert!(Instant::now() < deadline, "node{i} did not stop");
            std::thread::sleep(Duration::from_millis(200));
        }
        let bin = std::env::var("CONFLUX_BIN").unwrap_or_else(|_| {
            let cache = std::env::var("REALNODE_CACHE").unwrap_or("/tmp/conflux-realnode".into());
            format!("{cache}/conflux")
        });
        let dir = self.node_dir(i);
        let log = |n: &str| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join(n))
                .unwrap()
        };
        use std::os::unix::process::CommandExt;
        let child = Command::new("nice")
            .args(["-n", "10", &bin, "--config"])
            .arg(dir.join("conflux.conf"))
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(log("stdout.log"))
            .stderr(log("stderr.log"))
            .process_group(0)
            .spawn()
            .expect("node starts");
        std::fs::write(&pid_file, child.id().to_string()).unwrap();
    }

    /// The devnet's recorded node id of node `i` (for `test_addNode` after a restart).
    pub fn node_id(&self, i: u16) -> String {
        let ids: serde_json::Value =
            serde_json::from_slice(&std::fs::read(self.dir.path().join("node_ids.json")).unwrap())
                .unwrap();
        ids[format!("node{i}")].as_str().unwrap().to_string()
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        let _ = Command::new(&self.script)
            .arg("stop")
            .env("DEVNET_DIR", self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status();
    }
}
