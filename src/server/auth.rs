//! HTTP basic authentication against bcrypt hashes (`basic_auth_users` of the web config). The user name is
//! compared in constant time against every configured user, and an unknown user still costs one bcrypt verify,
//! so timing tells neither which users exist nor how much of a password matched. A successful check is
//! remembered as a SHA3 digest per user so that a scrape every few seconds does not pay bcrypt's deliberate cost
//! each time; the digest is compared in constant time too.

use std::collections::BTreeMap;
use std::sync::Mutex;

use base64::Engine;
use sha3::{Digest, Sha3_256};
use subtle::ConstantTimeEq;

/// Checks `Authorization` headers.
pub struct BasicAuth {
    users: Vec<(String, String)>,
    /// user index -> digest of the last password that verified.
    verified: Mutex<BTreeMap<usize, [u8; 32]>>,
    /// Verified against when the user is unknown, to keep the timing equal.
    dummy_hash: String,
}

impl BasicAuth {
    /// `users`: name -> bcrypt hash (validated by the web config loader).
    pub fn new(users: &BTreeMap<String, String>) -> Self {
        Self {
            users: users.iter().map(|(u, h)| (u.clone(), h.clone())).collect(),
            verified: Mutex::new(BTreeMap::new()),
            dummy_hash: users
                .values()
                .next()
                .cloned()
                .unwrap_or_else(|| "$2y$10$".to_string() + &"a".repeat(53)),
        }
    }

    /// Whether the header value (`Basic base64(user:password)`) names a configured user with the right password.
    pub fn check(&self, header: Option<&[u8]>) -> bool {
        let Some((user, password)) = header.and_then(decode) else {
            return false;
        };
        let mut found: Option<usize> = None;
        for (i, (name, _)) in self.users.iter().enumerate() {
            if bool::from(name.as_bytes().ct_eq(user.as_bytes())) {
                found = Some(i);
            }
        }
        let digest = digest(&user, &password);
        let Some(i) = found else {
            let _ = bcrypt::verify(&password, &self.dummy_hash);
            return false;
        };
        let cached = self
            .verified
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&i)
            .copied();
        if cached.is_some_and(|c| bool::from(c.ct_eq(&digest))) {
            return true;
        }
        let ok = bcrypt::verify(&password, &self.users[i].1).unwrap_or(false);
        if ok {
            self.verified
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(i, digest);
        }
        ok
    }
}

fn digest(user: &str, password: &str) -> [u8; 32] {
    let mut h = Sha3_256::new();
    h.update(user.as_bytes());
    h.update([0u8]);
    h.update(password.as_bytes());
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
mod tests {
    use super::*;

    fn header(user: &str, pw: &str) -> Vec<u8> {
        let b = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"));
        format!("Basic {b}").into_bytes()
    }

    fn auth() -> BasicAuth {
        let mut users = BTreeMap::new();
        users.insert("prom".to_string(), bcrypt::hash("s3cret", 4).unwrap());
        users.insert("other".to_string(), bcrypt::hash("x", 4).unwrap());
        BasicAuth::new(&users)
    }

    #[test]
    fn right_user_and_password_pass_also_from_the_cache() {
        let a = auth();
        assert!(a.check(Some(&header("prom", "s3cret"))));
        assert!(a.check(Some(&header("prom", "s3cret"))));
        assert!(!a.check(Some(&header("prom", "s3cret2"))));
        assert!(a.check(Some(&header("other", "x"))));
    }

    #[test]
    fn wrong_password_unknown_user_and_garbage_fail() {
        let a = auth();
        assert!(!a.check(Some(&header("prom", "wrong"))));
        assert!(!a.check(Some(&header("nobody", "s3cret"))));
        assert!(!a.check(Some(&header("prom", "x"))));
        assert!(!a.check(None));
        assert!(!a.check(Some(b"Basic !!!")));
        assert!(!a.check(Some(b"Bearer abc")));
        let no_colon = base64::engine::general_purpose::STANDARD.encode("prom");
        assert!(!a.check(Some(format!("Basic {no_colon}").as_bytes())));
    }
}
