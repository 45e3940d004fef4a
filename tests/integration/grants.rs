//! Grant verification: a good grant in both envelopes, and one refusal per rule, each with its own
//! reason; property tests for round trips and single-byte tampering.

use consentry::catalog::Catalog;
use consentry::credential::ProofError;
use consentry::credential::data_integrity::create_proof;
use consentry::credential::jwt;
use consentry::crypto::json::Node;
use consentry::crypto::{SecretKey, jcs};
use consentry::grant::draft::example;
use consentry::grant::model::{CategoryGrant, Granularity, Usage};
use consentry::grant::{self, GrantDraft, GrantError, Violation};
use consentry::identity::{KeyFile, KeyResolver};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::common::at;

pub const ENTERPRISE: &str = example::ENTERPRISE;
pub const BANK: &str = example::BANK;

pub fn enterprise_key() -> KeyFile {
    KeyFile::new(SecretKey::from_seed(&[42u8; 32]))
}

/// A valid draft: platform gets TAX-03 raw, SOC-01 derived, REG-01 raw; a bank gets TAX-03 derived.
pub fn draft(key: &KeyFile) -> GrantDraft {
    GrantDraft::example(key.did.as_str())
        .with_category("REG-01", Granularity::Raw)
        .with_current_letters(&Catalog::builtin())
}

pub fn inside() -> time::OffsetDateTime {
    at("2027-01-01T00:00:00Z")
}

pub fn sign_di(doc: &Value, key: &KeyFile) -> Vec<u8> {
    serde_json::to_vec_pretty(&create_proof(doc, key, at("2026-11-30T08:00:00Z")).unwrap()).unwrap()
}

fn verify(bytes: &[u8]) -> Result<grant::VerifiedGrant, GrantError> {
    grant::verify(bytes, &Catalog::builtin(), inside())
}

/// Signs `doc` (however wrong its terms) and returns the rule violations.
fn violations(doc: Value) -> Vec<Violation> {
    let key = enterprise_key();
    match verify(&sign_di(&doc, &key)) {
        Err(GrantError::Rules(v)) => v,
        other => panic!("expected rule violations, got {other:?}"),
    }
}

fn doc_with(edit: impl FnOnce(&mut GrantDraft)) -> Value {
    let key = enterprise_key();
    let mut d = draft(&key);
    edit(&mut d);
    d.to_credential()
}

#[test]
fn a_good_grant_verifies_in_both_envelopes() {
    let key = enterprise_key();
    let doc = draft(&key).to_credential();
    grant::check_unsigned(&doc, &Catalog::builtin()).unwrap();
    let g = verify(&sign_di(&doc, &key)).unwrap();
    assert_eq!(g.enterprise().as_str(), ENTERPRISE);
    assert_eq!(g.terms().letters.len(), 2, "STA and MOHRSS letters attached");
    assert_eq!(g.revocation_entry().status_list_index, "4242");
    let token = jwt::sign(&doc, &key, at("2026-11-30T08:00:00Z")).unwrap();
    let g2 = verify(token.as_bytes()).unwrap();
    assert_eq!(g2.terms(), g.terms());
    assert_ne!(
        g2.digest(),
        g.digest(),
        "the digest identifies the signed bytes, not the terms"
    );
}

#[test]
fn tampered_field() {
    let key = enterprise_key();
    let signed = String::from_utf8(sign_di(&draft(&key).to_credential(), &key)).unwrap();
    let tampered = signed.replace("\"derived\"", "\"raw\"");
    assert_ne!(signed, tampered);
    assert_eq!(
        verify(tampered.as_bytes()).unwrap_err(),
        GrantError::Proof(ProofError::Signature)
    );
}

