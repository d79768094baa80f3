//! PromQL helpers for the lints: which metrics an expression names, which functions it rates, and a parse
//! check through `promtool check rules`.

use std::collections::BTreeSet;

use super::repo::run;
use super::rules::known_metric;

/// Metric names an expression selects (not functions, keywords, labels, numbers or durations). Good enough for
/// the PromQL in this repository: strings, label matchers, ranges and `by (...)`-style lists are dropped first.
pub fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut s = strip_delimited(expr, &['"', '\'', '`']);
    s = strip_brackets(&s, '{', '}');
    s = strip_brackets(&s, '[', ']');
    s = strip_label_lists(&s);
    let chars: Vec<char> = s.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '_')
            {
                i += 1;
            }
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let next = chars[i..].iter().find(|c| !c.is_whitespace());
            let keyword = matches!(
                word.to_ascii_lowercase().as_str(),
                "and" | "or" | "unless" | "by" | "without" | "on" | "ignoring" | "group_left" | "group_right" | "bool" | "offset" | "inf" | "nan"
                    // aggregation operators, which may be followed by `by (...)` instead of `(`
                    | "sum" | "min" | "max" | "avg" | "group" | "stddev" | "stdvar" | "count" | "count_values" | "bottomk" | "topk" | "quantile"
            );
            if next != Some(&'(') && !keyword {
                names.insert(word);
            }
            continue;
        }
        i += 1;
    }
    names
}

/// Whether `name` is a metric the exporter publishes (histogram series included) or one of the recorded names.
pub fn is_known_metric(name: &str, recorded: &BTreeSet<String>) -> bool {
    known_metric(name) || recorded.contains(name)
}

/// Every `rate(`, `irate(` or `increase(` applied directly to a metric: (function, metric name).
pub fn counter_functions(expr: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in ["irate(", "rate(", "increase("] {
        let mut rest = expr;
        while let Some(pos) = rest.find(f) {
            let before = rest[..pos].chars().last();
            let after = &rest[pos + f.len()..];
            rest = after;
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue; // e.g. "irate(" inside "rate(" search, or a longer function name
            }
            let name: String = after
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            out.push((f.trim_end_matches('(').to_string(), name));
        }
    }
    out
}

/// Checks that every expression parses as PromQL, by writing them as recording rules into a temporary rules file
/// and running `promtool check rules` on it. `exprs` are (name for messages, expression).
pub fn promtool_check_exprs(exprs: &[(String, String)]) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("exprs.rules.yml");
    let mut text = String::from("groups:\n  - name: exprs\n    rules:\n");
    for (i, (_, expr)) in exprs.iter().enumerate() {
        // JSON strings are valid YAML flow scalars and escape everything that matters.
        let quoted = serde_json::to_string(expr).map_err(|e| e.to_string())?;
        text.push_str(&format!(
            "      - record: expr_{i}\n        expr: {quoted}\n"
        ));
    }
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    let (ok, out, err) = run(
        "promtool",
        &["check", "rules", path.to_str().unwrap_or_default()],
    );
    if ok {
        return Ok(());
    }
    let legend: Vec<String> = exprs
        .iter()
        .enumerate()
        .map(|(i, (name, e))| format!("expr_{i} = {name}: {e}"))
        .collect();
    Err(format!(
        "promtool check rules failed:\n{out}{err}\n{}",
        legend.join("\n")
    ))
}

fn strip_delimited(s: &str, quotes: &[char]) -> String {
    let mut out = String::new();
    let mut open: Option<char> = None;
    let mut escaped = false;
    for c in s.chars() {
        match open {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    open = None;
                    out.push(' ');
                }
            }
            None if quotes.contains(&c) => open = Some(c),
            None => out.push(c),
        }
    }
    out
}

fn strip_brackets(s: &str, open: char, close: char) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in s.chars() {
        if c == open {
            depth += 1;
        } else if c == close && depth > 0 {
            depth -= 1;
            if depth == 0 {
                out.push(' ');
            }
        } else if depth == 0 {
            out.push(c);
        }
    }
    out
}

fn strip_label_lists(s: &str) -> String {
    let mut out = s.to_string();
    for kw in [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ] {
        let mut result = String::new();
        let mut rest = out.as_str();
        while let Some(pos) = find_word(rest, kw) {
            let after = &rest[pos + kw.len()..];
            let trimmed = after.trim_start();
            result.push_str(&rest[..pos + kw.len()]);
            if let (true, Some(close)) = (trimmed.starts_with('('), trimmed.find(')')) {
                result.push(' ');
                rest = &trimmed[close + 1..];
            } else {
                rest = after;
            }
        }
        result.push_str(rest);
        out = result;
    }
    out
}

fn find_word(s: &str, word: &str) -> Option<usize> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut from = 0;
    while let Some(pos) = s[from..].find(word).map(|p| p + from) {
        let before_ok = s[..pos].chars().last().is_none_or(|c| !is_ident(c));
        let after_ok = s[pos + word.len()..]
            .chars()
            .next()
            .is_none_or(|c| !is_ident(c));
        if before_ok && after_ok {
            return Some(pos);
        }
        from = pos + word.len();
    }
    None
}
