//! Static-tile figures (spec/access-log.md §7.4, §8.6):
//!
//! ```text
//! cargo run --release --example tiles_bench -- [entries, default 1000000] [--keep]
//! ```
//!
//! Fills a SQLite log with `entries` synthetic leaves (every complete subtree, as the committer stores
//! them), opens a node on it (which logs its own start on top) and serves it over HTTP with
//! checkpoints every second. Then measures:
//!
//! * reading one tile from the database (`node::tiles::read`: one range query), per kind;
//! * verifying the whole log from its tiles over HTTP (`log::tiles::verify_tiles` with the leaf checks
//!   of `LogAuditor`, as `consentry audit verify --tiles URL` does), in entries per second;
//! * mirroring the layout to a folder (as `consentry audit export-tiles` does);
//! * verifying from the folder, with and without the leaf checks.
//!
//! With `--keep` the folder stays under target/tmp and the command line to verify it is printed.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{App, HttpServer, web};
use consentry::clock::{Clock, SystemClock};
use consentry::config::{Config, ServiceRole, WebhookConfig};
use consentry::crypto::Sha256Digest;
use consentry::log::audit::{AuditOptions, BUNDLE_FORMAT, BundleHeader, LogAuditor};
use consentry::log::entry::{EntryKind, LEAF_LEN, Leaf, NO_PREVIOUS};
use consentry::log::merkle::{self, CompactRange};
use consentry::log::note::Signer;
use consentry::log::tiles::{self, Tile, TileReport};
use consentry::storage::schema::{log_leaves, log_nodes, log_state};
use consentry::storage::{DbConn, Store};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

fn synthetic_leaf(i: u64, t0: u64) -> [u8; LEAF_LEN] {
    Leaf {
        kind: EntryKind::Release,
        seq: i,
        time_ms: t0 + i / 100,
        grant_digest: [0; 32],
        prev_same_grant: NO_PREVIOUS,
        subject_tag: [0; 32],
        prev_same_subject: NO_PREVIOUS,
        record_commitment: Sha256Digest::of(&i.to_le_bytes()).0,
    }
    .to_bytes()
}

/// Every leaf row and complete subtree of `n` synthetic leaves, and the log state.
fn bulk_fill(url: &str, n: u64) {
    let store = Store::open(url, 2).unwrap();
    let mut conn = store.dedicated_connection().unwrap();
    if let DbConn::Sqlite(c) = &mut conn {
        c.batch_execute("PRAGMA synchronous = OFF;").unwrap();
    }
    let t0 = consentry::storage::millis(SystemClock.now()) as u64 - n / 100 - 1000;
    let mut range = CompactRange::new();
    let mut nodes: Vec<(i16, i64, Vec<u8>)> = Vec::new();
    let mut leaves: Vec<(i64, Vec<u8>, i64)> = Vec::new();
    let flush =
        |conn: &mut DbConn, nodes: &mut Vec<(i16, i64, Vec<u8>)>, leaves: &mut Vec<(i64, Vec<u8>, i64)>| {
            conn.transaction::<_, diesel::result::Error, _>(|c| {
                for chunk in nodes.chunks(8_000) {
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
                    consentry::on_backend!(&mut *c, |c| diesel::insert_into(log_nodes::table)
                        .values(values)
                        .execute(c))?;
                }
                for chunk in leaves.chunks(5_000) {
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
                    consentry::on_backend!(&mut *c, |c| diesel::insert_into(log_leaves::table)
                        .values(values)
                        .execute(c))?;
                }
                Ok(())
            })
            .unwrap();
            nodes.clear();
            leaves.clear();
        };
    for i in 0..n {
        let leaf = synthetic_leaf(i, t0);
        range
            .append_with(&merkle::leaf_hash(&leaf), |level, idx, hash| {
                nodes.push((i16::from(level), idx as i64, hash.to_vec()));
            })
            .unwrap();
        leaves.push((i as i64, leaf.to_vec(), (t0 + i / 100) as i64));
        if nodes.len() >= 400_000 {
            flush(&mut conn, &mut nodes, &mut leaves);
        }
    }
    flush(&mut conn, &mut nodes, &mut leaves);
    diesel::update(log_state::table.find(1i16))
        .set((
            log_state::size.eq(n as i64),
            log_state::frontier.eq(range.to_bytes()),
            log_state::last_time.eq((t0 + n / 100) as i64),
        ))
        .execute(&mut conn)
        .unwrap();
}

