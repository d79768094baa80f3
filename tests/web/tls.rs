//! TLS and basic auth from `--web.config.file`, checked with the real tools: a real Prometheus scrapes the
//! exporter over HTTPS with the right password (target up) and with a wrong one (target down, 401), curl sees
//! the 401 and its `WWW-Authenticate`, and the debug log of the real binary never contains the password or the
//! hash. The certificate is self-signed, made by the openssl CLI for this test only.

use conflux_test_support as support;

use support::exporter::*;
use support::ports::*;
use support::process::Guarded;
use support::prometheus::*;
use support::tools::*;
use support::world::*;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use conflux_pos_exporter::webconfig;
use conflux_sim::{EndpointSpec, SimConfig};

const BIN: &str = env!("CARGO_BIN_EXE_conflux-pos-exporter");
const PASSWORD: &str = "correct horse battery staple";

/// Writes cert.pem, key.pem and web.yml (relative TLS paths, one bcrypt user `prom`) into `dir`.
fn write_web_config(dir: &Path) -> String {
    let status = Command::new(tool("openssl"))
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ])
        .args([
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
        ])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success());
    // Cost 4: every refused scrape pays a full bcrypt verify, and test builds are unoptimised.
    let hash = bcrypt::hash(PASSWORD, 4).unwrap();
    std::fs::write(
        dir.join("web.yml"),
        format!("tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  prom: '{hash}'\n"),
    )
    .unwrap();
    hash
}

/// `curl` status line and headers for an HTTPS GET with the test CA (async: the exporter under test runs on
/// this test's runtime).
async fn curl(dir: &Path, url: &str, user: Option<&str>) -> String {
    let mut cmd = tokio::process::Command::new(tool("curl"));
    cmd.args(["-s", "-m", "10", "-o", "/dev/null", "-D", "-", "--cacert"])
        .arg(dir.join("cert.pem"))
        .arg(url);
    if let Some(u) = user {
        cmd.args(["-u", u]);
    }
    String::from_utf8(cmd.output().await.expect("curl runs").stdout).unwrap()
}

#[tokio::test]
async fn real_prometheus_scrapes_over_tls_with_basic_auth_and_a_wrong_password_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_web_config(dir.path());
    let sim = sim(SimConfig {
        endpoints: vec![EndpointSpec::node("a", None)],
        ..Default::default()
    })
    .await;
    let mut cfg = exporter_config(&[("a", sim.url("a").unwrap())], &[], "");
    cfg.web_config = Some(webconfig::load(&dir.path().join("web.yml")).unwrap());
    let app = exporter(cfg).await;
    let addr = app.local_addr();
    let url = format!("https://localhost:{}/metrics", addr.port());
    let ok = curl(dir.path(), &url, Some(&format!("prom:{PASSWORD}"))).await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    let denied = curl(dir.path(), &url, Some("prom:WrongPw-4711")).await;
    assert!(denied.starts_with("HTTP/1.1 401"), "{denied}");
    assert!(
        denied
            .to_ascii_lowercase()
            .contains("www-authenticate: basic realm="),
        "{denied}"
    );
    assert!(curl(dir.path(), &url, None)
        .await
        .starts_with("HTTP/1.1 401"));
    // Plain HTTP on a TLS port gets no metrics.
    assert!(reqwest::get(format!("http://{addr}/metrics"))
        .await
        .map_or(true, |r| r.status() != 200));

    let ca = dir.path().join("cert.pem");
    let job = |name: &str, pw: &str| {
        format!(
            "  - job_name: {name}\n    scheme: https\n    tls_config:\n      ca_file: {}\n      server_name: localhost\n    basic_auth:\n      username: prom\n      password: '{pw}'\n    static_configs:\n      - targets: ['127.0.0.1:{}']\n",
            ca.display(),
            addr.port()
        )
    };
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n{}{}",
        job("good", PASSWORD),
        job("bad", "wrong")
    );
    let prom = Prometheus::start(&config, &[]).await;
    let r = prom
        .wait_query(
            "conflux_up{job=\"good\",node=\"a\"}",
            Duration::from_secs(20),
            |r| sample_value(&r[0]) == 1.0,
        )
        .await;
    assert_eq!(
        r[0]["metric"]["instance"],
        format!("127.0.0.1:{}", addr.port())
    );
    prom.wait_query("up{job=\"bad\"}", Duration::from_secs(20), |r| {
        sample_value(&r[0]) == 0.0
    })
    .await;
    let body = reqwest::get(format!("{}/api/v1/targets", prom.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let targets: serde_json::Value = serde_json::from_str(&body).unwrap();
    let bad = targets["data"]["activeTargets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["labels"]["job"] == "bad")
        .unwrap();
    assert!(bad["lastError"].as_str().unwrap().contains("401"), "{bad}");
    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn the_binary_never_logs_the_password_or_the_hash() {
    let dir = tempfile::tempdir().unwrap();
    let hash = write_web_config(dir.path());
    let mut cmd = Command::new(BIN);
    cmd.args([
        "--web.listen-address",
        "127.0.0.1:0",
        "--log.level",
        "debug",
    ])
    .args([
        "--reference.auto",
        "false",
        "--node.rpc-url",
        "http://127.0.0.1:9",
    ])
    .arg("--web.config.file")
    .arg(dir.path().join("web.yml"))
    .env_remove("RUST_LOG")
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    let mut child = Guarded::spawn(&mut cmd, "the exporter binary");
    let port = listening_port(
        &mut child,
        "the exporter binary",
        Duration::from_secs(30),
        String::new,
    )
    .await;
    let url = format!("https://localhost:{port}/metrics");
    let mut answered = false;
    for _ in 0..200 {
        if curl(dir.path(), &url, Some("prom:WrongPw-4711"))
            .await
            .starts_with("HTTP/1.1 401")
        {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(answered, "the exporter never answered over TLS");
    assert!(curl(dir.path(), &url, Some(&format!("prom:{PASSWORD}")))
        .await
        .starts_with("HTTP/1.1 200"));
    let check = Command::new(BIN)
        .args(["--config.check", "--web.config.file"])
        .arg(dir.path().join("web.yml"))
        .output()
        .unwrap();
    let out = tokio::task::spawn_blocking(move || child.terminate(Duration::from_secs(10)))
        .await
        .unwrap();
    let log =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&check.stdout);
    assert!(
        log.contains("scheme=https") && log.contains("basic_auth=true"),
        "{log}"
    );
    for secret in [PASSWORD, "WrongPw-4711", &hash, &hash[7..29]] {
        assert!(!log.contains(secret), "log contains {secret:?}:\n{log}");
    }
}
