//! The VC Data Model 2.0 rules every credential must meet, whatever secures it (W3C VCDM 2.0 §4).

use time::OffsetDateTime;

use super::datetime::{DateTimeError, parse_datetime_stamp};
use super::jwt::issuer_of;
use crate::crypto::json::Node;

/// The base context every VC 2.0 credential starts with (§4.3).
pub const CREDENTIALS_V2: &str = "https://www.w3.org/ns/credentials/v2";

/// A credential that breaks a VC Data Model 2.0 rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VcError {
    /// §4.3: `@context` missing, or its first item is not the VC 2.0 context.
    #[error("@context must be an ordered list starting with {CREDENTIALS_V2} (VCDM 2.0 §4.3)")]
    Context,
    /// §4.5: `type` does not include `VerifiableCredential`.
    #[error("type must include VerifiableCredential (VCDM 2.0 §4.5)")]
    Type,
    /// §4.7: no usable `issuer`.
    #[error("issuer must be a URL or an object with an id (VCDM 2.0 §4.7)")]
    Issuer,
    /// §4.8: no `credentialSubject`.
    #[error("credentialSubject is required (VCDM 2.0 §4.8)")]
    Subject,
    /// §4.9: `validFrom` or `validUntil` is not a dateTimeStamp.
    #[error("{field}: {source}")]
    Date {
        /// `validFrom` or `validUntil`.
        field: &'static str,
        /// The parse failure.
        source: DateTimeError,
    },
    /// §4.9: `validFrom` is after `validUntil`.
    #[error("validFrom is after validUntil (VCDM 2.0 §4.9)")]
    Window,
}

/// What every credential states about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialInfo {
    /// The credential's `id`, if any.
    pub id: Option<String>,
    /// The issuer's id.
    pub issuer: String,
    /// The `type` values.
    pub types: Vec<String>,
    /// `validFrom`, if present.
    pub valid_from: Option<OffsetDateTime>,
    /// `validUntil`, if present.
    pub valid_until: Option<OffsetDateTime>,
}

/// Checks the VCDM 2.0 structural rules of a parsed credential and extracts the common fields.
pub fn check_credential(doc: &Node<'_>) -> Result<CredentialInfo, VcError> {
    let first_context = match doc.get("@context") {
        Some(Node::Array(items)) => items.first(),
        _ => None,
    };
    if first_context.and_then(Node::as_str) != Some(CREDENTIALS_V2) {
        return Err(VcError::Context);
    }
    let types = string_list(doc.get("type"));
    if !types.iter().any(|t| t == "VerifiableCredential") {
        return Err(VcError::Type);
    }
    let issuer = issuer_of(doc)
        .filter(|i| i.contains(':'))
        .ok_or(VcError::Issuer)?
        .to_owned();
    match doc.get("credentialSubject") {
        Some(Node::Object(_)) => {}
        Some(Node::Array(items)) if !items.is_empty() && items.iter().all(|i| i.as_object().is_some()) => {}
        _ => return Err(VcError::Subject),
    }
    let date = |field: &'static str| -> Result<Option<OffsetDateTime>, VcError> {
        match doc.get(field) {
            None => Ok(None),
            Some(v) => {
                let text = v.as_str().unwrap_or_default();
                parse_datetime_stamp(text)
                    .map(Some)
                    .map_err(|source| VcError::Date { field, source })
            }
        }
    };
    let valid_from = date("validFrom")?;
    let valid_until = date("validUntil")?;
    if let (Some(from), Some(until)) = (valid_from, valid_until) {
        if from > until {
            return Err(VcError::Window);
        }
    }
    let id = doc.get("id").and_then(Node::as_str).map(str::to_owned);
    Ok(CredentialInfo {
        id,
        issuer,
        types,
        valid_from,
        valid_until,
    })
}

/// A JSON-LD "set of strings": one string or an array of strings.
pub fn string_list(v: Option<&Node<'_>>) -> Vec<String> {
    match v {
        Some(Node::String(s)) => vec![s.to_string()],
        Some(Node::Array(items)) => items.iter().filter_map(Node::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}
