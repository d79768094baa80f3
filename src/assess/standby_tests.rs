use super::*;

fn healthy() -> StandbyInput<'static> {
    StandbyInput {
        up: true,
        sync_phase: Some("NormalSyncPhase"),
        epoch_lag: Some(2),
        pos_view_fresh: Some(true),
        fork: Some(false),
        versions: (Some("conflux-rust/v3.0.3-fix-abc"), None),
        fork_not_ready: Some(false),
        owner_mismatch: Some(false),
        open_files_soft: Some(LimitValue::Limited(65_536)),
        disk_available_min: Some(600_000_000_000),
    }
}

fn blocking(i: &StandbyInput) -> Vec<&'static str> {
    unable_reasons(i)
        .into_iter()
        .filter(|(_, v)| *v == Some(true))
        .map(|(r, _)| r.label())
        .collect()
}

#[test]
fn a_healthy_standby_is_able_without_seeing_the_primary() {
    let r = unable_reasons(&healthy());
    assert!(blocking(&healthy()).is_empty());
    assert_eq!(able_to_vote(&r), Some(true));
}

#[test]
fn each_reason_is_named() {
    let cases: Vec<(StandbyInput, &str)> = vec![
        (
            StandbyInput {
                sync_phase: Some("CatchUpSyncBlockPhase"),
                ..healthy()
            },
            "not_synced",
        ),
        (
            StandbyInput {
                epoch_lag: Some(101),
                ..healthy()
            },
            "epoch_lag",
        ),
        (
            StandbyInput {
                pos_view_fresh: Some(false),
                ..healthy()
            },
            "pos_view_stale",
        ),
        (
            StandbyInput {
                fork: Some(true),
                ..healthy()
            },
            "fork",
        ),
        (
            StandbyInput {
                versions: (
                    Some("conflux-rust/v3.0.0-x"),
                    Some("v3.0.3-fix-1a2b-20250901"),
                ),
                ..healthy()
            },
            "version_behind",
        ),
        (
            StandbyInput {
                fork_not_ready: Some(true),
                ..healthy()
            },
            "fork_not_ready",
        ),
        (
            StandbyInput {
                owner_mismatch: Some(true),
                ..healthy()
            },
            "key_owner",
        ),
        (
            StandbyInput {
                open_files_soft: Some(LimitValue::Limited(1024)),
                ..healthy()
            },
            "open_file_limit",
        ),
        (
            StandbyInput {
                disk_available_min: Some(499_000_000_000),
                ..healthy()
            },
            "disk_space",
        ),
        (
            StandbyInput {
                up: false,
                ..healthy()
            },
            "down",
        ),
    ];
    for (input, reason) in cases {
        assert_eq!(blocking(&input), [reason]);
        assert_eq!(
            able_to_vote(&unable_reasons(&input)),
            Some(false),
            "{reason}"
        );
    }
}

#[test]
fn unknown_inputs_leave_the_verdict_unknown_but_never_hide_a_reason() {
    let unknown = StandbyInput {
        sync_phase: None,
        ..healthy()
    };
    assert_eq!(able_to_vote(&unable_reasons(&unknown)), None);
    let both = StandbyInput {
        sync_phase: None,
        fork: Some(true),
        ..healthy()
    };
    assert_eq!(able_to_vote(&unable_reasons(&both)), Some(false));
    // A down node tells nothing else.
    let down = unable_reasons(&StandbyInput {
        up: false,
        ..healthy()
    });
    assert!(down
        .iter()
        .filter(|(r, _)| *r != Reason::Down)
        .all(|(_, v)| v.is_none()));
    let unlimited = StandbyInput {
        open_files_soft: Some(LimitValue::Unlimited),
        ..healthy()
    };
    assert_eq!(able_to_vote(&unable_reasons(&unlimited)), Some(true));
}

#[test]
fn versions_compare_by_release_from_real_version_strings() {
    let devnet = "conflux-rust/v3.0.0-VERGEN_IDEMPOTENT_OUTPUT-VERGEN_IDEMPOTENT_OUTPUT/x86_64-linux-gnu/rustc1.95.0";
    assert_eq!(
        version_behind(Some(devnet), Some("v3.0.3-fix-5c1e3a2-20250901")),
        Some(true)
    );
    assert_eq!(version_behind(Some("garbage"), Some("v3.0.3")), None);
    assert_eq!(
        version_behind(Some("v99999999999.0.0"), Some("v3.0.3")),
        None,
        "no overflow"
    );
    assert_eq!(version_behind(Some("v3.0.2"), Some("v3.0.10")), Some(true));
    assert_eq!(version_behind(Some("v3.1.0"), Some("v3.0.10")), Some(false));
    assert_eq!(
        version_behind(Some("v3.0.3-a"), Some("v3.0.3-b")),
        Some(false)
    );
    assert_eq!(version_behind(Some("unparsable"), Some("v3.0.3")), None);
    assert_eq!(version_behind(Some("v3.0.3"), None), None);
}
