//! Committing one block: the order of effects matters and follows conflux-rust's executor.
//!
//! For block `v` the node first executes the block's transactions on the parent state (view `v−1`: Elections,
//! staking events, disputes), then runs `next_view` (view becomes `v`: queues mature, `forceRetired` may expire,
//! the election of the next term closes at mid-term, and on the first view of a term the next epoch's committee is
//! fixed from the seats and the current `availableVotes`). Only then, when the committed block ends an epoch, the
//! force-retire check runs. So a member retired at the end of epoch E still sits in epoch E+1's committee (fixed
//! one step earlier) and leaves from E+2 on, when its `availableVotes` are 0.

use super::chain::{Account, Block, Pending, PosChain, Retirement, RewardRecord, Tx, TxKind};
use super::ids;
use super::lock::LockStatus;
use super::rules;

impl PosChain {
    /// Commits the next block at `now_us` (µs; forced strictly increasing), carrying the PoW pivot decision
    /// `(height, hash)` made by the simulator's PoW side.
    pub fn commit_block(&mut self, now_us: u64, pivot: (u64, String)) {
        let prev = self.latest_committed();
        let v = prev + 1;
        let prev_ts = self.block(prev).map_or(0, |b| b.timestamp_us);
        let timestamp_us = now_us.max(prev_ts.saturating_add(1));
        let epoch = self.geo.block_epoch(v);
        let committee = self.committee(epoch);

        let voting: Vec<(String, u64)> = committee
            .nodes
            .iter()
            .filter(|(a, _)| self.voters_of(a) >= 1)
            .cloned()
            .collect();
        let qc: Vec<(String, u64)> = voting
            .iter()
            .filter(|(a, _)| !self.omitted.contains(a))
            .cloned()
            .collect();
        let miner =
            (!voting.is_empty()).then(|| voting[(v % voting.len() as u64) as usize].0.clone());
        let proposer = miner.clone().unwrap_or_else(|| ids::ZERO_H256.to_string());

        let mut body = vec![
            (ids::ZERO_H256.to_string(), TxKind::BlockMetadata),
            (
                proposer.clone(),
                TxKind::PivotDecision {
                    height: pivot.0,
                    block_hash: pivot.1.clone(),
                },
            ),
        ];
        body.extend(self.elections(v));
        body.extend(self.staking_events(v, &proposer));
        let mut disputes: Vec<String> = Vec::new();
        if self.p.auto_dispute {
            for (addr, _) in &committee.nodes {
                if self.voters_of(addr) >= 2 && self.auto_disputed.insert(addr.clone()) {
                    disputes.push(addr.clone());
                }
            }
        }
        for ev in std::mem::take(&mut self.pending) {
            if let Pending::Dispute { address } = ev {
                disputes.push(address);
            }
        }
        let deadline = (v - 1).saturating_add(self.p.dispute_lock_views);
        for address in disputes {
            if let Some(acc) = self.accounts.get_mut(&address) {
                acc.mutate(v, |s| s.dispute_relock(deadline));
            }
            body.push((proposer.clone(), TxKind::Dispute { address, view: v }));
        }

        self.next_view(v);

        let tally = self.tallies.entry(epoch).or_default();
        let signed_power: u64 = qc.iter().map(|(_, p)| p).sum();
        for (addr, power) in &qc {
            let c = tally.entry(addr.clone()).or_default();
            c.signed_blocks += 1;
            c.vote_power += power;
        }
        if let Some(m) = &miner {
            let c = tally.entry(m.clone()).or_default();
            c.leader_count += 1;
            c.extra_votes += rules::extra_votes(signed_power, committee.quorum());
        }

        if self.geo.ends_epoch(v) && epoch != 0 {
            let out = self.p.out_queue_locked_views;
            for address in rules::force_retire_targets(
                epoch,
                &committee,
                &self.tallies,
                self.force_retire_window(v),
            ) {
                let retired = self
                    .accounts
                    .get_mut(&address)
                    .is_some_and(|a| a.mutate(v, |s| s.force_retire(v, out)));
                if retired {
                    self.retirements.push(Retirement {
                        address,
                        view: v,
                        epoch,
                        time_us: timestamp_us,
                    });
                }
            }
            let tally = self.tallies.get(&epoch).cloned().unwrap_or_default();
            let entries = rules::epoch_rewards(
                &committee,
                &tally,
                self.p.epoch_length,
                self.p.reward_drip_per_point,
            )
            .into_iter()
            .map(|(addr, drip)| {
                let pow = self
                    .accounts
                    .get(&addr)
                    .map(|a| a.pow_address.clone())
                    .unwrap_or_default();
                (addr, pow, drip)
            })
            .collect();
            self.rewards.insert(
                epoch,
                RewardRecord {
                    end_view: v,
                    pow_epoch_hash: pivot.1.clone(),
                    entries,
                },
            );
        }

        let first = self
            .block(prev)
            .map_or(self.p.start_tx_number, |b| b.last_tx)
            + 1;
        for (i, (from, kind)) in body.into_iter().enumerate() {
            self.txs.push(Tx {
                number: first + i as u64,
                from,
                block: v,
                kind,
            });
        }
        let qc_hidden = self.take_hidden(v);
        let block = Block {
            height: v,
            epoch,
            round: self.geo.round(v),
            hash: ids::h256(ids::TAG_BLOCK, v),
            parent_hash: self
                .block(prev)
                .map_or_else(|| ids::ZERO_H256.to_string(), |b| b.hash.clone()),
            miner,
            timestamp_us,
            pivot,
            last_tx: self.txs.last().map_or(first - 1, |t| t.number),
            qc,
            qc_hidden,
        };
        self.by_hash.insert(block.hash.clone(), v);
        self.blocks.push(block);
    }

