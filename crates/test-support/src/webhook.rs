//! The webhook receiver Alertmanager notifies in the end-to-end tests: a loopback HTTP server that records every
//! alert of every POST, with the path it was posted to (each receiver of the shipped config has its own path:
//! `/pager`, `/chat`, `/deadmansswitch`).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One alert of one notification.
#[derive(Debug, Clone)]
pub struct Notified {
    /// Order of arrival (0 first), across all paths.
    pub seq: usize,
    /// When the POST arrived.
    pub at: Instant,
    /// The URL path, e.g. `/pager`.
    pub path: String,
    /// The notification's `receiver` field.
    pub receiver: String,
    /// The notification's `groupKey`: which aggregation group (route and group labels) it is for.
    pub group_key: String,
    /// Which POST it came in (0 first): the alerts of one notification share it.
    pub post: usize,
    /// The alert's `status`: `firing` or `resolved`.
    pub status: String,
    /// The alert's labels (`alertname`, `severity`, ...).
    pub labels: BTreeMap<String, String>,
}

impl Notified {
    /// The `alertname` label.
    pub fn alertname(&self) -> &str {
        self.labels.get("alertname").map_or("", String::as_str)
    }

    /// The `severity` label.
    pub fn severity(&self) -> &str {
        self.labels.get("severity").map_or("", String::as_str)
    }
}

#[derive(Default)]
struct Log {
    alerts: Vec<Notified>,
    posts: usize,
    /// Requests that were not a valid Alertmanager notification: the test fails on any.
    errors: Vec<String>,
}

/// A running receiver; stops when dropped.
pub struct Webhook {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    log: Arc<Mutex<Log>>,
    task: JoinHandle<()>,
}

impl Webhook {
    /// Binds a loopback port and starts serving.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the webhook port");
        let addr = listener.local_addr().expect("webhook address");
        let log = Arc::new(Mutex::new(Log::default()));
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&log)));
        Self {
            base: format!("http://{addr}"),
            log,
            task,
        }
    }

    /// Every alert received so far, in order.
    pub fn received(&self) -> Vec<Notified> {
        self.log
            .lock()
            .map(|l| l.alerts.clone())
            .unwrap_or_default()
    }

    /// Requests that were not valid notifications.
    pub fn errors(&self) -> Vec<String> {
        self.log
            .lock()
            .map(|l| l.errors.clone())
            .unwrap_or_default()
    }

    /// Waits until an alert named `alertname` arrives with status `status`; returns it, or `None` after
    /// `timeout`.
    pub async fn wait_for(
        &self,
        alertname: &str,
        status: &str,
        timeout: Duration,
    ) -> Option<Notified> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(n) = self
                .received()
                .into_iter()
                .find(|n| n.alertname() == alertname && n.status == status)
            {
                return Some(n);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// One line per received alert, for failure messages.
    pub fn describe(&self) -> String {
        let lines: Vec<String> = self
            .received()
            .iter()
            .map(|n| {
                format!(
                    "  #{} {} {} {} severity={} {:?}",
                    n.seq,
                    n.path,
                    n.alertname(),
                    n.status,
                    n.severity(),
                    n.labels
                )
            })
            .collect();
        if lines.is_empty() {
            "  (nothing)".into()
        } else {
            lines.join("\n")
        }
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, log: Arc<Mutex<Log>>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let log = Arc::clone(&log);
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(req, Arc::clone(&log)));
            // A connection error only means Alertmanager went away; it retries on its own.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    req: Request<Incoming>,
    log: Arc<Mutex<Log>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let at = Instant::now();
    let path = req.uri().path().to_string();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            record_error(&log, format!("{path}: body: {e}"));
            return Ok(Response::new(Full::new(Bytes::new())));
        }
    };
    match parse(&body) {
        Ok(body) => {
            if let Ok(mut l) = log.lock() {
                let post = l.posts;
                l.posts += 1;
                for (status, labels) in body.alerts {
                    let seq = l.alerts.len();
                    l.alerts.push(Notified {
                        seq,
                        at,
                        path: path.clone(),
                        receiver: body.receiver.clone(),
                        group_key: body.group_key.clone(),
                        post,
                        status,
                        labels,
                    });
                }
            }
        }
        Err(e) => record_error(&log, format!("{path}: {e}")),
    }
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
}

fn record_error(log: &Mutex<Log>, e: String) {
    if let Ok(mut l) = log.lock() {
        l.errors.push(e);
    }
}

/// The parts of a notification the tests read.
struct Body {
    receiver: String,
    group_key: String,
    alerts: Vec<(String, BTreeMap<String, String>)>,
}

/// Reads an Alertmanager webhook body: `{"receiver": ..., "groupKey": ..., "alerts": [{"status": ...,
/// "labels": {...}}]}`.
fn parse(body: &[u8]) -> Result<Body, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let receiver = v["receiver"]
        .as_str()
        .ok_or("no receiver field")?
        .to_string();
    let group_key = v["groupKey"]
        .as_str()
        .ok_or("no groupKey field")?
        .to_string();
    let alerts = v["alerts"].as_array().ok_or("no alerts array")?;
    let mut out = Vec::new();
    for a in alerts {
        let status = a["status"].as_str().ok_or("alert without status")?;
        let labels = a["labels"]
            .as_object()
            .ok_or("alert without labels")?
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        out.push((status.to_string(), labels));
    }
    Ok(Body {
        receiver,
        group_key,
        alerts: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notification_bodies_are_read() {
        let body = br#"{"version":"4","receiver":"pager","status":"firing","groupKey":"{}:{alertname=\"A\"}",
            "alerts":[
            {"status":"firing","labels":{"alertname":"A","severity":"critical"}},
            {"status":"resolved","labels":{"alertname":"B"}}]}"#;
        let Body {
            receiver,
            group_key,
            alerts,
        } = parse(body).unwrap();
        assert_eq!(receiver, "pager");
        assert_eq!(group_key, r#"{}:{alertname="A"}"#);
        assert_eq!(alerts.len(), 2);
        assert_eq!(alerts[0].0, "firing");
        assert_eq!(alerts[0].1["severity"], "critical");
        assert_eq!(alerts[1].0, "resolved");
        assert!(parse(b"nope").is_err());
        assert!(parse(br#"{"receiver":"x"}"#).is_err());
        assert!(
            parse(br#"{"receiver":"x","alerts":[]}"#).is_err(),
            "no groupKey"
        );
    }
}
