//! Whether a URL's host is this machine, which decides if the node's process
//! can be looked up by its RPC port in this machine's `/proc`.

use std::net::{IpAddr, UdpSocket};

/// True when `host` (as in a URL: `localhost`, `127.0.0.1`, `[::1]`) names
/// this machine, so that its `/proc` holds the node's process.
///
/// Loopback and unspecified addresses, `localhost` (and `*.localhost`), this
/// machine's hostname, and any IP address that can be bound here (that is,
/// one assigned to a local interface; a cheap non-blocking probe). Other
/// names are not resolved: DNS would block and could lie, and a remote node
/// has no process here to inspect.
pub(crate) fn is_local_host(host: &str) -> bool {
    let host = strip_brackets(host);
    if is_loopback_host(host) {
        return true;
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return UdpSocket::bind((ip.to_canonical(), 0)).is_ok();
    }
    let node = rustix::system::uname();
    node.nodename()
        .to_str()
        .is_ok_and(|n| !n.is_empty() && n.eq_ignore_ascii_case(host.trim_end_matches('.')))
}

/// The pure part of [`is_local_host`]: names and addresses that are this
/// host on every machine.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let host = strip_brackets(host).trim_end_matches('.');
    if host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(ip) => {
            let ip = ip.to_canonical();
            ip.is_loopback() || ip.is_unspecified()
        }
        Err(_) => false,
    }
}

fn strip_brackets(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "LOCALHOST",
            "localhost.",
            "node.localhost",
            "127.0.0.1",
            "127.8.9.10",
            "::1",
            "[::1]",
            "::ffff:127.0.0.1",
            "0.0.0.0",
            "[::]",
        ] {
            assert!(is_loopback_host(h), "{h}");
            assert!(is_local_host(h), "{h}");
        }
        for h in [
            "example.com",
            "8.8.8.8",
            "[2001:db8::1]",
            "",
            "localhost.example.com",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn local_host_by_hostname_and_documentation_ips() {
        let node = rustix::system::uname();
        let name = node.nodename().to_str().unwrap_or_default().to_string();
        if !name.is_empty() {
            assert!(is_local_host(&name));
            assert!(is_local_host(&name.to_ascii_uppercase()));
        }
        // TEST-NET addresses are never assigned to a real interface.
        assert!(!is_local_host("192.0.2.1"));
        assert!(!is_local_host("[2001:db8::1]"));
        assert!(!is_local_host("conflux-node.invalid"));
    }
}
