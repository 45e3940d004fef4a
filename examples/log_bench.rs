//! Access-log figures (BENCHMARKS.md, "Access log and service"):
//!
//! ```text
//! cargo run --release --example log_bench -- [append|proofs|verify|all] [--sizes 1000000,10000000]
//!     [--rounds 3] [--no-pg] [--pg postgres://postgres@127.0.0.1:5432]
//! ```
//!
//! * `append`: appends per second through [`Committer`] on SQLite (WAL, `synchronous=FULL`) and on
//!   PostgreSQL (`synchronous_commit=on`), one job per commit awaited one at a time ("single"), and
//!   many concurrent jobs merged into group commits ("batched"), with the mean batch size. Entries are
//!   minimal (no enterprise, no grant: no chain heads) or release-like (enterprise, grant and parties:
//!   two chain-head updates and a full record).
//! * `proofs`: inclusion and consistency proofs from the stored tree at each size, read from the
//!   database (`node::audit::inclusion` / `consistency`, as the HTTP API serves them, and the bare
//!   `merkle::inclusion_proof` over `DbNodes`). The tree is bulk-inserted (every complete subtree of
//!   the size, as the committer would have stored it) rather than appended entry by entry.
//! * `verify`: full-log verification speed: recomputing the root from the leaf bytes, in memory and
//!   reading the leaves from the database in pages of 10,000 (as `/v1/log/leaves` does).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use consentry::clock::{Clock, SystemClock};
use consentry::crypto::Sha256Digest;
use consentry::log::entry::{
    AccessRecord, CategoryRef, EntryKind, GrantRef, LEAF_LEN, Leaf, NO_PREVIOUS, PartyRef,
};
use consentry::log::merkle::{self, CompactRange, Hash};
use consentry::storage::log_store::{Committer, DbNodes, NewEntry};
use consentry::storage::schema::{log_leaves, log_nodes, log_state};
use consentry::storage::{DbConn, Store};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use time::OffsetDateTime;

/// A clock that moves one millisecond on every read. The committer reads it once per batch, so the
/// batch instant a job sees (`Tx::now`) names its commit: distinct instants = commits.
struct TickClock(AtomicI64);

impl TickClock {
    fn new() -> Self {
        Self(AtomicI64::new(consentry::storage::millis(SystemClock.now())))
    }
}

impl Clock for TickClock {
    fn now(&self) -> OffsetDateTime {
        consentry::storage::from_millis(self.0.fetch_add(1, Ordering::Relaxed))
    }
}

/// A database made for one measurement, removed afterwards.
enum Db {
    Sqlite(tempfile::TempDir),
    Pg { base: String, name: String },
}

impl Db {
    fn sqlite() -> Self {
        // Under target/ (ext4 on the CI machine), not a tmpfs: fsync must cost what it costs.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp");
        std::fs::create_dir_all(&root).unwrap();
        Self::Sqlite(tempfile::tempdir_in(root).unwrap())
    }

    fn pg(base: &str) -> Self {
        let name = format!("consentry_bench_{}", uuid::Uuid::new_v4().simple());
        let mut admin = diesel::PgConnection::establish(&format!("{base}/postgres")).unwrap();
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .unwrap();
        Self::Pg {
            base: base.to_owned(),
            name,
        }
    }

    fn url(&self) -> String {
        match self {
            Self::Sqlite(dir) => format!("sqlite://{}", dir.path().join("log.sqlite3").display()),
            Self::Pg { base, name } => format!("{base}/{name}"),
        }
    }

