//! VC-JWT: the derived EdDSA vc+jwt vector, josekit interop both ways, and every refusal.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use consentry::credential::{self, ProofError, jwt};
use consentry::crypto::SecretKey;
use consentry::identity::KeyFile;
use serde_json::json;

use crate::common::{at, vector, vector_json};

fn rfc8032_test1_key() -> KeyFile {
    let seed: [u8; 32] = hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
        .unwrap()
        .try_into()
        .unwrap();
    KeyFile::new(SecretKey::from_seed(&seed))
}

fn now() -> time::OffsetDateTime {
    at("2026-11-29T00:00:00Z")
}

#[test]
fn derived_vector_verifies_both_ways() {
    let token = vector("vc-jose-cose/derived-eddsa-vc.jwt");
    let v = jwt::verify(token.trim(), now()).unwrap();
    assert_eq!(
        serde_json::Value::Object(v.document.clone()),
        vector_json("vc-jose-cose/derived-eddsa-vc.payload.json")
    );
    assert_eq!(v.signer, rfc8032_test1_key().did);
    jwt::verify_with_josekit(token.trim(), now()).unwrap();
    let through_envelope = credential::verify(token.as_bytes(), now()).unwrap();
    assert!(through_envelope.issuer_bound);
    assert_eq!(through_envelope.envelope, credential::Envelope::Jwt);
}

#[test]
fn our_tokens_verify_under_josekit_and_theirs_under_ours() {
    let key = rfc8032_test1_key();
    let cred = vector_json("vc-jose-cose/derived-eddsa-vc.payload.json");
    let token = jwt::sign(&cred, &key, at("2026-01-01T00:00:00Z")).unwrap();
    jwt::verify(&token, now()).unwrap();
    jwt::verify_with_josekit(&token, now()).unwrap();
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], "vc+jwt");
    assert_eq!(header["kid"], key.did.verification_method_id());
}

fn forge(header: serde_json::Value, payload: serde_json::Value, key: &KeyFile) -> String {
    let h = URL_SAFE_NO_PAD.encode(header.to_string());
    let p = URL_SAFE_NO_PAD.encode(payload.to_string());
    let sig = key.secret.sign(format!("{h}.{p}").as_bytes());
    format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(sig))
}

fn good_header(key: &KeyFile) -> serde_json::Value {
    json!({"alg": "EdDSA", "typ": "vc+jwt", "kid": key.did.verification_method_id()})
}

fn payload(key: &KeyFile) -> serde_json::Value {
    let mut p = vector_json("vc-jose-cose/derived-eddsa-vc.payload.json");
    p["issuer"] = key.did.as_str().into();
    p
}

#[test]
fn hand_built_token_is_accepted_so_the_refusals_below_mean_something() {
    let key = rfc8032_test1_key();
    jwt::verify(&forge(good_header(&key), payload(&key), &key), now()).unwrap();
}

#[test]
fn algorithm_confusion_is_refused() {
    let key = rfc8032_test1_key();
    for alg in ["none", "HS256", "ES256", "RS256", "Ed25519", "eddsa"] {
        let mut h = good_header(&key);
        h["alg"] = alg.into();
        assert_eq!(
            jwt::verify(&forge(h, payload(&key), &key), now()).unwrap_err(),
            ProofError::Algorithm(alg.into())
        );
    }
    // alg:none with an empty signature, the classic.
    let h =
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "kid": key.did.verification_method_id()}).to_string());
    let p = URL_SAFE_NO_PAD.encode(payload(&key).to_string());
    assert_eq!(
        jwt::verify(&format!("{h}.{p}."), now()).unwrap_err(),
        ProofError::Algorithm("none".into())
    );
    // HMAC keyed with the public key bytes: refused on alg before any MAC is computed.
    let mut h = good_header(&key);
    h["alg"] = "HS256".into();
    assert!(matches!(
        jwt::verify(&forge(h, payload(&key), &key), now()),
        Err(ProofError::Algorithm(_))
    ));
}

#[test]
fn header_refusals() {
    let key = rfc8032_test1_key();
    let mut h = good_header(&key);
    h["crit"] = json!(["b64"]);
    h["b64"] = json!(false);
    assert!(matches!(
        jwt::verify(&forge(h, payload(&key), &key), now()),
        Err(ProofError::Critical(_))
    ));
    let mut h = good_header(&key);
    h["typ"] = "JWT".into();
    assert!(matches!(
        jwt::verify(&forge(h, payload(&key), &key), now()),
        Err(ProofError::MediaType { .. })
    ));
    let mut h = good_header(&key);
    h.as_object_mut().unwrap().remove("kid");
    assert_eq!(
        jwt::verify(&forge(h, payload(&key), &key), now()).unwrap_err(),
        ProofError::MissingKid
    );
    let mut h = good_header(&key);
    h["kid"] = "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw#key-1".into();
    assert!(matches!(
        jwt::verify(&forge(h, payload(&key), &key), now()),
        Err(ProofError::VerificationMethod(_))
    ));
    // Another key named in kid: the signature cannot verify.
    let other = KeyFile::new(SecretKey::from_seed(&[7u8; 32]));
    let mut h = good_header(&key);
    h["kid"] = other.did.verification_method_id().into();
    assert_eq!(
        jwt::verify(&forge(h, payload(&key), &key), now()).unwrap_err(),
        ProofError::Signature
    );
}

