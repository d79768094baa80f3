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

async fn check(a: &BasicAuth, user: &str, pw: &str) -> Verdict {
    a.authorize(Some(&header(user, pw))).await
}

/// Waits until the gate is free again (a failed verify holds it a while longer).
async fn gate_free(a: &BasicAuth) {
    drop(a.gate.acquire().await.unwrap());
}

#[tokio::test]
async fn right_user_and_password_pass_also_from_the_cache() {
    let a = auth();
    assert_eq!(check(&a, "prom", "s3cret").await, Verdict::Allowed);
    assert_eq!(check(&a, "prom", "s3cret").await, Verdict::Allowed);
    gate_free(&a).await;
    assert_eq!(check(&a, "prom", "s3cret2").await, Verdict::Denied);
    gate_free(&a).await;
    assert_eq!(check(&a, "other", "x").await, Verdict::Allowed);
}

#[tokio::test]
async fn wrong_password_unknown_user_and_garbage_are_denied() {
    let a = auth();
    for (u, p) in [("prom", "wrong"), ("nobody", "s3cret"), ("prom", "x")] {
        gate_free(&a).await;
        assert_eq!(check(&a, u, p).await, Verdict::Denied, "{u}:{p}");
    }
    let no_colon = base64::engine::general_purpose::STANDARD.encode("prom");
    for h in [
        b"Basic !!!".to_vec(),
        b"Bearer abc".to_vec(),
        format!("Basic {no_colon}").into_bytes(),
    ] {
        assert_eq!(a.authorize(Some(&h)).await, Verdict::Denied);
    }
    assert_eq!(a.authorize(None).await, Verdict::Denied);
}

#[tokio::test]
async fn a_taken_gate_refuses_every_uncached_credential_alike_but_never_a_cached_one() {
    let a = auth();
    assert_eq!(check(&a, "prom", "s3cret").await, Verdict::Allowed);
    gate_free(&a).await;
    let _taken = a.gate.clone().try_acquire_owned().unwrap();
    // Known user with a wrong password, unknown user, and a right but uncached password: the same answer.
    assert_eq!(check(&a, "prom", "wrong").await, Verdict::Busy);
    assert_eq!(check(&a, "nobody", "wrong").await, Verdict::Busy);
    assert_eq!(check(&a, "other", "x").await, Verdict::Busy);
    // Cheap checks never wait for the gate.
    assert_eq!(check(&a, "prom", "s3cret").await, Verdict::Allowed);
    assert_eq!(a.authorize(Some(b"Bearer abc")).await, Verdict::Denied);
}

#[tokio::test]
async fn a_request_dropped_mid_verify_starts_nothing_more_and_frees_the_gate() {
    let a = auth();
    {
        let pending = check(&a, "prom", "wrong");
        // Poll it once: the verify starts and takes the gate; then the "client" goes away.
        tokio::select! {
            biased;
            _ = pending => {}
            _ = std::future::ready(()) => {}
        }
    }
    gate_free(&a).await;
    assert_eq!(a.gate.available_permits(), VERIFY_SLOTS);
    assert_eq!(check(&a, "prom", "s3cret").await, Verdict::Allowed);
}
