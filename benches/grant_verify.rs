//! Grant verification and signing costs, against the floor of one bare Ed25519 `verify_strict`.
//!
//! Run: `cargo bench --bench grant_verify`. Medians go to BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/support/jcs_reference.rs"]
mod jcs_reference;

use consentry::catalog::Catalog;
use consentry::credential::{data_integrity, jwt};
use consentry::crypto::{SecretKey, jcs, json};
use consentry::grant::model::{CategoryGrant, Granularity};
use consentry::grant::{self, GrantDraft};
use consentry::identity::{KeyFile, KeyResolver};
use criterion::{Criterion, black_box, criterion_group, criterion_main};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn at(t: &str) -> OffsetDateTime {
    OffsetDateTime::parse(t, &Rfc3339).unwrap()
}

fn grant_doc(key: &KeyFile, catalog: &Catalog) -> serde_json::Value {
    // The example grant, wider: REG-01 and UTL-02 too, SOC-01 onward, post-loan management.
    let mut d = GrantDraft::example(key.did.as_str())
        .with_category("REG-01", Granularity::Raw)
        .with_category("UTL-02", Granularity::Derived);
    d.terms.onward_recipients[0].categories.push(CategoryGrant {
        code: "SOC-01".into(),
        granularity: Granularity::Derived,
    });
    d.terms.purposes.push("post-loan-management".into());
    d.attach_current_letters(catalog);
    d.to_credential()
}

fn benches(c: &mut Criterion) {
    let catalog = Catalog::builtin();
    let key = KeyFile::new(SecretKey::from_seed(&[42u8; 32]));
    let doc = grant_doc(&key, &catalog);
    let created = at("2026-11-30T08:00:00Z");
    let now = at("2027-01-01T00:00:00Z");
    let di = serde_json::to_vec(&data_integrity::create_proof(&doc, &key, created).unwrap()).unwrap();
    let token = jwt::sign(&doc, &key, created).unwrap();
    eprintln!("grant sizes: DI {} bytes, VC-JWT {} bytes", di.len(), token.len());

    // Floors: one bare verify_strict over what each envelope signs (64 bytes of hashData for
    // eddsa-jcs-2022; the whole ASCII signing input for a JWS).
    let msg = [7u8; 64];
    let sig = key.secret.sign(&msg);
    let pk = key.secret.public_key();
    c.bench_function("floor/ed25519_verify_strict_64B", |b| {
        b.iter(|| pk.verify(black_box(&msg), &sig).unwrap())
    });
    let signing_input = token.rsplit_once('.').unwrap().0.as_bytes().to_vec();
    let jws_sig = key.secret.sign(&signing_input);
    eprintln!("JWS signing input {} bytes", signing_input.len());
    c.bench_function("floor/ed25519_verify_strict_jws_input", |b| {
        b.iter(|| pk.verify(black_box(&signing_input), &jws_sig).unwrap())
    });

    // First-seen grants from an enterprise whose key the verifier has met before (the node's case:
    // enterprises are registered), and with no key memory at all.
    let keys = KeyResolver::default();
    c.bench_function("grant_verify/di_eddsa_jcs_2022", |b| {
        b.iter(|| grant::verify::verify_using(black_box(&di), &catalog, &keys, now).unwrap())
    });
    c.bench_function("grant_verify/vc_jwt", |b| {
        b.iter(|| grant::verify::verify_using(black_box(token.as_bytes()), &catalog, &keys, now).unwrap())
    });
    c.bench_function("grant_verify/di_eddsa_jcs_2022_unknown_key", |b| {
        b.iter(|| grant::verify(black_box(&di), &catalog, now).unwrap())
    });
    c.bench_function("grant_verify/vc_jwt_unknown_key", |b| {
        b.iter(|| grant::verify(black_box(token.as_bytes()), &catalog, now).unwrap())
    });
    c.bench_function("proof_only/vc_jwt_josekit_openssl", |b| {
        b.iter(|| jwt::verify_with_josekit(black_box(&token), now).unwrap())
    });
    c.bench_function("proof_only/vc_jwt_dalek", |b| {
        b.iter(|| jwt::verify(black_box(&token), now).unwrap())
    });
    c.bench_function("proof_only/di_eddsa_jcs_2022", |b| {
        b.iter(|| consentry::credential::verify(black_box(&di), now).unwrap())
    });
    c.bench_function("sign/di_eddsa_jcs_2022", |b| {
        b.iter(|| data_integrity::create_proof(black_box(&doc), &key, created).unwrap())
    });
    c.bench_function("sign/vc_jwt_josekit", |b| {
        b.iter(|| jwt::sign(black_box(&doc), &key, created).unwrap())
    });

    let value = json::parse_strict(&di).unwrap();
    let tree = json::parse(&di).unwrap();
    c.bench_function("parts/parse_tree", |b| {
        b.iter(|| json::parse(black_box(&di)).unwrap())
    });
    c.bench_function("parts/jcs_tree", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(4096);
            jcs::write_node(black_box(&tree), &mut out).unwrap();
            out
        })
    });
    c.bench_function("parts/serde_json_from_slice", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&di)).unwrap())
    });
    c.bench_function("parts/jcs_from_value", |b| {
        b.iter(|| jcs::canonicalize(black_box(&value)).unwrap())
    });
    c.bench_function("parts/jcs_serde_jcs_reference", |b| {
        b.iter(|| jcs_reference::canonicalize_reference(black_box(&value)).unwrap())
    });
}

criterion_group! {
    name = group;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(group);
