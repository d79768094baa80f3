use super::*;

fn at(epoch: u64, view: u64) -> Position {
    Position {
        epoch: Some(epoch),
        pos_view: Some(view),
    }
}

fn fork(name: &str, v: (u64, u64, u64), epoch: Option<u64>, view: Option<u64>) -> Fork {
    Fork {
        chain_id: 1029,
        name: name.into(),
        min_version: Version::new(v.0, v.1, v.2),
        epoch,
        pos_view: view,
    }
}

const RATES: Rates = Rates {
    epoch_seconds: Some(0.5),
    pos_block_seconds: Some(30.0),
};

#[test]
fn builtin_tables_are_in_activation_order_and_only_for_known_chains() {
    for chain in [1029, 1] {
        let t = table(chain, &[]);
        assert_eq!(t, builtin(chain), "built-in rows are already in order");
        assert!(t.windows(2).all(|w| w[0].epoch < w[1].epoch));
        assert!(t.iter().all(|f| f.epoch.is_some()));
    }
    assert!(builtin(10).is_empty());
    let main = builtin(1029);
    let v3 = main.iter().find(|f| f.name == "v3.0.0").unwrap();
    assert_eq!(
        (v3.epoch, v3.pos_view),
        (Some(129_680_000), Some(2_754_720))
    );
}

#[test]
fn on_mainnet_today_every_builtin_fork_is_active() {
    let t = table(1029, &[]);
    let now = at(140_000_000, 3_100_000);
    assert_eq!(next(&t, now), None);
    let r = readiness(&t, now, RATES, Some(Version::new(3, 0, 3)));
    assert_eq!(
        (r.next, r.ready, r.seconds, r.missed),
        (None, None, None, None)
    );
}

#[test]
fn the_next_fork_is_the_first_not_fully_active() {
    let t = table(1029, &[]);
    // Between v3.0.0's PoW epoch and its PoS view: still the next fork (its PoS part is pending).
    let between = at(129_700_000, 2_754_000);
    assert_eq!(next(&t, between).map(|f| f.name.as_str()), Some("v3.0.0"));
    assert_eq!(seconds_until(&t[4], between, RATES), Some(720.0 * 30.0));
    let before = at(129_000_000, 2_700_000);
    // PoW: 680 000 epochs × 0.5 s; PoS: 54 720 blocks × 30 s: the earlier one.
    assert_eq!(seconds_until(&t[4], before, RATES), Some(340_000.0));
}

#[test]
fn configured_forks_extend_and_replace_per_chain() {
    let later = fork("v3.1.0", (3, 1, 0), Some(150_000_000), Some(3_500_000));
    let fixed = fork("v3.0.0", (3, 0, 1), Some(129_680_000), Some(2_754_720));
    let other_chain = Fork {
        chain_id: 1,
        ..fork("v9", (9, 0, 0), Some(1), None)
    };
    let t = table(1029, &[later.clone(), fixed.clone(), other_chain]);
    assert_eq!(t.len(), builtin(1029).len() + 1);
    assert_eq!(t.last(), Some(&later));
    assert_eq!(
        t.iter().filter(|f| f.name == "v3.0.0").collect::<Vec<_>>(),
        [&fixed]
    );
    let now = at(140_000_000, 3_100_000);
    let r = readiness(&t, now, RATES, Some(Version::new(3, 0, 3)));
    assert_eq!(r.next.as_ref(), Some(&later));
    assert_eq!(r.ready, Some(false));
    assert_eq!(r.seconds, Some(5_000_000.0));
    let r = readiness(&t, now, RATES, Some(Version::new(3, 1, 0)));
    assert_eq!(r.ready, Some(true));
}

#[test]
fn an_unparsable_version_is_neither_ready_nor_not_ready() {
    let t = table(1029, &[fork("v3.1.0", (3, 1, 0), Some(150_000_000), None)]);
    let r = readiness(&t, at(149_000_000, 3_100_000), RATES, None);
    assert_eq!(r.ready, None);
    assert_eq!(r.missed, None);
    assert!(
        r.next.is_some(),
        "the fork and its time are facts of the chain"
    );
    assert_eq!(r.seconds, Some(500_000.0));
}

#[test]
fn past_an_activation_without_the_version_is_missed() {
    let t = table(
        1029,
        &[fork(
            "v3.1.0",
            (3, 1, 0),
            Some(150_000_000),
            Some(3_500_000),
        )],
    );
    let old = Some(Version::new(3, 0, 3));
    // PoW epoch passed (the chain, as the reference sees it), PoS view not yet: begun, and missed.
    let r = readiness(&t, at(150_000_001, 3_400_000), RATES, old);
    assert_eq!(r.missed.map(|f| f.name), Some("v3.1.0".into()));
    assert_eq!(r.ready, Some(false));
    let r = readiness(
        &t,
        at(150_000_001, 3_400_000),
        RATES,
        Some(Version::new(3, 1, 0)),
    );
    assert_eq!((r.missed, r.ready), (None, Some(true)));
    // Before the activation nothing is missed yet.
    let r = readiness(&t, at(149_999_999, 3_400_000), RATES, old);
    assert_eq!(r.missed, None);
    // A very old node: the newest begun fork it lacks is named.
    let r = readiness(
        &t,
        at(150_000_001, 3_500_000),
        RATES,
        Some(Version::new(2, 4, 0)),
    );
    assert_eq!(r.missed.map(|f| f.name), Some("v3.1.0".into()));
}

#[test]
fn unknown_positions_or_rates_give_no_eta() {
    let f = fork("x", (9, 0, 0), Some(200), Some(100));
    let rates = Rates {
        epoch_seconds: Some(1.0),
        pos_block_seconds: None,
    };
    let p = at(100, 50);
    assert_eq!(
        seconds_until(&f, p, rates),
        None,
        "the PoS point might come first"
    );
    let p = at(100, 100);
    assert_eq!(seconds_until(&f, p, rates), Some(100.0), "PoS point passed");
    let unknown_view = Position {
        epoch: Some(100),
        pos_view: None,
    };
    assert_eq!(seconds_until(&f, unknown_view, RATES), None);
    // The fork is known pending from the PoW axis alone.
    assert_eq!(active(&f, unknown_view), Some(false));
    let unknown = Position::default();
    assert_eq!(active(&f, unknown), None);
    assert_eq!(next(&[f], unknown), None);
}
