//! Hostile clients of the exporter under test, over raw TCP so that the client side stays cheap and does exactly
//! what an attacker would: a flood of wrong passwords from many clients, sockets that connect and send nothing,
//! clients that pipeline requests and never read. And what the exporter process pays for them, read from
//! `/proc/PID`: CPU time, open descriptors, resident memory.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinSet;

use conflux_pos_exporter::host::sockets::parse_proc_net_tcp;

use super::ports::listening_port;
use super::process::Guarded;

/// Deadline of one request of a test client: bounds a hang, never measured.
const REQUEST_DEADLINE: Duration = Duration::from_secs(20);

/// The exporter binary started on `127.0.0.1:0` with `args` (under `prlimit --nofile=N:N` when `nofile` is
/// given), its log going to `log`; returns it with its address once it listens.
pub async fn spawn_exporter(
    bin: &str,
    args: &[&str],
    nofile: Option<u32>,
    log: &Path,
) -> (Guarded, SocketAddr) {
    let mut cmd = match nofile {
        Some(n) => {
            let mut c = Command::new("prlimit");
            c.arg(format!("--nofile={n}:{n}")).arg(bin);
            c
        }
        None => Command::new(bin),
    };
    let stderr = std::fs::File::create(log).expect("create the log file");
    cmd.args(["--web.listen-address", "127.0.0.1:0"])
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    let mut child = Guarded::spawn(&mut cmd, "the exporter binary");
    let read_log = || std::fs::read_to_string(log).unwrap_or_default();
    let port = listening_port(
        &mut child,
        "the exporter binary",
        Duration::from_secs(30),
        read_log,
    )
    .await;
    (child, SocketAddr::from(([127, 0, 0, 1], port)))
}

/// CPU time (user + system, every thread) the process has used.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // After the command: state is field 3, utime 14 and stime 15 (1-based) -> indexes 11 and 12 here.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    Duration::from_secs_f64(ticks as f64 / clock_ticks() as f64)
}

fn clock_ticks() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
            .unwrap_or(100)
    })
}

/// Open file descriptors of the process.
pub fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// Resident memory of the process, in bytes.
pub fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// CPU the process used per second of wall time while `window` ran (1.0 = one core).
pub struct CpuMeter {
    pid: u32,
    cpu: Duration,
    wall: Instant,
}

impl CpuMeter {
    /// Starts measuring now.
    pub fn start(pid: u32) -> Self {
        Self {
            pid,
            cpu: cpu_time(pid),
            wall: Instant::now(),
        }
    }

    /// Cores used on average since [`CpuMeter::start`], and the wall time it covers.
    pub fn cores(&self) -> (f64, Duration) {
        let wall = self.wall.elapsed();
        let cpu = cpu_time(self.pid).saturating_sub(self.cpu);
        (cpu.as_secs_f64() / wall.as_secs_f64().max(1e-3), wall)
    }
}

/// `Authorization` header value for basic auth.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {b64}")
}

/// How long a GET on a fresh connection took.
#[derive(Debug, Clone, Copy)]
pub struct Timed {
    /// HTTP status (0 if none could be read).
    pub status: u16,
    /// Until the kernel completed the TCP handshake. On loopback this includes the client's SYN retransmit (1 s)
    /// when its port collides with one of the server's TIME_WAIT entries left by a flood from the same address,
    /// which a scraper on another host never meets.
    pub connect: Duration,
    /// From the established connection to the last byte of the answer: the wait in the listen backlog for a
    /// connection slot, and the exporter's work.
    pub answer: Duration,
}

/// A GET on a fresh connection (`Connection: close`).
pub async fn get_fresh(addr: SocketAddr, path: &str, auth: Option<&str>) -> std::io::Result<Timed> {
    let req = request(path, auth, true);
    let run = async {
        let started = Instant::now();
        let mut s = TcpStream::connect(addr).await?;
        let connect = started.elapsed();
        let status = read_answer(&mut s, &req, || {}).await?;
        Ok(Timed {
            status,
            connect,
            answer: started.elapsed() - connect,
        })
    };
    tokio::time::timeout(REQUEST_DEADLINE, run)
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))?
}

fn request(path: &str, auth: Option<&str>, close: bool) -> Vec<u8> {
    let mut r = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if let Some(a) = auth {
        r.push_str(&format!("Authorization: {a}\r\n"));
    }
    if close {
        r.push_str("Connection: close\r\n");
    }
    r.push_str("\r\n");
    r.into_bytes()
}

/// Sends `req`, calls `sent`, and reads the answer to the end (the server closes: `Connection: close`).
async fn read_answer(s: &mut TcpStream, req: &[u8], sent: impl FnOnce()) -> std::io::Result<u16> {
    s.write_all(req).await?;
    sent();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).await?;
    Ok(status_of(&answer))
}

fn status_of(answer: &[u8]) -> u16 {
    answer
        .get(9..12)
        .and_then(|s| std::str::from_utf8(s).ok()?.parse().ok())
        .unwrap_or(0)
}

/// Many clients sending requests with wrong credentials back to back, each on a fresh connection, until stopped.
pub struct Flood {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    counts: Arc<Mutex<BTreeMap<u16, u64>>>,
    tasks: JoinSet<()>,
}

