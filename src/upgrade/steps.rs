//! The seed's upgrade steps judged against what the exporter and the node say now: stop elections, wait until in
//! no committee, stop/upgrade/restart, watch sync, vote again. Pure: the facts come in, the answers go out. The
//! check cannot know by itself whether the node was already restarted (the `stop_election` flag lives in the
//! node's memory and a restart clears it, so before and after look alike on the chain): the operator says so with
//! `--restarted`.

use super::facts::{Exposition, LiveNode};

/// The node-side command an operator runs to stop elections (state-changing: the exporter never sends it).
pub const STOP_ELECTION: &str = "./conflux rpc local pos stop_election";

/// One step's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Nothing left to do.
    Done(String),
    /// Wait until the given condition (a block, with its ETA).
    Wait(String),
    /// Run this now.
    DoNow(String),
    /// Cannot be told now.
    Unknown(String),
}

impl Answer {
    /// The word printed first.
    pub fn tag(&self) -> &'static str {
        match self {
            Answer::Done(_) => "done",
            Answer::Wait(_) => "wait",
            Answer::DoNow(_) => "do this now",
            Answer::Unknown(_) => "unknown",
        }
    }

    /// The detail.
    pub fn text(&self) -> &str {
        match self {
            Answer::Done(t) | Answer::Wait(t) | Answer::DoNow(t) | Answer::Unknown(t) => t,
        }
    }
}

