//! Webhook receiver, Alertmanager and Prometheus wired together with the shipped files (see [`super::shipped`]
//! for the only changes made to them).

use std::net::SocketAddr;
use std::time::Duration;

use super::prometheus::Prometheus;

use super::alertmanager::Alertmanager;
use super::shipped;
use super::webhook::{Notified, Webhook};

/// Scrape and rule-evaluation interval of the test Prometheus.
pub const INTERVAL: Duration = Duration::from_millis(250);

/// A running Prometheus -> Alertmanager -> webhook pipeline.
pub struct Stack {
    /// Prometheus, loaded with the shipped rules (`for:` scaled).
    pub prom: Prometheus,
    /// Alertmanager, loaded with the shipped example (URLs and timers changed).
    pub am: Alertmanager,
    /// Where Alertmanager's receivers post.
    pub hook: Webhook,
    _rules: tempfile::TempDir,
}

impl Stack {
    /// Starts the three, Prometheus scraping `targets` in the shipped job.
    pub async fn start(targets: &[SocketAddr]) -> Self {
        let hook = Webhook::start().await;
        let am = Alertmanager::start(&shipped::alertmanager_config(&hook.base)).await;
        let rules = tempfile::tempdir().expect("rules dir");
        let path = shipped::write_scaled_rules(rules.path());
        let config = shipped::prometheus_config(targets, INTERVAL, &path, Some(am.addr));
        // Prometheus sends a firing alert at once and then only every resend delay (1 m by default); the very
        // first send can happen before it has resolved the Alertmanager address and is dropped. Resending every
        // 500 ms keeps that start-up race from costing a minute. (A Prometheus flag, not part of the shipped files.)
        let scrape_only = shipped::scrape_only_config(targets, INTERVAL);
        let prom = Prometheus::start(
            &scrape_only,
            &["--rules.alert.resend-delay=500ms", "--web.enable-lifecycle"],
        )
        .await;
        let up = format!("up{{job=\"{}\"}} == 1", shipped::job_name());
        prom.wait_query(&up, Duration::from_secs(30), |r| r.len() == targets.len())
            .await;
        prom.reload(&config).await;
        Self {
            prom,
            am,
            hook,
            _rules: rules,
        }
    }

    /// Waits for a `firing` notification of `alertname`; on timeout fails with [`Stack::diagnostics`].
    pub async fn wait_firing(&self, alertname: &str, timeout: Duration) -> Notified {
        self.wait_notified(alertname, "firing", timeout).await
    }

    /// Waits for a notification of `alertname` with `status` (`firing` or `resolved`).
    pub async fn wait_notified(
        &self,
        alertname: &str,
        status: &str,
        timeout: Duration,
    ) -> Notified {
        match self.hook.wait_for(alertname, status, timeout).await {
            Some(n) => n,
            None => panic!(
                "no {status} {alertname} notification within {timeout:?}\n{}",
                self.diagnostics().await
            ),
        }
    }

    /// What each stage holds: Prometheus' alerts, Alertmanager's alerts and log, the webhook's notifications.
    pub async fn diagnostics(&self) -> String {
        let prom_alerts = self.prom.query("ALERTS").await;
        let prom: Vec<String> = prom_alerts
            .iter()
            .map(|a| {
                format!(
                    "  {} {}",
                    a["metric"]["alertname"], a["metric"]["alertstate"]
                )
            })
            .collect();
        let am: Vec<String> = self
            .am
            .alerts()
            .await
            .iter()
            .map(|a| {
                format!(
                    "  {} {} -> {}",
                    a["labels"]["alertname"], a["status"]["state"], a["receivers"]
                )
            })
            .collect();
        format!(
            "prometheus log (tail):\n{}\nprometheus ALERTS:\n{}\nalertmanager alerts:\n{}\nwebhook received:\n{}\nalertmanager log (tail):\n{}",
            tail(
                &std::fs::read_to_string(self.prom.dir().join("prometheus.log")).unwrap_or_default(),
                20
            ),
            prom.join("\n"),
            am.join("\n"),
            self.hook.describe(),
            tail(&self.am.log(), 30)
        )
    }
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
