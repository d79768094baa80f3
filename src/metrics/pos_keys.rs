//! The facts about a PoS key (votes signed and missed, force-retire risk, account, rewards, slashing), published
//! once per key from the node `assess::key_readers` chooses: they are the chain's, not a node's, and publishing them
//! under a standby sharing the primary's key showed it "signing" votes it never cast.

use std::time::SystemTime;

use super::def::{catalogue, sync_counter, sync_float_counter};
use super::value::{cfx, flag, set, unix_seconds};
use crate::assess::stop::StopEstimate;
use crate::judge::{KeyVerdicts, PosVerdicts};
use crate::pos_address::PosAddress;
use crate::state::{NodeState, PosObs, ViewSource};

catalogue! {
    /// Facts about a PoS key, once per key.
    pub struct PosKeyFamilies {
        section("PoS keys", "Per key: once per pos_address, read from the most advanced up node holding it (the `node` label). \"Our\" and \"us\" below mean that key. When the node's own PoS view is stale (stuck, far behind, or the node stopped), a reference stands in (`conflux_pos_verdict_view`).");
        votes_signed: Counter("conflux_pos_votes_signed_total", ["node", "pos_address"], "Committee blocks we signed", doc: "Committed PoS blocks whose QC carries our signature."),
        votes_missed: Counter("conflux_pos_votes_missed_total", ["node", "pos_address"], "Committee blocks we did not sign", doc: "Committed PoS blocks of epochs in which we are a committee member whose QC lacks our signature."),
        votes_unknown: Counter("conflux_pos_votes_unknown_total", ["node", "pos_address"], "Committee blocks with unknown signers", doc: "Committed PoS blocks of our committee epochs whose QC the node does not know (empty signatures, catch-up): neither signed nor missed."),
        epoch_blocks_signed: Gauge("conflux_pos_epoch_blocks_signed", ["node", "pos_address"], "Blocks we signed this epoch", doc: "Committed PoS blocks of the current epoch whose QC carries our signature (of conflux_pos_epoch_blocks)."),
        consecutive_missed: Gauge("conflux_pos_consecutive_missed_blocks", ["node", "pos_address"], "Blocks missed since our last vote", doc: "Committee blocks without our signature since our last signed one."),
        last_signed_block: Gauge("conflux_pos_last_signed_block", ["node", "pos_address"], "Last PoS block we signed", doc: "Height of the last committed PoS block carrying our signature."),
        last_vote_ts: Gauge("conflux_pos_last_vote_timestamp_seconds", ["node", "pos_address"], "Time of our last signed block", doc: "Chain timestamp of the last committed PoS block carrying our signature, in Unix seconds."),
        proposed: Counter("conflux_pos_blocks_proposed_total", ["node", "pos_address"], "PoS blocks we proposed", doc: "Committed PoS blocks whose miner (leader) is our address."),
        epochs_without_vote: Gauge("conflux_pos_epochs_without_vote", ["node", "pos_address"], "Epochs in a row without our vote", doc: "Consecutive PoS epochs, counting the current one, in which we were in the committee and signed no committed block."),
        at_risk: Gauge("conflux_pos_force_retire_at_risk", ["node", "pos_address"], "1 when we will be force-retired unless we vote", doc: "1 when the end of the current PoS epoch force-retires us unless one of our votes lands first (we missed this epoch's committed blocks and signed nothing in the earlier epochs of the chain's look-back window); absent while the history cannot decide (see conflux_pos_force_retire_risk_known)."),
        eta: Gauge("conflux_pos_force_retire_eta_seconds", ["node", "pos_address"], "Seconds until we are force-retired", doc: "While at risk: seconds until the epoch end that retires us (remaining blocks times the observed block interval)."),
        eta_timestamp: Gauge("conflux_pos_force_retire_expected_timestamp_seconds", ["node", "pos_address"], "Unix time we will be force-retired", doc: "While at risk: Unix time at which the epoch end that retires us is expected (the same forecast as the ETA, as a wall-clock time)."),
        committee_member: Gauge("conflux_pos_committee_member", ["node", "pos_address"], "1 when we are in the committee", doc: "1 when our address is in the current PoS committee."),
        voting_power: Gauge("conflux_pos_voting_power", ["node", "pos_address"], "Our committee voting power", doc: "Our voting power in the current committee (0 when not a member)."),
        election_candidate: Gauge("conflux_pos_election_candidate", ["node", "pos_address", "term", "finalized"], "1 when we are a candidate for a term", doc: "For each of the two upcoming terms (term=next|after_next; their start blocks are conflux_pos_election_term_start_block): 1 when we are among its electing (finalized=false) or elected (finalized=true) nodes."),
        account_votes: Gauge("conflux_pos_account_votes", ["node", "pos_address", "state"], "Our votes (1000 CFX each) by state", doc: "Our PoS votes (1 vote = 1000 CFX) by state: available, locked, unlocked, in_queue, out_queue, forfeited."),
        registered: Gauge("conflux_pos_registered", ["node", "pos_address"], "1 when our PoS account exists", doc: "1 when pos_getAccount knows our address (the node answers a zero-filled account, not an error, for an address that never registered)."),
        force_retired: Gauge("conflux_pos_force_retired", ["node", "pos_address"], "1 while we are force-retired", doc: "1 while our account is force-retired (status.forceRetired is set)."),
        force_retired_block: Gauge("conflux_pos_force_retired_block", ["node", "pos_address"], "PoS block at which we were force-retired", doc: "PoS block at which we were force-retired; absent when not."),
        queue_block: Gauge("conflux_pos_queue_next_maturity_block", ["node", "pos_address", "queue"], "Block of the queue's next maturity", doc: "PoS block at which the next in-queue item locks or out-queue item unlocks; absent when the queue is empty."),
        queue_seconds: Gauge("conflux_pos_queue_next_maturity_seconds", ["node", "pos_address", "queue"], "Seconds to the queue's next maturity", doc: "Estimated seconds until the next in-queue item locks or out-queue item unlocks, at the observed block interval; absent when the queue is empty."),
        elections: Counter("conflux_pos_election_transactions_total", ["node", "pos_address"], "Our Election transactions", doc: "Executed Election transactions sent by our address."),
        last_election_term: Gauge("conflux_pos_last_election_target_term", ["node", "pos_address"], "Term of our latest Election", doc: "Target term of our latest Election transaction."),
        own_txs: Counter("conflux_pos_own_transactions_total", ["node", "pos_address", "type"], "Our staking transactions by type", doc: "Register, UpdateVotingPower and Retire transactions naming our address."),
        slashed: Gauge("conflux_pos_slashed", ["node", "pos_address"], "1 when we are slashed", doc: "1 when a Dispute transaction named us or our stake sits in an out-queue ending 500000+ blocks ahead: the double-vote penalty."),
        reward: FloatCounter("conflux_pos_reward_cfx_total", ["node", "pos_address"], "Our PoS rewards in CFX", doc: "PoS rewards of our address in CFX, over the epochs read."),
        verdict_view: Gauge("conflux_pos_verdict_view", ["node", "pos_address", "view"], "1 for the view our verdicts come from", doc: "1 for the PoS view the key's verdicts come from (view=local|reference), 0 for the other."),
        budget_seconds: Gauge("conflux_pos_downtime_budget_seconds", ["node", "pos_address"], "Seconds to retirement if silent", doc: "Committee member: seconds until the chain force-retires the key if no vote of ours lands from now on."),
        budget_blocks: Gauge("conflux_pos_downtime_budget_blocks", ["node", "pos_address"], "Blocks to retirement if silent", doc: "Committee member: PoS blocks until the chain force-retires the key if no vote of ours lands from now on."),
        stop_block: Gauge("conflux_pos_stop_after_block", ["node", "pos_address"], "PoS block after which we are in no committee", doc: "What `test_posStopElection` would return, estimated read-only (the exporter never calls it): the PoS block after which our key serves in no current or future committee term (the start of the sixth term after our latest seated term, plus one). Stop the node once it is committed. Absent when it would return null (conflux_pos_serving_any_term 0) and while unknown: no term grid yet, or a serving term whose finalized election this exporter never saw (up to six terms after it starts)."),
        stop_seconds: Gauge("conflux_pos_stop_after_seconds", ["node", "pos_address"], "Seconds until we are in no committee", doc: "Seconds until conflux_pos_stop_after_block is committed, at the observed block interval; 0 while our key is in no term."),
        serving_any: Gauge("conflux_pos_serving_any_term", ["node", "pos_address"], "1 while our key is in a current or future term", doc: "1 while our key holds or applies for seats in a current or upcoming committee term (`test_posStopElection` would return a block), 0 when in none (it would return null: the node may stop without missing committee duty). Absent while unknown."),
        elections_sending: Gauge("conflux_pos_elections_sending", ["node", "pos_address"], "1 while Election transactions are sent for us", doc: "1 when an executed Election transaction of our key landed within the last two terms (a node that elects applies once per term), 0 when none did: after `stop_election`, or when every vote already holds a seat. Absent while the history read does not reach two terms back."),
        last_reward: Gauge("conflux_pos_last_epoch_reward_cfx", ["node", "pos_address"], "Our PoS reward last epoch, in CFX", doc: "Our PoS reward in the last completed epoch read, in CFX (0 when none)."),
        committee_participation: Gauge("conflux_pos_committee_participation_ratio", ["node", "pos_address"], "Committee power share in the last block's QC", doc: "Share (0-1) of the committee's total voting power whose signatures are in the QC of the last committed PoS block read. Absent when that block's QC is unknown (empty signatures) or its epoch's committee is."),
        votes_solo_missed: Counter("conflux_pos_votes_solo_missed_total", ["node", "pos_address"], "Blocks we missed while the others signed", doc: "Committed PoS blocks we missed (see conflux_pos_votes_missed_total) whose QC holds at least 90 % of the other members' voting power: a failure of ours, not of the committee. Misses in blocks whose epoch's committee is unknown are not classified."),
        epoch_signed_ratio: Gauge("conflux_pos_epoch_signed_ratio", ["node", "pos_address", "slot"], "Our signed share per epoch back", doc: "For each of the last 24 PoS epochs (slot=00 the current one, 01 the one before, ... 23; two digits, so the text order is the epochs' order): the share of its committed blocks of ours (member, QC known) that carry our signature. At most 24 series; a slot whose epoch had no such block read is absent."),
        reward_efficiency: Gauge("conflux_pos_reward_efficiency_ratio", ["node", "pos_address"], "Our reward per vote over the committee median", doc: "Last finished epoch read in which we were a committee member: our reward per unit of voting power over the median of every member's (members without a reward count 0). Absent when the epoch's committee is unknown or it paid nobody."),
        reward_median: Gauge("conflux_pos_reward_committee_median_cfx_per_vote", ["node", "pos_address"], "Committee median reward per vote", doc: "The median reward per unit of voting power of the committee in the epoch of conflux_pos_reward_efficiency_ratio, in CFX."),
        reward_lost: FloatCounter("conflux_pos_reward_lost_cfx_total", ["node", "pos_address"], "Reward lost in unpaid member epochs", doc: "Over the member epochs read that paid us nothing: the committee's median reward per vote times our voting power, in CFX (no reward formula modelled)."),
    }
}

