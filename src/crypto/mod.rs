//! Cryptographic building blocks, each strict by construction: Ed25519 with `verify_strict` and
//! weak-key refusal, canonical multibase/Multikey, RFC 8785 canonical JSON over strictly parsed
//! I-JSON, and SHA-256. Nothing here does I/O or reads the clock.

pub mod digest;
pub mod ed25519;
pub mod httpsig;
pub mod jcs;
pub mod json;
pub mod jwk;
pub mod jws;
pub mod multibase;

pub use digest::Sha256Digest;
pub use ed25519::{PublicKey, SecretKey};
