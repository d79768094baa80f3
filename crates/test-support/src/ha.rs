//! The highly available alerting path of `examples/prometheus-ha.yml` on loopback: two Prometheus replicas
//! (external label `replica` "a" and "b", dropped from the alerts by the example's own `alert_relabel_configs`)
//! both sending to a two-peer Alertmanager cluster loaded with the shipped `examples/alertmanager.yml`, which
//! delivers to one webhook receiver. Either replica and either peer can be killed mid-test.
//!
//! Timing, and why a page arrives once. Both replicas send every alert to both peers at the same moment, so the two
//! peers create an alert's aggregation group together and flush it in step. The peer at cluster position 0
//! notifies at once; the peer at position 1 waits [`PEER_TIMEOUT`] and then notifies only what the notification
//! log (gossiped every [`GOSSIP_INTERVAL`]) says nobody has sent yet. So a page arrives twice only if the first
//! peer's notification and gossip take longer than the peer timeout: 1 s is 20 gossip rounds, ample on a loaded
//! machine. The peer timeout is kept below every route's `group_interval` (the Watchdog's is the shortest, 2 s
//! here): otherwise the second peer's wait outlasts its flush period, its flushes drift out of step with the
//! first peer's, and a repeat or a resolution can be sent by both. The shipped timers are divided by
//! [`TIMERS`] (`group_wait` 30 s -> 500 ms, `group_interval` 5 m -> 10 s, `repeat_interval` 1 h -> 2 m), so no
//! page of a test's incident is legitimately repeated, and the Watchdog heartbeat repeats every 2 to 4 s.
//!
//! Each replica re-sends a firing alert every [`RESEND_DELAY`] (default 1 m). A freshly (re)loaded Prometheus
//! drops what it sends during the 5 s it takes to discover its Alertmanagers, which costs the Watchdog its first
//! notification: 10 s brings the re-send soon. A shorter delay would make the replicas disagree: a replica that has
//! not yet evaluated a resolution (the replicas evaluate up to an interval or two apart) may re-send the alert as
//! firing just after the other replica sent it resolved, re-opening it for that moment; with 10 s that takes a
//! re-send inside that fraction of a second and a flush inside it too (estimated: a few in ten thousand
//! resolutions). The alerting
//! rules are loaded only once both replicas scrape every target, and the stack is handed over once both know both
//! Alertmanagers again after that reload.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde_norway::Value;

use super::alertmanager::{Alertmanager, Gossip};
use super::prometheus::Prometheus;
use super::repo;
use super::shipped::{self, Timers};
use super::webhook::Webhook;

/// The shipped HA Prometheus example.
pub const PROMETHEUS_HA: &str = "examples/prometheus-ha.yml";
/// Scrape and rule-evaluation interval of both replicas.
pub const INTERVAL: Duration = Duration::from_millis(250);
/// `--cluster.peer-timeout` of both peers.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(1);
/// `--cluster.gossip-interval` of both peers (the gossip settles in 4 x 10 intervals, 2 s).
pub const GOSSIP_INTERVAL: Duration = Duration::from_millis(50);
/// How the shipped Alertmanager timers are divided.
pub const TIMERS: Timers = Timers {
    group_wait: 60,
    group_interval: 30,
    repeat_interval: 30,
};
/// `--rules.alert.resend-delay` of both replicas.
pub const RESEND_DELAY: Duration = Duration::from_secs(10);
/// The replicas' `replica` labels.
pub const REPLICAS: [&str; 2] = ["a", "b"];

/// Two Prometheus replicas, a two-peer Alertmanager cluster and the webhook they deliver to.
pub struct HaStack {
    /// Where every peer's receivers post.
    pub hook: Webhook,
    proms: [Option<Prometheus>; 2],
    ams: [Option<Alertmanager>; 2],
    _rules: tempfile::TempDir,
    started: std::time::Instant,
}

