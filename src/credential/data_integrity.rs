//! Data Integrity proofs with the `eddsa-jcs-2022` cryptosuite (W3C vc-di-eddsa v1.0 §3.3).
//!
//! [`create_proof`] and [`verify_proof`] follow the spec's algorithms step by step; the step numbers
//! in the comments are those of §3.3.1 "Create Proof (eddsa-jcs-2022)" and §3.3.2 "Verify Proof
//! (eddsa-jcs-2022)". The document's `@context` is copied into the proof options on creation and the
//! prefix rule is checked on verification (§3.3.1 step 2, §3.3.2 step 4, as of w3c/vc-di-eddsa#79).
//! `hashData` is SHA-256(JCS(proof config)) ‖ SHA-256(JCS(document)), proof hash first (§3.3.6).

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::datetime::{format_utc_seconds, parse_datetime_stamp};
use super::error::ProofError;
use super::times::ProofTimes;
use crate::crypto::json::{Members, Node};
use crate::crypto::multibase;
use crate::crypto::{Sha256Digest, jcs};
use crate::identity::{DidKey, KeyFile, KeyResolver};

/// The proof `type`.
pub const PROOF_TYPE: &str = "DataIntegrityProof";
/// The cryptosuite identifier.
pub const CRYPTOSUITE: &str = "eddsa-jcs-2022";
/// The only proof purpose accepted for credentials (issuer assertions).
pub const ASSERTION_METHOD: &str = "assertionMethod";
/// How far in the future a proof's `created` may lie, for clocks that disagree a little.
pub const ALLOWED_CLOCK_SKEW: time::Duration = time::Duration::minutes(5);

/// Why a proof could not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The input is not a JSON object.
    #[error("only a JSON object can be secured")]
    NotAnObject,
    /// The input already carries a proof.
    #[error("the document already has a proof; remove it to re-sign")]
    AlreadySigned,
    /// The document's issuer is not the signing key's DID, so the proof would never verify.
    #[error("issuer {issuer} is not the signing key's DID {did}")]
    IssuerMismatch {
        /// The document's issuer.
        issuer: String,
        /// The signing key's DID.
        did: String,
    },
    /// The document cannot be canonicalized (RFC 8785).
    #[error("canonicalization: {0}")]
    Canonicalization(#[from] jcs::JcsError),
}

/// The issuer of a credential: a URL string, or an object with an `id` (VC Data Model 2.0 §4.7).
pub fn issuer_id(document: &Map<String, Value>) -> Option<&str> {
    match document.get("issuer")? {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id")?.as_str(),
        _ => None,
    }
}

/// Refuses to sign a document whose `issuer` is a `did:key` other than the signing key's: such a proof
/// could never show that its issuer signed. Issuers that are not did:keys (a URL whose controller
/// document lists the key, as in the W3C test vectors) are left to the issuer to publish.
pub(crate) fn check_issuer_for_signing(doc: &Map<String, Value>, key: &KeyFile) -> Result<(), SignError> {
    match issuer_id(doc) {
        Some(issuer) if issuer.starts_with("did:key:") && issuer != key.did.as_str() => {
            Err(SignError::IssuerMismatch {
                issuer: issuer.to_owned(),
                did: key.did.to_string(),
            })
        }
        _ => Ok(()),
    }
}

