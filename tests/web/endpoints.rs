//! The HTTP side of a running exporter: `/-/ready` waits for every node's first `cfx_getStatus` answer, `/metrics`
//! is gzip-compressed for clients that ask (and identical once decompressed), and a taken listen address names
//! `--web.listen-address` once.

use conflux_test_support as support;

use support::exporter::*;
use support::exposition::*;
use support::scrape::*;
use support::world::*;

use std::io::Read;
use std::time::{Duration, Instant};

use conflux_sim::{EndpointPatch, EndpointSpec, SimConfig};

const BIN: &str = env!("CARGO_BIN_EXE_conflux-pos-exporter");

async fn wait_status(addr: std::net::SocketAddr, path: &str, want: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = get(addr, path).await;
        if status == want {
            return body;
        }
        assert!(Instant::now() < deadline, "{path} stayed {status}: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn ready_only_after_every_node_answered_cfx_get_status() {
    let sim = sim(SimConfig {
        endpoints: vec![EndpointSpec::node("a", None), EndpointSpec::node("b", None)],
        ..Default::default()
    })
    .await;
    sim.patch_endpoint("b", EndpointPatch::default().down(true))
        .await
        .unwrap();
    let app = exporter(exporter_config(
        &[("a", sim.url("a").unwrap()), ("b", sim.url("b").unwrap())],
        &[],
        "",
    ))
    .await;
    let addr = app.local_addr();
    // Node a answers and b has been polled (and failed) several times: still not ready, and it says which.
    wait_for(addr, Duration::from_secs(10), "a up, b polled down", |s| {
        s.get("conflux_up", &[("node", "a")]) == Some(1.0)
            && s.get(
                "conflux_exporter_rpc_errors_total",
                &[("target", "b"), ("kind", "connect")],
            )
            .is_some_and(|v| v >= 2.0)
    })
    .await;
    let (status, body) = get(addr, "/-/ready").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains('b') && !body.contains("a,"), "{body}");
    sim.patch_endpoint("b", EndpointPatch::default().down(false))
        .await
        .unwrap();
    wait_status(addr, "/-/ready", 200).await;
    // Ready means "answered once": a later outage does not flip it back (that is what conflux_up is for).
    sim.patch_endpoint("a", EndpointPatch::default().down(true))
        .await
        .unwrap();
    wait_for(addr, Duration::from_secs(10), "a down", |s| {
        s.get("conflux_up", &[("node", "a")]) == Some(0.0)
    })
    .await;
    assert_eq!(get(addr, "/-/ready").await.0, 200);
    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn gzip_is_served_when_asked_and_decodes_to_the_same_exposition() {
    let sim = sim(SimConfig {
        endpoints: vec![EndpointSpec::node("a", None)],
        ..Default::default()
    })
    .await;
    let app = exporter(exporter_config_every(
        &[("a", sim.url("a").unwrap())],
        &[],
        "",
        60_000,
    ))
    .await;
    let addr = app.local_addr();
    // Both first polls recorded (chain and PoS), so the set of series no longer changes between the two scrapes.
    wait_for(addr, Duration::from_secs(10), "a up, its PoS polled", |s| {
        s.get("conflux_up", &[("node", "a")]) == Some(1.0)
            && s.get("conflux_pos_address_known", &[("node", "a")])
                .is_some()
    })
    .await;
    let http = reqwest::Client::new();
    let url = format!("http://{addr}/metrics");
    let plain = http.get(&url).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.unwrap();
    let zipped = http
        .get(&url)
        .header("Accept-Encoding", "gzip, deflate")
        .send()
        .await
        .unwrap();
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    assert_eq!(zipped.headers()["vary"], "Accept-Encoding");
    let zipped = zipped.bytes().await.unwrap();
    let mut back = Vec::new();
    flate2::read::GzDecoder::new(&zipped[..])
        .read_to_end(&mut back)
        .unwrap();
    // Same exposition (the publisher may have run in between, so compare the series, not every value).
    let names = |b: &[u8]| -> Vec<String> {
        let s = Scrape::parse(String::from_utf8(b.to_vec()).unwrap());
        let mut v: Vec<String> = s
            .text
            .lines()
            .filter_map(|l| l.split([' ', '{']).next())
            .map(String::from)
            .collect();
        v.dedup();
        v
    };
    assert_eq!(
        names(&back),
        names(&plain),
        "decompressed body has the same series"
    );
    assert!(
        zipped.len() * 3 < plain.len(),
        "{} vs {}",
        zipped.len(),
        plain.len()
    );
    let refused = http
        .get(&url)
        .header("Accept-Encoding", "gzip;q=0")
        .send()
        .await
        .unwrap();
    assert!(refused.headers().get("content-encoding").is_none());
    app.shutdown().await;
    sim.shutdown().await;
}

#[test]
fn address_in_use_names_the_flag_once() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = std::process::Command::new(BIN)
        .args(["--web.listen-address", &addr, "--reference.auto", "false"])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{log}");
    assert_eq!(log.matches("--web.listen-address").count(), 1, "{log}");
    assert!(log.contains(&addr), "{log}");
}

#[test]
fn an_invalid_value_from_the_environment_names_the_variable() {
    let out = std::process::Command::new(BIN)
        .args(["--config.check"])
        .env("CONFLUX_EXPORTER_POLL_NODE_INTERVAL", "5 parsecs")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("CONFLUX_EXPORTER_POLL_NODE_INTERVAL"), "{err}");
    let out = std::process::Command::new(BIN)
        .args(["--config.check"])
        .env("CONFLUX_EXPORTER_WEB_LISTEN_ADDRESS", "not-an-address")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("web.listen_address") && err.contains("CONFLUX_EXPORTER_WEB_LISTEN_ADDRESS"),
        "{err}"
    );
}

#[test]
fn a_file_error_names_section_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.toml");
    std::fs::write(&p, "[poll]\nnode_interval = \"fast\"\n").unwrap();
    let out = std::process::Command::new(BIN)
        .args(["--config.check", "--config.file", p.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("`poll.node_interval`") && err.contains("line 2"),
        "{err}"
    );
}
