//! The `did:key` method for Ed25519 keys (W3C CCG did:key v0.9, "did:key Identifier Syntax",
//! "Document Creation Algorithm", "Signature Method Creation Algorithm").
//!
//! `did:key:z6Mk…` is `did:key:` + the key's Multikey `publicKeyMultibase`. Parsing refuses versioned
//! forms, other multicodecs, wrong lengths, non-canonical base58 and weak keys, with the error names
//! the spec uses (`invalidDid`, `invalidPublicKeyLength`, `invalidPublicKey`).

use serde_json::{Value, json};

use crate::crypto::PublicKey;
use crate::crypto::multibase::{self, MultibaseError};

/// Why a `did:key` or one of its DID URLs was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DidError {
    /// Not `did:key:z…` (spec error `invalidDid`).
    #[error("invalidDid: {0}")]
    InvalidDid(String),
    /// Decodes, but the key is not a usable Ed25519 key (spec errors `invalidPublicKey`,
    /// `invalidPublicKeyLength`, or an unsupported multicodec).
    #[error("invalidPublicKey: {0}")]
    InvalidPublicKey(MultibaseError),
    /// A DID URL whose fragment is not the key's own multibase value, so it names no method of this DID.
    #[error("invalidDidUrl: {0} is not a verification method of its did:key")]
    InvalidDidUrl(String),
}

/// A parsed `did:key` for an Ed25519 key. Holding one means the key is a strong, canonical point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DidKey {
    did: String,
    key: PublicKey,
}

/// Context of a DID document (DID Core 1.1).
pub const DID_CONTEXT: &str = "https://www.w3.org/ns/did/v1.1";

impl DidKey {
    /// Parses `did:key:z6Mk…`.
    pub fn parse(did: &str) -> Result<Self, DidError> {
        let value = did
            .strip_prefix("did:key:")
            .ok_or_else(|| DidError::InvalidDid(format!("{did:?} does not start with did:key:")))?;
        if value.contains(':') {
            return Err(DidError::InvalidDid(format!(
                "{did:?}: versioned or extended did:key forms are not accepted"
            )));
        }
        if !value.starts_with('z') {
            return Err(DidError::InvalidDid(format!(
                "{did:?}: method-specific id must start with 'z'"
            )));
        }
        let key = multibase::decode_public_multikey(value).map_err(|e| match e {
            MultibaseError::NotBase58Btc | MultibaseError::InvalidBase58 => {
                DidError::InvalidDid(format!("{did:?}: {e}"))
            }
            other => DidError::InvalidPublicKey(other),
        })?;
        Ok(Self {
            did: did.to_owned(),
            key,
        })
    }

    /// The `did:key` of `key`.
    pub fn from_public_key(key: &PublicKey) -> Self {
        Self {
            did: format!("did:key:{}", multibase::encode_public_multikey(key)),
            key: *key,
        }
    }

    /// The DID string.
    pub fn as_str(&self) -> &str {
        &self.did
    }

    /// The key.
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }

    /// The `publicKeyMultibase` value (the method-specific id).
    pub fn multibase(&self) -> &str {
        &self.did["did:key:".len()..]
    }

    /// The id of the one verification method: `did:key:z…#z…`.
    pub fn verification_method_id(&self) -> String {
        format!("{}#{}", self.did, self.multibase())
    }

    /// Resolves a verification-method DID URL `did:key:z…#z…`: the fragment must equal the key's
    /// multibase value (the only method a did:key document has).
    pub fn from_verification_method(url: &str) -> Result<Self, DidError> {
        let (did, fragment) = url
            .split_once('#')
            .ok_or_else(|| DidError::InvalidDidUrl(format!("{url:?} has no fragment")))?;
        let parsed = Self::parse(did)?;
        if fragment != parsed.multibase() {
            return Err(DidError::InvalidDidUrl(url.to_owned()));
        }
        Ok(parsed)
    }

    /// The DID document in Multikey form (did:key "Document Creation Algorithm", without X25519
    /// key-agreement derivation): one verification method, referenced from every relationship.
    pub fn document(&self) -> Value {
        let vm = self.verification_method_id();
        json!({
            "@context": [DID_CONTEXT],
            "id": self.did,
            "verificationMethod": [{
                "id": vm,
                "type": "Multikey",
                "controller": self.did,
                "publicKeyMultibase": self.multibase(),
            }],
            "authentication": [vm],
            "assertionMethod": [vm],
            "capabilityDelegation": [vm],
            "capabilityInvocation": [vm],
        })
    }
}

impl std::fmt::Display for DidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.did)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // RFC 8032 TEST 1 public key.
        let pk = PublicKey::from_slice(
            &hex::decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a").unwrap(),
        )
        .unwrap();
        assert_eq!(
            DidKey::from_public_key(&pk).as_str(),
            "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw"
        );
    }

    #[test]
    fn refuses_weak_key_and_bad_forms() {
        let weak = DidKey::parse("did:key:z6MkeXATEjyXENzBXBxgC5EHk2JE5aqd7qMGGtDpLUH1e2Sj");
        assert!(matches!(weak, Err(DidError::InvalidPublicKey(_))), "{weak:?}");
        for bad in [
            "did:web:example.com",
            "did:key:1:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw",
            "did:key:u6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw",
            "did:key:z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p",
            "did:key:z6Mktwupdm",
        ] {
            assert!(DidKey::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn verification_method_fragment_must_match() {
        let d = "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw";
        assert!(
            DidKey::from_verification_method(&format!(
                "{d}#z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw"
            ))
            .is_ok()
        );
        assert!(DidKey::from_verification_method(&format!("{d}#key-1")).is_err());
        assert!(DidKey::from_verification_method(d).is_err());
    }
}