impl HaStack {
    /// Starts the cluster, then both replicas scraping `targets`, and loads the rules once everything is up.
    pub async fn start(targets: &[SocketAddr]) -> Self {
        let started = std::time::Instant::now();
        let wait = Duration::from_secs(30);
        let hook = Webhook::start().await;
        let config = shipped::alertmanager_config_scaled(&hook.base, TIMERS);
        let gossip = |join| Gossip {
            join,
            peer_timeout: PEER_TIMEOUT,
            interval: GOSSIP_INTERVAL,
        };
        let first = Alertmanager::start_peer(&config, &gossip(vec![])).await;
        let join = first.gossip.into_iter().collect();
        let second = Alertmanager::start_peer(&config, &gossip(join)).await;
        let ams = [first.addr, second.addr];

        // The replicas start while the peers' gossip settles.
        let (a, b) = tokio::join!(
            start_replica(REPLICAS[0], targets, &ams),
            start_replica(REPLICAS[1], targets, &ams)
        );
        tokio::join!(first.wait_cluster(2, wait), second.wait_cluster(2, wait));
        let rules = tempfile::tempdir().expect("rules dir");
        let path = shipped::write_scaled_rules(rules.path());
        for (prom, replica) in [&a, &b].into_iter().zip(REPLICAS) {
            prom.reload(&prometheus_config(replica, targets, Some(&path), &ams))
                .await;
        }
        tokio::join!(
            a.wait_alertmanagers(ams.len(), wait),
            b.wait_alertmanagers(ams.len(), wait)
        );
        Self {
            hook,
            proms: [Some(a), Some(b)],
            ams: [Some(first), Some(second)],
            _rules: rules,
            started,
        }
    }

    /// Time since [`HaStack::start`] was called.
    pub fn age(&self) -> Duration {
        self.started.elapsed()
    }

    /// A replica that is still running (the first one).
    pub fn prometheus(&self) -> &Prometheus {
        self.replicas().next().expect("a Prometheus replica runs")
    }

    /// The replicas still running.
    pub fn replicas(&self) -> impl Iterator<Item = &Prometheus> {
        self.proms.iter().flatten()
    }

    /// Peer `i` (0 or 1), unless killed.
    pub fn alertmanager(&self, i: usize) -> Option<&Alertmanager> {
        self.ams[i].as_ref()
    }

    /// The running peer that believes it is at cluster position 0, i.e. the one that notifies first.
    pub async fn notifying_peer(&self) -> usize {
        for (i, am) in self.ams.iter().enumerate() {
            if let Some(am) = am {
                if am.metric("alertmanager_peer_position").await == Some(0.0) {
                    return i;
                }
            }
        }
        panic!("no peer at position 0\n{}", self.diagnostics().await);
    }

    /// Kills replica `i` (SIGKILL, as a crash or a power cut would).
    pub fn kill_prometheus(&mut self, i: usize) {
        assert!(self.proms[i].take().is_some(), "replica {i} already gone");
    }

    /// Kills peer `i` (SIGKILL: it cannot say goodbye to the other peer).
    pub fn kill_alertmanager(&mut self, i: usize) {
        assert!(self.ams[i].take().is_some(), "peer {i} already gone");
    }

    /// Notifications each running peer has sent (its `alertmanager_notifications_total`), by peer.
    pub async fn sent_by_peer(&self) -> Vec<(usize, f64)> {
        let mut out = Vec::new();
        for (i, am) in self.ams.iter().enumerate() {
            if let Some(am) = am {
                let sent = am.metric("alertmanager_notifications_total").await;
                out.push((i, sent.unwrap_or(0.0)));
            }
        }
        out
    }

    /// What each running part holds: the replicas' alerts, the peers' alerts and log tails, the webhook's log.
    pub async fn diagnostics(&self) -> String {
        let mut out = String::new();
        for (p, replica) in self.proms.iter().zip(REPLICAS) {
            let Some(p) = p else { continue };
            let alerts: Vec<String> = p
                .query("ALERTS")
                .await
                .iter()
                .map(|a| format!("{} {}", a["metric"]["alertname"], a["metric"]["alertstate"]))
                .collect();
            out.push_str(&format!(
                "prometheus {replica} ALERTS: {alerts:?}\nlog tail:\n{}\n",
                tail(&p.log(), 10)
            ));
        }
        for (i, am) in self.ams.iter().enumerate() {
            let Some(am) = am else { continue };
            let alerts: Vec<String> = am
                .alerts()
                .await
                .iter()
                .map(|a| format!("{} {}", a["labels"]["alertname"], a["status"]["state"]))
                .collect();
            out.push_str(&format!(
                "alertmanager {i} alerts: {alerts:?}\nlog tail:\n{}\n",
                tail(&am.log(), 15)
            ));
        }
        out.push_str(&format!("webhook received:\n{}", self.hook.describe()));
        out
    }
}

