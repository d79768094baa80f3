//! Records the whole run: every ~1 s one scrape of the exporter and, in parallel, the suite's own `cfx_getStatus`
//! to each watched node, so every verdict can be checked at every scrape afterwards and compared with what the
//! node really answered. Step marks give the handover's timings.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::exposition::Scrape;
use super::rpc::Rpc;

/// One scrape (or why it failed), `at` seconds after the recorder started.
#[derive(Clone)]
pub struct Sample {
    pub at: f64,
    pub scrape: Option<Scrape>,
}

/// One of the suite's own `cfx_getStatus` calls.
#[derive(Clone, Debug)]
pub struct Probe {
    pub node: String,
    pub started: f64,
    pub latency: f64,
    pub ok: bool,
}

#[derive(Default)]
struct Log {
    samples: Vec<Sample>,
    probes: Vec<Probe>,
    marks: Vec<(f64, String)>,
}

pub struct Recorder {
    log: Arc<Mutex<Log>>,
    pub t0: Instant,
    /// Unix time of `t0`, to compare scrapes with the chain's block timestamps.
    pub wall0: f64,
    task: tokio::task::JoinHandle<()>,
}

/// How long the suite's own status probe may take before it counts as "not answering".
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

impl Recorder {
    /// Starts recording; `t0` is the exporter's start.
    pub fn start(port: u16, nodes: Vec<(String, Rpc)>, t0: Instant) -> Self {
        let log = Arc::new(Mutex::new(Log::default()));
        let l = log.clone();
        let task = tokio::spawn(async move {
            let http = reqwest::Client::new();
            let url = format!("http://127.0.0.1:{port}/metrics");
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                for (name, rpc) in &nodes {
                    let (l, name, rpc) = (l.clone(), name.clone(), rpc.clone());
                    tokio::spawn(async move {
                        let started = t0.elapsed().as_secs_f64();
                        let (ok, latency) = rpc.status_probe(PROBE_TIMEOUT).await;
                        l.lock().unwrap().probes.push(Probe {
                            node: name,
                            started,
                            latency,
                            ok,
                        });
                    });
                }
                let at = t0.elapsed().as_secs_f64();
                let scrape = match http.get(&url).timeout(Duration::from_secs(10)).send().await {
                    Ok(r) => r.text().await.ok().map(Scrape::parse),
                    Err(_) => None,
                };
                l.lock().unwrap().samples.push(Sample { at, scrape });
            }
        });
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        let wall0 = since.as_secs_f64() - t0.elapsed().as_secs_f64();
        Self {
            log,
            t0,
            wall0,
            task,
        }
    }

    pub fn now(&self) -> f64 {
        self.t0.elapsed().as_secs_f64()
    }

    /// Records a step of the scenario (for timings and per-phase checks).
    pub fn mark(&self, what: &str) -> f64 {
        let at = self.now();
        eprintln!("[{at:7.1}s] {what}");
        self.log.lock().unwrap().marks.push((at, what.to_string()));
        at
    }

    pub fn samples(&self) -> Vec<Sample> {
        self.log.lock().unwrap().samples.clone()
    }

    pub fn probes(&self) -> Vec<Probe> {
        self.log.lock().unwrap().probes.clone()
    }

    pub fn marks(&self) -> Vec<(f64, String)> {
        self.log.lock().unwrap().marks.clone()
    }

    /// The first scrape recorded from now on satisfying `cond`, with its time; after `timeout` the last scrape's
    /// text instead, so a scenario records the failure and goes on measuring.
    pub async fn try_wait_for(
        &self,
        what: &str,
        timeout: Duration,
        cond: impl Fn(&Scrape) -> bool,
    ) -> Result<(f64, Scrape), String> {
        let mut next = self.log.lock().unwrap().samples.len();
        let deadline = Instant::now() + timeout;
        loop {
            let fresh: Vec<Sample> = self.log.lock().unwrap().samples[next..].to_vec();
            next += fresh.len();
            for s in fresh {
                if let Some(sc) = s.scrape.filter(|sc| cond(sc)) {
                    eprintln!("[{:7.1}s] seen: {what}", s.at);
                    return Ok((s.at, sc));
                }
            }
            if Instant::now() > deadline {
                eprintln!("[{:7.1}s] NOT seen within {timeout:?}: {what}", self.now());
                let last = self.samples().into_iter().rev().find_map(|s| s.scrape);
                return Err(last.map(|s| s.text).unwrap_or_default());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Polls `check` (the suite's own reading of the chain) every second until it yields a value; panics naming
/// `what` after `timeout`.
pub async fn until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
