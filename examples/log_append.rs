//! Throughput of the access log's group committer on release-shaped jobs, the path every release
//! takes after its checks (BENCHMARKS.md, "Statistics rollups").
//!
//! `cargo run --release --example log_append -- [sqlite|postgres://…] [entries] [concurrency] [rounds]`
//!
//! Each job does what the release job does under the log lock (src/node/release.rs): consume the
//! assertion id, read the caller's row and the grant's state, read and bump the grant's usage, append
//! a release entry (enterprise, grant, platform, bank, two or three categories). Jobs are submitted
//! by `concurrency` tasks at once so that the committer batches them as under load. Platforms, banks
//! and categories rotate so the statistics rollups see realistic spread (20 platforms, 200 banks,
//! 12 categories). Prints entries per second for each round and the median.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use consentry::clock::{Clock, SystemClock};
use consentry::crypto::Sha256Digest;
use consentry::log::entry::{AccessRecord, CategoryRef, EntryKind, GrantRef, PartyRef};
use consentry::storage::Store;
use consentry::storage::log_store::{Committer, NewEntry};

const CATEGORIES: [&str; 12] = [
    "TAX-01", "TAX-02", "TAX-03", "SOC-01", "SOC-02", "HPF-01", "REG-01", "REG-02", "JUD-01", "ENV-01",
    "UTL-01", "UTL-02",
];

/// A clock that moves one millisecond on every read. The committer reads it once per batch, so the
/// distinct instants jobs see (`Tx::now`) count the commits.
struct TickClock(AtomicI64);

impl Clock for TickClock {
    fn now(&self) -> time::OffsetDateTime {
        consentry::storage::from_millis(self.0.fetch_add(1, Ordering::Relaxed))
    }
}

/// CPU seconds (user + system) this process has used, from /proc/self/stat (Linux; 10 ms ticks).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // Fields 14 and 15 of the file (utime, stime) are the 12th and 13th after the command name.
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

fn uscc(prefix: &str, n: usize) -> String {
    format!("{prefix}{n:08}")
}

fn entry(i: usize) -> NewEntry {
    let platform = uscc("91440300PL", i % 20);
    let bank = (i % 3 != 0).then(|| uscc("9110000BK", (i % 20) * 10 + (i / 20) % 10));
    let enterprise = uscc("91330100EN", i % 5000);
    let grant = format!("urn:uuid:00000000-0000-4000-8000-{:012}", i % 5000);
    let digest = Sha256Digest::of(grant.as_bytes());
    let n = 2 + i % 2;
    let codes: Vec<&str> = (0..n)
        .map(|k| CATEGORIES[(i + k * 5) % CATEGORIES.len()])
        .collect();
    NewEntry {
        kind: EntryKind::Release,
        enterprise: Some(enterprise.clone()),
        grant: Some((grant.clone(), digest)),
        caller: Some(platform.clone()),
        platform: Some(platform.clone()),
        bank: bank.clone(),
        categories: Some(codes.join(",")),
        decision: Some("allowed".into()),
        record: AccessRecord {
            enterprise: Some(enterprise),
            caller: Some(PartyRef {
                uscc: platform.clone(),
                role: "platform".into(),
                did: Some("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK".into()),
            }),
            platform: Some(platform),
            bank,
            grant: Some(GrantRef {
                id: grant,
                sha256: digest.to_hex(),
            }),
            categories: codes
                .iter()
                .map(|c| CategoryRef {
                    code: (*c).to_owned(),
                    granularity: "derived".into(),
                    providers: vec!["STA".into()],
                })
                .collect(),
            purpose: Some("credit-approval".into()),
            decision: Some("allowed".into()),
            request_id: Some(format!("urn:uuid:{}", uuid::Uuid::new_v4())),
            data_sha256: Some(Sha256Digest::of(&i.to_be_bytes()).to_hex()),
            ..Default::default()
        },
    }
}

/// One round: (entries/s, commits).
fn round(committer: &Committer, start: usize, entries: usize, concurrency: usize) -> (f64, usize) {
    let t = std::time::Instant::now();
    let instants = actix_web::rt::System::new().block_on(async {
        let mut handles = Vec::new();
        for w in 0..concurrency {
            let c = committer.clone();
            handles.push(actix_web::rt::spawn(async move {
                let mut seen = Vec::new();
                let mut i = start + w;
                while i < start + entries {
                    let e = entry(i);
                    let jti = format!("bench-{}", uuid::Uuid::new_v4());
                    let grant = e.grant.as_ref().map(|(g, _)| g.clone()).unwrap_or_default();
                    let at = c
                        .run_sequenced(false, move |tx| {
                            let at = tx.now();
                            tx.consume_jti(&jti, "did:key:bench", i64::MAX)?;
                            tx.participant_state(1)?;
                            tx.grant_state(&grant)?;
                            tx.usage(&grant, "2026-11")?;
                            tx.count_use(&grant, "2026-11");
                            tx.append(e).map(|_| at)
                        })
                        .await
                        .unwrap();
                    seen.push(at);
                    i += concurrency;
                }
                seen
            }));
        }
        let mut all = std::collections::HashSet::new();
        for h in handles {
            all.extend(h.await.unwrap());
        }
        all
    });
    (entries as f64 / t.elapsed().as_secs_f64(), instants.len())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let db = args.first().cloned().unwrap_or_else(|| "sqlite".into());
    let entries: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let concurrency: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(256);
    let rounds: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(3);
    // Under target/ (ext4 here), not a tmpfs: fsync must cost what it costs.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp");
    std::fs::create_dir_all(&root).unwrap();
    let dir = tempfile::tempdir_in(root).unwrap();
    let url = if db == "sqlite" {
        format!("sqlite://{}", dir.path().join("bench.sqlite3").display())
    } else {
        db.clone()
    };
    let store = Store::open(&url, 8).unwrap();
    let clock = TickClock(AtomicI64::new(consentry::storage::millis(SystemClock.now())));
    let committer = Committer::start(&store, [7; 32], Arc::new(clock), 1024).unwrap();
    let mut rates = Vec::new();
    let mut cpus = Vec::new();
    for r in 0..rounds {
        let cpu0 = cpu_seconds();
        let (rate, commits) = round(&committer, r * entries, entries, concurrency);
        let cpu = (cpu_seconds() - cpu0) * 1e6 / entries as f64;
        println!(
            "round {r}: {entries} release jobs, {rate:.0} entries/s, {cpu:.0} µs CPU per entry ({commits} commits, mean batch {:.1})",
            entries as f64 / commits as f64
        );
        rates.push(rate);
        cpus.push(cpu);
    }
    rates.sort_by(f64::total_cmp);
    cpus.sort_by(f64::total_cmp);
    println!(
        "median: {:.0} entries/s, {:.0} µs CPU per entry, over {rounds} rounds ({} entries in the log)",
        rates[rates.len() / 2],
        cpus[cpus.len() / 2],
        rounds * entries
    );
}