fn get(agent: &ureq::Agent, url: &str) -> Option<Vec<u8>> {
    match agent.get(url).call() {
        Ok(r) => {
            let mut b = Vec::new();
            r.into_reader().read_to_end(&mut b).unwrap();
            Some(b)
        }
        Err(ureq::Error::Status(404, _)) => None,
        Err(e) => panic!("{url}: {e}"),
    }
}

/// `verify_tiles` over `fetch`, optionally with the leaf checks; returns the report and entries/s.
fn verify(
    size: u64,
    root: &[u8; 32],
    note: &str,
    vkey: &consentry::log::note::VerifierKey,
    leaf_checks: bool,
    mut fetch: impl FnMut(&Tile) -> Option<Vec<u8>>,
) -> (TileReport, f64) {
    let mut opts = AuditOptions::new(SystemClock.now());
    opts.log_key = Some(vkey.clone());
    let mut auditor = LogAuditor::new(opts).unwrap();
    auditor.push_header(BundleHeader {
        format: BUNDLE_FORMAT.to_owned(),
        origin: vkey.name().to_owned(),
        log_key: vkey.to_vkey(),
        from: 0,
        to: size,
    });
    auditor.push_checkpoint(note);
    let started = Instant::now();
    let mut src = |t: &Tile| -> Result<Option<Vec<u8>>, ()> { Ok(fetch(t)) };
    let report = tiles::verify_tiles(size, root, &mut src, |_, e| {
        if leaf_checks {
            auditor.push_leaf(e);
        }
    })
    .unwrap();
    let secs = started.elapsed().as_secs_f64();
    if leaf_checks {
        let r = auditor.finish();
        assert!(r.valid, "{:?}", r.failures);
    }
    assert!(report.valid, "{:?}", report.failures);
    (report, size as f64 / secs)
}

