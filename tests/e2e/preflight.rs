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

/// Runs `conflux-pos-exporter preflight` against the exporter at `app` for `node`: (exit code, stdout).
async fn command(app: std::net::SocketAddr, args: &[&str]) -> (i32, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_conflux-pos-exporter"))
        .arg("preflight")
        .arg(format!("--exporter=http://{app}"))
        .args(args)
        .output()
        .await
        .expect("run the preflight command");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().expect("exit code"), text)
}

/// The command's verdict for `node` agrees with the exporter's series: its exit code and the evidence printed.
/// Asked again until it does (within [`DEADLINE`]): on a loaded machine a poll that times out makes the verdict
/// `unknown` for a moment, which is the honest answer then.
async fn command_says(app: std::net::SocketAddr, node: &str, code: i32, shows: &[&str]) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let (got, text) = command(app, &[&format!("--node={node}")]).await;
        if got == code && shows.iter().all(|s| text.contains(s)) {
            println!("{text}");
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "wanted exit {code} showing {shows:?}, got {got}:\n{text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Waits until the landing page shows every one of `lines`.
async fn landing_shows(app: std::net::SocketAddr, lines: &[&str]) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let page = reqwest::get(format!("http://{app}/"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if lines.iter().all(|l| page.contains(l)) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{lines:?} not in:\n{page}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
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
    let latest = format!("last signed: block {}", sim.pos_height());
    // The QC of the next block, not committed yet (pos_getConsensusBlocks), already holds the key.
    wait_for(
        addr,
        DEADLINE,
        "b: the key signs a block not committed yet; b's never-voted file scanned (stale)",
        |s| {
            reason(s, "b", "key_signing_uncommitted") == Some(1.0)
                && reason(s, "b", "stale_safety_data") == Some(1.0)
        },
    )
    .await;
    let pending = "2 blocks; the key signed";
    command_says(
        addr,
        "b",
        10,
        &[
            "verdict: UNSAFE",
            "key_signing",
            &latest,
            "do NOT run",
            pending,
        ],
    )
    .await;

    // (b) stop_voting on the primary; its .save (current: the key's last signed round) moves to the standby.
    set_voting(&sim, "a", false).await;
    let last_signed = sim.pos_height();
    let (epoch, round) = epoch_round(&sim, last_signed).await;
    std::fs::remove_file(da.file("secure_storage.json")).unwrap();
    std::fs::write(db.file("secure_storage.json.save"), store(epoch, round)).unwrap();
    sim.advance_pos(3).unwrap();
    let s = preflight_is(addr, &sim, "b", "wait").await;
    assert_eq!(reason(&s, "b", "quiet_too_short"), Some(1.0));
    assert_eq!(reason(&s, "b", "key_signing_uncommitted"), Some(0.0));
    assert_eq!(
        s.get("conflux_pos_start_voting_quiet_blocks", &[("node", "b")]),
        Some(3.0)
    );
    command_says(
        addr,
        "b",
        11,
        &[
            "verdict: WAIT",
            "quiet blocks: 3 of 10 needed",
            "none signed or proposed",
        ],
    )
    .await;
    sim.advance_pos(7).unwrap();
    let s = preflight_is(addr, &sim, "b", "safe").await;
    let save = format!("secure_storage.json.save at (epoch {epoch}, round {round})");
    let call = r#""method":"test_posStartVoting","params":[false]"#;
    command_says(
        addr,
        "b",
        0,
        &["verdict: SAFE", "safe now: run", &save, call],
    )
    .await;
    // The same node watched by a second exporter without its files: never safe on missing data.
    let blind = exporter(config_for(&[("c", sim.url("b").unwrap(), String::new())])).await;
    let s2 = preflight_is(blind.local_addr(), &sim, "c", "unknown").await;
    assert_eq!(reason(&s2, "c", "input_unknown"), Some(1.0));
    command_says(
        blind.local_addr(),
        "c",
        12,
        &["verdict: UNKNOWN", "no safety data file visible"],
    )
    .await;
    // With one node, --node may be left out.
    assert_eq!(command(blind.local_addr(), &[]).await.0, 12);
    blind.shutdown().await;
    // The landing page shows each node's verdict line.
    landing_shows(
        addr,
        &[
            "<td>b</td><td>safe; 10 of 10 quiet blocks</td>",
            "<td>a</td><td>unknown (input_unknown)",
        ],
    )
    .await;
    // Two nodes and none named, or a name it does not watch: an error, not a verdict.
    assert_eq!(command(addr, &[]).await.0, 13);
    command_says(addr, "nosuch", 13, &["watches no node named \"nosuch\""]).await;
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
    let stale = format!("round {})", round.saturating_sub(1));
    command_says(addr, "b", 10, &["stale safety data", &stale]).await;

    // (d) The hand-over happens (the standby votes): the old primary must not start again.
    std::fs::write(db.file("secure_storage.json.save"), store(epoch, round)).unwrap();
    preflight_is(addr, &sim, "b", "safe").await;
    set_voting(&sim, "b", true).await;
    sim.advance_pos(1).unwrap();
    let s = preflight_is(addr, &sim, "a", "unsafe").await;
    assert_eq!(reason(&s, "a", "key_signing"), Some(1.0));
    command_says(addr, "a", 10, &["verdict: UNSAFE", "key_signing"]).await;
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

#[tokio::test]
async fn the_command_says_error_when_the_exporter_cannot_be_asked() {
    // A port nobody listens on (bound, then closed), and a usage error.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (code, text) = command(port, &["--timeout=2s"]).await;
    assert_eq!(code, 13, "{text}");
    assert!(text.contains("cannot read"), "{text}");
    assert_eq!(command(port, &["--timeout=soon"]).await.0, 2);
}
