//! VC-JWT: a credential secured with JOSE (W3C vc-jose-cose §3.1, media type `application/vc+jwt`),
//! signed with EdDSA/Ed25519 (RFC 8037) and keyed by a `did:key` DID URL in `kid`.
//!
//! Signing goes through josekit. Verification follows RFC 7515 §5.2 and RFC 7519 §7.2 in our own
//! code, because two things must happen that josekit does not do: the key must be checked before any
//! signature check (OpenSSL accepts the weak-key forgery), and the signature must be checked with
//! `verify_strict`. Our path is also about twice as fast (see BENCHMARKS.md). [`verify_with_josekit`]
//! runs the same checks with josekit's OpenSSL signature check instead; it exists to cross-check the
//! two and to measure them, and is not used to accept credentials.
//!
//! Refused: `alg` other than `EdDSA` (so `none`, HMAC-with-the-public-key and every other algorithm
//! confusion), any `crit`, `typ`/`cty` naming another media type, a missing `kid`, non-canonical
//! base64url in any segment, `vc`/`vp` claims, `iss` ≠ `issuer`, and `exp`/`nbf`/`iat` outside the
//! allowed window (checked here: josekit's decode does not check `exp`).

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::data_integrity::issuer_id;
use super::error::ProofError;
use super::jws;
use super::times::ProofTimes;
use crate::crypto::json::{self, Node, Number};
use crate::crypto::jwk;
use crate::identity::{DidKey, KeyFile, KeyResolver};

/// The JWS `typ` this crate writes and accepts (vc-jose-cose §3.1.1).
pub const TYP: &str = "vc+jwt";
/// The only JWS algorithm accepted.
pub const ALG: &str = "EdDSA";

/// Registered JWT claims that are not part of the credential itself.
const JWT_CLAIMS: [&str; 7] = ["iss", "sub", "aud", "exp", "nbf", "iat", "jti"];

/// A VC-JWT whose signature and claims verified.
#[derive(Debug, Clone)]
pub struct VerifiedJwt {
    /// The credential (the payload without the registered JWT claims).
    pub document: Map<String, Value>,
    /// The key that signed.
    pub signer: DidKey,
    /// `iat`, if present.
    pub issued_at: Option<OffsetDateTime>,
}

/// Why a VC-JWT could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwtSignError {
    /// The payload is not a JSON object, or its issuer is not the key's DID.
    #[error(transparent)]
    Credential(#[from] super::data_integrity::SignError),
    /// josekit refused the key or the header.
    #[error("josekit: {0}")]
    Jose(String),
}

/// Signs `credential` as a VC-JWT with header `{"alg":"EdDSA","typ":"vc+jwt","kid":<did:key URL>}`.
/// The payload is the credential plus `iss` (= its issuer) and `iat`, as compact JSON in the member
/// order of the input (deterministic for a given input). Numbers are written the way `serde_json`
/// writes them (`1e20`, not JCS's `100000000000000000000`), so verifiers that refuse integer
/// literals beyond 2^53 — Python's `rfc8785`, for one — still read every token this crate makes.
pub fn sign(credential: &Value, key: &KeyFile, issued_at: OffsetDateTime) -> Result<String, JwtSignError> {
    use super::data_integrity::SignError;
    let doc = credential.as_object().ok_or(SignError::NotAnObject)?;
    if doc.contains_key("proof") {
        return Err(SignError::AlreadySigned.into());
    }
    super::data_integrity::check_issuer_for_signing(doc, key)?;
    let mut claims = doc.clone();
    if let Some(issuer) = issuer_id(doc) {
        claims.insert("iss".into(), issuer.into());
    }
    claims.insert("iat".into(), issued_at.unix_timestamp().into());
    let payload =
        serde_json::to_vec(&Value::Object(claims)).map_err(|e| JwtSignError::Jose(e.to_string()))?;

    let jwk_value = jwk::private_jwk(&key.secret);
    let Value::Object(jwk_map) = jwk_value else {
        return Err(JwtSignError::Jose("JWK is not an object".into()));
    };
    let jose = |e: josekit::JoseError| JwtSignError::Jose(e.to_string());
    let jwk = josekit::jwk::Jwk::from_map(jwk_map).map_err(jose)?;
    let signer = josekit::jws::EdDSA.signer_from_jwk(&jwk).map_err(jose)?;
    let mut header = josekit::jws::JwsHeader::new();
    header.set_token_type(TYP);
    header.set_key_id(key.did.verification_method_id());
    josekit::jws::serialize_compact(&payload, &header, &signer).map_err(jose)
}

/// What a valid VC-JWT's header and claims said.
#[derive(Debug, Clone)]
pub struct JwtInfo {
    /// The key that signed.
    pub signer: DidKey,
    /// `iat`, if present.
    pub issued_at: Option<OffsetDateTime>,
    /// Its time limits, for a later use of what it verified.
    pub times: ProofTimes,
}

