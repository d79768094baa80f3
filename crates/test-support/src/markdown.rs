//! The repository's Markdown as GitHub renders it: heading anchors and relative links, so the tests can prove that
//! every link between the README, `docs/` and the runbook lands on a file and heading that exist.

use std::collections::{BTreeMap, BTreeSet};

/// GitHub's heading anchors of a Markdown document (lower case; punctuation other than `-`/`_` dropped; spaces
/// become `-`; repeated headings get `-1`, `-2`, ...). Headings inside code fences do not count.
pub fn anchors(md: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for line in outside_fences(md) {
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if hashes == 0 || hashes > 6 || !line[hashes..].starts_with(' ') {
            continue;
        }
        let slug: String = line[hashes..]
            .trim()
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect();
        let n = seen.entry(slug.clone()).or_insert(0);
        out.insert(if *n == 0 {
            slug.clone()
        } else {
            format!("{slug}-{n}")
        });
        *n += 1;
    }
    out
}

/// A link inside the repository: the file part (empty for `#anchor` links to the same document) and the anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Path relative to the linking document's directory; empty for a link into the same document.
    pub path: String,
    /// Heading anchor after `#`, if any.
    pub anchor: Option<String>,
}

/// Every inline link `[text](target)` outside code fences and code spans whose target is not a URL (`http:`,
/// `https:`, `file:`, `mailto:`), i.e. every link that must resolve inside the repository.
pub fn relative_links(md: &str) -> Vec<Link> {
    let mut out = Vec::new();
    for line in outside_fences(md) {
        let text = without_code_spans(line);
        let mut rest = text.as_str();
        while let Some(pos) = rest.find("](") {
            let after = &rest[pos + 2..];
            let Some(end) = after.find(')') else { break };
            let target = &after[..end];
            rest = &after[end..];
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((p, a)) => (p.to_string(), Some(a.to_string())),
                None => (target.to_string(), None),
            };
            out.push(Link { path, anchor });
        }
    }
    out
}

fn outside_fences(md: &str) -> impl Iterator<Item = &str> {
    let mut in_fence = false;
    md.lines().filter(move |line| {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            return false;
        }
        !in_fence
    })
}

/// The line with every `code span` removed (a `](` inside one is no link).
fn without_code_spans(line: &str) -> String {
    line.split('`').step_by(2).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_anchors_follow_githubs_rules() {
        let a = anchors(
            "# Primary/standby failover\n```\n# not a heading\n```\n## ConfluxNodeDown\n## ConfluxNodeDown\n",
        );
        let want: BTreeSet<String> = [
            "primarystandby-failover",
            "confluxnodedown",
            "confluxnodedown-1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(a, want);
    }

    #[test]
    fn links_skip_urls_code_and_fences() {
        let md = "See [a](docs/a.md#x), [b](#y) and [c](https://e.org/z).\n`[d](no.md)`\n```\n[e](no.md)\n```\n";
        assert_eq!(
            relative_links(md),
            vec![
                Link {
                    path: "docs/a.md".into(),
                    anchor: Some("x".into())
                },
                Link {
                    path: String::new(),
                    anchor: Some("y".into())
                },
            ]
        );
    }
}
