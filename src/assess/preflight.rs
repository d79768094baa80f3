//! The preflight before `start_voting`: is it safe to let this node vote with the key now? The one failover step
//! that can lock the stake for 518 400 PoS blocks is starting a voter while the key still signs somewhere, or with
//! safety data older than the key's last vote (the new voter may sign a round the key already signed). So the
//! verdict is `unsafe` on any sign of life of the key or any other holder's switch on or stale safety data, `unknown`
//! whenever a fact is missing, `wait` while too few quiet blocks have passed, and `safe` only then.

/// Quiet committed blocks needed before `safe`: a live voter signs nearly every block (a QC waits half a round
/// for late votes, so one signature may be missing now and then, never ten in a row), and ten blocks are about
/// five minutes on mainnet — short against a failover, long against any gap of a live node.
pub(crate) const DEFAULT_QUIET_BLOCKS: u64 = 10;

/// The verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Do not start voting here.
    Unsafe,
    /// No sign of life, but not long enough yet.
    Wait,
    /// A fact the verdict needs is missing: never `safe` on missing data.
    Unknown,
    /// Safe to run `start_voting` here now.
    Safe,
}

impl Verdict {
    /// Label value.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Unsafe => "unsafe",
            Self::Wait => "wait",
            Self::Unknown => "unknown",
            Self::Safe => "safe",
        }
    }

    /// Every verdict, for one series per value.
    pub(crate) const ALL: [Verdict; 4] = [Self::Unsafe, Self::Wait, Self::Unknown, Self::Safe];
}

/// Why (a bounded set: the `reason` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    /// The key signed the latest committed block.
    KeySigning,
    /// The key proposed the latest committed block.
    KeyProposing,
    /// Another node holding the key has its voting switch on.
    OtherSwitchOn,
    /// The safety data this node would resume from is older than the key's last signed (epoch, round).
    StaleSafetyData,
    /// This node is not synced or its PoS view is not fresh.
    NotSynced,
    /// The history that would show a sign of life is not read yet.
    HistoryIncomplete,
    /// Another holder's switch, the committee membership or the safety data is not known.
    InputUnknown,
    /// Fewer quiet blocks than needed.
    QuietTooShort,
}

impl Reason {
    /// Label value.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::KeySigning => "key_signing",
            Self::KeyProposing => "key_proposing",
            Self::OtherSwitchOn => "other_switch_on",
            Self::StaleSafetyData => "stale_safety_data",
            Self::NotSynced => "not_synced",
            Self::HistoryIncomplete => "history_incomplete",
            Self::InputUnknown => "input_unknown",
            Self::QuietTooShort => "quiet_too_short",
        }
    }

    /// Every reason.
    pub(crate) const ALL: [Reason; 8] = [
        Self::KeySigning,
        Self::KeyProposing,
        Self::OtherSwitchOn,
        Self::StaleSafetyData,
        Self::NotSynced,
        Self::HistoryIncomplete,
        Self::InputUnknown,
        Self::QuietTooShort,
    ];
}

/// What the preflight of one node reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Input {
    /// This node is synced and its own PoS view fresh (`None`: unknown).
    pub synced: Option<bool>,
    /// The vote history of the window is read (a sign of life could otherwise hide in it).
    pub history_complete: bool,
    /// Latest committed PoS block of the view in use.
    pub latest: u64,
    /// Newest committed block the key signed.
    pub last_signed: Option<u64>,
    /// Newest committed block the key proposed.
    pub last_proposed: Option<u64>,
    /// Block of the key's newest Election transaction.
    pub last_election: Option<u64>,
    /// Some other node holding the key has its switch on (`None`: some holder's switch is unknown).
    pub other_switch_on: Option<bool>,
    /// The key is in the current committee (`None`: unknown).
    pub in_committee: Option<bool>,
    /// (epoch, round) of the safety data this node would resume from (`None`: no such file, or not visible).
    pub resume_from: Option<(u64, u64)>,
    /// (epoch, round) of the key's newest signed block on chain.
    pub chain_signed: Option<(u64, u64)>,
    /// Quiet blocks needed (outside the committee: at least an epoch, so a term passes without an Election).
    pub quiet_needed: u64,
}

/// The preflight's answer: the verdict, why, and the quiet blocks since the key's last sign of life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Preflight {
    /// The verdict.
    pub verdict: Verdict,
    /// Why (empty for `safe`).
    pub reasons: Vec<Reason>,
    /// Committed blocks since the key's last sign of life (signature, proposal, Election); `None` when the
    /// history read holds none (then at least the whole history read was quiet).
    pub quiet_blocks: Option<u64>,
}

