//! Verification cost against its floor, measured interleaved so that the machine's drift affects both
//! alike: `cargo run --release --example profile_verify [di|jwt] [rounds]`. Also a perf/callgrind target.
#![allow(clippy::unwrap_used, missing_docs)]

fn time<F: FnMut()>(n: usize, mut f: F) -> f64 {
    let t = std::time::Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed().as_secs_f64() * 1e6 / n as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "di".into());
    let rounds: usize = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(15);
    let file = if which == "jwt" {
        "spec/examples/grant.signed.jwt"
    } else {
        "spec/examples/grant.signed.di.json"
    };
    let bytes = std::fs::read(file).unwrap();
    let catalog = consentry::catalog::Catalog::builtin();
    let keys = consentry::identity::KeyResolver::default();
    let now = time::macros::datetime!(2027-01-01 00:00 UTC);
    let key = consentry::crypto::SecretKey::from_seed(&[1; 32]);
    let msg = [7u8; 64];
    let sig = key.sign(&msg);
    let pk = key.public_key();
    if std::env::var("ONLY").is_ok() {
        // For callgrind: `ONLY=grant` or `ONLY=floor`, 1000 iterations of one side.
        let only = std::env::var("ONLY").unwrap();
        for _ in 0..1000 {
            if only == "grant" {
                consentry::grant::verify::verify_using(&bytes, &catalog, &keys, now).unwrap();
            } else {
                pk.verify(&msg, &sig).unwrap();
            }
        }
        return;
    }
    let (mut grant, mut floor, mut ratio) = (vec![], vec![], vec![]);
    for _ in 0..rounds {
        let g = time(2000, || {
            consentry::grant::verify::verify_using(&bytes, &catalog, &keys, now).unwrap();
        });
        let f = time(2000, || pk.verify(&msg, &sig).unwrap());
        grant.push(g);
        floor.push(f);
        ratio.push(g / f);
    }
    println!(
        "{which}: grant verify {:.1} µs, bare verify_strict(64 B) {:.1} µs, ratio {:.2} (medians of {rounds} interleaved rounds)",
        median(grant),
        median(floor),
        median(ratio)
    );
}
