use super::*;

fn e(lines: &[&str]) -> Exposition {
    Exposition::parse(&lines.join("\n"))
}

const UP: LiveNode = LiveNode {
    up: true,
    voting: Some(true),
};

fn tags(w: &Walk) -> Vec<(&'static str, &'static str)> {
    w.steps.iter().map(|(t, a)| (*t, a.tag())).collect()
}

#[test]
fn an_electing_member_must_stop_elections_first() {
    let x = e(&[
        "conflux_up{node=\"local\"} 1",
        "conflux_pos_serving_any_term{node=\"local\",pos_address=\"0xab\"} 1",
        "conflux_pos_elections_sending{node=\"local\",pos_address=\"0xab\"} 1",
        "conflux_pos_stop_after_block{node=\"local\",pos_address=\"0xab\"} 171",
        "conflux_pos_stop_after_seconds{node=\"local\",pos_address=\"0xab\"} 90",
        "conflux_pos_latest_committed_block{node=\"local\"} 120",
        "conflux_pos_downtime_budget_seconds{node=\"local\",pos_address=\"0xab\"} 300",
    ]);
    let w = walk(&x, "local", UP, false);
    assert_eq!(w.code, 1);
    assert_eq!(
        tags(&w)[..4],
        [
            ("ready for the next fork", "unknown"),
            ("stop elections", "do this now"),
            ("wait until in no committee", "wait"),
            ("stop, upgrade, restart", "wait"),
        ]
    );
    assert!(w.steps[1].1.text().contains(STOP_ELECTION));
    let wait = w.steps[2].1.text();
    assert!(
        wait.contains("171")
            && wait.contains("now 120")
            && wait.contains("90 s")
            && wait.contains("budget 300 s"),
        "{wait}"
    );
}

#[test]
fn stopped_elections_wait_for_the_block_then_stop() {
    let mut lines = vec![
        "conflux_pos_serving_any_term{node=\"local\",pos_address=\"0xab\"} 1",
        "conflux_pos_elections_sending{node=\"local\",pos_address=\"0xab\"} 0",
        "conflux_pos_stop_after_block{node=\"local\",pos_address=\"0xab\"} 171",
    ];
    let w = walk(&e(&lines), "local", UP, false);
    assert_eq!(w.steps[1].1.tag(), "done");
    assert_eq!(w.steps[2].1.tag(), "wait");
    assert_eq!(w.code, 1);
    lines[0] = "conflux_pos_serving_any_term{node=\"local\",pos_address=\"0xab\"} 0";
    let w = walk(&e(&lines), "local", UP, false);
    assert_eq!(
        tags(&w)[1..4],
        [
            ("stop elections", "done"),
            ("wait until in no committee", "done"),
            ("stop, upgrade, restart", "do this now")
        ]
    );
    assert_eq!(w.code, 0);
    // Unknown serving: cannot tell.
    let w = walk(&e(&[]), "local", UP, false);
    assert_eq!(w.code, 2);
    assert_eq!(w.steps[2].1.tag(), "unknown");
}

#[test]
fn after_the_restart_sync_then_voting() {
    let down = LiveNode {
        up: false,
        voting: None,
    };
    let w = walk(&e(&[]), "local", down, true);
    assert_eq!((w.steps[3].1.tag(), w.code), ("do this now", 1));
    let syncing = e(&["conflux_catching_up{node=\"local\"} 1"]);
    let w = walk(&syncing, "local", UP, true);
    assert_eq!((w.steps[4].1.tag(), w.code), ("wait", 1));
    let synced = [
        "conflux_catching_up{node=\"local\"} 0",
        "conflux_pos_verdict_view{node=\"local\",pos_address=\"0xab\",view=\"local\"} 1",
        "conflux_pos_verdict_view{node=\"local\",pos_address=\"0xab\",view=\"reference\"} 0",
    ];
    let w = walk(&e(&synced), "local", UP, true);
    assert_eq!(
        tags(&w)[4..],
        [("watch sync", "done"), ("vote again / hand over", "wait")]
    );
    let mut voting = synced.to_vec();
    voting.push("conflux_pos_elections_sending{node=\"local\",pos_address=\"0xab\"} 1");
    let w = walk(&e(&voting), "local", UP, true);
    assert_eq!((w.steps[5].1.tag(), w.code), ("done", 0));
    let off = LiveNode {
        up: true,
        voting: Some(false),
    };
    let w = walk(&e(&voting), "local", off, true);
    assert_eq!((w.steps[5].1.tag(), w.code), ("do this now", 1));
}

#[test]
fn fork_readiness_and_standbys_are_read_when_present() {
    let x = e(&[
        "conflux_node_next_fork_ready{node=\"local\",fork=\"x\"} 0",
        "conflux_pos_standby_able_to_vote{node=\"standby\"} 0",
        "conflux_pos_standby_unable_reason{node=\"standby\",reason=\"open_file_limit\"} 1",
        "conflux_pos_standby_unable_reason{node=\"standby\",reason=\"fork\"} 0",
    ]);
    let w = walk(&x, "local", UP, false);
    assert_eq!(w.steps[0].1.tag(), "do this now");
    assert_eq!(w.steps[1].0, "standby able to take over");
    assert!(
        w.steps[1].1.text().contains("open_file_limit") && !w.steps[1].1.text().contains("fork")
    );
}
