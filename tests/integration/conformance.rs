//! The shared conformance suite (spec/vectors/conformance.md): every case of
//! `spec/vectors/conformance.json` run against the Rust core, each outcome (accepted with the
//! expected value, or refused with the expected reason) compared with the manifest. The client
//! libraries in `clients/` run the same file; the counts per kind are printed so that the runs can
//! be compared line by line.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use consentry::catalog::Catalog;
use consentry::credential::datetime::parse_datetime_stamp;
use consentry::crypto::ed25519::{PublicKey, SecretKey};
use consentry::crypto::{jcs, json};
use consentry::identity::{DidError, DidKey, KeyFile};
use consentry::log::merkle;
use consentry::status::bitstring::{Bitstring, StatusListError};
use serde_json::Value;

/// What a case came to: accepted (with the value the case checks, if any) or refused with a reason.
type Outcome = Result<Option<Value>, String>;

fn manifest() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/vectors/conformance.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn s<'a>(c: &'a Value, k: &str) -> &'a str {
    c[k].as_str().unwrap_or_else(|| panic!("{}: {k}", c["id"]))
}

fn hex32(h: &str) -> Option<merkle::Hash> {
    hex::decode(h).ok()?.try_into().ok()
}

fn hashes(c: &Value, k: &str) -> Option<Vec<merkle::Hash>> {
    c[k].as_array()?.iter().map(|h| hex32(h.as_str()?)).collect()
}

fn json_reason(e: &json::JsonError) -> String {
    match e {
        json::JsonError::DuplicateKey(_) => "duplicate-key",
        json::JsonError::UnsafeInteger(_) => "unsafe-integer",
        _ => "invalid-json",
    }
    .to_owned()
}

fn did_reason(e: &DidError) -> String {
    match e {
        DidError::InvalidDid(_) => "invalidDid",
        _ => "invalidPublicKey",
    }
    .to_owned()
}

fn status_reason(e: &StatusListError) -> String {
    let t = e.to_string();
    t.split(':').next().unwrap_or("").to_owned()
}

fn number(bits: u64) -> Outcome {
    let f = f64::from_bits(bits);
    let n = serde_json::Number::from_f64(f).ok_or("not-a-finite-number")?;
    let out = jcs::canonicalize(&Value::Number(n)).map_err(|e| e.to_string())?;
    Ok(Some(Value::String(String::from_utf8(out).unwrap())))
}

fn at(c: &Value) -> time::OffsetDateTime {
    parse_datetime_stamp(s(c, "at")).unwrap()
}

