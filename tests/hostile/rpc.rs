//! The hostile RPC rows of docs/security.md, against the real binary and the simulator: a reference that redirects is not followed (the
//! redirect target is never contacted, the error says why, no secret of the URL is logged); a 15 MB JSON-RPC error
//! message from the reference reaches the logs, the landing page and /metrics as bounded text; and a reference URL
//! that does not parse (a password holding `/`, `#` or `?`, a query holding `,`) is reported by `--config.check` and
//! at start without any fragment of its secrets.

use conflux_test_support as support;

use std::process::{Command, Stdio};
use std::time::Duration;

use conflux_sim::endpoint::InjectedError;
use conflux_sim::patch::EndpointPatch;
use conflux_sim::{EndpointSpec, SimConfig};
use support::hostile::{get_text, wait_lines};
use support::ports::*;
use support::process::Guarded;
use support::world::*;

const BIN: &str = env!("CARGO_BIN_EXE_conflux-pos-exporter");

/// The exporter binary with its log in a file: a pipe nobody reads until the end fills at 64 KiB under debug
/// logging, and the exporter then blocks writing its log (seen as a test hanging on a loaded machine).
fn spawn(args: &[&str]) -> (Guarded, tempfile::NamedTempFile) {
    let log = tempfile::NamedTempFile::new().expect("log file");
    let child = Guarded::spawn(
        Command::new(BIN)
            .args(args)
            .env_remove("RUST_LOG")
            .env_remove("CONFLUX_EXPORTER_REFERENCE_URL")
            .stdout(Stdio::null())
            .stderr(log.reopen().expect("log file")),
        "the exporter binary",
    );
    (child, log)
}

/// Everything the exporter logged.
fn logged(log: &tempfile::NamedTempFile) -> String {
    std::fs::read_to_string(log.path()).unwrap_or_default()
}

fn world() -> SimConfig {
    SimConfig {
        endpoints: vec![
            EndpointSpec::node("node", None),
            EndpointSpec::reference("ref"),
            EndpointSpec::reference("elsewhere"),
        ],
        ..Default::default()
    }
}

fn start(node: &str, reference: &str) -> (Guarded, tempfile::NamedTempFile) {
    spawn(&[
        "--web.listen-address",
        "127.0.0.1:0",
        "--node.rpc-url",
        node,
        "--reference.url",
        reference,
        "--poll.node-interval",
        "200ms",
        "--poll.reference-interval",
        "200ms",
        "--log.level",
        "debug",
    ])
}

#[tokio::test]
async fn a_redirecting_reference_is_not_followed() {
    let sim = sim(world()).await;
    let secret = "ApIkEy0123SeCrEt";
    sim.patch_endpoint(
        "ref",
        EndpointPatch::default()
            .redirect_to(Some(&format!("{}/landing", sim.url("elsewhere").unwrap()))),
    )
    .await
    .unwrap();
    let reference = format!(
        "ref=http://{}/{secret}?token={secret}",
        sim.addr("ref").unwrap()
    );
    let (mut child, log) = start(&sim.url("node").unwrap(), &reference);
    let port = listening_port(
        &mut child,
        "the exporter binary",
        Duration::from_secs(30),
        String::new,
    )
    .await;
    wait_lines(
        port,
        &[
            "conflux_reference_state{reference=\"ref\",state=\"redirect\"} 1",
            "conflux_up{node=\"local\"} 1",
        ],
    )
    .await;
    let body = wait_lines(
        port,
        &["conflux_exporter_rpc_errors_total{kind=\"redirect\",target=\"ref\"}"],
    )
    .await;
    let redirects: f64 = body
        .lines()
        .find_map(|l| {
            l.strip_prefix("conflux_exporter_rpc_errors_total{kind=\"redirect\",target=\"ref\"} ")
        })
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(redirects >= 1.0, "{body}");
    assert!(
        !body.contains("conflux_epoch_lag{"),
        "the redirect target's answer is not used:\n{body}"
    );
    let landing = get_text(port, "/").await;
    child.terminate(Duration::from_secs(10));
    let logs = logged(&log);
    assert_eq!(
        sim.stats("elsewhere").unwrap().http_requests,
        0,
        "the redirect target was contacted"
    );
    assert!(sim.stats("ref").unwrap().http_requests >= 1);
    for (what, text) in [
        ("logs", &*logs),
        ("metrics", &body),
        ("landing page", &landing),
    ] {
        assert!(!text.contains(secret), "secret in the {what}:\n{text}");
    }
    assert!(logs.contains("a redirect, not followed"), "{logs}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_huge_error_message_from_the_reference_stays_small_everywhere() {
    let sim = sim(world()).await;
    // 15 MB, under the 16 MiB answer cap, with a terminal escape sequence in it.
    let message = format!("\u{1b}[2J{}", "A".repeat(15_000_000));
    let error = InjectedError {
        code: -32000,
        message,
        method: Some("cfx_getStatus".into()),
    };
    sim.patch_endpoint("ref", EndpointPatch::default().error(Some(error)))
        .await
        .unwrap();
    let (mut child, log) = start(
        &sim.url("node").unwrap(),
        &format!("ref={}", sim.url("ref").unwrap()),
    );
    let port = listening_port(
        &mut child,
        "the exporter binary",
        Duration::from_secs(30),
        String::new,
    )
    .await;
    let metrics = wait_lines(
        port,
        &["conflux_reference_state{reference=\"ref\",state=\"rpc_error\"} 1"],
    )
    .await;
    let landing = get_text(port, "/").await;
    child.terminate(Duration::from_secs(10));
    let logs = logged(&log);
    assert!(
        landing.len() < 64 * 1024,
        "landing page of {} bytes",
        landing.len()
    );
    assert!(
        landing.contains("AAAA"),
        "the start of the message is shown: {landing:.2000}"
    );
    assert!(
        metrics.len() < 256 * 1024,
        "/metrics of {} bytes",
        metrics.len()
    );
    let longest = logs.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 4096, "a log line of {longest} bytes");
    assert!(
        !logs.contains('\u{1b}') && !landing.contains('\u{1b}'),
        "control characters are escaped"
    );
    assert!(logs.contains("reference unusable"), "{logs:.4000}");
    sim.shutdown().await;
}