/// Starts replica `replica` without rules (see the module's doc) and waits until it scrapes every target.
async fn start_replica(replica: &str, targets: &[SocketAddr], ams: &[SocketAddr]) -> Prometheus {
    let resend = format!("--rules.alert.resend-delay={}s", RESEND_DELAY.as_secs());
    let cfg = prometheus_config(replica, targets, None, ams);
    let prom = Prometheus::start(&cfg, &["--web.enable-lifecycle", &resend]).await;
    let up = format!("up{{job=\"{}\"}} == 1", shipped::job_name());
    prom.wait_query(&up, Duration::from_secs(30), |r| r.len() == targets.len())
        .await;
    prom
}

/// The HA Prometheus example for one replica: its `external_labels` (with `replica` set to `replica`) and its
/// `alert_relabel_configs` exactly as shipped, around the test's own scrape job (the shipped job name, loopback
/// `targets`, [`INTERVAL`]), `rules` and `alertmanagers`.
pub fn prometheus_config(
    replica: &str,
    targets: &[SocketAddr],
    rules: Option<&Path>,
    alertmanagers: &[SocketAddr],
) -> String {
    let example = repo::yaml(PROMETHEUS_HA);
    let mut labels = example["global"]["external_labels"].clone();
    assert!(
        labels["replica"].is_string(),
        "{PROMETHEUS_HA}: no replica external label"
    );
    labels["replica"] = Value::String(replica.to_string());
    let relabel = example["alerting"]["alert_relabel_configs"].clone();
    assert!(
        relabel.is_sequence(),
        "{PROMETHEUS_HA}: no alerting.alert_relabel_configs"
    );
    let ms = INTERVAL.as_millis();
    let strings = |addrs: &[SocketAddr]| {
        Value::Sequence(addrs.iter().map(|a| Value::String(a.to_string())).collect())
    };
    let mut doc: Value = serde_norway::from_str(&format!(
        "global: {{scrape_interval: {ms}ms, scrape_timeout: {ms}ms, evaluation_interval: {ms}ms}}\n\
         alerting: {{alertmanagers: [{{static_configs: [{{targets: []}}]}}]}}\n\
         scrape_configs: [{{job_name: {}, static_configs: [{{targets: []}}]}}]\n",
        shipped::job_name()
    ))
    .expect("the config skeleton is YAML");
    doc["global"]["external_labels"] = labels;
    doc["alerting"]["alert_relabel_configs"] = relabel;
    doc["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] = strings(alertmanagers);
    doc["scrape_configs"][0]["static_configs"][0]["targets"] = strings(targets);
    if let Some(rules) = rules {
        doc["rule_files"] = Value::Sequence(vec![Value::String(rules.display().to_string())]);
    }
    serde_norway::to_string(&doc).expect("the config serializes")
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_replica_keeps_the_shipped_relabelling_and_gets_its_own_label() {
        let t = [SocketAddr::from(([127, 0, 0, 1], 1))];
        let am = [SocketAddr::from(([127, 0, 0, 1], 2))];
        let a: Value = serde_norway::from_str(&prometheus_config("a", &t, None, &am)).unwrap();
        let b: Value = serde_norway::from_str(&prometheus_config("b", &t, None, &am)).unwrap();
        assert_eq!(a["global"]["external_labels"]["replica"], "a");
        assert_eq!(b["global"]["external_labels"]["replica"], "b");
        let shipped = repo::yaml(PROMETHEUS_HA);
        assert_eq!(
            a["alerting"]["alert_relabel_configs"],
            shipped["alerting"]["alert_relabel_configs"]
        );
        assert_eq!(
            a["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"][0],
            "127.0.0.1:2"
        );
        assert_eq!(a["scrape_configs"][0]["job_name"], repo::JOB);
        assert!(a.get("rule_files").is_none());
    }
}
