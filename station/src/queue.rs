//! The offline enrollment queue: a local SQLite database (WAL) that every capture lands in
//! before anything touches the network.
//!
//! State machine (persisted before each network step, so a crash at any point resumes):
//!
//! ```text
//! captured ──submit──► queued ──claim──► sending ──201/200──► accepted ──ENROLL_OK──► synced
//!                        ▲                  │                      │
//!                        └──retry/backoff───┘                      └──ENROLL_REJECTED──► rejected
//!                                           └──────4xx (validation)──────────────────► rejected
//! ```
//! Nothing is deleted before the server confirmed it: images stay sealed on disk after `synced`
//! until an admin purges them ([`Queue::purge_synced`]), which keeps the row and its history.

use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use uuid::Uuid;
use wire::spid::{Biometric, KeyValue, MissingBiometric, UserTransaction};
use wire::BiometricIndex;

use crate::crypto::{self, DataKey};

/// Where an enrollment is in its life. Stored as its [`EnrollmentState::as_str`] text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(rename_all = "snake_case")]
pub enum EnrollmentState {
    /// Captured, not yet submitted by the operator (still under review).
    Captured,
    /// Waiting to be sent (possibly after a backoff).
    Queued,
    /// An upload is in flight (or was, when the station stopped).
    Sending,
    /// The server took it; its final decision is pending.
    Accepted,
    /// The server refused it; `server_message` says why. Retry re-queues it.
    Rejected,
    /// The server enrolled the person.
    Synced,
}

impl EnrollmentState {
    /// Every state, in life order.
    pub const ALL: [EnrollmentState; 6] = [
        EnrollmentState::Captured,
        EnrollmentState::Queued,
        EnrollmentState::Sending,
        EnrollmentState::Accepted,
        EnrollmentState::Rejected,
        EnrollmentState::Synced,
    ];

    /// Database / display spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EnrollmentState::Captured => "captured",
            EnrollmentState::Queued => "queued",
            EnrollmentState::Sending => "sending",
            EnrollmentState::Accepted => "accepted",
            EnrollmentState::Rejected => "rejected",
            EnrollmentState::Synced => "synced",
        }
    }

    fn parse(s: &str) -> Result<Self, QueueError> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| QueueError::Corrupt(format!("unknown state {s}")))
    }
}

impl std::fmt::Display for EnrollmentState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Queue failures.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("queue migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("no enrollment {0} in the queue")]
    NotFound(String),
    #[error("enrollment {id} is {state}; {action} is not possible in that state")]
    InvalidState {
        id: String,
        state: EnrollmentState,
        action: &'static str,
    },
    #[error("capture is not valid: {0}")]
    Invalid(#[from] wire::validate::Violation),
    #[error(transparent)]
    Sealed(#[from] crypto::OpenError),
    #[error("queue data is corrupt: {0}")]
    Corrupt(String),
    #[error("enrollment {0} was synced and its images purged from this station; the server holds them")]
    Purged(String),
}

/// One captured image, as the capture session hands it over (PNG/JPEG/WSQ bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedImage {
    pub index: BiometricIndex,
    pub width: u32,
    pub height: u32,
    pub resolution: Option<u32>,
    pub bytes: Vec<u8>,
}

/// A finished capture to put in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEnrollment {
    pub user_id: String,
    pub operator_id: String,
    pub biographics: Vec<KeyValue>,
    pub missing: Vec<MissingBiometric>,
    pub images: Vec<CapturedImage>,
    /// Capture time, epoch ms.
    pub captured_at: i64,
}

/// A queue row for listings (read straight from the row: the fields are the column names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct EnrollmentSummary {
    pub id: String,
    pub state: EnrollmentState,
    pub user_id: String,
    pub operator_id: String,
    pub captured_at: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub server_tguid: Option<String>,
    pub server_status: Option<String>,
    pub server_code: Option<String>,
    pub server_message: Option<String>,
    pub updated_at: i64,
}

