//! The app's Verify screen (1:1): the operator types the key of an enrolled person, the person
//! at the desk puts one or more fingers on the scanner, and the server says whether they are that
//! person ([`crate::verify`] sends the request). This module captures the probe fingers and turns
//! the server's [`MatchResult`] into the plain answer the screen shows.

use std::time::Duration;

use drivers::simulated::ScanTiming;
use drivers::ScanEvent;
use wire::search::MatchResult;
use wire::spid::TransactionStatus;
use wire::BiometricIndex;

use crate::app_support::{normalize_cpf, SimulatedFingers};
use crate::capture::CaptureError;
use crate::queue::CapturedImage;

/// Most fingers one verify sends (more only slows the server down: two are already decisive).
pub const MAX_VERIFY_FINGERS: usize = 4;

/// What the screen shows for a verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyVerdict {
    /// The fingers belong to the person enrolled under the key.
    Match,
    /// They do not.
    NoMatch,
    /// Nothing could be compared (unknown person, no usable finger): the message says why.
    Failed,
}

impl VerifyVerdict {
    /// Stable spelling for the window.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Match => "MATCH",
            Self::NoMatch => "NO_MATCH",
            Self::Failed => "FAILED",
        }
    }
}

/// One probe finger's best score against the enrolled fingers.
#[derive(Debug, Clone, PartialEq)]
pub struct FingerScore {
    pub index: BiometricIndex,
    pub score: f32,
    /// At or above the server's threshold on its own.
    pub matched: bool,
}

/// The server's answer, summarised for the screen.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifySummary {
    pub verdict: VerifyVerdict,
    /// The fused score over the fingers compared, when a comparison was made.
    pub score: Option<f32>,
    pub threshold: Option<f32>,
    /// The server's message (why, for a failed verify).
    pub message: String,
    /// The server's transaction id, for the record.
    pub tguid: String,
    pub fingers: Vec<FingerScore>,
}

impl VerifySummary {
    /// Reads a final verify answer.
    pub fn of(r: &MatchResult) -> Self {
        let verdict = match r.status {
            TransactionStatus::SearchMatch => VerifyVerdict::Match,
            TransactionStatus::SearchNotMatch => VerifyVerdict::NoMatch,
            _ => VerifyVerdict::Failed,
        };
        let candidate = r.candidates.first();
        let threshold = r.threshold;
        let mut fingers: Vec<FingerScore> = Vec::new();
        for m in candidate.iter().flat_map(|c| c.match_info.iter()) {
            match fingers.iter_mut().find(|f| f.index == m.query_index) {
                Some(f) if f.score >= m.score => {}
                Some(f) => f.score = m.score,
                None => fingers.push(FingerScore { index: m.query_index, score: m.score, matched: false }),
            }
        }
        for f in &mut fingers {
            f.matched = threshold.is_some_and(|t| f.score >= t);
        }
        fingers.sort_by_key(|f| f.index);
        Self { verdict, score: candidate.map(|c| c.score), threshold, message: r.message.clone(), tguid: r.id.clone(), fingers }
    }
}

/// Checks the verify form: the key is a valid CPF and 1..=[`MAX_VERIFY_FINGERS`] distinct fingers
/// are chosen. Returns the CPF digits.
pub fn validate_request(user_id: &str, positions: &[BiometricIndex]) -> Result<String, String> {
    let cpf = normalize_cpf(user_id)?;
    if positions.is_empty() {
        return Err("choose at least one finger to capture".into());
    }
    if positions.len() > MAX_VERIFY_FINGERS {
        return Err(format!("choose at most {MAX_VERIFY_FINGERS} fingers"));
    }
    if let Some(bad) = positions.iter().find(|p| !p.is_finger()) {
        return Err(format!("{} is not a finger", bad.label()));
    }
    let mut sorted = positions.to_vec();
    sorted.sort();
    sorted.dedup();
    if sorted.len() != positions.len() {
        return Err("a finger is chosen twice".into());
    }
    Ok(cpf)
}

/// Captures `positions` with the simulated scanner presenting the fingers of the simulated person
/// `presenter` (the enrolled person's key for a genuine attempt, anyone else's for an impostor),
/// reporting scanner events per finger.
pub fn capture_probe(
    presenter: &str,
    positions: &[BiometricIndex],
    timing: ScanTiming,
    mut on_event: impl FnMut(BiometricIndex, &ScanEvent),
) -> Result<Vec<CapturedImage>, CaptureError> {
    let mut fingers = SimulatedFingers::new(presenter.trim(), timing);
    positions.iter().map(|&p| fingers.capture(p, Duration::from_secs(15), |e| on_event(p, e))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::search::{Candidate, MatchInfo};

    #[test]
    fn forms_are_checked() {
        let right_thumb = BiometricIndex::FINGERS[5];
        assert_eq!(validate_request("529.982.247-25", &[right_thumb]).unwrap(), "52998224725");
        assert!(validate_request("123", &[right_thumb]).is_err());
        assert!(validate_request("52998224725", &[]).unwrap_err().contains("at least one"));
        assert!(validate_request("52998224725", &[right_thumb, right_thumb]).unwrap_err().contains("twice"));
        assert!(validate_request("52998224725", &[BiometricIndex::Face]).unwrap_err().contains("not a finger"));
        assert!(validate_request("52998224725", &BiometricIndex::FINGERS[..5]).is_err());
    }

    #[test]
    fn answers_are_summarised() {
        let [a, b] = [BiometricIndex::FINGERS[5], BiometricIndex::FINGERS[6]];
        let info = |q, s| MatchInfo { score: s, query_index: q, reference_index: q };
        let r = MatchResult {
            id: "t1".into(),
            message: "match".into(),
            status: TransactionStatus::SearchMatch,
            threshold: Some(40.0),
            candidates: vec![Candidate {
                key: "52998224725".into(),
                person_guid: "p".into(),
                transaction_guid: "e".into(),
                score: 55.0,
                match_info: vec![info(b, 30.0), info(a, 80.0), info(a, 20.0)],
                biometric_count: 2,
            }],
        };
        let s = VerifySummary::of(&r);
        assert_eq!(s.verdict, VerifyVerdict::Match);
        assert_eq!(s.score, Some(55.0));
        assert_eq!(s.fingers, vec![FingerScore { index: a, score: 80.0, matched: true }, FingerScore { index: b, score: 30.0, matched: false }]);
        let failed = MatchResult::plain(wire::spid::ExternalResult {
            id: "t2".into(),
            message: "person 1 not found".into(),
            status: TransactionStatus::SearchFailed,
        });
        let s = VerifySummary::of(&failed);
        assert_eq!((s.verdict, s.score, s.fingers.len()), (VerifyVerdict::Failed, None, 0));
    }

    #[test]
    fn probes_come_from_the_presenter() {
        let thumb = BiometricIndex::FINGERS[5];
        let a = capture_probe("52998224725", &[thumb], ScanTiming::INSTANT, |_, _| {}).unwrap();
        let b = capture_probe("11144477735", &[thumb], ScanTiming::INSTANT, |_, _| {}).unwrap();
        assert_eq!(a[0].index, thumb);
        assert_ne!(a[0].bytes, b[0].bytes);
    }
}
