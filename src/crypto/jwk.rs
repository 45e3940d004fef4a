//! Ed25519 keys as JSON Web Keys (RFC 8037 §2: `{"kty":"OKP","crv":"Ed25519","x":…}`), strict: the
//! base64url must be canonical and unpadded, and the key must pass [`PublicKey::from_slice`] (so the
//! weak identity-point key is refused here too, before it can reach OpenSSL through josekit).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::Sha256Digest;
use super::ed25519::{KeyError, PublicKey, SecretKey};

/// Why a JWK was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwkError {
    /// `kty` is not `OKP` or `crv` is not `Ed25519`.
    #[error("not an Ed25519 OKP key (RFC 8037 §2): kty={kty:?}, crv={crv:?}")]
    NotEd25519 {
        /// The `kty` found.
        kty: Option<String>,
        /// The `crv` found.
        crv: Option<String>,
    },
    /// `x` is missing or not canonical unpadded base64url.
    #[error("JWK member x is missing or not canonical base64url")]
    Encoding,
    /// `x` is not an acceptable Ed25519 key.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Reads the public key of an Ed25519 OKP JWK.
pub fn public_key_from_jwk(jwk: &Value) -> Result<PublicKey, JwkError> {
    let kty = jwk.get("kty").and_then(Value::as_str);
    let crv = jwk.get("crv").and_then(Value::as_str);
    if kty != Some("OKP") || crv != Some("Ed25519") {
        return Err(JwkError::NotEd25519 {
            kty: kty.map(str::to_owned),
            crv: crv.map(str::to_owned),
        });
    }
    let x = jwk.get("x").and_then(Value::as_str).ok_or(JwkError::Encoding)?;
    let bytes = URL_SAFE_NO_PAD.decode(x).map_err(|_| JwkError::Encoding)?;
    Ok(PublicKey::from_slice(&bytes)?)
}

/// The public JWK of `key`, members in RFC 7638 order.
pub fn public_jwk(key: &PublicKey) -> Value {
    json!({"crv": "Ed25519", "kty": "OKP", "x": URL_SAFE_NO_PAD.encode(key.to_bytes())})
}

/// The private JWK of `key` (RFC 8037 §2, member `d` = the seed). Secret: never log it.
pub fn private_jwk(key: &SecretKey) -> Value {
    json!({
        "crv": "Ed25519",
        "kty": "OKP",
        "x": URL_SAFE_NO_PAD.encode(key.public_key().to_bytes()),
        "d": URL_SAFE_NO_PAD.encode(key.seed()),
    })
}

/// RFC 7638 JWK thumbprint (SHA-256) of an Ed25519 key, as RFC 8037 Appendix A.3 computes it.
pub fn thumbprint(key: &PublicKey) -> Sha256Digest {
    let input = format!(
        "{{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"{}\"}}",
        URL_SAFE_NO_PAD.encode(key.to_bytes())
    );
    Sha256Digest::of(input.as_bytes())
}
