//! A real Alertmanager for one test: loopback port, its own temporary data directory, clustering off, killed when
//! dropped (its process is a [`Guarded`]).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::ports::listening_port;
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
    dir: tempfile::TempDir,
}

impl Alertmanager {
    /// Starts Alertmanager with `config` (YAML text) and waits until it is ready. The binary is Debian's
    /// `prometheus-alertmanager` or upstream's `alertmanager`.
    pub async fn start(config: &str) -> Self {
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
            // An empty address turns the gossip cluster off: no port 9094, no waiting for peers.
            .arg("--cluster.listen-address=")
            .arg("--log.level=info")
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        let mut child = Guarded::spawn(&mut cmd, "alertmanager");
        let log = dir.path().join("alertmanager.log");
        let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
        let port = listening_port(
            &mut child,
            "alertmanager",
            Duration::from_secs(20),
            read_log,
        )
        .await;
        let am = Self {
            _child: child,
            url: format!("http://127.0.0.1:{port}"),
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
        };
        wait_ready(&am.url, "alertmanager", Duration::from_secs(20), || {
            am.log()
        })
        .await;
        am
    }

    /// Alertmanager's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("alertmanager.log")).unwrap_or_default()
    }

    /// The alerts Alertmanager holds (`GET /api/v2/alerts`): each with `labels`, `status.state` and the
    /// `receivers` its route chose.
    pub async fn alerts(&self) -> Vec<Value> {
        let body = reqwest::get(format!("{}/api/v2/alerts", self.url))
            .await
            .expect("GET /api/v2/alerts")
            .text()
            .await
            .expect("alerts body");
        serde_json::from_str::<Value>(&body)
            .unwrap_or_else(|e| panic!("alerts are not JSON ({e}): {body}"))
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
