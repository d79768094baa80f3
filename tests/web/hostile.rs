//! Hostile clients cannot starve the validator host through the HTTP side (docs/security.md), checked against the real
//! binary so that `/proc/PID` measures the exporter alone:
//! - a flood of wrong passwords from 200 clients (known and unknown users) keeps the exporter under one core, a
//!   Prometheus-like scrape with a cached password is served within a second meanwhile, and requests whose
//!   clients have gone leave no CPU burning behind them;
//! - idle connections beyond the cap cost no descriptors, and the exporter's own RPC and file probes keep
//!   working while they sit there;
//! - clients that pipeline requests and never read are dropped after the write timeout, memory bounded;
//! - a 500 kB error message from a node makes a landing page of a few KiB (this one in-process).
//!
//! Unusable bcrypt hashes and the unit's open-file limit: `web_hostile_config.rs`.
//!
//! `CONFLUX_HOSTILE_BIN` runs the flood and idle tests against another build (e.g. main's, to compare).

use conflux_test_support as support;

use support::exposition::Scrape;
use support::hostile::*;
use support::ports::dead_port;
use support::process::{Guarded, StandIn};
use support::world::sim;

use std::path::Path;
use std::time::{Duration, Instant};

use conflux_sim::{EndpointSpec, SimConfig};

const BIN: &str = env!("CARGO_BIN_EXE_conflux-pos-exporter");
const PASSWORD: &str = "correct horse battery staple";

fn bin() -> String {
    std::env::var("CONFLUX_HOSTILE_BIN").unwrap_or_else(|_| BIN.to_string())
}

/// A web config with the one user `prom`, bcrypt cost 10 as `htpasswd -nBC 10` makes it (about 0.1 s per verify
/// in a test build).
fn web_config(dir: &Path) -> String {
    let hash = bcrypt::hash(PASSWORD, 10).unwrap();
    let p = dir.join("web.yml");
    std::fs::write(&p, format!("basic_auth_users:\n  prom: '{hash}'\n")).unwrap();
    p.display().to_string()
}

