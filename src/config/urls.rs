//! URL checks for the config. A URL that does not parse is still shown (the operator must see what is wrong)
//! but with everything that could be a secret masked: user info, path, query and fragment.

use url::Url;

use super::{err, ConfigError};
use crate::rpc::redact_url;

/// An http(s) URL with a host, or an error naming `key` and showing the redacted value.
pub(super) fn check_url(key: &str, raw: &str) -> Result<(), ConfigError> {
    let url = Url::parse(raw)
        .map_err(|e| err(key, format!("not a URL ({e}): {}", redact_unparsable(raw))))?;
    if raw.contains('@') && url.username().is_empty() && url.password().is_none() {
        // `https://user:12/pw@host` parses with host "user" and port 12: the password held a `/`, `#` or `?`.
        return Err(err(
            key,
            format!(
                "has an @ after its host part: user info with /, # or ? in it must be percent-encoded \
                 (%2F, %23, %3F): {}",
                redact_url(raw)
            ),
        ));
    }
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(err(
            key,
            format!("must be an http(s) URL with a host: {}", redact_url(raw)),
        ));
    }
    Ok(())
}

/// What can be shown of a string that is not a URL: its scheme and host when they can be told apart from any
/// secret, else only a marker. A password may hold `/`, `#` or `?`, which end the host part for a URL parser, so a
/// string with an `@` anywhere shows no host at all (what looks like one may be user info); without a scheme only a
/// `host:port` is shown (a bare word may be a fragment of a secret, e.g. a query split at a comma).
pub(super) fn redact_unparsable(raw: &str) -> String {
    let raw = raw.trim();
    let (scheme, rest) = match raw.split_once("://") {
        Some((s, r)) if is_scheme(s) => (Some(s), r),
        _ => (None, raw),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let shown = !raw.contains('@')
        && !authority.is_empty()
        && authority
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_:[]".contains(c))
        && (scheme.is_some() || is_host_port(authority));
    let prefix = scheme.map(|s| format!("{s}://")).unwrap_or_default();
    match (shown, tail.is_empty()) {
        (true, true) => format!("{prefix}{authority}"),
        (true, false) => format!("{prefix}{authority}/<redacted>"),
        (false, _) => format!("{prefix}<redacted>"),
    }
}

fn is_scheme(s: &str) -> bool {
    s.len() <= 16
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

fn is_host_port(s: &str) -> bool {
    s.rsplit_once(':').is_some_and(|(host, port)| {
        !host.is_empty() && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
    })
}

/// `--reference.url` (and its variable) is split at commas, but a URL's query may hold commas: a piece that
/// names no URL (no `://`) is the rest of the one before it, and is joined back to it.
pub(super) fn rejoin_split_urls(pieces: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in pieces {
        match out.last_mut() {
            Some(last) if !p.contains("://") => {
                last.push(',');
                last.push_str(p);
            }
            _ => out.push(p.clone()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unparsable_urls_are_shown_without_secrets() {
        assert_eq!(
            redact_unparsable("https://user:pw@main.example.com:99999/v1/APIKEY"),
            "https://<redacted>"
        );
        assert_eq!(
            redact_unparsable("https://main.example.com:99999/v1/APIKEY"),
            "https://main.example.com:99999/<redacted>"
        );
        assert_eq!(redact_unparsable("htp:/x y/key"), "<redacted>");
        assert_eq!(redact_unparsable("127.0.0.1:12539"), "127.0.0.1:12539");
        assert_eq!(redact_unparsable("BBBBSECRETF"), "<redacted>");
        let e = check_url("node[0].rpc_url", "http://[::1:12539/secretkey").unwrap_err();
        assert_eq!(e.key, "node[0].rpc_url");
        assert!(
            e.message.contains("http://[::1:12539/<redacted>"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("secretkey"), "{}", e.message);
    }

    /// The hostile shapes (docs/security.md): a password holding `/`, `#` or `?` (where a URL parser ends the host part), a user name
    /// and password that parse as host and port, a query split at a comma.
    #[test]
    fn no_part_of_a_secret_is_shown() {
        for raw in [
            "https://aliceUSER:paSS/wOrD1@main.example.com/APIKEYZ",
            "https://aliceUSER:paSS#wOrD1@main.example.com/APIKEYZ",
            "https://aliceUSER:paSS?wOrD1@main.example.com/APIKEYZ",
            "https://aliceUSER:1234/wOrD1@main.example.com/APIKEYZ",
            "http://[::1:12539/aliceUSER?paSS=wOrD1",
            "wOrD1BBBBSECRETF",
        ] {
            let shown = match check_url("reference.url", raw) {
                Err(e) => e.message,
                Ok(()) => redact_url(raw),
            };
            for secret in [
                "aliceUSER",
                "paSS",
                "wOrD1",
                "APIKEYZ",
                "1234",
                "BBBBSECRETF",
            ] {
                assert!(!shown.contains(secret), "{raw} -> {shown}");
            }
        }
    }

    #[test]
    fn pieces_of_a_url_split_at_its_commas_are_joined_back() {
        let pieces: Vec<String> = [
            "a=https://x.example/?k=AAAA",
            "BBBB",
            "c=d",
            "b=https://y.example/",
        ]
        .map(String::from)
        .into();
        assert_eq!(
            rejoin_split_urls(&pieces),
            [
                "a=https://x.example/?k=AAAA,BBBB,c=d",
                "b=https://y.example/"
            ]
        );
        assert_eq!(rejoin_split_urls(&["SECRET".into()]), ["SECRET"]);
    }

    #[test]
    fn a_url_without_scheme_shows_what_was_given() {
        // "127.0.0.1:12539" parses as scheme "127.0.0.1"? No: a scheme cannot start with a digit.
        let e = check_url("node[0].rpc_url", "127.0.0.1:12539").unwrap_err();
        assert!(e.message.contains("127.0.0.1:12539"), "{}", e.message);
    }
}