    fn label(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "SQLite",
            Self::Pg { .. } => "PostgreSQL",
        }
    }

    /// Bytes on disk (SQLite file and WAL; PostgreSQL database size).
    fn size_bytes(&self, conn: &mut DbConn) -> u64 {
        match self {
            Self::Sqlite(dir) => std::fs::read_dir(dir.path())
                .unwrap()
                .filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum(),
            Self::Pg { name, .. } => {
                #[derive(QueryableByName)]
                struct Size {
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    size: i64,
                }
                let DbConn::Pg(c) = conn else { return 0 };
                let s: Size = diesel::sql_query(format!("SELECT pg_database_size('{name}') AS size"))
                    .get_result(c)
                    .unwrap();
                u64::try_from(s.size).unwrap_or(0)
            }
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Self::Pg { base, name } = self {
            if let Ok(mut admin) = diesel::PgConnection::establish(&format!("{base}/postgres")) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn minimal_entry() -> NewEntry {
    NewEntry {
        kind: EntryKind::Release,
        enterprise: None,
        grant: None,
        caller: None,
        platform: None,
        bank: None,
        categories: None,
        decision: None,
        record: AccessRecord::default(),
    }
}

/// An entry shaped like a release: enterprise (one of 100), grant (one of 1,000), parties, a record
/// with every field a release fills.
fn release_entry(i: u64) -> NewEntry {
    let enterprise = format!("9133010071610{:04}F", i % 100);
    let grant_id = format!("urn:uuid:00000000-0000-4000-8000-{:012}", i % 1000);
    let digest = Sha256Digest::of(grant_id.as_bytes());
    NewEntry {
        kind: EntryKind::Release,
        enterprise: Some(enterprise.clone()),
        grant: Some((grant_id.clone(), digest)),
        caller: Some("91440300708461136T".into()),
        platform: Some("91440300708461136T".into()),
        bank: Some("911000001000013428".into()),
        categories: Some("TAX-03".into()),
        decision: Some("allowed".into()),
        record: AccessRecord {
            enterprise: Some(enterprise),
            caller: Some(PartyRef {
                uscc: "91440300708461136T".into(),
                role: "platform".into(),
                did: Some("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK".into()),
            }),
            platform: Some("91440300708461136T".into()),
            bank: Some("911000001000013428".into()),
            grant: Some(GrantRef {
                id: grant_id,
                sha256: digest.to_hex(),
            }),
            categories: vec![CategoryRef {
                code: "TAX-03".into(),
                granularity: "derived".into(),
                providers: vec!["STA".into()],
            }],
            purpose: Some("credit-approval".into()),
            decision: Some("allowed".into()),
            request_id: Some(format!("urn:uuid:{}", uuid::Uuid::new_v4())),
            data_sha256: Some(Sha256Digest::of(&i.to_be_bytes()).to_hex()),
            detail: Some(serde_json::json!({"granularity": "derived"})),
            ..Default::default()
        },
    }
}

fn entry(release_like: bool, i: u64) -> NewEntry {
    if release_like {
        release_entry(i)
    } else {
        minimal_entry()
    }
}

/// One job per commit, each awaited before the next: appends/s and per-append latency.
fn single(committer: &Committer, n: u64, release_like: bool) -> (f64, f64, f64) {
    let mut lat = Vec::with_capacity(n as usize);
    let t0 = Instant::now();
    for i in 0..n {
        let e = entry(release_like, i);
        let t = Instant::now();
        committer
            .run_blocking(move |tx| tx.append(e).map(|a| a.seq))
            .unwrap();
        lat.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let rate = n as f64 / t0.elapsed().as_secs_f64();
    (rate, median(&mut lat), pct(&mut lat, 0.99))
}

/// `concurrency` tasks each appending `n / concurrency` entries, awaiting each: appends/s, commits.
fn batched(committer: &Committer, n: u64, concurrency: u64, release_like: bool) -> (f64, usize) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let per = n / concurrency;
    let t0 = Instant::now();
    let instants = rt.block_on(async {
        let tasks: Vec<_> = (0..concurrency)
            .map(|t| {
                let c = committer.clone();
                tokio::spawn(async move {
                    let mut seen = Vec::with_capacity(per as usize);
                    for i in 0..per {
                        let e = entry(release_like, t * per + i);
                        let at = c
                            .run(move |tx| {
                                let at = tx.now();
                                tx.append(e).map(|_| at)
                            })
                            .await
                            .unwrap();
                        seen.push(at);
                    }
                    seen
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    let elapsed = t0.elapsed().as_secs_f64();
    let commits: std::collections::HashSet<i64> = instants.iter().copied().collect();
    ((per * concurrency) as f64 / elapsed, commits.len())
}

fn append_figures(db: &Db, rounds: usize) {
    let store = Store::open(&db.url(), 4).unwrap();
    let committer = Committer::start(&store, [7; 32], Arc::new(TickClock::new()), 1024).unwrap();
    let label = db.label();
    let single_n = match db {
        Db::Sqlite(_) => 400,
        Db::Pg { .. } => 400,
    };
    for round in 0..rounds {
        for release_like in [false, true] {
            let kind = if release_like { "release-like" } else { "minimal" };
            let (rate, p50, p99) = single(&committer, single_n, release_like);
            println!(
                "append {label:<10} {kind:<12} single        round {round}: {rate:>8.0} appends/s  (latency p50 {p50:.2} ms, p99 {p99:.2} ms; {single_n} appends)"
            );
            for concurrency in [8u64, 64, 512] {
                let n = (concurrency * 40).max(4_000);
                let (rate, commits) = batched(&committer, n, concurrency, release_like);
                println!(
                    "append {label:<10} {kind:<12} batched c={concurrency:<4} round {round}: {rate:>8.0} appends/s  ({n} appends in {commits} commits, mean batch {:.1})",
                    n as f64 / commits as f64
                );
            }
        }
    }
    let mut conn = store.conn().unwrap();
    let (size, _) = consentry::storage::log_store::head(&mut conn).unwrap();
    println!(
        "append {label:<10} log of {size} entries, {:.1} MB on disk",
        db.size_bytes(&mut conn) as f64 / 1e6
    );
}

/// The synthetic leaf `i` of a bulk-filled log.
fn synthetic_leaf(i: u64, t0: u64) -> [u8; LEAF_LEN] {
    Leaf {
        kind: EntryKind::Release,
        seq: i,
        time_ms: t0 + i / 100,
        grant_digest: Sha256Digest::of(&(i % 1000).to_be_bytes()).0,
        prev_same_grant: if i >= 1000 { i - 1000 } else { NO_PREVIOUS },
        subject_tag: Sha256Digest::of(&(i % 100).to_be_bytes()).0,
        prev_same_subject: if i >= 100 { i - 100 } else { NO_PREVIOUS },
        record_commitment: Sha256Digest::of(&i.to_le_bytes()).0,
    }
    .to_bytes()
}

fn insert_nodes(conn: &mut DbConn, rows: &[(i16, i64, Vec<u8>)]) {
    for chunk in rows.chunks(8_000) {
        let values: Vec<_> = chunk
            .iter()
            .map(|(l, i, h)| {
                (
                    log_nodes::level.eq(*l),
                    log_nodes::idx.eq(*i),
                    log_nodes::hash.eq(h),
                )
            })
            .collect();
        consentry::on_backend!(&mut *conn, |c| diesel::insert_into(log_nodes::table)
            .values(values)
            .execute(c))
        .unwrap();
    }
}

fn insert_leaves(conn: &mut DbConn, rows: &[(i64, Vec<u8>, i64)]) {
    for chunk in rows.chunks(5_000) {
        let values: Vec<_> = chunk
            .iter()
            .map(|(s, l, t)| {
                (
                    log_leaves::seq.eq(*s),
                    log_leaves::leaf.eq(l),
                    log_leaves::kind.eq(1i16),
                    log_leaves::time.eq(*t),
                )
            })
            .collect();
        consentry::on_backend!(&mut *conn, |c| diesel::insert_into(log_leaves::table)
            .values(values)
            .execute(c))
        .unwrap();
    }
}

/// Fills the log tables with a tree of `n` synthetic leaves (and the leaf rows if `with_leaves`):
/// every complete subtree, as the committer stores them, and the log state. Returns the root.
fn bulk_fill(store: &Store, n: u64, with_leaves: bool) -> Hash {
    let mut conn = store.dedicated_connection().unwrap();
    // Loading only: the measured reads do not depend on how durable the load was.
    match &mut conn {
        DbConn::Sqlite(c) => c.batch_execute("PRAGMA synchronous = OFF;").unwrap(),
        DbConn::Pg(c) => c.batch_execute("SET synchronous_commit = off;").unwrap(),
    }
    let t0 = consentry::storage::millis(SystemClock.now()) as u64;
    let mut range = CompactRange::new();
    let mut nodes: Vec<(i16, i64, Vec<u8>)> = Vec::with_capacity(600_000);
    let mut leaves: Vec<(i64, Vec<u8>, i64)> = Vec::new();
    let mut node_rows = 0u64;
    let started = Instant::now();
    let flush =
        |conn: &mut DbConn, nodes: &mut Vec<(i16, i64, Vec<u8>)>, leaves: &mut Vec<(i64, Vec<u8>, i64)>| {
            conn.transaction::<_, diesel::result::Error, _>(|c| {
                insert_nodes(c, nodes);
                insert_leaves(c, leaves);
                Ok(())
            })
            .unwrap();
            nodes.clear();
            leaves.clear();
        };
    for i in 0..n {
        let leaf = synthetic_leaf(i, t0);
        let h = merkle::leaf_hash(&leaf);
        range
            .append_with(&h, |level, idx, hash| {
                nodes.push((i16::from(level), idx as i64, hash.to_vec()));
            })
            .unwrap();
        if with_leaves {
            leaves.push((i as i64, leaf.to_vec(), (t0 + i / 100) as i64));
        }
        if nodes.len() >= 500_000 {
            node_rows += nodes.len() as u64;
            flush(&mut conn, &mut nodes, &mut leaves);
        }
        if (i + 1) % 2_000_000 == 0 {
            eprintln!(
                "  … {} leaves, {node_rows} node rows, {:.0} s",
                i + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    node_rows += nodes.len() as u64;
    flush(&mut conn, &mut nodes, &mut leaves);
    diesel::update(log_state::table.find(1i16))
        .set((
            log_state::size.eq(n as i64),
            log_state::frontier.eq(range.to_bytes()),
            log_state::last_time.eq((t0 + n / 100) as i64),
        ))
        .execute(&mut conn)
        .unwrap();
    if let DbConn::Pg(c) = &mut conn {
        c.batch_execute("ANALYZE log_nodes; ANALYZE log_leaves;").unwrap();
    }
    eprintln!(
        "  filled {n} leaves: {node_rows} node rows{} in {:.0} s",
        if with_leaves { " and the leaf rows" } else { "" },
        started.elapsed().as_secs_f64()
    );
    range.root()
}

/// A small deterministic generator for proof indices.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn hashes_of(proof: &[String]) -> Vec<Hash> {
    proof
        .iter()
        .map(|h| hex::decode(h).unwrap().try_into().unwrap())
        .collect()
}

fn proof_figures(db: &Db, n: u64, rounds: usize, with_leaves: bool) {
    let store = Store::open(&db.url(), 4).unwrap();
    let label = db.label();
    let root = bulk_fill(&store, n, with_leaves);
    let mut pooled = store.conn().unwrap();
    let conn: &mut DbConn = &mut pooled;
    println!(
        "proofs {label:<10} n={n}: database {:.0} MB",
        db.size_bytes(conn) as f64 / 1e6
    );
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    // Correctness first: proofs from the database verify against the bulk-built root.
    for _ in 0..20 {
        let i = rng.below(n);
        let p = consentry::node::audit::inclusion(conn, i, Some(n)).unwrap();
        let leaf_hash: Hash = hex::decode(&p.leaf_hash).unwrap().try_into().unwrap();
        merkle::verify_inclusion(i, n, &leaf_hash, &hashes_of(&p.proof), &root).unwrap();
        let m = 1 + rng.below(n - 1);
        let c = consentry::node::audit::consistency(conn, m, n).unwrap();
        let old_root = merkle::root(m, &DbNodes(std::cell::RefCell::new(&mut *conn))).unwrap();
        merkle::verify_consistency(m, n, &old_root, &root, &hashes_of(&c.proof)).unwrap();
    }
    const PROOFS: usize = 2_000;
    for round in 0..rounds {
        let mut t_inc = Vec::with_capacity(PROOFS);
        let mut t_raw = Vec::with_capacity(PROOFS);
        let mut t_con = Vec::with_capacity(PROOFS);
        for _ in 0..PROOFS {
            let i = rng.below(n);
            let t = Instant::now();
            let p = consentry::node::audit::inclusion(conn, i, Some(n)).unwrap();
            t_inc.push(t.elapsed().as_secs_f64() * 1e6);
            std::hint::black_box(p);
            let i = rng.below(n);
            let t = Instant::now();
            let p = merkle::inclusion_proof(i, n, &DbNodes(std::cell::RefCell::new(&mut *conn))).unwrap();
            t_raw.push(t.elapsed().as_secs_f64() * 1e6);
            std::hint::black_box(p);
            let m = 1 + rng.below(n - 1);
            let t = Instant::now();
            let p = consentry::node::audit::consistency(conn, m, n).unwrap();
            t_con.push(t.elapsed().as_secs_f64() * 1e6);
            std::hint::black_box(p);
        }
        println!(
            "proofs {label:<10} n={n} round {round}: inclusion (audit::inclusion) p50 {:.0} µs p99 {:.0} µs | inclusion_proof over DbNodes p50 {:.0} µs p99 {:.0} µs | consistency (audit::consistency) p50 {:.0} µs p99 {:.0} µs",
            median(&mut t_inc),
            pct(&mut t_inc, 0.99),
            median(&mut t_raw),
            pct(&mut t_raw, 0.99),
            median(&mut t_con),
            pct(&mut t_con, 0.99),
        );
    }
    if with_leaves {
        verify_from_db(label, conn, rounds);
    }
}

/// Recomputes the root from every leaf read from the database in pages of 10,000.
fn verify_from_db(label: &str, conn: &mut DbConn, rounds: usize) {
    let (size, root) = consentry::storage::log_store::head(conn).unwrap();
    for round in 0..rounds {
        let t = Instant::now();
        let mut range = CompactRange::new();
        while range.size() < size {
            let page = consentry::node::audit::leaves(conn, range.size(), Some(10_000)).unwrap();
            assert!(!page.is_empty());
            for leaf in page.chunks_exact(LEAF_LEN) {
                range.push(&merkle::leaf_hash(leaf)).unwrap();
            }
        }
        assert_eq!(range.root(), root, "the recomputed root is the stored head");
        let s = t.elapsed().as_secs_f64();
        println!(
            "verify {label:<10} from the database, {size} leaves round {round}: {:.0} entries/s ({s:.2} s)",
            size as f64 / s
        );
    }
}

fn verify_in_memory(n: u64, rounds: usize) {
    let t0 = 1_790_000_000_000;
    let leaves: Vec<[u8; LEAF_LEN]> = (0..n).map(|i| synthetic_leaf(i, t0)).collect();
    for round in 0..rounds {
        let t = Instant::now();
        let mut range = CompactRange::new();
        for l in &leaves {
            range.push(&merkle::leaf_hash(l)).unwrap();
        }
        std::hint::black_box(range.root());
        let s = t.elapsed().as_secs_f64();
        println!(
            "verify in memory, {n} leaves round {round}: {:.0} entries/s ({:.0} ns/entry: leaf hash + frontier)",
            n as f64 / s,
            s * 1e9 / n as f64
        );
        // The same through the public checker.
        let t = Instant::now();
        let hashes: Vec<Hash> = leaves.iter().map(|l| merkle::leaf_hash(l)).collect();
        merkle::verify_leaf_hashes_root(&hashes, n, &range.root()).unwrap();
        let s = t.elapsed().as_secs_f64();
        println!(
            "verify in memory, {n} leaves round {round}: {:.0} entries/s via verify_leaf_hashes_root",
            n as f64 / s
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args
        .iter()
        .find(|a| !a.starts_with("--") && a.parse::<u64>().is_err() && !a.contains("://") && !a.contains(','))
        .cloned()
        .unwrap_or_else(|| "all".into());
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let sizes: Vec<u64> = value("--sizes")
        .unwrap_or_else(|| "1000000,10000000".into())
        .split(',')
        .map(|s| s.parse().unwrap())
        .collect();
    let rounds: usize = value("--rounds").and_then(|s| s.parse().ok()).unwrap_or(3);
    let pg_base = value("--pg").unwrap_or_else(|| {
        std::env::var("CONSENTRY_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
    });
    let use_pg = !args.iter().any(|a| a == "--no-pg");
    let backends = || {
        let mut v = vec![Db::sqlite()];
        if use_pg {
            v.push(Db::pg(&pg_base));
        }
        v
    };
    let started = Instant::now();
    if what == "append" || what == "all" {
        for db in backends() {
            append_figures(&db, rounds);
        }
    }
    if what == "verify" || what == "all" {
        verify_in_memory(1_000_000, rounds);
    }
    if what == "proofs" || what == "all" || what == "verify" {
        for &n in &sizes {
            for db in backends() {
                // Leaf rows too for the smallest size: full-log verification from the database.
                let with_leaves = n == sizes[0];
                if what == "verify" {
                    let store = Store::open(&db.url(), 4).unwrap();
                    bulk_fill(&store, n, true);
                    verify_from_db(db.label(), &mut store.conn().unwrap(), rounds);
                } else {
                    proof_figures(&db, n, rounds, with_leaves);
                }
            }
            if what == "verify" {
                break;
            }
        }
    }
    eprintln!("done in {:.0} s", started.elapsed().as_secs_f64());
    std::thread::sleep(Duration::from_millis(10));
}