/// One state change of an enrollment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnrollmentEvent {
    pub at: i64,
    pub from: Option<String>,
    pub to: String,
    pub detail: Option<String>,
}

/// An image's metadata (the bytes stay sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageInfo {
    pub index: u16,
    pub width: u32,
    pub height: u32,
    /// The image's size as captured (for captures stored before sealed request bodies, the
    /// size of its sealed blob: 40 bytes more).
    pub stored_bytes: usize,
}

/// Everything `queue show` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnrollmentDetail {
    #[serde(flatten)]
    pub summary: EnrollmentSummary,
    pub images: Vec<ImageInfo>,
    pub events: Vec<EnrollmentEvent>,
}

/// Enrollment counts per state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QueueCounts {
    pub captured: i64,
    pub queued: i64,
    pub sending: i64,
    pub accepted: i64,
    pub rejected: i64,
    pub synced: i64,
}

impl QueueCounts {
    /// Enrollments the sync worker still has to move (queued, sending, accepted).
    pub fn outstanding(&self) -> i64 {
        self.queued + self.sending + self.accepted
    }
}

#[derive(Serialize, Deserialize)]
struct SealedDetails {
    biographics: Vec<KeyValue>,
    missing: Vec<MissingBiometric>,
}

const SUMMARY_COLUMNS: &str =
    "id, state, user_id, operator_id, captured_at, attempts, next_attempt_at, last_error, \
     server_tguid, server_status, server_code, server_message, updated_at";

/// An enrollment as stored: personal data and images still sealed.
struct SealedEnrollment {
    id: String,
    user_id: String,
    operator_id: String,
    captured_at: i64,
    sealed_details: Vec<u8>,
    images: Vec<(i64, i64, i64, Option<i64>, Vec<u8>)>,
}

impl SealedEnrollment {
    fn unseal(self, key: &DataKey) -> Result<UserTransaction, QueueError> {
        let id = &self.id;
        let details: SealedDetails =
            serde_json::from_slice(&crypto::open(key, &details_aad(id), &self.sealed_details)?)
                .map_err(|e| QueueError::Corrupt(format!("details of {id}: {e}")))?;
        let mut biometrics = Vec::with_capacity(self.images.len());
        for (idx, width, height, resolution, sealed) in self.images {
            let index = BiometricIndex::from_code(idx)
                .ok_or_else(|| QueueError::Corrupt(format!("index {idx}")))?;
            let bytes = crypto::open(key, &image_aad(id, index.code()), &sealed)?;
            biometrics.push(Biometric {
                index,
                content: wire::validate::encode_base64(&bytes),
                width: width as u32,
                height: height as u32,
                resolution: resolution.map(|r| r as u32),
            });
        }
        Ok(UserTransaction {
            biometrics,
            missing_biometrics: details.missing,
            user_id: self.user_id,
            operator_id: self.operator_id,
            timestamp: Some(self.captured_at),
            biographics: details.biographics,
        })
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn image_aad(id: &str, index: u16) -> Vec<u8> {
    format!("image:{id}:{index}").into_bytes()
}

fn details_aad(id: &str) -> Vec<u8> {
    format!("details:{id}").into_bytes()
}

fn body_aad(id: &str) -> Vec<u8> {
    format!("body:{id}").into_bytes()
}

/// What the server said about one upload, as the queue records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerAnswer {
    /// Taken for processing (`sending` → `accepted`), under the server's transaction id.
    Accepted { tguid: String, status: String, message: String },
    /// Refused at upload (validation, with the server's error `code`) or rejected after
    /// processing (with its final `status`): `sending`/`accepted` → `rejected`.
    Rejected { status: Option<String>, code: Option<String>, message: String },
    /// The person is enrolled: `accepted` → `synced`.
    Synced { status: String, message: String },
}

/// Handle to the queue database.
#[derive(Clone)]
pub struct Queue {
    pool: SqlitePool,
    key: DataKey,
    /// Serialises this process's write transactions. SQLite allows one writer at a time; without
    /// this, concurrent sync lanes collide on `BEGIN IMMEDIATE` and SQLite's busy handler makes
    /// the losers sleep (1, 2, 5, 10… ms), which cost more than half of the sync throughput.
    /// Other processes (the CLI beside the app) still meet `busy_timeout`, which is rare.
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Queue {
    /// Opens (creating) the queue at `path`, sealing with `key`. Several processes may open the
    /// same queue (the app syncing while the CLI lists it); only the holder of the sync lock
    /// recovers interrupted uploads (see [`Queue::recover_interrupted`]).
    pub async fn open(path: &Path, key: DataKey) -> Result<Self, QueueError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| QueueError::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL in WAL mode: commits survive a process crash; the few state changes a power
            // cut could roll back are replayed safely (idempotency key). New captures are made
            // durable explicitly in `add` with a checkpoint.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(std::time::Duration::from_secs(10))
            // Deleted content is overwritten with zeros, so purged biometrics do not linger in
            // free pages of the file.
            .pragma("secure_delete", "ON")
            // Request bodies are ~400 KB overflow chains (100 pages each); reading them through a
            // memory map instead of one read() per page takes a sync's body loads off the kernel.
            .pragma("mmap_size", "268435456")
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self {
            pool,
            key,
            writer: Default::default(),
        })
    }

