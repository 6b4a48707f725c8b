//! Verify (1:1) from the station: "is the person at the desk the one enrolled under this key?"
//!
//! Unlike enrollment, a verify is not queued: the operator is waiting for a yes or no, so it
//! goes straight to the server and fails fast when the server cannot be reached. It reuses the
//! sync client ([`SpidClient`]) for the server address, login and token.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use wire::search::MatchResult;
use wire::spid::{Biometric, UserTransaction};
use wire::{Envelope, ErrorResponse};

use crate::queue::CapturedImage;
use crate::sync::{SpidClient, SyncError};

/// Why a verify produced no answer. A `SEARCH_NOT_MATCH` or `SEARCH_FAILED` answer is *not* an
/// error: it comes back as `Ok` with that status, for the operator to read.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The request never got an answer (network, login), or the answer was unreadable.
    #[error(transparent)]
    Client(#[from] SyncError),
    /// The request was checked locally before sending and is invalid (e.g. no finger).
    #[error("invalid verify request: {0}")]
    Invalid(#[from] wire::validate::Violation),
    /// The server refused the request; `code` is the stable `wire::ErrorCode` string when given.
    #[error("the server refused the verify ({status}): {message}")]
    Refused { status: u16, code: Option<String>, message: String },
    /// The answer did not reach a final status before the deadline.
    #[error("the verify {tguid} did not finish within {waited:?}")]
    Timeout { tguid: String, waited: Duration },
}

/// Sends `fingers` to the server as a verify of the person enrolled under `user_id`, captured by
/// `operator_id`, and returns the server's final answer.
///
/// * `fingers`: the captured images (PNG/JPEG/WSQ bytes with their index 0–9, dimensions and
///   resolution), as the capture session produced them. Other indexes are sent too, but the
///   server compares fingers only.
/// * `deadline`: how long to wait in total, polling `GET /verify/{tguid}` while the status is
///   not final (the server usually answers final at once).
///
/// Returns the [`MatchResult`]: `status` is `SEARCH_MATCH`, `SEARCH_NOT_MATCH` or
/// `SEARCH_FAILED` (person not found, or no finger could be compared — `message` says which);
/// `candidates[0]` holds the fused `score`, `threshold` the server's decision threshold, and
/// [`MatchResult::matched_indexes`] the fingers that matched on their own.
///
/// Logs in when the client holds no token and once more when the server answers 401.
pub async fn verify(
    client: &SpidClient,
    user_id: &str,
    operator_id: &str,
    fingers: &[CapturedImage],
    deadline: Duration,
) -> Result<MatchResult, VerifyError> {
    let started = Instant::now();
    let tx = UserTransaction {
        biometrics: fingers
            .iter()
            .map(|f| Biometric {
                index: f.index,
                content: wire::validate::encode_base64(&f.bytes),
                width: f.width,
                height: f.height,
                resolution: f.resolution,
            })
            .collect(),
        missing_biometrics: vec![],
        user_id: user_id.to_owned(),
        operator_id: operator_id.to_owned(),
        timestamp: Some(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)),
        biographics: vec![],
    };
    wire::validate::validate_transaction(&tx, &wire::validate::Limits::default())?;
    let body = Envelope::new(tx);
    let url = format!("{}{}/verify", client.base_url(), wire::SPID_PREFIX);
    let mut result: MatchResult = send_authorised(client, |http, token| http.post(&url).bearer_auth(token).json(&body)).await?;
    while !result.status.is_final() {
        if started.elapsed() >= deadline {
            return Err(VerifyError::Timeout { tguid: result.id, waited: started.elapsed() });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let poll = format!("{}{}/verify/{}", client.base_url(), wire::SPID_PREFIX, result.id);
        result = send_authorised(client, |http, token| http.get(&poll).bearer_auth(token)).await?;
    }
    Ok(result)
}

/// Sends the request built by `build` with the client's token, logging in again once on 401.
async fn send_authorised(
    client: &SpidClient,
    build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
) -> Result<MatchResult, VerifyError> {
    let url = client.base_url().to_owned();
    let unreachable = |source| SyncError::Unreachable { url: url.clone(), source };
    let token = client.token().await?;
    let mut resp = build(client.http(), &token).send().await.map_err(unreachable)?;
    if resp.status() == StatusCode::UNAUTHORIZED {
        let token = client.login().await?;
        resp = build(client.http(), &token).send().await.map_err(unreachable)?;
    }
    let status = resp.status();
    if status.is_success() {
        return Ok(resp.json().await.map_err(unreachable)?);
    }
    let (code, message) = match resp.json::<ErrorResponse>().await {
        Ok(e) => (e.first_code().map(str::to_owned), e.first_message().to_owned()),
        Err(_) => (None, format!("HTTP {status}")),
    };
    Err(VerifyError::Refused { status: status.as_u16(), code, message })
}