#[test]
fn non_canonical_base64url_is_refused() {
    let key = rfc8032_test1_key();
    let token = forge(good_header(&key), payload(&key), &key);
    let (h, rest) = token.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    // Find a trailing character whose low bits are unused, then flip them: same bytes, other text.
    for (name, seg) in [("payload", p), ("signature", s)] {
        let last = seg.chars().last().unwrap();
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let idx = alphabet.iter().position(|&c| c as char == last).unwrap();
        let spare_bits = match seg.len() % 4 {
            2 => 4,
            3 => 2,
            _ => 0,
        };
        if spare_bits == 0 {
            continue;
        }
        let altered = alphabet[idx ^ 1] as char;
        let seg2 = format!("{}{}", &seg[..seg.len() - 1], altered);
        assert_eq!(
            URL_SAFE_NO_PAD.decode(seg).ok(),
            base64::engine::GeneralPurpose::new(
                &base64::alphabet::URL_SAFE,
                base64::engine::GeneralPurposeConfig::new()
                    .with_decode_allow_trailing_bits(true)
                    .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone),
            )
            .decode(&seg2)
            .ok(),
            "{name}: the altered text decodes to the same bytes"
        );
        let t = if name == "payload" {
            format!("{h}.{seg2}.{s}")
        } else {
            format!("{h}.{p}.{seg2}")
        };
        assert!(
            matches!(jwt::verify(&t, now()), Err(ProofError::Base64(_))),
            "{name}"
        );
    }
    // Padding is refused too.
    assert!(matches!(
        jwt::verify(&format!("{token}="), now()),
        Err(ProofError::Base64(_))
    ));
}

#[test]
fn time_claims_are_checked_by_us() {
    let key = rfc8032_test1_key();
    let mut p = payload(&key);
    p["exp"] = json!(1000);
    assert_eq!(
        jwt::verify(&forge(good_header(&key), p, &key), now()).unwrap_err(),
        ProofError::Expired(1000)
    );
    let mut p = payload(&key);
    p["nbf"] = json!(4_000_000_000i64);
    assert_eq!(
        jwt::verify(&forge(good_header(&key), p, &key), now()).unwrap_err(),
        ProofError::NotBefore(4_000_000_000)
    );
    let mut p = payload(&key);
    p["iat"] = json!(4_000_000_000i64);
    assert!(matches!(
        jwt::verify(&forge(good_header(&key), p, &key), now()),
        Err(ProofError::IssuedInFuture(_))
    ));
    let mut p = payload(&key);
    p["iss"] = "did:example:someone-else".into();
    assert!(matches!(
        jwt::verify(&forge(good_header(&key), p, &key), now()),
        Err(ProofError::IssMismatch { .. })
    ));
    let mut p = payload(&key);
    p["vc"] = json!({});
    assert_eq!(
        jwt::verify(&forge(good_header(&key), p, &key), now()).unwrap_err(),
        ProofError::ForbiddenClaim("vc")
    );
}

#[test]
fn weak_key_forgery_is_refused_by_both_paths() {
    let token = vector("derived/vc-jwt.reject.weak-key-identity.jwt");
    assert!(matches!(
        jwt::verify(token.trim(), now()),
        Err(ProofError::VerificationMethod(_))
    ));
    assert!(matches!(
        jwt::verify_with_josekit(token.trim(), now()),
        Err(ProofError::VerificationMethod(_))
    ));
}

#[test]
fn issuer_must_be_the_signing_did_key() {
    let key = rfc8032_test1_key();
    let mut p = payload(&key);
    p["issuer"] = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2".into();
    let token = forge(good_header(&key), p, &key);
    assert!(matches!(
        credential::verify(token.as_bytes(), now()),
        Err(ProofError::IssuerMismatch { .. })
    ));
}

#[test]
fn jwe_and_garbage_are_refused() {
    assert!(matches!(
        jwt::verify("a.b.c.d.e", now()),
        Err(ProofError::JwsFormat(_))
    ));
    assert!(matches!(
        credential::verify(b"  ", now()),
        Err(ProofError::UnknownEnvelope)
    ));
}