    /// Moves enrollments left `sending` by a syncer that died back to `queued`; the idempotency
    /// key makes the resend safe. Only call it while holding the queue's
    /// [`SyncLock`](crate::sync::SyncLock): otherwise a live syncer's uploads would be disowned.
    pub async fn recover_interrupted(&self) -> Result<usize, QueueError> {
        let ids: Vec<(String,)> =
            sqlx::query_as("SELECT id FROM enrollments WHERE state = 'sending'")
                .fetch_all(&self.pool)
                .await?;
        for (id,) in &ids {
            self.transition(
                id,
                &[EnrollmentState::Sending],
                EnrollmentState::Queued,
                Some("the previous sync stopped during this upload; will resend with the same key"),
                None,
            )
            .await?;
        }
        Ok(ids.len())
    }

    /// Validates and stores a capture. `submit` puts it straight into `queued`; otherwise it
    /// waits in `captured` for the operator's review.
    pub async fn add(&self, new: NewEnrollment, submit: bool) -> Result<String, QueueError> {
        let probe = UserTransaction {
            biometrics: new
                .images
                .iter()
                .map(|i| Biometric {
                    index: i.index,
                    content: wire::validate::encode_base64(&i.bytes),
                    width: i.width,
                    height: i.height,
                    resolution: i.resolution,
                })
                .collect(),
            missing_biometrics: new.missing.clone(),
            user_id: new.user_id.clone(),
            operator_id: new.operator_id.clone(),
            timestamp: Some(new.captured_at),
            biographics: new.biographics.clone(),
        };
        wire::validate::validate_transaction(&probe, &wire::validate::Limits::default())?;

        let id = Uuid::new_v4().to_string();
        let state = if submit {
            EnrollmentState::Queued
        } else {
            EnrollmentState::Captured
        };
        let details = serde_json::to_vec(&SealedDetails {
            biographics: new.biographics,
            missing: new.missing,
        })
        .map_err(|e| QueueError::Corrupt(e.to_string()))?;
        let body = serde_json::to_vec(&wire::Envelope::new(&probe)).map_err(|e| QueueError::Corrupt(e.to_string()))?;
        let sealed_body = crypto::seal(&self.key, &body_aad(&id), &body);
        drop(body);
        let now = now_ms();
        let _writer = self.writer.lock().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "INSERT INTO enrollments (id, state, user_id, operator_id, captured_at, sealed_details, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(state.as_str())
        .bind(&new.user_id)
        .bind(&new.operator_id)
        .bind(new.captured_at)
        .bind(crypto::seal(&self.key, &details_aad(&id), &details))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO enrollment_bodies (enrollment_id, sealed) VALUES (?, ?)")
            .bind(&id)
            .bind(sealed_body)
            .execute(&mut *tx)
            .await?;
        for img in &new.images {
            sqlx::query(
                "INSERT INTO enrollment_images (enrollment_id, idx, width, height, resolution, sealed, image_bytes) VALUES (?, ?, ?, ?, ?, X'', ?)",
            )
            .bind(&id)
            .bind(img.index.code() as i64)
            .bind(img.width as i64)
            .bind(img.height as i64)
            .bind(img.resolution.map(|r| r as i64))
            .bind(img.bytes.len() as i64)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("INSERT INTO enrollment_events (enrollment_id, at, from_state, to_state, detail) VALUES (?, ?, NULL, ?, ?)")
            .bind(&id)
            .bind(now)
            .bind(state.as_str())
            .bind(format!("{} images, {} missing", new.images.len(), probe.missing_biometrics.len()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        // A capture acknowledged to the operator must survive a power cut: the checkpoint
        // fsyncs the WAL and the database file before we return.
        sqlx::query("PRAGMA wal_checkpoint(FULL)")
            .execute(&self.pool)
            .await?;
        Ok(id)
    }

    /// Moves `id` from one of `from` to `to`, recording an event; `extra` sets more columns in
    /// the same statement. Fails with `InvalidState` if the row is not in an allowed state.
    async fn transition(
        &self,
        id: &str,
        from: &[EnrollmentState],
        to: EnrollmentState,
        detail: Option<&str>,
        extra: Option<(&str, Vec<Option<String>>)>,
    ) -> Result<(), QueueError> {
        let _writer = self.writer.lock().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        transition_in(&mut tx, id, from, to, detail, extra).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The operator confirms a reviewed capture: `captured` → `queued`.
    pub async fn submit(&self, id: &str) -> Result<(), QueueError> {
        self.transition(
            id,
            &[EnrollmentState::Captured],
            EnrollmentState::Queued,
            Some("submitted by operator"),
            None,
        )
        .await
    }

    /// Re-queues a rejected enrollment, or makes a backing-off one due now.
    pub async fn retry(&self, id: &str) -> Result<(), QueueError> {
        self.transition(
            id,
            &[EnrollmentState::Rejected, EnrollmentState::Queued],
            EnrollmentState::Queued,
            Some("retry requested"),
            Some((
                ", next_attempt_at = 0, attempts = 0, last_error = NULL",
                vec![],
            )),
        )
        .await
    }

    /// Claims up to `limit` due enrollments for upload (`queued` → `sending`), oldest first.
    /// Selection and claim happen in one write transaction, so concurrent claimers (sync lanes,
    /// another process) never pick the same enrollment and never see a due one as taken.
    pub async fn claim_due(&self, now: i64, limit: usize) -> Result<Vec<String>, QueueError> {
        let _writer = self.writer.lock().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        // One statement moves the whole batch and one records its events: a sync claims every few
        // milliseconds, and each statement is a round trip to SQLite's worker thread.
        let mut claimed: Vec<(String, i64)> = sqlx::query_as(
            "UPDATE enrollments SET state = 'sending', updated_at = ?1 WHERE id IN \
             (SELECT id FROM enrollments WHERE state = 'queued' AND next_attempt_at <= ?1 ORDER BY captured_at, id LIMIT ?2) \
             RETURNING id, captured_at",
        )
        .bind(now)
        .bind(limit as i64)
        .fetch_all(&mut *tx)
        .await?;
        if !claimed.is_empty() {
            let rows = vec!["(?, ?, 'queued', 'sending', NULL)"; claimed.len()].join(", ");
            let sql = format!("INSERT INTO enrollment_events (enrollment_id, at, from_state, to_state, detail) VALUES {rows}");
            let mut events = sqlx::query(&sql);
            for (id, _) in &claimed {
                events = events.bind(id).bind(now);
            }
            events.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        // RETURNING does not keep the subquery's order: oldest first again.
        claimed.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
        Ok(claimed.into_iter().map(|(id, _)| id).collect())
    }

    /// Hands back a claimed enrollment that was never sent (`sending` → `queued`, due at once,
    /// attempts unchanged), e.g. when a sync pass stops before its turn came.
    pub async fn release_claim(&self, id: &str) -> Result<(), QueueError> {
        self.transition(id, &[EnrollmentState::Sending], EnrollmentState::Queued, Some("claimed but not sent; back in the queue"), None).await
    }

    /// The enrollment as the SPID request body (images unsealed).
    pub async fn load_transaction(&self, id: &str) -> Result<UserTransaction, QueueError> {
        let body = self.load_request_body(id).await?;
        let envelope: wire::Envelope<UserTransaction> =
            serde_json::from_slice(&body).map_err(|e| QueueError::Corrupt(format!("request body of {id}: {e}")))?;
        Ok(envelope.data)
    }

    /// The enrollment as the serialised SPID request body (`{"data": UserTransaction}`), ready
    /// to send. See [`Queue::load_request_bodies`].
    pub async fn load_request_body(&self, id: &str) -> Result<Vec<u8>, QueueError> {
        let mut bodies = self.load_request_bodies(&[id.to_owned()]).await?;
        bodies.pop().expect("one result per id").map(Vec::from)
    }

    /// The ready-to-send request bodies of `ids`, in order, each or its own error: the bodies
    /// sealed at capture, read in one query and opened in place on the blocking pool (in
    /// parallel, so a batch uses every core). Queues written before sealed bodies existed get
    /// theirs built from the separately sealed images. A purged enrollment has none.
    pub async fn load_request_bodies(&self, ids: &[String]) -> Result<Vec<Result<bytes::Bytes, QueueError>>, QueueError> {
        let placeholders = vec!["?"; ids.len()].join(", ");
        let sql = format!(
            "SELECT e.id, e.purged_at, b.sealed FROM enrollments e LEFT JOIN enrollment_bodies b ON b.enrollment_id = e.id WHERE e.id IN ({placeholders})"
        );
        let mut query = sqlx::query_as::<_, (String, Option<i64>, Option<Vec<u8>>)>(&sql);
        for id in ids {
            query = query.bind(id);
        }
        let mut rows: std::collections::HashMap<String, (Option<i64>, Option<Vec<u8>>)> =
            query.fetch_all(&self.pool).await?.into_iter().map(|(id, purged, sealed)| (id, (purged, sealed))).collect();
        // Start every opening before awaiting any, so they run side by side.
        let mut pending = Vec::with_capacity(ids.len());
        for id in ids {
            let key = self.key.clone();
            let opening = match rows.remove(id) {
                None => Err(QueueError::NotFound(id.clone())),
                Some((Some(_), _)) => Err(QueueError::Purged(id.clone())),
                Some((None, Some(sealed))) => {
                    let aad = body_aad(id);
                    Ok(tokio::task::spawn_blocking(move || Ok(crypto::open_owned(&key, &aad, sealed)?)))
                }
                Some((None, None)) => match self.load_sealed(id).await {
                    Ok(legacy) => Ok(tokio::task::spawn_blocking(move || {
                        let tx = legacy.unseal(&key)?;
                        serde_json::to_vec(&wire::Envelope::new(&tx)).map(bytes::Bytes::from).map_err(|e| QueueError::Corrupt(e.to_string()))
                    })),
                    Err(e) => Err(e),
                },
            };
            pending.push(opening);
        }
        let mut bodies = Vec::with_capacity(ids.len());
        for opening in pending {
            bodies.push(match opening {
                Ok(task) => task.await.unwrap_or_else(|e| Err(QueueError::Corrupt(format!("opening task failed: {e}")))),
                Err(e) => Err(e),
            });
        }
        Ok(bodies)
    }

    async fn load_sealed(&self, id: &str) -> Result<SealedEnrollment, QueueError> {
        let row: Option<(String, String, i64, Vec<u8>)> =
            sqlx::query_as("SELECT user_id, operator_id, captured_at, sealed_details FROM enrollments WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let (user_id, operator_id, captured_at, sealed_details) =
            row.ok_or_else(|| QueueError::NotFound(id.to_owned()))?;
        let images = sqlx::query_as(
            "SELECT idx, width, height, resolution, sealed FROM enrollment_images WHERE enrollment_id = ? ORDER BY idx",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(SealedEnrollment {
            id: id.to_owned(),
            user_id,
            operator_id,
            captured_at,
            sealed_details,
            images,
        })
    }

    /// The server refused the enrollment (validation error, or a final rejection).
    pub async fn mark_rejected(&self, id: &str, status: Option<&str>, code: Option<&str>, message: &str) -> Result<(), QueueError> {
        self.record_answers(&[(
            id.to_owned(),
            ServerAnswer::Rejected { status: status.map(Into::into), code: code.map(Into::into), message: message.to_owned() },
        )])
        .await
    }

    /// The server enrolled the person.
    pub async fn mark_synced(&self, id: &str, status: &str, message: &str) -> Result<(), QueueError> {
        self.record_answers(&[(id.to_owned(), ServerAnswer::Synced { status: status.to_owned(), message: message.to_owned() })])
            .await
    }

    /// Records several server answers in one write transaction, in order (an enrollment may
    /// appear twice: accepted, then synced when the answer was already final). Sync lanes hand
    /// their answers to one recorder that calls this with whatever has piled up, so the writer
    /// lock and the commit are paid once per batch rather than once per upload. A crash before
    /// the batch commits leaves those enrollments `sending`; the next sync resends them with the
    /// same idempotency key and the server answers with the original transaction.
    /// All or nothing: if one answer does not fit its enrollment's state, none is recorded.
    pub async fn record_answers(&self, answers: &[(String, ServerAnswer)]) -> Result<(), QueueError> {
        if answers.is_empty() {
            return Ok(());
        }
        let _writer = self.writer.lock().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for (id, answer) in answers {
            match answer {
                ServerAnswer::Accepted { tguid, status, message } => {
                    transition_in(
                        &mut tx,
                        id,
                        &[EnrollmentState::Sending],
                        EnrollmentState::Accepted,
                        Some(&format!("server transaction {tguid}: {status}")),
                        Some((
                            ", server_tguid = ?, server_status = ?, server_message = ?, last_error = NULL",
                            vec![Some(tguid.clone()), Some(status.clone()), Some(message.clone())],
                        )),
                    )
                    .await?
                }
                ServerAnswer::Rejected { status, code, message } => {
                    transition_in(
                        &mut tx,
                        id,
                        &[EnrollmentState::Sending, EnrollmentState::Accepted],
                        EnrollmentState::Rejected,
                        Some(message),
                        Some((
                            ", server_status = COALESCE(?, server_status), server_code = ?, server_message = ?",
                            vec![status.clone(), code.clone(), Some(message.clone())],
                        )),
                    )
                    .await?
                }
                ServerAnswer::Synced { status, message } => {
                    transition_in(
                        &mut tx,
                        id,
                        &[EnrollmentState::Accepted],
                        EnrollmentState::Synced,
                        Some(message),
                        Some((", server_status = ?, server_message = ?", vec![Some(status.clone()), Some(message.clone())])),
                    )
                    .await?
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Upload failed transiently: back to `queued`, due again at `next_attempt_at`.
    pub async fn mark_retry_later(
        &self,
        id: &str,
        error: &str,
        next_attempt_at: i64,
    ) -> Result<(), QueueError> {
        self.transition(
            id,
            &[EnrollmentState::Sending],
            EnrollmentState::Queued,
            Some(error),
            Some((
                ", attempts = attempts + 1, last_error = ?, next_attempt_at = ?",
                vec![Some(error.into()), Some(next_attempt_at.to_string())],
            )),
        )
        .await
    }

    /// Removes the personal data (request body, images, biographics) of enrollments the server
    /// confirmed (`synced`) at or before `synced_before` (epoch ms), keeping each row, its image
    /// facts and its history, with a `purged` event. Field stations hold hundreds of kilobytes per
    /// person; once the server has enrolled them, keeping their biometrics here only adds risk.
    /// Enrollments in any other state are never touched: they may still need sending or an
    /// operator's decision. Freed pages are reused by later captures (the file does not shrink).
    /// Returns how many enrollments were purged.
    pub async fn purge_synced(&self, synced_before: i64) -> Result<usize, QueueError> {
        let _writer = self.writer.lock().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let ids: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM enrollments WHERE state = 'synced' AND purged_at IS NULL AND updated_at <= ? ORDER BY updated_at",
        )
        .bind(synced_before)
        .fetch_all(&mut *tx)
        .await?;
        let now = now_ms();
        for (id,) in &ids {
            sqlx::query("DELETE FROM enrollment_bodies WHERE enrollment_id = ?").bind(id).execute(&mut *tx).await?;
            sqlx::query("UPDATE enrollment_images SET sealed = X'' WHERE enrollment_id = ?").bind(id).execute(&mut *tx).await?;
            sqlx::query("UPDATE enrollments SET sealed_details = X'', purged_at = ? WHERE id = ?")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO enrollment_events (enrollment_id, at, from_state, to_state, detail) VALUES (?, ?, 'synced', 'synced', 'purged: images, request body and biographics removed from this station')",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        // The old pages also live in the WAL until a checkpoint overwrites them: checkpoint and
        // truncate it now.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await?;
        Ok(ids.len())
    }

    /// Records a failed status poll on an accepted enrollment (it stays accepted).
    pub async fn note_poll_error(&self, id: &str, error: &str) -> Result<(), QueueError> {
        sqlx::query("UPDATE enrollments SET last_error = ?, updated_at = ? WHERE id = ?")
            .bind(error)
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Attempt count of an enrollment (drives the backoff).
    pub async fn attempts(&self, id: &str) -> Result<i64, QueueError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT attempts FROM enrollments WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.ok_or_else(|| QueueError::NotFound(id.to_owned()))?.0)
    }

    /// Accepted enrollments with their server TGUIDs, to poll for the final result.
    pub async fn accepted(&self) -> Result<Vec<(String, String)>, QueueError> {
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT id, server_tguid FROM enrollments WHERE state = 'accepted' ORDER BY updated_at",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, t)| t.map(|t| (id, t)))
            .collect())
    }

    /// Earliest `next_attempt_at` among queued enrollments.
    pub async fn next_due_at(&self) -> Result<Option<i64>, QueueError> {
        let row: (Option<i64>,) =
            sqlx::query_as("SELECT MIN(next_attempt_at) FROM enrollments WHERE state = 'queued'")
                .fetch_one(&self.pool)
                .await?;
        Ok(row.0)
    }

    /// Counts per state.
    pub async fn counts(&self) -> Result<QueueCounts, QueueError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM enrollments GROUP BY state")
                .fetch_all(&self.pool)
                .await?;
        let mut c = QueueCounts::default();
        for (state, n) in rows {
            match EnrollmentState::parse(&state)? {
                EnrollmentState::Captured => c.captured = n,
                EnrollmentState::Queued => c.queued = n,
                EnrollmentState::Sending => c.sending = n,
                EnrollmentState::Accepted => c.accepted = n,
                EnrollmentState::Rejected => c.rejected = n,
                EnrollmentState::Synced => c.synced = n,
            }
        }
        Ok(c)
    }

    /// The newest `limit` enrollments, optionally only those in `state`.
    pub async fn list(
        &self,
        state: Option<EnrollmentState>,
        limit: usize,
    ) -> Result<Vec<EnrollmentSummary>, QueueError> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM enrollments WHERE (?1 IS NULL OR state = ?1) ORDER BY captured_at DESC, id LIMIT ?2"
        );
        Ok(sqlx::query_as(&sql).bind(state.map(|s| s.as_str())).bind(limit as i64).fetch_all(&self.pool).await?)
    }

    /// One enrollment with its images and history.
    pub async fn show(&self, id: &str) -> Result<EnrollmentDetail, QueueError> {
        let sql = format!("SELECT {SUMMARY_COLUMNS} FROM enrollments WHERE id = ?");
        let summary: EnrollmentSummary = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| QueueError::NotFound(id.to_owned()))?;
        let images: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT idx, width, height, COALESCE(image_bytes, length(sealed)) FROM enrollment_images WHERE enrollment_id = ? ORDER BY idx",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let events: Vec<(i64, Option<String>, String, Option<String>)> = sqlx::query_as(
            "SELECT at, from_state, to_state, detail FROM enrollment_events WHERE enrollment_id = ? ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(EnrollmentDetail {
            summary,
            images: images
                .into_iter()
                .map(|(i, w, h, n)| ImageInfo {
                    index: i as u16,
                    width: w as u32,
                    height: h as u32,
                    stored_bytes: n as usize,
                })
                .collect(),
            events: events
                .into_iter()
                .map(|(at, from, to, detail)| EnrollmentEvent {
                    at,
                    from,
                    to,
                    detail,
                })
                .collect(),
        })
    }

    /// Finds an enrollment by a unique id prefix (operators type the first 8 characters).
    pub async fn resolve_id(&self, prefix: &str) -> Result<String, QueueError> {
        let pattern = format!("{}%", prefix.replace(['%', '_'], ""));
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT id FROM enrollments WHERE id LIKE ? LIMIT 2")
                .bind(pattern)
                .fetch_all(&self.pool)
                .await?;
        match rows.as_slice() {
            [(id,)] => Ok(id.clone()),
            _ => Err(QueueError::NotFound(prefix.to_owned())),
        }
    }
}

/// One state change inside the caller's write transaction: checks the current state, records the
/// event and updates the row (plus `extra` columns). Two statements when the state fits (the event
/// is inserted from the row itself, only if its state is one of `from`); the state is read back
/// only to explain a refusal.
async fn transition_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    id: &str,
    from: &[EnrollmentState],
    to: EnrollmentState,
    detail: Option<&str>,
    extra: Option<(&str, Vec<Option<String>>)>,
) -> Result<(), QueueError> {
    let now = now_ms();
    let allowed = vec!["?"; from.len()].join(", ");
    let sql = format!(
        "INSERT INTO enrollment_events (enrollment_id, at, from_state, to_state, detail) \
         SELECT id, ?, state, ?, ? FROM enrollments WHERE id = ? AND state IN ({allowed})"
    );
    let mut event = sqlx::query(&sql).bind(now).bind(to.as_str()).bind(detail).bind(id);
    for state in from {
        event = event.bind(state.as_str());
    }
    if event.execute(&mut **tx).await?.rows_affected() == 0 {
        let current: Option<(String,)> =
            sqlx::query_as("SELECT state FROM enrollments WHERE id = ?").bind(id).fetch_optional(&mut **tx).await?;
        let current = EnrollmentState::parse(&current.ok_or_else(|| QueueError::NotFound(id.to_owned()))?.0)?;
        return Err(QueueError::InvalidState { id: id.to_owned(), state: current, action: action_name(to) });
    }
    let (extra_sql, extra_values) = extra.unwrap_or(("", vec![]));
    let sql = format!("UPDATE enrollments SET state = ?, updated_at = ?{extra_sql} WHERE id = ?");
    let mut q = sqlx::query(&sql).bind(to.as_str()).bind(now);
    for v in extra_values {
        q = q.bind(v);
    }
    q.bind(id).execute(&mut **tx).await?;
    Ok(())
}

fn action_name(to: EnrollmentState) -> &'static str {
    match to {
        EnrollmentState::Captured => "capture",
        EnrollmentState::Queued => "queueing",
        EnrollmentState::Sending => "sending",
        EnrollmentState::Accepted => "accepting",
        EnrollmentState::Rejected => "rejecting",
        EnrollmentState::Synced => "marking synced",
    }
}
