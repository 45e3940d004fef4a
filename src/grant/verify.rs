//! Grant verification: the only way to obtain a [`VerifiedGrant`].
//!
//! Steps (spec/grant.md §5), each with its own error:
//! 1. verify the proof in its envelope ([`crate::credential::verify`]): eddsa-jcs-2022 or VC-JWT;
//! 2. check the VC Data Model 2.0 rules ([`crate::credential::vc::check_credential`]);
//! 3. the signer is the issuer's own `did:key`;
//! 4. check every grant rule ([`super::rules::check_document`]);
//! 5. check the validity window at `now`.
//!
//! Revocation and suspension are *not* part of a `VerifiedGrant`: status changes at any moment, so
//! the policy checks it on every request ([`crate::status`]).

use std::sync::Arc;

use time::OffsetDateTime;

use super::model::GrantTerms;
use super::rules::{CheckedGrant, Violation, check_document};
use crate::catalog::Catalog;
use crate::credential::datetime::format_utc_seconds;
use crate::credential::times::ProofTimes;
use crate::credential::vc::{VcError, check_credential};
use crate::credential::{self, Envelope, ProofError, Verified};
use crate::crypto::Sha256Digest;
use crate::crypto::json::Node;
use crate::identity::{DidKey, KeyResolver};
use crate::ids::{GrantId, Uscc};
use crate::status::StatusEntry;

