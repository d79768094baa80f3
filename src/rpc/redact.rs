//! URL redaction: reference URLs often carry an API key in the path (`https://main.confluxrpc.com/<key>`) or
//! credentials in the userinfo/query, so anything printable about a target goes through here.

use url::Url;

/// Returns `scheme://host[:port]` plus a marker when a path, query or credentials were removed.
/// Unparseable input is replaced entirely, since we cannot know which part is secret.
pub(crate) fn redact_url(raw: &str) -> String {
    let Ok(url) = Url::parse(raw) else {
        return "<unparseable url>".to_string();
    };
    // With an `@` in the text but no user info parsed, the password held a `/`, `#` or `?` and what parsed as the
    // host (and port) is the user name and the start of the password: nothing of it is shown.
    if raw.contains('@') && url.username().is_empty() && url.password().is_none() {
        return format!("{}://<redacted>", url.scheme());
    }
    let host = url.host_str().unwrap_or("");
    let mut out = format!("{}://{}", url.scheme(), host);
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    let hidden = url.path() != "/" && !url.path().is_empty()
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some();
    out.push_str(if hidden { "/<redacted>" } else { "/" });
    out
}

/// Removes every occurrence of the secret parts of `raw` (path, query, userinfo) from a free text such as an error
/// message produced by a library that printed the URL.
pub(crate) fn scrub(text: &str, raw: &str) -> String {
    let Ok(url) = Url::parse(raw) else {
        return text.replace(raw, "<redacted>");
    };
    let mut out = text.replace(raw, &redact_url(raw));
    let mut secrets: Vec<String> = Vec::new();
    if url.path().len() > 1 {
        secrets.push(url.path().to_string());
    }
    if let Some(q) = url.query() {
        secrets.push(q.to_string());
    }
    if !url.username().is_empty() {
        secrets.push(url.username().to_string());
    }
    if let Some(p) = url.password() {
        secrets.push(p.to_string());
    }
    for s in secrets.iter().filter(|s| s.len() >= 3) {
        out = out.replace(s.as_str(), "/<redacted>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_path_query_and_userinfo() {
        assert_eq!(
            redact_url("https://main.confluxrpc.com/abcdef0123456789"),
            "https://main.confluxrpc.com/<redacted>"
        );
        assert_eq!(
            redact_url("https://user:pw@host.example:8443/x?key=1"),
            "https://host.example:8443/<redacted>"
        );
        assert_eq!(
            redact_url("http://127.0.0.1:12539"),
            "http://127.0.0.1:12539/"
        );
        assert_eq!(redact_url("not a url"), "<unparseable url>");
        assert_eq!(
            redact_url("https://aliceUSER:1234/wOrD1@main.example.com/"),
            "https://<redacted>",
            "user name and password parsed as host and port"
        );
    }

    #[test]
    fn scrubs_free_text() {
        let raw = "https://u:secretpw@main.confluxrpc.com/APIKEY123?token=zzz";
        let msg =
            format!("error sending request for url ({raw}): timed out; path /APIKEY123 secretpw");
        let s = scrub(&msg, raw);
        for secret in ["APIKEY123", "secretpw", "token=zzz"] {
            assert!(!s.contains(secret), "{s}");
        }
    }
}