/// What the reading node knows about its key at this publish.
pub(crate) struct KeyFacts<'a> {
    /// The reading node (the `node` label says where the facts were read).
    pub node: &'a str,
    /// The key's canonical spelling (the `pos_address` label).
    pub address: &'a PosAddress,
    /// The node's PoS observation.
    pub pos: &'a PosObs,
    /// Current PoS epoch.
    pub epoch: u64,
    /// The judge's force-retire verdicts (judgement, at risk, downtime budget, blocks left in the epoch).
    pub verdicts: &'a PosVerdicts,
    /// The judge's verdicts about the key (seats, queues, slashing, ETAs).
    pub key: &'a KeyVerdicts,
    /// Publish time.
    pub now: SystemTime,
}

/// Counters of a key that a node no longer reads for: dropped, so the key's counters appear once.
pub(crate) fn forget_counters(f: &PosKeyFamilies, node: &NodeState) {
    let Some(a) = node.pos.as_ref().and_then(|p| p.address.as_ref()) else {
        return;
    };
    let k = [node.name.as_str(), a.as_str()];
    for c in [
        &f.votes_signed,
        &f.votes_missed,
        &f.votes_unknown,
        &f.proposed,
        &f.elections,
        &f.votes_solo_missed,
    ] {
        let _ = c.remove_label_values(&k);
    }
    for t in ["Register", "UpdateVotingPower", "Retire"] {
        let _ = f.own_txs.remove_label_values(&[k[0], k[1], t]);
    }
    let _ = f.reward.remove_label_values(&k);
    let _ = f.reward_lost.remove_label_values(&k);
}

