//! Queue + sync against the real server on loopback, with a real SQLite file on each side.

use std::net::SocketAddr;
use std::time::Duration;

use server::{BootstrapAdmin, RunningServer, ServerConfig};
use station::config::SyncConfig;
use station::crypto::DataKey;
use station::queue::{CapturedImage, EnrollmentState, NewEnrollment, Queue};
use station::sync::{Credentials, SpidClient, SyncLock, Syncer};
use wire::spid::{KeyValue, MissingBiometric, MissingType};
use wire::BiometricIndex;

const PASSWORD: &str = "admin-password-1";

fn png(w: u32, h: u32, seed: u8) -> Vec<u8> {
    let img = image::GrayImage::from_fn(w, h, |x, y| {
        image::Luma([((x * 7 + y * 3) as u8).wrapping_add(seed)])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn capture(user: &str, width_lie: u32) -> NewEnrollment {
    NewEnrollment {
        user_id: user.into(),
        operator_id: "admin".into(),
        biographics: vec![KeyValue {
            id: "NAME".into(),
            value: format!("PERSON {user}"),
        }],
        missing: vec![MissingBiometric {
            index: BiometricIndex::LeftLittle,
            kind: MissingType::Amputated,
            reason: "declared".into(),
        }],
        images: vec![
            CapturedImage {
                index: BiometricIndex::RightIndex,
                width: 200 + width_lie,
                height: 250,
                resolution: Some(500),
                bytes: png(200, 250, 1),
            },
            CapturedImage {
                index: BiometricIndex::Face,
                width: 160,
                height: 200,
                resolution: None,
                bytes: png(160, 200, 2),
            },
        ],
        captured_at: 1_763_889_123_456,
    }
}

async fn start_server(db: &std::path::Path, addr: SocketAddr) -> RunningServer {
    let mut config = ServerConfig::new(db);
    config.bootstrap_admin = Some(BootstrapAdmin {
        document: "admin".into(),
        password: PASSWORD.into(),
    });
    server::spawn(config, addr).await.unwrap()
}

fn fast_sync() -> SyncConfig {
    SyncConfig {
        backoff_base_ms: 20,
        backoff_max_ms: 200,
        poll_interval_ms: 20,
        request_timeout_ms: 5_000,
        concurrency: 3,
    }
}

fn syncer(queue: &Queue, base: &str) -> Syncer {
    let client = SpidClient::new(
        base,
        Credentials {
            user: "admin".into(),
            password: PASSWORD.into(),
        },
        Duration::from_secs(5),
    )
    .unwrap();
    Syncer::new(queue.clone(), client, fast_sync())
}

/// A server on a free loopback port and an empty queue, both in one temporary folder.
async fn server_and_queue() -> (tempfile::TempDir, RunningServer, Queue) {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(&dir.path().join("server.sqlite"), "127.0.0.1:0".parse().unwrap()).await;
    let queue = Queue::open(&dir.path().join("queue.sqlite"), DataKey::generate()).await.unwrap();
    (dir, server, queue)
}

async fn people(server: &RunningServer) -> i64 {
    sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM people")
        .fetch_one(&server.state.db)
        .await
        .unwrap()
        .0
}

#[tokio::test]
async fn queued_enrollments_sync_and_the_person_matches_the_capture() {
    let (_dir, server, queue) = server_and_queue().await;
    let ids: Vec<String> = futures_ids(&queue, 5).await;

    let progress = syncer(&queue, &server.base_url())
        .run_until_drained(Some(Duration::from_secs(30)), |_| {})
        .await
        .unwrap();
    assert_eq!(progress.synced, 5);
    assert_eq!(people(&server).await, 5);
    for id in &ids {
        let d = queue.show(id).await.unwrap();
        assert_eq!(d.summary.state, EnrollmentState::Synced);
        assert_eq!(d.summary.server_status.as_deref(), Some("ENROLL_OK"));
        let states: Vec<&str> = d.events.iter().map(|e| e.to.as_str()).collect();
        assert_eq!(states, ["queued", "sending", "accepted", "synced"]);
    }
    let person = server::people::get_person(&server.state.db, "user-0")
        .await
        .unwrap();
    let sent = capture("user-0", 0);
    assert_eq!(person.biometrics.len(), 2);
    assert_eq!(
        person.biometrics[0].content,
        wire::validate::encode_base64(&sent.images[0].bytes)
    );
    assert_eq!(person.biographics[0].value, "PERSON user-0");
    server.shutdown().await;
}

async fn futures_ids(queue: &Queue, n: usize) -> Vec<String> {
    let mut ids = vec![];
    for i in 0..n {
        ids.push(
            queue
                .add(capture(&format!("user-{i}"), 0), true)
                .await
                .unwrap(),
        );
    }
    ids
}

#[tokio::test]
async fn images_are_sealed_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(&dir.path().join("queue.sqlite"), DataKey::generate())
        .await
        .unwrap();
    let c = capture("52998224725", 0);
    let needle = c.images[0].bytes[40..72].to_vec();
    queue.add(c, true).await.unwrap();
    drop(queue);
    let mut raw = std::fs::read(dir.path().join("queue.sqlite")).unwrap();
    if let Ok(wal) = std::fs::read(dir.path().join("queue.sqlite-wal")) {
        raw.extend(wal);
    }
    assert!(
        !raw.windows(needle.len()).any(|w| w == needle.as_slice()),
        "image bytes found in clear on disk"
    );
    // The request body sealed at capture carries the image in base64: not in clear either.
    let needle_b64 = wire::validate::encode_base64(&needle);
    let needle_b64 = &needle_b64.as_bytes()[4..36];
    assert!(
        !raw.windows(needle_b64.len()).any(|w| w == needle_b64),
        "base64 image bytes found in clear on disk"
    );
    assert!(
        !raw.windows(14).any(|w| w == b"PERSON 5299822"),
        "biographics found in clear on disk"
    );
    let reopened = Queue::open(&dir.path().join("queue.sqlite"), DataKey::generate())
        .await
        .unwrap();
    let id = reopened.list(None, 1).await.unwrap()[0].id.clone();
    assert!(
        reopened.load_transaction(&id).await.is_err(),
        "a wrong key must not open the data"
    );
}

#[tokio::test]
async fn a_server_outage_mid_sync_loses_nothing_and_creates_no_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.sqlite");
    let server = start_server(&db, "127.0.0.1:0".parse().unwrap()).await;
    let addr = server.addr;
    let queue = Queue::open(&dir.path().join("queue.sqlite"), DataKey::generate())
        .await
        .unwrap();
    futures_ids(&queue, 6).await;

    // First pass with the server up, then it goes away mid-way through the queue.
    let s = syncer(&queue, &server.base_url());
    server.shutdown().await;
    let progress = s.run_once().await.unwrap();
    assert!(
        progress.deferred > 0,
        "uploads must be deferred while the server is down: {progress:?}"
    );
    let counts = queue.counts().await.unwrap();
    assert_eq!(
        counts.outstanding(),
        6,
        "nothing may be dropped: {counts:?}"
    );
    let stuck = queue.list(Some(EnrollmentState::Queued), 10).await.unwrap();
    assert!(stuck
        .iter()
        .any(|e| e.attempts >= 1 && e.last_error.is_some() && e.next_attempt_at > 0));

    // The server comes back on the same address with the same database.
    let server = start_server(&db, addr).await;
    let progress = s
        .run_until_drained(Some(Duration::from_secs(30)), |_| {})
        .await
        .unwrap();
    assert_eq!(progress.outstanding, 0);
    assert_eq!(queue.counts().await.unwrap().synced, 6);
    assert_eq!(people(&server).await, 6);
    server.shutdown().await;
}

mod queue {
    pub fn now() -> i64 {
        station::queue::now_ms()
    }
}

#[tokio::test]
async fn an_upload_interrupted_by_a_station_crash_is_resent_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(
        &dir.path().join("server.sqlite"),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await;
    let key = DataKey::generate();
    let qpath = dir.path().join("queue.sqlite");
    let queue = Queue::open(&qpath, key.clone()).await.unwrap();
    let id = queue.add(capture("52998224725", 0), true).await.unwrap();
    // The upload reached the server, but the station died before recording the answer.
    assert_eq!(
        queue.claim_due(queue::now(), 1).await.unwrap(),
        vec![id.clone()]
    );
    let tx = queue.load_transaction(&id).await.unwrap();
    let token = SpidClient::new(
        &server.base_url(),
        Credentials {
            user: "admin".into(),
            password: PASSWORD.into(),
        },
        Duration::from_secs(5),
    )
    .unwrap()
    .login()
    .await
    .unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{}/gbs-spid-server/people", server.base_url()))
        .bearer_auth(token)
        .header("Idempotency-Key", &id)
        .json(&wire::Envelope::new(&tx))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    drop(queue);

    let queue = Queue::open(&qpath, key).await.unwrap();
    assert_eq!(
        queue.show(&id).await.unwrap().summary.state,
        EnrollmentState::Sending,
        "opening alone must not disown an upload"
    );
    let lock_path = dir.path().join("sync.lock");
    let lock = SyncLock::acquire(&lock_path).unwrap();
    assert!(
        matches!(
            SyncLock::acquire(&lock_path),
            Err(station::sync::SyncError::Busy(_))
        ),
        "one syncer per queue"
    );
    syncer(&queue, &server.base_url())
        .with_lock(lock)
        .run_until_drained(Some(Duration::from_secs(30)), |_| {})
        .await
        .unwrap();
    assert_eq!(
        queue.show(&id).await.unwrap().summary.state,
        EnrollmentState::Synced
    );
    assert_eq!(people(&server).await, 1);
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM transactions")
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    assert_eq!(n, 1, "the resend must map to the original transaction");
    server.shutdown().await;
}

#[tokio::test]
async fn server_rejections_keep_their_reason_and_can_be_retried() {
    let (_dir, server, queue) = server_and_queue().await;
    let bad = queue.add(capture("11144477735", 7), true).await.unwrap(); // declares 207 px, image is 200
    let first = queue.add(capture("39053344705", 0), true).await.unwrap();
    let s = syncer(&queue, &server.base_url());
    s.run_until_drained(Some(Duration::from_secs(30)), |_| {})
        .await
        .unwrap();
    let twin = queue.add(capture("39053344705", 0), true).await.unwrap(); // same person again
    s.run_until_drained(Some(Duration::from_secs(30)), |_| {})
        .await
        .unwrap();

    let b = queue.show(&bad).await.unwrap().summary;
    assert_eq!(b.state, EnrollmentState::Rejected);
    assert_eq!(b.server_code.as_deref(), Some("SPID-VAL-IMAGE-DIMENSIONS"));
    assert!(b.server_message.unwrap().contains("207x250"));
    assert_eq!(
        queue.show(&first).await.unwrap().summary.state,
        EnrollmentState::Synced
    );
    let t = queue.show(&twin).await.unwrap().summary;
    assert_eq!(t.state, EnrollmentState::Rejected);
    assert_eq!(t.server_status.as_deref(), Some("ENROLL_REJECTED"));
    assert!(t.server_message.unwrap().contains("already enrolled"));

    // Retrying a rejected enrollment sends it again (same key → same server answer).
    queue.retry(&bad).await.unwrap();
    assert_eq!(
        queue.show(&bad).await.unwrap().summary.state,
        EnrollmentState::Queued
    );
    s.run_until_drained(Some(Duration::from_secs(30)), |_| {})
        .await
        .unwrap();
    assert_eq!(
        queue.show(&bad).await.unwrap().summary.state,
        EnrollmentState::Rejected
    );
    assert!(
        queue.retry(&first).await.is_err(),
        "a synced enrollment cannot be retried"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn invalid_captures_never_enter_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(&dir.path().join("queue.sqlite"), DataKey::generate())
        .await
        .unwrap();
    let mut c = capture("52998224725", 0);
    c.images[1].index = BiometricIndex::RightIndex;
    assert!(queue.add(c, true).await.is_err());
    let mut c = capture("", 0);
    c.user_id.clear();
    assert!(queue.add(c, true).await.is_err());
    assert_eq!(queue.counts().await.unwrap(), Default::default());
}

/// Sync lanes claim concurrently: each must get its own enrollment while any is due. (A claim
/// that lost a race once came back empty, the lane took the queue for drained and stopped, and
/// four lanes silently became one.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_each_get_a_distinct_due_enrollment() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(&dir.path().join("queue.sqlite"), DataKey::generate())
        .await
        .unwrap();
    let mut ids = vec![];
    for i in 0..12 {
        ids.push(
            queue
                .add(capture(&format!("{:011}", 52998224700u64 + i), 0), true)
                .await
                .unwrap(),
        );
    }
    for round in 0..3 {
        let claims = futures_claims(&queue, 4).await;
        let mut got: Vec<String> = claims.iter().map(|c| {
            assert_eq!(c.len(), 1, "round {round}: every claimer gets exactly one enrollment while 12 - {} are due: {claims:?}", round * 4);
            c[0].clone()
        }).collect();
        got.sort();
        got.dedup();
        assert_eq!(got.len(), 4, "round {round}: claims overlap: {claims:?}");
    }
    assert!(
        queue.claim_due(queue::now(), 1).await.unwrap().is_empty(),
        "all 12 claimed"
    );
    assert_eq!(queue.counts().await.unwrap().sending, 12);
}

async fn futures_claims(queue: &Queue, n: usize) -> Vec<Vec<String>> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let q = queue.clone();
            tokio::spawn(async move { q.claim_due(queue::now(), 1).await.unwrap() })
        })
        .collect();
    let mut out = vec![];
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// A queue written before request bodies were sealed at capture (each image sealed on its own,
/// no `enrollment_bodies` row) must still sync, byte for byte: field stations upgrade with
/// enrollments still queued. The rows are written here the way that version wrote them.
#[tokio::test]
async fn enrollments_queued_by_the_previous_storage_format_still_sync() {
    let dir = tempfile::tempdir().unwrap();
    let key_bytes = [7u8; 32];
    let queue = Queue::open(&dir.path().join("queue.sqlite"), DataKey::from_bytes(key_bytes)).await.unwrap();
    let key = DataKey::from_bytes(key_bytes);
    let c = capture("legacy-1", 0);
    let id = "0f1e2d3c-0000-4000-8000-000000000001";
    let details = serde_json::json!({"biographics": c.biographics, "missing": c.missing});
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(dir.path().join("queue.sqlite"));
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&options).await.unwrap();
    sqlx::query("INSERT INTO enrollments (id, state, user_id, operator_id, captured_at, sealed_details, updated_at) VALUES (?, 'queued', ?, ?, ?, ?, 0)")
        .bind(id)
        .bind(&c.user_id)
        .bind(&c.operator_id)
        .bind(c.captured_at)
        .bind(station::crypto::seal(&key, format!("details:{id}").as_bytes(), &serde_json::to_vec(&details).unwrap()))
        .execute(&mut conn)
        .await
        .unwrap();
    for img in &c.images {
        let code = img.index.code();
        sqlx::query("INSERT INTO enrollment_images (enrollment_id, idx, width, height, resolution, sealed) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(id)
            .bind(code as i64)
            .bind(img.width as i64)
            .bind(img.height as i64)
            .bind(img.resolution.map(|r| r as i64))
            .bind(station::crypto::seal(&key, format!("image:{id}:{code}").as_bytes(), &img.bytes))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    drop(conn);
    // A capture in the current format beside it.
    let current = queue.add(capture("current-1", 0), true).await.unwrap();
    assert_eq!(
        queue.load_transaction(id).await.unwrap(),
        queue.load_transaction(&current).await.map(|mut t| {
            t.user_id = "legacy-1".into();
            t.biographics[0].value = "PERSON legacy-1".into();
            t
        }).unwrap(),
        "both formats give the same request"
    );

    let server = start_server(&dir.path().join("server.sqlite"), "127.0.0.1:0".parse().unwrap()).await;
    let progress = syncer(&queue, &server.base_url()).run_until_drained(Some(Duration::from_secs(30)), |_| {}).await.unwrap();
    assert_eq!(progress.synced, 2);
    let person = server::people::get_person(&server.state.db, "legacy-1").await.unwrap();
    assert_eq!(person.biometrics[0].content, wire::validate::encode_base64(&c.images[0].bytes));
    assert_eq!(person.biographics[0].value, "PERSON legacy-1");
    server.shutdown().await;
}

/// Purging removes a synced person's biometrics and biographics from the station file (not only
/// from the tables: secure delete and a WAL truncation leave no copy in free pages), keeps the
/// row and its history, and never touches an enrollment the server has not enrolled.
#[tokio::test]
async fn purging_synced_enrollments_removes_their_personal_data_and_nothing_else() {
    let (dir, server, queue) = server_and_queue().await;
    let synced = queue.add(capture("52998224725", 0), true).await.unwrap();
    let rejected = queue.add(capture("11144477735", 7), true).await.unwrap(); // width lie: refused
    syncer(&queue, &server.base_url()).run_until_drained(Some(Duration::from_secs(30)), |_| {}).await.unwrap();
    assert_eq!(queue.show(&synced).await.unwrap().summary.state, EnrollmentState::Synced);
    assert_eq!(queue.show(&rejected).await.unwrap().summary.state, EnrollmentState::Rejected);
    let waiting = queue.add(capture("39053344705", 0), false).await.unwrap(); // kept for review

    // A piece of the purged enrollment's sealed body, to look for in the file afterwards.
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(dir.path().join("queue.sqlite"));
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&options).await.unwrap();
    let (sealed,): (Vec<u8>,) = sqlx::query_as("SELECT sealed FROM enrollment_bodies WHERE enrollment_id = ?")
        .bind(&synced)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    drop(conn);
    let needle = sealed[sealed.len() / 2..sealed.len() / 2 + 64].to_vec();
    let on_disk = || {
        let mut raw = std::fs::read(dir.path().join("queue.sqlite")).unwrap();
        if let Ok(wal) = std::fs::read(dir.path().join("queue.sqlite-wal")) {
            raw.extend(wal);
        }
        raw.windows(needle.len()).any(|w| w == needle.as_slice())
    };
    assert!(on_disk(), "the sealed body is in the file before the purge");

    // Synced "now": a cut-off in the past purges nothing.
    assert_eq!(queue.purge_synced(station::queue::now_ms() - 86_400_000).await.unwrap(), 0);
    assert_eq!(queue.purge_synced(station::queue::now_ms()).await.unwrap(), 1);
    assert_eq!(queue.purge_synced(station::queue::now_ms()).await.unwrap(), 0, "already purged");
    assert!(!on_disk(), "no copy of the purged body left in the database file or its WAL");

    assert!(matches!(queue.load_transaction(&synced).await, Err(station::queue::QueueError::Purged(_))));
    let detail = queue.show(&synced).await.unwrap();
    assert_eq!(detail.summary.state, EnrollmentState::Synced);
    assert_eq!(detail.images.len(), 2, "the image facts stay listed");
    assert!(detail.events.last().unwrap().detail.as_deref().unwrap().starts_with("purged"));
    for kept in [&rejected, &waiting] {
        assert_eq!(queue.load_transaction(kept).await.unwrap().biometrics.len(), 2, "{kept} untouched");
    }
    server.shutdown().await;
}

