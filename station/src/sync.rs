//! Sync: moves queued enrollments to the SPID server and records the server's decisions.
//!
//! Every upload carries the enrollment id as `Idempotency-Key`, so whatever fails — the
//! network, the server, this process — resending is always safe and a person is never created
//! twice. Transient failures back off exponentially with full jitter; validation failures are
//! final and keep the server's reason for the operator.

use std::time::Duration;

use bytes::Bytes;
use rand::Rng;
use reqwest::StatusCode;
use tokio::sync::Mutex;
use wire::gbds::{TokenRequest, TokenResponse};
use wire::spid::{ExternalResult, TransactionStatus};
use wire::{Envelope, ErrorResponse};

use crate::config::SyncConfig;
use crate::queue::{now_ms, Queue, QueueError, ServerAnswer};

/// The `server_code` recorded on an enrollment whose stored data this station cannot read (so it
/// was never sent): shown to the operator beside the server's own codes.
pub const LOCAL_DATA_UNREADABLE: &str = "LOCAL_DATA_UNREADABLE";

/// Sync failures that stop a sync run (per-enrollment failures are recorded in the queue).
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("login as {user} refused: {message}")]
    Login { user: String, message: String },
    #[error("cannot reach the server at {url}: {source}")]
    Unreachable { url: String, source: reqwest::Error },
    #[error("HTTP client setup failed: {0}")]
    Client(reqwest::Error),
    #[error("sync did not finish within {0:?}; {1} enrollments still outstanding")]
    Deadline(Duration, i64),
    #[error("another sync is already running on this queue (lock {0} is held)")]
    Busy(String),
    #[error("cannot take the sync lock {path}: {source}")]
    Lock { path: String, source: std::io::Error },
}

/// Exclusive right to sync one queue, held as an OS file lock: released by the kernel when the
/// process exits, however it exits, so a killed syncer never blocks the next one — and while it
/// lives, no other process can mistake its uploads for abandoned ones.
pub struct SyncLock {
    _file: std::fs::File,
}

impl SyncLock {
    /// Takes the lock at `path` (created when missing), or fails with [`SyncError::Busy`].
    pub fn acquire(path: &std::path::Path) -> Result<Self, SyncError> {
        let lock_err = |source| SyncError::Lock { path: path.display().to_string(), source };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(lock_err)?;
        }
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(path).map_err(lock_err)?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(SyncError::Busy(path.display().to_string())),
            Err(std::fs::TryLockError::Error(e)) => Err(lock_err(e)),
        }
    }
}

/// Operator credentials for the server.
#[derive(Clone)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("user", &self.user).finish_non_exhaustive()
    }
}

/// What one upload attempt concluded.
#[derive(Debug)]
enum UploadOutcome {
    Accepted(ExternalResult),
    Refused { code: Option<String>, message: String },
    Transient(String),
    Unauthorised,
}

/// An SPID client bound to one server and operator; logs in lazily and again on 401.
pub struct SpidClient {
    http: reqwest::Client,
    base: String,
    credentials: Credentials,
    token: Mutex<Option<String>>,
}

impl SpidClient {
    /// A client for `base` (e.g. `http://127.0.0.1:8082`).
    pub fn new(base: &str, credentials: Credentials, timeout: Duration) -> Result<Self, SyncError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(SyncError::Client)?;
        Ok(Self { http, base: base.trim_end_matches('/').to_owned(), credentials, token: Mutex::new(None) })
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The underlying HTTP client (for extra calls such as fetching a person).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Logs in and returns a fresh token.
    pub async fn login(&self) -> Result<String, SyncError> {
        let url = format!("{}{}/tokens", self.base, wire::GBDS_PREFIX);
        let resp = self
            .http
            .post(&url)
            .json(&Envelope::new(TokenRequest::credentials(&self.credentials.user, &self.credentials.password)))
            .send()
            .await
            .map_err(|source| SyncError::Unreachable { url: url.clone(), source })?;
        if resp.status() == StatusCode::CREATED || resp.status() == StatusCode::OK {
            let body: Envelope<TokenResponse> = resp.json().await.map_err(|source| SyncError::Unreachable { url, source })?;
            *self.token.lock().await = Some(body.data.token.clone());
            Ok(body.data.token)
        } else {
            let status = resp.status();
            let message = resp
                .json::<ErrorResponse>()
                .await
                .map(|e| e.first_message().to_owned())
                .unwrap_or_else(|_| format!("HTTP {status}"));
            Err(SyncError::Login { user: self.credentials.user.clone(), message })
        }
    }