/// Every fact about the key, labelled `node` (where read) and `pos_address`.
pub(crate) fn publish_key(f: &PosKeyFamilies, k: &KeyFacts<'_>) {
    let source = k.pos.view.source;
    for v in ViewSource::ALL {
        let labels = [k.node, k.address.as_str(), v.label()];
        set(&f.verdict_view, &labels, flag(source == Some(v)));
    }
    committee(f, k);
    account(f, k);
    activity(f, k);
    stop(f, k);
    versus_committee(f, k);
    let Some((j, at_risk)) = &k.verdicts.retire else {
        return;
    };
    let (l, kk) = (&k.pos.ledger, [k.node, k.address.as_str()]);
    let current = l.epochs.get(&k.epoch).cloned().unwrap_or_default();
    set(&f.epoch_blocks_signed, &kk, current.signed as f64);
    set(&f.consecutive_missed, &kk, l.consecutive_missed as f64);
    if let Some(h) = l.last_signed_block {
        set(&f.last_signed_block, &kk, h as f64);
    }
    if let Some(ts) = l.last_vote_timestamp_us {
        set(&f.last_vote_ts, &kk, ts as f64 / 1e6);
    }
    set(
        &f.epochs_without_vote,
        &kk,
        j.verdict.epochs_without_vote as f64,
    );
    let Some(at_risk) = *at_risk else { return };
    set(&f.at_risk, &kk, flag(at_risk));
    if let Some(eta) = k.key.retire_eta_seconds {
        set(&f.eta, &kk, eta);
        set(&f.eta_timestamp, &kk, unix_seconds(k.now) + eta);
    }
    if let Some(b) = k.verdicts.budget {
        set(&f.budget_blocks, &kk, b.blocks as f64);
    }
    if let Some(s) = k.key.budget_seconds {
        set(&f.budget_seconds, &kk, s);
    }
}

