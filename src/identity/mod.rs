//! Identities: Ed25519 keys as `did:key`, and key files.

pub mod did_key;
pub mod keyfile;
pub mod resolver;

pub use did_key::{DidError, DidKey};
pub use keyfile::{KeyFile, KeyFileError};
pub use resolver::KeyResolver;
