//! The simulated world: one PoW chain, an optional PoS chain, and every endpoint's view and request log.
//! Pure state transitions; the caller holds the lock and supplies the clock.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::call::{Body, Ctx, Effect, Item, NetParams};
use super::chain::PowChain;
use super::config::{EndpointSpec, SimConfig};
use super::dispatch;
use super::endpoint::{EndpointView, SafetyFile};
use super::patch::{EndpointPatch, PatchEffects};
use super::pos_hook::PosBackend;
use super::stats::RequestStats;
use super::{cfx, SimError};

/// One endpoint's state.
pub struct Endpoint {
    /// The spec, with the address actually bound.
    pub spec: EndpointSpec,
    /// What it shows and which faults it injects.
    pub view: EndpointView,
    /// What it has received.
    pub stats: RequestStats,
}

/// The answer to one HTTP body.
#[derive(Debug, Default, PartialEq)]
pub struct Reply {
    /// The JSON to send; `None` when every call was a notification.
    pub body: Option<Value>,
    /// A call asked the node to stop (`test_stop`): stop listening once this reply is out.
    pub stop: bool,
}

/// Chain state plus endpoint state.
pub struct World {
    net: NetParams,
    chain: PowChain,
    pos: Option<Box<dyn PosBackend>>,
    endpoints: BTreeMap<String, Endpoint>,
    /// Every identity ever configured, so one that loses its last voter is told it has 0.
    identities: BTreeSet<String>,
    rng: fastrand::Rng,
}

impl World {
    /// Builds the world from a config (taking its PoS backend) at `now_secs`.
    pub fn new(cfg: &mut SimConfig, now_secs: u64) -> Self {
        let endpoints = cfg
            .endpoints
            .iter()
            .map(|spec| {
                let ep = Endpoint {
                    spec: spec.clone(),
                    view: EndpointView::new(spec),
                    stats: RequestStats::default(),
                };
                (spec.name.clone(), ep)
            })
            .collect();
        let mut world = Self {
            net: NetParams {
                chain_id: cfg.chain_id,
                network_id: cfg.network_id,
                offsets: cfg.offsets,
            },
            chain: PowChain::new(cfg.seed, cfg.initial_epoch, now_secs),
            pos: cfg.pos.take(),
            endpoints,
            identities: BTreeSet::new(),
            rng: fastrand::Rng::with_seed(cfg.seed),
        };
        if let Some(pos) = world.pos.as_mut() {
            pos.set_chain_id(cfg.chain_id);
        }
        world.recompute_voters();
        world
    }

    /// The world's PoW tip.
    pub fn pow_epoch(&self) -> u64 {
        self.chain.tip()
    }

    /// The world's committed PoS height (0 without PoS).
    pub fn pos_height(&self) -> u64 {
        self.pos.as_ref().map_or(0, |p| p.latest_committed())
    }

    /// Whether a PoS backend is plugged in.
    pub fn has_pos(&self) -> bool {
        self.pos.is_some()
    }

    /// Produces `n` PoW epochs at `now_secs`.
    pub fn advance_pow(&mut self, n: u64, now_secs: u64) {
        self.chain.advance(n, now_secs);
    }

    /// Produces `n` PoW epochs `step_secs` apart in chain time (see [`PowChain::advance_spaced`]).
    pub fn advance_pow_spaced(&mut self, n: u64, step_secs: u64) {
        self.chain.advance_spaced(n, step_secs);
    }

    /// Commits `n` PoS blocks at `now_us`, each deciding the world's current confirmed pivot.
    pub fn advance_pos(&mut self, n: u64, now_us: u64) -> Result<(), SimError> {
        let pos = self.pos.as_mut().ok_or(SimError::NoPos)?;
        let pivot_epoch = self.chain.tip().saturating_sub(self.net.offsets.confirmed);
        let pivot_hash = self.chain.pivot_hash(pivot_epoch, 0);
        for _ in 0..n {
            pos.commit_block(now_us, (pivot_epoch, pivot_hash.clone()));
        }
        Ok(())
    }

    /// Forwards a free-form command to the PoS backend.
    pub fn pos_control(&mut self, cmd: &Value) -> Result<Value, SimError> {
        let pos = self.pos.as_mut().ok_or(SimError::NoPos)?;
        pos.control(cmd).map_err(SimError::PosControl)
    }

    /// Applies a control patch to endpoint `name`.
    pub fn patch(&mut self, name: &str, patch: &EndpointPatch) -> Result<PatchEffects, SimError> {
        let (tip, pos) = (self.pow_epoch(), self.pos_height());
        let ep = self.endpoint_mut(name)?;
        let effects = ep
            .view
            .apply(patch, tip, pos)
            .map_err(SimError::InvalidPatch)?;
        if effects.voters_changed {
            self.recompute_voters();
        }
        Ok(effects)
    }

    /// Endpoint `name`, or `UnknownEndpoint`.
    pub fn endpoint(&self, name: &str) -> Result<&Endpoint, SimError> {
        self.endpoints
            .get(name)
            .ok_or_else(|| SimError::UnknownEndpoint(name.to_string()))
    }

