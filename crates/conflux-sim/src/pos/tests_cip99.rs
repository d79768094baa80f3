//! The force-retire look-back as the chain applies it: 1 epoch before the CIP-99 transition view, 3 from it,
//! with the transition view taken from the params, else the chain id, else the node's default `u64::MAX`.

use serde_json::json;

use super::tests::{addr, params, run_to};
use super::*;

fn retired_views(c: &PosChain, who: &str) -> Vec<u64> {
    c.retirements()
        .iter()
        .filter(|r| r.address == who)
        .map(|r| r.view)
        .collect()
}

/// Member 4 signs through block 10 (epoch 1), then stays silent; returns where it was retired.
fn silent_after_epoch_one(cip99: Option<u64>, chain_id: Option<u64>) -> Vec<u64> {
    let mut c = PosChain::new(PosParams {
        cip99_transition_view: cip99,
        ..params()
    });
    if let Some(id) = chain_id {
        c.set_chain_id(id);
    }
    run_to(&mut c, 10);
    c.set_voters(&addr(4), 0);
    run_to(&mut c, 60);
    retired_views(&c, &addr(4))
}

#[test]
fn count_follows_the_transition_view() {
    assert_eq!(force_retire_check_epoch_count(329_999, 330_000), 1);
    assert_eq!(force_retire_check_epoch_count(330_000, 330_000), 3);
    assert_eq!(force_retire_check_epoch_count(u64::MAX - 1, u64::MAX), 1);
    assert_eq!(force_retire_check_epoch_count(0, 0), 3);
    assert_eq!(cip99_transition_view_for(1029), 330_000);
    assert_eq!(cip99_transition_view_for(1), 342_000);
    assert_eq!(cip99_transition_view_for(8888), u64::MAX);
}

#[test]
fn without_a_transition_view_one_silent_epoch_retires() {
    // Standalone chain and a devnet chain id both keep the node's default (`u64::MAX`): 1 epoch.
    assert_eq!(silent_after_epoch_one(None, None), vec![20, 30]);
    assert_eq!(silent_after_epoch_one(None, Some(8888)), vec![20, 30]);
}

#[test]
fn from_the_transition_view_three_silent_epochs_retire() {
    assert_eq!(silent_after_epoch_one(Some(0), None)[0], 40);
    // Epoch 2 ends at view 20: at the transition it already looks back 3 epochs, one view later only 1.
    assert_eq!(silent_after_epoch_one(Some(20), None)[0], 40);
    assert_eq!(silent_after_epoch_one(Some(21), None)[0], 20);
    // An explicit setting wins over the chain id's default.
    assert_eq!(silent_after_epoch_one(Some(0), Some(8888))[0], 40);
}

#[test]
fn chain_ids_give_their_real_transition_views() {
    let mut c = PosChain::new(params_without_setting());
    assert_eq!(
        c.force_retire_window(400_000),
        1,
        "no chain id: node default"
    );
    c.set_chain_id(1029);
    assert_eq!(
        (
            c.force_retire_window(329_990),
            c.force_retire_window(330_000)
        ),
        (1, 3)
    );
    c.set_chain_id(1);
    assert_eq!(
        (
            c.force_retire_window(341_999),
            c.force_retire_window(342_000)
        ),
        (1, 3)
    );
    c.set_chain_id(10);
    assert_eq!(c.force_retire_window(u64::MAX - 1), 1);
}

#[test]
fn control_sets_and_clears_the_transition_view() {
    let mut c = PosChain::new(params_without_setting());
    c.set_chain_id(1029);
    c.control(&json!({"cmd": "cip99_transition_view", "view": 5}))
        .unwrap();
    assert_eq!(c.state()["cip99TransitionView"], json!(5));
    assert_eq!(c.force_retire_window(5), 3);
    c.control(&json!({"cmd": "cip99_transition_view", "view": null}))
        .unwrap();
    assert_eq!(c.state()["cip99TransitionView"], json!(330_000));
    assert!(c
        .control(&json!({"cmd": "cip99_transition_view", "view": "x"}))
        .is_err());
}

#[test]
fn mainnet_like_chains_start_past_the_transition() {
    let p = PosParams::for_identities(&[addr(9)], 3, 10);
    assert!(p.start_view >= 330_000 && p.start_view % 10 == 0);
    let mut c = PosChain::new(p);
    c.set_chain_id(8888);
    let start = c.latest_committed();
    assert_eq!(
        c.force_retire_window(start),
        3,
        "mainnet's view, whatever the chain id"
    );
    // A member silent from the start is retired after 3 whole silent epochs, as on mainnet.
    c.set_voters(&addr(9), 0);
    for i in 1..=3u64 {
        assert!(c.retirements().is_empty(), "not before epoch {i} ends");
        run_to(&mut c, start + 10 * i);
    }
    assert_eq!(retired_views(&c, &addr(9)), vec![start + 30]);
}

fn params_without_setting() -> PosParams {
    PosParams {
        cip99_transition_view: None,
        ..params()
    }
}
