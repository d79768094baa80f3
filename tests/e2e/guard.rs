//! The double-voting guard end to end: the simulator plays a primary and a standby sharing one PoS key on two
//! ports, each with its own voting switch; the test plays the operator, moving `secure_storage.json` the way
//! `stop_voting` / `start_voting` do (conflux-rust PR #2438), and the exporter's guard series must follow every
//! step. Also: safe-to-stop from the committee, the owner cross-check, and the PoS-address fallback from
//! `pos_db/secure_storage.json`.

use conflux_test_support as support;

use support::exporter::*;
use support::exposition::*;
use support::guard::*;
use support::scrape::*;
use support::world::*;

use conflux_sim::pos::{PosChain, PosParams};
use conflux_sim::{EndpointPatch, EndpointSpec, SimConfig};

#[tokio::test]
async fn primary_standby_handover_step_by_step() {
    let sim = pair_sim(&[KEY.to_string()]).await;
    let (da, db) = (NodeDir::create(), NodeDir::create());
    // The primary holds live safety data; the standby (pos_started_as_voter=false) its own never-voted store.
    da.write_storage(KEY);
    db.fresh_storage(KEY);
    let app = exporter(config_for(&[
        ("a", sim.url("a").unwrap(), work_dir_key(&da)),
        ("b", sim.url("b").unwrap(), work_dir_key(&db)),
    ]))
    .await;
    let addr = app.local_addr();

    let s = expect(
        addr,
        "start",
        "primary_voting",
        "standby_fresh_storage",
        1.0,
    )
    .await;
    assert_eq!(
        s.get("conflux_pos_key_owner_mismatch", &[("node", "a")]),
        Some(0.0)
    );
    assert_eq!(
        s.get("conflux_pos_safe_to_stop", &[("node", "a")]),
        Some(0.0),
        "the key sits in the committee"
    );
    for input in ["voting_switch", "key_files"] {
        let age = s.get(
            "conflux_pos_guard_input_age_seconds",
            &[("node", "b"), ("input", input)],
        );
        assert!(age.is_some_and(|a| a < 5.0), "{input} age {age:?}");
    }
    let holders = |s: &Scrape, st: &str| {
        s.get(
            "conflux_pos_key_holders",
            &[("pos_address", KEY), ("state", st)],
        )
    };
    assert_eq!(
        (
            holders(&s, "voting"),
            holders(&s, "not_voting"),
            holders(&s, "unknown")
        ),
        (Some(1.0), Some(1.0), Some(0.0))
    );

    // The standby's switch turned on while the primary still votes: one switch too many, but not (yet) two
    // signers: B's own store has never voted.
    let t0 = std::time::Instant::now();
    set_voting(&sim, "b", true).await;
    let s = expect(
        addr,
        "two switches",
        "two_voting_switches",
        "two_voting_switches",
        2.0,
    )
    .await;
    assert_eq!(s.get("conflux_pos_signing", &[("node", "b")]), Some(0.0));
    // Both now sign (their safety data advances): equivocation.
    eprintln!(
        "measured: second switch on -> two_voting_switches in {:?}",
        t0.elapsed()
    );
    let t0 = std::time::Instant::now();
    da.sign(KEY, 1204);
    db.sign(KEY, 1204);
    let s = expect(addr, "two signers", "double_voting", "double_voting", 2.0).await;
    eprintln!(
        "measured: second signature -> double_voting in {:?}",
        t0.elapsed()
    );
    assert_eq!(
        s.get("conflux_pos_signing_holders", &[("pos_address", KEY)]),
        Some(2.0)
    );
    set_voting(&sim, "b", false).await;
    db.fresh_storage(KEY);
    let s = expect(addr, "back", "primary_voting", "standby_fresh_storage", 1.0).await;
    assert_eq!(
        s.get("conflux_pos_signing_holders", &[("pos_address", KEY)]),
        Some(1.0)
    );

    // A correct hand-over; no dangerous state may show in any scrape until B votes.
    let (stop, watcher) = watch_danger(addr);
    // 1. stop_voting on A: the switch goes off and secure_storage.json becomes .save.
    set_voting(&sim, "a", false).await;
    std::fs::rename(
        da.file("secure_storage.json"),
        da.file("secure_storage.json.save"),
    )
    .unwrap();
    let s = expect(
        addr,
        "stopped on A",
        "standby_ready",
        "standby_fresh_storage",
        0.0,
    )
    .await;
    assert_eq!(
        s.get(
            "conflux_pos_secure_storage_present",
            &[("node", "a"), ("file", "secure_storage.json.save")]
        ),
        Some(1.0)
    );
    // 2. Copy the .save to B's pos_db.
    std::fs::copy(
        da.file("secure_storage.json.save"),
        db.file("secure_storage.json.save"),
    )
    .unwrap();
    expect(addr, "copied to B", "standby_ready", "standby_ready", 0.0).await;
    // 3. start_voting [false] on B: the .save is renamed over B's own store, and the switch goes on.
    std::fs::rename(
        db.file("secure_storage.json.save"),
        db.file("secure_storage.json"),
    )
    .unwrap();
    set_voting(&sim, "b", true).await;
    wait_for(addr, T, "B primary", |s| {
        state_of(s, "b").as_deref() == Some("primary_voting")
    })
    .await;
    stop.send(()).unwrap();
    let (scrapes, seen) = watcher.await.unwrap();
    assert!(scrapes > 3, "watched {scrapes} scrapes");
    assert!(
        seen.is_empty(),
        "dangerous states during a correct hand-over: {seen:?}"
    );

    let s = expect(
        addr,
        "started on B",
        "standby_holding_save_while_primary_votes",
        "primary_voting",
        1.0,
    )
    .await;
    assert_eq!(
        s.get("conflux_pos_key_owner_mismatch", &[("node", "b")]),
        Some(0.0)
    );

    // 4. Archive A's stale .save: the hand-over is complete.
    std::fs::remove_file(da.file("secure_storage.json.save")).unwrap();
    expect(addr, "archived", "standby_idle", "primary_voting", 1.0).await;

    // Forgetting stop_voting's rename: a voter whose safety data vanished, or that still holds a .save.
    std::fs::rename(
        db.file("secure_storage.json"),
        db.file("secure_storage.json.save"),
    )
    .unwrap();
    expect(
        addr,
        "voting without store",
        "standby_idle",
        "voting_without_secure_storage",
        1.0,
    )
    .await;
    std::fs::copy(
        db.file("secure_storage.json.save"),
        db.file("secure_storage.json"),
    )
    .unwrap();
    expect(
        addr,
        "save while voting",
        "standby_idle",
        "save_present_while_voting",
        1.0,
    )
    .await;

    // B stops answering: its switch is unknown, so nothing about the key is claimed safe or counted as 0.
    sim.patch_endpoint("b", EndpointPatch::default().down(true))
        .await
        .expect("patch down");
    let s = wait_for(addr, T, "B down", |s| {
        state_of(s, "b").as_deref() == Some("unknown") && holders(s, "unknown") == Some(1.0)
    })
    .await;
    assert_eq!(
        voters(&s),
        None,
        "no active-voter count while a holder is unknown"
    );
    assert_eq!(s.get("conflux_pos_safe_to_stop", &[("node", "a")]), None);

    app.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn safe_to_stop_owner_mismatch_and_address_from_the_safety_file() {
    // "free" holds a key that is in no committee and elects nowhere; "anon" serves no identity over RPC.
    let free_key = OTHER;
    let file_key = "0x7777777777777777777777777777777777777777777777777777777777777777";
    let sim = sim(SimConfig {
        pos: Some(Box::new(PosChain::new(PosParams::for_identities(
            &[KEY.to_string()],
            3,
            10,
        )))),
        endpoints: vec![
            EndpointSpec::node("member", Some(KEY)),
            EndpointSpec::node("free", Some(free_key)),
            EndpointSpec::node("anon", None),
        ],
        ..Default::default()
    })
    .await;
    let (dm, df, dn) = (NodeDir::create(), NodeDir::create(), NodeDir::create());
    dm.write_storage(KEY);
    // Safety data of another key in free's pos_db: copied from the wrong node.
    df.write_storage(KEY);
    dn.write_storage(file_key);
    let app = exporter(config_for(&[
        ("member", sim.url("member").unwrap(), work_dir_key(&dm)),
        ("free", sim.url("free").unwrap(), work_dir_key(&df)),
        // pos_dir given directly (no work_dir): the fallback needs only the configuration.
        (
            "anon",
            sim.url("anon").unwrap(),
            format!("pos_dir = \"{}\"", dn.work().join("pos_db").display()),
        ),
    ]))
    .await;
    let g = |s: &Scrape, name: &str, node: &str| s.get(name, &[("node", node)]);
    let s = wait_for(app.local_addr(), T, "guard verdicts", |s| {
        g(s, "conflux_pos_safe_to_stop", "member").is_some()
            && g(s, "conflux_pos_safe_to_stop", "free").is_some()
            && g(s, "conflux_pos_key_owner_mismatch", "free").is_some()
            && g(s, "conflux_pos_key_owner_mismatch", "member").is_some()
            && g(
                s,
                "conflux_pos_safety_data_updated_timestamp_seconds",
                "member",
            )
            .is_some()
            && s.get("conflux_pos_active_voters", &[("pos_address", free_key)])
                .is_some()
            && s.get("conflux_pos_active_voters", &[("pos_address", KEY)])
                .is_some()
            && !s.series("conflux_pos_info").is_empty()
            && g(s, "conflux_pos_key_owner_mismatch", "anon").is_some()
    })
    .await;
    assert_eq!(g(&s, "conflux_pos_safe_to_stop", "member"), Some(0.0));
    assert_eq!(g(&s, "conflux_pos_safe_to_stop", "free"), Some(1.0));
    assert_eq!(g(&s, "conflux_pos_key_owner_mismatch", "member"), Some(0.0));
    assert_eq!(g(&s, "conflux_pos_key_owner_mismatch", "free"), Some(1.0));
    let anon_info: Vec<_> = s
        .series("conflux_pos_info")
        .into_iter()
        .filter(|l| l["node"] == "anon")
        .collect();
    assert_eq!(
        anon_info.len(),
        1,
        "address learned from the safety file:\n{}",
        s.text
    );
    assert_eq!(anon_info[0]["pos_address"], file_key);
    assert_eq!(
        g(&s, "conflux_pos_key_owner_mismatch", "anon"),
        Some(0.0),
        "the file's owner is the address itself"
    );
    assert_eq!(
        g(
            &s,
            "conflux_pos_safety_data_updated_timestamp_seconds",
            "member"
        ),
        Some(1716203600.0)
    );
    // Each key is held by one node here.
    assert_eq!(
        s.get("conflux_pos_active_voters", &[("pos_address", KEY)]),
        Some(1.0)
    );
    assert_eq!(
        s.get("conflux_pos_active_voters", &[("pos_address", free_key)]),
        Some(1.0)
    );
    app.shutdown().await;
    sim.shutdown().await;
}