async fn until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn terminate(child: Guarded, log: &Path) -> String {
    let _ = child.terminate(Duration::from_secs(10));
    std::fs::read_to_string(log).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_flood_stays_under_one_core_and_a_cached_scrape_gets_through() {
    let dir = tempfile::tempdir().unwrap();
    let web = web_config(dir.path());
    let dead = dead_port();
    let node = format!("http://127.0.0.1:{}", dead.port);
    let log = dir.path().join("exporter.log");
    let args = ["--reference.auto", "false", "--node.rpc-url", &node];
    let (child, addr) = spawn_exporter(
        &bin(),
        &[&args[..], &["--web.config.file", &web]].concat(),
        None,
        &log,
    )
    .await;
    let pid = child.pid();
    let good = basic("prom", PASSWORD);
    // Prometheus's first scrape pays the one verify; from then on its password is cached.
    assert_eq!(
        get_fresh(addr, "/metrics", Some(&good))
            .await
            .unwrap()
            .status,
        200
    );

    let wrong: Vec<String> = (0..10)
        .map(|i| match i % 2 {
            0 => basic("prom", &format!("guess-{i}")),
            _ => basic(&format!("nobody-{i}"), "guess"),
        })
        .collect();
    let flood = Flood::start(addr, 200, &wrong);
    until("every flood client sending", || flood.sent() >= 200).await;
    let meter = CpuMeter::start(pid);
    let mut scrapes = Vec::new();
    while scrapes.len() < 5 || meter.cores().1 < Duration::from_secs(3) {
        scrapes.push(get_fresh(addr, "/metrics", Some(&good)).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (cores, wall) = meter.cores();
    let counts = flood.stop().await;
    let answered: Vec<Timed> = scrapes
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .copied()
        .collect();
    let worst = answered.iter().map(|t| t.answer).max().unwrap_or_default();
    let worst_connect = answered.iter().map(|t| t.connect).max().unwrap_or_default();
    println!(
        "flood of 200 clients: exporter used {:.0}% of one core over {wall:.1?}; {} legitimate scrapes ({} answered), slowest answer {worst:.0?} (slowest loopback connect {worst_connect:.0?}); flood answers by status {counts:?}",
        cores * 100.0,
        scrapes.len(),
        answered.len()
    );
    assert!(
        answered.len() == scrapes.len() && answered.iter().all(|t| t.status == 200),
        "a cached scrape failed: {scrapes:?}"
    );
    assert!(
        !counts.contains_key(&200),
        "a wrong password got in: {counts:?}"
    );
    assert!(
        counts.get(&401).is_some_and(|n| *n > 0),
        "no password was checked at all: {counts:?}"
    );
    assert!(cores < 1.0, "the exporter used {cores:.2} cores");
    assert!(
        worst < Duration::from_secs(1),
        "a cached scrape took {worst:?}: {scrapes:?}"
    );

    // Requests whose clients leave right after sending: nothing keeps running for them.
    fire_and_forget(addr, 1000, &wrong[0]).await;
    let after = CpuMeter::start(pid);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (idle_cores, _) = after.cores();
    println!(
        "after 1000 fire-and-forget requests: {:.0}% of one core over the next 2 s",
        idle_cores * 100.0
    );
    assert!(
        idle_cores < 0.5,
        "{idle_cores:.2} cores after the clients left"
    );
    assert_eq!(
        get_fresh(addr, "/metrics", Some(&good))
            .await
            .unwrap()
            .status,
        200
    );
    terminate(child, &log);
}

fn value(body: &str, name: &str, node: &str) -> Option<f64> {
    Scrape::parse(body.to_string()).get(name, &[("node", node)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_beyond_the_cap_cost_no_descriptors_and_rpc_and_probes_keep_working() {
    let sim = sim(SimConfig {
        endpoints: vec![EndpointSpec::node("a", None)],
        ..Default::default()
    })
    .await;
    let stand_in = StandIn::create();
    let node_process = stand_in.start();
    std::fs::write(stand_in.pid_file(), node_process.pid().to_string()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("exporter.toml");
    std::fs::write(
        &config,
        format!(
            "[poll]\nnode_interval = \"200ms\"\nauto_reference = false\n[[node]]\nname = \"a\"\nrpc_url = \"{}\"\npid_file = \"{}\"\n",
            sim.url("a").unwrap(),
            stand_in.pid_file().display()
        ),
    )
    .unwrap();
    let log = dir.path().join("exporter.log");
    // 256 descriptors: 600 idle clients would take them all without the cap.
    let config_arg = config.display().to_string();
    let (child, addr) =
        spawn_exporter(&bin(), &["--config.file", &config_arg], Some(256), &log).await;
    let pid = child.pid();
    // The scraper's connection, open before the trouble, as Prometheus keeps its own.
    let mut scraper = KeepAlive::connect(addr).await;
    let healthy = |body: &str| {
        value(body, "conflux_up", "a") == Some(1.0)
            && value(body, "conflux_node_process_up", "a") == Some(1.0)
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !healthy(&scraper.get("/metrics").await.1) {
        assert!(
            Instant::now() < deadline,
            "node a never up with its process"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let base = open_fds(pid);
    let idle = idle_connections(addr, 600).await;
    until("the connection cap reached", || open_fds(pid) >= base + 60).await;
    let requests = sim.stats("a").unwrap().http_requests;
    // Node a's RPC requests that failed to get through (the sim answers some calls with JSON-RPC errors anyway).
    let errors = |body: &str| {
        let s = Scrape::parse(body.to_string());
        let name = "conflux_exporter_rpc_errors_total";
        s.series(name)
            .iter()
            .filter(|l| l.get("target").is_some_and(|t| t == "a"))
            .filter(|l| {
                l.get("kind")
                    .is_some_and(|k| k == "connect" || k == "timeout")
            })
            .filter_map(|l| {
                let labels: Vec<(&str, &str)> =
                    l.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                s.get(name, &labels)
            })
            .sum::<f64>()
    };
    let errors_before = errors(&scraper.get("/metrics").await.1);
    let mut most = 0;
    for _ in 0..10 {
        let (status, body) = scraper.get("/metrics").await;
        assert_eq!(status, 200);
        assert!(
            healthy(&body),
            "the exporter lost its node while clients hog sockets:\n{body}"
        );
        most = most.max(open_fds(pid));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, body) = scraper.get("/metrics").await;
    println!(
        "600 idle clients: the exporter holds {} descriptors at most (before: {base})",
        most
    );
    assert!(most <= base + 64 + 8, "{most} descriptors, {base} before");
    assert!(
        sim.stats("a").unwrap().http_requests >= requests + 3,
        "the exporter stopped polling its node"
    );
    assert_eq!(
        errors(&body),
        errors_before,
        "RPC errors while clients hog sockets"
    );
    drop(idle);
    let deadline = Instant::now() + Duration::from_secs(60);
    while get_fresh(addr, "/-/healthy", None)
        .await
        .map(|t| t.status)
        .ok()
        != Some(200)
    {
        assert!(
            Instant::now() < deadline,
            "a fresh client never got in again"
        );
    }
    let log = terminate(child, &log);
    assert_eq!(
        log.matches("connection limit reached").count(),
        1,
        "one warning, then at most one a minute:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_never_read_are_dropped_after_the_write_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let dead = dead_port();
    let node = format!("http://127.0.0.1:{}", dead.port);
    let log = dir.path().join("exporter.log");
    let args = [
        "--reference.auto",
        "false",
        "--node.rpc-url",
        &node,
        "--web.write-timeout",
        "1s",
    ];
    let (child, addr) = spawn_exporter(BIN, &args, None, &log).await;
    let pid = child.pid();
    let base_fds = open_fds(pid);
    let base_rss = rss_bytes(pid);
    let mut peak_rss = base_rss;
    // Each asks for the exposition 2 000 times at once: megabytes no socket buffer holds.
    let clients = non_reading_clients(addr, 50, "/metrics", 2000).await;
    // They never read, so only the exporter can end their connections.
    let deadline = Instant::now() + Duration::from_secs(60);
    while still_established(&clients) > 0 || open_fds(pid) > base_fds + 2 {
        peak_rss = peak_rss.max(rss_bytes(pid));
        assert!(
            Instant::now() < deadline,
            "{} non-reading clients still connected; the exporter holds {} descriptors ({base_fds} before)",
            still_established(&clients),
            open_fds(pid)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "50 non-reading clients: dropped; resident memory {} -> peak {} KiB",
        base_rss / 1024,
        peak_rss / 1024
    );
    assert!(
        peak_rss < base_rss + (64 << 20),
        "memory grew from {base_rss} to {peak_rss} bytes"
    );
    drop(clients);
    assert_eq!(
        get_fresh(addr, "/-/healthy", None).await.unwrap().status,
        200
    );
    terminate(child, &log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_error_message_from_a_peer_makes_a_small_landing_page() {
    use support::exporter::{exporter, exporter_config};
    let sim = sim(SimConfig {
        endpoints: vec![EndpointSpec::node("a", None)],
        ..Default::default()
    })
    .await;
    let app = exporter(exporter_config(&[("a", sim.url("a").unwrap())], &[], "")).await;
    let addr = app.local_addr();
    // 500 kB of error text with markup and control characters for the liveness call (the unit tests of the page
    // take 15 MB; through a test build's RPC client on a loaded machine that many bytes may time out instead).
    let message = format!("<b>\u{1b}[31m{}", "E".repeat(500_000));
    sim.patch_endpoint(
        "a",
        conflux_sim::EndpointPatch::default().error(Some(conflux_sim::InjectedError {
            code: -32000,
            message,
            method: Some("cfx_getStatus".into()),
        })),
    )
    .await
    .unwrap();
    // However the text was cut on its way (here or where it entered), it shows escaped: no markup, no ESC.
    let shown = |page: &str| {
        page.contains("&lt;b&gt;")
            && page.contains("EEEE")
            && !page.contains("<b>")
            && !page.contains('\u{1b}')
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, page) = support::scrape::get(addr, "/").await;
        assert_eq!(status, 200);
        assert!(page.len() < 8192, "a {} byte landing page", page.len());
        if shown(&page) {
            break;
        }
        assert!(Instant::now() < deadline, "the error never showed:\n{page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pages: Vec<_> = (0..20)
        .map(|_| tokio::spawn(support::scrape::get(addr, "/")))
        .collect();
    // Under load a later poll may time out and replace the last error; whatever the page shows, it stays small
    // and escaped.
    for p in pages {
        let (status, page) = p.await.unwrap();
        assert_eq!(status, 200);
        let escaped = !page.contains("<b>") && !page.contains('\u{1b}');
        assert!(page.len() < 8192 && escaped, "{page}");
    }
    app.shutdown().await;
    sim.shutdown().await;
}