#[test]
fn changed_proof_options() {
    let key = enterprise_key();
    let signed = String::from_utf8(sign_di(&draft(&key).to_credential(), &key)).unwrap();
    let later = signed.replace("2026-11-30T08:00:00Z", "2026-11-30T08:00:01Z");
    assert_eq!(
        verify(later.as_bytes()).unwrap_err(),
        GrantError::Proof(ProofError::Signature)
    );
    let purpose = signed.replace("\"assertionMethod\"", "\"authentication\"");
    assert_eq!(
        verify(purpose.as_bytes()).unwrap_err(),
        GrantError::Proof(ProofError::ProofPurpose("authentication".into()))
    );
}

#[test]
fn wrong_key() {
    let key = enterprise_key();
    let other = KeyFile::new(SecretKey::from_seed(&[7u8; 32]));
    let doc = draft(&key).to_credential();
    // Signing refuses a did:key issuer other than the key…
    assert!(create_proof(&doc, &other, at("2026-11-30T08:00:00Z")).is_err());
    // …so forge the proof by hand: the enterprise is the issuer, another key signs.
    let mut proof = serde_json::Map::new();
    proof.insert("type".into(), json!("DataIntegrityProof"));
    proof.insert("cryptosuite".into(), json!("eddsa-jcs-2022"));
    proof.insert("created".into(), json!("2026-11-30T08:00:00Z"));
    proof.insert(
        "verificationMethod".into(),
        json!(other.did.verification_method_id()),
    );
    proof.insert("proofPurpose".into(), json!("assertionMethod"));
    proof.insert("@context".into(), doc["@context"].clone());
    let proof_value = Value::Object(proof.clone());
    let (pn, dn) = (
        Node::from_value(&proof_value).unwrap(),
        Node::from_value(&doc).unwrap(),
    );
    let hash = consentry::credential::data_integrity::hash_data(
        pn.as_object().unwrap(),
        &[],
        dn.as_object().unwrap(),
        &[],
    )
    .unwrap();
    let sig = other.secret.sign(&hash);
    proof.insert(
        "proofValue".into(),
        json!(consentry::crypto::multibase::encode_base58btc(&sig)),
    );
    let mut signed = doc.clone();
    signed["proof"] = Value::Object(proof);
    let bytes = serde_json::to_vec(&signed).unwrap();
    // The proof itself is valid; the issuer did not make it.
    let mut tree = Node::from_value(&signed).unwrap();
    assert!(
        consentry::credential::data_integrity::verify_proof(&mut tree, inside(), &KeyResolver::default())
            .is_ok()
    );
    let err = verify(&bytes).unwrap_err();
    assert!(
        matches!(err, GrantError::Proof(ProofError::IssuerMismatch { .. })),
        "{err:?}"
    );
}

#[test]
fn expired_and_not_yet_valid() {
    let key = enterprise_key();
    let bytes = sign_di(&draft(&key).to_credential(), &key);
    let catalog = Catalog::builtin();
    let expired = grant::verify(&bytes, &catalog, at("2027-12-01T00:00:01Z")).unwrap_err();
    assert_eq!(
        expired,
        GrantError::Rules(vec![Violation::Expired("2027-12-01T00:00:00Z".into())])
    );
    let early = grant::verify(&bytes, &catalog, at("2026-11-30T23:59:59Z")).unwrap_err();
    assert_eq!(
        early,
        GrantError::Rules(vec![Violation::NotYetValid("2026-12-01T00:00:00Z".into())])
    );
    // The boundaries themselves are inside.
    assert!(grant::verify(&bytes, &catalog, at("2026-12-01T00:00:00Z")).is_ok());
    assert!(grant::verify(&bytes, &catalog, at("2027-12-01T00:00:00Z")).is_ok());
}

#[test]
fn bad_uscc() {
    let v = violations(doc_with(|d| {
        d.terms.enterprise.uscc = "91330100716105852E".into()
    }));
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(
        matches!(
            &v[0],
            Violation::InvalidUscc {
                party: "enterprise",
                ..
            }
        ),
        "{v:?}"
    );
    let v = violations(doc_with(|d| d.terms.grantee.uscc = "9144030070846113".into()));
    assert!(
        matches!(&v[0], Violation::InvalidUscc { party: "grantee", .. }),
        "{v:?}"
    );
}

