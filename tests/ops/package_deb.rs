//! The Debian package, built and installed as an operator would: `cargo deb` packs the binary this test build
//! produced (no second compile: the CI budget), then, as root, `dpkg -i` installs it for real (else, or when the
//! machine already has the package, `dpkg-deb -x` into a temporary root). The test checks the files, modes,
//! conffile and system user, runs `systemd-analyze verify` on the installed unit and the installed binary with
//! the installed config (`--config.check`, as the service user), then purges.
//! Needs cargo-deb, dpkg, systemd-analyze (bash scripts/test installs them).

use conflux_test_support as support;

use support::tools::*;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_conflux-pos-exporter");
const PKG: &str = "conflux-pos-exporter";
const UNIT: &str = "usr/lib/systemd/system/conflux-pos-exporter.service";

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
}

/// Packs the test build's binary: cargo-deb reads `target/release/…` of the given target dir, so the binary is
/// copied there and `--no-build` skips the release compile.
fn build_deb(dir: &Path) -> PathBuf {
    let target = dir.join("target");
    std::fs::create_dir_all(target.join("release")).unwrap();
    std::fs::copy(BIN, target.join("release").join(PKG)).unwrap();
    run(Command::new("cargo")
        .args(["deb", "-p", PKG, "--no-build", "--fast", "-o"])
        .arg(dir.join("out"))
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(env!("CARGO_MANIFEST_DIR")));
    let deb = std::fs::read_dir(dir.join("out"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .expect("a .deb was written");
    deb
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// Files every install must have, with their modes.
fn check_files(root: &Path) {
    for (path, want) in [
        ("usr/bin/conflux-pos-exporter", 0o755),
        ("etc/conflux-pos-exporter/config.toml", 0o640),
        (UNIT, 0o644),
        (
            "usr/share/conflux-pos-exporter/alerts/conflux-pos.rules.yml",
            0o644,
        ),
        (
            "usr/share/conflux-pos-exporter/dashboards/conflux-pos-node.json",
            0o644,
        ),
        (
            "usr/share/conflux-pos-exporter/examples/prometheus.yml",
            0o644,
        ),
        ("usr/share/conflux-pos-exporter/docs/runbook.md", 0o644),
        ("usr/share/doc/conflux-pos-exporter/copyright", 0o644),
    ] {
        assert_eq!(mode(&root.join(path)), want, "mode of /{path}");
    }
    assert!(
        !root.join("usr/bin/conflux-sim").exists(),
        "the simulator is not shipped"
    );
    // The packaged Prometheus example finds the packaged rules through its relative rule_files path.
    let out = Command::new(tool("promtool"))
        .args(["check", "config"])
        .arg(root.join("usr/share/conflux-pos-exporter/examples/prometheus.yml"))
        .output()
        .unwrap();
    assert!(
        out.status.success() && text(&out).contains(" rules found"),
        "{}",
        text(&out)
    );
}

/// `systemd-analyze verify` prints nothing and exits 0 on a clean unit.
fn verify_unit(unit: &Path) {
    let out = Command::new(tool("systemd-analyze"))
        .arg("verify")
        .arg(unit)
        .output()
        .unwrap();
    assert!(
        out.status.success() && text(&out).trim().is_empty(),
        "systemd-analyze verify:\n{}",
        text(&out)
    );
    let unit_text = std::fs::read_to_string(unit).unwrap();
    for line in [
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=CAP_DAC_READ_SEARCH CAP_SYS_PTRACE",
        "AmbientCapabilities=CAP_DAC_READ_SEARCH CAP_SYS_PTRACE",
        "Restart=on-failure",
        "User=conflux-pos-exporter",
        "LimitNOFILE=8192",
    ] {
        assert!(unit_text.lines().any(|l| l == line), "unit lacks {line}");
    }
    assert!(unit_text.lines().any(|l| l.starts_with("ProtectHome=")));
}

fn dpkg(args: &[&str], deb: Option<&Path>) -> Output {
    // Another apt/dpkg run may hold the lock for a moment: wait for it rather than fail.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut cmd = Command::new("dpkg");
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        if let Some(d) = deb {
            cmd.arg(d);
        }
        let out = cmd.output().unwrap();
        let locked = text(&out).contains("lock");
        if out.status.success() || !locked || Instant::now() > deadline {
            assert!(out.status.success(), "dpkg {args:?}:\n{}", text(&out));
            return out;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn installed() -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", PKG])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

#[test]
fn debian_package_installs_verifies_and_purges() {
    let dir = tempfile::tempdir().unwrap();
    let deb = build_deb(dir.path());
    let listing = text(&run(Command::new("dpkg-deb").arg("-c").arg(&deb)));
    assert!(!listing.contains("conflux-sim"), "{listing}");
    let conffiles = text(&run(Command::new("dpkg-deb")
        .args(["-f"])
        .arg(&deb)
        .arg("Depends")));
    assert!(conffiles.contains("adduser"), "{conffiles}");
    // CONFLUX_DEB_TEST_EXTRACT=1 forces the unprivileged path (to test it on a root machine too).
    let extract = std::env::var_os("CONFLUX_DEB_TEST_EXTRACT").is_some();
    if is_root() && !installed() && !extract {
        install_for_real(&deb);
    } else {
        extract_only(&deb, dir.path());
    }
}

fn install_for_real(deb: &Path) {
    dpkg(&["-i"], Some(deb));
    let result = std::panic::catch_unwind(|| {
        check_files(Path::new("/"));
        let pw = text(&run(Command::new("getent").args(["passwd", PKG])));
        let fields: Vec<&str> = pw.trim().split(':').collect();
        assert!(
            fields[2].parse::<u32>().unwrap() < 1000,
            "a system user: {pw}"
        );
        assert_eq!(fields[6], "/usr/sbin/nologin", "{pw}");
        let gid: u32 = fields[3].parse().unwrap();
        let etc = std::fs::metadata("/etc/conflux-pos-exporter").unwrap();
        assert_eq!((etc.uid(), etc.gid(), etc.mode() & 0o7777), (0, gid, 0o750));
        let conf = std::fs::metadata("/etc/conflux-pos-exporter/config.toml").unwrap();
        assert_eq!(
            (conf.uid(), conf.gid()),
            (0, gid),
            "config readable by the service group"
        );
        let status = text(&run(Command::new("dpkg-query").args(["-s", PKG])));
        assert!(
            status.contains("/etc/conflux-pos-exporter/config.toml"),
            "a conffile:\n{status}"
        );
        verify_unit(&Path::new("/").join(UNIT));
        // The service user can read the installed config and the installed binary accepts it.
        let out = run(Command::new("runuser")
            .args(["-u", PKG, "--", "/usr/bin/conflux-pos-exporter"])
            .args([
                "--config.file",
                "/etc/conflux-pos-exporter/config.toml",
                "--config.check",
            ]));
        assert!(
            text(&out).contains("# configuration is valid"),
            "{}",
            text(&out)
        );
    });
    dpkg(&["--purge", PKG], None);
    assert!(!Path::new("/usr/bin/conflux-pos-exporter").exists());
    assert!(
        !Path::new("/etc/conflux-pos-exporter").exists(),
        "purge removes the config"
    );
    let user = Command::new("getent")
        .args(["passwd", PKG])
        .output()
        .unwrap();
    assert!(!user.status.success(), "purge removes the user");
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

fn extract_only(deb: &Path, dir: &Path) {
    let root = dir.join("root");
    run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(&root));
    check_files(&root);
    // The unit as installed, with ExecStart pointing at the extracted binary (verify checks it is executable).
    let exe = root.join("usr/bin/conflux-pos-exporter");
    let unit = std::fs::read_to_string(root.join(UNIT)).unwrap();
    let unit = unit.replace("/usr/bin/conflux-pos-exporter", exe.to_str().unwrap());
    let copy = dir.join("conflux-pos-exporter.service");
    std::fs::write(&copy, unit).unwrap();
    verify_unit(&copy);
    let out = run(Command::new(&exe)
        .arg("--config.file")
        .arg(root.join("etc/conflux-pos-exporter/config.toml"))
        .arg("--config.check"));
    assert!(
        text(&out).contains("# configuration is valid"),
        "{}",
        text(&out)
    );
}