fn median_us(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: u64 = args.iter().find_map(|a| a.parse().ok()).unwrap_or(1_000_000);
    let keep = args.iter().any(|a| a == "--keep");
    let root_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp");
    std::fs::create_dir_all(&root_dir).unwrap();
    let dir = tempfile::tempdir_in(&root_dir).unwrap();
    let url = format!("sqlite://{}", dir.path().join("node.sqlite3").display());
    let started = Instant::now();
    bulk_fill(&url, n);
    eprintln!("filled {n} entries in {:.1} s", started.elapsed().as_secs_f64());

    // A node on that database, serving HTTP, checkpointing every second.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        listen: listener.local_addr().unwrap().to_string(),
        database_url: url.clone(),
        public_url: base.clone(),
        fix_origin: true,
        role: ServiceRole::Node,
        node_url: None,
        platform_uscc: None,
        workers: 2,
        log_batch_max: 1024,
        checkpoint_interval_secs: 1,
        catalog_dir: None,
        witnesses: vec![],
        calendar: None,
        industries: None,
        webhooks: WebhookConfig::default(),
        database_wait_ms: 1000,
        evaluation_model: None,
        metrics_token: None,
        metrics_listen: None,
        log_format: Default::default(),
    };
    let (node, _) = consentry::node::start::open(&config, Arc::new(SystemClock)).unwrap();
    let node = web::Data::new(node);
    let shared = node.clone().into_inner();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            consentry::node::background::spawn(node.clone().into_inner(), 1);
            HttpServer::new(move || {
                App::new()
                    .app_data(node.clone())
                    .configure(consentry::http::configure)
            })
            .workers(2)
            .listen(listener)
            .unwrap()
            .run()
            .await
            .unwrap();
        });
    });
    let agent = ureq::AgentBuilder::new().build();
    let prefix = format!("{base}/v1/log");
    let size = shared.store.run(consentry::storage::log_store::head).unwrap().0;
    let deadline = Instant::now() + Duration::from_secs(30);
    let note = loop {
        if let Some(b) = get(&agent, &format!("{prefix}/checkpoint")) {
            let text = String::from_utf8(b).unwrap();
            if text.lines().nth(1) == Some(size.to_string().as_str()) {
                break text;
            }
        }
        assert!(Instant::now() < deadline, "no checkpoint");
        std::thread::sleep(Duration::from_millis(100));
    };
    let signer = Signer::new(shared.origin.clone(), shared.key.secret.clone()).unwrap();
    let vkey = signer.verifier_key();
    let checkpoint = consentry::log::checkpoint::Checkpoint::parse_body(
        consentry::log::note::Note::parse(note.as_bytes()).unwrap().text(),
    )
    .unwrap();
    let root = *checkpoint.root();
    println!("log of {size} entries (checkpointed), {}", std::env::consts::ARCH);

    // Tile reads from the database, per kind.
    let mut conn = shared.store.conn().unwrap();
    let full = tiles::full_tiles(size, 0);
    for (label, make) in [
        (
            "level-0 tile (8,192 B)",
            Box::new(|k: u64| Tile::hashes(0, k, 256)) as Box<dyn Fn(u64) -> Option<Tile>>,
        ),
        (
            "entry bundle (35,328 B)",
            Box::new(|k: u64| Tile::entries(k, 256)),
        ),
        (
            "level-1 tile",
            Box::new(move |k: u64| Tile::hashes(1, k % tiles::full_tiles(size, 1).max(1), 256)),
        ),
    ] {
        let mut times = Vec::new();
        for i in 0..2000u64 {
            let t = make((i * 7919) % full.max(1)).unwrap();
            let s = Instant::now();
            let got = consentry::node::tiles::read(&mut conn, &t).unwrap();
            times.push(s.elapsed().as_secs_f64() * 1e6);
            if got.is_none() {
                times.clear();
                break;
            }
        }
        if !times.is_empty() {
            println!(
                "  read one {label} from SQLite: median {:.0} µs",
                median_us(times)
            );
        }
    }
    drop(conn);

    // The whole log over HTTP, as `audit verify --tiles URL`.
    let (r, rate) = verify(size, &root, &note, &vkey, true, |t| {
        get(&agent, &format!("{prefix}/{}", t.path()))
    });
    println!(
        "  verify over HTTP ({} bundles, {} hash tiles) with leaf checks: {:.0} entries/s",
        r.entry_bundles, r.hash_tiles, rate
    );

    // Mirror to a folder, as `audit export-tiles`.
    let out = dir.path().join("tiles");
    let s = Instant::now();
    let mut bytes = 0usize;
    for t in tiles::tiles_of(size) {
        let b = get(&agent, &format!("{prefix}/{}", t.path())).unwrap();
        let p = out.join(t.path());
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &b).unwrap();
        bytes += b.len();
    }
    std::fs::write(out.join("checkpoint"), &note).unwrap();
    let secs = s.elapsed().as_secs_f64();
    println!(
        "  mirror to a folder: {bytes} bytes in {secs:.1} s ({:.0} entries/s, {:.0} bytes/entry)",
        size as f64 / secs,
        bytes as f64 / size as f64
    );

    // From the folder.
    let read = |t: &Tile| std::fs::read(out.join(t.path())).ok();
    let (_, rate) = verify(size, &root, &note, &vkey, true, read);
    println!("  verify from the folder with leaf checks: {rate:.0} entries/s");
    let (_, rate) = verify(size, &root, &note, &vkey, false, read);
    println!("  verify from the folder, tiles only: {rate:.0} entries/s");

    if keep {
        let kept = dir.keep();
        println!(
            "kept: consentry audit verify --tiles {} --log-key {}",
            kept.join("tiles").display(),
            vkey.to_vkey()
        );
    }
}
