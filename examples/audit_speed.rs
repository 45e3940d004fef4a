//! Offline audit throughput over an evidence bundle (the brief's "offline audit ≥ 1 million
//! entries/s per core"):
//!
//! ```text
//! cargo run --release --example audit_speed -- [entries, default 1000000] [rounds, default 3]
//! ```
//!
//! Writes a realistic bundle of `entries` release entries to `target/tmp/audit-bundle-N.jsonl` (kept
//! and reused when present; delete it to regenerate) and its log key to `…-N.vkey`. The bundle is
//! what `consentry audit export` downloads (src/node/audit.rs `export`): its header, one line per
//! entry built the way `export` builds it (`json!` with `i`, `leaf`, `salt`, `record` in that order,
//! the record being the stored canonical text read back as a `Value`), then every checkpoint (one
//! every 100,000 entries and one at the end, signed by a fixed test key) each followed by the
//! consistency proof from the one before. The entries are made as the committer makes them
//! (src/storage/log_store.rs `Tx::append`): release records shaped like examples/log_append.rs
//! (enterprise, caller, platform, bank, grant id and digest, two or three categories, purpose,
//! decision, request id, data digest), a 32-byte salt, the salted commitment of the record's JCS
//! form, and the grant and subject chains.
//!
//! Then times `log::audit::audit_bundle` in this process over the file's bytes (`rounds` rounds;
//! each must verify with no failure), printing entries/s and MB/s against wall and thread CPU time;
//! then the same over the bundle with every record erased (`…-N-erased.jsonl`: the leaf and tree
//! checks alone). Also times `log::audit::audit_reader` streaming the first file from disk. Prints
//! the command lines to time the CLI on both files.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use consentry::clock::{Clock, SystemClock};
use consentry::crypto::{SecretKey, Sha256Digest};
use consentry::log::audit::{AuditOptions, BUNDLE_FORMAT, audit_bundle, audit_reader};
use consentry::log::checkpoint::Checkpoint;
use consentry::log::entry::{
    AccessRecord, CategoryRef, EntryKind, GrantRef, Leaf, NO_PREVIOUS, PartyRef, record_commitment,
    subject_tag,
};
use consentry::log::merkle::{self, MemoryTree};
use consentry::log::note::Signer;
use serde_json::{Value, json};

const ORIGIN: &str = "consentry.example.org/access-log";
const NODE_SEED: [u8; 32] = [0x5a; 32];
const TAG_KEY: [u8; 32] = [0x17; 32];
const CHECKPOINT_EVERY: u64 = 100_000;
const CATEGORIES: [&str; 12] = [
    "TAX-01", "TAX-02", "TAX-03", "SOC-01", "SOC-02", "HPF-01", "REG-01", "REG-02", "JUD-01", "ENV-01",
    "UTL-01", "UTL-02",
];

fn uscc(prefix: &str, n: u64) -> String {
    format!("{prefix}{n:08}")
}

/// A release record as examples/log_append.rs `entry()` makes it, deterministic in `i`.
fn record(i: u64) -> (String, String, Sha256Digest, AccessRecord) {
    let platform = uscc("91440300PL", i % 20);
    let bank = (i % 3 != 0).then(|| uscc("9110000BK", (i % 20) * 10 + (i / 20) % 10));
    let enterprise = uscc("91330100EN", i % 5000);
    let grant = format!("urn:uuid:00000000-0000-4000-8000-{:012}", i % 5000);
    let digest = Sha256Digest::of(grant.as_bytes());
    let n = 2 + i % 2;
    let categories = (0..n)
        .map(|k| CategoryRef {
            code: CATEGORIES[((i + k * 5) % 12) as usize].to_owned(),
            granularity: "derived".into(),
            providers: vec!["STA".into()],
        })
        .collect();
    // A v4-shaped request id, derived from `i` so that the bundle is reproducible.
    let r = Sha256Digest::of(&i.to_le_bytes()).to_hex();
    let request_id = format!(
        "urn:uuid:{}-{}-4{}-8{}-{}",
        &r[..8],
        &r[8..12],
        &r[13..16],
        &r[17..20],
        &r[20..32]
    );
    let rec = AccessRecord {
        enterprise: Some(enterprise.clone()),
        caller: Some(PartyRef {
            uscc: platform.clone(),
            role: "platform".into(),
            did: Some("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK".into()),
        }),
        platform: Some(platform),
        bank,
        grant: Some(GrantRef {
            id: grant.clone(),
            sha256: digest.to_hex(),
        }),
        categories,
        purpose: Some("credit-approval".into()),
        decision: Some("allowed".into()),
        request_id: Some(request_id),
        data_sha256: Some(Sha256Digest::of(&i.to_be_bytes()).to_hex()),
        ..Default::default()
    };
    (enterprise, grant, digest, rec)
}

