//! `wire`: the JSON dialects of the capture station, as Rust types.
//!
//! Only this crate knows field names, casing and envelopes of the APIs we speak. The station
//! (client) and the server both serialise through these types, so a field renamed here changes
//! both sides at once and the round-trip tests against the vendor examples catch drift.
//!
//! * [`index`] — the Griaule biometric index table (fingers 0–9, face 10, iris, palms, …), one
//!   typed enum used everywhere.
//! * [`spid`] — Griaule SPID Server 4.2.12 (`/gbs-spid-server`): enroll, transactions, people,
//!   operators, status.
//! * [`search`] — match results of verify (1:1) and of a deduplicated enrollment (1:N), with
//!   per-finger scores.
//! * [`gbds`] — the GBDS token call (`/gbds/v2/tokens`) that SPID clients log in with.
//! * [`sbi`] — MOSIP SBI 1.0 / MDS 0.9.5 (local device service on 127.0.0.1:4501–4600).
//! * [`error`] — the shared `ErrorResponse` body with our stable machine codes.
//! * [`validate`] — structural checks of an enrollment that need no image decoding, used by the
//!   station before queueing and by the server before storing.
//!
//! Decisions where the vendor documents are silent are marked `[inf]` in doc comments and
//! listed in `wire/DIALECT-NOTES.md`.

pub mod error;
pub mod gbds;
pub mod index;
pub mod sbi;
pub mod search;
pub mod spid;
pub mod validate;

pub use error::{ErrorCode, ErrorItem, ErrorResponse, ErrorType};
pub use index::BiometricIndex;

/// `{"data": ...}` — the request envelope SPID and GBDS wrap most bodies in.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Envelope<T> {
    pub data: T,
}

impl<T> Envelope<T> {
    /// Wraps `data` in the envelope.
    pub fn new(data: T) -> Self {
        Self { data }
    }
}

/// Header carrying the client's transaction key, so a resent enrollment is recognised as the
/// same one ([inf]: the SPID spec has no idempotency mechanism of its own).
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// Path prefix of the SPID server API.
pub const SPID_PREFIX: &str = "/gbs-spid-server";

/// Path prefix of the GBDS API (tokens, exceptions).
pub const GBDS_PREFIX: &str = "/gbds/v2";
