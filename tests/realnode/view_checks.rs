//! The chain-view judgements (docs/watching.md) over a recorded run: each scrape reduced to the verdict about node0's key and the view it
//! came from, the state changes as a timeline for the report, and the suite's own reading of both PoS heads (the
//! node's and the reference's) every second, to say when the node's head fell behind.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use super::checks::value;
use super::exposition::Scrape;
use super::recorder::Sample;
use super::rpc::{hex, Rpc};

/// What one scrape says about a node and its key (`None`: the series is absent).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub at: f64,
    pub up: Option<f64>,
    pub pos_up: Option<f64>,
    pub fresh: Option<f64>,
    pub lag_s: Option<f64>,
    /// The view whose `conflux_pos_verdict_view` is 1 (`local`/`reference`); `-` when none is 1.
    pub view: Option<String>,
    pub known: Option<f64>,
    pub at_risk: Option<f64>,
    pub eta_s: Option<f64>,
    pub budget_s: Option<f64>,
    pub budget_blocks: Option<f64>,
    pub retired: Option<f64>,
    pub missed_forecasts: Option<f64>,
    pub interval_s: Option<f64>,
}

fn verdict_view(sc: &Scrape, node: &str) -> Option<String> {
    let views: Vec<String> = sc
        .series("conflux_pos_verdict_view")
        .into_iter()
        .filter(|l| l.get("node").map(String::as_str) == Some(node))
        .filter_map(|l| l.get("view").cloned())
        .collect();
    if views.is_empty() {
        return None;
    }
    let on = views
        .into_iter()
        .find(|v| sc.get("conflux_pos_verdict_view", &[("node", node), ("view", v)]) == Some(1.0));
    Some(on.unwrap_or_else(|| "-".into()))
}

pub fn row(s: &Sample, node: &str) -> Option<Row> {
    let sc = s.scrape.as_ref()?;
    let v = |m: &str| value(sc, m, node);
    Some(Row {
        at: s.at,
        up: v("conflux_up"),
        pos_up: v("conflux_pos_up"),
        fresh: v("conflux_pos_view_fresh"),
        lag_s: v("conflux_pos_view_lag_seconds"),
        view: verdict_view(sc, node),
        known: v("conflux_pos_force_retire_risk_known"),
        at_risk: v("conflux_pos_force_retire_at_risk"),
        eta_s: v("conflux_pos_force_retire_eta_seconds"),
        budget_s: v("conflux_pos_downtime_budget_seconds"),
        budget_blocks: v("conflux_pos_downtime_budget_blocks"),
        retired: v("conflux_pos_force_retired"),
        missed_forecasts: v("conflux_pos_force_retire_forecast_missed_total"),
        interval_s: v("conflux_pos_block_interval_seconds"),
    })
}

pub fn rows(samples: &[Sample], node: &str) -> Vec<Row> {
    samples.iter().filter_map(|s| row(s, node)).collect()
}

fn f(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.0}"))
}

/// The discrete part of a row (what a state change is).
fn state(r: &Row) -> String {
    format!(
        "up {} pos_up {} fresh {} view {} known {} at_risk {} budget {} retired {} missed {}",
        f(r.up),
        f(r.pos_up),
        f(r.fresh),
        r.view.as_deref().unwrap_or("absent"),
        f(r.known),
        f(r.at_risk),
        if r.budget_blocks.is_some() {
            "present"
        } else {
            "absent"
        },
        f(r.retired),
        f(r.missed_forecasts),
    )
}

/// One line per change of state from `from` on, with the continuous values of that scrape.
pub fn timeline(rows: &[Row], from: f64) -> Vec<String> {
    let mut out = Vec::new();
    let mut last = String::new();
    for r in rows.iter().filter(|r| r.at >= from) {
        let s = state(r);
        if s != last {
            out.push(format!(
                "t={:.1}s {s} (lag {}s, eta {}s, budget {}s/{} blocks, block interval {:?}s)",
                r.at,
                f(r.lag_s),
                f(r.eta_s),
                f(r.budget_s),
                f(r.budget_blocks),
                r.interval_s
            ));
            last = s;
        }
    }
    out
}

