//! Finds the dotted key (`poll.node_interval`, `node[1].rpc_url`) at a byte offset of a TOML text, so a file
//! error names what to fix instead of just a line. A light scan, not a second parser: it understands
//! `[table]`, `[[array]]` headers and `key = value` lines, which is all this file format uses.

/// The key whose line contains `offset`, prefixed with its table (and array index).
pub(super) fn key_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("").trim();
    if let Some(h) = header(line) {
        return Some(h.to_string());
    }
    let own = line.split('=').next()?.trim().trim_matches('"');
    if own.is_empty() {
        return None;
    }
    Some(match table_of(&text[..line_start]) {
        Some(table) => format!("{table}.{own}"),
        None => own.to_string(),
    })
}

/// When `offset` is on a table header: the `key = value` lines of that table (byte offset of each line, key), up
/// to the next header. Serde reports errors inside a flattened struct at the table, not at the key; this lets the
/// caller find the key.
pub(super) fn table_entries(text: &str, offset: usize) -> Vec<(usize, &str)> {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let mut lines = text[start..].split_inclusive('\n');
    let mut at = start;
    match lines.next() {
        Some(first) if header(first.trim()).is_some() => at += first.len(),
        _ => return Vec::new(),
    }
    let mut out = Vec::new();
    for line in lines {
        let t = line.trim();
        if header(t).is_some() {
            break;
        }
        if let Some((k, _)) = t.split_once('=').filter(|_| !t.starts_with('#')) {
            out.push((at, k.trim().trim_matches('"')));
        }
        at += line.len();
    }
    out
}

/// `[web]` -> `web`, `[[node]]` -> `node`.
fn header(line: &str) -> Option<&str> {
    let line = line.split('#').next()?.trim();
    let inner = line.strip_prefix('[')?.strip_suffix(']')?;
    let inner = inner
        .strip_prefix('[')
        .and_then(|i| i.strip_suffix(']'))
        .unwrap_or(inner);
    Some(inner.trim())
}

/// The table in force at the end of `before`: `poll`, or `node[2]` for the third `[[node]]`.
fn table_of(before: &str) -> Option<String> {
    let mut current: Option<(String, bool)> = None;
    let mut counts: Vec<(String, usize)> = Vec::new();
    for line in before.lines() {
        let t = line.trim();
        let Some(name) = header(t) else { continue };
        let array = t.starts_with("[[");
        if array {
            match counts.iter_mut().find(|(n, _)| n == name) {
                Some((_, c)) => *c += 1,
                None => counts.push((name.to_string(), 0)),
            }
        }
        current = Some((name.to_string(), array));
    }
    let (name, array) = current?;
    if !array {
        return Some(name);
    }
    let index = counts
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(0, |(_, c)| *c);
    Some(format!("{name}[{index}]"))
}

#[cfg(test)]
mod tests {
    use super::{key_at, table_entries};

    #[test]
    fn keys_in_tables_and_arrays() {
        let text = "top = 1\n[poll]\nnode_interval = \"5x\"\n[[node]]\nname = \"a\"\n[[node]]\nrpc_ulr = \"x\"\n";
        let at = |needle: &str| text.find(needle).unwrap();
        assert_eq!(key_at(text, at("top")).as_deref(), Some("top"));
        assert_eq!(
            key_at(text, at("\"5x\"")).as_deref(),
            Some("poll.node_interval")
        );
        assert_eq!(key_at(text, at("name")).as_deref(), Some("node[0].name"));
        assert_eq!(
            key_at(text, at("rpc_ulr")).as_deref(),
            Some("node[1].rpc_ulr")
        );
        assert_eq!(key_at(text, at("[poll]")).as_deref(), Some("poll"));
    }

    #[test]
    fn entries_of_the_table_at_a_header() {
        let text = "[[node]]\nname = \"a\"\n# c = 1\n\nwork_dir = 5\n[[node]]\nx = 1\n";
        let entries = table_entries(text, 0);
        let keys: Vec<&str> = entries.iter().map(|(_, k)| *k).collect();
        assert_eq!(keys, ["name", "work_dir"]);
        assert!(text[entries[1].0..].starts_with("work_dir"));
        assert!(
            table_entries(text, text.find("name").unwrap()).is_empty(),
            "not a header"
        );
    }
}
