//! The watched nodes and the references: names unique and label-safe, URLs http(s) with a host, PoS addresses
//! normalised. Each error names the entry by index (`node[1].rpc_url`).

use super::urls::{check_url, rejoin_split_urls};
use super::{defaults, err, file, Cli, ConfigError, NodeConfig, ReferenceConfig};
use crate::pos_address::PosAddress;

fn check_name(key: &str, name: &str, seen: &mut Vec<String>) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !ok {
        return Err(err(
            key,
            format!("{name:?} must be 1-64 characters of A-Z a-z 0-9 - _ ."),
        ));
    }
    if seen.iter().any(|s| s == name) {
        return Err(err(key, format!("{name:?} is used twice")));
    }
    seen.push(name.to_string());
    Ok(())
}

pub(super) fn resolve_nodes(
    cli: &Cli,
    sections: Vec<file::NodeSection>,
) -> Result<Vec<NodeConfig>, ConfigError> {
    let flags_given =
        cli.node_rpc_url.is_some() || cli.node_name.is_some() || cli.node_pos_address.is_some();
    let sections = if sections.is_empty() {
        vec![file::NodeSection {
            name: cli.node_name.clone(),
            rpc_url: cli.node_rpc_url.clone(),
            pos_address: cli.node_pos_address.clone(),
            ..Default::default()
        }]
    } else if flags_given {
        return Err(err("node.rpc_url", "the --node.* flags describe the single default node; the file already has [[node]] entries"));
    } else {
        sections
    };
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for (i, s) in sections.into_iter().enumerate() {
        let key = |k: &str| format!("node[{i}].{k}");
        let name = s.name.unwrap_or_else(|| {
            if i == 0 {
                defaults::NODE_NAME.into()
            } else {
                String::new()
            }
        });
        check_name(&key("name"), &name, &mut seen)?;
        let rpc_url = s.rpc_url.unwrap_or_else(|| defaults::NODE_RPC_URL.into());
        check_url(&key("rpc_url"), &rpc_url)?;
        let pos_address = match s.pos_address {
            Some(a) => {
                Some(PosAddress::parse(&a).map_err(|e| err(key("pos_address"), e.to_string()))?)
            }
            None => None,
        };
        if s.paths.process_name.as_deref() == Some("") {
            return Err(err(key("process_name"), "must not be empty"));
        }
        out.push(NodeConfig {
            name,
            rpc_url,
            pos_address,
            paths: s.paths,
            cip99_transition_view: s.cip99_transition_view,
        });
    }
    Ok(out)
}

pub(super) fn resolve_references(
    cli: &Cli,
    sections: Vec<file::ReferenceSection>,
) -> Result<Vec<ReferenceConfig>, ConfigError> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    if !cli.reference_urls.is_empty() {
        for (i, raw) in rejoin_split_urls(&cli.reference_urls).iter().enumerate() {
            let (name, url) = match raw.split_once('=') {
                Some((n, u)) if !n.contains("://") => (n.to_string(), u.to_string()),
                _ => (format!("ref{i}"), raw.clone()),
            };
            check_name("reference.url", &name, &mut seen)?;
            check_url("reference.url", &url)?;
            out.push(ReferenceConfig { name, url });
        }
        return Ok(out);
    }
    for (i, s) in sections.into_iter().enumerate() {
        let key = |k: &str| format!("reference[{i}].{k}");
        let name = s.name.ok_or_else(|| err(key("name"), "is required"))?;
        check_name(&key("name"), &name, &mut seen)?;
        let url = s.url.ok_or_else(|| err(key("url"), "is required"))?;
        check_url(&key("url"), &url)?;
        out.push(ReferenceConfig { name, url });
    }
    Ok(out)
}
