//! Access entries: what the log records, and the fixed binary leaf that commits to it
//! (spec/access-log.md §2–§3).
//!
//! The tree never holds business data. Each leaf is 136 bytes:
//!
//! ```text
//! u8  version = 1        u8  kind              u16 flags = 0        u32 reserved = 0
//! u64 seq (= leaf index) u64 time_ms (sequencer clock, never decreasing)
//! [32] grant_digest      (SHA-256 of the exact signed grant bytes, or zeros)
//! u64 prev_same_grant    (index of the previous entry on this grant, or 2^64−1)
//! [32] subject_tag       (HMAC-SHA256(tag key, USCC) of the enterprise, or zeros)
//! u64 prev_same_subject  (index of the previous entry on this enterprise, or 2^64−1)
//! [32] record_commitment (SHA-256("consentry/access-record/v1" ‖ salt ‖ JCS(record)))
//! ```
//!
//! all integers big-endian. The record (who, what, why, the decision, the digest of the data) and its
//! 32-byte salt are stored beside the tree and handed to those entitled to see them; erasing them
//! leaves the leaf, so the tree still verifies. The two chains let anyone holding the records walk a
//! grant's or an enterprise's history backwards and notice a missing entry.

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::crypto::{Sha256Digest, jcs};

/// Length of a leaf.
pub const LEAF_LEN: usize = 136;
/// The leaf format version this crate writes and reads.
pub const LEAF_VERSION: u8 = 1;
/// "No previous entry" in a chain.
pub const NO_PREVIOUS: u64 = u64::MAX;
/// Domain separation for record commitments.
pub const COMMITMENT_PREFIX: &[u8] = b"consentry/access-record/v1";

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[repr(u8)]
pub enum EntryKind {
    /// Data was released.
    Release = 1,
    /// A request for data was refused.
    Refusal = 2,
    /// A grant was submitted and accepted.
    GrantSubmitted = 3,
    /// A grant was revoked.
    GrantRevoked = 4,
    /// A grant was suspended.
    GrantSuspended = 5,
    /// A suspended grant was resumed.
    GrantResumed = 6,
    /// An objection (异议) step.
    Objection = 7,
    /// A platform passed results on to a bank (recorded in the platform's log).
    OnwardRelease = 8,
    /// A participant was admitted, suspended, removed, or changed keys.
    Participant = 9,
    /// A credit evaluation the node issued was withdrawn (its status bit set).
    EvaluationWithdrawn = 10,
    /// The enterprise authorized or revoked the public display of its evaluation (苏信码).
    PublicDisplay = 11,
    /// A bank reported a loan outcome (decision, disbursement, repayment) through its platform
    /// (`spec/loans.md`).
    LoanReport = 12,
    /// A providing department's signed data batch was accepted (`spec/intake.md`).
    DataIntake = 13,
}

impl EntryKind {
    /// Every kind, in the order of their codes.
    pub const ALL: [EntryKind; 13] = [
        Self::Release,
        Self::Refusal,
        Self::GrantSubmitted,
        Self::GrantRevoked,
        Self::GrantSuspended,
        Self::GrantResumed,
        Self::Objection,
        Self::OnwardRelease,
        Self::Participant,
        Self::EvaluationWithdrawn,
        Self::PublicDisplay,
        Self::LoanReport,
        Self::DataIntake,
    ];

    /// The kind for its byte.
    pub fn from_u8(b: u8) -> Option<Self> {
        Some(match b {
            1 => Self::Release,
            2 => Self::Refusal,
            3 => Self::GrantSubmitted,
            4 => Self::GrantRevoked,
            5 => Self::GrantSuspended,
            6 => Self::GrantResumed,
            7 => Self::Objection,
            8 => Self::OnwardRelease,
            9 => Self::Participant,
            10 => Self::EvaluationWithdrawn,
            11 => Self::PublicDisplay,
            12 => Self::LoanReport,
            13 => Self::DataIntake,
            _ => return None,
        })
    }

    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Release => "release",
            Self::Refusal => "refusal",
            Self::GrantSubmitted => "grant-submitted",
            Self::GrantRevoked => "grant-revoked",
            Self::GrantSuspended => "grant-suspended",
            Self::GrantResumed => "grant-resumed",
            Self::Objection => "objection",
            Self::OnwardRelease => "onward-release",
            Self::Participant => "participant",
            Self::EvaluationWithdrawn => "evaluation-withdrawn",
            Self::PublicDisplay => "public-display",
            Self::LoanReport => "loan-report",
            Self::DataIntake => "data-intake",
        }
    }
}