impl Flood {
    /// Starts `clients` clients; client `i` sends `headers[i % len]` as its `Authorization`.
    pub fn start(addr: SocketAddr, clients: usize, headers: &[String]) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let counts = Arc::new(Mutex::new(BTreeMap::new()));
        let mut tasks = JoinSet::new();
        for i in 0..clients {
            let req = request("/metrics", Some(&headers[i % headers.len()]), true);
            let (stop, sent, counts) = (stop.clone(), sent.clone(), counts.clone());
            tasks.spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let sent = &sent;
                    let status = tokio::time::timeout(REQUEST_DEADLINE, async {
                        let mut s = TcpStream::connect(addr).await?;
                        let answer = read_answer(&mut s, &req, || {
                            sent.fetch_add(1, Ordering::Relaxed);
                        });
                        answer.await
                    })
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or(0);
                    *counts
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .entry(status)
                        .or_default() += 1;
                }
            });
        }
        Self {
            stop,
            sent,
            counts,
            tasks,
        }
    }

    /// Requests sent so far (answered or not).
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Answers so far by status (0: no answer: connection error or timeout).
    pub fn counts(&self) -> BTreeMap<u16, u64> {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Answers received so far.
    pub fn answered(&self) -> u64 {
        self.counts()
            .iter()
            .filter(|(s, _)| **s != 0)
            .map(|(_, n)| n)
            .sum()
    }

    /// Stops every client (each finishes its request in flight) and returns the final counts.
    pub async fn stop(mut self) -> BTreeMap<u16, u64> {
        self.stop.store(true, Ordering::Relaxed);
        while self.tasks.join_next().await.is_some() {}
        self.counts()
    }
}

/// Sends `n` requests with `auth`, each on its own connection, and closes each right after sending, without
/// waiting for an answer (fire and forget).
pub async fn fire_and_forget(addr: SocketAddr, n: usize, auth: &str) {
    let req = request("/metrics", Some(auth), true);
    for _ in 0..n {
        if let Ok(mut s) = TcpStream::connect(addr).await {
            let _ = s.write_all(&req).await;
        }
    }
}

/// `n` connections to `addr` that send nothing (connected: the kernel completed them, accepted or not).
pub async fn idle_connections(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(TcpStream::connect(addr).await.expect("connect"));
    }
    out
}

/// `n` clients that send `pipelined` requests for `path` at once and never read, with a small receive buffer,
/// so the exporter's writes stall.
pub async fn non_reading_clients(
    addr: SocketAddr,
    n: usize,
    path: &str,
    pipelined: usize,
) -> Vec<TcpStream> {
    let one = request(path, None, false);
    let all: Vec<u8> = one
        .iter()
        .copied()
        .cycle()
        .take(one.len() * pipelined)
        .collect();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
        let mut s = socket.connect(addr).await.expect("connect");
        s.write_all(&all).await.expect("send the requests");
        out.push(s);
    }
    out
}

/// How many of `clients` are still established (read from the kernel's TCP table, so without reading from
/// them): a client that never reads leaves that state only when the server closes or resets its connection.
pub fn still_established(clients: &[TcpStream]) -> usize {
    const TCP_ESTABLISHED: u8 = 0x01;
    let ports: std::collections::BTreeSet<u16> = clients
        .iter()
        .filter_map(|c| c.local_addr().ok())
        .map(|a| a.port())
        .collect();
    std::fs::read_to_string("/proc/net/tcp")
        .ok()
        .and_then(|text| parse_proc_net_tcp(&text).ok())
        .unwrap_or_default()
        .iter()
        .filter(|s| s.state == TCP_ESTABLISHED && ports.contains(&s.local.port()))
        .count()
}

/// One keep-alive connection, opened before the trouble starts, the way Prometheus keeps its connection to a
/// target: requests on it do not wait for a free connection slot.
pub struct KeepAlive {
    stream: TcpStream,
}

impl KeepAlive {
    /// Connects.
    pub async fn connect(addr: SocketAddr) -> Self {
        Self {
            stream: TcpStream::connect(addr).await.expect("connect"),
        }
    }

    /// GETs `path` on this connection: status and body (`Content-Length` framing, as the exporter sends).
    pub async fn get(&mut self, path: &str) -> (u16, String) {
        let req = request(path, None, false);
        tokio::time::timeout(REQUEST_DEADLINE, self.exchange(&req))
            .await
            .expect("keep-alive answer in time")
            .expect("keep-alive answer")
    }

    async fn exchange(&mut self, req: &[u8]) -> std::io::Result<(u16, String)> {
        self.stream.write_all(req).await?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + len {
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).into_owned();
        Ok((status_of(&buf), body))
    }
}

/// `GET http://127.0.0.1:{port}{path}`'s body; empty when it fails. Each request has its own deadline, so an
/// exporter that stops answering fails the test instead of hanging it.
pub async fn get_text(port: u16, path: &str) -> String {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client");
    match client
        .get(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await
    {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Scrapes `/metrics` until every line prefix in `wanted` is there (panics after 60 s with the last body).
pub async fn wait_lines(port: u16, wanted: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let body = get_text(port, "/metrics").await;
        if wanted
            .iter()
            .all(|w| body.lines().any(|l| l.starts_with(w)))
        {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "missing some of {wanted:?} in\n{body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
