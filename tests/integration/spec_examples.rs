//! The examples in spec/examples verify exactly as spec/examples/README.md says.

use consentry::catalog::Catalog;
use consentry::grant;

use crate::common::at;

fn example(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("spec/examples")
            .join(name),
    )
    .unwrap()
}

#[test]
fn signed_examples_verify_and_refusals_name_their_rule() {
    let catalog = Catalog::builtin();
    let now = at("2027-01-01T00:00:00Z");
    let di = grant::verify(&example("grant.signed.di.json"), &catalog, now).unwrap();
    let jwt = grant::verify(&example("grant.signed.jwt"), &catalog, now).unwrap();
    assert_eq!(di.terms(), jwt.terms());
    assert_eq!(di.id().as_str(), "urn:uuid:3f9a6c2e-8a1b-4c55-9d0e-7b2f1a4c5d60");
    for (file, code) in [
        ("grant.invalid.bank-raw.di.json", "bank-raw-non-public"),
        ("grant.invalid.window.di.json", "vc-data-model"),
        ("grant.invalid.tampered.di.json", "bad-signature"),
        ("grant.invalid.alg-hs256.jwt", "jws-algorithm"),
    ] {
        let err = grant::verify(&example(file), &catalog, now).unwrap_err();
        let codes: Vec<String> = err.reasons().into_iter().map(|(c, _)| c).collect();
        assert_eq!(codes, vec![code.to_owned()], "{file}");
    }
}

#[test]
fn unsigned_example_passes_every_rule_and_signs_to_the_committed_bytes() {
    let unsigned: serde_json::Value = serde_json::from_slice(&example("grant.unsigned.json")).unwrap();
    grant::check_unsigned(&unsigned, &Catalog::builtin()).unwrap();
    let key = consentry::identity::KeyFile::from_json(
        std::str::from_utf8(&example("enterprise.key.json")).unwrap(),
        "enterprise.key.json",
    )
    .unwrap();
    let signed =
        consentry::credential::data_integrity::create_proof(&unsigned, &key, at("2026-11-30T08:00:00Z"))
            .unwrap();
    let committed: serde_json::Value = serde_json::from_slice(&example("grant.signed.di.json")).unwrap();
    assert_eq!(signed, committed);
}

/// The digests `spec/examples/README.md` gives are the SHA-256 of each file with surrounding
/// whitespace removed (what `consentry grant verify` prints), for every file it lists.
#[test]
fn the_readme_digests_are_the_files_digests() {
    let readme = String::from_utf8(example("README.md")).unwrap();
    let mut seen = 0;
    for line in readme.lines() {
        let Some(rest) = line.strip_prefix("* `") else {
            continue;
        };
        let Some((name, tail)) = rest.split_once("`: `") else {
            continue;
        };
        let Some(hex) = tail.strip_suffix('`') else {
            continue;
        };
        if hex.len() != 64 {
            continue;
        }
        let bytes = example(name);
        let got = consentry::crypto::Sha256Digest::of(consentry::credential::trim(&bytes)).to_hex();
        assert_eq!(got, hex, "{name}");
        seen += 1;
    }
    assert!(seen >= 2, "the README lists the signed examples' digests");
}