/// Scrapes at or after `from` whose verdict is read from a stale local view: while the exporter says the node's
/// view is stale (or the node down), `verdict_view{view="local"}` is 1, or the risk is "known" without the
/// reference being the source.
pub fn stale_local_verdicts(rows: &[Row], from: f64) -> Vec<String> {
    rows.iter()
        .filter(|r| r.at >= from)
        .filter(|r| r.fresh == Some(0.0) || r.up == Some(0.0))
        .filter(|r| {
            r.view.as_deref() == Some("local")
                || (r.known == Some(1.0) && r.view.as_deref() != Some("reference"))
        })
        .map(|r| {
            format!(
                "t={:.1}s verdict from a stale local view: {}",
                r.at,
                state(r)
            )
        })
        .collect()
}

/// The first row at or after `from` satisfying `cond`.
pub fn first(rows: &[Row], from: f64, cond: impl Fn(&Row) -> bool) -> Option<&Row> {
    rows.iter().filter(|r| r.at >= from).find(|r| cond(r))
}

/// One reading of a PoS head by the suite (`None`: no answer within the deadline).
#[derive(Debug, Clone, Copy)]
pub struct HeadReading {
    pub at: f64,
    pub node: u16,
    pub committed: Option<u64>,
}

/// The suite's own `pos_getStatus` of each node every second (2 s deadline), times relative to `t0`.
pub struct Heads {
    log: Arc<Mutex<Vec<HeadReading>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Heads {
    pub fn start(nodes: Vec<(u16, Rpc)>, t0: Instant) -> Self {
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = log.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                for (i, rpc) in &nodes {
                    let (l, i, rpc) = (l.clone(), *i, rpc.clone());
                    tokio::spawn(async move {
                        let at = t0.elapsed().as_secs_f64();
                        let committed = rpc
                            .call("pos_getStatus", json!([]), Duration::from_secs(2))
                            .await
                            .ok()
                            .and_then(|s| hex(&s["latestCommitted"]));
                        l.lock().unwrap().push(HeadReading {
                            at,
                            node: i,
                            committed,
                        });
                    });
                }
            }
        });
        Self { log, task }
    }

    pub fn readings(&self) -> Vec<HeadReading> {
        let mut r = self.log.lock().unwrap().clone();
        r.sort_by(|a, b| a.at.total_cmp(&b.at));
        r
    }

    /// The first time at or after `from` that `node`'s head was above `height`.
    pub fn first_above(&self, node: u16, height: u64, from: f64) -> Option<f64> {
        self.readings()
            .into_iter()
            .find(|h| h.node == node && h.at >= from && h.committed.is_some_and(|c| c > height))
            .map(|h| h.at)
    }

    /// The last head `node` answered (time, height).
    pub fn last(&self, node: u16) -> Option<(f64, u64)> {
        self.readings()
            .into_iter()
            .rev()
            .find_map(|h| Some((h.at, h.committed?)).filter(|_| h.node == node))
    }

    /// The head `node` answered at or before `at`.
    pub fn at(&self, node: u16, at: f64) -> Option<u64> {
        self.readings()
            .into_iter()
            .rev()
            .filter(|h| h.node == node && h.at <= at)
            .find_map(|h| h.committed)
    }
}