/// What `--config.check`, and a start, print for `reference`: exit code and both streams.
fn check(args: &[&str], env: Option<&str>) -> (Option<i32>, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("RUST_LOG")
        .env_remove("CONFLUX_EXPORTER_REFERENCE_URL");
    if let Some(v) = env {
        cmd.env("CONFLUX_EXPORTER_REFERENCE_URL", v);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[test]
fn unparsable_reference_urls_are_reported_without_their_secrets() {
    let dead = dead_port();
    let node = format!("http://127.0.0.1:{}", dead.port);
    let dir = tempfile::tempdir().unwrap();
    // The hostile shapes: a password with '/', '#' or '?'; a user name and password that read as host and port.
    let broken = [
        "https://aliceUSER:paSS/wOrD1@main.example.com/APIKEYZ",
        "https://aliceUSER:paSS#wOrD1@main.example.com/APIKEYZ",
        "https://aliceUSER:paSS?wOrD1@main.example.com/APIKEYZ",
        "https://aliceUSER:1234/wOrD1@main.example.com/APIKEYZ",
    ];
    let secrets = [
        "aliceUSER",
        "paSS",
        "wOrD1",
        "APIKEYZ",
        "1234",
        "BBBBSECRETF",
    ];
    let assert_clean = |what: &str, text: &str| {
        for s in secrets {
            assert!(!text.contains(s), "{what}: {s} shown in\n{text}");
        }
    };
    for url in broken {
        let flag = format!("ref={url}");
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            format!("[[reference]]\nname = \"r\"\nurl = {url:?}\n"),
        )
        .unwrap();
        let file = file.to_str().unwrap();
        for (what, args, env) in [
            (
                "flag",
                vec!["--reference.url", &flag, "--config.check"],
                None,
            ),
            ("variable", vec!["--config.check"], Some(flag.as_str())),
            ("file", vec!["--config.file", file, "--config.check"], None),
            // A start (not a check) fails the same way, before serving anything.
            (
                "start",
                vec![
                    "--reference.url",
                    &flag,
                    "--node.rpc-url",
                    &node,
                    "--web.listen-address",
                    "127.0.0.1:0",
                ],
                None,
            ),
        ] {
            let (code, text) = check(&args, env);
            let what = format!("{url} by {what}");
            assert_eq!(code, Some(1), "{what}: {text}");
            assert!(
                text.contains("reference"),
                "{what}: the key is named: {text}"
            );
            assert_clean(&what, &text);
        }
    }
    // A query holding a comma, through the comma-separated variable: the URL is kept whole (and valid), and its
    // query never printed.
    let comma = "ref=https://main.example.com/?key=AAAA,BBBBSECRETF";
    let (code, text) = check(&["--config.check"], Some(comma));
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("https://main.example.com/<redacted>"),
        "{text}"
    );
    assert_clean("comma in the query", &text);
    let (code, text) = check(&["--reference.url", "BBBBSECRETF", "--config.check"], None);
    assert_eq!(code, Some(1), "{text}");
    assert_clean("a bare fragment", &text);
}
