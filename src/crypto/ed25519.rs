//! Ed25519 (RFC 8032) keys and signatures, strict by construction.
//!
//! A [`PublicKey`] can only be made from an encoding that is canonical, decodes to a curve point and
//! is not of small order ("weak"): with the identity point as key, the pair R = identity, S = 0 passes
//! the cofactorless verification equation for *every* message, and `ed25519-dalek`'s plain `verify`
//! as well as OpenSSL (hence josekit) accept it. [`PublicKey::verify`] uses `verify_strict`, which
//! also refuses S ≥ L (RFC 8032 §5.1.7) and small-order R.

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

/// Length of an Ed25519 public key, secret seed and half-signature.
pub const KEY_LEN: usize = 32;
/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// Why a public key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not 32 bytes.
    #[error("an Ed25519 public key is 32 bytes, got {0}")]
    Length(usize),
    /// The bytes are not the encoding of a point on the curve.
    #[error("not an Ed25519 curve point")]
    NotAPoint,
    /// The point has a second, non-canonical encoding and this is not the canonical one.
    #[error("non-canonical Ed25519 point encoding")]
    NonCanonical,
    /// A small-order point: signatures under it can be forged for every message.
    #[error("weak (small-order) Ed25519 public key: forgeable, refused")]
    Weak,
}

/// A signature did not verify under `verify_strict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Ed25519 signature does not verify (RFC 8032 §5.1.7, strict)")]
pub struct BadSignature;

/// Whether the 255-bit y coordinate of an encoded point is below p = 2^255 − 19 (RFC 8032 §5.1.3
/// step 1 makes decoding fail otherwise). The one other non-canonical form, x = 0 with the sign bit
/// set, only exists for the two small-order points y = ±1, which [`KeyError::Weak`] refuses anyway.
fn is_canonical_y(bytes: &[u8; KEY_LEN]) -> bool {
    // p in little-endian: ed ff … ff 7f. y ≥ p only if bytes 1..31 are all ff, byte 31 (sign bit
    // cleared) is 7f and byte 0 ≥ ed.
    let top = bytes[31] & 0x7f;
    !(top == 0x7f && bytes[1..31].iter().all(|&b| b == 0xff) && bytes[0] >= 0xed)
}

/// An Ed25519 public key that is a canonical, non-weak curve point.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", hex::encode(self.0.as_bytes()))
    }
}

impl PublicKey {
    /// Accepts `bytes` only if they are a canonical encoding of a curve point of large order.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        let arr: &[u8; KEY_LEN] = bytes.try_into().map_err(|_| KeyError::Length(bytes.len()))?;
        if !is_canonical_y(arr) {
            return Err(KeyError::NonCanonical);
        }
        let vk = VerifyingKey::from_bytes(arr).map_err(|_| KeyError::NotAPoint)?;
        if vk.is_weak() {
            return Err(KeyError::Weak);
        }
        Ok(Self(vk))
    }

    /// The 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; KEY_LEN] {
        self.0.to_bytes()
    }

    /// Verifies `signature` over `message` with `verify_strict`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), BadSignature> {
        let sig: &[u8; SIGNATURE_LEN] = signature.try_into().map_err(|_| BadSignature)?;
        let sig = ed25519_dalek::Signature::from_bytes(sig);
        self.0.verify_strict(message, &sig).map_err(|_| BadSignature)
    }
}

/// An Ed25519 secret key (the 32-byte seed of RFC 8032 §5.1.5). Zeroized on drop; never printed.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SecretKey(public: {})",
            hex::encode(self.0.verifying_key().as_bytes())
        )
    }
}

/// The operating system's random number generator failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the operating system's random number generator failed")]
pub struct RngError;

impl SecretKey {
    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, RngError> {
        let mut seed = [0u8; KEY_LEN];
        getrandom::fill(&mut seed).map_err(|_| RngError)?;
        Ok(Self::from_seed(&seed))
    }

    /// The key for a 32-byte seed.
    pub fn from_seed(seed: &[u8; KEY_LEN]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    /// The 32-byte seed. Handle with care: this is the secret.
    pub fn seed(&self) -> [u8; KEY_LEN] {
        self.0.to_bytes()
    }

    /// The matching public key. A key derived from a seed is never weak.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs `message` (pure Ed25519, deterministic).
    pub fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        self.0.sign(message).to_bytes()
    }
}

/// Fills `buf` from the operating system's CSPRNG.
pub fn random_bytes(buf: &mut [u8]) -> Result<(), RngError> {
    getrandom::fill(buf).map_err(|_| RngError)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_point_is_weak() {
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(PublicKey::from_slice(&identity), Err(KeyError::Weak));
    }

    #[test]
    fn non_canonical_encoding_is_refused() {
        // y = p (2^255 - 19) encodes y = 0 non-canonically.
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        assert!(PublicKey::from_slice(&p).is_err());
    }

    #[test]
    fn wrong_length_is_refused() {
        assert_eq!(PublicKey::from_slice(&[0u8; 31]), Err(KeyError::Length(31)));
    }
}
