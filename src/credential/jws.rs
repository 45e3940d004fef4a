//! Compact JWS with EdDSA (RFC 7515, RFC 8037), strict, keyed by `did:key` DID URLs in `kid`.
//!
//! Shared by VC-JWTs ([`super::jwt`]) and the service's client assertions. It lives here, beside the
//! proofs, rather than in [`crate::crypto`]: it resolves `did:key` identities ([`crate::identity`])
//! and reports [`ProofError`]s, and `crypto` stays a leaf that names no other module. Refused:
//! `alg` other than `EdDSA` (so `none`, HMAC with the public key and every other algorithm
//! confusion), any `crit`, a `typ`/`cty` the caller did not ask for (explicit typing, RFC 8725
//! §3.11, so a VC-JWT is never taken for an assertion or the reverse), a missing `kid`, non-canonical
//! base64url in any segment, weak keys (before any signature check) and signatures that fail
//! `verify_strict`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::ProofError;
use crate::crypto::json::{self, Node};
use crate::identity::{DidKey, KeyFile, KeyResolver};

/// The only JWS algorithm accepted.
pub const ALG: &str = "EdDSA";

/// What the header's `typ` and `cty` may be.
#[derive(Debug, Clone, Copy)]
pub struct MediaTypes {
    /// Accepted `typ` values (compared case-insensitively), and the canonical one for messages.
    pub typ: (&'static [&'static str], &'static str),
    /// Whether `typ` may be absent.
    pub typ_optional: bool,
    /// Accepted `cty` values; an empty list means `cty` must be absent.
    pub cty: (&'static [&'static str], &'static str),
}

/// A JWS whose signature verified.
#[derive(Debug, Clone)]
pub struct VerifiedJws {
    /// The key that signed.
    pub signer: DidKey,
    /// The decoded payload.
    pub payload: Vec<u8>,
}

fn decode_segment(segment: &str, name: &'static str) -> Result<Vec<u8>, ProofError> {
    // The base64 engine refuses padding and non-zero trailing bits, i.e. every non-canonical spelling.
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| ProofError::Base64(name))
}

fn check_media_type(
    header: &Node<'_>,
    param: &'static str,
    accepted: &[&str],
    expected: &'static str,
    optional: bool,
) -> Result<(), ProofError> {
    match header.get(param) {
        None if optional || accepted.is_empty() => Ok(()),
        Some(Node::String(v)) if accepted.iter().any(|a| a.eq_ignore_ascii_case(v)) => Ok(()),
        other => Err(ProofError::MediaType {
            param,
            value: other.map_or_else(
                || "(missing)".to_owned(),
                |o| o.as_str().map_or_else(|| o.to_value().to_string(), str::to_owned),
            ),
            expected,
        }),
    }
}

/// A signature check: `(signer, signing_input, whole_token, signature) -> Ok` if it verifies.
pub type SignatureCheck<'a> = &'a dyn Fn(&DidKey, &[u8], &str, &[u8]) -> Result<(), ProofError>;

/// The default signature check: Ed25519 `verify_strict`.
pub fn strict_check(signer: &DidKey, input: &[u8], _token: &str, sig: &[u8]) -> Result<(), ProofError> {
    signer
        .public_key()
        .verify(input, sig)
        .map_err(|_| ProofError::Signature)
}

/// Verifies a compact JWS (RFC 7515 §5.2) and returns its signer and payload.
pub fn verify(
    token: &str,
    types: MediaTypes,
    keys: &KeyResolver,
    check_signature: SignatureCheck<'_>,
) -> Result<VerifiedJws, ProofError> {
    let token = token.trim_end_matches(['\n', '\r']);
    // Step 1: three segments.
    let mut parts = token.split('.');
    let (Some(h64), Some(p64), Some(s64), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ProofError::JwsFormat("expected header.payload.signature"));
    };
    // Steps 2–4: the protected header, strict JSON.
    let header_bytes = decode_segment(h64, "header")?;
    let header = json::parse(&header_bytes)?;
    if header.as_object().is_none() {
        return Err(ProofError::Header("not a JSON object".into()));
    }
    // Step 5: algorithm pinning, critical extensions, explicit types.
    let alg = header.get("alg").and_then(Node::as_str).unwrap_or("(missing)");
    if alg != ALG {
        return Err(ProofError::Algorithm(alg.to_owned()));
    }
    if let Some(crit) = header.get("crit") {
        return Err(ProofError::Critical(crit.to_value().to_string()));
    }
    check_media_type(&header, "typ", types.typ.0, types.typ.1, types.typ_optional)?;
    check_media_type(&header, "cty", types.cty.0, types.cty.1, true)?;
    // The key: named by kid, resolved locally from did:key, weak keys refused before any check.
    let kid = header
        .get("kid")
        .and_then(Node::as_str)
        .ok_or(ProofError::MissingKid)?;
    let signer = keys.resolve(kid).map_err(ProofError::VerificationMethod)?;
    // Steps 6–8: signature over the ASCII signing input.
    let signature = decode_segment(s64, "signature")?;
    if signature.len() != 64 {
        return Err(ProofError::Signature);
    }
    let payload = decode_segment(p64, "payload")?;
    let signing_input = &token.as_bytes()[..h64.len() + 1 + p64.len()];
    check_signature(&signer, signing_input, token, &signature)?;
    Ok(VerifiedJws { signer, payload })
}

/// Signs `payload` as a compact JWS with header `{"alg":"EdDSA","typ":typ,"kid":<did:key URL>}`
/// (Ed25519 is deterministic, so the same inputs give the same token).
pub fn sign(payload: &[u8], typ: &str, key: &KeyFile) -> String {
    let header = serde_json::json!({"alg": ALG, "typ": typ, "kid": key.did.verification_method_id()});
    let h64 = URL_SAFE_NO_PAD.encode(header.to_string());
    let p64 = URL_SAFE_NO_PAD.encode(payload);
    let sig = key.secret.sign(format!("{h64}.{p64}").as_bytes());
    format!("{h64}.{p64}.{}", URL_SAFE_NO_PAD.encode(sig))
}
