//! Knobs a test (or the demo) turns to make the chain misbehave on purpose, typed and as JSON commands.
//!
//! Staking commands (`register`, `retire`, `dispute`) are queued and become transactions of the next committed
//! block, as PoW-side staking events do on a real chain; the other knobs take effect at the next commit.

use serde_json::{json, Value};

use super::chain::{LatestVoted, Pending, PosChain};
use super::error::PosError;
use super::ids;
use super::lock::LockStatus;
use super::params::{normalize_address, parse_address, MemberSpec, MAX_POWER};

impl PosChain {
    /// Sets how many nodes vote with `address`'s key right now: 0 = silent, 1 = healthy, ≥ 2 = double voting
    /// (disputed at the next commit if `auto_dispute`). Addresses never set count as 1.
    pub fn set_voters(&mut self, address: &str, voters: u32) {
        self.voters.insert(normalize_address(address), voters);
    }

    /// Shorthand for `set_voters(address, 1 or 0)`.
    pub fn set_member_voting(&mut self, address: &str, voting: bool) -> Result<(), PosError> {
        let address = parse_address(address)?;
        self.voters.insert(address, u32::from(voting));
        Ok(())
    }

    /// Keeps `address`'s signature out of QCs while it still votes (a vote that arrives too late); it counts as
    /// a missed vote for force-retirement and rewards.
    pub fn omit_signature(&mut self, address: &str, on: bool) -> Result<(), PosError> {
        let address = parse_address(address)?;
        if on {
            self.omitted.insert(address);
        } else {
            self.omitted.remove(&address);
        }
        Ok(())
    }

    /// The next `blocks` committed blocks show `signatures: []` (QC unknown to the node, as after catch-up).
    /// The QCs still count for the chain's own rules.
    pub fn empty_signatures_next(&mut self, blocks: u64) {
        self.hide_next = blocks;
    }

    /// Blocks `from..=to` show `signatures: []`, including blocks already committed.
    pub fn empty_signatures_range(&mut self, from: u64, to: u64) {
        for b in self
            .blocks
            .iter_mut()
            .filter(|b| (from..=to).contains(&b.height))
        {
            b.qc_hidden = true;
        }
        self.hide_ranges.push((from, to));
    }

    /// Queues a `Dispute` naming `address` (equivocation evidence) for the next block.
    pub fn dispute(&mut self, address: &str) -> Result<(), PosError> {
        let address = self.known_address(address)?;
        self.pending.push(Pending::Dispute { address });
        Ok(())
    }

    /// Stakes `power` more votes for `address`: a new address gets `Register` + `UpdateVotingPower`, a known one
    /// `UpdateVotingPower` only. It joins a committee once it has won seats in an election (it must be voting to
    /// send its Election).
    pub fn register(
        &mut self,
        address: &str,
        power: u64,
        pow_address: Option<&str>,
    ) -> Result<(), PosError> {
        let address = parse_address(address)?;
        check_power(power)?;
        if !self.is_registered(&address) {
            let pow_address = pow_address
                .map_or_else(|| ids::pow_address(ids::str_key(&address)), str::to_string);
            self.pending.push(Pending::Register {
                address: address.clone(),
                pow_address,
            });
        }
        if power > 0 {
            self.pending.push(Pending::Update { address, power });
        }
        Ok(())
    }

    /// Queues a `Retire` of `power` votes for `address` (they go through the out-queue).
    pub fn retire(&mut self, address: &str, power: u64) -> Result<(), PosError> {
        let address = self.known_address(address)?;
        check_power(power)?;
        self.pending.push(Pending::Retire { address, power });
        Ok(())
    }

    /// Adds an established validator without an election: its stake is locked at once and it sits in the
    /// committee from the next epoch boundary on (a shortcut; use [`PosChain::register`] for the real path).
    pub fn add_member(&mut self, spec: MemberSpec) -> Result<(), PosError> {
        let address = parse_address(&spec.address)?;
        if self.is_registered(&address) {
            return Err(PosError::AlreadyRegistered(address));
        }
        if spec.voting_power == 0 {
            return Err(PosError::InvalidParam(
                "voting_power must be positive".into(),
            ));
        }
        check_power(spec.voting_power)?;
        let now = self.latest_committed();
        let through = self.last_closed_term(now);
        self.seats.seed(&address, spec.voting_power, through, now);
        let account = super::chain::Account::new(
            now,
            LockStatus::initial(spec.voting_power),
            spec.pow_address,
        );
        self.accounts.insert(address, account);
        Ok(())
    }

