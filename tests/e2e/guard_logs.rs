//! What the guard says in the log, captured from the running exporter: a node directory without `pos_db/` (a
//! node that never ran PoS, or the exporter pointed at the wrong work dir) is one warning naming the problem, never
//! an error-level "dangerous failover state"; a real danger is logged at error level once per change.

use conflux_test_support as support;

use support::exporter::*;
use support::exposition::*;
use support::scrape::*;
use support::world::*;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use conflux_pos_exporter::config::{self, Cli};
use conflux_sim::{EndpointSpec, SimConfig};

const KEY: &str = "0x5eed00000000000000000000000000000000000000000000000000000000c0de";
const T: Duration = Duration::from_secs(8);

/// Collects every formatted log line.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Lines {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn config(url: String, work_dir: &std::path::Path) -> config::Config {
    let text = format!(
        "[web]\nlisten_address = \"127.0.0.1:0\"\n[poll]\nnode_interval = \"50ms\"\nrpc_timeout = \"300ms\"\nauto_reference = false\n[[node]]\nname = \"a\"\nrpc_url = \"{url}\"\nwork_dir = \"{}\"\n",
        work_dir.display()
    );
    config::resolve(&Cli::default(), config::file::parse(&text).expect("parses")).expect("valid")
}

/// Waits until the exporter has sent five more requests to the node (the host probes run at the same interval).
async fn more_polls(addr: std::net::SocketAddr) {
    let requests = |s: &Scrape| {
        s.get("conflux_exporter_rpc_requests_total", &[("target", "a")])
            .unwrap_or(0.0)
    };
    let start = requests(&scrape(addr).await);
    wait_for(addr, T, "five more polls", |s| requests(s) >= start + 5.0).await;
}

#[tokio::test]
async fn a_missing_pos_db_is_a_warning_and_dangers_are_errors_once() {
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut spec = EndpointSpec::node("a", Some(KEY));
    spec.voting = true;
    let sim = sim(SimConfig {
        endpoints: vec![spec],
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir"); // a working dir without pos_db/
    let app = exporter(config(sim.url("a").unwrap(), dir.path())).await;
    let addr = app.local_addr();
    wait_for(addr, T, "key files scanned", |s| {
        s.get(
            "conflux_pos_guard_input_age_seconds",
            &[("node", "a"), ("input", "key_files")],
        )
        .is_some()
            && s.get(
                "conflux_pos_failover_state",
                &[("node", "a"), ("state", "unknown")],
            ) == Some(1.0)
    })
    .await;
    // Several more polls: still one warning, no error.
    more_polls(addr).await;
    let log = lines.text();
    assert_eq!(log.matches("no pos_db directory").count(), 1, "{log}");
    assert!(
        log.lines()
            .any(|l| l.contains("WARN") && l.contains("no pos_db directory")),
        "{log}"
    );
    assert!(!log.contains("ERROR"), "{log}");

    // Now the directory appears without safety data while the switch is on: a real danger, logged once.
    std::fs::create_dir(dir.path().join("pos_db")).expect("pos_db");
    wait_for(addr, T, "voting without store", |s| {
        s.get(
            "conflux_pos_failover_state",
            &[("node", "a"), ("state", "voting_without_secure_storage")],
        ) == Some(1.0)
    })
    .await;
    more_polls(addr).await; // the unchanged danger is polled again and again
    let log = lines.text();
    let errors: Vec<&str> = log.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 1, "{log}");
    assert!(errors[0].contains("voting_without_secure_storage"), "{log}");
    app.shutdown().await;
    sim.shutdown().await;
}
