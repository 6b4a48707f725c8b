//! `station::verify` against the real server on loopback: a person enrolled through the queue
//! and sync is verified with fresh synthetic captures of their fingers.

use std::time::Duration;

use drivers::simulated::synthesis::{impression, FingerSeed};
use server::{BootstrapAdmin, ServerConfig};
use station::config::SyncConfig;
use station::crypto::DataKey;
use station::queue::{CapturedImage, EnrollmentState, NewEnrollment, Queue};
use station::sync::{Credentials, SpidClient, Syncer};
use station::verify::{verify, VerifyError};
use wire::spid::TransactionStatus;
use wire::BiometricIndex;

const PASSWORD: &str = "admin-password-1";
const KEY: &str = "52998224725";

/// Impression `n` of `subject`'s finger at `index`, as the scanner would hand it over (PNG).
fn capture(index: BiometricIndex, subject: u64, n: u32) -> CapturedImage {
    let g = impression(FingerSeed { subject, finger: index.code() as u8 }, n);
    let (width, height) = (g.width, g.height);
    let mut png = std::io::Cursor::new(Vec::new());
    image::GrayImage::from_raw(width, height, g.pixels).unwrap().write_to(&mut png, image::ImageFormat::Png).unwrap();
    CapturedImage { index, width, height, resolution: Some(500), bytes: png.into_inner() }
}

fn client(base: &str, password: &str) -> SpidClient {
    SpidClient::new(base, Credentials { user: "admin".into(), password: password.into() }, Duration::from_secs(10)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enrolled_person_is_verified_and_others_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(dir.path().join("server.sqlite"));
    config.bootstrap_admin = Some(BootstrapAdmin { document: "admin".into(), password: PASSWORD.into() });
    let server = server::spawn(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let base = server.base_url();

    let queue = Queue::open(&dir.path().join("queue.sqlite"), DataKey::generate()).await.unwrap();
    let enrollment = NewEnrollment {
        user_id: KEY.into(),
        operator_id: "admin".into(),
        biographics: vec![],
        missing: vec![],
        images: vec![capture(BiometricIndex::RightIndex, 77, 0), capture(BiometricIndex::LeftIndex, 77, 0)],
        captured_at: 1_763_889_123_456,
    };
    let id = queue.add(enrollment, true).await.unwrap();
    let sync = SyncConfig { backoff_base_ms: 20, backoff_max_ms: 200, poll_interval_ms: 20, request_timeout_ms: 10_000, concurrency: 1 };
    Syncer::new(queue.clone(), client(&base, PASSWORD), sync).run_until_drained(Some(Duration::from_secs(60)), |_| {}).await.unwrap();
    assert_eq!(queue.list(Some(EnrollmentState::Synced), 10).await.unwrap()[0].id, id);

    let c = client(&base, PASSWORD);
    let wait = Duration::from_secs(30);
    let same = verify(&c, KEY, "admin", &[capture(BiometricIndex::RightIndex, 77, 3)], wait).await.unwrap();
    assert_eq!(same.status, TransactionStatus::SearchMatch, "{same:?}");
    assert_eq!(same.matched_indexes(), vec![BiometricIndex::RightIndex]);
    assert!(same.candidates[0].score >= same.threshold.unwrap());

    let other = verify(&c, KEY, "admin", &[capture(BiometricIndex::RightIndex, 88, 0)], wait).await.unwrap();
    assert_eq!(other.status, TransactionStatus::SearchNotMatch, "{other:?}");
    assert!(other.matched_indexes().is_empty());

    let nobody = verify(&c, "00000000191", "admin", &[capture(BiometricIndex::RightIndex, 77, 3)], wait).await.unwrap();
    assert_eq!(nobody.status, TransactionStatus::SearchFailed, "{nobody:?}");

    assert!(matches!(verify(&c, KEY, "admin", &[], wait).await, Err(VerifyError::Invalid(_))), "checked before sending");
    let wrong_password = verify(&client(&base, "wrong"), KEY, "admin", &[capture(BiometricIndex::RightIndex, 77, 3)], wait).await;
    assert!(matches!(wrong_password, Err(VerifyError::Client(_))), "{wrong_password:?}");
    server.shutdown().await;
}
