//! The PoS families: the catalogue only. Publishing is split by whose fact it is: `pos_node` publishes each
//! node's own facts (status, history, the force-retire window as the node read it) and hands the facts about its
//! PoS address to `pos_keys`, which publishes them once per key. Verdicts come from `assess`.

use super::def::catalogue;

/// Transaction types the node reports, pre-created so rates start at zero.
pub const TX_TYPES: &[&str] = &[
    "BlockMetadata",
    "Election",
    "Retire",
    "Register",
    "UpdateVotingPower",
    "PivotDecision",
    "Dispute",
    "Other",
];

catalogue! {
    /// PoS families.
    pub struct PosFamilies {
        info: Gauge("conflux_pos_info", ["node", "pos_address"], "Always 1 while the node's PoS address is known; the label carries it (configured, from test_posRegister, or from pos_db/secure_storage.json)."),
        address_known: Gauge("conflux_pos_address_known", ["node"], "1 when the node's PoS address is known; 0 means votes cannot be tracked (set pos_address or pos_dir)."),
        up: Gauge("conflux_pos_up", ["node"], "1 when the node answered pos_getStatus in the last poll."),
        unavailable_reason: Gauge("conflux_pos_unavailable_reason", ["node", "reason"], "1 for why PoS data is unavailable (pos_not_started: -32078 before PoS starts; pos_not_served: -32601, the port lacks the pos namespace; pos_no_answer: the node closes the connection on pos_* calls, PoS not enabled; error), 0 for the other reasons; absent while PoS is up."),
        epoch: Gauge("conflux_pos_epoch", ["node"], "Current PoS epoch (pos_getStatus.epoch)."),
        latest_committed: Gauge("conflux_pos_latest_committed_block", ["node"], "Height of the latest committed PoS block."),
        latest_voted: Gauge("conflux_pos_latest_voted_block", ["node"], "Height of the newest voted but uncommitted PoS block; absent when the node reports null."),
        block_lag: Gauge("conflux_pos_block_lag", ["node"], "Median latest committed PoS block of the usable references on the node's chain minus the node's; absent when no reference serves pos_getStatus."),
        block_age: Gauge("conflux_pos_committed_block_age_seconds", ["node"], "Seconds since the timestamp (microseconds on chain) of the newest committed PoS block read; at most one poll behind."),
        votes_signed: Counter("conflux_pos_votes_signed_total", ["node", "pos_address"], "Committed PoS blocks whose QC carries our signature. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        votes_missed: Counter("conflux_pos_votes_missed_total", ["node", "pos_address"], "Committed PoS blocks of epochs in which we are a committee member whose QC lacks our signature. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        votes_unknown: Counter("conflux_pos_votes_unknown_total", ["node", "pos_address"], "Committed PoS blocks of our committee epochs whose QC the node does not know (empty signatures, catch-up): neither signed nor missed. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        epoch_blocks: Gauge("conflux_pos_epoch_blocks", ["node"], "Committed PoS blocks read so far in the current epoch."),
        epoch_blocks_signed: Gauge("conflux_pos_epoch_blocks_signed", ["node", "pos_address"], "Of those, blocks carrying our signature. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        consecutive_missed: Gauge("conflux_pos_consecutive_missed_blocks", ["node", "pos_address"], "Committee blocks without our signature since our last signed one. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        last_signed_block: Gauge("conflux_pos_last_signed_block", ["node", "pos_address"], "Height of the last committed PoS block carrying our signature. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        last_vote_ts: Gauge("conflux_pos_last_vote_timestamp_seconds", ["node", "pos_address"], "Chain timestamp of that block, in Unix seconds. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        proposed: Counter("conflux_pos_blocks_proposed_total", ["node", "pos_address"], "Committed PoS blocks whose miner (leader) is our address. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        epochs_without_vote: Gauge("conflux_pos_epochs_without_vote", ["node", "pos_address"], "Consecutive PoS epochs, counting the current one, in which we were in the committee and signed no committed block. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        at_risk: Gauge("conflux_pos_force_retire_at_risk", ["node", "pos_address"], "1 when the end of the current PoS epoch force-retires us unless one of our votes lands first (we missed this epoch's committed blocks and signed nothing in the earlier epochs of the chain's look-back window); absent while the history cannot decide (see conflux_pos_force_retire_risk_known). Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        risk_known: Gauge("conflux_pos_force_retire_risk_known", ["node"], "1 when the vote history read so far decides the force-retire verdict; 0 while it cannot (backfill incomplete, committee unknown): the risk is then unknown, never assumed absent."),
        window_epochs: Gauge("conflux_pos_force_retire_window_epochs", ["node"], "Epochs the chain looks back at the end of the current epoch: 1 before the chain's CIP-99 transition view, 3 from it (known for chains 1029 and 1, else pos.cip99_transition_view, else the node's default of 1)."),
        forecast_missed: Counter("conflux_pos_force_retire_forecast_missed_total", ["node"], "Force-retirements of our address applied by the chain while we watched, at an epoch end we had not flagged as at risk: our forecast was wrong."),
        last_read_block: Gauge("conflux_pos_last_read_block", ["node"], "Highest committed PoS block read into the vote record."),
        history_caught_up: Gauge("conflux_pos_history_caught_up", ["node"], "1 when every committed block, transaction and committee up to the latest committed block the node reported has been read."),
        backfill_complete: Gauge("conflux_pos_backfill_complete", ["node"], "1 once the force-retire window (current epoch and the two before it) has been read; until then participation verdicts are not published."),
        backfill_remaining: Gauge("conflux_pos_backfill_remaining_blocks", ["node"], "Committed PoS blocks known but not read yet."),
        history_batch: Gauge("conflux_pos_history_batch_size", ["node"], "Calls per history request now: halved after a timeout, grown after successes, so a slow node still makes progress."),
        eta: Gauge("conflux_pos_force_retire_eta_seconds", ["node", "pos_address"], "While at risk: seconds until the epoch end that retires us (remaining blocks times the observed block interval). Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        eta_timestamp: Gauge("conflux_pos_force_retire_expected_timestamp_seconds", ["node", "pos_address"], "While at risk: Unix time at which the epoch end that retires us is expected (the same forecast as the ETA, as a wall-clock time). Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        remaining_blocks: Gauge("conflux_pos_epoch_remaining_blocks", ["node"], "PoS blocks left in the current epoch, the epoch-ending block included."),
        block_interval: Gauge("conflux_pos_block_interval_seconds", ["node"], "Observed seconds per committed PoS block over the last blocks read (from chain timestamps)."),
        epoch_length: Gauge("conflux_pos_epoch_length_blocks", ["node"], "PoS epoch length in blocks, from the election schedule (120 on mainnet)."),
        committee_member: Gauge("conflux_pos_committee_member", ["node", "pos_address"], "1 when our address is in the current PoS committee. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        voting_power: Gauge("conflux_pos_voting_power", ["node", "pos_address"], "Our voting power in the current committee (0 when not a member). Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        committee_power: Gauge("conflux_pos_committee_voting_power", ["node", "kind"], "The current committee's total voting power and the quorum (kind=total|quorum)."),
        election_candidate: Gauge("conflux_pos_election_candidate", ["node", "pos_address", "term", "finalized"], "For each of the two upcoming terms (term=next|after_next; their start blocks are conflux_pos_election_term_start_block): 1 when we are among its electing (finalized=false) or elected (finalized=true) nodes. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        election_term_start: Gauge("conflux_pos_election_term_start_block", ["node", "term"], "PoS block (view) at which each of the two upcoming terms starts (term=next|after_next), from pos_getCommittee's elections."),
        account_votes: Gauge("conflux_pos_account_votes", ["node", "pos_address", "state"], "Our PoS votes (1 vote = 1000 CFX) by state: available, locked, unlocked, in_queue, out_queue, forfeited. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        registered: Gauge("conflux_pos_registered", ["node", "pos_address"], "1 when pos_getAccount knows our address (the node answers a zero-filled account, not an error, for an address that never registered). Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        force_retired: Gauge("conflux_pos_force_retired", ["node", "pos_address"], "1 while our account is force-retired (status.forceRetired is set). Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        force_retired_block: Gauge("conflux_pos_force_retired_block", ["node", "pos_address"], "PoS block at which we were force-retired; absent when not. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        queue_block: Gauge("conflux_pos_queue_next_maturity_block", ["node", "pos_address", "queue"], "PoS block at which the next in-queue item locks or out-queue item unlocks; absent when the queue is empty. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        queue_seconds: Gauge("conflux_pos_queue_next_maturity_seconds", ["node", "pos_address", "queue"], "Estimated seconds until then, at the observed block interval. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        elections: Counter("conflux_pos_election_transactions_total", ["node", "pos_address"], "Executed Election transactions sent by our address. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        last_election_term: Gauge("conflux_pos_last_election_target_term", ["node", "pos_address"], "Target term of our latest Election transaction. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        own_txs: Counter("conflux_pos_own_transactions_total", ["node", "pos_address", "type"], "Register, UpdateVotingPower and Retire transactions naming our address. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        txs: Counter("conflux_pos_transactions_total", ["node", "type"], "PoS transactions of every committed block read, chain-wide, by type."),
        slashed: Gauge("conflux_pos_slashed", ["node", "pos_address"], "1 when a Dispute transaction named us or our stake sits in an out-queue ending 500000+ blocks ahead: the double-vote penalty. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        reward: FloatCounter("conflux_pos_reward_cfx_total", ["node", "pos_address"], "PoS rewards of our address in CFX, over the epochs read. Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        last_reward: Gauge("conflux_pos_last_epoch_reward_cfx", ["node", "pos_address"], "Our PoS reward in the last completed epoch read, in CFX (0 when none). Per key: once per pos_address, read from the most advanced up node holding it (the node label)."),
        voting_enabled: Gauge("conflux_pos_voting_enabled", ["node"], "1 when the node's local voting switch is on (test_posVotingStatus); absent when the port does not serve it."),
    }
}