fn run(c: &Value) -> Outcome {
    match s(c, "kind") {
        "jcs" => {
            let v = json::parse_strict_str(s(c, "input")).map_err(|e| json_reason(&e))?;
            let out = jcs::canonicalize(&v).map_err(|e| e.to_string())?;
            Ok(Some(Value::String(String::from_utf8(out).unwrap())))
        }
        "jcs-number" => number(u64::from_str_radix(s(c, "ieee754Hex"), 16).unwrap()),
        "jcs-numbers" => {
            let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(s(c, "file"));
            let text = std::fs::read_to_string(file).unwrap();
            let mut rows = 0;
            for line in text.lines().skip(1) {
                let mut cells = line.split(',');
                let (hexv, want) = (cells.next().unwrap(), cells.next().unwrap());
                let got = number(u64::from_str_radix(hexv, 16).unwrap())?;
                if got != Some(Value::String(want.to_owned())) {
                    return Err(format!("row {hexv}: {got:?}, want {want}"));
                }
                rows += 1;
            }
            Ok(Some(Value::from(rows)))
        }
        "did-key" => {
            let d = DidKey::parse(s(c, "did")).map_err(|e| did_reason(&e))?;
            Ok(Some(Value::String(hex::encode(d.public_key().to_bytes()))))
        }
        "ed25519-sign" => {
            let seed: [u8; 32] = hex::decode(s(c, "secretKeyHex")).unwrap().try_into().unwrap();
            let sig = SecretKey::from_seed(&seed).sign(&hex::decode(s(c, "messageHex")).unwrap());
            Ok(Some(Value::String(hex::encode(sig))))
        }
        "ed25519-verify" => {
            let key = PublicKey::from_slice(&hex::decode(s(c, "publicKeyHex")).unwrap())
                .map_err(|_| "weak-key".to_owned())?;
            key.verify(
                &hex::decode(s(c, "messageHex")).unwrap(),
                &hex::decode(s(c, "signatureHex")).unwrap(),
            )
            .map_err(|_| "invalid-signature".to_owned())?;
            Ok(None)
        }
        "data-integrity-verify" | "vc-jwt-verify" => {
            let input = if s(c, "kind") == "vc-jwt-verify" {
                s(c, "jwt")
            } else {
                s(c, "document")
            };
            let v = consentry::credential::verify(input.as_bytes(), at(c)).map_err(|e| match e {
                consentry::credential::ProofError::VerificationMethod(d) => did_reason(&d),
                e => e.code().to_owned(),
            })?;
            Ok(Some(Value::String(v.signer.as_str().to_owned())))
        }
        "data-integrity-sign" => {
            let secret =
                consentry::crypto::multibase::decode_secret_multikey(s(c, "secretKeyMultibase")).unwrap();
            let unsigned = json::parse_strict_str(s(c, "unsigned")).unwrap();
            let created = parse_datetime_stamp(s(c, "created")).unwrap();
            let signed = consentry::credential::data_integrity::create_proof(
                &unsigned,
                &KeyFile::new(secret),
                created,
            )
            .map_err(|e| e.to_string())?;
            Ok(Some(signed["proof"]["proofValue"].clone()))
        }
        "jws-verify" => {
            let jws = s(c, "jws");
            let mut parts = jws.split('.');
            let (Some(h), Some(p), Some(sig), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err("jws-format".into());
            };
            let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| "jws-base64".to_owned())?;
            let key = PublicKey::from_slice(&hex::decode(s(c, "publicKeyHex")).unwrap())
                .map_err(|_| "weak-key".to_owned())?;
            key.verify(format!("{h}.{p}").as_bytes(), &sig)
                .map_err(|_| "invalid-signature".to_owned())?;
            Ok(None)
        }
        "grant-verify" => {
            let g = consentry::grant::verify(s(c, "grant").as_bytes(), &Catalog::builtin(), at(c))
                .map_err(|e| e.reasons().first().map(|r| r.0.clone()).unwrap_or_default())?;
            Ok(Some(
                serde_json::json!({"grantId": g.id().as_str(), "envelope": g.envelope().short_name()}),
            ))
        }
        "status-list" => {
            let size = u8::try_from(c["statusSize"].as_u64().unwrap()).unwrap();
            let list = Bitstring::decode(s(c, "encodedList"), size).map_err(|e| status_reason(&e))?;
            let v = list
                .get(c["index"].as_u64().unwrap())
                .map_err(|e| status_reason(&e))?;
            Ok(Some(Value::from(v)))
        }
        "status-check" => {
            // The platform's per-request check, from the core's pieces: the list credential's proof,
            // the entry's purpose against the list's, the bit.
            let cred = consentry::credential::verify(s(c, "credential").as_bytes(), at(c))
                .map_err(|e| e.code().to_owned())?;
            let list = consentry::credential::verify(s(c, "statusListCredential").as_bytes(), at(c))
                .map_err(|e| e.code().to_owned())?;
            let entry = &cred.document["credentialStatus"];
            let subject = &list.document["credentialSubject"];
            if entry["statusListCredential"] != list.document["id"] {
                return Err("STATUS_RETRIEVAL_ERROR".into());
            }
            if entry["statusPurpose"] != subject["statusPurpose"] {
                return Err("STATUS_VERIFICATION_ERROR".into());
            }
            let bits = Bitstring::decode(subject["encodedList"].as_str().unwrap_or(""), 1)
                .map_err(|e| status_reason(&e))?;
            let index: u64 = entry["statusListIndex"]
                .as_str()
                .and_then(|i| i.parse().ok())
                .ok_or("RANGE_ERROR")?;
            Ok(Some(Value::from(bits.get(index).map_err(|e| status_reason(&e))?)))
        }
        "merkle-root" => {
            let leaves: Vec<merkle::Hash> = c["leavesHex"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| merkle::leaf_hash(&hex::decode(l.as_str().unwrap()).unwrap()))
                .collect();
            Ok(Some(Value::String(hex::encode(merkle::root_from_leaf_hashes(
                &leaves,
            )))))
        }
        "merkle-inclusion" => {
            let (Some(leaf), Some(root), Some(proof)) = (
                hex32(s(c, "leafHashHex")),
                hex32(s(c, "rootHex")),
                hashes(c, "proofHex"),
            ) else {
                return Err("malformed-hash".into());
            };
            merkle::verify_inclusion(
                c["index"].as_u64().unwrap(),
                c["treeSize"].as_u64().unwrap(),
                &leaf,
                &proof,
                &root,
            )
            .map_err(|e| e.to_string())?;
            Ok(None)
        }
        "merkle-consistency" => {
            let (Some(r1), Some(r2), Some(proof)) = (
                hex32(s(c, "root1Hex")),
                hex32(s(c, "root2Hex")),
                hashes(c, "proofHex"),
            ) else {
                return Err("malformed-hash".into());
            };
            merkle::verify_consistency(
                c["size1"].as_u64().unwrap(),
                c["size2"].as_u64().unwrap(),
                &r1,
                &r2,
                &proof,
            )
            .map_err(|e| e.to_string())?;
            Ok(None)
        }
        k => panic!("{}: unknown kind {k}", c["id"]),
    }
}

