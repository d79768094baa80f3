//! A fake node host for the exporter's host and key-file probes: a working directory laid out like a Conflux
//! node's `run/` (`blockchain_data/`, `pos_db/secure_storage.json`, `pos_config/pos_key` with mode 0600) and a
//! pid file naming a child `sleep` process that stands in for the node.
//!
//! The directory lives on `/dev/shm` when it exists: a tmpfs where only small test files come and go, so a test
//! that grows a file there ([`FakeHost::start_filling`]) sees the available bytes shrink, which the "time until
//! disk full" rule needs (on the shared root filesystem Prometheus' and cargo's writes and deletes would blur the
//! trend).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::AsyncWriteExt;
use tokio::task::JoinHandle;

use super::process::Guarded;

/// The fake host of one node; the child process is killed when dropped.
pub struct FakeHost {
    _dir: tempfile::TempDir,
    /// The node's working directory.
    pub work_dir: PathBuf,
    /// The pid file naming [`FakeHost::pid`].
    pub pid_file: PathBuf,
    child: Guarded,
}

impl FakeHost {
    /// Signs as the node does: rewrites `pos_db/secure_storage.json` (by rename) with a higher round.
    pub fn sign(&self, pos_address: &str, round: u64) {
        let dir = self.work_dir.join("pos_db");
        let tmp = dir.join("secure_storage.json.tmp");
        std::fs::write(&tmp, secure_storage_round(pos_address, unix_now(), round))
            .expect("write safety data");
        std::fs::rename(&tmp, dir.join("secure_storage.json")).expect("rename safety data");
    }

    /// Lays out the working directory for a node whose PoS address is `pos_address` and starts the child.
    pub fn create(pos_address: &str) -> Self {
        let shm = Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            tempfile::tempdir_in(shm)
        } else {
            tempfile::tempdir()
        }
        .expect("fake host dir");
        let work_dir = dir.path().join("run");
        for sub in ["blockchain_data", "pos_db", "pos_config"] {
            std::fs::create_dir_all(work_dir.join(sub)).expect("create node dirs");
        }
        let key = work_dir.join("pos_config/pos_key");
        std::fs::write(&key, "0123456789abcdef\n").expect("write pos_key");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
            .expect("chmod pos_key");
        std::fs::write(
            work_dir.join("pos_db/secure_storage.json"),
            secure_storage(pos_address, unix_now()),
        )
        .expect("write secure_storage.json");
        let child = Guarded::spawn(
            Command::new("sleep")
                .arg("600")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            "the stand-in node process (sleep)",
        );
        let pid_file = dir.path().join("conflux.pid");
        std::fs::write(&pid_file, format!("{}\n", child.pid())).expect("write pid file");
        Self {
            _dir: dir,
            work_dir,
            pid_file,
            child,
        }
    }

    /// The stand-in node process.
    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// The `[[node]]` keys pointing the exporter at this host (TOML lines).
    pub fn node_keys(&self) -> String {
        let w = &self.work_dir;
        format!(
            "work_dir = {:?}\ndata_dir = {:?}\npos_dir = {:?}\npos_config_dir = {:?}\npid_file = {:?}\n",
            w.display().to_string(),
            w.join("blockchain_data").display().to_string(),
            w.join("pos_db").display().to_string(),
            w.join("pos_config").display().to_string(),
            self.pid_file.display().to_string(),
        )
    }

    /// Appends 64 KiB to a file in `blockchain_data/` every 100 ms (for about 75 s, up to [`FILL_CAP`]) until the
    /// returned guard is dropped, so the filesystem's available bytes shrink like a syncing node's. The cap keeps
    /// a small `/dev/shm` (64 MiB in a default container) from filling up under the other tests' files.
    pub fn start_filling(&self) -> Filler {
        let path = self.work_dir.join("blockchain_data/growing.sst");
        Filler(tokio::spawn(async move {
            let Ok(mut f) = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .await
            else {
                return;
            };
            let chunk = vec![0x5au8; 64 * 1024];
            for _ in 0..FILL_CAP / chunk.len() {
                if f.write_all(&chunk).await.and(f.flush().await).is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }))
    }
}

/// The most a [`FakeHost::start_filling`] writes.
pub const FILL_CAP: usize = 48 << 20;

/// Stops the disk filler when dropped.
pub struct Filler(JoinHandle<()>);

impl Drop for Filler {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Now, in Unix seconds (the clock the node stamps its safety data with).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A safety-rules store as a voting node writes it: the owner's PoS address and the last vote's safety data.
pub fn secure_storage(pos_address: &str, last_update: u64) -> String {
    secure_storage_round(pos_address, last_update, 7)
}

/// The same store after a signature at `round` (what a signing node rewrites on every vote).
pub fn secure_storage_round(pos_address: &str, last_update: u64, round: u64) -> String {
    serde_json::json!({
        "owner_account": {"data": "GetResponse", "last_update": last_update, "value": pos_address},
        "safety_data": {"data": "GetResponse", "last_update": last_update, "value": {
            "epoch": 1, "last_voted_round": round, "preferred_round": round.saturating_sub(1), "last_vote": null
        }},
        "consensus_key": {"data": "GetResponse", "last_update": last_update, "value": "redacted"}
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fake_store_parses_like_a_node_store() {
        let id = format!("0x{}", "cd".repeat(32));
        let s = conflux_pos_exporter::host::keyfiles::parse_secure_storage(
            secure_storage(&id, 1_700_000_000).as_bytes(),
        )
        .unwrap();
        assert_eq!(
            s.owner_account.as_ref().map(|a| a.as_str()),
            Some(id.as_str())
        );
        assert_eq!(s.safety_data_updated, Some(1_700_000_000));
        assert_eq!(s.last_voted_round, Some(7));
    }

    #[tokio::test]
    async fn the_layout_is_a_node_run_dir() {
        let h = FakeHost::create(&format!("0x{}", "cd".repeat(32)));
        let mode = std::fs::metadata(h.work_dir.join("pos_config/pos_key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(h.work_dir.join("blockchain_data").is_dir());
        let pid: u32 = std::fs::read_to_string(&h.pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(pid, h.pid());
        assert!(Path::new(&format!("/proc/{pid}")).exists());
        let f = h.start_filling();
        let grown = h.work_dir.join("blockchain_data/growing.sst");
        for _ in 0..50 {
            if grown.metadata().map(|m| m.len()).unwrap_or(0) >= 512 * 1024 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            grown.metadata().unwrap().len() >= 512 * 1024,
            "the file grows"
        );
        drop(f);
    }
}
