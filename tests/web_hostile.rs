//! Hostile clients cannot starve the validator host through the HTTP side (issue 17), checked against the real
//! binary so that `/proc/PID` measures the exporter alone:
//! - a flood of wrong passwords from 200 clients (known and unknown users) keeps the exporter under one core, a
//!   Prometheus-like scrape with a cached password is served within a second meanwhile, and requests whose
//!   clients have gone leave no CPU burning behind them;
//! - idle connections beyond the cap cost no descriptors, and the exporter's own RPC and file probes keep
//!   working while they sit there;
//! - clients that pipeline requests and never read are dropped after the write timeout, memory bounded;
//! - a bcrypt hash the server cannot use is refused at start and by `--config.check`, naming file and user;
//! - the shipped unit raises the open-file limit well above the connection cap.
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
    until("the clients connected", || open_fds(pid) >= base_fds + 40).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while open_fds(pid) > base_fds + 2 {
        peak_rss = peak_rss.max(rss_bytes(pid));
        assert!(
            Instant::now() < deadline,
            "non-reading clients still connected: {} descriptors, {base_fds} before",
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
    // Still connected on their side, never having read: it was the exporter that let go.
    assert_eq!(clients.len(), 50);
    assert_eq!(
        get_fresh(addr, "/-/healthy", None).await.unwrap().status,
        200
    );
    terminate(child, &log);
}

#[test]
fn unusable_bcrypt_hashes_are_refused_at_start_and_by_config_check_naming_file_and_user() {
    let dir = tempfile::tempdir().unwrap();
    let tail = "BCr8qRUJEhcRD.LhTVAnNecz0YxDcnahi4yAtDeJ7N2ohAv9lmvna";
    let (salt, sum) = tail.split_at(22);
    let cases = [
        ("cost99", format!("$2b$99${tail}"), "cost 99"),
        ("cost3", format!("$2b$03${tail}"), "cost 3"),
        ("badsalt", format!("$2b$10$+{}{sum}", &salt[1..]), "salt"),
    ];
    let run = |args: &[&str]| {
        let out = std::process::Command::new(BIN)
            .args(args)
            .args([
                "--reference.auto",
                "false",
                "--web.listen-address",
                "127.0.0.1:0",
            ])
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code(), text)
    };
    for (user, hash, want) in &cases {
        let file = dir.path().join(format!("{user}.yml"));
        std::fs::write(&file, format!("basic_auth_users:\n  {user}: '{hash}'\n")).unwrap();
        let file = file.display().to_string();
        for check in [true, false] {
            let args = [
                &["--web.config.file", &file][..],
                if check { &["--config.check"] } else { &[] },
            ]
            .concat();
            let (code, text) = run(&args);
            assert_eq!(code, Some(1), "{args:?}: {text}");
            assert!(
                text.contains(&file)
                    && text.contains(&format!("basic_auth_users.{user}"))
                    && text.contains(want),
                "{args:?}: {text}"
            );
            assert!(
                !text.contains(salt) && !text.contains(sum),
                "the hash leaked: {text}"
            );
        }
    }
    // Cost 31 is valid bcrypt, but hours per login: accepted with a warning naming file and user.
    let file = dir.path().join("slow.yml");
    std::fs::write(
        &file,
        format!("basic_auth_users:\n  slow: '$2b$31${tail}'\n"),
    )
    .unwrap();
    let file = file.display().to_string();
    let (code, text) = run(&["--config.check", "--web.config.file", &file]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("warning")
            && text.contains(&file)
            && text.contains("`slow`")
            && text.contains("cost 31"),
        "{text}"
    );
    assert!(!text.contains(salt), "{text}");
}

#[test]
fn the_shipped_unit_raises_the_open_file_limit_well_above_the_connection_cap() {
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/conflux-pos-exporter.service"),
    )
    .unwrap();
    let limit: usize = unit
        .lines()
        .find_map(|l| l.strip_prefix("LimitNOFILE="))
        .expect("the unit sets LimitNOFILE")
        .parse()
        .expect("one number (soft = hard)");
    let cap = conflux_pos_exporter::config::defaults::MAX_CONNECTIONS;
    assert!(
        limit >= 16 * cap,
        "LimitNOFILE={limit} for {cap} connections"
    );
}
