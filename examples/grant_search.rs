//! Regulators' grant search at scale (BENCHMARKS.md, "Grant search"; issue #13 item 8):
//!
//! ```text
//! cargo run --release --example grant_search -- [sqlite|postgres://…/postgres] [grants] [rounds]
//! ```
//!
//! Fills a fresh database with `grants` grants (default 1,000,000) as the node stores them — rows in
//! `grants`, `grant_parties` and `grant_categories` (the signed bytes are left empty: the search
//! never reads them) — from 200,000 enterprises to 50 platforms with 10 banks each: 0–2 banks
//! per grant, 1–3 of 20 categories (the built-in catalog's first 20; the last of them in one grant in a thousand), 80%
//! active, 12% suspended, 8% revoked, submitted 30 s apart (about a year). Then a regulator asks
//! `GET /v1/grants` over HTTP with a fresh client assertion per request (as a client sees it), for
//! each filter alone, in combinations, and deep in the list; each query `rounds` times (default
//! 21), reporting the median and the slowest, in milliseconds, and the page size answered.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::{App, HttpServer, web};
use consentry::clock::{Clock, SystemClock};
use consentry::config::{Config, ServeArgs};
use consentry::storage::DbConn;
use consentry::storage::schema::{grant_categories, grant_parties, grants};
use diesel::prelude::*;

const PLATFORMS: usize = 50;
const BANKS_PER_PLATFORM: usize = 10;
const ENTERPRISES: usize = 200_000;
const CATEGORIES: usize = 20;
const START_MS: i64 = 1_735_660_800_000; // 2025-01-01T00:00:00+08:00
const STEP_MS: i64 = 30_000;

fn code(prefix: &str, n: usize) -> String {
    consentry::ids::Uscc::complete(&format!("91330100{prefix}{n:06}"))
        .unwrap()
        .as_str()
        .to_owned()
}

/// A deterministic generator (xorshift).
struct Rand(u64);