/// The bundle `consentry audit export` would download from a node holding these entries.
fn generate(n: u64, signer: &Signer) -> Vec<u8> {
    let t = Instant::now();
    let mut out = Vec::with_capacity(n as usize * 900);
    let header = json!({
        "format": BUNDLE_FORMAT,
        "origin": ORIGIN,
        "logKey": signer.verifier_key().to_vkey(),
        "from": 0,
        "to": n,
    });
    out.extend_from_slice(header.to_string().as_bytes());
    out.push(b'\n');
    let mut tags: HashMap<String, [u8; 32]> = HashMap::new();
    let mut grant_heads: HashMap<[u8; 32], u64> = HashMap::new();
    let mut subject_heads: HashMap<[u8; 32], u64> = HashMap::new();
    let mut tree = MemoryTree::new();
    let t0 = 1_790_000_000_000u64;
    for i in 0..n {
        let (enterprise, _grant_id, digest, rec) = record(i);
        let tag = *tags
            .entry(enterprise.clone())
            .or_insert_with(|| subject_tag(&TAG_KEY, &enterprise));
        let salt = Sha256Digest::of_parts(&[b"salt", &i.to_be_bytes()]).0;
        let canonical = rec.canonical();
        let leaf = Leaf {
            kind: EntryKind::Release,
            seq: i,
            // The committer stamps a batch with one instant: about 8 entries a millisecond.
            time_ms: t0 + i / 8,
            grant_digest: digest.0,
            prev_same_grant: grant_heads.insert(digest.0, i).unwrap_or(NO_PREVIOUS),
            subject_tag: tag,
            prev_same_subject: subject_heads.insert(tag, i).unwrap_or(NO_PREVIOUS),
            record_commitment: record_commitment(&salt, &canonical),
        }
        .to_bytes();
        tree.push(&merkle::leaf_hash(&leaf)).unwrap();
        // As `export` writes it: the stored record text read back as a Value.
        let stored = String::from_utf8(canonical).unwrap();
        let line = json!({
            "i": i,
            "leaf": STANDARD.encode(leaf),
            "salt": Some(hex::encode(salt)),
            "record": serde_json::from_str::<Value>(&stored).ok(),
        });
        out.extend_from_slice(line.to_string().as_bytes());
        out.push(b'\n');
    }
    let mut sizes: Vec<u64> = (1..=n / CHECKPOINT_EVERY).map(|k| k * CHECKPOINT_EVERY).collect();
    if sizes.last() != Some(&n) && n > 0 {
        sizes.push(n);
    }
    let mut previous: Option<u64> = None;
    for &size in &sizes {
        let root = merkle::root(size, &tree).unwrap();
        let note = Checkpoint::new(ORIGIN, size, root)
            .unwrap()
            .sign(signer)
            .unwrap()
            .to_text()
            .unwrap();
        out.extend_from_slice(json!({"checkpoint": note}).to_string().as_bytes());
        out.push(b'\n');
        if let Some(p) = previous {
            let proof = merkle::consistency_proof(p, size, &tree).unwrap();
            let proof =
                json!({"from": p, "to": size, "proof": proof.iter().map(hex::encode).collect::<Vec<_>>()});
            out.extend_from_slice(json!({"consistency": proof}).to_string().as_bytes());
            out.push(b'\n');
        }
        previous = Some(size);
    }
    eprintln!(
        "generated {n} entries and {} checkpoints in {:.1} s ({:.0} MB)",
        sizes.len(),
        t.elapsed().as_secs_f64(),
        out.len() as f64 / 1e6
    );
    out
}

