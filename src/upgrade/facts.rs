//! What `upgrade-check` reads: the running exporter's exposition (the verdicts it already computed) and a live
//! read of the node itself. Parsing is lenient: a line that does not parse is skipped, never a panic.

use std::collections::BTreeMap;

/// One sample: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// The exporter's exposition, parsed.
#[derive(Debug, Clone, Default)]
pub struct Exposition(Vec<Sample>);

impl Exposition {
    /// Parses the text format (label values with escapes are kept verbatim; the checks never read those).
    pub fn parse(text: &str) -> Self {
        Self(text.lines().filter_map(sample).collect())
    }

    /// The value of `name` for `node`, else of the only series of `name` (facts about a key are published on
    /// whichever node read them).
    pub fn node_value(&self, name: &str, node: &str) -> Option<f64> {
        let all: Vec<&Sample> = self.0.iter().filter(|(n, _, _)| n == name).collect();
        let by_node = all
            .iter()
            .find(|(_, l, _)| l.get("node").map(String::as_str) == Some(node));
        match (by_node, all.as_slice()) {
            (Some(s), _) => Some(s.2),
            (None, [only]) => Some(only.2),
            _ => None,
        }
    }

    /// The label `label` of every series of `name` for `node` whose value is `value`.
    pub fn labels_with(&self, name: &str, node: &str, label: &str, value: f64) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, l, v)| {
                n == name && l.get("node").map(String::as_str) == Some(node) && *v == value
            })
            .filter_map(|(_, l, _)| l.get(label).cloned())
            .collect()
    }

    /// Every node named by `name`'s series, but `node`.
    pub fn other_nodes(&self, name: &str, node: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .0
            .iter()
            .filter(|(n, _, _)| n == name)
            .filter_map(|(_, l, _)| l.get("node").cloned())
            .filter(|n| n != node)
            .collect();
        out.dedup();
        out
    }

    /// The first family whose name contains `part`, with its value for `node` (the fork-readiness series of
    /// another change, read by name when present).
    pub fn find_containing(&self, part: &str, node: &str) -> Option<(String, f64)> {
        self.0
            .iter()
            .find(|(n, l, _)| n.contains(part) && l.get("node").map(String::as_str) == Some(node))
            .map(|(n, _, v)| (n.clone(), *v))
    }

    /// Every node the exporter watches (`conflux_up` series).
    pub fn nodes(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .0
            .iter()
            .filter(|(n, _, _)| n == "conflux_up")
            .filter_map(|(_, l, _)| l.get("node").cloned())
            .collect();
        out.dedup();
        out
    }
}

fn sample(line: &str) -> Option<Sample> {
    if line.starts_with('#') || line.trim().is_empty() {
        return None;
    }
    let (series, value) = line.trim_end().rsplit_once(' ')?;
    let value: f64 = value.parse().ok()?;
    let Some((name, rest)) = series.split_once('{') else {
        return Some((series.to_string(), BTreeMap::new(), value));
    };
    let mut labels = BTreeMap::new();
    let mut rest = rest.strip_suffix('}')?;
    while let Some((k, after)) = rest.split_once("=\"") {
        let end = after.find('"')?;
        labels.insert(
            k.trim_start_matches(',').to_string(),
            after[..end].to_string(),
        );
        rest = &after[end + 1..];
    }
    Some((name.to_string(), labels, value))
}

/// What the node itself answered just now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LiveNode {
    /// `cfx_getStatus` answered.
    pub up: bool,
    /// `test_posVotingStatus`, when answered.
    pub voting: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_samples_and_skips_junk() {
        let e = Exposition::parse(
            "# HELP x y\nconflux_up{node=\"a\"} 1\nconflux_up{node=\"b\"} 0\nbad line\nx{a=\"1\" 2\nplain 3\n",
        );
        assert_eq!(e.node_value("conflux_up", "b"), Some(0.0));
        assert_eq!(e.node_value("plain", "a"), Some(3.0), "the only series");
        assert_eq!(
            e.node_value("conflux_up", "c"),
            None,
            "two others: ambiguous"
        );
        assert_eq!(e.nodes(), ["a", "b"]);
        assert_eq!(e.other_nodes("conflux_up", "a"), ["b"]);
    }
}
