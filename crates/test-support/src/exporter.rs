//! The exporter under test, in-process: its configuration built through the real TOML path (fast polls, port 0)
//! and its start.

use std::time::Duration;

use conflux_pos_exporter::app::App;
use conflux_pos_exporter::config::{self, Cli, Config};
use conflux_sim::SimHandle;

/// RPC timeout of the test exporters. Generous on purpose: on a loaded 2-core machine a loopback answer can take
/// several hundred milliseconds, and a spurious timeout would drop the node's series mid-test. Tests that inject
/// a delay make it a multiple of this.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(2);

/// Exporter configuration for tests: fast polls, listening on port 0, built through the real TOML path so the
/// tests exercise the same validation as users.
pub fn exporter_config(
    nodes: &[(&str, String)],
    references: &[(&str, String)],
    extra_node_keys: &str,
) -> Config {
    exporter_config_every(nodes, references, extra_node_keys, 100)
}

/// [`exporter_config`] with another poll interval (milliseconds).
pub fn exporter_config_every(
    nodes: &[(&str, String)],
    references: &[(&str, String)],
    extra_node_keys: &str,
    ms: u64,
) -> Config {
    let timeout = RPC_TIMEOUT.as_millis();
    let mut text = format!(
        "[web]\nlisten_address = \"127.0.0.1:0\"\n[poll]\nnode_interval = \"{ms}ms\"\nreference_interval = \"{ms}ms\"\nrpc_timeout = \"{timeout}ms\"\nauto_reference = false\n",
    );
    for (name, url) in nodes {
        text.push_str(&format!(
            "[[node]]\nname = \"{name}\"\nrpc_url = \"{url}\"\n{extra_node_keys}\n"
        ));
    }
    for (name, url) in references {
        text.push_str(&format!(
            "[[reference]]\nname = \"{name}\"\nurl = \"{url}\"\n"
        ));
    }
    let file = config::file::parse(&text).expect("test config parses");
    config::resolve(&Cli::default(), file).expect("test config is valid")
}

/// Starts the exporter.
pub async fn exporter(cfg: Config) -> App {
    App::start(cfg).await.expect("exporter starts")
}

/// An exporter watching [`crate::world::node_and_reference`]: node `local`, reference `ref`.
pub async fn watching_node_and_reference(sim: &SimHandle) -> App {
    exporter(exporter_config(
        &[("local", sim.url("node").expect("endpoint node"))],
        &[("ref", sim.url("ref").expect("endpoint ref"))],
        "",
    ))
    .await
}