impl Rand {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

type GrantRow = (
    String,
    String,
    Vec<u8>,
    &'static str,
    String,
    String,
    &'static str,
    i64,
    i64,
    i64,
    i64,
    &'static str,
    i64,
    i64,
);

/// The log index of grant `urn:uuid:…-<i>` (its number).
fn seq_of(id: &str) -> i64 {
    id.rsplit('-').next().unwrap().parse().unwrap()
}

fn fill(conn: &mut DbConn, n: usize) {
    let platforms: Vec<String> = (0..PLATFORMS).map(|p| code("PL", p)).collect();
    let banks: Vec<Vec<String>> = (0..PLATFORMS)
        .map(|p| (0..BANKS_PER_PLATFORM).map(|b| code("BK", p * 100 + b)).collect())
        .collect();
    let cats = categories();
    let mut rand = Rand(0x9E37_79B9_7F4A_7C15);
    const CHUNK: usize = 50_000;
    for start in (0..n).step_by(CHUNK) {
        let end = (start + CHUNK).min(n);
        let mut g: Vec<GrantRow> = Vec::with_capacity(end - start);
        let mut parties: Vec<(String, String, &'static str)> = Vec::new();
        let mut categories: Vec<(String, String)> = Vec::new();
        for i in start..end {
            let id = format!("urn:uuid:00000000-0000-4000-8000-{i:012}");
            let p = i % PLATFORMS;
            let e = code("EN", (i * 7919) % ENTERPRISES);
            let state = match rand.below(100) {
                0..=79 => "active",
                80..=91 => "suspended",
                _ => "revoked",
            };
            let at = START_MS + i as i64 * STEP_MS;
            g.push((
                id.clone(),
                "00".into(),
                Vec::new(),
                "jwt",
                e.clone(),
                platforms[p].clone(),
                "did:key:z",
                (i / 100_000 + 1) as i64,
                (i % 100_000) as i64,
                at,
                at + 365 * 86_400_000,
                state,
                at,
                i as i64,
            ));
            parties.push((id.clone(), e, "enterprise"));
            parties.push((id.clone(), platforms[p].clone(), "platform"));
            let nbanks = rand.below(3) as usize;
            let first = rand.below(BANKS_PER_PLATFORM as u64) as usize;
            for k in 0..nbanks {
                parties.push((
                    id.clone(),
                    banks[p][(first + k) % BANKS_PER_PLATFORM].clone(),
                    "bank",
                ));
            }
            let ncats = 1 + rand.below(3) as usize;
            let firstc = rand.below(CATEGORIES as u64 - 1) as usize;
            for k in 0..ncats {
                categories.push((id.clone(), cats[(firstc + k) % (CATEGORIES - 1)].clone()));
            }
            if i % 1000 == 999 {
                categories.push((id.clone(), cats[CATEGORIES - 1].clone()));
            }
        }
        conn.transaction::<_, diesel::result::Error, _>(|conn| {
            for rows in g.chunks(1000) {
                let values: Vec<_> = rows
                    .iter()
                    .map(|r| {
                        (
                            grants::id.eq(&r.0),
                            grants::sha256.eq(&r.1),
                            grants::body.eq(&r.2),
                            grants::envelope.eq(r.3),
                            grants::enterprise_uscc.eq(&r.4),
                            grants::grantee_uscc.eq(&r.5),
                            grants::signer_did.eq(r.6),
                            grants::status_list.eq(r.7),
                            grants::status_index.eq(r.8),
                            grants::valid_from.eq(r.9),
                            grants::valid_until.eq(r.10),
                            grants::state.eq(r.11),
                            grants::submitted_at.eq(r.12),
                            grants::submitted_seq.eq(r.13),
                        )
                    })
                    .collect();
                consentry::on_backend!(&mut *conn, |x| diesel::insert_into(grants::table)
                    .values(&values)
                    .execute(x))?;
            }
            for rows in parties.chunks(5000) {
                let values: Vec<_> = rows
                    .iter()
                    .map(|(g, u, r)| {
                        (
                            grant_parties::grant_id.eq(g),
                            grant_parties::uscc.eq(u),
                            grant_parties::role.eq(*r),
                            grant_parties::submitted_seq.eq(seq_of(g)),
                        )
                    })
                    .collect();
                consentry::on_backend!(&mut *conn, |x| diesel::insert_into(grant_parties::table)
                    .values(&values)
                    .execute(x))?;
            }
            for rows in categories.chunks(5000) {
                let values: Vec<_> = rows
                    .iter()
                    .map(|(g, c)| {
                        (
                            grant_categories::grant_id.eq(g),
                            grant_categories::category.eq(c),
                            grant_categories::submitted_seq.eq(seq_of(g)),
                        )
                    })
                    .collect();
                consentry::on_backend!(&mut *conn, |x| diesel::insert_into(grant_categories::table)
                    .values(&values)
                    .execute(x))?;
            }
            Ok(())
        })
        .unwrap();
    }
    // What an operator's database has after it has run a while: the planner's statistics.
    consentry::on_backend!(&mut *conn, |x| diesel::sql_query("ANALYZE").execute(x)).unwrap();
}

/// The first [`CATEGORIES`] codes of the built-in catalog (a search names a category the catalog
/// has).
fn categories() -> Vec<String> {
    let cats: Vec<String> = consentry::catalog::Catalog::builtin()
        .categories()
        .map(|c| c.code.clone())
        .take(CATEGORIES)
        .collect();
    assert_eq!(cats.len(), CATEGORIES);
    cats
}

fn ms_to_rfc3339(ms: i64) -> String {
    consentry::credential::datetime::format_utc_seconds(consentry::storage::from_millis(ms))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let db = args.first().cloned().unwrap_or_else(|| "sqlite".into());
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let rounds: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(21);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp");
    std::fs::create_dir_all(&root).unwrap();
    let dir = tempfile::tempdir_in(root).unwrap();
    let (url, pg_drop) = if db == "sqlite" {
        (
            format!("sqlite://{}", dir.path().join("grants.sqlite3").display()),
            None,
        )
    } else {
        let base = db.trim_end_matches("/postgres").to_owned();
        let name = format!("consentry_grants_{}", uuid::Uuid::new_v4().simple());
        let mut admin = diesel::PgConnection::establish(&format!("{base}/postgres")).unwrap();
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .unwrap();
        (format!("{base}/{name}"), Some((base, name)))
    };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config::resolve(&ServeArgs {
        data_dir: Some(dir.path().to_path_buf()),
        database_url: Some(url.clone()),
        public_url: Some(format!("http://{addr}")),
        workers: Some(2),
        ..Default::default()
    })
    .unwrap();
    let (node, _) = consentry::node::start::open(&config, Arc::new(SystemClock)).unwrap();
    let regulator = consentry::identity::KeyFile::new(consentry::crypto::SecretKey::generate().unwrap());
    actix_web::rt::System::new().block_on(async {
        consentry::node::registry::add_regulator(
            &node,
            consentry::node::registry::NewMember {
                uscc: code("RG", 1),
                name: "监管".into(),
                did: regulator.did.as_str().to_owned(),
                endpoint: None,
                regions: vec![],
                industry: None,
            },
            consentry::node::registry::Actor::operator(&node, consentry::node::start::DEFAULT_NODE_USCC),
        )
        .await
        .unwrap();
    });
    let t = Instant::now();
    {
        let mut conn = node.store.conn().unwrap();
        fill(&mut conn, n);
    }
    println!(
        "{db}: {n} grants, {PLATFORMS} platforms × {BANKS_PER_PLATFORM} banks, {ENTERPRISES} enterprises, \
         {CATEGORIES} categories (filled in {:.0} s)",
        t.elapsed().as_secs_f64()
    );

    let node = web::Data::new(node);
    let did = node.did().to_owned();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(node.clone())
                    .configure(consentry::http::configure)
            })
            .workers(2)
            .listen(listener)
            .unwrap()
            .run();
            tx.send(server.handle()).unwrap();
            server.await.unwrap();
        });
    });
    let handle = rx.recv().unwrap();
    let agent = ureq::AgentBuilder::new().build();
    let http = |path: &str| -> (f64, usize) {
        let token = consentry::node::auth::make(&regulator, &did, "GET", path, SystemClock.now()).unwrap();
        let t = Instant::now();
        let resp = agent
            .get(&format!("http://{addr}{path}"))
            .set("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let body: serde_json::Value = resp.into_json().unwrap();
        let count = body["grants"].as_array().map_or(0, Vec::len);
        (t.elapsed().as_secs_f64() * 1e3, count)
    };
    let mid = START_MS + (n as i64 / 2) * STEP_MS;
    let week = 7 * 86_400_000;
    let (p, b, e) = (
        code("PL", 7),
        code("BK", 703),
        code("EN", (n / 2 * 7919) % ENTERPRISES),
    );
    let (from, until) = (ms_to_rfc3339(mid), ms_to_rfc3339(mid + week));
    let cats = categories();
    let (common, rare, other) = (&cats[3], &cats[CATEGORIES - 1], &cats[5]);
    let queries: Vec<(&str, String)> = vec![
        ("newest 50, no filter", String::new()),
        ("platform", format!("platform={p}")),
        ("bank", format!("bank={b}")),
        ("enterprise", format!("enterprise={e}")),
        ("category (common)", format!("category={common}")),
        ("category (1 in 1,000)", format!("category={rare}")),
        ("state=revoked", "state=revoked".into()),
        (
            "one week (submittedFrom/Until)",
            format!("submittedFrom={from}&submittedUntil={until}"),
        ),
        (
            "platform + category + state",
            format!("platform={p}&category={common}&state=suspended"),
        ),
        ("bank + state", format!("bank={b}&state=active")),
        (
            "category + one week",
            format!("category={other}&submittedFrom={from}&submittedUntil={until}"),
        ),
        ("page deep in the list (after = n/2)", format!("after={}", n / 2)),
        (
            "platform, page deep in the list",
            format!("platform={p}&after={}", n / 2),
        ),
    ];
    println!("| query | median ms | slowest ms | grants answered |");
    println!("|---|---|---|---|");
    for (name, q) in &queries {
        let path = if q.is_empty() {
            "/v1/grants".to_owned()
        } else {
            format!("/v1/grants?{q}")
        };
        let mut times = Vec::with_capacity(rounds);
        let mut count = 0;
        for _ in 0..rounds {
            let (ms, c) = http(&path);
            times.push(ms);
            count = c;
        }
        times.sort_by(f64::total_cmp);
        println!(
            "| {name} | {:.1} | {:.1} | {count} |",
            times[times.len() / 2],
            times[times.len() - 1]
        );
    }
    actix_web::rt::System::new().block_on(handle.stop(true));
    if let Some((base, name)) = pg_drop {
        let mut admin = diesel::PgConnection::establish(&format!("{base}/postgres")).unwrap();
        diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut admin)
            .ok();
    }
}
