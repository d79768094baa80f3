//! Counting what a webhook receiver got, notification by notification: how many per alert and state, and which
//! notifications repeat an earlier one of their group sooner than the route's `repeat_interval` allows (a
//! duplicate: two Alertmanagers, or two Prometheus replicas, paging for the same thing).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use super::webhook::Notified;

/// One alert of a notification: its state (`firing`, `resolved`) and labels.
pub type AlertState = (String, BTreeMap<String, String>);

/// One notification (one POST) as the receiver got it.
#[derive(Debug, Clone)]
pub struct Page {
    /// Order of arrival (0 first).
    pub post: usize,
    /// When it arrived.
    pub at: Instant,
    /// Receiver path (`/pager`, `/chat`, `/deadmansswitch`).
    pub path: String,
    /// Alertmanager's group key.
    pub group_key: String,
    /// Its alerts and their states.
    pub alerts: BTreeSet<AlertState>,
}

impl Page {
    /// Whether one of its alerts is `alertname` in state `status`.
    pub fn has(&self, alertname: &str, status: &str) -> bool {
        self.alerts
            .iter()
            .any(|(s, l)| s == status && l.get("alertname").map(String::as_str) == Some(alertname))
    }
}

/// The notifications of `received`, in order of arrival.
pub fn pages(received: &[Notified]) -> Vec<Page> {
    let mut out: BTreeMap<usize, Page> = BTreeMap::new();
    for n in received {
        let page = out.entry(n.post).or_insert_with(|| Page {
            post: n.post,
            at: n.at,
            path: n.path.clone(),
            group_key: n.group_key.clone(),
            alerts: BTreeSet::new(),
        });
        page.alerts.insert((n.status.clone(), n.labels.clone()));
    }
    out.into_values().collect()
}

/// How many notifications carry each (alert name, state), among `pages`.
pub fn counts<'a>(pages: impl IntoIterator<Item = &'a Page>) -> BTreeMap<(String, String), usize> {
    let mut out = BTreeMap::new();
    for p in pages {
        let named: BTreeSet<(String, String)> = p
            .alerts
            .iter()
            .map(|(s, l)| (l.get("alertname").cloned().unwrap_or_default(), s.clone()))
            .collect();
        for key in named {
            *out.entry(key).or_insert(0) += 1;
        }
    }
    out
}

/// Notifications that repeat the previous notification of their group (same alerts in the same states) sooner
/// than three quarters of `repeat(path)`, the repeat interval of the receiver's route. Alertmanager repeats a
/// notification only once that interval has passed since the last one was sent (by any peer of a cluster, as
/// gossiped), checking at its flushes, so a legitimate repeat comes a whole interval later give or take the
/// flush timer's and the delivery's jitter (milliseconds); anything much sooner was sent twice. One line per
/// duplicate.
pub fn duplicates(pages: &[Page], repeat: impl Fn(&str) -> Duration) -> Vec<String> {
    let mut last: BTreeMap<&str, &Page> = BTreeMap::new();
    let mut out = Vec::new();
    for p in pages {
        if let Some(prev) = last.insert(&p.group_key, p) {
            let gap = p.at.duration_since(prev.at);
            if prev.alerts == p.alerts && gap < repeat(&p.path) * 3 / 4 {
                out.push(format!(
                    "notification #{} repeats #{} of group {} after {gap:?} (repeat interval {:?}): {:?}",
                    p.post,
                    prev.post,
                    p.group_key,
                    repeat(&p.path),
                    p.alerts
                ));
            }
        }
    }
    out
}

/// `counts` as one line per alert: `Name firing=1 resolved=1`.
pub fn describe_counts(counts: &BTreeMap<(String, String), usize>) -> String {
    let mut by_name: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for ((name, status), n) in counts {
        by_name
            .entry(name)
            .or_default()
            .push(format!("{status}={n}"));
    }
    by_name
        .iter()
        .map(|(name, c)| format!("  {name} {}", c.join(" ")))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(post: usize, at: Instant, key: &str, name: &str, status: &str) -> Notified {
        Notified {
            seq: post,
            at,
            path: "/pager".into(),
            receiver: "pager".into(),
            group_key: key.into(),
            post,
            status: status.into(),
            labels: [("alertname".to_string(), name.to_string())].into(),
        }
    }

    #[test]
    fn a_repeat_within_the_interval_is_a_duplicate_a_change_is_not() {
        let t = Instant::now();
        let s = Duration::from_secs;
        let received = [
            n(0, t, "g1", "A", "firing"),
            n(1, t + s(1), "g2", "B", "firing"),
            n(2, t + s(2), "g1", "A", "firing"),
            n(3, t + s(3), "g1", "A", "resolved"),
            n(4, t + s(20), "g2", "B", "firing"),
            n(5, t + Duration::from_millis(29_990), "g2", "B", "firing"),
        ];
        let p = pages(&received);
        assert_eq!(p.len(), 6);
        let d = duplicates(&p, |_| s(10));
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].starts_with("notification #2 repeats #0"), "{d:?}");
        let c = counts(&p);
        assert_eq!(c[&("A".to_string(), "firing".to_string())], 2);
        assert_eq!(c[&("A".to_string(), "resolved".to_string())], 1);
        assert_eq!(c[&("B".to_string(), "firing".to_string())], 3);
        assert!(p[3].has("A", "resolved") && !p[3].has("A", "firing"));
    }
}
