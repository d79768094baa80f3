//! Hard forks announced after this release: `[[fork]]` entries in the file, or `--fork` flags (which replace them,
//! like `--reference.url` replaces `[[reference]]`). They are added to the built-in table of their chain; one with
//! the name of a built-in fork replaces it. Every error names the key (`fork[1].min_version`).

use serde::Deserialize;

use super::{err, ConfigError};
use crate::assess::forks::{Fork, Version};

/// One `[[fork]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForkSection {
    /// The chain (`1029` mainnet, `1` testnet).
    pub chain_id: Option<u64>,
    /// The release that brings it, e.g. `v3.1.0` (the `fork` label).
    pub name: Option<String>,
    /// The oldest version that follows the chain past it, e.g. `3.1.0`.
    pub min_version: Option<String>,
    /// The PoW epoch of the activation (the announcement's node-upgrade deadline).
    pub epoch: Option<u64>,
    /// The PoS block number of the activation.
    pub pos_view: Option<u64>,
}

/// Longest fork name: it is a label value.
const MAX_NAME: usize = 32;

/// The configured forks: from the flags when any is given, else from the file.
pub(super) fn resolve_forks(
    flags: &[String],
    file: Vec<ForkSection>,
) -> Result<Vec<Fork>, ConfigError> {
    let from_flags = !flags.is_empty();
    let sections = if from_flags {
        flags
            .iter()
            .map(|f| parse_flag(f))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        file
    };
    let mut forks: Vec<Fork> = Vec::new();
    for (i, s) in sections.into_iter().enumerate() {
        // A flag's errors name the flag (`fork`, so the environment variable is named too) and the field.
        let at = |k: &str| match from_flags {
            true => ("fork".to_string(), format!("{} of --fork #{}: ", k, i + 1)),
            false => (format!("fork[{i}].{k}"), String::new()),
        };
        let f = fork(s, at)?;
        if forks
            .iter()
            .any(|o| o.chain_id == f.chain_id && o.name == f.name)
        {
            let (key, what) = at("name");
            return Err(err(
                key,
                format!(
                    "{what}{:?} is defined twice for chain {}",
                    f.name, f.chain_id
                ),
            ));
        }
        forks.push(f);
    }
    Ok(forks)
}

/// One validated fork.
fn fork(s: ForkSection, at: impl Fn(&str) -> (String, String)) -> Result<Fork, ConfigError> {
    let fail = |k: &str, m: &str| {
        let (key, what) = at(k);
        err(key, format!("{what}{m}"))
    };
    let chain_id = s.chain_id.ok_or_else(|| fail("chain_id", "is required"))?;
    let name = s.name.ok_or_else(|| fail("name", "is required"))?;
    let label_safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    if name.is_empty() || name.len() > MAX_NAME || !name.chars().all(label_safe) {
        let m = format!(
            "{name:?}: expected 1 to {MAX_NAME} characters of A-Z a-z 0-9 . - _ (e.g. v3.1.0)"
        );
        return Err(fail("name", &m));
    }
    let version = s
        .min_version
        .ok_or_else(|| fail("min_version", "is required"))?;
    let min_version: Version = version
        .parse()
        .map_err(|m: String| fail("min_version", &m))?;
    if s.epoch.is_none() && s.pos_view.is_none() {
        return Err(fail(
            "epoch",
            "a fork needs its activation: epoch (PoW), pos_view (PoS block), or both",
        ));
    }
    Ok(Fork {
        chain_id,
        name,
        min_version,
        epoch: s.epoch,
        pos_view: s.pos_view,
    })
}

/// `CHAIN_ID:NAME:MIN_VERSION:EPOCH:POS_VIEW`, where EPOCH or POS_VIEW may be empty.
fn parse_flag(text: &str) -> Result<ForkSection, ConfigError> {
    let bad = |m: String| err("fork", format!("{text:?}: {m}"));
    let parts: Vec<&str> = text.split(':').collect();
    let [chain, name, version, epoch, view] = parts[..] else {
        return Err(bad(
            "expected CHAIN_ID:NAME:MIN_VERSION:EPOCH:POS_VIEW (EPOCH or POS_VIEW may be empty), e.g. 1029:v3.1.0:3.1.0:150000000:3500000".into(),
        ));
    };
    let number = |what: &str, v: &str| -> Result<Option<u64>, ConfigError> {
        if v.is_empty() {
            return Ok(None);
        }
        v.parse()
            .map(Some)
            .map_err(|_| bad(format!("{what} {v:?} is not a whole number")))
    };
    Ok(ForkSection {
        chain_id: Some(
            number("CHAIN_ID", chain)?.ok_or_else(|| bad("CHAIN_ID is required".into()))?,
        ),
        name: Some(name.to_string()),
        min_version: Some(version.to_string()),
        epoch: number("EPOCH", epoch)?,
        pos_view: number("POS_VIEW", view)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(name: &str, version: &str, epoch: Option<u64>) -> ForkSection {
        ForkSection {
            chain_id: Some(1029),
            name: Some(name.into()),
            min_version: Some(version.into()),
            epoch,
            pos_view: None,
        }
    }

    #[test]
    fn file_entries_are_validated_with_their_key() {
        let ok = resolve_forks(&[], vec![section("v3.1.0", "3.1.0", Some(5))]).unwrap();
        assert_eq!(ok[0].min_version, Version::new(3, 1, 0));
        let cases = [
            (section("v3.1.0", "3.1", Some(5)), "fork[0].min_version"),
            (section("v 3", "3.1.0", Some(5)), "fork[0].name"),
            (section("v3.1.0", "3.1.0", None), "fork[0].epoch"),
            (
                ForkSection {
                    chain_id: None,
                    ..section("a", "1.0.0", Some(1))
                },
                "fork[0].chain_id",
            ),
        ];
        for (s, key) in cases {
            assert_eq!(resolve_forks(&[], vec![s]).unwrap_err().key, key);
        }
        let twice = vec![
            section("a", "1.0.0", Some(1)),
            section("a", "1.0.1", Some(2)),
        ];
        assert_eq!(resolve_forks(&[], twice).unwrap_err().key, "fork[1].name");
    }

    #[test]
    fn flags_replace_the_file() {
        let flags = ["1:v3.2.0:3.2.0::4000000".to_string()];
        let got = resolve_forks(&flags, vec![section("a", "1.0.0", Some(1))]).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].chain_id, got[0].epoch, got[0].pos_view),
            (1, None, Some(4_000_000))
        );
        for bad in ["1:v3", "x:v3:3.0.0:1:", "1:v3:3.0.0:1e6:", ":v3:3.0.0:1:"] {
            let e = resolve_forks(&[bad.to_string()], vec![]).unwrap_err();
            assert_eq!(e.key, "fork", "{bad}");
        }
        let e = resolve_forks(&["1:v3:3.0:1:".to_string()], vec![]).unwrap_err();
        assert_eq!(e.key, "fork");
        assert!(
            e.message.starts_with("min_version of --fork #1: "),
            "{}",
            e.message
        );
    }
}