impl Drop for Heads {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The downtime budget from the fault on, one sample every ~5 s: its value and the retirement it predicts
/// (scrape time + seconds) against the retiring block's time.
pub fn budget(rows: &[Row], fault_at: f64, retire_t: f64, all: bool, out: &mut Vec<String>) {
    let mut next = fault_at - 10.0;
    let mut n = 0;
    for r in rows.iter().filter(|r| r.at >= fault_at - 10.0) {
        let (Some(b), s) = (r.budget_blocks, r.budget_s) else {
            continue;
        };
        if r.at < next || (!all && n >= 12) {
            continue;
        }
        next = r.at + 5.0;
        n += 1;
        let predicted = s.map(|s| format!("{:+.1}s", r.at + s - retire_t));
        out.push(format!(
            "budget t={:.1}s ({:+.1}s from the retiring block): {b} blocks, {} s, view {:?}; predicted retirement vs chain {}",
            r.at,
            r.at - retire_t,
            s.map_or("-".into(), |s| format!("{s:.1}")),
            r.view,
            predicted.unwrap_or("-".into())
        ));
    }
    if n == 0 {
        out.push("no downtime budget published from 10 s before the fault on".into());
    }
}

/// The node stopped: the budget is present from the switch to the reference's view until the retiring block, and
/// its blocks only go down.
pub fn budget_checks(rows: &[Row], fault_at: f64, retire_t: f64, fail: &mut Vec<String>) {
    let Some(from) = first(rows, fault_at, |r| r.view.as_deref() == Some("reference")) else {
        return;
    };
    let window: Vec<&Row> = rows
        .iter()
        .filter(|r| r.at >= from.at && r.at < retire_t)
        .collect();
    let absent: Vec<String> = window
        .iter()
        .filter(|r| r.budget_blocks.is_none() || r.budget_s.is_none())
        .map(|r| format!("t={:.1}s", r.at))
        .collect();
    if window.is_empty() {
        fail.push(
            "the reference's view came only after the retirement: no budget before it".into(),
        );
    }
    if !absent.is_empty() {
        fail.push(format!(
            "downtime budget absent in {} of {} scrapes between the switch and the retirement: {absent:?}",
            absent.len(),
            window.len()
        ));
    }
    let blocks: Vec<(f64, f64)> = window
        .iter()
        .filter_map(|r| Some((r.at, r.budget_blocks?)))
        .collect();
    for w in blocks.windows(2) {
        if w[1].1 > w[0].1 {
            fail.push(format!(
                "downtime budget rose from {} to {} blocks at t={:.1}s",
                w[0].1, w[1].1, w[1].0
            ));
        }
    }
}

/// When the reference's view of the key was read, as the exporter's log does not say: from the switch to the
/// reference's view until the retiring block, each change of the budget's blocks (they move only when a read
/// finds the reference's head moved, about a block a second here), with the gaps between them.
pub fn reads(rows: &[Row], fault_at: f64, retire_t: f64, out: &mut Vec<String>) {
    let Some(from) = first(rows, fault_at, |r| r.view.as_deref() == Some("reference")) else {
        return;
    };
    let mut at = Vec::new();
    let mut last = None;
    for r in rows.iter().filter(|r| r.at >= from.at && r.at < retire_t) {
        if r.budget_blocks.is_some() && r.budget_blocks != last {
            at.push(r.at);
        }
        last = r.budget_blocks;
    }
    let mut gaps: Vec<f64> = at.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort_by(f64::total_cmp);
    let times: Vec<String> = at.iter().map(|t| format!("{t:.1}")).collect();
    out.push(format!(
        "reference reads (budget blocks changed) before the retiring block: {} at t={times:?}; gaps min {:?} median {:?} max {:?} s",
        at.len(),
        gaps.first().map(|g| (g * 10.0).round() / 10.0),
        gaps.get(gaps.len() / 2).map(|g| (g * 10.0).round() / 10.0),
        gaps.last().map(|g| (g * 10.0).round() / 10.0),
    ));
}

/// The exporter's HTTP requests to the reference (`conflux_exporter_rpc_requests_total{target}`), each scrape
/// where the count rose, from `from` on: its own polls (every reference interval) plus the reads of our key's
/// view, so the cadence of those reads shows even where the budget is absent.
pub fn reference_requests(samples: &[Sample], target: &str, from: f64, out: &mut Vec<String>) {
    let mut last = None;
    let mut rises = Vec::new();
    for s in samples.iter().filter(|s| s.at >= from) {
        let Some(n) = s
            .scrape
            .as_ref()
            .and_then(|sc| sc.get("conflux_exporter_rpc_requests_total", &[("target", target)]))
        else {
            continue;
        };
        if let Some(l) = last.filter(|l| n > *l) {
            rises.push(format!("{:.1}(+{})", s.at, n - l));
        }
        last = Some(n);
    }
    out.push(format!(
        "requests to {target} rose at t={} ({} rises)",
        rises.join(" "),
        rises.len()
    ));
}
