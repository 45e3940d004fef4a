//! Resolving verification methods to keys, with a bounded memory of recent answers.
//!
//! Decoding a did:key costs a base58 decode and a point decompression (a few microseconds); a busy
//! verifier meets the same enterprise keys again and again. The cache holds only successful
//! resolutions of `did:key` DID URLs, which are pure functions of their text, so a hit can never
//! answer differently from a fresh decode.

use std::collections::HashMap;
use std::sync::Mutex;

use super::did_key::{DidError, DidKey};

/// Resolves `did:key:z…#z…` verification-method URLs to keys.
#[derive(Debug)]
pub struct KeyResolver {
    cache: Mutex<HashMap<String, DidKey>>,
    capacity: usize,
}

impl Default for KeyResolver {
    fn default() -> Self {
        Self::new(100_000)
    }
}

impl KeyResolver {
    /// A resolver remembering up to `capacity` keys (0: no memory). When full, it starts afresh.
    pub fn new(capacity: usize) -> Self {
        Self {
            cache: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// The key of a verification method; see [`DidKey::from_verification_method`].
    pub fn resolve(&self, vm: &str) -> Result<DidKey, DidError> {
        if self.capacity == 0 {
            return DidKey::from_verification_method(vm);
        }
        if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(vm).cloned()) {
            return Ok(hit);
        }
        let key = DidKey::from_verification_method(vm)?;
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= self.capacity {
                cache.clear();
            }
            cache.insert(vm.to_owned(), key.clone());
        }
        Ok(key)
    }
}