/// Applies the rule: unsafe evidence first (it is definitive), then missing facts, then the quiet count.
pub(crate) fn preflight(i: &Input) -> Preflight {
    let life = [i.last_signed, i.last_proposed, i.last_election]
        .into_iter()
        .flatten()
        .max();
    let quiet_blocks = life.map(|h| i.latest.saturating_sub(h));
    let mut reasons = Vec::new();
    if i.last_signed == Some(i.latest) {
        reasons.push(Reason::KeySigning);
    }
    if i.last_proposed == Some(i.latest) {
        reasons.push(Reason::KeyProposing);
    }
    if i.other_switch_on == Some(true) {
        reasons.push(Reason::OtherSwitchOn);
    }
    if let (Some(file), Some(chain)) = (i.resume_from, i.chain_signed) {
        if file < chain {
            reasons.push(Reason::StaleSafetyData);
        }
    }
    let verdict = if !reasons.is_empty() {
        Verdict::Unsafe
    } else {
        if i.synced != Some(true) {
            reasons.push(Reason::NotSynced);
        }
        if !i.history_complete {
            reasons.push(Reason::HistoryIncomplete);
        }
        if i.other_switch_on.is_none() || i.in_committee.is_none() || i.resume_from.is_none() {
            reasons.push(Reason::InputUnknown);
        }
        if !reasons.is_empty() {
            Verdict::Unknown
        } else if quiet_blocks.is_some_and(|q| q < i.quiet_needed) {
            reasons.push(Reason::QuietTooShort);
            Verdict::Wait
        } else {
            Verdict::Safe
        }
    };
    Preflight {
        verdict,
        reasons,
        quiet_blocks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synced standby with a `.save` taken at (5, 40), the key last seen signing block 100 at (5, 40).
    fn quiet_standby(latest: u64) -> Input {
        Input {
            synced: Some(true),
            history_complete: true,
            latest,
            last_signed: Some(100),
            last_proposed: Some(97),
            last_election: Some(60),
            other_switch_on: Some(false),
            in_committee: Some(true),
            resume_from: Some((5, 40)),
            chain_signed: Some((5, 40)),
            quiet_needed: DEFAULT_QUIET_BLOCKS,
        }
    }

    #[test]
    fn a_key_that_still_signs_is_unsafe() {
        let p = preflight(&quiet_standby(100));
        assert_eq!(p.verdict, Verdict::Unsafe);
        assert_eq!(p.reasons, [Reason::KeySigning]);
        assert_eq!(p.quiet_blocks, Some(0));
        let mut i = quiet_standby(97);
        (i.last_signed, i.chain_signed) = (Some(90), Some((5, 30)));
        assert_eq!(preflight(&i).reasons, [Reason::KeyProposing]);
    }

    #[test]
    fn another_switch_on_is_unsafe_even_when_quiet() {
        let mut i = quiet_standby(200);
        i.other_switch_on = Some(true);
        assert_eq!(preflight(&i).verdict, Verdict::Unsafe);
        assert_eq!(preflight(&i).reasons, [Reason::OtherSwitchOn]);
    }

    #[test]
    fn safety_data_older_than_the_chain_is_unsafe() {
        // A .save taken at (5, 12) while the key went on to sign (5, 40).
        let mut i = quiet_standby(200);
        i.resume_from = Some((5, 12));
        assert_eq!(preflight(&i).reasons, [Reason::StaleSafetyData]);
        i.resume_from = Some((4, 99));
        assert_eq!(preflight(&i).verdict, Verdict::Unsafe, "an earlier epoch");
        i.resume_from = Some((6, 1));
        assert_eq!(preflight(&i).verdict, Verdict::Safe, "newer than the chain");
    }

    #[test]
    fn quiet_blocks_decide_wait_then_safe() {
        let p = preflight(&quiet_standby(105));
        assert_eq!((p.verdict, p.quiet_blocks), (Verdict::Wait, Some(5)));
        assert_eq!(p.reasons, [Reason::QuietTooShort]);
        let p = preflight(&quiet_standby(110));
        assert_eq!((p.verdict, p.reasons.len()), (Verdict::Safe, 0));
        // Outside the committee a whole term must pass without an Election.
        let mut i = quiet_standby(110);
        (i.in_committee, i.quiet_needed, i.last_election) = (Some(false), 120, Some(105));
        assert_eq!(preflight(&i).verdict, Verdict::Wait);
        i.latest = 225;
        assert_eq!(preflight(&i).verdict, Verdict::Safe);
    }

    #[test]
    fn missing_facts_are_unknown_never_safe() {
        for change in [
            |i: &mut Input| i.synced = None,
            |i: &mut Input| i.synced = Some(false),
            |i: &mut Input| i.history_complete = false,
            |i: &mut Input| i.other_switch_on = None,
            |i: &mut Input| i.in_committee = None,
            |i: &mut Input| i.resume_from = None,
        ] {
            let mut i = quiet_standby(500);
            change(&mut i);
            assert_eq!(preflight(&i).verdict, Verdict::Unknown, "{i:?}");
        }
        // But definitive danger still says unsafe.
        let mut i = quiet_standby(100);
        i.synced = None;
        assert_eq!(preflight(&i).verdict, Verdict::Unsafe);
    }
}
