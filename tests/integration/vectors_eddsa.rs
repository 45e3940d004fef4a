//! W3C vc-di-eddsa eddsa-jcs-2022 test vectors, byte for byte, and the derived edge cases.

use consentry::credential::data_integrity::{create_proof, hash_data, verify_proof};
use consentry::credential::{self, ProofError};
use consentry::crypto::json::Node;
use consentry::crypto::multibase::{decode_public_multikey, decode_secret_multikey};
use consentry::crypto::{Sha256Digest, jcs, json};
use consentry::identity::KeyFile;
use serde_json::Value;

use crate::common::{at, vector, vector_json};
use crate::jcs_reference::canonicalize_reference;

fn official_key() -> KeyFile {
    let kp = vector_json("eddsa-jcs-2022/keyPair.json");
    let secret = decode_secret_multikey(kp["privateKeyMultibase"].as_str().unwrap()).unwrap();
    let public = decode_public_multikey(kp["publicKeyMultibase"].as_str().unwrap()).unwrap();
    assert_eq!(
        secret.public_key(),
        public,
        "keyPair.json: public key is Ed25519(seed)"
    );
    KeyFile::new(secret)
}

fn now() -> time::OffsetDateTime {
    at("2026-11-29T00:00:00Z")
}

#[test]
fn every_intermediate_value_matches() {
    let unsigned = vector_json("eddsa-jcs-2022/unsigned.json");
    let canon = jcs::canonicalize(&unsigned).unwrap();
    assert_eq!(
        String::from_utf8(canon.clone()).unwrap(),
        vector("eddsa-jcs-2022/canonDocJCS.txt")
    );
    assert_eq!(
        Sha256Digest::of(&canon).to_hex(),
        vector("eddsa-jcs-2022/docHashJCS.txt").trim()
    );

    let proof_config = vector_json("eddsa-jcs-2022/proofConfigJCS.json");
    let proof_canon = jcs::canonicalize(&proof_config).unwrap();
    assert_eq!(
        String::from_utf8(proof_canon.clone()).unwrap(),
        vector("eddsa-jcs-2022/proofCanonJCS.txt")
    );
    assert_eq!(
        Sha256Digest::of(&proof_canon).to_hex(),
        vector("eddsa-jcs-2022/proofHashJCS.txt").trim()
    );

    let (p, d) = (
        Node::from_value(&proof_config).unwrap(),
        Node::from_value(&unsigned).unwrap(),
    );
    let combined = hash_data(p.as_object().unwrap(), &[], d.as_object().unwrap(), &[]).unwrap();
    assert_eq!(
        hex::encode(combined),
        vector("eddsa-jcs-2022/combinedHashJCS.txt").trim()
    );

    let sig = official_key().secret.sign(&combined);
    assert_eq!(hex::encode(sig), vector("eddsa-jcs-2022/sigHexJCS.txt").trim());
    assert_eq!(
        consentry::crypto::multibase::encode_base58btc(&sig),
        vector("eddsa-jcs-2022/sigBTC58JCS.txt").trim()
    );
}

#[test]
fn re_signing_reproduces_the_signed_vector() {
    let unsigned = vector_json("eddsa-jcs-2022/unsigned.json");
    let signed = create_proof(&unsigned, &official_key(), at("2023-02-24T23:36:38Z")).unwrap();
    assert_eq!(signed, vector_json("eddsa-jcs-2022/signedJCS.json"));
}

#[test]
fn the_signed_vector_verifies() {
    let bytes = vector("eddsa-jcs-2022/signedJCS.json");
    let v = credential::verify(bytes.as_bytes(), now()).unwrap();
    assert_eq!(
        v.signer.as_str(),
        "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    );
    // The vector's issuer is a URL, not the did:key: the proof is valid, the binding unproven.
    assert!(!v.issuer_bound);
    assert_eq!(
        Value::Object(v.document),
        vector_json("eddsa-jcs-2022/unsigned.json")
    );
}

#[test]
fn whitespace_and_member_order_do_not_matter() {
    let signed = vector_json("eddsa-jcs-2022/signedJCS.json");
    let compact = serde_json::to_string(&signed).unwrap();
    assert!(credential::verify(compact.as_bytes(), now()).is_ok());
    // Reverse every object's member order.
    fn reverse(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(m.iter().rev().map(|(k, v)| (k.clone(), reverse(v))).collect()),
            Value::Array(a) => Value::Array(a.iter().map(reverse).collect()),
            other => other.clone(),
        }
    }
    let text = serde_json::to_string_pretty(&reverse(&signed)).unwrap();
    assert!(credential::verify(text.as_bytes(), now()).is_ok());
}

