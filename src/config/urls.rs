//! URL checks for the config. A URL that does not parse is still shown (the operator must see what is wrong)
//! but with everything that could be a secret masked: user info, path, query and fragment.

use url::Url;

use super::{err, ConfigError};
use crate::rpc::redact_url;

/// An http(s) URL with a host, or an error naming `key` and showing the redacted value.
pub fn check_url(key: &str, raw: &str) -> Result<(), ConfigError> {
    let url = Url::parse(raw)
        .map_err(|e| err(key, format!("not a URL ({e}): {}", redact_unparsable(raw))))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(err(
            key,
            format!("must be an http(s) URL with a host: {}", redact_url(raw)),
        ));
    }
    Ok(())
}

/// Best-effort redaction of a string that is not a URL: keeps a scheme-like prefix and the host-like part,
/// masks user info and everything after the host.
pub fn redact_unparsable(raw: &str) -> String {
    let raw = raw.trim();
    let (scheme, rest) = match raw.split_once("://") {
        Some((s, r)) => (format!("{s}://"), r),
        None => (String::new(), raw),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((_, h)) => (true, h),
        None => (false, authority),
    };
    let hidden = userinfo || !tail.trim_start_matches('/').is_empty();
    let user = if userinfo { "<redacted>@" } else { "" };
    let suffix = if hidden && !tail.is_empty() {
        "/<redacted>"
    } else {
        ""
    };
    format!("{scheme}{user}{host}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unparsable_urls_are_shown_without_secrets() {
        assert_eq!(
            redact_unparsable("https://user:pw@main.example.com:99999/v1/APIKEY"),
            "https://<redacted>@main.example.com:99999/<redacted>"
        );
        assert_eq!(redact_unparsable("htp:/x y/key"), "htp:/<redacted>");
        assert_eq!(redact_unparsable("127.0.0.1:12539"), "127.0.0.1:12539");
        let e = check_url("node[0].rpc_url", "http://[::1:12539/secretkey").unwrap_err();
        assert_eq!(e.key, "node[0].rpc_url");
        assert!(
            e.message.contains("http://[::1:12539/<redacted>"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("secretkey"), "{}", e.message);
    }

    #[test]
    fn a_url_without_scheme_shows_what_was_given() {
        // "127.0.0.1:12539" parses as scheme "127.0.0.1"? No: a scheme cannot start with a digit.
        let e = check_url("node[0].rpc_url", "127.0.0.1:12539").unwrap_err();
        assert!(e.message.contains("127.0.0.1:12539"), "{}", e.message);
    }
}
