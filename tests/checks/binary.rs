//! The real binary: zero-config start with no node, config errors naming the key, `--config.check` redaction,
//! secrets kept out of logs, and graceful shutdown on SIGTERM.

use conflux_test_support as support;

use support::ports::*;
use support::process::Guarded;
use support::world::*;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use conflux_sim::{EndpointSpec, SimConfig};

const BIN: &str = env!("CARGO_BIN_EXE_conflux-pos-exporter");

fn spawn(args: &[&str]) -> Guarded {
    Guarded::spawn(
        Command::new(BIN)
            .args(args)
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
        "the exporter binary",
    )
}

/// The port the binary got for `--web.listen-address 127.0.0.1:0` (its logs are read when it exits).
async fn bound_port(child: &mut Guarded) -> u16 {
    listening_port(
        child,
        "the exporter binary",
        Duration::from_secs(30),
        String::new,
    )
    .await
}

/// SIGTERM, then the exit code and the logs.
fn terminate(child: Guarded) -> (i32, String) {
    let out = child.terminate(Duration::from_secs(10));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn wait_scrape(port: u16, cond: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await {
            let body = r.text().await.unwrap_or_default();
            if cond(&body) {
                return body;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no satisfying scrape on port {port}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn zero_config_without_a_node_says_so() {
    // The default node URL is 127.0.0.1:12539; point the flag at a port nobody listens on to be independent of the
    // machine, keeping every other default.
    let dead = dead_port();
    let mut child = spawn(&[
        "--web.listen-address",
        "127.0.0.1:0",
        "--node.rpc-url",
        &format!("http://127.0.0.1:{}", dead.port),
    ]);
    // The chain poller's failure is what decides conflux_up; the PoS poller's may be counted first.
    let port = bound_port(&mut child).await;
    let body = wait_scrape(port, |b| {
        b.contains("conflux_up{node=\"local\"} 0")
            && b.lines().any(|l| {
                l.strip_prefix(
                    "conflux_exporter_rpc_errors_total{kind=\"connect\",target=\"local\"} ",
                )
                .is_some_and(|v| v != "0")
            })
    })
    .await;
    assert!(body.contains("conflux_up{node=\"local\"} 0"), "{body}");
    let (code, logs) = terminate(child);
    assert_eq!(code, 0, "graceful exit on SIGTERM; logs:\n{logs}");
    assert!(
        logs.contains("node unreachable") && logs.contains("Connection refused"),
        "{logs}"
    );
    assert!(logs.contains("shutting down"), "{logs}");
}

#[tokio::test]
async fn secrets_in_reference_urls_never_reach_logs_or_metrics() {
    let sim = sim(SimConfig {
        endpoints: vec![
            EndpointSpec::node("node", None),
            EndpointSpec::reference("ref"),
        ],
        ..Default::default()
    })
    .await;
    let secret = "SeCrEtApIkEy0123456789";
    let dead = dead_port();
    let mut child = spawn(&[
        "--web.listen-address",
        "127.0.0.1:0",
        "--node.rpc-url",
        &sim.url("node").unwrap(),
        "--reference.url",
        &format!(
            "good=http://user:{secret}pw@{}/{secret}?key={secret}",
            sim.addr("ref").unwrap()
        ),
        "--reference.url",
        &format!("bad=http://127.0.0.1:{}/{secret}", dead.port),
        "--poll.node-interval",
        "100ms",
        "--poll.reference-interval",
        "100ms",
        "--log.level",
        "debug",
    ]);
    let port = bound_port(&mut child).await;
    let body = wait_scrape(port, |b| b.contains("conflux_epoch_lag{node=\"local\"} 0")).await;
    let landing = reqwest::get(format!("http://127.0.0.1:{port}/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (_, logs) = terminate(child);
    for (what, text) in [
        ("metrics", &body),
        ("landing page", &landing),
        ("logs", &logs),
    ] {
        assert!(!text.contains(secret), "secret leaked into {what}:\n{text}");
    }
    assert!(landing.contains("/&lt;redacted&gt;"), "{landing}");
    assert!(
        logs.contains("reference unusable"),
        "the bad reference is reported: {logs}"
    );
    sim.shutdown().await;
}

#[test]
fn config_check_redacts_and_bad_config_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        "[[reference]]\nname = \"r\"\nurl = \"https://main.confluxrpc.com/TOPSECRET\"\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["--config.file", good.to_str().unwrap(), "--config.check"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("https://main.confluxrpc.com/<redacted>") && !stdout.contains("TOPSECRET"),
        "{stdout}"
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[node]]\nname = \"n\"\nrpc_url = \"http://127.0.0.1:12539\"\npos_adress = \"x\"\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["--config.file", bad.to_str().unwrap(), "--config.check"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("pos_adress"), "{stderr}");

    let out = Command::new(BIN)
        .args(["--log.format", "xml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("log.format"));
}