    /// Stops (or resumes) `address`'s Election transactions, like `test_posStopElection` (which cannot resume).
    pub fn stop_election(&mut self, address: &str, stopped: bool) -> Result<(), PosError> {
        let address = parse_address(address)?;
        if stopped {
            self.election_stopped.insert(address);
        } else {
            self.election_stopped.remove(&address);
        }
        Ok(())
    }

    /// Chooses how `pos_getStatus.latestVoted` is answered.
    pub fn set_latest_voted(&mut self, mode: LatestVoted) {
        self.latest_voted = mode;
    }

    /// Adopts the CIP-99 transition view of `chain_id` unless the params set one (the simulator calls this
    /// with its configured chain id, as a real node takes its defaults from its chain's config).
    pub fn set_chain_id(&mut self, chain_id: u64) {
        self.chain_cip99_default = super::params::cip99_transition_view_for(chain_id);
        self.set_cip99_transition_view(self.p.cip99_transition_view);
    }

    /// Sets the CIP-99 transition view for the epochs that end from now on; `None` = the chain id's default.
    pub fn set_cip99_transition_view(&mut self, view: Option<u64>) {
        self.p.cip99_transition_view = view;
        self.cip99_transition_view = view.unwrap_or(self.chain_cip99_default);
    }

    /// Force-retire look-back (epochs) the chain applies to an epoch ending at `view`.
    pub fn force_retire_window(&self, view: u64) -> u64 {
        super::params::force_retire_check_epoch_count(view, self.cip99_transition_view)
    }

    /// Applies one JSON control command (`{"cmd": ..., ...}`); see the module docs of `sim::pos` for the list.
    pub fn control(&mut self, cmd: &Value) -> Result<Value, String> {
        self.control_typed(cmd).map_err(|e| e.to_string())
    }

    fn control_typed(&mut self, cmd: &Value) -> Result<Value, PosError> {
        let name = str_field(cmd, "cmd")?;
        match name {
            "set_voters" => {
                let voters = u32::try_from(u64_field(cmd, "voters")?)
                    .map_err(|_| PosError::BadCommand("voters out of range".into()))?;
                let address = parse_address(str_field(cmd, "address")?)?;
                self.set_voters(&address, voters);
            }
            "set_member_voting" => {
                self.set_member_voting(str_field(cmd, "address")?, bool_field(cmd, "voting")?)?
            }
            "omit_signature" => {
                self.omit_signature(str_field(cmd, "address")?, bool_field(cmd, "on")?)?
            }
            "empty_signatures" => match (cmd.get("from"), cmd.get("to")) {
                (Some(_), Some(_)) => {
                    self.empty_signatures_range(u64_field(cmd, "from")?, u64_field(cmd, "to")?)
                }
                _ => self.empty_signatures_next(u64_field(cmd, "blocks")?),
            },
            "dispute" => self.dispute(str_field(cmd, "address")?)?,
            "register" => {
                let pow = cmd.get("pow_address").and_then(Value::as_str);
                self.register(str_field(cmd, "address")?, u64_field(cmd, "power")?, pow)?;
            }
            "retire" => self.retire(str_field(cmd, "address")?, u64_field(cmd, "power")?)?,
            "add_member" => {
                let address = str_field(cmd, "address")?.to_string();
                let pow_address = cmd
                    .get("pow_address")
                    .and_then(Value::as_str)
                    .map_or_else(|| ids::pow_address(ids::str_key(&address)), str::to_string);
                let voting_power =
                    u64_field(cmd, "voting_power").or_else(|_| u64_field(cmd, "power"))?;
                self.add_member(MemberSpec {
                    address,
                    voting_power,
                    pow_address,
                })?;
            }
            "stop_election" => {
                let stopped = cmd.get("stopped").and_then(Value::as_bool).unwrap_or(true);
                self.stop_election(str_field(cmd, "address")?, stopped)?;
            }
            "latest_voted" => {
                let mode = match str_field(cmd, "mode")? {
                    "auto" => LatestVoted::Auto,
                    "pending" => LatestVoted::Pending,
                    "null" => LatestVoted::Null,
                    other => {
                        return Err(PosError::BadCommand(format!(
                            "unknown latest_voted mode {other:?}"
                        )))
                    }
                };
                self.set_latest_voted(mode);
            }
            "cip99_transition_view" => {
                let view = match cmd.get("view") {
                    None | Some(Value::Null) => None,
                    Some(_) => Some(u64_field(cmd, "view")?),
                };
                self.set_cip99_transition_view(view);
            }
            "state" => return Ok(self.state()),
            other => return Err(PosError::BadCommand(format!("unknown command {other:?}"))),
        }
        Ok(json!({"ok": true}))
    }

