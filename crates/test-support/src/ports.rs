//! Loopback ports for programs that must be told their port up front (the in-process servers bind port 0).

/// A free loopback port (bound then released), for programs that need a port number up front.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}