/// Secures `unsecured` with an eddsa-jcs-2022 proof made by `key` at `created` (§3.3.1), returning
/// the secured document. Deterministic: the same inputs always give the same `proofValue`.
pub fn create_proof(unsecured: &Value, key: &KeyFile, created: OffsetDateTime) -> Result<Value, SignError> {
    let doc = unsecured.as_object().ok_or(SignError::NotAnObject)?;
    if doc.contains_key("proof") {
        return Err(SignError::AlreadySigned);
    }
    check_issuer_for_signing(doc, key)?;
    // Step 1: proof options.
    let mut proof = Map::new();
    proof.insert("type".into(), PROOF_TYPE.into());
    proof.insert("cryptosuite".into(), CRYPTOSUITE.into());
    proof.insert("created".into(), format_utc_seconds(created).into());
    proof.insert(
        "verificationMethod".into(),
        key.did.verification_method_id().into(),
    );
    proof.insert("proofPurpose".into(), ASSERTION_METHOD.into());
    // Step 2: the document's @context goes into the proof.
    if let Some(ctx) = doc.get("@context") {
        proof.insert("@context".into(), ctx.clone());
    }
    // Steps 3–5: canonical proof configuration and document, hashed, proof hash first.
    let proof_value = Value::Object(proof);
    let (Node::Object(p), Node::Object(d)) = (
        Node::from_value(&proof_value).map_err(jcs::JcsError::from)?,
        Node::from_value(unsecured).map_err(jcs::JcsError::from)?,
    ) else {
        return Err(SignError::NotAnObject);
    };
    let hash_data = hash_data(&p, &[], &d, &[])?;
    let Value::Object(mut proof) = proof_value else {
        return Err(SignError::NotAnObject);
    };
    // Steps 6–7: sign and encode.
    let signature = key.secret.sign(&hash_data);
    proof.insert(
        "proofValue".into(),
        multibase::encode_base58btc(&signature).into(),
    );
    let mut secured = doc.clone();
    secured.insert("proof".into(), Value::Object(proof));
    Ok(Value::Object(secured))
}

/// `SHA-256(JCS(proofConfig)) ‖ SHA-256(JCS(document))`, the 64 bytes Ed25519 signs (§3.3.6).
/// Members named in `skip_in_proof` / `skip_in_document` are left out (`proofValue`, `proof`).
pub fn hash_data(
    proof_config: &Members<'_>,
    skip_in_proof: &[&str],
    document: &Members<'_>,
    skip_in_document: &[&str],
) -> Result<[u8; 64], jcs::JcsError> {
    let mut buf = Vec::with_capacity(4096);
    jcs::write_members(proof_config, skip_in_proof, &mut buf)?;
    let proof_hash = Sha256Digest::of(&buf);
    buf.clear();
    jcs::write_members(document, skip_in_document, &mut buf)?;
    let doc_hash = Sha256Digest::of(&buf);
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(proof_hash.as_bytes());
    out[32..].copy_from_slice(doc_hash.as_bytes());
    Ok(out)
}

fn context_list<'n, 'a>(v: &'n Node<'a>) -> &'n [Node<'a>] {
    match v {
        Node::Array(items) => items,
        other => std::slice::from_ref(other),
    }
}

fn required_str<'n>(proof: &'n Node<'_>, name: &'static str) -> Result<&'n str, ProofError> {
    proof
        .get(name)
        .and_then(Node::as_str)
        .ok_or(ProofError::ProofOption(name))
}

/// What [`verify_proof`] learned from a valid proof.
#[derive(Debug, Clone)]
pub struct ProofInfo {
    /// The key that signed, the controller of `verificationMethod`.
    pub signer: DidKey,
    /// The proof's `created`.
    pub created: OffsetDateTime,
    /// Its time limits, for a later use of what it verified.
    pub times: ProofTimes,
}