    /// Endpoint `name` for mutation, or `UnknownEndpoint`.
    pub fn endpoint_mut(&mut self, name: &str) -> Result<&mut Endpoint, SimError> {
        self.endpoints
            .get_mut(name)
            .ok_or_else(|| SimError::UnknownEndpoint(name.to_string()))
    }

    /// Names of all endpoints.
    pub fn names(&self) -> Vec<String> {
        self.endpoints.keys().cloned().collect()
    }

    /// Tells the PoS backend, for every identity, how many node endpoints vote with it.
    fn recompute_voters(&mut self) {
        let mut counts: BTreeMap<String, u32> = BTreeMap::new();
        for ep in self.endpoints.values() {
            if let Some(id) = &ep.view.identity {
                self.identities.insert(id.clone());
                let voting = ep.view.signs();
                *counts.entry(id.clone()).or_default() += u32::from(voting);
            }
        }
        if let Some(pos) = self.pos.as_mut() {
            for id in &self.identities {
                pos.set_voters(id, counts.get(id).copied().unwrap_or(0));
            }
        }
    }

    /// Answers a parsed body on endpoint `name`; batches come back shuffled (never in request order when
    /// there are two or more answers), so clients must match answers by id.
    pub fn answer(&mut self, name: &str, body: &Body) -> Result<Reply, SimError> {
        self.endpoint(name)?;
        let mut effects = Vec::new();
        let mut reply = Reply::default();
        match body {
            Body::ParseError => reply.body = Some(dispatch::parse_error()),
            Body::EmptyBatch => reply.body = Some(dispatch::invalid_request(Value::Null)),
            Body::Single(item) => reply.body = self.answer_item(name, item, &mut effects)?,
            Body::Batch(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.extend(self.answer_item(name, item, &mut effects)?);
                }
                self.shuffle(&mut out);
                reply.body = (!out.is_empty()).then_some(Value::Array(out));
            }
        }
        for effect in effects {
            let patch = match effect {
                Effect::StartVoting { signs } => {
                    EndpointPatch::default().voting(true).can_sign(signs)
                }
                Effect::StopVoting => EndpointPatch::default()
                    .voting(false)
                    .can_sign(true)
                    .safety_file(SafetyFile::SaveOnly),
                Effect::Stop => {
                    reply.stop = true;
                    EndpointPatch::default().voting(false)
                }
            };
            self.patch(name, &patch)?;
        }
        if reply.stop {
            self.endpoint_mut(name)?.view.down = true;
        }
        Ok(reply)
    }

    fn answer_item(
        &self,
        name: &str,
        item: &Item,
        effects: &mut Vec<Effect>,
    ) -> Result<Option<Value>, SimError> {
        let (id, method, params) = match item {
            Item::Invalid { id } => return Ok(Some(dispatch::invalid_request(id.clone()))),
            Item::Call { id, method, params } => (id, method, params),
        };
        let ep = self.endpoint(name)?;
        let ctx = Ctx {
            net: &self.net,
            chain: &self.chain,
            view: &ep.view,
            pos: self.pos.as_deref(),
        };
        let (result, effect) = match params {
            Ok(p) => dispatch::route(&ctx, method, p),
            Err(e) => (Err(e.clone()), None),
        };
        effects.extend(effect);
        Ok(id.clone().map(|id| dispatch::response(id, result)))
    }

    fn shuffle(&mut self, out: &mut [Value]) {
        if out.len() < 2 {
            return;
        }
        let original: Vec<Value> = out.to_vec();
        self.rng.shuffle(out);
        if out == original.as_slice() {
            out.rotate_left(1);
        }
    }

    /// One endpoint's view as JSON, with the values it currently answers (epoch, best hash, finality).
    pub fn endpoint_json(&self, name: &str) -> Result<Value, SimError> {
        let ep = self.endpoint(name)?;
        let mut v = ep.view.to_json(self.pow_epoch(), self.pos_height());
        let ctx = Ctx {
            net: &self.net,
            chain: &self.chain,
            view: &ep.view,
            pos: self.pos.as_deref(),
        };
        v["addr"] = json!(ep.spec.addr.to_string());
        v["best_hash"] = json!(ctx.hash(ctx.epoch()));
        v["latest_finalized"] = json!(cfx::heights(&ctx).finalized);
        Ok(v)
    }

    /// A JSON dump of the world and every endpoint view, for `GET /control/state`.
    pub fn state_json(&self) -> Value {
        let endpoints: serde_json::Map<String, Value> = self
            .endpoints
            .keys()
            .filter_map(|name| Some((name.clone(), self.endpoint_json(name).ok()?)))
            .collect();
        let tip = self.pow_epoch();
        json!({
            "chain_id": self.net.chain_id,
            "network_id": self.net.network_id,
            "pow_epoch": tip,
            "pow_best_hash": self.chain.pivot_hash(tip, 0),
            "pos_enabled": self.pos.is_some(),
            "pos_height": self.pos_height(),
            "pos": self.pos.as_ref().map_or(Value::Null, |p| p.state()),
            "endpoints": endpoints,
        })
    }

    /// Every endpoint's request log, for `GET /control/stats`.
    pub fn stats_json(&self) -> Value {
        let m: serde_json::Map<String, Value> = self
            .endpoints
            .iter()
            .map(|(n, ep)| (n.clone(), json!(ep.stats)))
            .collect();
        Value::Object(m)
    }
}
