//! Why a secured credential did not verify. One variant per step of the verification algorithms, so
//! a refusal names the step that failed:
//!
//! * Data Integrity, eddsa-jcs-2022: W3C vc-di-eddsa §3.3.2 "Verify Proof (eddsa-jcs-2022)" and
//!   §3.3.4–3.3.6, plus the Data Integrity checks the suite leaves to the verifier;
//! * VC-JWT: W3C vc-jose-cose §3.1.1 and RFC 7515 §5.2 / RFC 7519 §7.2.

use crate::crypto::jcs::JcsError;
use crate::crypto::json::JsonError;
use crate::crypto::multibase::MultibaseError;
use crate::identity::DidError;

use super::datetime::DateTimeError;

/// A secured credential that did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    // ---- input ----
    /// The input is neither a JSON object nor a compact JWS.
    #[error("not a secured credential: expected a JSON object with a proof, or a compact JWS")]
    UnknownEnvelope,
    /// The JSON is not strict I-JSON (duplicate names, unsafe integers, syntax).
    #[error("{0}")]
    Json(#[from] JsonError),

    // ---- Data Integrity (eddsa-jcs-2022) ----
    /// Step 1: the document carries no `proof`.
    #[error("document has no proof")]
    MissingProof,
    /// A proof set or chain (an array of proofs); only single proofs are accepted.
    #[error("proof sets and chains are not accepted: exactly one proof object is required")]
    ProofSet,
    /// A required proof option is absent or not a string.
    #[error("proof option {0} is missing or not a string")]
    ProofOption(&'static str),
    /// §3.3.5 step 1: `type` is not `DataIntegrityProof`.
    #[error("proof type {0:?} is not DataIntegrityProof")]
    ProofType(String),
    /// §3.3.5 step 1: `cryptosuite` is not `eddsa-jcs-2022`.
    #[error("cryptosuite {0:?} is not eddsa-jcs-2022")]
    Cryptosuite(String),
    /// §3.3.2 step 3: `proofValue` is not a canonical base58-btc multibase value.
    #[error("proofValue: {0}")]
    ProofValue(MultibaseError),
    /// §3.3.2 step 3: `proofValue` does not decode to 64 bytes.
    #[error("proofValue decodes to {0} bytes, an Ed25519 signature is 64")]
    ProofValueLength(usize),
    /// §3.3.2 step 4: the proof's `@context` is not a prefix of the document's `@context`.
    #[error("the document @context does not start with the proof's @context (vc-di-eddsa §3.3.2 step 4)")]
    ContextMismatch,
    /// §3.3.5 step 2: `created` is not a valid date-time.
    #[error("proof created: {0}")]
    Created(DateTimeError),
    /// `created` lies in the future (beyond the allowed clock skew).
    #[error("proof created {0} is in the future")]
    CreatedInFuture(String),
    /// The proof's `expires` is not a valid date-time.
    #[error("proof expires: {0}")]
    Expires(DateTimeError),
    /// The proof's `expires` has passed.
    #[error("proof expired at {0}")]
    ProofExpired(String),
    /// `proofPurpose` is not `assertionMethod`.
    #[error("proofPurpose {0:?} is not assertionMethod")]
    ProofPurpose(String),
    /// The verification method cannot be resolved to an acceptable key.
    #[error("verificationMethod: {0}")]
    VerificationMethod(DidError),
    /// The key that signed is not controlled by the credential's issuer.
    #[error("issuer {issuer} is not the controller {controller} of the signing key")]
    IssuerMismatch {
        /// The credential's issuer.
        issuer: String,
        /// The DID that controls the verification method.
        controller: String,
    },
    /// §3.3.4: the document cannot be canonicalized.
    #[error("canonicalization: {0}")]
    Canonicalization(JcsError),
    /// §3.3.6 / RFC 7515 §5.2 step 8: the Ed25519 signature does not verify.
    #[error("signature does not verify")]
    Signature,

    // ---- VC-JWT ----
    /// Not three base64url segments (a JWE, or garbage).
    #[error("not a compact JWS: {0}")]
    JwsFormat(&'static str),
    /// A segment is not canonical unpadded base64url (RFC 7515 §2, §5.2 steps 2, 6, 7).
    #[error("JWS {0} is not canonical unpadded base64url")]
    Base64(&'static str),
    /// The protected header is not a JSON object.
    #[error("JWS header: {0}")]
    Header(String),
    /// `alg` is not `EdDSA`: algorithm pinning (RFC 8725 §3.1).
    #[error("JWS alg {0:?} refused: only EdDSA is accepted")]
    Algorithm(String),
    /// The header lists `crit` extensions this verifier does not implement (RFC 7515 §4.1.11).
    #[error("JWS crit extensions {0} are not understood")]
    Critical(String),
    /// `typ` or `cty` names another media type.
    #[error("JWS {param} {value:?} is not {expected}")]
    MediaType {
        /// `typ` or `cty`.
        param: &'static str,
        /// What was found.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// No `kid`: with did:key the key must be named by its DID URL (vc-jose-cose §3.1.1).
    #[error("JWS header has no kid")]
    MissingKid,
    /// The payload carries `vc` or `vp`, which vc-jose-cose forbids.
    #[error("JWT claim {0} must not be present (vc-jose-cose §3.1.1)")]
    ForbiddenClaim(&'static str),
    /// A JWT claim has the wrong type.
    #[error("JWT claim {0} is malformed")]
    Claim(&'static str),
    /// `iss` differs from the credential's issuer.
    #[error("JWT iss {iss} differs from issuer {issuer}")]
    IssMismatch {
        /// The `iss` claim.
        iss: String,
        /// The credential issuer.
        issuer: String,
    },
    /// `exp` has passed (RFC 7519 §4.1.4).
    #[error("JWT expired at {0}")]
    Expired(i64),
    /// `nbf` is in the future (RFC 7519 §4.1.5).
    #[error("JWT not valid before {0}")]
    NotBefore(i64),
    /// `iat` is in the future (RFC 7519 §4.1.6).
    #[error("JWT issued in the future ({0})")]
    IssuedInFuture(i64),
    /// The credential has no `issuer` (VC Data Model 2.0 §4.7).
    #[error("credential has no issuer")]
    MissingIssuer,
}

impl ProofError {
    /// A stable kebab-case code for this failure, used in problem `type` URIs and CLI output.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownEnvelope => "unknown-envelope",
            Self::Json(_) => "malformed-json",
            Self::MissingProof => "missing-proof",
            Self::ProofSet => "proof-set",
            Self::ProofOption(_) => "proof-option",
            Self::ProofType(_) => "proof-type",
            Self::Cryptosuite(_) => "wrong-cryptosuite",
            Self::ProofValue(_) | Self::ProofValueLength(_) => "proof-value",
            Self::ContextMismatch => "context-mismatch",
            Self::Created(_) => "proof-created",
            Self::CreatedInFuture(_) => "proof-created-in-future",
            Self::Expires(_) => "proof-expires",
            Self::ProofExpired(_) => "proof-expired",
            Self::ProofPurpose(_) => "proof-purpose",
            Self::VerificationMethod(_) => "verification-method",
            Self::IssuerMismatch { .. } => "issuer-mismatch",
            Self::Canonicalization(_) => "canonicalization",
            Self::Signature => "bad-signature",
            Self::JwsFormat(_) => "jws-format",
            Self::Base64(_) => "jws-base64",
            Self::Header(_) => "jws-header",
            Self::Algorithm(_) => "jws-algorithm",
            Self::Critical(_) => "jws-crit",
            Self::MediaType { .. } => "jws-media-type",
            Self::MissingKid => "jws-missing-kid",
            Self::ForbiddenClaim(_) => "jwt-forbidden-claim",
            Self::Claim(_) => "jwt-claim",
            Self::IssMismatch { .. } => "jwt-iss-mismatch",
            Self::Expired(_) => "jwt-expired",
            Self::NotBefore(_) => "jwt-not-before",
            Self::IssuedInFuture(_) => "jwt-issued-in-future",
            Self::MissingIssuer => "missing-issuer",
        }
    }
}