/// Verifies the single eddsa-jcs-2022 proof of the parsed `secured` document at instant `now`
/// (§3.3.2), and turns `secured` into the unsecured document: `proof` removed (step 1) and
/// `@context` taken from the proof (step 4).
///
/// Beyond the suite's own steps it checks what Data Integrity leaves to the verifier: the proof
/// purpose is `assertionMethod`, `created` is not in the future and `expires` has not passed. Whether
/// the signer may speak for the document's `issuer` is decided by the caller
/// ([`crate::credential::verify`] for did:key issuers). `keys` resolves (and may cache) the key.
pub fn verify_proof(
    secured: &mut Node<'_>,
    now: OffsetDateTime,
    keys: &KeyResolver,
) -> Result<ProofInfo, ProofError> {
    let Node::Object(members) = &*secured else {
        return Err(ProofError::UnknownEnvelope);
    };
    // Steps 1–2: the proof, and the proof options (proof without proofValue).
    let proof = match secured.get("proof") {
        Some(p @ Node::Object(_)) => p,
        Some(Node::Array(_)) => return Err(ProofError::ProofSet),
        Some(_) => return Err(ProofError::ProofOption("proof")),
        None => return Err(ProofError::MissingProof),
    };
    let proof_value = required_str(proof, "proofValue")?;
    // §3.3.5 step 1: type and cryptosuite.
    let proof_type = required_str(proof, "type")?;
    if proof_type != PROOF_TYPE {
        return Err(ProofError::ProofType(proof_type.to_owned()));
    }
    let suite = required_str(proof, "cryptosuite")?;
    if suite != CRYPTOSUITE {
        return Err(ProofError::Cryptosuite(suite.to_owned()));
    }
    // Step 3: proofBytes.
    let proof_bytes = multibase::decode_base58btc(proof_value).map_err(ProofError::ProofValue)?;
    if proof_bytes.len() != 64 {
        return Err(ProofError::ProofValueLength(proof_bytes.len()));
    }
    // Step 4: the @context prefix rule.
    let proof_ctx = proof.get("@context");
    if let Some(proof_ctx) = proof_ctx {
        let doc_ctx = secured.get("@context").ok_or(ProofError::ContextMismatch)?;
        let (p, d) = (context_list(proof_ctx), context_list(doc_ctx));
        if p.len() > d.len() || p.iter().zip(d).any(|(a, b)| a != b) {
            return Err(ProofError::ContextMismatch);
        }
    }
    // §3.3.5 step 2: created is a date-time; not in the future; expires not passed.
    let created_text = required_str(proof, "created")?;
    let created = parse_datetime_stamp(created_text).map_err(ProofError::Created)?;
    let expires = match proof.get("expires") {
        None => None,
        Some(expires) => {
            let text = expires.as_str().ok_or(ProofError::ProofOption("expires"))?;
            let at = parse_datetime_stamp(text).map_err(ProofError::Expires)?;
            Some((at, text.to_owned()))
        }
    };
    let times = ProofTimes::DataIntegrity {
        created,
        created_text: created_text.to_owned(),
        expires,
    };
    times.check(now)?;
    // Purpose and key.
    let purpose = required_str(proof, "proofPurpose")?;
    if purpose != ASSERTION_METHOD {
        return Err(ProofError::ProofPurpose(purpose.to_owned()));
    }
    let vm = required_str(proof, "verificationMethod")?;
    let signer = keys.resolve(vm).map_err(ProofError::VerificationMethod)?;
    // Steps 5–6: transform and hash. The document is hashed without `proof` and with the proof's
    // @context (identical to the document's unless the document appended contexts after signing).
    let Node::Object(options) = proof else {
        return Err(ProofError::ProofOption("proof"));
    };
    let hash = match proof_ctx {
        Some(ctx) if Some(ctx) != secured.get("@context") => {
            let mut doc: Members<'_> = members.iter().filter(|(k, _)| k != "proof").cloned().collect();
            if let Some(slot) = doc.iter_mut().find(|(k, _)| k == "@context") {
                slot.1 = ctx.clone();
            }
            hash_data(options, &["proofValue"], &doc, &[])
        }
        _ => hash_data(options, &["proofValue"], members, &["proof"]),
    }
    .map_err(ProofError::Canonicalization)?;
    // Step 7: verify.
    signer
        .public_key()
        .verify(&hash, &proof_bytes)
        .map_err(|_| ProofError::Signature)?;
    // Step 8: the unsecured document.
    let ctx = proof_ctx.cloned();
    secured.remove("proof");
    if let Some(ctx) = ctx {
        secured.insert("@context", ctx);
    }
    Ok(ProofInfo {
        signer,
        created,
        times,
    })
}