/// CPU seconds this thread has used (/proc/thread-self/schedstat, Linux): the machine may be shared.
fn thread_cpu() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse::<f64>().ok()))
        .map_or(f64::NAN, |ns| ns / 1e9)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().map_or(1_000_000, |a| a.parse().expect("entries"));
    let rounds: usize = args.next().map_or(3, |a| a.parse().expect("rounds"));
    let signer = Signer::new(ORIGIN, SecretKey::from_seed(&NODE_SEED)).unwrap();
    let vkey = signer.verifier_key().to_vkey();

    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tmp");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("audit-bundle-{n}.jsonl"));
    let key_path = dir.join(format!("audit-bundle-{n}.vkey"));
    let bundle = match std::fs::read(&path) {
        Ok(b) => {
            eprintln!("reusing {} ({:.0} MB)", path.display(), b.len() as f64 / 1e6);
            b
        }
        Err(_) => {
            let b = generate(n, &signer);
            std::fs::write(&path, &b).unwrap();
            b
        }
    };
    std::fs::write(&key_path, format!("{vkey}\n")).unwrap();
    let opts = || {
        let mut opts = AuditOptions::new(SystemClock.now());
        opts.log_key = Some(signer.verifier_key());
        opts
    };
    let rate = time_audit("records opened", &bundle, n, rounds, true, &opts);
    // From the file, never held in memory, as `consentry audit verify FILE` can read it.
    let (t, c) = (Instant::now(), thread_cpu());
    let file = std::fs::File::open(&path).unwrap();
    let report = audit_reader(file, opts(), &mut |_| {}).unwrap();
    let (wall, cpu) = (t.elapsed().as_secs_f64(), thread_cpu() - c);
    assert!(
        report.valid && report.records_opened == n,
        "{:#?}",
        report.failures
    );
    println!(
        "records opened, from the file (audit_reader): {:.3} s wall / {:.3} s CPU: {:.2} M entries/s per \
         core (CPU), {:.2} M/s wall",
        wall,
        cpu,
        n as f64 / cpu / 1e6,
        n as f64 / wall / 1e6
    );
    // The same log with every record erased (salt and record `null`): the leaf and tree checks
    // alone, as for a bundle whose records were deleted.
    let erased = erase_records(&bundle);
    let erased_path = dir.join(format!("audit-bundle-{n}-erased.jsonl"));
    std::fs::write(&erased_path, &erased).unwrap();
    let erased_rate = time_audit("records erased", &erased, n, rounds, false, &opts);
    println!(
        "best: {rate:.2} M entries/s per core with every record opened; {erased_rate:.2} M/s with records erased"
    );
    for p in [&path, &erased_path] {
        println!(
            "CLI: time target/release/consentry audit verify {} --log-key {vkey}",
            p.display()
        );
    }
}

/// Every entry line with its salt and record replaced by `null` (the export order: salt, record).
fn erase_records(bundle: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bundle.len() / 2);
    for line in bundle.split_inclusive(|&b| b == b'\n') {
        let cut = line
            .starts_with(b"{\"i\":")
            .then(|| line.windows(8).position(|w| w == b",\"salt\":"))
            .flatten();
        match cut {
            Some(at) => {
                out.extend_from_slice(&line[..at]);
                out.extend_from_slice(b",\"salt\":null,\"record\":null}\n");
            }
            None => out.extend_from_slice(line),
        }
    }
    out
}

/// Audits `bundle` `rounds` times; each must verify. The best rate, in M entries/s per core.
fn time_audit(
    what: &str,
    bundle: &[u8],
    n: u64,
    rounds: usize,
    records: bool,
    opts: &dyn Fn() -> AuditOptions,
) -> f64 {
    let mb = bundle.len() as f64 / 1e6;
    let mut best = f64::INFINITY;
    for round in 1..=rounds {
        let (t, c) = (Instant::now(), thread_cpu());
        let report = audit_bundle(bundle, opts(), &mut |_| {}).unwrap();
        let (wall, cpu) = (t.elapsed().as_secs_f64(), thread_cpu() - c);
        assert!(
            report.valid && report.failures.is_empty() && report.failures_omitted == 0,
            "the bundle does not verify: {:#?}",
            report.failures
        );
        assert_eq!(report.entries, n);
        assert_eq!(report.records_opened, if records { n } else { 0 });
        assert_eq!(report.records_erased, if records { 0 } else { n });
        assert!(report.key_pinned);
        best = best.min(cpu);
        println!(
            "{what}, round {round}: verified {} entries ({} records opened, {} erased, {} checkpoints, \
             {} consistency proofs) in {:.3} s wall / {:.3} s CPU: {:.2} M entries/s per core (CPU), \
             {:.2} M/s wall, {:.0} MB/s",
            report.entries,
            report.records_opened,
            report.records_erased,
            report.checkpoints,
            report.consistency_proofs,
            wall,
            cpu,
            n as f64 / cpu / 1e6,
            n as f64 / wall / 1e6,
            mb / cpu
        );
    }
    n as f64 / best / 1e6
}