fn mutate(path: &[&str], value: Value) -> Result<credential::VerifiedCredential, ProofError> {
    let mut doc = vector_json("eddsa-jcs-2022/signedJCS.json");
    let mut cur = &mut doc;
    for p in &path[..path.len() - 1] {
        cur = cur.get_mut(*p).unwrap();
    }
    cur.as_object_mut()
        .unwrap()
        .insert(path[path.len() - 1].to_owned(), value);
    credential::verify(serde_json::to_string(&doc).unwrap().as_bytes(), now())
}

#[test]
fn every_mutation_is_refused_with_its_own_reason() {
    use serde_json::json;
    assert_eq!(
        mutate(&["credentialSubject", "alumniOf"], json!("Another School")).unwrap_err(),
        ProofError::Signature
    );
    assert_eq!(
        mutate(&["proof", "created"], json!("2023-02-24T23:36:39Z")).unwrap_err(),
        ProofError::Signature
    );
    assert_eq!(
        mutate(&["proof", "proofPurpose"], json!("authentication")).unwrap_err(),
        ProofError::ProofPurpose("authentication".into())
    );
    assert_eq!(
        mutate(&["proof", "cryptosuite"], json!("eddsa-rdfc-2022")).unwrap_err(),
        ProofError::Cryptosuite("eddsa-rdfc-2022".into())
    );
    assert_eq!(
        mutate(&["proof", "type"], json!("Ed25519Signature2020")).unwrap_err(),
        ProofError::ProofType("Ed25519Signature2020".into())
    );
    assert_eq!(
        mutate(
            &["proof", "@context"],
            json!(["https://www.w3.org/ns/credentials/v2"])
        )
        .unwrap_err(),
        ProofError::Signature,
        "a shorter proof context is a valid prefix, but the signed proof config changes"
    );
    assert_eq!(
        mutate(
            &["proof", "@context"],
            json!(["https://www.w3.org/ns/credentials/examples/v2"])
        )
        .unwrap_err(),
        ProofError::ContextMismatch
    );
    assert_eq!(
        mutate(
            &["@context"],
            json!(["https://www.w3.org/ns/credentials/v2", "https://evil.example/v1"])
        )
        .unwrap_err(),
        ProofError::ContextMismatch
    );
    // Another key entirely.
    let other = "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw";
    assert_eq!(
        mutate(
            &["proof", "verificationMethod"],
            json!(format!("{other}#{}", &other[8..]))
        )
        .unwrap_err(),
        ProofError::Signature
    );
    assert!(matches!(
        mutate(
            &["proof", "verificationMethod"],
            json!("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#key-1")
        )
        .unwrap_err(),
        ProofError::VerificationMethod(_)
    ));
    assert!(matches!(
        mutate(&["proof", "created"], json!("2099-01-01T00:00:00Z")).unwrap_err(),
        ProofError::CreatedInFuture(_)
    ));
    assert!(matches!(
        mutate(&["proof", "expires"], json!("2024-01-01T00:00:00Z")).unwrap_err(),
        ProofError::ProofExpired(_)
    ));
}

#[test]
fn removing_the_proof_context_breaks_the_proof() {
    let mut doc = vector_json("eddsa-jcs-2022/signedJCS.json");
    doc["proof"].as_object_mut().unwrap().remove("@context");
    let err = credential::verify(doc.to_string().as_bytes(), now()).unwrap_err();
    assert_eq!(err, ProofError::Signature);
}

#[test]
fn rdfc_signed_credential_is_refused_not_reinterpreted() {
    let bytes = vector("eddsa-rdfc-2022/signedDataInt.json");
    assert_eq!(
        credential::verify(bytes.as_bytes(), now()).unwrap_err(),
        ProofError::Cryptosuite("eddsa-rdfc-2022".into())
    );
}

