//! The module graph of a crate's `src/`, read from its text: which module refers to which (`crate::`, `super::`,
//! `self::` paths, `use` groups included), lifted to siblings, so a cycle such as `dispatch -> cfx -> local ->
//! dispatch` shows as one strongly connected group. A parent and its own children are not a cycle (a parent
//! declares its children, and a child's `use super::*` is the usual way to reach them).
//!
//! Reading text rather than compiler output keeps the check fast and tool-free; its resolution is conservative:
//! a path resolves to the longest prefix that names a module file, so items and inline modules count as their
//! file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (e.g. `["watch", "pos"]`) -> the module paths it refers to.
pub type Graph = BTreeMap<Vec<String>, BTreeSet<Vec<String>>>;

/// Reads every `.rs` file under `src` and returns the reference graph between file modules.
pub fn read_crate(src: &Path) -> Graph {
    let mut files = BTreeMap::new();
    collect(src, src, &mut files);
    let known: BTreeSet<Vec<String>> = files.keys().cloned().collect();
    let mut graph = Graph::new();
    for (module, text) in &files {
        let targets = graph.entry(module.clone()).or_default();
        for path in referenced_paths(&strip_comments(text), module) {
            if let Some(target) = longest_module(&path, &known) {
                if &target != module {
                    targets.insert(target);
                }
            }
        }
    }
    graph
}

/// Groups of sibling modules that refer to each other in a ring, each with the edges that make it.
pub fn sibling_cycles(graph: &Graph) -> Vec<Vec<String>> {
    let mut lifted: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (from, targets) in graph {
        for to in targets {
            let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
            if common == from.len() || common == to.len() {
                continue; // ancestor and descendant
            }
            let a = from[..=common].to_vec();
            let b = to[..=common].to_vec();
            lifted.entry(a).or_default().insert(b.clone());
            lifted.entry(b).or_default();
        }
    }
    strongly_connected(&lifted)
        .into_iter()
        .filter(|group| group.len() > 1)
        .map(|group| {
            let mut edges = Vec::new();
            for from in &group {
                for to in &lifted[from] {
                    if group.contains(to) {
                        edges.push(format!("{} -> {}", from.join("::"), to.join("::")));
                    }
                }
            }
            edges.sort();
            edges
        })
        .collect()
}

fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<Vec<String>, String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read src dir")
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).unwrap().with_extension("");
            let mut module: Vec<String> = rel
                .iter()
                .map(|s| s.to_string_lossy().into_owned())
                .collect();
            if matches!(
                module.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                module.pop();
            }
            if module.first().map(String::as_str) == Some("bin") || rel == Path::new("main") {
                continue; // binaries are their own crates
            }
            let text = std::fs::read_to_string(&path).expect("read source");
            // A `#[path = "x_tests.rs"] mod tests;` file is a child of the file that declares it.
            let module = test_child_of(&module, out).unwrap_or(module);
            out.insert(module, text);
        }
    }
}

/// `guard_tests` is declared inside `guard` as `mod tests`: file it under `guard::tests`.
fn test_child_of(module: &[String], seen: &BTreeMap<Vec<String>, String>) -> Option<Vec<String>> {
    let last = module.last()?;
    let owner = last.strip_suffix("_tests")?;
    let mut parent = module[..module.len() - 1].to_vec();
    parent.push(owner.to_string());
    let declared = seen
        .get(&parent)
        .is_some_and(|t| t.contains(&format!("\"{last}.rs\"")));
    declared.then(|| {
        parent.push("tests".into());
        parent
    })
}

fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|l| l.split_once("//").map_or(l, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Absolute module paths named in `text` of `module`.
fn referenced_paths(text: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !is_ident(bytes[i - 1]) && bytes[i - 1] != b':';
        if starts_word {
            for (prefix, base) in [("crate::", Vec::new()), ("self::", module.to_vec())] {
                if bytes[i..].starts_with(prefix.as_bytes()) {
                    parse_tree(&text[i + prefix.len()..], base, &mut out);
                }
            }
            if bytes[i..].starts_with(b"super::") {
                let mut base = module.to_vec();
                let mut j = i;
                while text[j..].starts_with("super::") {
                    base.pop();
                    j += "super::".len();
                }
                parse_tree(&text[j..], base, &mut out);
                i = j;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Parses `a::b::{c, d::e}` after a path prefix, pushing every full path (up to the first non-module-like step).
fn parse_tree(rest: &str, base: Vec<String>, out: &mut Vec<Vec<String>>) {
    let rest = rest.trim_start();
    if let Some(group) = rest.strip_prefix('{') {
        let mut depth = 0;
        let mut start = 0;
        for (k, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    parse_tree(&group[start..k], base.clone(), out);
                    return;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    parse_tree(&group[start..k], base.clone(), out);
                    start = k + 1;
                }
                _ => {}
            }
        }
        return;
    }
    let len = rest.bytes().take_while(|&b| is_ident(b)).count();
    if len == 0 {
        out.push(base);
        return;
    }
    let mut path = base;
    path.push(rest[..len].to_string());
    match rest[len..].strip_prefix("::") {
        Some(more) => parse_tree(more, path, out),
        None => out.push(path),
    }
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn longest_module(path: &[String], known: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    (0..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| known.contains(p))
}

/// Tarjan's algorithm, iterative enough for a few hundred modules.
fn strongly_connected(
    graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
) -> Vec<Vec<Vec<String>>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        on_stack: BTreeSet<&'a Vec<String>>,
        groups: Vec<Vec<Vec<String>>>,
    }
    fn visit<'a>(w: &mut Walk<'a>, v: &'a Vec<String>) {
        let n = w.index.len();
        w.index.insert(v, n);
        w.low.insert(v, n);
        w.stack.push(v);
        w.on_stack.insert(v);
        for to in &w.graph[v] {
            if !w.index.contains_key(to) {
                visit(w, to);
                let low = w.low[v].min(w.low[to]);
                w.low.insert(v, low);
            } else if w.on_stack.contains(to) {
                let low = w.low[v].min(w.index[to]);
                w.low.insert(v, low);
            }
        }
        if w.low[v] == w.index[v] {
            let mut group = Vec::new();
            while let Some(top) = w.stack.pop() {
                w.on_stack.remove(top);
                group.push(top.clone());
                if top == v {
                    break;
                }
            }
            w.groups.push(group);
        }
    }
    let mut w = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        groups: Vec::new(),
    };
    for v in graph.keys() {
        if !w.index.contains_key(v) {
            visit(&mut w, v);
        }
    }
    w.groups
}