/// The read-only stop estimate, beside the downtime budget.
fn stop(f: &PosKeyFamilies, k: &KeyFacts<'_>) {
    let kk = [k.node, k.address.as_str()];
    if let Some(s) = k.verdicts.elections_sending {
        set(&f.elections_sending, &kk, flag(s));
    }
    match k.verdicts.stop {
        Some(StopEstimate::Free) => set(&f.serving_any, &kk, 0.0),
        Some(StopEstimate::After(block)) => {
            set(&f.serving_any, &kk, 1.0);
            set(&f.stop_block, &kk, block as f64);
        }
        None => {}
    }
    if let Some(s) = k.key.stop_seconds {
        set(&f.stop_seconds, &kk, s);
    }
}

fn activity(f: &PosKeyFamilies, k: &KeyFacts<'_>) {
    let (p, kk) = (k.pos, [k.node, k.address.as_str()]);
    let l = &p.ledger;
    sync_counter(&f.votes_signed, &kk, l.signed_total);
    sync_counter(&f.votes_missed, &kk, l.missed_total);
    sync_counter(&f.votes_unknown, &kk, l.unknown_total);
    sync_counter(&f.proposed, &kk, l.proposed_total);
    sync_counter(&f.elections, &kk, p.activity.elections);
    for t in ["Register", "UpdateVotingPower", "Retire"] {
        let n = p.activity.own_tx_by_type.get(t).copied().unwrap_or(0);
        sync_counter(&f.own_txs, &[k.node, k.address.as_str(), t], n);
    }
    sync_float_counter(&f.reward, &kk, cfx(p.activity.reward_drip_total));
    if let Some(r) = p.activity.last_epoch_reward_drip {
        set(&f.last_reward, &kk, cfx(r));
    }
    if let Some(t) = p.activity.last_election_target_term {
        set(&f.last_election_term, &kk, t as f64);
    }
}

