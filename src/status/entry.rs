//! `BitstringStatusListEntry` (Bitstring Status List v1.0 §2.1): where a credential's status bit is.

use serde::{Deserialize, Serialize};

/// What a status bit means (§2.1 `statusPurpose`). Only the two a grant uses are modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusPurpose {
    /// Set bit = revoked; irreversible.
    Revocation,
    /// Set bit = suspended; reversible.
    Suspension,
}

impl StatusPurpose {
    /// The spec's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revocation => "revocation",
            Self::Suspension => "suspension",
        }
    }
}

/// A `credentialStatus` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusEntry {
    /// Optional id; must not be the list's URL (§2.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Always `BitstringStatusListEntry`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `revocation` or `suspension`.
    pub status_purpose: StatusPurpose,
    /// The index, as a base-10 string (§2.1: an arbitrary-size integer ≥ 0 expressed as a string).
    pub status_list_index: String,
    /// URL of the `BitstringStatusListCredential`.
    pub status_list_credential: String,
}

/// Why a status entry is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// `type` is not `BitstringStatusListEntry`.
    #[error("status entry type {0:?} is not BitstringStatusListEntry")]
    Type(String),
    /// `statusListIndex` is not a canonical base-10 string that fits 64 bits.
    #[error("statusListIndex {0:?} is not a base-10 integer string without leading zeros")]
    Index(String),
    /// `statusListCredential` is not an http(s) URL.
    #[error("statusListCredential {0:?} is not an http(s) URL")]
    Url(String),
    /// `id` equals the list URL, which §2.1 forbids.
    #[error("status entry id must not be the status list URL")]
    IdIsListUrl,
}

impl StatusEntry {
    /// A revocation or suspension entry at `index` of the list at `url`.
    pub fn new(purpose: StatusPurpose, url: &str, index: u64) -> Self {
        Self {
            id: Some(format!("{url}#{index}")),
            kind: "BitstringStatusListEntry".into(),
            status_purpose: purpose,
            status_list_index: index.to_string(),
            status_list_credential: url.to_owned(),
        }
    }

    /// Checks the entry's form and returns its index.
    pub fn index(&self) -> Result<u64, EntryError> {
        if self.kind != "BitstringStatusListEntry" {
            return Err(EntryError::Type(self.kind.clone()));
        }
        let s = &self.status_list_index;
        let canonical =
            !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
        let index = s
            .parse::<u64>()
            .ok()
            .filter(|_| canonical)
            .ok_or_else(|| EntryError::Index(s.clone()))?;
        let url = &self.status_list_credential;
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.contains(char::is_whitespace) {
            return Err(EntryError::Url(url.clone()));
        }
        if self.id.as_deref() == Some(url.as_str()) {
            return Err(EntryError::IdIsListUrl);
        }
        Ok(index)
    }
}
