//! conflux-rust version numbers as the node reports them (`cfx_clientVersion`, e.g.
//! `conflux-rust/v3.0.0-<commit>-<date>/x86_64-linux-gnu/rustc1.95.0`) and as releases are named (`v3.0.3-fix`,
//! `v3.1.0-testnet`). Only the release number is compared: Conflux suffixes (`-fix`, `-testnet`, a commit and a
//! date) mark builds of that release, not pre-releases before it, so SemVer's pre-release ordering (which would
//! put `3.0.3-fix` before `3.0.3`) does not apply.

use std::fmt;

/// A release number `major.minor.patch`, ordered numerically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major.
    pub major: u64,
    /// Minor.
    pub minor: u64,
    /// Patch.
    pub patch: u64,
}

impl Version {
    /// `major.minor.patch`.
    pub const fn new(major: u64, minor: u64, patch: u64) -> Self {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// The release number of a version string: the first `N.N.N` that starts the string or follows `v` or `/`
    /// (so `rustc1.95.0` or `x86_64` are never taken for it); `None` when there is none — the caller then leaves
    /// every version verdict unknown.
    pub fn parse(text: &str) -> Option<Version> {
        let bytes = text.as_bytes();
        (0..bytes.len())
            .filter(|&i| i == 0 || matches!(bytes[i - 1], b'v' | b'V' | b'/'))
            .filter(|&i| i < 2 || bytes[i - 1] == b'/' || matches!(bytes[i - 2], b'/' | b'-'))
            .find_map(|i| triple(&text[i..]))
    }
}

/// `N.N.N` at the start of `s`, not followed by another digit or dot-number.
fn triple(s: &str) -> Option<Version> {
    let mut parts = [0u64; 3];
    let mut rest = s;
    for (k, part) in parts.iter_mut().enumerate() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        *part = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        if k < 2 {
            rest = rest.strip_prefix('.')?;
        }
    }
    if rest.starts_with('.') || rest.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Some(Version::new(parts[0], parts[1], parts[2]))
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// `3.1.0` or `v3.1.0` exactly (configuration): an error text saying what is expected otherwise.
impl std::str::FromStr for Version {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bare = s.strip_prefix('v').unwrap_or(s);
        triple(bare)
            .filter(|v| v.to_string() == bare)
            .ok_or_else(|| format!("`{s}` is not a version MAJOR.MINOR.PATCH such as 3.1.0"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_strings_parse_to_their_release() {
        let devnet = "conflux-rust/v3.0.0-VERGEN_IDEMPOTENT_OUTPUT-VERGEN_IDEMPOTENT_OUTPUT/x86_64-linux-gnu/rustc1.95.0";
        assert_eq!(Version::parse(devnet), Some(Version::new(3, 0, 0)));
        let mainnet = "conflux-rust/v3.0.3-fix-f44f1cb11c-20260519/x86_64-linux-gnu/rustc1.88.0";
        assert_eq!(Version::parse(mainnet), Some(Version::new(3, 0, 3)));
        assert_eq!(
            Version::parse("v3.0.3-fix-f44f1cb-20260519"),
            Some(Version::new(3, 0, 3))
        );
        assert_eq!(
            Version::parse("conflux-rust/v2.3.0-3-testnet-abc/linux"),
            Some(Version::new(2, 3, 0))
        );
        assert_eq!(Version::parse("3.1.0"), Some(Version::new(3, 1, 0)));
        assert_eq!(
            Version::parse("conflux-rust/v12.10.7"),
            Some(Version::new(12, 10, 7))
        );
    }

    #[test]
    fn no_release_number_is_none_never_a_guess() {
        for s in [
            "",
            "conflux-rust",
            "conflux-rust/vX/x86_64-linux-gnu/rustc1.95.0",
            "conflux-rust/v3.0/linux",
            "conflux-rust/v3.0.0.1",
            "conflux-rust/v99999999999.0.0",
            "unknown",
            "v\n3.0.0",
        ] {
            assert_eq!(Version::parse(s), None, "{s:?}");
        }
    }

    #[test]
    fn suffixes_are_builds_of_the_release_not_pre_releases() {
        let fix = Version::parse("v3.0.3-fix-abc-20260519");
        let plain = Version::parse("v3.0.3");
        assert_eq!(fix, plain);
        assert!(Version::new(3, 0, 10) > Version::new(3, 0, 9));
        assert!(Version::new(3, 1, 0) > Version::new(3, 0, 99));
    }

    #[test]
    fn configured_versions_are_exact() {
        assert_eq!("3.1.0".parse(), Ok(Version::new(3, 1, 0)));
        assert_eq!("v3.1.0".parse(), Ok(Version::new(3, 1, 0)));
        for bad in ["3.1", "3.1.0-testnet", "x", "03.1.0", ""] {
            assert!(bad.parse::<Version>().is_err(), "{bad}");
        }
    }
}
