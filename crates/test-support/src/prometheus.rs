//! Real Prometheus for tests: running a Prometheus server on a loopback port with its
//! own temporary data directory, killed when dropped (its process is a [`Guarded`]); reading a query's sample.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::ports::listening_port;
use super::process::Guarded;
use super::ready::wait_ready;
use super::tools::tool;

/// A Prometheus server for one test.
pub struct Prometheus {
    _child: Guarded,
    /// Base URL, e.g. `http://127.0.0.1:PORT`.
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts Prometheus with `config` (YAML text; rule files may be referenced by absolute path) and waits until
    /// it is ready.
    pub async fn start(config: &str, extra_args: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("prometheus.yml");
        std::fs::write(&cfg, config).unwrap();
        let data = dir.path().join("data");
        let mut cmd = Command::new(tool("prometheus"));
        cmd.arg(format!("--config.file={}", cfg.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg("--web.listen-address=127.0.0.1:0")
            .arg("--log.level=warn")
            // Targets are picked up within 100 ms instead of the default 5 s, so `absent(up)` does not linger at
            // start (the alert tests scale every `for:` down, which would make that delay look like an outage).
            .arg("--scrape.discovery-reload-interval=100ms")
            .args(extra_args)
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.path().join("prometheus.log")).unwrap(),
            ));
        let mut child = Guarded::spawn(&mut cmd, "prometheus");
        let log = dir.path().join("prometheus.log");
        let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
        let port =
            listening_port(&mut child, "prometheus", Duration::from_secs(30), read_log).await;
        let p = Self {
            _child: child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        wait_ready(&p.url, "prometheus", Duration::from_secs(30), || p.log()).await;
        p
    }

    /// Prometheus' log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// Replaces the configuration and reloads it (needs `--web.enable-lifecycle`).
    pub async fn reload(&self, config: &str) {
        std::fs::write(self._dir.path().join("prometheus.yml"), config).unwrap();
        let r = reqwest::Client::new()
            .post(format!("{}/-/reload", self.url))
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "reload failed: {}; log:\n{}",
            r.status(),
            self.log()
        );
    }

    /// Waits until Prometheus has discovered `n` Alertmanagers to send alerts to (`/api/v1/alertmanagers`); alerts
    /// sent before that are dropped.
    pub async fn wait_alertmanagers(&self, n: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let body = reqwest::get(format!("{}/api/v1/alertmanagers", self.url))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let r: serde_json::Value =
                serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
            let active = r["data"]["activeAlertmanagers"]
                .as_array()
                .map_or(0, Vec::len);
            if active == n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "Prometheus sends to {active} Alertmanagers, not {n}: {r}; log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Directory for files the test wants next to the config.
    pub fn dir(&self) -> &Path {
        self._dir.path()
    }

    /// An instant query; returns the `data.result` array.
    pub async fn query(&self, promql: &str) -> Vec<serde_json::Value> {
        let url = url::Url::parse_with_params(
            &format!("{}/api/v1/query", self.url),
            &[("query", promql)],
        )
        .unwrap();
        let body = reqwest::get(url).await.unwrap().text().await.unwrap();
        let r: serde_json::Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        assert_eq!(r["status"], "success", "query {promql} failed: {r}");
        r["data"]["result"].as_array().cloned().unwrap_or_default()
    }

    /// Queries until the result is non-empty and `cond` holds on it.
    pub async fn wait_query(
        &self,
        promql: &str,
        timeout: Duration,
        cond: impl Fn(&[serde_json::Value]) -> bool,
    ) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let r = self.query(promql).await;
            if !r.is_empty() && cond(&r) {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "query {promql} never satisfied; last {r:?}; log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The numeric value of an instant-vector sample.
pub fn sample_value(sample: &serde_json::Value) -> f64 {
    sample["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("sample value")
}
