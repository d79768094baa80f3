//! Where the captured RPC answers live and how to read them: `tests/fixtures/<set>` when the repo carries a
//! copy (the exporter's and the simulator crate's tests both read this one file), else `shared/fixtures/<set>` in
//! a sibling `shared/` of the repo or of any folder above it (CI puts the repo and `shared/` side by side;
//! engineers' worktrees sit one level deeper).

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The folder of fixture set `set` (`"rpc"` or `"rpc-real"`); panics with the places tried, so a test can
/// never pass by finding nothing.
pub fn dir(set: &str) -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The repository's copy under the workspace root (this file is in `crates/<name>/` of it).
    let mut tried: Vec<PathBuf> = manifest
        .ancestors()
        .take(3)
        .map(|a| a.join("tests/fixtures").join(set))
        .collect();
    tried.extend(
        manifest
            .ancestors()
            .skip(1)
            .map(|a| a.join("shared/fixtures").join(set)),
    );
    tried
        .iter()
        .find(|p| p.is_dir())
        .cloned()
        .unwrap_or_else(|| panic!("fixture set {set} not found; tried {tried:?}"))
}

/// Every `*.json` capture under `root` (sub-folders included), without `_index.json` and `*.request.json`.
pub fn captures(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{d:?}: {e}")) {
            let p = entry.expect("directory entry").path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if p.is_dir() {
                stack.push(p);
            } else if name.ends_with(".json")
                && name != "_index.json"
                && !name.ends_with(".request.json")
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Parses a JSON file, naming it on failure.
pub fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// The file name without `.json`.
pub fn stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string()
}

/// One capture: what was asked, and what the node answered.
#[derive(Debug, Clone)]
pub struct Capture {
    /// Set-relative name, e.g. `early-1min/pos_getStatus`.
    pub name: String,
    /// The JSON-RPC request body, or a transport description such as `"GET /"`; `None` when not recorded.
    pub request: Option<Value>,
    /// HTTP status and content type, when recorded.
    pub http: Option<(u16, String)>,
    /// The response body (`None`: the connection closed without an answer; `Some(Null)`: an empty body).
    pub body: Option<Value>,
}

impl Capture {
    /// Method the capture is about: from the request, else from the file name (`extra_`/`nodeN_` skipped).
    pub fn method(&self) -> String {
        if let Some(m) = self.request.as_ref().and_then(|r| r["method"].as_str()) {
            return m.to_string();
        }
        let base = self.name.rsplit('/').next().unwrap_or_default();
        let parts: Vec<&str> = base
            .split('_')
            .filter(|p| *p != "extra" && !p.starts_with("node"))
            .collect();
        parts.get(..2).map(|p| p.join("_")).unwrap_or_default()
    }
}

/// Every capture of the `rpc-real` set with its request (from `_index.json`, the capture's own wrapper or a
/// `<name>.request.json` beside it).
pub fn real_captures() -> Vec<Capture> {
    let root = dir("rpc-real");
    captures(&root)
        .into_iter()
        .map(|p| {
            let folder = p.parent().expect("file has a folder");
            let index = read_index(folder);
            let name = stem(&p);
            let v = read(&p);
            let rel = p
                .strip_prefix(&root)
                .map(|r| r.with_extension("").display().to_string())
                .unwrap_or_else(|_| name.clone());
            let wrapped = v.get("body").is_some() && v.get("request").is_some();
            let indexed = index.iter().find(|e| e["name"] == name.as_str());
            let request = if wrapped {
                Some(v["request"].clone())
            } else if let Some(e) = indexed {
                Some(e["request"].clone())
            } else {
                let side = folder.join(format!("{name}.request.json"));
                side.is_file().then(|| read(&side)["request"].clone())
            };
            let meta = if wrapped { Some(&v) } else { indexed };
            let http = meta.and_then(|m| {
                Some((
                    m["http_status"].as_u64()? as u16,
                    m["content_type"].as_str()?.to_string(),
                ))
            });
            let body = if v.get("_transport_error").is_some() {
                None
            } else if wrapped {
                Some(v["body"].clone())
            } else {
                Some(v)
            };
            Capture {
                name: rel,
                request,
                http,
                body,
            }
        })
        .collect()
}

fn read_index(folder: &Path) -> Vec<Value> {
    let p = folder.join("_index.json");
    if p.is_file() {
        read(&p).as_array().cloned().unwrap_or_default()
    } else {
        Vec::new()
    }
}
