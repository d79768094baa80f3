//! Which process listens on a TCP port: `/proc/net/tcp{,6}` gives the
//! listening socket's inode, `/proc/PID/fd/*` links (`socket:[inode]`) give
//! its owner.
//!
//! The node's RPC port identifies exactly the process whose RPC we poll, which
//! a pid file or a process name cannot guarantee. Parsing is pure and tested
//! on fixture text; the directory walk is blocking and belongs in
//! `spawn_blocking`. Both tables are those of the exporter's network
//! namespace: a node in another namespace (a container) is not visible here.

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

use thiserror::Error;

/// The kernel's `TCP_LISTEN` state as printed in the `st` column.
pub const TCP_LISTEN: u8 = 0x0A;

/// One row of `/proc/net/tcp` or `/proc/net/tcp6`, reduced to what the
/// lookup needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSocket {
    /// Local address and port.
    pub local: SocketAddr,
    /// Kernel TCP state (`st` column); [`TCP_LISTEN`] for listeners.
    pub state: u8,
    /// Socket inode, the key into `/proc/PID/fd` links.
    pub inode: u64,
}

/// A line of a `/proc/net/tcp*` table that does not have the kernel's shape.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("line {line} of the TCP table is malformed: {reason}")]
pub struct ParseTcpError {
    /// 1-based line number, header included.
    pub line: usize,
    /// What was wrong.
    pub reason: &'static str,
}

/// Parses `/proc/net/tcp` or `/proc/net/tcp6` text (header line included).
///
/// Addresses are printed as native-endian 32-bit words of the network-order
/// bytes, ports as big-endian hex; this decodes both for the host byte order.
pub fn parse_proc_net_tcp(text: &str) -> Result<Vec<TcpSocket>, ParseTcpError> {
    let mut out = Vec::new();
    for (idx, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let err = |reason| ParseTcpError {
            line: idx + 1,
            reason,
        };
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 10 {
            return Err(err("fewer than 10 columns"));
        }
        let local = parse_endpoint(fields[1]).ok_or_else(|| err("bad local address"))?;
        let state = u8::from_str_radix(fields[3], 16).map_err(|_| err("bad state"))?;
        let inode = fields[9].parse::<u64>().map_err(|_| err("bad inode"))?;
        out.push(TcpSocket {
            local,
            state,
            inode,
        });
    }
    Ok(out)
}

