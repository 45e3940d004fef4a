//! Verifiable Credentials (W3C VC Data Model 2.0) in two envelopes: embedded Data Integrity proofs
//! with `eddsa-jcs-2022`, and VC-JWT (`application/vc+jwt`).
//!
//! [`verify`] takes the exact bytes received, detects the envelope, and returns a
//! [`VerifiedCredential`] only when the proof verified. It checks the proof, not the claims: what a
//! credential of a given type must say is checked by its own module (for grants, [`crate::grant`]).

pub mod data_integrity;
pub mod datetime;
pub mod error;
pub mod jws;
pub mod jwt;
pub mod times;
pub mod vc;

use serde_json::{Map, Value};
use time::OffsetDateTime;

pub use error::ProofError;

use crate::crypto::Sha256Digest;
use crate::crypto::json::{self, Node};
use crate::identity::{DidKey, KeyResolver};

/// How a credential was secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Envelope {
    /// An embedded `DataIntegrityProof` with cryptosuite `eddsa-jcs-2022`.
    DataIntegrity,
    /// A compact JWS with `typ: vc+jwt`.
    Jwt,
}

impl Envelope {
    /// `di` or `jwt`, as the CLI spells it.
    pub fn short_name(self) -> &'static str {
        match self {
            Self::DataIntegrity => "di",
            Self::Jwt => "jwt",
        }
    }
}

/// A credential whose proof verified.
#[derive(Debug, Clone)]
pub struct VerifiedCredential {
    /// The unsecured credential: for Data Integrity the document without `proof`, for VC-JWT the
    /// payload without the registered JWT claims.
    pub document: Map<String, Value>,
    /// The key that signed it.
    pub signer: DidKey,
    /// The credential's `issuer`, if it names one.
    pub issuer: Option<String>,
    /// Whether the signer is shown to speak for the issuer: true when the issuer is the signer's own
    /// `did:key`. An issuer that is some other URL would need its controller document, which this
    /// verifier does not fetch, so the binding stays unproven (the proof itself is still valid).
    pub issuer_bound: bool,
    /// When it was signed: the proof's `created`, or the JWT's `iat`.
    pub signed_at: Option<OffsetDateTime>,
    /// The envelope.
    pub envelope: Envelope,
    /// SHA-256 of the exact bytes that were verified (after trimming surrounding whitespace).
    pub digest: Sha256Digest,
}

/// Trims ASCII whitespace around a received credential, so a trailing newline from a file or a
/// terminal does not change its digest.
pub fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

/// Detects the envelope of `bytes`: a JSON object is Data Integrity, a dotted base64url text a JWT.
pub fn detect_envelope(bytes: &[u8]) -> Option<Envelope> {
    match trim(bytes).first()? {
        b'{' => Some(Envelope::DataIntegrity),
        b if b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_' => Some(Envelope::Jwt),
        _ => None,
    }
}

/// A credential whose proof verified, viewed in place.
#[derive(Debug)]
pub struct Verified<'a> {
    /// The unsecured credential as a parsed tree: for Data Integrity the document without `proof`
    /// (with the proof's `@context`), for VC-JWT the payload without the registered JWT claims.
    pub document: Node<'a>,
    /// The key that signed it.
    pub signer: DidKey,
    /// The credential's `issuer`, if it names one.
    pub issuer: Option<String>,
    /// Whether the signer is the issuer's own `did:key`; see [`VerifiedCredential::issuer_bound`].
    pub issuer_bound: bool,
    /// When it was signed: the proof's `created`, or the JWT's `iat`.
    pub signed_at: Option<OffsetDateTime>,
    /// The envelope.
    pub envelope: Envelope,
    /// SHA-256 of the exact bytes that were verified (after trimming surrounding whitespace).
    pub digest: Sha256Digest,
    /// The proof's time limits, to re-check at a later use ([`times::ProofTimes::check`]).
    pub times: times::ProofTimes,
}

/// Verifies a secured credential in either envelope at instant `now` and returns it as JSON.
///
/// Beyond the envelope's own checks, a credential whose `issuer` is a `did:key` must be signed by
/// that very key ([`ProofError::IssuerMismatch`] otherwise).
pub fn verify(bytes: &[u8], now: OffsetDateTime) -> Result<VerifiedCredential, ProofError> {
    verify_with(bytes, now, &KeyResolver::new(0), |v| {
        let document = match v.document.to_value() {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        VerifiedCredential {
            document,
            signer: v.signer,
            issuer: v.issuer,
            issuer_bound: v.issuer_bound,
            signed_at: v.signed_at,
            envelope: v.envelope,
            digest: v.digest,
        }
    })
}

/// Verifies a secured credential in either envelope at instant `now`, resolving keys through `keys`,
/// and hands the verified view to `f` (the parsed tree borrows from the input, so it lives only for
/// the call). The same checks as [`verify`].
pub fn verify_with<R>(
    bytes: &[u8],
    now: OffsetDateTime,
    keys: &KeyResolver,
    f: impl FnOnce(Verified<'_>) -> R,
) -> Result<R, ProofError> {
    let bytes = trim(bytes);
    let digest = Sha256Digest::of(bytes);
    let finish = |document: Node<'_>, signer: DidKey, signed_at, times, envelope| {
        let issuer = jwt::issuer_of(&document).map(str::to_owned);
        let issuer_bound = issuer.as_deref() == Some(signer.as_str());
        if let Some(i) = issuer
            .as_deref()
            .filter(|i| i.starts_with("did:key:") && !issuer_bound)
        {
            return Err(ProofError::IssuerMismatch {
                issuer: i.to_owned(),
                controller: signer.to_string(),
            });
        }
        Ok(f(Verified {
            document,
            signer,
            issuer,
            issuer_bound,
            signed_at,
            times,
            envelope,
            digest,
        }))
    };
    match detect_envelope(bytes).ok_or(ProofError::UnknownEnvelope)? {
        Envelope::DataIntegrity => {
            let mut document = json::parse(bytes)?;
            let info = data_integrity::verify_proof(&mut document, now, keys)?;
            finish(
                document,
                info.signer,
                Some(info.created),
                info.times,
                Envelope::DataIntegrity,
            )
        }
        Envelope::Jwt => {
            let token = std::str::from_utf8(bytes).map_err(|_| ProofError::JwsFormat("not ASCII"))?;
            jwt::verify_with(token, now, keys, |document, info| {
                finish(document, info.signer, info.issued_at, info.times, Envelope::Jwt)
            })?
        }
    }
}