/// Why a grant was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrantError {
    /// Step 1: the proof did not verify.
    #[error("proof: {0}")]
    Proof(#[from] ProofError),
    /// Step 2: not a VC Data Model 2.0 credential.
    #[error("credential: {0}")]
    Credential(#[from] VcError),
    /// Steps 3–5: one or more rules broken; all of them are listed.
    #[error("{} rule(s) broken: {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Rules(Vec<Violation>),
}

impl GrantError {
    /// Every reason, one per line, as `code: message`.
    pub fn reasons(&self) -> Vec<(String, String)> {
        match self {
            Self::Proof(e) => vec![(e.code().to_owned(), e.to_string())],
            Self::Credential(e) => vec![("vc-data-model".to_owned(), e.to_string())],
            Self::Rules(v) => v.iter().map(|v| (v.code().to_owned(), v.to_string())).collect(),
        }
    }
}

/// A grant whose proof and every rule held when it was verified. Only [`verify`] makes one.
///
/// Holding one says nothing about revocation or suspension, and its validity window and its proof's
/// time limits must be re-checked ([`VerifiedGrant::check_time`]) when it is used later than it was
/// verified.
#[derive(Debug, Clone)]
pub struct VerifiedGrant {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    checked: CheckedGrant,
    signer: DidKey,
    signed_at: Option<OffsetDateTime>,
    times: ProofTimes,
    envelope: Envelope,
    digest: Sha256Digest,
}

impl VerifiedGrant {
    /// The grant id.
    pub fn id(&self) -> &GrantId {
        &self.inner.checked.id
    }
    /// SHA-256 of the exact bytes that were verified (surrounding whitespace trimmed). Re-serializing a
    /// grant changes this digest while the proof still verifies, so the node keeps the bytes it was
    /// given: (id, digest) then names one stored signed grant.
    pub fn digest(&self) -> Sha256Digest {
        self.inner.digest
    }
    /// The enterprise's key, which signed.
    pub fn signer(&self) -> &DidKey {
        &self.inner.signer
    }
    /// When it was signed (proof `created` or JWT `iat`).
    pub fn signed_at(&self) -> Option<OffsetDateTime> {
        self.inner.signed_at
    }
    /// The envelope it came in.
    pub fn envelope(&self) -> Envelope {
        self.inner.envelope
    }
    /// The authorizing enterprise.
    pub fn enterprise(&self) -> &Uscc {
        &self.inner.checked.enterprise
    }
    /// The terms.
    pub fn terms(&self) -> &GrantTerms {
        &self.inner.checked.terms
    }
    /// `validFrom`.
    pub fn valid_from(&self) -> OffsetDateTime {
        self.inner.checked.valid_from
    }
    /// `validUntil`.
    pub fn valid_until(&self) -> OffsetDateTime {
        self.inner.checked.valid_until
    }
    /// The revocation status entry.
    pub fn revocation_entry(&self) -> &StatusEntry {
        &self.inner.checked.revocation
    }
    /// The suspension status entry.
    pub fn suspension_entry(&self) -> &StatusEntry {
        &self.inner.checked.suspension
    }

    /// Everything about the grant that depends on the time, re-checked at `now` for a grant verified
    /// earlier (a cached one): step 5, `validFrom ≤ now ≤ validUntil` (VCDM 2.0 §4.9), and step 1's
    /// time limits of the proof itself — a VC-JWT's `exp`, `nbf`, `iat`, a Data Integrity proof's
    /// `created` and `expires` ([`ProofTimes`]) — with the very errors a fresh verification at `now`
    /// would give. A proof that lapses before `validUntil` lapses here too.
    pub fn check_time(&self, now: OffsetDateTime) -> Result<(), GrantError> {
        self.inner.times.check(now)?;
        window(self.valid_from(), self.valid_until(), now).map_err(|v| GrantError::Rules(vec![v]))
    }
}

fn window(from: OffsetDateTime, until: OffsetDateTime, now: OffsetDateTime) -> Result<(), Violation> {
    if now < from {
        Err(Violation::NotYetValid(format_utc_seconds(from)))
    } else if now > until {
        Err(Violation::Expired(format_utc_seconds(until)))
    } else {
        Ok(())
    }
}

/// Verifies a secured grant (either envelope) at instant `now` against `catalog`.
pub fn verify(bytes: &[u8], catalog: &Catalog, now: OffsetDateTime) -> Result<VerifiedGrant, GrantError> {
    verify_using(bytes, catalog, &KeyResolver::new(0), now)
}

/// [`verify`], resolving (and caching) keys through `keys`.
pub fn verify_using(
    bytes: &[u8],
    catalog: &Catalog,
    keys: &KeyResolver,
    now: OffsetDateTime,
) -> Result<VerifiedGrant, GrantError> {
    // Step 1, then steps 2–5 on the verified tree.
    credential::verify_with(bytes, now, keys, |vc| check_verified(&vc, catalog, now))?
}

fn check_verified(
    vc: &Verified<'_>,
    catalog: &Catalog,
    now: OffsetDateTime,
) -> Result<VerifiedGrant, GrantError> {
    // Step 2.
    let info = check_credential(&vc.document)?;
    let mut violations = Vec::new();
    // Step 3.
    if !vc.issuer_bound {
        violations.push(Violation::Issuer(format!(
            "issuer {} did not sign; {} did",
            info.issuer, vc.signer
        )));
    }
    // Step 4.
    let checked = match check_document(&vc.document, &info, catalog) {
        Ok(c) => Some(c),
        Err(v) => {
            violations.extend(v);
            None
        }
    };
    // Step 5.
    if let (Some(from), Some(until)) = (info.valid_from, info.valid_until) {
        if let Err(v) = window(from, until, now) {
            violations.push(v);
        }
    }
    match checked {
        Some(checked) if violations.is_empty() => Ok(VerifiedGrant {
            inner: Arc::new(Inner {
                checked,
                signer: vc.signer.clone(),
                signed_at: vc.signed_at,
                times: vc.times.clone(),
                envelope: vc.envelope,
                digest: vc.digest,
            }),
        }),
        _ => Err(GrantError::Rules(violations)),
    }
}

/// Checks an *unsigned* grant against the VCDM and grant rules (not the validity window), as
/// `consentry grant new` does before printing it. Returns every violation.
pub fn check_unsigned(doc: &serde_json::Value, catalog: &Catalog) -> Result<(), GrantError> {
    let node = Node::from_value(doc).map_err(|e| GrantError::Proof(ProofError::Json(e)))?;
    if node.as_object().is_none() {
        return Err(GrantError::Proof(ProofError::UnknownEnvelope));
    }
    let info = check_credential(&node)?;
    check_document(&node, &info, catalog)
        .map(|_| ())
        .map_err(GrantError::Rules)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::KeyFile;
    use time::macros::datetime;

    fn spec(path: &str) -> String {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("spec/examples")
            .join(path);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    /// A VC-JWT whose `exp` comes before `validUntil`: verified while the token is live, the grant
    /// (as a cache holds it) must lapse with the token — [`VerifiedGrant::check_time`] gives the very
    /// error a fresh verification gives, not only at `validUntil`.
    #[test]
    fn a_held_grant_lapses_with_its_token() {
        let key = KeyFile::from_json(&spec("enterprise.key.json"), "enterprise.key.json").unwrap();
        let mut doc: serde_json::Value = serde_json::from_str(&spec("grant.unsigned.json")).unwrap();
        let exp = datetime!(2027-01-01 00:00 UTC);
        doc["exp"] = exp.unix_timestamp().into();
        let token = crate::credential::jwt::sign(&doc, &key, datetime!(2026-12-01 00:00 UTC)).unwrap();
        let catalog = Catalog::builtin();
        let before = datetime!(2026-12-15 00:00 UTC);
        let g = verify(token.as_bytes(), &catalog, before).unwrap();
        assert!(g.check_time(before).is_ok());
        // Within the window (validUntil 2027-12-01) but past exp and its skew.
        let after = datetime!(2027-01-01 00:05 UTC);
        assert!(after < g.valid_until());
        let fresh = verify(token.as_bytes(), &catalog, after).unwrap_err();
        let held = g.check_time(after).unwrap_err();
        assert_eq!(held, fresh);
        assert_eq!(held.reasons()[0].0, "jwt-expired");
        // Past validUntil as well: the window's own violation.
        let late = datetime!(2028-01-01 00:00 UTC);
        doc.as_object_mut().unwrap().remove("exp");
        let token = crate::credential::jwt::sign(&doc, &key, datetime!(2026-12-01 00:00 UTC)).unwrap();
        let g = verify(token.as_bytes(), &catalog, before).unwrap();
        let held = g.check_time(late).unwrap_err();
        assert_eq!(held, verify(token.as_bytes(), &catalog, late).unwrap_err());
        assert_eq!(held.reasons()[0].0, "expired");
    }

    /// A Data Integrity proof with `expires` before `validUntil` lapses the same way.
    #[test]
    fn a_held_grant_lapses_with_its_proof() {
        let signed: serde_json::Value = serde_json::from_str(&spec("grant.signed.di.json")).unwrap();
        let before = datetime!(2026-12-15 00:00 UTC);
        let catalog = Catalog::builtin();
        let g = verify(signed.to_string().as_bytes(), &catalog, before).unwrap();
        // The stored times of the example have no `expires`: the proof never lapses by itself.
        assert!(g.check_time(datetime!(2027-11-30 00:00 UTC)).is_ok());
        // With `expires` (the proof is then not the signed one, so only the held times are checked).
        let times = ProofTimes::DataIntegrity {
            created: datetime!(2026-12-01 00:00 UTC),
            created_text: "2026-12-01T00:00:00Z".into(),
            expires: Some((datetime!(2027-01-01 00:00 UTC), "2027-01-01T00:00:00Z".into())),
        };
        let held = VerifiedGrant {
            inner: Arc::new(Inner {
                checked: g.inner.checked.clone(),
                signer: g.inner.signer.clone(),
                signed_at: g.inner.signed_at,
                times,
                envelope: g.inner.envelope,
                digest: g.inner.digest,
            }),
        };
        assert!(held.check_time(before).is_ok());
        let e = held.check_time(datetime!(2027-01-01 00:00 UTC)).unwrap_err();
        assert_eq!(e.reasons()[0].0, "proof-expired");
    }
}
