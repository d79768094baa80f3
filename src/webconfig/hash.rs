//! Checks a `basic_auth_users` bcrypt hash at start, so that a hash the server cannot use is a configuration
//! error naming the user rather than a silent lock-out (a salt outside bcrypt's base64 makes every verify fail)
//! or hours of CPU per login (cost 31). Messages never quote the hash: it is an offline-crackable secret.

use base64::Engine;

/// Lowest and highest cost bcrypt defines.
pub(crate) const COST_RANGE: std::ops::RangeInclusive<u32> = 4..=31;

/// Costs above this get a start-up warning: each step doubles the CPU of every login the cache has not seen
/// (cost 12 is about a quarter of a second of one core).
pub(crate) const COST_WARN_ABOVE: u32 = 12;

/// Salt and checksum lengths in bcrypt's base64 (16 and 23 bytes).
const SALT_CHARS: usize = 22;
const CHECKSUM_CHARS: usize = 31;

/// The cost of a usable hash `$2a$`/`$2b$`/`$2y$` + two-digit cost + `$` + 22 salt + 31 checksum characters of
/// bcrypt's base64, or what is wrong with it (without the hash).
pub(crate) fn check(hash: &str) -> Result<u32, String> {
    let Some(rest) = ["$2a$", "$2b$", "$2y$"]
        .iter()
        .find_map(|p| hash.strip_prefix(p))
    else {
        return Err(format!(
            "is not a bcrypt hash: it must start with $2a$, $2b$ or $2y$ ({HOW})"
        ));
    };
    let (cost, tail) = rest.split_at_checked(3).unwrap_or((rest, ""));
    let cost = cost
        .strip_suffix('$')
        .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|c| c.parse::<u32>().ok())
        .ok_or_else(|| format!("bcrypt cost is not two digits followed by $ ({HOW})"))?;
    if !COST_RANGE.contains(&cost) {
        return Err(format!(
            "bcrypt cost {cost} is outside {}..={} ({HOW})",
            COST_RANGE.start(),
            COST_RANGE.end()
        ));
    }
    if tail.len() != SALT_CHARS + CHECKSUM_CHARS {
        return Err(format!(
            "bcrypt salt and checksum must be {} characters after the cost, not {} ({HOW})",
            SALT_CHARS + CHECKSUM_CHARS,
            tail.chars().count()
        ));
    }
    // Lengths are in bytes and all-ASCII was not checked yet: split only where it is a boundary.
    let (salt, checksum) = tail
        .split_at_checked(SALT_CHARS)
        .ok_or_else(|| format!("bcrypt salt is not bcrypt base64 ({HOW})"))?;
    // The engine refuses characters outside `./A-Za-z0-9` and non-zero trailing bits, as verify would.
    if bcrypt::BASE_64.decode(salt).map(|s| s.len()) != Ok(16) {
        return Err(format!(
            "bcrypt salt is not bcrypt base64 (22 characters of ./A-Za-z0-9, the last one of .Oeu) ({HOW})"
        ));
    }
    if bcrypt::BASE_64.decode(checksum).map(|s| s.len()) != Ok(23) {
        return Err(format!(
            "bcrypt checksum is not bcrypt base64 (31 characters of ./A-Za-z0-9) ({HOW})"
        ));
    }
    Ok(cost)
}

const HOW: &str = "make one with `htpasswd -nBC 10 USER`";

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "$2b$10$BCr8qRUJEhcRD.LhTVAnNecz0YxDcnahi4yAtDeJ7N2ohAv9lmvna";

    fn with(prefix: &str, cost: &str, salt_and_sum: &str) -> String {
        format!("{prefix}{cost}${salt_and_sum}")
    }

    #[test]
    fn real_hashes_of_every_prefix_pass_with_their_cost() {
        assert_eq!(check(GOOD), Ok(10));
        for p in ["$2a$", "$2y$"] {
            assert_eq!(check(&with(p, "10", &GOOD[7..])), Ok(10));
        }
        let h = bcrypt::hash("pw", 4).unwrap();
        assert_eq!(check(&h), Ok(4));
        assert_eq!(check(&with("$2b$", "31", &GOOD[7..])), Ok(31));
    }

    #[test]
    fn bad_costs_prefixes_and_lengths_are_refused_without_quoting_the_hash() {
        let tail = &GOOD[7..];
        let cases = [
            (with("$2b$", "99", tail), "cost 99 is outside 4..=31"),
            (with("$2b$", "03", tail), "cost 3 is outside"),
            (with("$2b$", "32", tail), "cost 32 is outside"),
            (with("$2b$", "1", tail), "two digits"),
            (with("$2b$", "x1", tail), "two digits"),
            (with("$2x$", "10", tail), "must start with"),
            (with("$1$", "10", tail), "must start with"),
            ("hunter2".to_string(), "must start with"),
            (with("$2b$", "10", &tail[1..]), "53 characters"),
            (with("$2b$", "10", &format!("{tail}a")), "53 characters"),
        ];
        for (hash, want) in cases {
            let e = check(&hash).unwrap_err();
            assert!(e.contains(want), "{hash}: {e}");
            assert!(!e.contains(&tail[..22]) && !e.contains(&tail[22..]), "{e}");
        }
    }

    #[test]
    fn a_salt_or_checksum_outside_bcrypt_base64_is_refused() {
        let (salt, sum) = GOOD[7..].split_at(22);
        // '+' is standard base64 but not bcrypt's; a last salt character with stray low bits (verify refuses it).
        let plus = format!("+{}{sum}", &salt[1..]);
        let stray_bits = format!("{}b{sum}", &salt[..21]);
        let bad_sum = format!("{salt}{}!", &sum[..30]);
        let multibyte = format!("{}é{sum}", &salt[..20]);
        for (tail, want) in [
            (plus, "salt"),
            (stray_bits, "salt"),
            (bad_sum, "checksum"),
            (multibyte, "salt"),
        ] {
            let h = with("$2b$", "10", &tail);
            let e = check(&h).unwrap_err();
            assert!(e.contains(want), "{h}: {e}");
            // What the check refuses, bcrypt could not have verified against either.
            assert!(bcrypt::verify("change-me-example-only", &h).is_err());
        }
    }
}