    /// The cached token, logging in when there is none.
    pub async fn token(&self) -> Result<String, SyncError> {
        if let Some(t) = self.token.lock().await.clone() {
            return Ok(t);
        }
        self.login().await
    }

    async fn forget_token(&self) {
        *self.token.lock().await = None;
    }

    async fn upload(&self, key: &str, body: Bytes) -> UploadOutcome {
        let token = match self.token().await {
            Ok(t) => t,
            Err(SyncError::Login { message, .. }) => return UploadOutcome::Transient(format!("login refused: {message}")),
            Err(e) => return UploadOutcome::Transient(e.to_string()),
        };
        let url = format!("{}{}/people", self.base, wire::SPID_PREFIX);
        let resp = match self
            .http
            .post(&url)
            .bearer_auth(token)
            .header(wire::IDEMPOTENCY_KEY_HEADER, key)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return UploadOutcome::Transient(format!("upload failed: {e}")),
        };
        let status = resp.status();
        match status {
            StatusCode::OK | StatusCode::CREATED => match resp.json::<ExternalResult>().await {
                Ok(r) => UploadOutcome::Accepted(r),
                Err(e) => UploadOutcome::Transient(format!("unreadable answer: {e}")),
            },
            StatusCode::UNAUTHORIZED => UploadOutcome::Unauthorised,
            s if s.is_client_error() && s != StatusCode::REQUEST_TIMEOUT && s != StatusCode::TOO_MANY_REQUESTS => {
                match resp.json::<ErrorResponse>().await {
                    Ok(e) => UploadOutcome::Refused { code: e.first_code().map(Into::into), message: e.first_message().to_owned() },
                    Err(_) => UploadOutcome::Refused { code: None, message: format!("server refused the enrollment (HTTP {s})") },
                }
            }
            s => UploadOutcome::Transient(format!("server answered HTTP {s}")),
        }
    }

    /// Polls an enrollment transaction.
    pub async fn enroll_result(&self, tguid: &str) -> Result<ExternalResult, String> {
        for attempt in 0..2 {
            let token = self.token().await.map_err(|e| e.to_string())?;
            let url = format!("{}{}/people/transactions/{tguid}", self.base, wire::SPID_PREFIX);
            let resp = self.http.get(&url).bearer_auth(token).send().await.map_err(|e| format!("poll failed: {e}"))?;
            if resp.status() == StatusCode::UNAUTHORIZED && attempt == 0 {
                self.forget_token().await;
                continue;
            }
            if !resp.status().is_success() {
                return Err(format!("poll answered HTTP {}", resp.status()));
            }
            return resp.json().await.map_err(|e| format!("unreadable poll answer: {e}"));
        }
        Err("not authorised to poll".into())
    }
}

/// Counts after a sync pass, for progress output.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncProgress {
    pub uploaded: usize,
    pub synced: usize,
    pub rejected: usize,
    pub deferred: usize,
    pub outstanding: i64,
}

/// Delay before attempt `attempts + 1`: `min(max, base · 2^attempts)`, scaled by a random
/// factor in [0.5, 1] so that many stations coming back online do not retry in lockstep.
pub fn backoff_delay(config: &SyncConfig, attempts: i64, rng: &mut impl Rng) -> Duration {
    let exp = config.backoff_base().saturating_mul(1u32 << attempts.clamp(0, 20) as u32);
    let capped = exp.min(config.backoff_max());
    capped.mul_f64(rng.gen_range(0.5..=1.0))
}

/// The sync engine over one queue and one server.
pub struct Syncer {
    queue: Queue,
    client: SpidClient,
    config: SyncConfig,
    lock: Option<SyncLock>,
    recovered: std::sync::atomic::AtomicBool,
}

impl Syncer {
    /// A syncer for `queue` to `client`'s server. Without a [`SyncLock`] it never touches
    /// enrollments another syncer may be uploading; see [`Syncer::with_lock`].
    pub fn new(queue: Queue, client: SpidClient, config: SyncConfig) -> Self {
        Self { queue, client, config, lock: None, recovered: std::sync::atomic::AtomicBool::new(false) }
    }

