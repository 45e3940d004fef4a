//! Per-request cost of what a platform runs offline for each bank request, the Rust side of
//! `clients/bench.sh` (the same inputs and iteration counts as the client libraries' benchmarks):
//! verify the grant (`spec/examples/grant.signed.*`, either envelope: proof, VC data model, every
//! rule, window; the enterprise key remembered by the resolver as the node does) and check its two
//! status bits against cached status lists (verified once when fetched; per request a TTL-checked
//! cache lookup and the bit read, as `platform::release::status_bit` does).
//!
//! Then the same with the grant from the node's verified-grant cache (`GrantCache`, a hit), as the
//! `…/cached` rows: what a platform pays for a grant it has seen before.
//!
//! `cargo run --release --example grant_status_bench -- [iterations]` (default 2000; a warm-up of
//! half that first). Prints `<envelope> <µs/op>` lines.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use consentry::catalog::Catalog;
use consentry::credential::{self, data_integrity};
use consentry::crypto::{SecretKey, Sha256Digest};
use consentry::grant::verify::{VerifiedGrant, verify_using};
use consentry::identity::{KeyFile, KeyResolver};
use consentry::status::{Bitstring, StatusEntry};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;
use time::macros::datetime;

type Lists = Mutex<HashMap<String, (OffsetDateTime, Arc<Bitstring>)>>;

fn status_bit(lists: &Lists, entry: &StatusEntry, now: OffsetDateTime) -> bool {
    let index = entry.index().unwrap();
    let list = lists
        .lock()
        .unwrap()
        .get(&entry.status_list_credential)
        .filter(|(at, _)| now - *at < time::Duration::minutes(5))
        .map(|(_, l)| Arc::clone(l))
        .expect("list cached");
    list.get(index).unwrap() == 1
}

fn once(
    bytes: &[u8],
    catalog: &Catalog,
    keys: &KeyResolver,
    lists: &Lists,
    now: OffsetDateTime,
) -> VerifiedGrant {
    let g = verify_using(bytes, catalog, keys, now).unwrap();
    assert!(!status_bit(lists, g.revocation_entry(), now) && !status_bit(lists, g.suspension_entry(), now));
    g
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let now = datetime!(2027-01-01 00:00 UTC);
    let catalog = Catalog::builtin();
    let keys = KeyResolver::default();
    // The node's signed lists (131,072 entries, none set), verified once as a platform does on fetch.
    let node = KeyFile::new(SecretKey::from_seed(&[9; 32]));
    let lists: Lists = Mutex::new(HashMap::new());
    for purpose in ["revocation", "suspension"] {
        let url = format!("https://node.example/status/1/{purpose}");
        let cred = json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"], "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": node.did.as_str(),
            "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {"id": format!("{url}#list"), "type": "BitstringStatusList",
                "statusPurpose": purpose, "encodedList": Bitstring::zeroed(131_072, 1).encode()},
        });
        let signed = data_integrity::create_proof(&cred, &node, datetime!(2026-01-01 00:00 UTC)).unwrap();
        let vc = credential::verify(signed.to_string().as_bytes(), now).unwrap();
        assert_eq!(vc.signer.as_str(), node.did.as_str());
        let bits = Bitstring::decode(
            vc.document["credentialSubject"]["encodedList"].as_str().unwrap(),
            1,
        )
        .unwrap();
        lists.lock().unwrap().insert(url, (now, Arc::new(bits)));
    }
    for (name, file) in [
        ("data-integrity", "spec/examples/grant.signed.di.json"),
        ("vc-jwt", "spec/examples/grant.signed.jwt"),
    ] {
        let bytes = std::fs::read(file).unwrap();
        for _ in 0..n / 2 {
            once(&bytes, &catalog, &keys, &lists, now);
        }
        let t = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(once(&bytes, &catalog, &keys, &lists, now));
        }
        println!("{name} {:.1}", t.elapsed().as_secs_f64() * 1e6 / n as f64);
    }
    // The same per request with the grant taken from the node's verified-grant cache (a hit: the
    // SHA-256 of the exact bytes and a map lookup, then the time checks, VerifiedGrant::check_time,
    // and the two status bits), as the node and the platform run it for a grant they saw before.
    let cache = consentry::node::GrantCache::default();
    for (name, file) in [
        ("data-integrity/cached", "spec/examples/grant.signed.di.json"),
        ("vc-jwt/cached", "spec/examples/grant.signed.jwt"),
    ] {
        let bytes = std::fs::read(file).unwrap();
        let cached = |bytes: &[u8]| {
            let g = cache
                .get_or_verify(Sha256Digest::of(credential::trim(bytes)), || {
                    verify_using(bytes, &catalog, &keys, now)
                })
                .unwrap();
            g.check_time(now).unwrap();
            assert!(
                !status_bit(&lists, g.revocation_entry(), now)
                    && !status_bit(&lists, g.suspension_entry(), now)
            );
            g
        };
        for _ in 0..n / 2 {
            cached(&bytes);
        }
        let t = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(cached(&bytes));
        }
        println!("{name} {:.1}", t.elapsed().as_secs_f64() * 1e6 / n as f64);
    }
}