fn parse_endpoint(s: &str) -> Option<SocketAddr> {
    let (addr, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(addr)?)),
        32 => {
            let mut bytes = [0u8; 16];
            for (i, chunk) in bytes.chunks_exact_mut(4).enumerate() {
                chunk.copy_from_slice(&word(addr.get(i * 8..i * 8 + 8)?)?);
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// One 8-hex-digit word as the kernel printed it (`%08X` of a native u32
/// holding network-order bytes), back to those bytes.
fn word(hex: &str) -> Option<[u8; 4]> {
    if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(hex, 16).ok().map(u32::to_ne_bytes)
}

/// Inodes of the sockets listening on `port`, whatever their address
/// (loopback, wildcard, or a specific interface). Inode 0 (no owner left) is
/// skipped.
pub(crate) fn listening_inodes(sockets: &[TcpSocket], port: u16) -> BTreeSet<u64> {
    sockets
        .iter()
        .filter(|s| s.state == TCP_LISTEN && s.local.port() == port && s.inode != 0)
        .map(|s| s.inode)
        .collect()
}

/// Extracts the inode from a `/proc/PID/fd/N` link target `socket:[N]`.
pub fn socket_inode_of_link(target: &str) -> Option<u64> {
    target
        .strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// Outcome of a walk over `/proc/*/fd` looking for socket owners.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OwnerScan {
    /// Processes holding at least one of the inodes.
    pub owners: BTreeSet<i32>,
    /// Processes whose fd directory or links could not be read (EACCES):
    /// the owner may hide among them.
    pub unreadable: usize,
}

/// Reads both TCP tables under `proc_root` (normally `/proc`) and returns the
/// listening inodes for `port`. A missing `tcp6` (IPv6 disabled) is fine.
pub(crate) fn read_listening_inodes(proc_root: &Path, port: u16) -> std::io::Result<BTreeSet<u64>> {
    let mut inodes = BTreeSet::new();
    for table in ["net/tcp", "net/tcp6"] {
        let text = match std::fs::read_to_string(proc_root.join(table)) {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound && table == "net/tcp6" => continue,
            Err(e) => return Err(e),
        };
        let sockets = parse_proc_net_tcp(&text)
            .map_err(|e| std::io::Error::new(ErrorKind::InvalidData, e))?;
        inodes.extend(listening_inodes(&sockets, port));
    }
    Ok(inodes)
}

/// Finds the processes holding any of `inodes`, checking `first` (the pid
/// found on the previous poll) before anything else and stopping there when
/// it matches: re-resolving every poll then costs one process's fds.
pub(crate) fn scan_socket_owners(
    proc_root: &Path,
    inodes: &BTreeSet<u64>,
    first: Option<i32>,
) -> OwnerScan {
    let mut scan = OwnerScan::default();
    if inodes.is_empty() {
        return scan;
    }
    if let Some(pid) = first {
        if holds_any(proc_root, pid, inodes) == Holds::Yes {
            scan.owners.insert(pid);
            return scan;
        }
    }
    for pid in list_pids(proc_root) {
        match holds_any(proc_root, pid, inodes) {
            Holds::Yes => {
                scan.owners.insert(pid);
            }
            Holds::Unreadable => scan.unreadable += 1,
            Holds::No => {}
        }
    }
    scan
}

#[derive(Debug, PartialEq, Eq)]
enum Holds {
    Yes,
    No,
    Unreadable,
}

fn holds_any(proc_root: &Path, pid: i32, inodes: &BTreeSet<u64>) -> Holds {
    let fd_dir = proc_root.join(pid.to_string()).join("fd");
    let entries = match std::fs::read_dir(&fd_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::PermissionDenied => return Holds::Unreadable,
        // Gone, a kernel thread, or a zombie: nothing to hold.
        Err(_) => return Holds::No,
    };
    let mut denied = false;
    for entry in entries.flatten() {
        match std::fs::read_link(entry.path()) {
            Ok(target) => {
                let inode = target.to_str().and_then(socket_inode_of_link);
                if inode.is_some_and(|i| inodes.contains(&i)) {
                    return Holds::Yes;
                }
            }
            Err(e) if e.kind() == ErrorKind::PermissionDenied => denied = true,
            Err(_) => {}
        }
    }
    if denied {
        Holds::Unreadable
    } else {
        Holds::No
    }
}

/// Numeric entries of `proc_root`: the thread-group ids of all processes.
pub(crate) fn list_pids(proc_root: &Path) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir(proc_root) else {
        return Vec::new();
    };
    let mut pids: Vec<i32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
        .filter(|pid: &i32| *pid > 0)
        .collect();
    pids.sort_unstable();
    pids
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:30FB 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 424242 1 0000000000000000 100 0 0 10 0
   1: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1668 1 0000000082ace606 100 0 0 10 0
   2: 0100007F:30FB 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 777 1 0000000000000000 20 4 30 10 -1
   3: 0500000A:30FB 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 0 1 0000000000000000 100 0 0 10 0
";

    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:30FB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 535353 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9090 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:30FB 0000000000000000FFFF00000100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 888 1 0000000000000000 20 4 0 10 -1
";

    #[cfg(target_endian = "little")]
    #[test]
    fn parses_ipv4_rows() {
        let rows = parse_proc_net_tcp(TCP).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].local, "127.0.0.1:12539".parse().unwrap());
        assert_eq!((rows[0].state, rows[0].inode), (TCP_LISTEN, 424242));
        assert_eq!(rows[1].local, "0.0.0.0:2024".parse().unwrap());
        assert_eq!(rows[2].state, 0x01);
        assert_eq!(rows[3].local, "10.0.0.5:12539".parse().unwrap());
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn parses_ipv6_rows() {
        let rows = parse_proc_net_tcp(TCP6).unwrap();
        assert_eq!(rows[0].local, "[::1]:12539".parse().unwrap());
        assert_eq!(rows[1].local, "[::]:8080".parse().unwrap());
        assert_eq!(rows[2].local, "[::ffff:127.0.0.1]:12539".parse().unwrap());
        assert_eq!(rows[2].inode, 888);
    }

    #[test]
    fn listening_inodes_skip_connections_other_ports_and_inode_zero() {
        let mut rows = parse_proc_net_tcp(TCP).unwrap();
        rows.extend(parse_proc_net_tcp(TCP6).unwrap());
        assert_eq!(
            listening_inodes(&rows, 12539),
            BTreeSet::from([424242, 535353])
        );
        assert_eq!(listening_inodes(&rows, 8080), BTreeSet::from([9090]));
        assert!(listening_inodes(&rows, 1).is_empty());
    }

    #[test]
    fn malformed_rows_are_errors_not_panics() {
        let header = "  sl  local_address rem_address   st\n";
        for (row, reason) in [
            (
                "   0: 0100007F:30FB 00000000:0000 0A",
                "fewer than 10 columns",
            ),
            (
                "   0: 0100007F 00000000:0000 0A a b c d e 5",
                "bad local address",
            ),
            (
                "   0: 0100007G:30FB 00000000:0000 0A a b c d e 5",
                "bad local address",
            ),
            (
                "   0: 0100007F:XYZ 00000000:0000 0A a b c d e 5",
                "bad local address",
            ),
            (
                "   0: 01007F:30FB 00000000:0000 0A a b c d e 5",
                "bad local address",
            ),
            (
                "   0: 0100007F:30FB 00000000:0000 ZZ a b c d e 5",
                "bad state",
            ),
            (
                "   0: 0100007F:30FB 00000000:0000 0A a b c d e -1",
                "bad inode",
            ),
        ] {
            let err = parse_proc_net_tcp(&format!("{header}{row}\n")).unwrap_err();
            assert_eq!(err, ParseTcpError { line: 2, reason }, "{row}");
        }
        assert_eq!(parse_proc_net_tcp(header).unwrap(), vec![]);
        assert_eq!(parse_proc_net_tcp("").unwrap(), vec![]);
    }

    #[test]
    fn socket_links() {
        assert_eq!(socket_inode_of_link("socket:[424242]"), Some(424242));
        assert_eq!(socket_inode_of_link("pipe:[424242]"), None);
        assert_eq!(socket_inode_of_link("socket:[42"), None);
        assert_eq!(socket_inode_of_link("/dev/null"), None);
    }
}