#[test]
fn unknown_category() {
    let v = violations(doc_with(|d| {
        d.terms.categories.push(CategoryGrant {
            code: "XYZ-99".into(),
            granularity: Granularity::Derived,
        })
    }));
    assert_eq!(v, vec![Violation::UnknownCategory("XYZ-99".into())]);
}

#[test]
fn raw_non_public_data_to_a_bank() {
    let v = violations(doc_with(|d| {
        d.terms.onward_recipients[0].categories[0].granularity = Granularity::Raw
    }));
    assert_eq!(
        v,
        vec![Violation::BankRawNonPublic {
            bank: BANK.into(),
            code: "TAX-03".into()
        }]
    );
    // Raw *public* data may go to a bank (REG-01 is public), if the platform has it raw.
    let ok = doc_with(|d| {
        d.terms.onward_recipients[0].categories.push(CategoryGrant {
            code: "REG-01".into(),
            granularity: Granularity::Raw,
        })
    });
    grant::check_unsigned(&ok, &Catalog::builtin()).unwrap();
}

#[test]
fn bank_may_not_get_more_than_its_platform() {
    let v = violations(doc_with(|d| {
        d.terms.onward_recipients[0].categories.push(CategoryGrant {
            code: "HPF-01".into(),
            granularity: Granularity::Derived,
        })
    }));
    assert!(
        v.contains(&Violation::RecipientNotCovered {
            bank: BANK.into(),
            code: "HPF-01".into(),
            granularity: "derived"
        }),
        "{v:?}"
    );
}

#[test]
fn missing_letter() {
    let v = violations(doc_with(|d| {
        d.terms.letters.retain(|l| !l.id.starts_with("STA/"))
    }));
    assert_eq!(
        v,
        vec![Violation::MissingLetter {
            code: "TAX-03".into(),
            provider: "STA".into()
        }]
    );
}

#[test]
fn wrong_letter_digest_and_unknown_letter() {
    let v = violations(doc_with(|d| d.terms.letters[0].sha256 = "00".repeat(32)));
    assert!(matches!(v[0], Violation::LetterDigest { .. }), "{v:?}");
    assert_eq!(
        v.len(),
        2,
        "the digest mismatch also leaves the provider without a letter: {v:?}"
    );
    let v = violations(doc_with(|d| d.terms.letters[0].id = "STA/99".into()));
    assert!(v.contains(&Violation::UnknownLetter("STA/99".into())), "{v:?}");
}

#[test]
fn purposes_come_from_the_closed_vocabulary() {
    let v = violations(doc_with(|d| d.terms.purposes = vec!["marketing".into()]));
    assert_eq!(v, vec![Violation::UnknownPurpose("marketing".into())]);
    let v = violations(doc_with(|d| d.terms.purposes.clear()));
    assert_eq!(v, vec![Violation::NoPurposes]);
}

#[test]
fn every_violation_is_reported_at_once() {
    let v = violations(doc_with(|d| {
        d.terms.purposes = vec!["marketing".into()];
        d.terms.enterprise.uscc = "123".into();
        d.terms.data_period.from = "2027-01-01".into();
        d.terms.usage = Usage::Periodic {
            max_releases: 0,
            per: consentry::grant::model::RatePeriod::Day,
        };
    }));
    let codes: Vec<&str> = v.iter().map(Violation::code).collect();
    for code in ["unknown-purpose", "invalid-uscc", "data-period", "usage-rate"] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
}

