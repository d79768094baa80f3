//! A real Alertmanager for one test: loopback port, its own temporary data directory, killed when dropped (its
//! process is a [`Guarded`]). Clustering is off, except for the peers of an HA cluster ([`Alertmanager::start_peer`]),
//! which gossip on loopback ports the kernel chooses.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::ports::{listening_port, web_and_gossip_ports};
use super::process::Guarded;
use super::ready::wait_ready;
use super::tools::find_tool;

/// A running Alertmanager.
pub struct Alertmanager {
    _child: Guarded,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// The address Prometheus sends alerts to.
    pub addr: std::net::SocketAddr,
    /// The gossip address other peers join, when started as a cluster peer.
    pub gossip: Option<std::net::SocketAddr>,
    dir: tempfile::TempDir,
}

/// How a clustered Alertmanager gossips (see [`Alertmanager::start_peer`]).
#[derive(Debug, Clone)]
pub struct Gossip {
    /// Peers to join (their gossip addresses); empty for the first peer.
    pub join: Vec<std::net::SocketAddr>,
    /// `--cluster.peer-timeout`: how long the peer at position N waits (times N) before it notifies.
    pub peer_timeout: Duration,
    /// `--cluster.gossip-interval`; the gossip settles in about 4 x 10 intervals.
    pub interval: Duration,
}

impl Alertmanager {
    /// Starts Alertmanager with `config` (YAML text) and waits until it is ready. The binary is Debian's
    /// `prometheus-alertmanager` or upstream's `alertmanager`.
    pub async fn start(config: &str) -> Self {
        Self::launch(config, None).await
    }

    /// Starts a cluster peer: gossip on a loopback port chosen by the kernel (read back from the process, like the
    /// web port), joining `gossip.join`. Returns once it is ready; [`Alertmanager::wait_cluster`] waits for the
    /// peers to find each other and the gossip to settle.
    pub async fn start_peer(config: &str, gossip: &Gossip) -> Self {
        Self::launch(config, Some(gossip)).await
    }

    async fn launch(config: &str, gossip: Option<&Gossip>) -> Self {
        let bin = find_tool(
            &["prometheus-alertmanager", "alertmanager"],
            "prometheus-alertmanager",
        );
        let dir = tempfile::tempdir().expect("alertmanager temp dir");
        let cfg = dir.path().join("alertmanager.yml");
        std::fs::write(&cfg, config).expect("write alertmanager.yml");
        let log = std::fs::File::create(dir.path().join("alertmanager.log")).expect("log file");
        let mut cmd = Command::new(bin);
        cmd.arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg("--web.listen-address=127.0.0.1:0")
            .arg("--log.level=info")
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        match gossip {
            // An empty address turns the gossip cluster off: no port 9094, no waiting for peers.
            None => cmd.arg("--cluster.listen-address="),
            Some(g) => cmd
                .arg("--cluster.listen-address=127.0.0.1:0")
                .arg(format!(
                    "--cluster.peer-timeout={}ms",
                    g.peer_timeout.as_millis()
                ))
                .arg(format!(
                    "--cluster.gossip-interval={}ms",
                    g.interval.as_millis()
                ))
                .args(g.join.iter().map(|p| format!("--cluster.peer={p}"))),
        };
        let mut child = Guarded::spawn(&mut cmd, "alertmanager");
        let log = dir.path().join("alertmanager.log");
        let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
        let wait = Duration::from_secs(20);
        let (port, gossip_port) = match gossip {
            None => (
                listening_port(&mut child, "alertmanager", wait, read_log).await,
                None,
            ),
            Some(_) => {
                let (web, gossip) =
                    web_and_gossip_ports(&mut child, "alertmanager", wait, read_log).await;
                (web, Some(gossip))
            }
        };
        let loopback = |port| std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let am = Self {
            _child: child,
            url: format!("http://127.0.0.1:{port}"),
            addr: loopback(port),
            gossip: gossip_port.map(loopback),
            dir,
        };
        wait_ready(&am.url, "alertmanager", Duration::from_secs(20), || {
            am.log()
        })
        .await;
        am
    }

    /// Waits until this peer sees `members` cluster members (itself included) and its gossip has settled
    /// (`/api/v2/status`: `cluster.status` "ready"); until then it holds notifications back.
    pub async fn wait_cluster(&self, members: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let status = self.get_json("/api/v2/status").await;
            let peers = status["cluster"]["peers"].as_array().map_or(0, Vec::len);
            if peers == members && status["cluster"]["status"] == "ready" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "alertmanager cluster not formed: {}; log:\n{}",
                status["cluster"],
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A sample of Alertmanager's own `/metrics` (first series of `name`, any labels), if exposed.
    pub async fn metric(&self, name: &str) -> Option<f64> {
        let text = reqwest::get(format!("{}/metrics", self.url))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.lines()
            .filter(|l| {
                l.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with([' ', '{']))
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .reduce(|a, b| a + b)
    }

    async fn get_json(&self, path: &str) -> Value {
        let body = reqwest::get(format!("{}{path}", self.url))
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
            .text()
            .await
            .expect("body");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path} is not JSON ({e}): {body}"))
    }

    /// Alertmanager's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("alertmanager.log")).unwrap_or_default()
    }

    /// The alerts Alertmanager holds (`GET /api/v2/alerts`): each with `labels`, `status.state` and the
    /// `receivers` its route chose.
    pub async fn alerts(&self) -> Vec<Value> {
        self.get_json("/api/v2/alerts")
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Waits until Alertmanager holds an alert named `alertname`; returns it.
    pub async fn wait_alert(&self, alertname: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let alerts = self.alerts().await;
            if let Some(a) = alerts
                .iter()
                .find(|a| a["labels"]["alertname"] == alertname)
            {
                return a.clone();
            }
            assert!(
                Instant::now() < deadline,
                "alertmanager never received {alertname}; it holds {:?}",
                alerts
                    .iter()
                    .map(|a| a["labels"]["alertname"].clone())
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
