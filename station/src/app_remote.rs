//! The app's remote-capture administration: what an admin needs to review captures made on
//! subjects' phones (list with quality and liveness, the captured images, approve or reject with a
//! reason) and to hand out new capture links, as calls to the SPID server's remote-capture API.
//!
//! The server decides who may do what; this module only turns its answers into typed errors so
//! the window can say plainly why something was refused (an operator's token gets
//! [`RemoteAdminError::Forbidden`]).

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use wire::spid::{
    Biometric, OperatorEnrollPayload, OperatorRole, RemoteCaptureDecision, RemoteCaptureResponse, RemoteCaptureSummary,
    TransactionIdentifier,
};
use wire::{BiometricIndex, Envelope, ErrorResponse};

use crate::sync::{SpidClient, SyncError};

/// Why a remote-capture administration call did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum RemoteAdminError {
    /// The server refused the caller's role (HTTP 403): only admins review remote captures.
    #[error("only an admin may do this; the server refused {user} (HTTP 403: {message})")]
    Forbidden { user: String, message: String },
    /// Unknown capture or person (HTTP 404).
    #[error("not found: {0}")]
    NotFound(String),
    /// The capture is not in a state that allows this (HTTP 409: nothing captured yet, already decided).
    #[error("{0}")]
    Conflict(String),
    /// The link outlived its lifetime (HTTP 410).
    #[error("expired: {0}")]
    Expired(String),
    /// The request was refused as invalid, or the input was rejected before sending.
    #[error("{0}")]
    Invalid(String),
    /// Any other answer from the server.
    #[error("the server answered HTTP {status}: {message}")]
    Server { status: u16, message: String },
    /// Login failed or the server could not be reached.
    #[error(transparent)]
    Session(#[from] SyncError),
    /// The server could not be reached or its answer could not be read.
    #[error("{0}")]
    Transport(String),
}

/// Longest rejection reason the server keeps.
pub const MAX_REASON_CHARS: usize = 500;

/// Remote-capture administration as the signed-in user of `client`.
pub struct RemoteAdmin<'a> {
    client: &'a SpidClient,
    user: &'a str,
}

impl<'a> RemoteAdmin<'a> {
    /// Calls made with `client`'s credentials; `user` is the signed-in document (for messages and
    /// the role lookup).
    pub fn new(client: &'a SpidClient, user: &'a str) -> Self {
        Self { client, user }
    }

    /// The signed-in user's role as the server records it (an operator may read their own record).
    pub async fn role(&self) -> Result<OperatorRole, RemoteAdminError> {
        let op: OperatorEnrollPayload = self.call(Method::GET, &format!("/operator/{}", path_segment(self.user)?), None::<&()>).await?;
        Ok(op.role.unwrap_or(OperatorRole::Operator))
    }

    /// Remote captures awaiting capture or approval (all of them, decided ones too, with `all`).
    pub async fn pending(&self, all: bool) -> Result<Vec<RemoteCaptureSummary>, RemoteAdminError> {
        self.call(Method::GET, &format!("/remote-capture/pending{}", if all { "?all=true" } else { "" }), None::<&()>).await
    }

    /// One captured image of a remote capture (the face when `index` is `None`).
    pub async fn biometric(&self, tguid: &str, index: Option<BiometricIndex>) -> Result<Biometric, RemoteAdminError> {
        let query = index.map(|i| format!("?index={}", i.code())).unwrap_or_default();
        self.call(Method::GET, &format!("/remote-capture/biometrics/{}{query}", path_segment(tguid)?), None::<&()>).await
    }

    /// Approves (the capture becomes an enrollment) or rejects it. A rejection needs a reason, which
    /// the server keeps so the subject can be told why; an approval may carry one.
    pub async fn decide(&self, tguid: &str, approve: bool, reason: &str) -> Result<(), RemoteAdminError> {
        let reason = reason.trim();
        if !approve && reason.is_empty() {
            return Err(RemoteAdminError::Invalid("say why the capture is rejected".into()));
        }
        if reason.chars().count() > MAX_REASON_CHARS {
            return Err(RemoteAdminError::Invalid(format!("a reason has at most {MAX_REASON_CHARS} characters")));
        }
        let body = RemoteCaptureDecision { approval: approve, reason: (!reason.is_empty()).then(|| reason.to_owned()) };
        self.send(Method::POST, &format!("/remote-capture/finish/{}", path_segment(tguid)?), Some(&body)).await?;
        Ok(())
    }

    /// Creates a remote enrollment link for `client_id` (a CPF, already validated by the caller).
    pub async fn create_enroll_link(&self, client_id: &str, email: Option<&str>) -> Result<RemoteCaptureResponse, RemoteAdminError> {
        let body = Envelope::new(TransactionIdentifier {
            client_id: client_id.to_owned(),
            operator_id: self.user.to_owned(),
            client_email: email.map(str::trim).filter(|e| !e.is_empty()).map(str::to_owned),
        });
        self.call(Method::POST, "/remote-capture/enroll", Some(&body)).await
    }

    async fn call<T: DeserializeOwned>(&self, method: Method, path: &str, body: Option<&impl serde::Serialize>) -> Result<T, RemoteAdminError> {
        let resp = self.send(method, path, body).await?;
        resp.json().await.map_err(|e| RemoteAdminError::Transport(format!("unreadable answer from {path}: {e}")))
    }