#[test]
fn leading_zero_byte_signatures_verify_and_reproduce() {
    for (file, created) in [
        (
            "derived/eddsa-jcs-2022.sig-1-leading-zero-byte.json",
            "2023-02-24T23:43:04Z",
        ),
        (
            "derived/eddsa-jcs-2022.sig-2-leading-zero-bytes.json",
            "2023-02-24T23:37:37Z",
        ),
    ] {
        let text = vector(file);
        assert!(credential::verify(text.as_bytes(), now()).is_ok(), "{file}");
        let signed = create_proof(
            &vector_json("eddsa-jcs-2022/unsigned.json"),
            &official_key(),
            at(created),
        )
        .unwrap();
        assert_eq!(signed, vector_json(file), "{file}");
        let pv = signed["proof"]["proofValue"].as_str().unwrap();
        assert!(pv.starts_with("z1"), "{file}: {pv}");
    }
}

#[test]
fn tricky_jcs_credential_canonicalizes_verifies_and_reproduces() {
    let unsigned_text = vector("derived/eddsa-jcs-2022.tricky-jcs.unsigned.json");
    let unsigned = json::parse_strict_str(&unsigned_text).unwrap();
    let canon = jcs::canonicalize(&unsigned).unwrap();
    assert_eq!(
        String::from_utf8(canon.clone()).unwrap(),
        vector("derived/eddsa-jcs-2022.tricky-jcs.canonical.txt")
    );
    assert_eq!(
        canonicalize_reference(&unsigned).unwrap(),
        canon,
        "serde_jcs agrees"
    );
    assert_eq!(
        Sha256Digest::of(&canon).to_hex(),
        vector("derived/eddsa-jcs-2022.tricky-jcs.docHash.txt").trim()
    );
    let signed_text = vector("derived/eddsa-jcs-2022.tricky-jcs.signed.json");
    assert!(credential::verify(signed_text.as_bytes(), now()).is_ok());
    let resigned = create_proof(&unsigned, &official_key(), at("2025-01-01T00:00:00Z")).unwrap();
    let expected = json::parse_strict_str(&signed_text).unwrap();
    assert_eq!(resigned["proof"]["proofValue"], expected["proof"]["proofValue"]);
}

#[test]
fn forgeries_are_refused() {
    let malleable = vector("derived/eddsa-jcs-2022.reject.malleable-s-plus-l.json");
    assert_eq!(
        credential::verify(malleable.as_bytes(), now()).unwrap_err(),
        ProofError::Signature
    );
    let weak = vector("derived/eddsa-jcs-2022.reject.weak-key-identity.json");
    assert!(matches!(
        credential::verify(weak.as_bytes(), now()).unwrap_err(),
        ProofError::VerificationMethod(consentry::identity::DidError::InvalidPublicKey(_))
    ));
}

#[test]
fn duplicate_members_and_unsafe_integers_are_refused_before_verifying() {
    let signed = vector("eddsa-jcs-2022/signedJCS.json");
    let dup = signed.replacen(
        "\"name\": \"Alumni Credential\",",
        "\"name\": \"Alumni Credential\", \"name\": \"X\",",
        1,
    );
    assert_ne!(dup, signed);
    assert!(matches!(
        credential::verify(dup.as_bytes(), now()).unwrap_err(),
        ProofError::Json(json::JsonError::DuplicateKey(_))
    ));
    let big = signed.replacen("\"name\": \"Alumni Credential\",", "\"n\": 9007199254740993,", 1);
    assert!(matches!(
        credential::verify(big.as_bytes(), now()).unwrap_err(),
        ProofError::Json(json::JsonError::UnsafeInteger(_))
    ));
}

#[test]
fn raw_verify_proof_api_matches_the_envelope_api() {
    let text = vector("eddsa-jcs-2022/signedJCS.json");
    let mut tree = json::parse(text.as_bytes()).unwrap();
    let v = verify_proof(&mut tree, now(), &consentry::identity::KeyResolver::default()).unwrap();
    assert_eq!(v.created, at("2023-02-24T23:36:38Z"));
    // The tree is now the unsecured document.
    assert_eq!(tree.to_value(), vector_json("eddsa-jcs-2022/unsigned.json"));
}
