//! Wires configuration, watchers, the publisher and the HTTP server together, and owns shutdown. The flow is
//! one-way: watchers -> state hub -> publisher (judge + metrics + encode) -> served bytes -> HTTP.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{default_reference_for_chain, Config, ReferenceConfig};
use crate::host::disk::DiskProber;
use crate::judge::Judge;
use crate::metrics::Metrics;
use crate::rpc::{redact_url, Client, ClientSettings, RpcObserver};
use crate::server::auth::BasicAuth;
use crate::server::{self, Served};
use crate::state::{Hub, NodeState, ReferenceState, State};
use crate::watch::host::{HostPoller, HostSpec, DISK_PROBE_TIMEOUT};
use crate::watch::pos::poller::{Intervals, PosPoller};
use crate::watch::reference::{ReferenceClients, ReferenceWatcher};
use crate::watch::{self, chain::poller::ChainPoller, pos::PosSource};

/// Why the exporter could not start.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The listen address is taken or not ours. Names the flag once, so the operator knows what to change.
    #[error("cannot listen on {addr} (--web.listen-address): {source}")]
    Listen {
        /// Configured address.
        addr: SocketAddr,
        /// OS error.
        source: std::io::Error,
    },
    /// The HTTP client could not be built (TLS roots, ...).
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(String),
    /// The web config's TLS files are unusable.
    #[error("web config: {0}")]
    Tls(#[from] crate::server::tls::TlsError),
    /// A metric family failed to register (a catalogue bug).
    #[error("metrics registry: {0}")]
    Metrics(#[from] prometheus::Error),
}

/// A running exporter.
pub struct App {
    local_addr: SocketAddr,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

struct Ctx {
    http: reqwest::Client,
    settings: ClientSettings,
    observer: Arc<dyn RpcObserver>,
    metrics: Arc<Metrics>,
    hub: Arc<Hub>,
    references: Arc<ReferenceClients>,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl Ctx {
    fn client(&self, target: &str, url: &str) -> Arc<Client> {
        self.metrics.exporter.init_target(target);
        Arc::new(Client::new(
            self.http.clone(),
            target,
            url,
            self.settings.clone(),
            self.observer.clone(),
        ))
    }

    fn spawn_reference(&self, r: &ReferenceConfig, interval: Duration) {
        let client = self.client(&r.name, &r.url);
        self.references.add(&r.name, client.clone());
        let w = ReferenceWatcher {
            name: r.name.clone(),
            client,
            hub: self.hub.clone(),
            polls_since_version: None,
        };
        self.tracker
            .spawn(watch::run(interval, self.cancel.clone(), w));
    }
}

impl App {
    /// Binds the listener and starts every task. Returns once the exporter is serving.
    pub async fn start(config: Config) -> Result<Self, AppError> {
        // TLS files first: a bad key must stop the start before any task runs.
        let (tls, auth) = match &config.web_config {
            Some(w) => (
                w.tls.as_ref().map(server::tls::acceptor).transpose()?,
                (!w.users.is_empty()).then(|| BasicAuth::new(&w.users)),
            ),
            None => (None, None),
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let basic_auth = auth.is_some();
        let listener =
            server::listen::bind(config.listen_address).map_err(|source| AppError::Listen {
                addr: config.listen_address,
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| AppError::Listen {
            addr: config.listen_address,
            source,
        })?;
        let metrics = Arc::new(Metrics::new()?);
        // Redirects are never followed and no Referer is sent: a reference URL's path or query often carries an
        // API key, which must not travel to (or be answered by) a host nobody configured.
        let http = reqwest::Client::builder()
            .user_agent(concat!("conflux-pos-exporter/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .connect_timeout(config.rpc_timeout)
            .build()
            .map_err(|e| AppError::HttpClient(e.without_url().to_string()))?;
        let state = State {
            nodes: config
                .nodes
                .iter()
                .map(|n| NodeState {
                    name: n.name.clone(),
                    display_url: redact_url(&n.rpc_url),
                    ..Default::default()
                })
                .collect(),
            references: config
                .references
                .iter()
                .map(|r| ReferenceState {
                    name: r.name.clone(),
                    display_url: redact_url(&r.url),
                    ..Default::default()
                })
                .collect(),
        };
        let ctx = Arc::new(Ctx {
            http,
            settings: ClientSettings {
                timeout: config.rpc_timeout,
                max_response_bytes: config.max_response_bytes,
            },
            observer: metrics.exporter.clone(),
            metrics: metrics.clone(),
            hub: Hub::new(state),
            references: Arc::default(),
            cancel: CancellationToken::new(),
            tracker: TaskTracker::new(),
        });
        let auto = config.references.is_empty() && config.auto_reference;
        let (tx, rx) = mpsc::unbounded_channel();
        // One prober for all nodes: a path stuck on a hung mount is then never probed twice at once.
        let disks = DiskProber::new(DISK_PROBE_TIMEOUT);
        for n in &config.nodes {
            let host_spec = HostSpec::from_config(n);
            let client = ctx.client(&n.name, &n.rpc_url);
            let w = ChainPoller {
                node: n.name.clone(),
                client: client.clone(),
                hub: ctx.hub.clone(),
                chain_ids: auto.then(|| tx.clone()),
                down_after: config.node_down_after,
            };
            ctx.tracker
                .spawn(watch::run(config.node_interval, ctx.cancel.clone(), w));
            // PoS in its own task: its history reads may be slow without ever holding up the liveness check.
            let p = PosPoller::new(
                n.name.clone(),
                client,
                ctx.hub.clone(),
                PosSource::new(n.pos_address.clone())
                    .with_pos_db_dir(host_spec.configured_pos_db_dir())
                    .with_cip99_transition_view(n.cip99_transition_view),
                config.history_timeout,
                Intervals {
                    node: config.node_interval,
                    reference: config.reference_interval,
                },
                ctx.references.clone(),
            );
            ctx.tracker
                .spawn(watch::run(config.node_interval, ctx.cancel.clone(), p));
            // Host probes send no RPC, so they run in their own task at the node's interval.
            if host_spec.watches_anything() {
                let h = HostPoller::new(n.name.clone(), ctx.hub.clone(), host_spec, disks.clone());
                ctx.tracker
                    .spawn(watch::run(config.node_interval, ctx.cancel.clone(), h));
            } else {
                tracing::info!(node = %n.name, "host checks off: the RPC host is not this machine and no pid_file, process_name or directory is configured");
            }
        }
        drop(tx);
        for r in &config.references {
            ctx.spawn_reference(r, config.reference_interval);
        }
        if auto {
            ctx.tracker
                .spawn(auto_references(ctx.clone(), rx, config.reference_interval));
        } else if config.references.is_empty() {
            tracing::info!("no reference configured and automatic references disabled: epoch lag and fork checks are off");
        }
        // First exposition before serving: every target's series exist (at zero) from the first scrape on.
        let served = Served::with_auth(ctx.hub.clone(), config.telemetry_path.clone(), auth);
        let mut judge = Judge::with_forks(config.forks.clone());
        publish(&ctx.metrics, &ctx.hub, &served, &mut judge);
        ctx.tracker.spawn(publisher(
            ctx.metrics.clone(),
            ctx.hub.clone(),
            served.clone(),
            judge,
            ctx.cancel.clone(),
        ));
        let limits = server::Limits {
            max_connections: server::fdlimit::connection_cap(
                config.max_connections,
                server::fdlimit::raise_soft_limit(),
            ),
            header_read_timeout: server::listen::HEADER_READ_TIMEOUT,
            write_timeout: config.write_timeout,
        };
        ctx.tracker.spawn(server::serve(
            listener,
            served,
            tls,
            limits,
            ctx.cancel.clone(),
            Duration::from_secs(5),
        ));
        tracing::info!(address = %local_addr, scheme, basic_auth, path = %config.telemetry_path, nodes = config.nodes.len(), "serving metrics");
        Ok(Self {
            local_addr,
            cancel: ctx.cancel.clone(),
            tracker: ctx.tracker.clone(),
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops polling and serving, waiting for tasks to finish.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

/// One publish: a snapshot of the state, the judge's verdicts about it, the series, the encoded bytes.
fn publish(metrics: &Metrics, hub: &Hub, served: &Served, judge: &mut Judge) {
    let snapshot = hub.lock().clone();
    let now = SystemTime::now();
    let verdicts = judge.judge(&snapshot, now);
    metrics.publish(&snapshot, &verdicts, now);
    served.set_exposition(metrics.encode());
}

async fn publisher(
    metrics: Arc<Metrics>,
    hub: Arc<Hub>,
    served: Arc<Served>,
    mut judge: Judge,
    cancel: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = hub.wait_changed() => publish(&metrics, &hub, &served, &mut judge),
        }
    }
}

/// Starts the official reference for each chain id the nodes report, once per chain id.
async fn auto_references(
    ctx: Arc<Ctx>,
    mut chain_ids: mpsc::UnboundedReceiver<u64>,
    interval: Duration,
) {
    let mut seen = HashSet::new();
    loop {
        let id = tokio::select! {
            _ = ctx.cancel.cancelled() => return,
            id = chain_ids.recv() => match id { Some(id) => id, None => return },
        };
        if !seen.insert(id) {
            continue;
        }
        match default_reference_for_chain(id) {
            Some(r) => {
                tracing::info!(chain_id = id, reference = %r.name, url = %redact_url(&r.url), "using the official public RPC as reference");
                ctx.hub.lock().references.push(ReferenceState {
                    name: r.name.clone(),
                    display_url: redact_url(&r.url),
                    ..Default::default()
                });
                ctx.spawn_reference(&r, interval);
            }
            None => tracing::warn!(chain_id = id, "no official reference for this chain id; configure [[reference]] to get epoch lag and fork checks"),
        }
    }
}
