//! Multibase base58-btc (`z…`) and the Ed25519 Multikey encodings (W3C Controlled Identifiers §2.2.2
//! "Multikey"; vc-di-eddsa §2.1.1).
//!
//! Base58-btc is a bijection between texts and byte strings (each leading `1` is one leading zero
//! byte, the rest is a base-58 number without leading zero digits), so decoding needs no
//! re-encoding check to be canonical; a property test holds us to that. Leading zero bytes are kept,
//! which matters for the 1 in 256 signatures that start with `0x00`.

use super::ed25519::{KEY_LEN, KeyError, PublicKey, SecretKey};

/// Multicodec varint of `ed25519-pub` (0xed).
pub const ED25519_PUB_PREFIX: [u8; 2] = [0xed, 0x01];
/// Multicodec varint of `ed25519-priv` (0x1300).
pub const ED25519_PRIV_PREFIX: [u8; 2] = [0x80, 0x26];

/// Why a multibase or Multikey value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MultibaseError {
    /// The value does not start with `z` (base58-btc).
    #[error("multibase value must be base58-btc with the 'z' prefix")]
    NotBase58Btc,
    /// A character outside the Bitcoin base58 alphabet.
    #[error("invalid base58-btc text")]
    InvalidBase58,

    /// The multicodec header names another key type.
    #[error("multicodec header {found} is not {expected}")]
    WrongCodec {
        /// What the header should have been, in hex.
        expected: &'static str,
        /// What it was, in hex.
        found: String,
    },
    /// Right header, wrong number of key bytes.
    #[error("key material after the multicodec header is {0} bytes, expected 32")]
    KeyLength(usize),
    /// The key bytes are not an acceptable Ed25519 public key.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// `z` + base58btc(bytes).
pub fn encode_base58btc(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(1 + bytes.len() * 138 / 100 + 1);
    s.push('z');
    s.push_str(&bs58::encode(bytes).into_string());
    s
}

/// Decodes a `z…` value, refusing anything but the canonical spelling.
pub fn decode_base58btc(text: &str) -> Result<Vec<u8>, MultibaseError> {
    let body = text.strip_prefix('z').ok_or(MultibaseError::NotBase58Btc)?;
    bs58::decode(body)
        .into_vec()
        .map_err(|_| MultibaseError::InvalidBase58)
}

fn strip_codec<'a>(
    bytes: &'a [u8],
    prefix: [u8; 2],
    expected: &'static str,
) -> Result<&'a [u8], MultibaseError> {
    match bytes.strip_prefix(&prefix[..]) {
        Some(rest) if rest.len() == KEY_LEN => Ok(rest),
        Some(rest) => Err(MultibaseError::KeyLength(rest.len())),
        None => Err(MultibaseError::WrongCodec {
            expected,
            found: hex::encode(&bytes[..bytes.len().min(2)]),
        }),
    }
}

/// The Multikey `publicKeyMultibase` of an Ed25519 key (`z6Mk…`).
pub fn encode_public_multikey(key: &PublicKey) -> String {
    let mut bytes = Vec::with_capacity(34);
    bytes.extend_from_slice(&ED25519_PUB_PREFIX);
    bytes.extend_from_slice(&key.to_bytes());
    encode_base58btc(&bytes)
}

/// Decodes a `publicKeyMultibase`: canonical `z`, header `ed01`, 32 bytes, strong canonical point.
pub fn decode_public_multikey(text: &str) -> Result<PublicKey, MultibaseError> {
    let bytes = decode_base58btc(text)?;
    let key = strip_codec(&bytes, ED25519_PUB_PREFIX, "ed01 (ed25519-pub)")?;
    Ok(PublicKey::from_slice(key)?)
}

/// The Multikey `secretKeyMultibase` of an Ed25519 seed (`z3u2…`).
pub fn encode_secret_multikey(key: &SecretKey) -> String {
    let mut bytes = Vec::with_capacity(34);
    bytes.extend_from_slice(&ED25519_PRIV_PREFIX);
    bytes.extend_from_slice(&key.seed());
    encode_base58btc(&bytes)
}

/// Decodes a `secretKeyMultibase`: canonical `z`, header `8026`, 32-byte seed.
pub fn decode_secret_multikey(text: &str) -> Result<SecretKey, MultibaseError> {
    let bytes = decode_base58btc(text)?;
    let seed = strip_codec(&bytes, ED25519_PRIV_PREFIX, "8026 (ed25519-priv)")?;
    let mut arr = [0u8; KEY_LEN];
    arr.copy_from_slice(seed);
    Ok(SecretKey::from_seed(&arr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_zero_bytes_survive() {
        let bytes = [0u8, 0, 7, 9];
        let text = encode_base58btc(&bytes);
        assert!(text.starts_with("z11"));
        assert_eq!(decode_base58btc(&text).unwrap(), bytes);
    }

    proptest::proptest! {
        /// Every base58 text decodes to bytes that encode back to the same text: one spelling per value.
        #[test]
        fn base58_is_a_bijection(text in "[1-9A-HJ-NP-Za-km-z]{0,60}") {
            let bytes = bs58::decode(&text).into_vec().unwrap();
            proptest::prop_assert_eq!(bs58::encode(&bytes).into_string(), text);
        }
    }

    #[test]
    fn rejects_other_bases_and_codecs() {
        assert_eq!(decode_base58btc("u AAA"), Err(MultibaseError::NotBase58Btc));
        assert_eq!(decode_base58btc("z0OIl"), Err(MultibaseError::InvalidBase58));
        // An X25519 key (0xec) is not an Ed25519 Multikey.
        let x25519 = "z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p";
        assert!(matches!(
            decode_public_multikey(x25519),
            Err(MultibaseError::WrongCodec { .. })
        ));
    }
}