/// Verifies a compact VC-JWT at instant `now`, with the signature checked by `verify_strict`.
pub fn verify(token: &str, now: OffsetDateTime) -> Result<VerifiedJwt, ProofError> {
    verify_with(token, now, &KeyResolver::new(0), |doc, info| {
        into_verified(&doc, info)
    })
}

/// Same checks as [`verify`], but the signature is checked by josekit (OpenSSL) after our key check.
/// For cross-checking and benchmarks only; see the module documentation.
pub fn verify_with_josekit(token: &str, now: OffsetDateTime) -> Result<VerifiedJwt, ProofError> {
    let josekit_check = |signer: &DidKey, _input: &[u8], token: &str, _sig: &[u8]| {
        let Value::Object(map) = jwk::public_jwk(signer.public_key()) else {
            return Err(ProofError::Signature);
        };
        let jwk = josekit::jwk::Jwk::from_map(map).map_err(|_| ProofError::Signature)?;
        let verifier = josekit::jws::EdDSA
            .verifier_from_jwk(&jwk)
            .map_err(|_| ProofError::Signature)?;
        josekit::jws::deserialize_compact(token, &verifier)
            .map(|_| ())
            .map_err(|_| ProofError::Signature)
    };
    verify_inner(token, now, &KeyResolver::new(0), &josekit_check, |doc, info| {
        into_verified(&doc, info)
    })
}

fn into_verified(doc: &Node<'_>, info: JwtInfo) -> VerifiedJwt {
    let document = match doc.to_value() {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    VerifiedJwt {
        document,
        signer: info.signer,
        issued_at: info.issued_at,
    }
}

/// Verifies a compact VC-JWT and hands the credential (the payload without the registered JWT
/// claims, as a parsed tree) to `f`. The tree borrows from the decoded payload, which lives only for
/// the call.
pub fn verify_with<R>(
    token: &str,
    now: OffsetDateTime,
    keys: &KeyResolver,
    f: impl FnOnce(Node<'_>, JwtInfo) -> R,
) -> Result<R, ProofError> {
    verify_inner(token, now, keys, &jws::strict_check, f)
}

/// The media types of a VC-JWT header (vc-jose-cose §3.1.1).
const VC_JWT_TYPES: jws::MediaTypes = jws::MediaTypes {
    typ: (&["vc+jwt", "application/vc+jwt"], "vc+jwt"),
    typ_optional: true,
    cty: (&["vc", "application/vc"], "vc"),
};

fn verify_inner<R>(
    token: &str,
    now: OffsetDateTime,
    keys: &KeyResolver,
    check_signature: jws::SignatureCheck<'_>,
    f: impl FnOnce(Node<'_>, JwtInfo) -> R,
) -> Result<R, ProofError> {
    // RFC 7515 §5.2 steps 1–8.
    let jws::VerifiedJws {
        signer,
        payload: payload_bytes,
    } = jws::verify(token, VC_JWT_TYPES, keys, check_signature)?;
    // RFC 7519 §7.2 step 10 and vc-jose-cose §3.1.1: the claims set is the credential.
    let mut document = json::parse(&payload_bytes)?;
    if document.as_object().is_none() {
        return Err(ProofError::Claim("payload"));
    }
    for forbidden in ["vc", "vp"] {
        if document.get(forbidden).is_some() {
            return Err(ProofError::ForbiddenClaim(forbidden));
        }
    }
    let issuer = issuer_of(&document).ok_or(ProofError::MissingIssuer)?;
    if let Some(iss) = document.get("iss") {
        let iss = iss.as_str().ok_or(ProofError::Claim("iss"))?;
        if iss != issuer {
            return Err(ProofError::IssMismatch {
                iss: iss.to_owned(),
                issuer: issuer.to_owned(),
            });
        }
    }
    let iat = numeric_date(&document, "iat")?;
    let times = ProofTimes::Jwt {
        exp: numeric_date(&document, "exp")?,
        nbf: numeric_date(&document, "nbf")?,
        iat,
    };
    times.check(now)?;
    for claim in JWT_CLAIMS {
        document.remove(claim);
    }
    let issued_at = iat.and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok());
    Ok(f(
        document,
        JwtInfo {
            signer,
            issued_at,
            times,
        },
    ))
}

/// The issuer of a parsed credential: a string, or an object's `id` (VC Data Model 2.0 §4.7).
pub fn issuer_of<'n>(doc: &'n Node<'_>) -> Option<&'n str> {
    match doc.get("issuer")? {
        Node::String(s) => Some(s),
        o @ Node::Object(_) => o.get("id")?.as_str(),
        _ => None,
    }
}

/// A NumericDate claim (RFC 7519 §2): seconds, possibly fractional; the fraction is dropped.
fn numeric_date(claims: &Node<'_>, name: &'static str) -> Result<Option<i64>, ProofError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Node::Number(Number::Int(i))) => Ok(Some(*i)),
        Some(Node::Number(Number::Float(f))) if f.is_finite() && f.abs() < 1e15 => {
            #[allow(clippy::cast_possible_truncation)] // bounded just above
            Ok(Some(f.floor() as i64))
        }
        Some(_) => Err(ProofError::Claim(name)),
    }
}
