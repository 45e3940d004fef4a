//! Cryptographic building blocks, each strict by construction: Ed25519 with `verify_strict` and
//! weak-key refusal, canonical multibase/Multikey, RFC 8785 canonical JSON over strictly parsed
//! I-JSON, SHA-256, JWK and RFC 9421 HTTP message signatures. Nothing here does I/O or reads the clock.
//!
//! A leaf: nothing here names another module of the crate (`tests/integration/architecture.rs`,
//! rule 5). The compact JWS keyed by `did:key` is [`crate::credential::jws`], beside the proofs.

pub mod digest;
pub mod ed25519;
pub mod httpsig;
pub mod jcs;
pub mod json;
pub mod jwk;
pub mod multibase;

pub use digest::Sha256Digest;
pub use ed25519::{PublicKey, SecretKey};
