//! Key vectors: RFC 8032 §7.1, did:key (CCG test vectors and the Multikey document example), RFC 8037.

use consentry::crypto::{PublicKey, SecretKey, jwk};
use consentry::identity::{DidKey, KeyFile};

use crate::common::{vector, vector_json};

#[test]
fn rfc8032_tests_1_to_3() {
    let v = vector_json("rfc8032/section-7.1-tests-1-3.json");
    for t in v["tests"].as_array().unwrap() {
        let seed: [u8; 32] = hex::decode(t["secretKeyHex"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let sk = SecretKey::from_seed(&seed);
        assert_eq!(
            hex::encode(sk.public_key().to_bytes()),
            t["publicKeyHex"].as_str().unwrap()
        );
        let msg = hex::decode(t["messageHex"].as_str().unwrap()).unwrap();
        let sig = sk.sign(&msg);
        assert_eq!(
            hex::encode(sig),
            t["signatureHex"].as_str().unwrap(),
            "{}",
            t["name"]
        );
        let pk = PublicKey::from_slice(&sk.public_key().to_bytes()).unwrap();
        pk.verify(&msg, &sig).unwrap();
        let mut bad = sig;
        bad[5] ^= 1;
        assert!(pk.verify(&msg, &bad).is_err());
    }
}

#[test]
fn ccg_did_key_vectors() {
    let v = vector_json("did-key/ed25519-x25519.ccg-did-method-key.json");
    let mut n = 0;
    for (did, entry) in v.as_object().unwrap() {
        let seed: [u8; 32] = hex::decode(entry["seed"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let from_seed = KeyFile::new(SecretKey::from_seed(&seed));
        assert_eq!(from_seed.did.as_str(), did);
        let parsed = DidKey::parse(did).unwrap();
        assert_eq!(parsed.public_key(), &SecretKey::from_seed(&seed).public_key());
        if let Some(b58) = entry["verificationKeyPair"]["publicKeyBase58"].as_str() {
            assert_eq!(
                bs58::decode(b58).into_vec().unwrap(),
                parsed.public_key().to_bytes()
            );
        }
        n += 1;
    }
    assert_eq!(n, 5);
}

#[test]
fn multikey_did_document_matches_the_spec_example() {
    let example = vector_json("did-key/did-document-example.multikey.json");
    let did = DidKey::parse(example["id"].as_str().unwrap()).unwrap();
    let mut doc = did.document();
    // The example also shows the optional X25519 keyAgreement (encryption-key derivation), which we
    // do not enable; every other member must be identical.
    let mut expected = example.clone();
    expected.as_object_mut().unwrap().remove("keyAgreement");
    doc.as_object_mut().unwrap().remove("keyAgreement");
    assert_eq!(doc, expected);
}

#[test]
fn rfc8037_appendix_a() {
    let v = vector_json("rfc8037/appendix-a.json");
    let public = jwk::public_key_from_jwk(&v["A.2_public_jwk"]).unwrap();
    assert_eq!(
        jwk::thumbprint(&public).to_hex(),
        v["A.3_thumbprint_sha256_hex"].as_str().unwrap()
    );
    assert_eq!(
        jwk::public_jwk(&public).to_string(),
        v["A.3_thumbprint_input"].as_str().unwrap()
    );
    // A.4: josekit reproduces the compact JWS byte for byte; A.5: it verifies.
    let private = josekit::jwk::Jwk::from_map(v["A.1_private_jwk"].as_object().unwrap().clone()).unwrap();
    let signer = josekit::jws::EdDSA.signer_from_jwk(&private).unwrap();
    let jws = josekit::jws::serialize_compact(
        v["A.4_payload_text"].as_str().unwrap().as_bytes(),
        &josekit::jws::JwsHeader::new(),
        &signer,
    )
    .unwrap();
    assert_eq!(jws, v["A.4_A.5_compact_jws"].as_str().unwrap());
    assert_eq!(jws, vector("rfc8037/a4-compact.jws").trim());
    let signing_input = v["A.4_signing_input"].as_str().unwrap();
    let sig = hex::decode(v["A.4_signature_hex"].as_str().unwrap()).unwrap();
    public.verify(signing_input.as_bytes(), &sig).unwrap();
}

#[test]
fn rfc8037_malleated_signature_is_refused() {
    let v = vector_json("rfc8037/appendix-a.json");
    let public = jwk::public_key_from_jwk(&v["A.2_public_jwk"]).unwrap();
    let jws = vector("derived/rfc8037-a4.reject.malleable-s-plus-l.jws");
    let (input, sig64) = jws.trim().rsplit_once('.').unwrap();
    use base64::Engine as _;
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sig64)
        .unwrap();
    assert!(public.verify(input.as_bytes(), &sig).is_err());
}

#[test]
fn weak_jwk_is_refused() {
    let weak = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"});
    assert!(matches!(
        jwk::public_key_from_jwk(&weak),
        Err(jwk::JwkError::Key(_))
    ));
    let x25519 = serde_json::json!({"kty": "OKP", "crv": "X25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
    assert!(matches!(
        jwk::public_key_from_jwk(&x25519),
        Err(jwk::JwkError::NotEd25519 { .. })
    ));
    // Non-canonical base64url (last character altered, same bytes).
    let noncanon = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURp"});
    assert_eq!(jwk::public_key_from_jwk(&noncanon), Err(jwk::JwkError::Encoding));
}

#[test]
fn key_file_round_trip_and_consistency() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.json");
    let kf = KeyFile::new(SecretKey::generate().unwrap());
    kf.write_new(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert_eq!(KeyFile::read(&path).unwrap().did, kf.did);
    assert!(kf.write_new(&path).is_err(), "never overwrites");
    // The W3C vector spells the secret privateKeyMultibase and has no did: add it and it reads.
    let mut other = serde_json::to_value(kf.to_json()).unwrap();
    other["did"] = "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw".into();
    assert!(KeyFile::from_json(&other.to_string(), "x").is_err());
}