    /// Election transactions for block `v`, judged on the parent state: one per voting node that is not
    /// force-retired, has not stopped elections, has not applied yet, and holds more available votes than seats
    /// in the 5 terms before the electing one. It wins `available − those seats` tickets.
    fn elections(&mut self, v: u64) -> Vec<(String, TxKind)> {
        let term = self.geo.electing_term(v - 1);
        let mut out = Vec::new();
        let candidates: Vec<(String, LockStatus)> = self
            .accounts
            .iter()
            .map(|(a, acc)| (a.clone(), acc.current()))
            .collect();
        for (addr, status) in candidates {
            if self.voters_of(&addr) == 0
                || self.election_stopped.contains(&addr)
                || status.force_retired.is_some()
                || self.seats.has_applied(term, &addr)
            {
                continue;
            }
            let serving = self.seats.serving_before(term, &addr);
            if status.available() > serving {
                self.seats
                    .apply(term, &addr, status.available() - serving, v);
                let target_term = term.max(0) as u64;
                out.push((
                    addr.clone(),
                    TxKind::Election {
                        address: addr,
                        target_term,
                    },
                ));
            }
        }
        out
    }

    /// Register / UpdateVotingPower / Retire transactions queued by control commands, executed at view `v−1`.
    fn staking_events(&mut self, v: u64, proposer: &str) -> Vec<(String, TxKind)> {
        let (in_views, out_views) = (self.p.in_queue_locked_views, self.p.out_queue_locked_views);
        let mut out = Vec::new();
        let mut keep = Vec::new();
        for ev in std::mem::take(&mut self.pending) {
            let kind = match ev {
                Pending::Register {
                    address,
                    pow_address,
                } => {
                    self.accounts
                        .entry(address.clone())
                        .or_insert_with(|| Account::new(v, LockStatus::default(), pow_address));
                    TxKind::Register { address }
                }
                Pending::Update { address, power } => {
                    if let Some(acc) = self.accounts.get_mut(&address) {
                        acc.mutate(v, |s| s.new_lock(v - 1, power, in_views, out_views));
                    }
                    TxKind::UpdateVotingPower { address, power }
                }
                Pending::Retire { address, power } => {
                    if let Some(acc) = self.accounts.get_mut(&address) {
                        acc.mutate(v, |s| s.new_unlock(v - 1, power, out_views));
                    }
                    TxKind::Retire { address, power }
                }
                dispute @ Pending::Dispute { .. } => {
                    keep.push(dispute);
                    continue;
                }
            };
            out.push((proposer.to_string(), kind));
        }
        self.pending = keep;
        out
    }

    /// `next_view(v)`: maturation for every account, then the term bookkeeping.
    fn next_view(&mut self, v: u64) {
        let out = self.p.out_queue_locked_views;
        for acc in self.accounts.values_mut() {
            acc.mutate(v, |s| s.update(v, out));
        }
        if self.geo.view_in_term(v) == 0 {
            let committee = self.committee_for_term(self.geo.term(v));
            self.committees.insert(committee.epoch, committee);
        }
    }

    /// Whether block `v`'s signatures are hidden from the RPC, consuming one "next N blocks" credit.
    fn take_hidden(&mut self, v: u64) -> bool {
        let by_range = self.hide_ranges.iter().any(|(a, b)| (*a..=*b).contains(&v));
        let by_count = self.hide_next > 0;
        self.hide_next = self.hide_next.saturating_sub(1);
        by_range || by_count
    }
}