/// Our blocks and rewards measured against the committee's.
fn versus_committee(f: &PosKeyFamilies, k: &KeyFacts<'_>) {
    let (p, kk) = (k.pos, [k.node, k.address.as_str()]);
    let part = &p.ledger.participation;
    sync_counter(&f.votes_solo_missed, &kk, part.solo_missed_total);
    if let Some(r) = part.last_block {
        set(&f.committee_participation, &kk, r);
    }
    for &(slot, ratio) in &k.key.epoch_signed {
        // Two digits, so the label's text order is the epochs' order (dashboards sort by label).
        let slot = format!("{slot:02}");
        set(
            &f.epoch_signed_ratio,
            &[k.node, k.address.as_str(), &slot],
            ratio,
        );
    }
    sync_float_counter(&f.reward_lost, &kk, p.activity.reward_lost_cfx_total);
    if let Some(e) = &p.activity.efficiency {
        set(&f.reward_median, &kk, e.median_per_vote_cfx);
        if let Some(r) = e.ratio {
            set(&f.reward_efficiency, &kk, r);
        }
    }
}

fn committee(f: &PosKeyFamilies, k: &KeyFacts<'_>) {
    let Some(power) = k.key.seat else { return };
    let kk = [k.node, k.address.as_str()];
    set(&f.committee_member, &kk, flag(power.is_some()));
    set(&f.voting_power, &kk, power.unwrap_or(0) as f64);
    for u in &k.key.candidacies {
        let finalized = if u.finalized { "true" } else { "false" };
        set(
            &f.election_candidate,
            &[k.node, k.address.as_str(), u.term.label(), finalized],
            flag(u.candidate),
        );
    }
}

fn account(f: &PosKeyFamilies, k: &KeyFacts<'_>) {
    let Some(a) = &k.pos.account else { return };
    let kk = [k.node, k.address.as_str()];
    set(&f.registered, &kk, flag(a.is_registered()));
    let st = &a.status;
    for (state, v) in [
        ("available", st.available_votes.0),
        ("locked", st.locked.0),
        ("unlocked", st.unlocked.0),
        ("in_queue", k.key.queued.map_or(0, |q| q.0)),
        ("out_queue", k.key.queued.map_or(0, |q| q.1)),
        ("forfeited", st.forfeited.0),
    ] {
        set(
            &f.account_votes,
            &[k.node, k.address.as_str(), state],
            v as f64,
        );
    }
    set(&f.force_retired, &kk, flag(st.force_retired.is_some()));
    if let Some(b) = st.force_retired {
        set(&f.force_retired_block, &kk, b.0 as f64);
    }
    for m in &k.key.maturities {
        let labels = [k.node, k.address.as_str(), m.queue];
        set(&f.queue_block, &labels, m.block as f64);
        if let Some(s) = m.seconds {
            set(&f.queue_seconds, &labels, s);
        }
    }
    if let Some(s) = k.key.slashed {
        set(&f.slashed, &kk, flag(s));
    }
}
