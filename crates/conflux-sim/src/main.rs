//! `conflux-sim`: runs the simulated Conflux network standalone, for demos and manual testing of the
//! exporter. It prints one URL per endpoint plus the control API URL, then runs until SIGINT or SIGTERM.
//!
//! Example:
//! `conflux-sim --node local=127.0.0.1:12539,identity=0x<64 hex> --reference ref=127.0.0.1:12601`

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use conflux_sim::pos::{PosChain, PosParams};
use conflux_sim::{EndpointKind, EndpointSpec, Sim, SimConfig};

/// Command-line flags.
#[derive(Debug, Parser)]
#[command(
    name = "conflux-sim",
    version,
    about = "Simulated Conflux nodes for the exporter's demo and tests"
)]
struct Args {
    /// Native-space chain id (1029 mainnet, 1 testnet).
    #[arg(long, default_value_t = 1029)]
    chain_id: u64,
    /// Network id; defaults to the chain id, as on a node.
    #[arg(long)]
    network_id: Option<u64>,
    /// Tip epoch at start.
    #[arg(long, default_value_t = conflux_sim::config::DEFAULT_INITIAL_EPOCH)]
    initial_epoch: u64,
    /// Time between PoW epochs ("0s" = manual: advance through the control API only).
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    epoch_interval: Duration,
    /// Time between PoS blocks ("0s" = manual). Only used when a PoS chain is plugged in.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pos_block_interval: Duration,
    /// A local node port: NAME=ADDR[,identity=0x<64 hex>][,voting=true|false]. Repeatable.
    #[arg(long = "node", value_name = "SPEC")]
    nodes: Vec<EndpointArg>,
    /// A public reference RPC: NAME=ADDR. Repeatable.
    #[arg(long = "reference", value_name = "SPEC")]
    references: Vec<EndpointArg>,
    /// Address of the HTTP control API.
    #[arg(long, default_value = "127.0.0.1:12600")]
    control: SocketAddr,
    /// PoS epoch length in blocks (120 on mainnet).
    #[arg(long, default_value_t = 120)]
    pos_epoch_length: u64,
    /// Always-on external validators in the committee besides the nodes' identities.
    #[arg(long, default_value_t = 3)]
    pos_external_members: u64,
    /// PoS view from which force-retirement looks back 3 epochs instead of 1 (CIP-99); default: the chain
    /// id's real value (1029 → 330000, 1 → 342000, others never, like the node's built-in default).
    #[arg(long)]
    pos_cip99_transition_view: Option<u64>,
    /// Run without a PoS chain (every pos_* call answers -32078).
    #[arg(long)]
    no_pos: bool,
    /// Seed for hashes and batch shuffling.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// One `--node`/`--reference` value, parsed.
#[derive(Debug, Clone)]
struct EndpointArg {
    name: String,
    addr: SocketAddr,
    identity: Option<String>,
    voting: Option<bool>,
}

impl FromStr for EndpointArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split(',');
        let head = parts.next().unwrap_or_default();
        let (name, addr) = head
            .split_once('=')
            .ok_or_else(|| format!("expected NAME=ADDR, got {head:?}"))?;
        let addr = addr
            .parse()
            .map_err(|e| format!("bad address {addr:?}: {e}"))?;
        let mut arg = EndpointArg {
            name: name.to_string(),
            addr,
            identity: None,
            voting: None,
        };
        for opt in parts {
            match opt.split_once('=') {
                Some(("identity", v)) => arg.identity = Some(v.to_string()),
                Some(("voting", v)) => {
                    arg.voting = Some(
                        v.parse()
                            .map_err(|_| format!("voting must be true or false, got {v:?}"))?,
                    )
                }
                _ => {
                    return Err(format!(
                        "unknown option {opt:?} (expected identity=… or voting=…)"
                    ))
                }
            }
        }
        Ok(arg)
    }
}

impl EndpointArg {
    fn into_spec(self, kind: EndpointKind) -> EndpointSpec {
        let voting = kind == EndpointKind::Node && self.voting.unwrap_or(self.identity.is_some());
        EndpointSpec {
            name: self.name,
            kind,
            addr: self.addr,
            pos_identity: self.identity,
            voting,
        }
    }
}

