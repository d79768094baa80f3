//! Shared helpers for the integration tests: start the simulator and the exporter in-process on loopback port 0,
//! scrape `/metrics`, parse the exposition, and wait for a condition with a deadline.
#![allow(dead_code)]

pub mod pos;
pub mod tally;
pub mod tools;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use conflux_pos_exporter::app::App;
use conflux_pos_exporter::config::{self, Cli, Config};
use conflux_sim::{Sim, SimConfig, SimHandle};

/// RPC timeout of the test exporters. Generous on purpose: on a loaded 2-core machine a loopback answer can take
/// several hundred milliseconds, and a spurious timeout would drop the node's series mid-test. Tests that inject
/// a delay make it a multiple of this.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(2);

/// Deadline of a wait that should succeed within a few polls: it only bounds a hang (a loaded machine may be
/// many times slower than an idle one), it is never what a test measures.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Exporter configuration for tests: fast polls, listening on port 0, built through the real TOML path so the
/// tests exercise the same validation as users.
pub fn exporter_config(
    nodes: &[(&str, String)],
    references: &[(&str, String)],
    extra_node_keys: &str,
) -> Config {
    exporter_config_every(nodes, references, extra_node_keys, 100)
}

/// [`exporter_config`] with another poll interval (milliseconds).
pub fn exporter_config_every(
    nodes: &[(&str, String)],
    references: &[(&str, String)],
    extra_node_keys: &str,
    ms: u64,
) -> Config {
    let timeout = RPC_TIMEOUT.as_millis();
    let mut text = format!(
        "[web]\nlisten_address = \"127.0.0.1:0\"\n[poll]\nnode_interval = \"{ms}ms\"\nreference_interval = \"{ms}ms\"\nrpc_timeout = \"{timeout}ms\"\nauto_reference = false\n",
    );
    for (name, url) in nodes {
        text.push_str(&format!(
            "[[node]]\nname = \"{name}\"\nrpc_url = \"{url}\"\n{extra_node_keys}\n"
        ));
    }
    for (name, url) in references {
        text.push_str(&format!(
            "[[reference]]\nname = \"{name}\"\nurl = \"{url}\"\n"
        ));
    }
    let file = config::file::parse(&text).expect("test config parses");
    config::resolve(&Cli::default(), file).expect("test config is valid")
}

/// Starts a simulator with the given config.
pub async fn sim(cfg: SimConfig) -> SimHandle {
    Sim::start(cfg).await.expect("simulator starts")
}

/// Starts the exporter.
pub async fn exporter(cfg: Config) -> App {
    App::start(cfg).await.expect("exporter starts")
}

/// One scrape, parsed.
#[derive(Debug, Clone)]
pub struct Scrape {
    /// The raw exposition.
    pub text: String,
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
}

impl Scrape {
    /// Parses the text format (enough of it for our own output: no escapes inside label values we assert on).
    pub fn parse(text: String) -> Self {
        let mut samples = Vec::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let (series, value) = line.rsplit_once(' ').expect("sample line has a value");
            let value: f64 = value.parse().expect("numeric value");
            let (name, labels) = match series.split_once('{') {
                Some((n, rest)) => (n.to_string(), parse_labels(rest.trim_end_matches('}'))),
                None => (series.to_string(), BTreeMap::new()),
            };
            samples.push((name, labels, value));
        }
        Self { text, samples }
    }

    /// The value of the single series `name` whose labels include `labels`.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let found: Vec<f64> = self
            .samples
            .iter()
            .filter(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, _, v)| *v)
            .collect();
        assert!(
            found.len() <= 1,
            "{name}{labels:?} matches {} series",
            found.len()
        );
        found.first().copied()
    }

    /// Label sets of every series named `name`.
    pub fn series(&self, name: &str) -> Vec<BTreeMap<String, String>> {
        self.samples
            .iter()
            .filter(|(n, _, _)| n == name)
            .map(|(_, l, _)| l.clone())
            .collect()
    }
}

fn parse_labels(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = s;
    while let Some((k, after)) = rest.split_once("=\"") {
        let end = after.find('"').expect("closing quote");
        out.insert(
            k.trim_start_matches(',').to_string(),
            after[..end].to_string(),
        );
        rest = &after[end + 1..];
    }
    out
}

/// GETs a path from the exporter.
pub async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let r = reqwest::get(format!("http://{addr}{path}"))
        .await
        .expect("GET works");
    (r.status().as_u16(), r.text().await.expect("body"))
}

/// Scrapes `/metrics`.
pub async fn scrape(addr: SocketAddr) -> Scrape {
    let (status, body) = get(addr, "/metrics").await;
    assert_eq!(status, 200);
    Scrape::parse(body)
}

/// Scrapes until `cond` holds (or panics after `timeout` with the last scrape).
pub async fn wait_for(
    addr: SocketAddr,
    timeout: Duration,
    what: &str,
    cond: impl Fn(&Scrape) -> bool,
) -> Scrape {
    let deadline = Instant::now() + timeout;
    loop {
        let s = scrape(addr).await;
        if cond(&s) {
            return s;
        }
        if Instant::now() > deadline {
            panic!("timed out waiting for {what}; last scrape:\n{}", s.text);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A free loopback port (bound then released), for programs that need a port number up front.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Waits until the exporter at `addr` has accounted every committed PoS block up to `height` for node `node`:
/// its status reports `height` and the history up to it is read (`conflux_pos_history_caught_up` 1 with
/// `conflux_pos_last_read_block` at `height`). Waits on what the exporter says it has read, never on a count of
/// polls or requests, so it holds whatever the polling schedule.
pub async fn wait_pos_caught_up(addr: SocketAddr, node: &str, height: u64) -> Scrape {
    let h = height as f64;
    let g = |s: &Scrape, name: &str| s.get(name, &[("node", node)]);
    let what = format!("{node} caught up to PoS block {height}");
    wait_for(addr, DEADLINE, &what, |s| {
        g(s, "conflux_pos_latest_committed_block") == Some(h)
            && g(s, "conflux_pos_last_read_block") == Some(h)
            && g(s, "conflux_pos_history_caught_up") == Some(1.0)
            && g(s, "conflux_pos_epochs_without_vote").is_some()
    })
    .await
}
