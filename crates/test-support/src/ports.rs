//! Loopback ports for the programs the tests start. The in-process servers bind port 0 and say which port they
//! got; a child process is told port 0 as well and its port is read back from the kernel ([`listening_port`]),
//! because a number picked up front and released can be taken by a parallel test before the child binds it.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use conflux_pos_exporter::host::sockets::{
    parse_proc_net_tcp, socket_inode_of_link, TcpSocket as ProcSocket, TCP_LISTEN,
};
use tokio::net::TcpSocket;

use super::process::Guarded;

/// A loopback port number nobody listens on, for as long as the guard lives: bound but not listening, so a
/// connection is refused and no other process can take the number meanwhile.
pub struct DeadPort {
    _socket: TcpSocket,
    /// The port number.
    pub port: u16,
}

/// Reserves a [`DeadPort`] on 127.0.0.1.
pub fn dead_port() -> DeadPort {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(([127, 0, 0, 1], 0).into())
        .expect("bind a loopback port");
    let port = socket.local_addr().expect("bound address").port();
    DeadPort {
        _socket: socket,
        port,
    }
}

/// The TCP port `child` listens on (it was started on port 0 and has exactly one listener), waiting up to
/// `timeout` for it to bind. Fails the test, with `log()`, when the child exits or never listens.
pub async fn listening_port(
    child: &mut Guarded,
    what: &str,
    timeout: Duration,
    log: impl Fn() -> String,
) -> u16 {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.child().try_wait().expect("poll the child") {
            panic!("{what} exited ({status}) before listening; log:\n{}", log());
        }
        let ports = listening_ports(child.pid());
        match ports.len() {
            1 => return ports.into_iter().next().unwrap_or_default(),
            0 => {}
            _ => panic!("{what} listens on several ports {ports:?}; log:\n{}", log()),
        }
        assert!(
            Instant::now() < deadline,
            "{what} does not listen; log:\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The web port and the gossip port of a clustered Alertmanager `child` started with both on port 0, waiting up
/// to `timeout` for it to bind them. The gossip library binds one port number for TCP and UDP alike, so the
/// gossip port is the one TCP listener whose number the child also holds as a UDP socket; the web port is the
/// other listener.
pub async fn web_and_gossip_ports(
    child: &mut Guarded,
    what: &str,
    timeout: Duration,
    log: impl Fn() -> String,
) -> (u16, u16) {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.child().try_wait().expect("poll the child") {
            panic!("{what} exited ({status}) before listening; log:\n{}", log());
        }
        let tcp: Vec<u16> = listening_ports(child.pid()).into_iter().collect();
        let udp: Vec<u16> = udp_ports(child.pid()).into_iter().collect();
        if let (&[a, b], &[gossip]) = (tcp.as_slice(), udp.as_slice()) {
            if a == gossip {
                return (b, gossip);
            }
            if b == gossip {
                return (a, gossip);
            }
        }
        assert!(
            tcp.len() <= 2 && udp.len() <= 1,
            "{what} holds unexpected sockets (tcp {tcp:?}, udp {udp:?}); log:\n{}",
            log()
        );
        assert!(
            Instant::now() < deadline,
            "{what} does not listen on a web and a gossip port (tcp {tcp:?}, udp {udp:?}); log:\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Ports of the TCP listeners held by `pid` (from `/proc/PID/fd` and the kernel's TCP tables).
pub fn listening_ports(pid: u32) -> BTreeSet<u16> {
    let inodes = socket_inodes(pid);
    sockets(&["/proc/net/tcp", "/proc/net/tcp6"])
        .into_iter()
        .filter(|s| s.state == TCP_LISTEN && inodes.contains(&s.inode))
        .map(|s| s.local.port())
        .collect()
}

/// Ports of the UDP sockets held by `pid` (the UDP tables have the TCP tables' columns).
pub fn udp_ports(pid: u32) -> BTreeSet<u16> {
    let inodes = socket_inodes(pid);
    sockets(&["/proc/net/udp", "/proc/net/udp6"])
        .into_iter()
        .filter(|s| inodes.contains(&s.inode))
        .map(|s| s.local.port())
        .collect()
}

fn socket_inodes(pid: u32) -> BTreeSet<u64> {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return BTreeSet::new();
    };
    fds.flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|target| socket_inode_of_link(&target.to_string_lossy()))
        .collect()
}

/// Every row of the given `/proc/net` tables.
fn sockets(tables: &[&str]) -> Vec<ProcSocket> {
    tables
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .filter_map(|text| parse_proc_net_tcp(&text).ok())
        .flatten()
        .collect()
}
