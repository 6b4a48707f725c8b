//! GBDS token call (`POST /gbds/v2/tokens`): how SPID clients obtain their bearer token
//! ([inf]: SPID 4.2.12 documents no login of its own; see spid.md §2).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How a token is requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GrantType {
    /// Log in with user name and password.
    Credentials,
    /// Renew a still-valid token.
    Token,
}

/// Token request body (inside `data`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenRequest {
    pub grant_type: GrantType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl TokenRequest {
    /// A user/password login.
    pub fn credentials(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self { grant_type: GrantType::Credentials, user_name: Some(user.into()), user_password: Some(password.into()), token: None }
    }
}

/// Token answer (inside `data`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    pub token: String,
    /// Expiry, epoch milliseconds.
    pub expiration_time: i64,
    /// Seconds the token lives from issue.
    pub ttl: i64,
}
