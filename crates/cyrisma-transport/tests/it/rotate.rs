//! Secret rotation: sent once, handed to the sink before anything else, verified, and never lost.

use std::sync::{Arc, Mutex};

use cyrisma_core::ApiSecret;
use cyrisma_emulator::Fault;
use cyrisma_transport::{ErrorKind, NewSecret};

use crate::support;

/// A sink that keeps what it is given.
fn recording_sink(
    into: Arc<Mutex<Vec<NewSecret>>>,
) -> impl FnOnce(NewSecret) -> std::future::Ready<Result<(), std::io::Error>> + Send {
    move |secret| {
        into.lock().unwrap().push(secret);
        std::future::ready(Ok(()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_new_secret_reaches_the_sink_and_is_verified() {
    let emulator = support::default_emulator().await;
    let client = support::client(&emulator);
    let old = emulator.api_secret();
    let saved = Arc::new(Mutex::new(Vec::new()));

    let secret = client.rotate_secret(recording_sink(saved.clone())).await.unwrap();
    assert_ne!(secret, old);
    assert_eq!(secret, emulator.api_secret(), "the emulator now holds the returned secret");
    {
        let saved = saved.lock().unwrap();
        assert_eq!(saved.len(), 1);
        assert_eq!(saved[0].secret(), Some(&secret), "the sink got it first");
    }
    assert_eq!(emulator.count("auth.regen_pass"), 1);
    assert_eq!(emulator.count("auth.login"), 1, "verified with one login");
    // The client uses the new secret from now on.
    client.users().list().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_is_ambiguous_and_never_retried() {
    let emulator = support::default_emulator().await;
    let client = support::client(&emulator);
    emulator.add_fault(Fault::drop_after_commit().on("auth.regen_pass").times(1));
    let saved = Arc::new(Mutex::new(Vec::new()));
    let error = client.rotate_secret(recording_sink(saved.clone())).await.unwrap_err();
    assert!(error.is_ambiguous(), "{error}");
    assert!(error.to_string().contains("log in with the current secret"), "{error}");
    assert_eq!(emulator.count("auth.regen_pass"), 1, "sent exactly once");
    assert!(saved.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_is_an_api_error_and_never_retried() {
    let emulator = support::default_emulator().await;
    let client = support::client(&emulator);
    emulator.add_fault(Fault::status(503).on("auth.regen_pass").times(1));
    let saved = Arc::new(Mutex::new(Vec::new()));
    let error = client.rotate_secret(recording_sink(saved.clone())).await.unwrap_err();
    assert!(error.is_api() && !error.is_ambiguous(), "{error}");
    assert_eq!(emulator.count("auth.regen_pass"), 1);
    assert!(saved.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_sink_leaves_the_secret_in_the_error() {
    let emulator = support::default_emulator().await;
    let client = support::client(&emulator);
    let error = client
        .rotate_secret(|_secret: NewSecret| async { Err::<(), _>(std::io::Error::other("disk full")) })
        .await
        .unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::SecretNotSaved { .. }), "{error}");
    let kept = error.unsaved_secret().and_then(NewSecret::secret).cloned().unwrap();
    assert_eq!(kept, emulator.api_secret(), "the one copy of the new secret is in the error");
    assert!(!format!("{error} {error:?}").contains(kept.expose_secret()));
    assert_eq!(emulator.count("auth.login"), 0, "nothing else happened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_answer_goes_to_the_sink_raw() {
    let emulator = support::default_emulator().await;
    let client = support::client(&emulator);
    emulator.add_fault(Fault::truncated_body(Some(12), true).on("auth.regen_pass").times(1));
    let saved = Arc::new(Mutex::new(Vec::new()));
    let error = client.rotate_secret(recording_sink(saved.clone())).await.unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::SecretUnreadable), "{error}");
    let saved = saved.lock().unwrap();
    assert_eq!(saved[0].raw_body().map(|body| body.len()), Some(12));
    assert_eq!(emulator.count("auth.regen_pass"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_verification_says_the_secret_was_saved() {
    let emulator = support::default_emulator().await;
    let client = support::client(&emulator);
    emulator.add_fault(Fault::status(401).on("auth.login").times(1));
    let saved = Arc::new(Mutex::new(Vec::new()));
    let error = client.rotate_secret(recording_sink(saved.clone())).await.unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::SecretNotVerified { .. }), "{error}");
    assert!(error.to_string().contains("saved"), "{error}");
    assert_eq!(saved.lock().unwrap()[0].secret(), Some(&emulator.api_secret()));
    let _: ApiSecret = emulator.api_secret();
}
