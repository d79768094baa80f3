//! HTTP basic authentication against bcrypt hashes (`basic_auth_users` of the web config), built so that nobody
//! can use it to burn the validator host's CPU.
//!
//! - Cheap checks run inline, first: a malformed header is refused at once, and a user whose password verified
//!   before is recognised by a digest (SHA3 of the user's hash, name and password, kept per user, so the cache is
//!   bounded by the configured users and a memory dump gives no unsalted fast hash). Prometheus scrapes every few
//!   seconds with the same password: after its first request it never waits for bcrypt again.
//! - Every other credential costs one bcrypt verify, and verifies pass through a gate of [`VERIFY_SLOTS`]: when
//!   it is taken the request is refused at once ([`Verdict::Busy`], 503), never queued, so a flood of wrong
//!   passwords leaves no backlog of verifies running after its clients have gone. A verify that fails keeps the
//!   gate closed, asleep, for as long again: a flood gets at most half a core of bcrypt, and guessing slows down.
//! - An unknown user takes the same path as a known one with a wrong password (the gate, one verify against a
//!   configured hash, the same refusal), and names are compared in constant time, so neither timing nor status
//!   tells which users exist.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use base64::Engine;
use sha3::{Digest, Sha3_256};
use subtle::ConstantTimeEq;
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

/// bcrypt verifies that may run at once (each takes one core while it runs).
pub(crate) const VERIFY_SLOTS: usize = 1;

/// What a request's credentials are worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A configured user with the right password.
    Allowed,
    /// No, malformed or wrong credentials (401).
    Denied,
    /// Not checked: the verify gate is taken (503, try again).
    Busy,
}

/// Checks `Authorization` headers.
pub(crate) struct BasicAuth {
    users: Vec<(String, String)>,
    /// user index -> digest of the last password that verified.
    verified: Mutex<BTreeMap<usize, [u8; 32]>>,
    /// Verified against when the user is unknown, so that it costs what a known user costs.
    dummy_hash: String,
    gate: Arc<Semaphore>,
}

impl BasicAuth {
    /// `users`: name -> bcrypt hash (validated by the web config loader).
    pub(crate) fn new(users: &BTreeMap<String, String>) -> Self {
        Self {
            users: users.iter().map(|(u, h)| (u.clone(), h.clone())).collect(),
            verified: Mutex::new(BTreeMap::new()),
            dummy_hash: users
                .values()
                .next()
                .cloned()
                .unwrap_or_else(|| "$2y$10$".to_string() + &"a".repeat(53)),
            gate: Arc::new(Semaphore::new(VERIFY_SLOTS)),
        }
    }

    /// Judges the header value (`Basic base64(user:password)`). Dropping the future before it resolves (the
    /// client went away) leaves at most the one verify already started, which finishes on its own.
    pub(crate) async fn authorize(&self, header: Option<&[u8]>) -> Verdict {
        let Some((user, password)) = header.and_then(decode) else {
            return Verdict::Denied;
        };
        let found = self.find(&user);
        let digest = found.map(|i| digest(&self.users[i].1, &user, &password));
        if let (Some(i), Some(d)) = (found, &digest) {
            if self.cached(i, d) {
                return Verdict::Allowed;
            }
        }
        let Ok(permit) = self.gate.clone().try_acquire_owned() else {
            return Verdict::Busy;
        };
        let hash = found.map_or(&self.dummy_hash, |i| &self.users[i].1).clone();
        let verified = verify_gated(password, hash, permit).await;
        match (found, digest) {
            (Some(i), Some(d)) if verified => {
                self.lock_cache().insert(i, d);
                Verdict::Allowed
            }
            _ => Verdict::Denied,
        }
    }

    /// The configured user named `user`, comparing every name in constant time.
    fn find(&self, user: &str) -> Option<usize> {
        let mut found = None;
        for (i, (name, _)) in self.users.iter().enumerate() {
            if bool::from(name.as_bytes().ct_eq(user.as_bytes())) {
                found = Some(i);
            }
        }
        found
    }

    fn cached(&self, user: usize, digest: &[u8; 32]) -> bool {
        self.lock_cache()
            .get(&user)
            .is_some_and(|c| bool::from(c.ct_eq(digest)))
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, BTreeMap<usize, [u8; 32]>> {
        self.verified.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One verify on the blocking pool, holding `permit` until it is done (and, after a failure, for as long again):
/// the work belongs to the permit, not to the request, so a client that leaves cannot start a second one.
async fn verify_gated(password: String, hash: String, permit: OwnedSemaphorePermit) -> bool {
    let (tx, rx) = oneshot::channel();
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let ok = bcrypt::verify(&password, &hash).unwrap_or(false);
        let _ = tx.send(ok);
        if !ok {
            std::thread::sleep(started.elapsed());
        }
        drop(permit);
    });
    rx.await.unwrap_or(false)
}

fn digest(hash: &str, user: &str, password: &str) -> [u8; 32] {
    let mut h = Sha3_256::new();
    for part in [hash, user, password] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    h.finalize().into()
}

fn decode(header: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(header).ok()?;
    let (scheme, b64) = text.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (u, p) = raw.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

#[cfg(test)]
mod tests;
