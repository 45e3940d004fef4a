//! did:key (Ed25519, Multikey): a parsed DID is canonical (it prints back as given) and its Multikey
//! decodes to the same key.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(did) = consentry::identity::DidKey::parse(text) {
        assert_eq!(did.as_str(), text, "a did:key that is not canonical was accepted");
    }
    let _ = consentry::crypto::multibase::decode_public_multikey(text);
    let _ = consentry::crypto::multibase::decode_base58btc(text);
});
