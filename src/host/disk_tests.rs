//! Tests of `host::disk`: real `statvfs` on temp dirs, and a simulated hung
//! mount for the timeout / stuck / recovery cycle.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Condvar;

#[tokio::test]
async fn real_statvfs_on_a_temp_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let prober = DiskProber::new(Duration::from_secs(5));
    let usage = prober.probe(dir.path()).await.expect("statvfs");
    assert!(usage.size_bytes > 0);
    assert!(usage.free_bytes <= usage.size_bytes);
    assert!(usage.available_bytes <= usage.free_bytes);
    let direct = rustix::fs::statvfs(dir.path()).expect("statvfs");
    assert_eq!(usage.size_bytes, direct.f_blocks * direct.f_frsize);
    assert!(prober.stuck_paths().is_empty());
}

#[tokio::test]
async fn missing_paths_are_not_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let prober = DiskProber::new(Duration::from_secs(5));
    let missing = dir.path().join("no/such/dir");
    let err = prober.probe(&missing).await.expect_err("missing");
    assert_eq!(err, DiskError::NotFound { path: missing });
    assert_eq!(err.kind(), "not_found");
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").expect("write");
    let under_file = prober
        .probe(&file.join("child"))
        .await
        .expect_err("ENOTDIR");
    assert_eq!(under_file.kind(), "not_found");
}

/// A fake `statvfs` that blocks on `/hung` until the gate opens.
struct Gate {
    open: Mutex<bool>,
    cv: Condvar,
    calls: AtomicUsize,
}

/// Opens the gate when dropped, also when an assert fails: the blocking thread parked on it must finish, or
/// dropping the runtime would wait for it forever (a hang instead of a failure).
struct OpenOnDrop(Arc<Gate>);

impl OpenOnDrop {
    fn open(&self) {
        *self.0.open.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.0.cv.notify_all();
    }
}

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.open();
    }
}

/// Long enough that a probe of a healthy path never times out on a loaded machine.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn gated_prober(gate: &Arc<Gate>) -> DiskProber {
    let gate = Arc::clone(gate);
    let usage = DiskUsage {
        available_bytes: 1,
        size_bytes: 3,
        free_bytes: 2,
    };
    DiskProber::with_stat_fn(
        PROBE_TIMEOUT,
        Arc::new(move |path: &Path| {
            if path == Path::new("/hung") {
                gate.calls.fetch_add(1, Ordering::SeqCst);
                let mut open = gate.open.lock().unwrap_or_else(|p| p.into_inner());
                while !*open {
                    open = gate.cv.wait(open).unwrap_or_else(|p| p.into_inner());
                }
            }
            Ok(usage)
        }),
    )
}

#[tokio::test]
async fn a_hung_mount_times_out_once_then_is_stuck_until_the_call_returns() {
    let gate = Arc::new(Gate {
        open: Mutex::new(false),
        cv: Condvar::new(),
        calls: AtomicUsize::new(0),
    });
    let opener = OpenOnDrop(Arc::clone(&gate));
    let prober = gated_prober(&gate);
    let hung = Path::new("/hung");

    let first = prober.probe(hung).await.expect_err("hangs");
    assert_eq!(first.kind(), "timeout");
    wait_until("the first call started", || {
        gate.calls.load(Ordering::SeqCst) == 1
    })
    .await;
    let started = Instant::now();
    let second = prober.probe(hung).await.expect_err("still hung");
    assert_eq!(second.kind(), "stuck");
    assert!(
        started.elapsed() < PROBE_TIMEOUT,
        "stuck answers without waiting for a timeout"
    );
    assert_eq!(
        gate.calls.load(Ordering::SeqCst),
        1,
        "no second blocking call"
    );
    let stuck = prober.stuck_paths();
    assert_eq!(stuck.len(), 1);
    assert_eq!(stuck[0].0, hung);

    // Other paths are unaffected, also through a clone of the prober.
    assert!(prober.clone().probe(Path::new("/fine")).await.is_ok());

    opener.open();
    wait_until("abandoned call never finished", || {
        prober.stuck_paths().is_empty()
    })
    .await;
    assert_eq!(prober.probe(hung).await.map(|u| u.size_bytes), Ok(3));
    assert_eq!(gate.calls.load(Ordering::SeqCst), 2);
}

#[test]
fn targets_default_under_the_working_dir() {
    let cwd = Path::new("/srv/conflux/run");
    let got = disk_targets(Some(cwd), None, None);
    let want = [
        ("working_dir", "/srv/conflux/run"),
        ("data_dir", "/srv/conflux/run/blockchain_data"),
        ("pos_dir", "/srv/conflux/run/pos_db"),
    ];
    let got: Vec<(&str, &Path)> = got.iter().map(|t| (t.label, t.path.as_path())).collect();
    let want: Vec<(&str, &Path)> = want.iter().map(|(l, p)| (*l, Path::new(p))).collect();
    assert_eq!(got, want);
}

#[test]
fn targets_resolve_configured_paths_against_the_working_dir() {
    let got = disk_targets(
        Some(Path::new("/srv/run")),
        Some(Path::new("./blockchain_data")),
        Some(Path::new("/mnt/fast/pos_db")),
    );
    assert_eq!(got[1].path, Path::new("/srv/run/blockchain_data"));
    assert_eq!(got[2].path, Path::new("/mnt/fast/pos_db"));

    // Without a known cwd only absolute configured paths can be checked.
    let got = disk_targets(None, Some(Path::new("/data")), Some(Path::new("pos_db")));
    assert_eq!(
        got,
        [DiskTarget {
            label: "data_dir",
            path: PathBuf::from("/data")
        }]
    );
    assert!(disk_targets(None, None, None).is_empty());
}

#[tokio::test]
async fn paths_on_one_filesystem_are_each_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    for sub in ["blockchain_data", "pos_db"] {
        std::fs::create_dir(dir.path().join(sub)).expect("mkdir");
    }
    let prober = DiskProber::new(Duration::from_secs(5));
    let targets = disk_targets(Some(dir.path()), None, None);
    assert_eq!(targets.len(), 3);
    for t in &targets {
        let usage = prober.probe(&t.path).await.expect("statvfs");
        assert!(usage.size_bytes > 0, "{}", t.label);
    }
}