/// The walk: each step and the process exit code (0: safe to stop, or voting again after the restart; 1: not
/// yet; 2: cannot be told).
#[derive(Debug, Clone, PartialEq)]
pub struct Walk {
    /// (step title, answer), in the seed's order.
    pub steps: Vec<(&'static str, Answer)>,
    /// Exit code.
    pub code: u8,
}

/// The steps for `node`, before the restart or (with `restarted`) after it.
pub fn walk(e: &Exposition, node: &str, live: LiveNode, restarted: bool) -> Walk {
    let v = |name: &str| e.node_value(name, node);
    let serving = v("conflux_pos_serving_any_term");
    let mut steps = vec![("ready for the next fork", fork_step(e, node))];
    steps.extend(standby_steps(e, node));
    if restarted {
        let (after, code) = after_restart(e, node, live);
        steps.push(("stop elections", Answer::Done("before the restart".into())));
        steps.push((
            "wait until in no committee",
            Answer::Done("before the restart".into()),
        ));
        steps.extend(after);
        return Walk { steps, code };
    }
    steps.push(("stop elections", stop_elections(e, node, serving)));
    let wait = wait_free(e, node, serving);
    let free = matches!(wait, Answer::Done(_));
    steps.push(("wait until in no committee", wait));
    let restart = if free {
        Answer::DoNow("stop the node, install the new release, start it; then run `conflux-pos-exporter upgrade-check --restarted`".into())
    } else {
        Answer::Wait("until the node is in no committee (the step above)".into())
    };
    steps.push(("stop, upgrade, restart", restart));
    steps.push(("watch sync", Answer::Wait("after the restart".into())));
    steps.push((
        "vote again / hand over",
        Answer::Wait("after the restart".into()),
    ));
    let code = match serving {
        Some(0.0) => 0,
        Some(_) => 1,
        None => 2,
    };
    Walk { steps, code }
}

fn fork_step(e: &Exposition, node: &str) -> Answer {
    match e.find_containing("fork_ready", node) {
        Some((name, 1.0)) => Answer::Done(format!("{name} = 1")),
        Some((name, r)) => Answer::DoNow(format!(
            "{name} = {r}: install a release that supports the next fork"
        )),
        None => Answer::Unknown("unknown (not available)".into()),
    }
}

/// The standbys this exporter watches: whether each could take over now.
fn standby_steps(e: &Exposition, node: &str) -> Vec<(&'static str, Answer)> {
    e.other_nodes("conflux_pos_standby_able_to_vote", node)
        .into_iter()
        .map(|s| {
            let a = match e.node_value("conflux_pos_standby_able_to_vote", &s) {
                Some(1.0) => Answer::Done(format!("standby {s} could take over and vote now")),
                _ => {
                    let why = e.labels_with("conflux_pos_standby_unable_reason", &s, "reason", 1.0);
                    Answer::Unknown(format!(
                        "standby {s} could not take over now: {}",
                        why.join(", ")
                    ))
                }
            };
            ("standby able to take over", a)
        })
        .collect()
}

fn stop_elections(e: &Exposition, node: &str, serving: Option<f64>) -> Answer {
    if serving == Some(0.0) {
        return Answer::Done("our key is in no current or future committee term".into());
    }
    match e.node_value("conflux_pos_elections_sending", node) {
        Some(0.0) => {
            Answer::Done("no Election transaction of our key in the last two terms".into())
        }
        Some(_) => Answer::DoNow(format!(
            "{STOP_ELECTION}   (an Election of our key landed within the last two terms; after stop_election none lands any more and this step turns done within two terms)"
        )),
        None => Answer::Unknown("the exporter has not read two terms of history yet".into()),
    }
}

fn wait_free(e: &Exposition, node: &str, serving: Option<f64>) -> Answer {
    let v = |name: &str| e.node_value(name, node);
    let budget = match v("conflux_pos_downtime_budget_seconds") {
        Some(b) => format!("; downtime budget {b:.0} s"),
        None => String::new(),
    };
    match (serving, v("conflux_pos_stop_after_block")) {
        (Some(0.0), _) => Answer::Done(format!(
            "in no committee: stopping misses no committee duty{budget}"
        )),
        (_, Some(block)) => {
            let now = v("conflux_pos_latest_committed_block").map_or("?".into(), |b| format!("{b:.0}"));
            let eta = v("conflux_pos_stop_after_seconds").map_or("unknown".into(), |s| format!("{s:.0} s"));
            Answer::Wait(format!(
                "until PoS block {block:.0} is committed (now {now}, ETA {eta}){budget}"
            ))
        }
        _ => Answer::Unknown(format!(
            "the exporter cannot tell yet which serving term seats us; `{STOP_ELECTION}` prints the block{budget}"
        )),
    }
}

fn after_restart(e: &Exposition, node: &str, live: LiveNode) -> (Vec<(&'static str, Answer)>, u8) {
    let v = |name: &str| e.node_value(name, node);
    let mut out = Vec::new();
    if !live.up {
        out.push((
            "stop, upgrade, restart",
            Answer::DoNow("start the upgraded node (it does not answer RPC)".into()),
        ));
        out.push(("watch sync", Answer::Wait("after the node starts".into())));
        out.push((
            "vote again / hand over",
            Answer::Wait("after the node syncs".into()),
        ));
        return (out, 1);
    }
    out.push((
        "stop, upgrade, restart",
        Answer::Done("the node answers RPC".into()),
    ));
    let synced = v("conflux_catching_up") == Some(0.0)
        && e.labels_with("conflux_pos_verdict_view", node, "view", 1.0) == ["local"];
    if !synced {
        out.push(("watch sync", Answer::Wait("until the sync phase is NormalSyncPhase and the node's own PoS view is fresh (conflux_catching_up 0, conflux_pos_verdict_view{view=\"local\"} 1)".into())));
        out.push((
            "vote again / hand over",
            Answer::Wait("after the node syncs".into()),
        ));
        return (out, 1);
    }
    out.push((
        "watch sync",
        Answer::Done("sync phase normal, own PoS view fresh".into()),
    ));
    let switch = live
        .voting
        .or(v("conflux_pos_voting_enabled").map(|x| x == 1.0));
    let electing = v("conflux_pos_elections_sending") == Some(1.0)
        || v("conflux_pos_serving_any_term") == Some(1.0)
        || v("conflux_pos_signing") == Some(1.0);
    let (answer, code) = match (switch, electing) {
        (Some(true), true) => (Answer::Done("voting again: switch on, our key elects or serves".into()), 0),
        (Some(true), false) => (Answer::Wait("until our key applies for the next term (at the next election window, within two terms)".into()), 1),
        (Some(false), _) => (Answer::DoNow("this node does not vote: hand over here only after the preflight (`conflux_pos_start_voting_preflight`), then `./conflux rpc local pos start_voting false`; or start voting on the standby".into()), 1),
        (None, _) => (Answer::Unknown("the voting switch is unknown".into()), 2),
    };
    out.push(("vote again / hand over", answer));
    (out, code)
}

#[cfg(test)]
#[path = "steps_tests.rs"]
mod tests;