    /// A plain-number JSON summary of the chain for `GET /control/state` and test diagnostics.
    pub fn state(&self) -> Value {
        let latest = self.latest_committed();
        let epoch = self.geo.state_epoch(latest);
        let committee = self.committee(epoch);
        let members: Vec<Value> = self
            .accounts
            .iter()
            .map(|(addr, acc)| {
                let s = acc.current();
                json!({
                    "address": addr,
                    "powAddress": acc.pow_address,
                    "voters": self.voters_of(addr),
                    "omitted": self.omitted.contains(addr),
                    "electionStopped": self.election_stopped.contains(addr),
                    "committeePower": committee.power_of(addr),
                    "availableVotes": s.available(),
                    "locked": s.locked,
                    "unlocked": s.unlocked,
                    "inQueue": s.in_queue.iter().map(|q| [q.end, q.power]).collect::<Vec<_>>(),
                    "outQueue": s.out_queue.iter().map(|q| [q.end, q.power]).collect::<Vec<_>>(),
                    "forceRetired": s.force_retired,
                })
            })
            .collect();
        let retirements: Vec<Value> = self
            .retirements
            .iter()
            .map(|r| json!({"address": r.address, "view": r.view, "epoch": r.epoch, "timeUs": r.time_us}))
            .collect();
        json!({
            "latestCommitted": latest,
            "epoch": epoch,
            "viewInTerm": self.geo.view_in_term(latest),
            "epochLength": self.p.epoch_length,
            "electingTerm": self.geo.electing_term(latest),
            "committee": {"epoch": committee.epoch, "total": committee.total(), "quorum": committee.quorum(),
                          "nodes": committee.nodes},
            "members": members,
            "retirements": retirements,
            "pendingTransactions": self.pending.len(),
            "hiddenNext": self.hide_next,
            "latestVoted": format!("{:?}", self.latest_voted).to_lowercase(),
            "cip99TransitionView": self.cip99_transition_view,
            "forceRetireWindowEpochs": self.force_retire_window(latest),
        })
    }

    fn is_registered(&self, address: &str) -> bool {
        self.accounts.contains_key(address)
            || self
                .pending
                .iter()
                .any(|p| matches!(p, Pending::Register { address: a, .. } if a == address))
    }

    fn known_address(&self, address: &str) -> Result<String, PosError> {
        let address = parse_address(address)?;
        if self.is_registered(&address) {
            Ok(address)
        } else {
            Err(PosError::UnknownAddress(address))
        }
    }
}

fn check_power(power: u64) -> Result<(), PosError> {
    if power > MAX_POWER {
        return Err(PosError::InvalidParam(format!(
            "power must be at most {MAX_POWER}"
        )));
    }
    Ok(())
}

fn str_field<'a>(cmd: &'a Value, key: &str) -> Result<&'a str, PosError> {
    cmd.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| PosError::BadCommand(format!("missing string field {key:?}")))
}

fn u64_field(cmd: &Value, key: &str) -> Result<u64, PosError> {
    cmd.get(key)
        .and_then(Value::as_u64)
        .ok_or_else(|| PosError::BadCommand(format!("missing unsigned integer field {key:?}")))
}

fn bool_field(cmd: &Value, key: &str) -> Result<bool, PosError> {
    cmd.get(key)
        .and_then(Value::as_bool)
        .ok_or_else(|| PosError::BadCommand(format!("missing boolean field {key:?}")))
}