    /// Sends with the cached token, logging in again once when the server says it expired.
    async fn send(&self, method: Method, path: &str, body: Option<&impl serde::Serialize>) -> Result<reqwest::Response, RemoteAdminError> {
        let url = format!("{}{}{path}", self.client.base_url(), wire::SPID_PREFIX);
        for attempt in 0..2 {
            let token = if attempt == 0 { self.client.token().await? } else { self.client.login().await? };
            let mut req = self.client.http().request(method.clone(), &url).bearer_auth(token);
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = req.send().await.map_err(|e| RemoteAdminError::Transport(format!("cannot reach {url}: {e}")))?;
            let status = resp.status();
            if status.is_success() {
                return Ok(resp);
            }
            if status == StatusCode::UNAUTHORIZED && attempt == 0 {
                continue;
            }
            let message = match resp.json::<ErrorResponse>().await {
                Ok(e) => e.first_message().to_owned(),
                Err(_) => format!("HTTP {status}"),
            };
            return Err(match status {
                StatusCode::FORBIDDEN => RemoteAdminError::Forbidden { user: self.user.to_owned(), message },
                StatusCode::NOT_FOUND => RemoteAdminError::NotFound(message),
                StatusCode::CONFLICT => RemoteAdminError::Conflict(message),
                StatusCode::GONE => RemoteAdminError::Expired(message),
                StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => RemoteAdminError::Invalid(message),
                s => RemoteAdminError::Server { status: s.as_u16(), message },
            });
        }
        Err(RemoteAdminError::Server { status: 401, message: "the server refused the fresh token".into() })
    }
}

/// A transaction id or document used as one URL path segment: refuses anything that would change
/// the path (slashes, dots, query characters) instead of escaping it.
fn path_segment(s: &str) -> Result<&str, RemoteAdminError> {
    if !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        Ok(s)
    } else {
        Err(RemoteAdminError::Invalid(format!("{s:?} is not a valid identifier")))
    }
}

/// What the window needs to know about one capture's stored image: decoded size and format.
pub fn image_mime(content: &[u8]) -> &'static str {
    if content.starts_with(&[0x89, b'P', b'N', b'G']) {
        "image/png"
    } else if content.starts_with(&[0xff, 0xd8]) {
        "image/jpeg"
    } else {
        "application/octet-stream"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use crate::sync::Credentials;

    #[test]
    fn identifiers_cannot_escape_the_path() {
        assert!(path_segment("5b0c-1f_x").is_ok());
        for bad in ["", "../operator", "a/b", "a?all=true", "a b", "a.b"] {
            assert!(path_segment(bad).is_err(), "{bad:?}");
        }
        assert_eq!(image_mime(&[0x89, b'P', b'N', b'G', 0]), "image/png");
        assert_eq!(image_mime(&[0xff, 0xd8, 0xff]), "image/jpeg");
    }

    async fn server() -> (server::RunningServer, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let mut config = server::ServerConfig::new(dir.path().join("s.sqlite"));
        config.bootstrap_admin = Some(server::BootstrapAdmin { document: "admin".into(), password: "admin-pass".into() });
        let running = server::spawn(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        (running, dir)
    }

    fn client(base: &str, user: &str, password: &str) -> SpidClient {
        SpidClient::new(base, Credentials { user: user.into(), password: password.into() }, Duration::from_secs(10)).unwrap()
    }

    /// Against a real server on loopback: an admin lists, creates links and gets a clear conflict for
    /// a capture with nothing captured yet; an operator is refused with 403 on every admin call.
    #[tokio::test]
    async fn admins_administer_and_operators_get_403() {
        let (running, _dir) = server().await;
        let base = running.base_url();
        let admin_client = client(&base, "admin", "admin-pass");
        let admin = RemoteAdmin::new(&admin_client, "admin");
        assert_eq!(admin.role().await.unwrap(), OperatorRole::Admin);
        let link = admin.create_enroll_link("52998224725", None).await.unwrap();
        assert!(link.dynamic_link.contains("/rc/"), "{link:?}");
        let pending = admin.pending(false).await.unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].client_id, "52998224725");
        assert!(matches!(admin.decide(&link.tguid, true, "").await, Err(RemoteAdminError::Conflict(m)) if m.contains("nothing captured")));
        assert!(matches!(admin.decide(&link.tguid, false, "  ").await, Err(RemoteAdminError::Invalid(_))));
        assert!(matches!(admin.biometric(&link.tguid, None).await, Err(RemoteAdminError::Conflict(_))));
        assert!(matches!(admin.decide("no-such-capture", true, "").await, Err(RemoteAdminError::NotFound(_))));

        // An operator account, made through the API as the admin.
        let token = admin_client.token().await.unwrap();
        let resp = admin_client
            .http()
            .post(format!("{base}/gbs-spid-server/operator"))
            .bearer_auth(token)
            .json(&serde_json::json!({"data": {"document": "op1", "password": "operator-pass", "role": "OPERATOR"}}))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
        let op_client = client(&base, "op1", "operator-pass");
        let op = RemoteAdmin::new(&op_client, "op1");
        assert_eq!(op.role().await.unwrap(), OperatorRole::Operator);
        let refused = op.pending(false).await.unwrap_err();
        assert!(matches!(&refused, RemoteAdminError::Forbidden { user, .. } if user == "op1"), "{refused:?}");
        assert!(refused.to_string().contains("403"), "{refused}");
        assert!(matches!(op.decide(&link.tguid, true, "").await, Err(RemoteAdminError::Forbidden { .. })));
        running.shutdown().await;
    }
}