/// A participant as a record names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartyRef {
    /// Unified Social Credit Code.
    pub uscc: String,
    /// `node`, `platform`, `bank`, `regulator`, `enterprise` or `department`.
    pub role: String,
    /// The key that authenticated, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub did: Option<String>,
}

/// A grant as a record names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantRef {
    /// The grant id.
    pub id: String,
    /// SHA-256 of the exact signed grant bytes the node holds.
    pub sha256: String,
}

/// A category released or asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryRef {
    /// Catalog code.
    pub code: String,
    /// `raw` or `derived`.
    pub granularity: String,
    /// The providing departments (where the data came from: 来源可溯).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<String>,
}

/// One reason for a refusal (or a note on an event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// Stable code.
    pub code: String,
    /// Human-readable message.
    pub message: String,
}

/// The entry an onward release derives from, in another log (去向可查 hop by hop).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpstreamRef {
    /// The other log's origin.
    pub origin: String,
    /// The entry's index there.
    pub index: u64,
    /// Its leaf hash (hex).
    pub leaf_hash: String,
}

/// The full record an entry commits to. Stored beside the tree, erasable.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessRecord {
    /// The enterprise the entry is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<String>,
    /// Who asked or acted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<PartyRef>,
    /// The platform on the path (for a bank's request, its platform).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The bank on the path, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank: Option<String>,
    /// The grant relied on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<GrantRef>,
    /// Categories and granularity.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<CategoryRef>,
    /// The stated purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// `allowed` or `refused` for requests; the action for events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// Every reason of a refusal.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Reason>,
    /// The request's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// SHA-256 of the released data (not the data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_sha256: Option<String>,
    /// The upstream entry an onward release came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<UpstreamRef>,
    /// Event-specific details (evidence digests, objection state …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

impl AccessRecord {
    /// The RFC 8785 canonical bytes of the record.
    pub fn canonical(&self) -> Vec<u8> {
        let value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        jcs::canonicalize(&value).unwrap_or_default()
    }
}

/// `SHA-256("consentry/access-record/v1" ‖ salt ‖ JCS(record))`.
pub fn record_commitment(salt: &[u8; 32], canonical_record: &[u8]) -> [u8; 32] {
    Sha256Digest::of_parts(&[COMMITMENT_PREFIX, salt, canonical_record]).0
}

/// `HMAC-SHA256(tag_key, USCC)`: an enterprise's pseudonymous tag. USCCs are few enough to enumerate,
/// so an unkeyed hash would reveal them; the tag key is shared with regulators.
pub fn subject_tag(tag_key: &[u8; 32], uscc: &str) -> [u8; 32] {
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(tag_key) else {
        return [0; 32];
    };
    mac.update(uscc.as_bytes());
    mac.finalize().into_bytes().into()
}

/// A leaf: the 136-byte committed form of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leaf {
    /// What it records.
    pub kind: EntryKind,
    /// Its index in the log.
    pub seq: u64,
    /// Sequencer time, milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// SHA-256 of the grant's signed bytes, or zeros.
    pub grant_digest: [u8; 32],
    /// Previous entry on the same grant, or [`NO_PREVIOUS`].
    pub prev_same_grant: u64,
    /// The enterprise's tag, or zeros.
    pub subject_tag: [u8; 32],
    /// Previous entry on the same enterprise, or [`NO_PREVIOUS`].
    pub prev_same_subject: u64,
    /// The record commitment.
    pub record_commitment: [u8; 32],
}

/// A leaf that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LeafError {
    /// Not 136 bytes.
    #[error("a leaf is {LEAF_LEN} bytes, got {0}")]
    Length(usize),
    /// Another format version.
    #[error("leaf version {0} is not 1")]
    Version(u8),
    /// Unknown kind byte.
    #[error("unknown entry kind {0}")]
    Kind(u8),
    /// Flags or reserved bytes are not zero.
    #[error("leaf flags and reserved bytes must be zero")]
    Reserved,
}

impl Leaf {
    /// The 136 big-endian bytes.
    pub fn to_bytes(&self) -> [u8; LEAF_LEN] {
        let mut b = [0u8; LEAF_LEN];
        b[0] = LEAF_VERSION;
        b[1] = self.kind as u8;
        b[8..16].copy_from_slice(&self.seq.to_be_bytes());
        b[16..24].copy_from_slice(&self.time_ms.to_be_bytes());
        b[24..56].copy_from_slice(&self.grant_digest);
        b[56..64].copy_from_slice(&self.prev_same_grant.to_be_bytes());
        b[64..96].copy_from_slice(&self.subject_tag);
        b[96..104].copy_from_slice(&self.prev_same_subject.to_be_bytes());
        b[104..136].copy_from_slice(&self.record_commitment);
        b
    }