/// What the case expects as the accepted value, if it names one.
fn expected_value(c: &Value) -> Option<Value> {
    match s(c, "kind") {
        "jcs" | "jcs-number" => c.get("canonical").cloned(),
        "jcs-numbers" => c.get("rows").cloned(),
        "did-key" => c.get("publicKeyHex").cloned(),
        "ed25519-sign" => c.get("signatureHex").cloned(),
        "data-integrity-sign" => c.get("proofValue").cloned(),
        "grant-verify" => Some(serde_json::json!({"grantId": c["grantId"], "envelope": c["envelope"]})),
        "status-list" => c.get("value").cloned(),
        "status-check" => c.get("status").cloned(),
        "merkle-root" => c.get("rootHex").cloned(),
        _ => None,
    }
}

#[test]
fn every_conformance_case_holds_in_the_rust_core() {
    let m = manifest();
    assert_eq!(m["format"], "consentry-conformance/v1");
    let cases = m["cases"].as_array().unwrap();
    assert_eq!(m["total"].as_u64().unwrap() as usize, cases.len());
    let mut passed: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for c in cases {
        let outcome = run(c);
        let ok = match (s(c, "expect"), &outcome) {
            ("accept", Ok(got)) => match expected_value(c) {
                Some(want) => got.as_ref() == Some(&want),
                None => true,
            },
            ("reject", Err(reason)) => c
                .get("reason")
                .and_then(Value::as_str)
                .is_none_or(|want| want == reason),
            _ => false,
        };
        if ok {
            *passed.entry(s(c, "kind").to_owned()).or_default() += 1;
        } else {
            failures.push(format!(
                "{}: expect {} {}, got {:?}",
                c["id"],
                c["expect"],
                c.get("reason").map(ToString::to_string).unwrap_or_default(),
                outcome
            ));
        }
    }
    println!(
        "conformance (Rust core): {} of {} cases",
        cases.len() - failures.len(),
        cases.len()
    );
    for (kind, n) in &passed {
        println!("  {kind}: {n}");
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The per-kind counts the manifest states are the ones run.
    let counts: BTreeMap<String, usize> = m["counts"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap() as usize))
        .collect();
    assert_eq!(passed, counts);
}

#[test]
fn the_manifest_is_what_the_generator_writes() {
    let out = std::process::Command::new("python3")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/conformance.py"))
        .arg("--check")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