    /// Makes this the queue's only syncer: its first pass resumes uploads that a previous,
    /// dead syncer left `sending`.
    pub fn with_lock(mut self, lock: SyncLock) -> Self {
        self.lock = Some(lock);
        self
    }

    /// The client (for callers that need extra calls).
    pub fn client(&self) -> &SpidClient {
        &self.client
    }

    /// One pass: [`upload_due`](Self::upload_due), then [`poll_accepted`](Self::poll_accepted).
    pub async fn run_once(&self) -> Result<SyncProgress, SyncError> {
        let mut progress = self.upload_due().await?;
        let (synced, rejected) = self.poll_accepted().await?;
        progress.synced += synced;
        progress.rejected += rejected;
        progress.outstanding = self.queue.counts().await?.outstanding();
        Ok(progress)
    }

    /// Uploads every due enrollment with `concurrency` lanes between a preparer and a recorder,
    /// so `concurrency` requests are in flight all the time, as in a raw upload of pre-built
    /// bytes:
    /// - the preparer claims due enrollments a batch at a time (one write transaction) and builds
    ///   their request bodies (unseal, base64, JSON) in parallel while the lanes upload;
    /// - the lanes only send;
    /// - one recorder writes the server's answers, everything that piled up in one transaction.
    ///
    /// Stops early when the server fails (the backoff decides when to return); enrollments
    /// prepared but not sent by then go back to `queued` untouched.
    pub async fn upload_due(&self) -> Result<SyncProgress, SyncError> {
        if self.lock.is_some() && !self.recovered.swap(true, std::sync::atomic::Ordering::SeqCst) {
            let resumed = self.queue.recover_interrupted().await?;
            if resumed > 0 {
                tracing::info!(resumed, "resuming uploads interrupted by a previous sync");
            }
        }
        let lanes = self.config.concurrency.max(1);
        let server_trouble = std::cell::Cell::new(false);
        let failure: std::cell::RefCell<Option<SyncError>> = Default::default();
        let (trouble, failure) = (&server_trouble, &failure);
        let (ready_tx, ready_rx) = tokio::sync::mpsc::channel::<(String, Bytes)>(lanes);
        let ready_rx = Mutex::new(ready_rx);
        let (answer_tx, mut answer_rx) = tokio::sync::mpsc::unbounded_channel::<(String, ServerAnswer)>();
        let preparer = async move {
            let ready_tx = ready_tx; // dropped when this ends, which tells the lanes to finish
            while !trouble.get() {
                let ids = self.queue.claim_due(now_ms(), lanes).await?;
                if ids.is_empty() {
                    break;
                }
                let bodies = match self.queue.load_request_bodies(&ids).await {
                    Ok(bodies) => bodies,
                    Err(e) => {
                        for id in &ids {
                            self.queue.release_claim(id).await?;
                        }
                        return Err(e.into());
                    }
                };
                for (id, body) in ids.into_iter().zip(bodies) {
                    match body {
                        // The lanes drain until this sender is dropped, so sending cannot fail.
                        Ok(body) => {
                            let _ = ready_tx.send((id, body)).await;
                        }
                        // This enrollment's own data cannot be read (altered on disk, or opened
                        // with another station's key): it can never be sent, so it is rejected
                        // here with the reason, instead of stopping every later sync at it.
                        Err(e @ (QueueError::Sealed(_) | QueueError::Corrupt(_))) => {
                            tracing::warn!(%id, error = %e, "enrollment data unreadable; rejected locally");
                            let reason = format!("this station cannot read the enrollment's stored data: {e}");
                            self.queue.mark_rejected(&id, None, Some(LOCAL_DATA_UNREADABLE), &reason).await?;
                        }
                        Err(e) => {
                            self.queue.release_claim(&id).await?;
                            return Err(e.into());
                        }
                    }
                }
            }
            Ok::<_, SyncError>(())
        };
        // Lanes never stop before the preparer does (a stopped lane could leave it waiting on a
        // full channel): after trouble they hand back what is still prepared.
        let ready_rx = &ready_rx;
        let lane = move |answers: tokio::sync::mpsc::UnboundedSender<(String, ServerAnswer)>| async move {
            let mut tally = SyncProgress::default();
            loop {
                let Some((id, body)) = ready_rx.lock().await.recv().await else { break };
                if trouble.get() {
                    if let Err(e) = self.queue.release_claim(&id).await {
                        tracing::warn!(%id, error = %e, "could not hand back a prepared upload; the next sync resumes it");
                    }
                    continue;
                }
                match self.upload_one(&id, body).await {
                    Ok((step, to_record)) => {
                        for answer in to_record {
                            // The recorder only stops early on a queue error, already reported.
                            let _ = answers.send((id.clone(), answer));
                        }
                        match step {
                            Step::Uploaded => tally.uploaded += 1,
                            Step::Rejected => tally.rejected += 1,
                            Step::Synced => {
                                tally.uploaded += 1;
                                tally.synced += 1;
                            }
                            Step::Deferred => {
                                tally.deferred += 1;
                                // The server is struggling: stop this pass; the backoff decides when to return.
                                trouble.set(true);
                            }
                        }
                    }
                    Err(e) => {
                        trouble.set(true);
                        failure.borrow_mut().get_or_insert(e);
                    }
                }
            }
            tally
        };
        let lane_runs: Vec<_> = (0..lanes).map(|_| lane(answer_tx.clone())).collect();
        drop(answer_tx); // the recorder ends when the last lane drops its sender
        let recorder = async {
            let mut batch = Vec::new();
            while let Some(answer) = answer_rx.recv().await {
                batch.push(answer);
                while let Ok(more) = answer_rx.try_recv() {
                    batch.push(more);
                }
                if let Err(e) = self.queue.record_answers(&batch).await {
                    // Those enrollments stay `sending`; the next sync resends them safely.
                    trouble.set(true);
                    failure.borrow_mut().get_or_insert(e.into());
                    break;
                }
                batch.clear();
            }
        };
        let (prepared, tallies, ()) = tokio::join!(preparer, futures_join_all(lane_runs.into_iter()), recorder);
        let mut progress = SyncProgress::default();
        for tally in tallies {
            progress.uploaded += tally.uploaded;
            progress.synced += tally.synced;
            progress.rejected += tally.rejected;
            progress.deferred += tally.deferred;
        }
        if let Some(e) = failure.take() {
            return Err(e);
        }
        prepared?;
        Ok(progress)
    }