/// A state change that does not fit the enrollment's state is refused with the state it is in, and
/// writes nothing (no event, no update), whether it comes from an operator or from a batch of
/// server answers.
#[tokio::test]
async fn transitions_that_do_not_fit_the_state_are_refused_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(&dir.path().join("queue.sqlite"), DataKey::generate()).await.unwrap();
    let queued = queue.add(capture("52998224725", 0), true).await.unwrap();
    let before = queue.show(&queued).await.unwrap();
    let refused = |r: Result<(), station::queue::QueueError>| match r {
        Err(station::queue::QueueError::InvalidState { state, .. }) => assert_eq!(state, EnrollmentState::Queued),
        other => panic!("expected InvalidState, got {other:?}"),
    };
    refused(queue.submit(&queued).await);
    refused(queue.mark_synced(&queued, "ENROLL_OK", "ok").await);
    // A batch is all or nothing: the first answer fits nothing either.
    refused(
        queue
            .record_answers(&[
                (queued.clone(), station::queue::ServerAnswer::Accepted { tguid: "t".into(), status: "ENROLL_ENQUEUED".into(), message: String::new() }),
                (queued.clone(), station::queue::ServerAnswer::Synced { status: "ENROLL_OK".into(), message: String::new() }),
            ])
            .await,
    );
    assert_eq!(queue.show(&queued).await.unwrap(), before, "nothing written");
    assert!(matches!(queue.submit("no-such-id").await, Err(station::queue::QueueError::NotFound(_))));
}