fn config(args: Args) -> SimConfig {
    let identities: Vec<String> = args
        .nodes
        .iter()
        .filter_map(|n| n.identity.clone())
        .collect();
    let pos: Option<Box<dyn conflux_sim::pos_hook::PosBackend>> = (!args.no_pos).then(|| {
        let mut params = PosParams::for_identities(
            &identities,
            args.pos_external_members,
            args.pos_epoch_length,
        );
        params.cip99_transition_view = args.pos_cip99_transition_view;
        // The chain's starting block is "now", so ages and last-vote times look like a live network's.
        params.start_time_us = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        Box::new(PosChain::new(params)) as Box<dyn conflux_sim::pos_hook::PosBackend>
    });
    let nonzero = |d: Duration| (!d.is_zero()).then_some(d);
    let mut endpoints: Vec<EndpointSpec> = args
        .nodes
        .into_iter()
        .map(|a| a.into_spec(EndpointKind::Node))
        .collect();
    endpoints.extend(
        args.references
            .into_iter()
            .map(|a| a.into_spec(EndpointKind::Reference)),
    );
    if endpoints.is_empty() {
        let local = SocketAddr::from(([127, 0, 0, 1], 12539));
        endpoints.push(EndpointSpec {
            addr: local,
            ..EndpointSpec::node("local", None)
        });
    }
    SimConfig {
        chain_id: args.chain_id,
        network_id: args.network_id.unwrap_or(args.chain_id),
        initial_epoch: args.initial_epoch,
        pow_epoch_interval: nonzero(args.epoch_interval),
        pos_block_interval: nonzero(args.pos_block_interval),
        pos,
        endpoints,
        control_addr: args.control,
        seed: args.seed,
        ..SimConfig::default()
    }
}

async fn wait_for_signal() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("waiting for SIGINT")?,
        _ = term.recv() => {}
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let names: Vec<(String, EndpointKind)> = args
        .nodes
        .iter()
        .map(|a| (a.name.clone(), EndpointKind::Node))
        .chain(
            args.references
                .iter()
                .map(|a| (a.name.clone(), EndpointKind::Reference)),
        )
        .collect();
    let names = if names.is_empty() {
        vec![("local".to_string(), EndpointKind::Node)]
    } else {
        names
    };
    let sim = Sim::start(config(args))
        .await
        .context("starting the simulator")?;
    for (name, kind) in &names {
        let kind = match kind {
            EndpointKind::Node => "node",
            EndpointKind::Reference => "reference",
        };
        println!("{kind} {name} {}", sim.url(name)?);
    }
    println!("control {}", sim.control_url());
    wait_for_signal().await?;
    tracing::info!("shutting down");
    sim.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_specs_parse_with_options() {
        let id = format!("0x{}", "ab".repeat(32));
        let a: EndpointArg = format!("local=127.0.0.1:12539,identity={id},voting=false")
            .parse()
            .unwrap();
        assert_eq!((a.name.as_str(), a.addr.port()), ("local", 12539));
        let spec = a.into_spec(EndpointKind::Node);
        assert_eq!(spec.pos_identity.as_deref(), Some(id.as_str()));
        assert!(!spec.voting);
        let b: EndpointArg = format!("backup=127.0.0.1:1,identity={id}").parse().unwrap();
        assert!(
            b.into_spec(EndpointKind::Node).voting,
            "a node with an identity votes by default"
        );
        let r: EndpointArg = format!("ref=127.0.0.1:2,identity={id}").parse().unwrap();
        assert!(
            !r.into_spec(EndpointKind::Reference).voting,
            "references never vote"
        );
        assert!("local".parse::<EndpointArg>().is_err());
        assert!("local=nowhere".parse::<EndpointArg>().is_err());
        assert!("local=127.0.0.1:1,color=red"
            .parse::<EndpointArg>()
            .is_err());
        assert!("local=127.0.0.1:1,voting=maybe"
            .parse::<EndpointArg>()
            .is_err());
    }

    #[test]
    fn zero_intervals_mean_manual_mode() {
        let args = Args::parse_from([
            "conflux-sim",
            "--epoch-interval",
            "0s",
            "--reference",
            "r=127.0.0.1:0",
        ]);
        let cfg = config(args);
        assert_eq!(cfg.pow_epoch_interval, None);
        assert_eq!(cfg.pos_block_interval, Some(Duration::from_secs(30)));
        assert_eq!(
            cfg.endpoints.len(),
            1,
            "no default node when endpoints are given"
        );
        assert_eq!(cfg.network_id, 1029);
    }
}