    /// Asks the server for the decision on every accepted enrollment (in lanes) and records
    /// it. Returns how many were synced and rejected.
    pub async fn poll_accepted(&self) -> Result<(usize, usize), SyncError> {
        let lanes = self.config.concurrency.max(1);
        let accepted = self.queue.accepted().await?;
        let next = std::cell::Cell::new(0usize);
        let unreachable = std::cell::Cell::new(false);
        let poller = || async {
            let (mut synced, mut rejected) = (0usize, 0usize);
            while !unreachable.get() {
                let i = next.get();
                let Some((id, tguid)) = accepted.get(i) else { break };
                next.set(i + 1);
                match self.client.enroll_result(tguid).await {
                    Ok(r) if r.status == TransactionStatus::EnrollOk => {
                        self.queue.mark_synced(id, r.status.as_str(), &r.message).await?;
                        synced += 1;
                    }
                    Ok(r) if r.status.is_final() => {
                        self.queue.mark_rejected(id, Some(r.status.as_str()), None, &r.message).await?;
                        rejected += 1;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        self.queue.note_poll_error(id, &e).await?;
                        unreachable.set(true); // polling the rest would fail the same way
                    }
                }
            }
            Ok::<_, SyncError>((synced, rejected))
        };
        let (mut synced, mut rejected) = (0, 0);
        for r in futures_join_all((0..lanes * 2).map(|_| poller())).await {
            let (s, r) = r?;
            synced += s;
            rejected += r;
        }
        Ok((synced, rejected))
    }