#[test]
fn status_entries_are_required() {
    let mut doc = doc_with(|_| {});
    doc["credentialStatus"].as_array_mut().unwrap().pop();
    let v = violations(doc);
    assert_eq!(v, vec![Violation::Status("no suspension entry".into())]);
    let mut doc = doc_with(|_| {});
    doc["credentialStatus"][0]["statusListIndex"] = json!("04242");
    assert!(matches!(&violations(doc)[0], Violation::Status(_)));
}

#[test]
fn unknown_members_in_the_terms_are_refused() {
    let mut doc = doc_with(|_| {});
    doc["credentialSubject"]["marketingOptIn"] = json!(true);
    assert!(matches!(&violations(doc)[0], Violation::Malformed(_)));
}

#[test]
fn wrong_cryptosuite() {
    let key = enterprise_key();
    let mut signed: Value = serde_json::from_slice(&sign_di(&draft(&key).to_credential(), &key)).unwrap();
    signed["proof"]["cryptosuite"] = json!("ecdsa-jcs-2019");
    assert_eq!(
        verify(&serde_json::to_vec(&signed).unwrap()).unwrap_err(),
        GrantError::Proof(ProofError::Cryptosuite("ecdsa-jcs-2019".into()))
    );
}

#[test]
fn jwt_algorithm_confusion_on_a_grant() {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    let key = enterprise_key();
    let token = jwt::sign(&draft(&key).to_credential(), &key, at("2026-11-30T08:00:00Z")).unwrap();
    let (_, rest) = token.split_once('.').unwrap();
    let header = B64.encode(
        json!({"alg": "HS256", "typ": "vc+jwt", "kid": key.did.verification_method_id()}).to_string(),
    );
    let forged = format!("{header}.{rest}");
    assert_eq!(
        verify(forged.as_bytes()).unwrap_err(),
        GrantError::Proof(ProofError::Algorithm("HS256".into()))
    );
}

#[test]
fn a_credential_that_is_not_a_grant_is_refused_as_such() {
    let key = enterprise_key();
    let mut doc = draft(&key).to_credential();
    doc["type"] = json!(["VerifiableCredential", "AlumniCredential"]);
    assert!(violations(doc).contains(&Violation::NotAGrant));
}

fn compact_signed_grant() -> Vec<u8> {
    let key = enterprise_key();
    let signed = create_proof(&draft(&key).to_credential(), &key, at("2026-11-30T08:00:00Z")).unwrap();
    jcs::canonicalize(&signed).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Any single-byte change to a signed grant (compact form, or VC-JWT) makes verification fail.
    #[test]
    fn any_single_byte_change_fails(pos in any::<prop::sample::Index>(), delta in 1u8..=255, jwt_form: bool) {
        let key = enterprise_key();
        let mut bytes = if jwt_form {
            jwt::sign(&draft(&key).to_credential(), &key, at("2026-11-30T08:00:00Z")).unwrap().into_bytes()
        } else {
            compact_signed_grant()
        };
        prop_assert!(verify(&bytes).is_ok());
        let i = pos.index(bytes.len());
        bytes[i] = bytes[i].wrapping_add(delta);
        // Surrounding whitespace is trimmed by design; a changed first/last byte into whitespace is
        // still a change of the JSON text and must fail too.
        prop_assert!(verify(&bytes).is_err(), "byte {} changed by {} still verifies", i, delta);
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-(1i64 << 53) + 1..(1i64 << 53)).prop_map(|i| json!(i)),
        any::<f64>()
            .prop_filter_map("finite", serde_json::Number::from_f64)
            .prop_map(Value::Number),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(12, 128, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("\\PC{0,8}|[\\u{1F600}\\u{FB33}\\r1€ö]{1,3}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Credentials with arbitrary subjects (Unicode keys, odd numbers, deep nesting) round-trip
    /// through both envelopes, and changing the subject breaks them.
    #[test]
    fn sign_verify_round_trip(subject in arb_json()) {
        let key = KeyFile::new(SecretKey::from_seed(&[9u8; 32]));
        let doc = json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": key.did.as_str(),
            "credentialSubject": {"data": subject},
        });
        let now = at("2026-12-01T00:00:00Z");
        let di = create_proof(&doc, &key, now).unwrap();
        let text = serde_json::to_vec(&di).unwrap();
        let canon = jcs::canonicalize(&doc).unwrap();
        let v = consentry::credential::verify(&text, now).unwrap();
        prop_assert_eq!(jcs::canonicalize(&Value::Object(v.document)).unwrap(), canon.clone());
        // The VC-JWT payload is canonical JSON, so -0.0 comes back as 0: compare canonical forms.
        let token = jwt::sign(&doc, &key, now).unwrap();
        let v = consentry::credential::verify(token.as_bytes(), now).unwrap();
        prop_assert_eq!(jcs::canonicalize(&Value::Object(v.document)).unwrap(), canon);
        let mut changed = di.clone();
        changed["credentialSubject"]["data"] = json!(["changed"]);
        if changed != di {
            prop_assert!(consentry::credential::verify(&serde_json::to_vec(&changed).unwrap(), now).is_err());
        }
    }
}

