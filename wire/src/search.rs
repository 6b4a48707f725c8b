//! Biometric match results: what a verify (1:1) found, and which enrolled person a
//! deduplication search (1:N) hit when it rejected an enrollment.
//!
//! The 4.2.12 spec answers verify and result polls with a bare `ExternalResult`
//! (`{id, message, status}`) and shows match details only in the deprecated envelope's
//! `candidates[]` (`{person-guid, transaction-guid, match-info: [{score, query-index,
//! reference-index}], biometric-count}`, spid.md §12). [`MatchResult`] is that `ExternalResult`
//! with the candidates added [inf], so a client that reads only `id`/`message`/`status` keeps
//! working and one that wants the scores finds them under the documented names.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::spid::{ExternalResult, TransactionStatus};
use crate::BiometricIndex;

/// The score of one finger pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct MatchInfo {
    /// Matcher score of this pair (the fingerprint engine's scale; see `threshold`).
    pub score: f32,
    /// Position of the probe finger (the request's biometric, or the new enrollment's).
    pub query_index: BiometricIndex,
    /// Position of the enrolled finger it was compared with.
    pub reference_index: BiometricIndex,
}

/// An enrolled person the search compared against, with the per-finger scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Candidate {
    /// The person's key (userId / CPF) [inf: the deprecated model only has `person-guid`].
    pub key: String,
    pub person_guid: String,
    /// The enrollment transaction that created the person.
    pub transaction_guid: String,
    /// Fused score over every finger compared (the mean of `match-info` scores) [inf].
    pub score: f32,
    /// One entry per finger compared, best first.
    #[serde(default)]
    pub match_info: Vec<MatchInfo>,
    /// How many fingers were compared.
    pub biometric_count: u32,
}

/// `ExternalResult` plus the match details of a verify or a deduplicated enrollment [inf].
///
/// Answer of `POST /verify`, `GET /verify/{tguid}` and `GET /people/transactions/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MatchResult {
    /// Transaction GUID (TGUID), the handle to poll.
    pub id: String,
    pub message: String,
    pub status: TransactionStatus,
    /// Score at or above which a fused score counts as the same person (configured on the
    /// server for a false-match rate of 1:10,000 per comparison) [inf]. Absent when no
    /// comparison was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f32>,
    /// Verify: the claimed person (one entry). Rejected enrollment: the person(s) it matched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<Candidate>,
}

impl MatchResult {
    /// A result with no match details (transactions that compared nothing).
    pub fn plain(result: ExternalResult) -> Self {
        Self { id: result.id, message: result.message, status: result.status, threshold: None, candidates: vec![] }
    }

    /// The bare `ExternalResult` part, for clients that need only the status.
    pub fn external(&self) -> ExternalResult {
        ExternalResult { id: self.id.clone(), message: self.message.clone(), status: self.status }
    }

    /// Finger positions whose pair scored at or above the threshold, over every candidate.
    pub fn matched_indexes(&self) -> Vec<BiometricIndex> {
        let Some(threshold) = self.threshold else { return vec![] };
        let mut out: Vec<BiometricIndex> = self
            .candidates
            .iter()
            .flat_map(|c| c.match_info.iter())
            .filter(|m| m.score >= threshold)
            .map(|m| m.query_index)
            .collect();
        out.sort();
        out.dedup();
        out
    }
}