    /// Sends one prepared enrollment and says what the queue must record for it (the caller
    /// records it); a deferral is recorded here, since it needs the attempt count.
    async fn upload_one(&self, id: &str, body: Bytes) -> Result<(Step, Vec<ServerAnswer>), SyncError> {
        let mut outcome = self.client.upload(id, body.clone()).await;
        if matches!(outcome, UploadOutcome::Unauthorised) {
            self.client.forget_token().await;
            outcome = self.client.upload(id, body).await;
        }
        Ok(match outcome {
            UploadOutcome::Accepted(r) => {
                let status = r.status.as_str().to_owned();
                let accepted = ServerAnswer::Accepted { tguid: r.id, status: status.clone(), message: r.message.clone() };
                // A replay of an already-decided enrollment comes back final: record it now.
                if r.status == TransactionStatus::EnrollOk {
                    (Step::Synced, vec![accepted, ServerAnswer::Synced { status, message: r.message }])
                } else if r.status.is_final() {
                    (Step::Rejected, vec![accepted, ServerAnswer::Rejected { status: Some(status), code: None, message: r.message }])
                } else {
                    (Step::Uploaded, vec![accepted])
                }
            }
            UploadOutcome::Refused { code, message } => (Step::Rejected, vec![ServerAnswer::Rejected { status: None, code, message }]),
            UploadOutcome::Unauthorised => {
                self.defer(id, "server refused the operator's token after a fresh login").await?;
                (Step::Deferred, vec![])
            }
            UploadOutcome::Transient(error) => {
                self.defer(id, &error).await?;
                (Step::Deferred, vec![])
            }
        })
    }

    async fn defer(&self, id: &str, error: &str) -> Result<(), SyncError> {
        let attempts = self.queue.attempts(id).await?;
        let delay = backoff_delay(&self.config, attempts, &mut rand::thread_rng());
        self.queue.mark_retry_later(id, error, now_ms() + delay.as_millis() as i64).await?;
        tracing::info!(%id, %error, retry_in_ms = delay.as_millis() as u64, "upload deferred");
        Ok(())
    }

    /// Runs passes until nothing is outstanding, sleeping until the next due retry or poll in
    /// between, reporting after every pass. Gives up after `deadline` (None = never).
    pub async fn run_until_drained(
        &self,
        deadline: Option<Duration>,
        mut report: impl FnMut(&SyncProgress),
    ) -> Result<SyncProgress, SyncError> {
        let started = tokio::time::Instant::now();
        let mut total = SyncProgress::default();
        loop {
            let pass = self.run_once().await?;
            total.uploaded += pass.uploaded;
            total.synced += pass.synced;
            total.rejected += pass.rejected;
            total.deferred += pass.deferred;
            total.outstanding = pass.outstanding;
            report(&total);
            if pass.outstanding == 0 {
                return Ok(total);
            }
            if let Some(limit) = deadline {
                if started.elapsed() >= limit {
                    return Err(SyncError::Deadline(limit, pass.outstanding));
                }
            }
            let poll = Duration::from_millis(self.config.poll_interval_ms);
            let wait = match self.queue.next_due_at().await? {
                Some(due) if self.queue.accepted().await?.is_empty() => {
                    Duration::from_millis((due - now_ms()).max(0) as u64).clamp(Duration::from_millis(10), self.config.backoff_max())
                }
                Some(due) => Duration::from_millis((due - now_ms()).max(0) as u64).min(poll),
                None => poll,
            };
            tokio::time::sleep(wait).await;
        }
    }
}

enum Step {
    Uploaded,
    Synced,
    Rejected,
    Deferred,
}

/// Awaits futures concurrently on the current task (no spawning: they borrow `self`).
async fn futures_join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, fut) in set.iter_mut().enumerate() {
            if outputs[i].is_none() {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => outputs[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(|o| o.expect("every future completed")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let config = SyncConfig { backoff_base_ms: 100, backoff_max_ms: 5_000, ..SyncConfig::default() };
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for attempts in 0..30 {
            let d = backoff_delay(&config, attempts, &mut rng);
            let ceiling = Duration::from_millis((100u64 << attempts.min(20)).min(5_000));
            assert!(d <= ceiling && d >= ceiling / 2, "attempt {attempts}: {d:?} vs {ceiling:?}");
        }
        let a: Vec<_> = (0..5).map(|_| backoff_delay(&config, 3, &mut rng)).collect();
        assert!(a.windows(2).any(|w| w[0] != w[1]), "jitter must vary the delay");
    }
}
