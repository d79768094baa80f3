//! File descriptors: the exporter's own work (RPC connections to nodes and references, `/proc` and file probes,
//! the runtime) must never run short because clients hold connections. At start the soft `RLIMIT_NOFILE` is raised
//! to the hard limit (what systemd's `LimitNOFILE=` sets; Go programs do the same), and the connection cap is kept
//! to at most half of it.

use rustix::process::{getrlimit, setrlimit, Resource};

/// The soft open-file limit after raising it to the hard one where allowed (`None`: unlimited or unknown).
pub(crate) fn raise_soft_limit() -> Option<u64> {
    let mut lim = getrlimit(Resource::Nofile);
    if let (Some(soft), Some(hard)) = (lim.current, lim.maximum) {
        if soft < hard {
            lim.current = Some(hard);
            match setrlimit(Resource::Nofile, lim) {
                Ok(()) => {
                    tracing::debug!(from = soft, to = hard, "raised the open-file soft limit")
                }
                Err(e) => {
                    tracing::debug!(error = %e, soft, hard, "cannot raise the open-file soft limit");
                    return Some(soft);
                }
            }
        }
    }
    getrlimit(Resource::Nofile).current
}

/// The connection cap to use: `wanted`, unless it would leave the exporter less than half of `soft_limit`.
pub(crate) fn connection_cap(wanted: usize, soft_limit: Option<u64>) -> usize {
    let Some(soft) = soft_limit else {
        return wanted;
    };
    let budget = usize::try_from(soft / 2).unwrap_or(usize::MAX).max(1);
    if wanted > budget {
        tracing::warn!(
            max_connections = wanted,
            open_file_limit = soft,
            using = budget,
            "web.max_connections would leave too few file descriptors for the exporter's own RPC and probes; capping it at half the open-file limit (raise LimitNOFILE to allow more)"
        );
        return budget;
    }
    wanted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_keeps_half_the_limit_for_the_exporter() {
        assert_eq!(connection_cap(64, Some(1024)), 64);
        assert_eq!(connection_cap(64, Some(100)), 50);
        assert_eq!(connection_cap(64, Some(1)), 1);
        assert_eq!(connection_cap(5000, None), 5000);
    }

    #[test]
    fn raising_never_lowers_the_limit() {
        let before = getrlimit(Resource::Nofile).current;
        let after = raise_soft_limit();
        assert!(after >= before, "{before:?} -> {after:?}");
    }
}
