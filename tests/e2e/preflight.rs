//! The preflight before `start_voting` on a standby, end to end on the simulator: `unsafe` while the primary still
//! signs with the key, `wait` once it stopped and its `.save` moved over, `safe` after the quiet blocks, `unsafe`
//! again with a `.save` older than the key's last signed round, and `unsafe` on the old primary after the
//! hand-over. Blocks are produced by the test, so nothing races a clock.

use conflux_test_support as support;

use support::exporter::exporter;
use support::exposition::Scrape;
use support::guard::*;
use support::rpc::result;
use support::scrape::{wait_for, DEADLINE};

use conflux_sim::SimHandle;
use serde_json::json;

fn verdict(s: &Scrape, node: &str) -> Option<&'static str> {
    ["unsafe", "wait", "unknown", "safe"].into_iter().find(|v| {
        s.get(
            "conflux_pos_start_voting_preflight",
            &[("node", node), ("verdict", v)],
        ) == Some(1.0)
    })
}

fn reason(s: &Scrape, node: &str, r: &str) -> Option<f64> {
    s.get(
        "conflux_pos_start_voting_preflight_reason",
        &[("node", node), ("reason", r)],
    )
}

/// Waits until `node`'s preflight says `want` with the history read to the chain's height.
async fn preflight_is(
    app: std::net::SocketAddr,
    sim: &SimHandle,
    node: &str,
    want: &str,
) -> Scrape {
    let h = sim.pos_height() as f64;
    wait_for(app, DEADLINE, &format!("{node}: {want} at {h}"), |s| {
        s.get("conflux_pos_last_read_block", &[("node", node)]) == Some(h)
            && verdict(s, node) == Some(want)
    })
    .await
}

/// (epoch, round) of committed block `h`, as the chain reports it.
async fn epoch_round(sim: &SimHandle, h: u64) -> (u64, u64) {
    let b = result(
        &sim.url("b").unwrap(),
        "pos_getBlockByNumber",
        json!([format!("0x{h:x}")]),
    )
    .await;
    let hex =
        |k: &str| u64::from_str_radix(b[k].as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
    (hex("epoch"), hex("round"))
}

/// A safety-rules store of [`KEY`] whose last vote is at (`epoch`, `round`).
fn store(epoch: u64, round: u64) -> String {
    let bare = KEY.trim_start_matches("0x");
    format!(
        r#"{{"owner_account":{{"data":"GetResponse","last_update":1,"value":"{bare}"}},"safety_data":{{"data":"GetResponse","last_update":2,"value":{{"epoch":{epoch},"last_voted_round":{round},"preferred_round":0,"last_vote":null}}}}}}"#
    )
}

#[tokio::test]
async fn a_standby_waits_for_the_key_to_fall_silent_and_for_current_safety_data() {
    let sim = pair_sim(&[KEY.to_string()]).await;
    let (da, db) = (NodeDir::create(), NodeDir::create());
    da.write_storage(KEY);
    db.fresh_storage(KEY);
    sim.advance_pos(3).unwrap();
    let app = exporter(config_for(&[
        ("a", sim.url("a").unwrap(), work_dir_key(&da)),
        ("b", sim.url("b").unwrap(), work_dir_key(&db)),
    ]))
    .await;
    let addr = app.local_addr();

    // (a) The primary votes: the standby must not start, and the evidence names the latest signed block.
    let s = preflight_is(addr, &sim, "b", "unsafe").await;
    assert_eq!(reason(&s, "b", "key_signing"), Some(1.0));
    assert_eq!(reason(&s, "b", "other_switch_on"), Some(1.0));
    assert_eq!(
        s.get("conflux_pos_start_voting_quiet_blocks", &[("node", "b")]),
        Some(0.0)
    );

    // (b) stop_voting on the primary; its .save (current: the key's last signed round) moves to the standby.
    set_voting(&sim, "a", false).await;
    let last_signed = sim.pos_height();
    let (epoch, round) = epoch_round(&sim, last_signed).await;
    std::fs::remove_file(da.file("secure_storage.json")).unwrap();
    std::fs::write(db.file("secure_storage.json.save"), store(epoch, round)).unwrap();
    sim.advance_pos(3).unwrap();
    let s = preflight_is(addr, &sim, "b", "wait").await;
    assert_eq!(reason(&s, "b", "quiet_too_short"), Some(1.0));
    assert_eq!(
        s.get("conflux_pos_start_voting_quiet_blocks", &[("node", "b")]),
        Some(3.0)
    );
    sim.advance_pos(7).unwrap();
    let s = preflight_is(addr, &sim, "b", "safe").await;
    assert_eq!(reason(&s, "b", "quiet_too_short"), Some(0.0));
    let against = |s: &Scrape, n: &str| {
        s.get(
            "conflux_pos_started_voting_against_preflight",
            &[("node", n)],
        )
    };
    assert_eq!(against(&s, "b"), Some(0.0));

    // (c) A .save taken earlier than the key's last vote: a new voter could sign a round already signed.
    std::fs::write(
        db.file("secure_storage.json.save"),
        store(epoch, round.saturating_sub(1)),
    )
    .unwrap();
    let s = preflight_is(addr, &sim, "b", "unsafe").await;
    assert_eq!(reason(&s, "b", "stale_safety_data"), Some(1.0));

    // (d) The hand-over happens (the standby votes): the old primary must not start again.
    std::fs::write(db.file("secure_storage.json.save"), store(epoch, round)).unwrap();
    preflight_is(addr, &sim, "b", "safe").await;
    set_voting(&sim, "b", true).await;
    sim.advance_pos(1).unwrap();
    let s = preflight_is(addr, &sim, "a", "unsafe").await;
    assert_eq!(reason(&s, "a", "key_signing"), Some(1.0));
    assert_eq!(
        against(&s, "b"),
        Some(0.0),
        "b started when its preflight said safe"
    );
    // The old primary's switch goes on against its unsafe preflight: flagged.
    set_voting(&sim, "a", true).await;
    wait_for(addr, DEADLINE, "a started against its preflight", |s| {
        against(s, "a") == Some(1.0)
    })
    .await;
    app.shutdown().await;
    sim.shutdown().await;
}