    /// Reads a leaf, refusing any other length, version, kind or non-zero reserved bytes.
    pub fn from_bytes(b: &[u8]) -> Result<Self, LeafError> {
        let b: &[u8; LEAF_LEN] = b.try_into().map_err(|_| LeafError::Length(b.len()))?;
        if b[0] != LEAF_VERSION {
            return Err(LeafError::Version(b[0]));
        }
        let kind = EntryKind::from_u8(b[1]).ok_or(LeafError::Kind(b[1]))?;
        if b[2..8].iter().any(|&x| x != 0) {
            return Err(LeafError::Reserved);
        }
        let u64_at = |i: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[i..i + 8]);
            u64::from_be_bytes(a)
        };
        let arr_at = |i: usize| {
            let mut a = [0u8; 32];
            a.copy_from_slice(&b[i..i + 32]);
            a
        };
        Ok(Self {
            kind,
            seq: u64_at(8),
            time_ms: u64_at(16),
            grant_digest: arr_at(24),
            prev_same_grant: u64_at(56),
            subject_tag: arr_at(64),
            prev_same_subject: u64_at(96),
            record_commitment: arr_at(104),
        })
    }

    /// Whether `record` with `salt` is the record this leaf commits to.
    pub fn opens(&self, salt: &[u8; 32], record: &AccessRecord) -> bool {
        record_commitment(salt, &record.canonical()) == self.record_commitment
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_kinds_are_every_code_once() {
        let decoded: Vec<EntryKind> = (0..=255u8).filter_map(EntryKind::from_u8).collect();
        assert_eq!(decoded, EntryKind::ALL);
        for k in EntryKind::ALL {
            assert_eq!(EntryKind::from_u8(k as u8), Some(k));
        }
    }

    #[test]
    fn leaf_round_trip_and_refusals() {
        let leaf = Leaf {
            kind: EntryKind::Release,
            seq: 42,
            time_ms: 1_800_000_000_000,
            grant_digest: [1; 32],
            prev_same_grant: 7,
            subject_tag: [2; 32],
            prev_same_subject: NO_PREVIOUS,
            record_commitment: [3; 32],
        };
        let b = leaf.to_bytes();
        assert_eq!(Leaf::from_bytes(&b), Ok(leaf));
        assert_eq!(Leaf::from_bytes(&b[..135]), Err(LeafError::Length(135)));
        let mut bad = b;
        bad[0] = 2;
        assert_eq!(Leaf::from_bytes(&bad), Err(LeafError::Version(2)));
        let mut bad = b;
        bad[1] = 99;
        assert_eq!(Leaf::from_bytes(&bad), Err(LeafError::Kind(99)));
        let mut bad = b;
        bad[5] = 1;
        assert_eq!(Leaf::from_bytes(&bad), Err(LeafError::Reserved));
    }

    #[test]
    fn commitment_binds_salt_and_record() {
        let record = AccessRecord {
            enterprise: Some("91330100716105852F".into()),
            ..Default::default()
        };
        let salt = [9u8; 32];
        let leaf = Leaf {
            kind: EntryKind::Refusal,
            seq: 0,
            time_ms: 0,
            grant_digest: [0; 32],
            prev_same_grant: NO_PREVIOUS,
            subject_tag: [0; 32],
            prev_same_subject: NO_PREVIOUS,
            record_commitment: record_commitment(&salt, &record.canonical()),
        };
        assert!(leaf.opens(&salt, &record));
        assert!(!leaf.opens(&[8u8; 32], &record));
        let other = AccessRecord {
            enterprise: Some("91440300708461136T".into()),
            ..Default::default()
        };
        assert!(!leaf.opens(&salt, &other));
    }

    #[test]
    fn subject_tags_are_keyed() {
        let a = subject_tag(&[1; 32], "91330100716105852F");
        assert_ne!(a, subject_tag(&[2; 32], "91330100716105852F"));
        assert_ne!(a, subject_tag(&[1; 32], "91440300708461136T"));
        assert_eq!(a, subject_tag(&[1; 32], "91330100716105852F"));
    }
}