#[test]
fn status_entries_must_form_one_slot() {
    let mut doc = doc_with(|_| {});
    doc["credentialStatus"][1]["statusListIndex"] = json!("4243");
    doc["credentialStatus"][1]["id"] = json!("https://node.example/status/1/suspension#4243");
    assert!(matches!(&violations(doc)[..], [Violation::Status(m)] if m.contains("share one index")));
    let mut doc = doc_with(|_| {});
    doc["credentialStatus"][1]["statusListCredential"] = json!("https://other.example/status/1/suspension");
    assert!(matches!(&violations(doc)[..], [Violation::Status(_)]));
}

#[test]
fn unexpected_top_level_members_are_refused() {
    let mut doc = doc_with(|_| {});
    doc["termsOfUse"] = json!([{"type": "ODRLPolicy"}]);
    assert_eq!(
        violations(doc),
        vec![Violation::UnexpectedMember("termsOfUse".into())]
    );
    // name and description are allowed.
    let mut doc = doc_with(|_| {});
    doc["name"] = json!("融资授权");
    doc["description"] = json!("授信审批用");
    grant::check_unsigned(&doc, &Catalog::builtin()).unwrap();
}

#[test]
fn positional_arrays_and_stray_members_are_refused() {
    let mut doc = doc_with(|_| {});
    doc["credentialSubject"]["dataPeriod"] = json!(["2024-01-01", "2026-10-31"]);
    assert!(
        matches!(&violations(doc)[..], [Violation::Malformed(m)] if m.contains("dataPeriod")),
        "arrays for objects"
    );
    let mut doc = doc_with(|d| d.terms.usage = Usage::OneOff {});
    doc["credentialSubject"]["usage"]["maxReleases"] = json!(3);
    assert!(
        matches!(&violations(doc)[..], [Violation::Malformed(m)] if m.contains("usage")),
        "one-off with a rate"
    );
    let mut doc = doc_with(|_| {});
    doc["credentialSubject"] = json!([doc["credentialSubject"].clone()]);
    assert!(matches!(&violations(doc)[..], [Violation::Malformed(_)]));
}

#[test]
fn repeats_and_empty_names_are_refused() {
    let v = violations(doc_with(|d| d.terms.purposes.push("credit-approval".into())));
    assert_eq!(v, vec![Violation::DuplicatePurpose("credit-approval".into())]);
    let v = violations(doc_with(|d| {
        let first = d.terms.letters[0].clone();
        d.terms.letters.push(first);
    }));
    assert!(matches!(&v[..], [Violation::DuplicateLetter(_)]), "{v:?}");
    let v = violations(doc_with(|d| d.terms.grantee.name = "  ".into()));
    assert_eq!(v, vec![Violation::Malformed("grantee name is empty".into())]);
}
