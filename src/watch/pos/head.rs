//! Which `latestCommitted` the block tracker believes. Keeping the maximum ever seen lets one wild answer
//! (`latestCommitted` 10¹²) freeze the tracker for the life of the process, asking forever for blocks that do not
//! exist, and hides a real chain reset (a devnet restarted from genesis). So a reading is believed at once only when
//! it is plausible — the head, or at most [`MAX_HEAD_STEP`] beyond it — and any other reading (far ahead, or
//! behind) only once the next reading confirms it: a later reading on the same side that does not go back.

/// Largest step forward a single reading may take without a second reading confirming it (far more blocks than a
/// real chain commits between two polls; a node catching up after a restart only waits one more poll).
pub(crate) const MAX_HEAD_STEP: u64 = 1_000;

/// What a reading did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeadChange {
    /// The reading is the head now (the first one, a plausible one, or a confirmed jump forward).
    Adopted,
    /// Implausible and not (yet) confirmed: the head stays where it was.
    Held,
    /// A confirmed head below the previous one: the chain was reset (or the previous head was wild).
    Rewound,
}

/// The believed head and the implausible reading waiting for confirmation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct HeadGuard {
    head: Option<u64>,
    candidate: Option<u64>,
}

impl HeadGuard {
    /// The believed head; `None` before the first reading.
    #[cfg(test)]
    fn head(&self) -> Option<u64> {
        self.head
    }

    /// Judges one reading of `latestCommitted`.
    pub(crate) fn observe(&mut self, reading: u64) -> HeadChange {
        let Some(head) = self.head else {
            self.head = Some(reading);
            return HeadChange::Adopted;
        };
        if (head..=head.saturating_add(MAX_HEAD_STEP)).contains(&reading) {
            self.head = Some(reading);
            self.candidate = None;
            return HeadChange::Adopted;
        }
        let ahead = reading > head;
        match self.candidate.take() {
            Some(c) if c <= reading && (c > head) == ahead => {
                self.head = Some(reading);
                if ahead {
                    HeadChange::Adopted
                } else {
                    HeadChange::Rewound
                }
            }
            _ => {
                self.candidate = Some(reading);
                HeadChange::Held
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fed(readings: &[u64]) -> (HeadGuard, Vec<HeadChange>) {
        let mut g = HeadGuard::default();
        let changes = readings.iter().map(|r| g.observe(*r)).collect();
        (g, changes)
    }

    #[test]
    fn one_wild_answer_is_ignored() {
        use HeadChange::*;
        let (g, c) = fed(&[100, 1_000_000_000_000, 101, 102]);
        assert_eq!(c, [Adopted, Held, Adopted, Adopted]);
        assert_eq!(g.head(), Some(102));
        let (g, c) = fed(&[100, 0, 100]);
        assert_eq!(c, [Adopted, Held, Adopted]);
        assert_eq!(g.head(), Some(100));
    }

    #[test]
    fn a_confirmed_reset_or_jump_is_followed() {
        use HeadChange::*;
        let (g, c) = fed(&[5_000, 10, 12, 13]);
        assert_eq!(c, [Adopted, Held, Rewound, Adopted]);
        assert_eq!(g.head(), Some(13));
        let (g, c) = fed(&[100, 50_000, 90_000, 90_001]);
        assert_eq!(
            c,
            [Adopted, Held, Adopted, Adopted],
            "a fast catch-up waits one poll"
        );
        assert_eq!(g.head(), Some(90_001));
        // A wild first reading is undone by the healthy ones after it.
        let (g, c) = fed(&[1_000_000_000_000, 200, 201]);
        assert_eq!(c, [Adopted, Held, Rewound]);
        assert_eq!(g.head(), Some(201));
        // Two readings on opposite sides confirm nothing.
        let (g, _) = fed(&[5_000, 10, 1_000_000, 5_001]);
        assert_eq!(g.head(), Some(5_001));
    }

    proptest! {
        #[test]
        fn any_readings_never_panic_and_one_outlier_never_moves_the_head(
            readings in prop::collection::vec(any::<u64>(), 0..50),
            outlier in any::<u64>(), base in 0u64..1_000_000,
        ) {
            let _ = fed(&readings);
            prop_assume!(outlier < base || outlier > base + MAX_HEAD_STEP);
            let (g, _) = fed(&[base, outlier, base + 1]);
            prop_assert_eq!(g.head(), Some(base + 1));
        }
    }
}