/// An enrollment whose stored data was altered on disk can never be sent: it is rejected locally
/// with the reason, and the sync carries on with the others instead of stopping at it forever.
#[tokio::test]
async fn an_unreadable_enrollment_is_rejected_with_its_reason_and_the_others_sync() {
    let (dir, server, queue) = server_and_queue().await;
    let damaged = queue.add(capture("52998224725", 0), true).await.unwrap();
    let fine = queue.add(capture("39053344705", 0), true).await.unwrap();
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(dir.path().join("queue.sqlite"));
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&options).await.unwrap();
    // Flip one byte in the middle of the sealed body: the authentication tag no longer matches.
    sqlx::query("UPDATE enrollment_bodies SET sealed = substr(sealed, 1, 100) || X'FF' || substr(sealed, 102) WHERE enrollment_id = ?")
        .bind(&damaged)
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);

    let progress = syncer(&queue, &server.base_url()).run_until_drained(Some(Duration::from_secs(30)), |_| {}).await.unwrap();
    assert_eq!(progress.synced, 1);
    assert_eq!(queue.show(&fine).await.unwrap().summary.state, EnrollmentState::Synced);
    let d = queue.show(&damaged).await.unwrap().summary;
    assert_eq!(d.state, EnrollmentState::Rejected);
    assert_eq!(d.server_code.as_deref(), Some(station::sync::LOCAL_DATA_UNREADABLE));
    assert!(d.server_message.unwrap().contains("cannot read"));
    assert_eq!(people(&server).await, 1, "nothing of the damaged enrollment reached the server");
    server.shutdown().await;
}
