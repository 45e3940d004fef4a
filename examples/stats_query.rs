//! Query time of the monitoring statistics at scale (BENCHMARKS.md, "Statistics rollups"):
//!
//! ```text
//! cargo run --release --example stats_query -- [sqlite|postgres://…/postgres] [entries] [days] [rounds]
//! ```
//!
//! Fills a fresh database with the rollup rows that `entries` log entries (default 10 million)
//! spread over `days` CST days (default 730) would leave — 20 platforms with 10 banks each, every
//! platform asking for itself and for each of its banks every day, releases and ~10% refusals, four
//! of 25 categories per (day, platform, bank, kind) — plus 200,000 grants (rows in `grants` and their
//! rollup, `validUntil` spread over four years, so the expiry figure does its indexed boundary read),
//! 5,000 objections and the participants. The access log itself is not written: no statistic reads
//! it, which is the point.
//!
//! Then times, over HTTP with a regulator's fresh client assertion per request (as a client sees
//! it) and directly (`node::stats::summary` / `access`): `GET /v1/stats` for the default 30 days, for
//! 365 days and for the whole range, as JSON and as CSV, a platform's and a bank's scoped summary,
//! and `GET /v1/stats/access` grouped by day and kind, by category, and by everything for 30 days.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::{App, HttpServer, web};
use consentry::clock::{Clock, SystemClock};
use consentry::config::{Config, ServeArgs};
use consentry::node::stats::{AccessFilters, Period, Scope};
use consentry::storage::DbConn;
use consentry::storage::schema::{grants, objections, stats_access, stats_access_category, stats_grants};
use consentry::storage::stats as rollups;
use diesel::prelude::*;

const PLATFORMS: usize = 20;
const BANKS_PER_PLATFORM: usize = 10;
const CATEGORIES: usize = 25;
const GRANTS: usize = 200_000;

fn code(prefix: &str, n: usize) -> String {
    consentry::ids::Uscc::complete(&format!("91330100{prefix}{n:06}"))
        .unwrap()
        .as_str()
        .to_owned()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Inserts rows in chunks inside one transaction per chunk group.
fn fill(conn: &mut DbConn, entries: u64, days: i64, today: i64) -> (usize, usize, u64) {
    let platforms: Vec<String> = (0..PLATFORMS).map(|p| code("PL", p)).collect();
    let banks: Vec<Vec<String>> = (0..PLATFORMS)
        .map(|p| (0..BANKS_PER_PLATFORM).map(|b| code("BK", p * 100 + b)).collect())
        .collect();
    let cats: Vec<String> = (0..CATEGORIES).map(|c| format!("CAT-{c:02}")).collect();
    let combos = (PLATFORMS * (BANKS_PER_PLATFORM + 1)) as u64;
    let per_release_row = (entries as f64 / (days as f64 * combos as f64 * 1.1)).max(1.0);
    let (mut access_rows, mut cat_rows, mut total) = (0usize, 0usize, 0u64);
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut rnd = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n.max(1)
    };
    for d in 0..days {
        let day = today - days + 1 + d;
        let mut a = Vec::new();
        let mut c = Vec::new();
        for (p, platform) in platforms.iter().enumerate() {
            for b in std::iter::once("").chain(banks[p].iter().map(String::as_str)) {
                for (kind, scale) in [(1i16, 1.0), (2i16, 0.1)] {
                    let n = ((per_release_row * scale) as i64 + rnd(3) as i64 - 1).max(1);
                    total += n as u64;
                    a.push((
                        stats_access::day.eq(day),
                        stats_access::kind.eq(kind),
                        stats_access::platform.eq(platform.clone()),
                        stats_access::bank.eq(b.to_owned()),
                        stats_access::entries.eq(n),
                    ));
                    let first = rnd(CATEGORIES as u64) as usize;
                    for k in 0..4 {
                        c.push((
                            stats_access_category::day.eq(day),
                            stats_access_category::kind.eq(kind),
                            stats_access_category::platform.eq(platform.clone()),
                            stats_access_category::bank.eq(b.to_owned()),
                            stats_access_category::category.eq(cats[(first + k * 6) % CATEGORIES].clone()),
                            stats_access_category::entries.eq((n / 2).max(1)),
                        ));
                    }
                }
            }
        }
        access_rows += a.len();
        cat_rows += c.len();
        conn.transaction(|conn| -> QueryResult<()> {
            for chunk in a.chunks(500) {
                consentry::on_backend!(&mut *conn, |x| diesel::insert_into(stats_access::table)
                    .values(chunk)
                    .execute(x))?;
            }
            for chunk in c.chunks(500) {
                consentry::on_backend!(&mut *conn, |x| diesel::insert_into(stats_access_category::table)
                    .values(chunk)
                    .execute(x))?;
            }
            Ok(())
        })
        .unwrap();
    }
    // Grants: rows and their rollup, validUntil over four years around today.
    let start_ms = rollups::cst_day_start(today - 730);
    let span = 4 * 365 * rollups::DAY_MS;
    let mut by_key: std::collections::BTreeMap<(String, i64), i64> = Default::default();
    let mut rows = Vec::new();
    for i in 0..GRANTS {
        let until = start_ms + (rnd(span as u64) as i64);
        let state = match rnd(10) {
            0 => "revoked",
            1 => "suspended",
            _ => "active",
        };
        *by_key
            .entry((state.to_owned(), rollups::cst_day(until)))
            .or_insert(0) += 1;
        rows.push((
            grants::id.eq(format!("urn:uuid:00000000-0000-4000-8000-{i:012}")),
            grants::sha256.eq("00"),
            grants::body.eq(Vec::<u8>::new()),
            grants::envelope.eq("jwt"),
            grants::enterprise_uscc.eq(code("EN", i % 50_000)),
            grants::grantee_uscc.eq(platforms[i % PLATFORMS].clone()),
            grants::signer_did.eq("did:key:z"),
            grants::status_list.eq((i / 100_000 + 1) as i64),
            grants::status_index.eq((i % 100_000) as i64),
            grants::valid_from.eq(start_ms),
            grants::valid_until.eq(until),
            grants::state.eq(state),
            grants::submitted_at.eq(start_ms),
            grants::submitted_seq.eq(i as i64),
        ));
    }
    conn.transaction(|conn| -> QueryResult<()> {
        for chunk in rows.chunks(200) {
            consentry::on_backend!(&mut *conn, |x| diesel::insert_into(grants::table)
                .values(chunk)
                .execute(x))?;
        }
        for ((state, day), n) in &by_key {
            diesel::insert_into(stats_grants::table)
                .values((
                    stats_grants::state.eq(state),
                    stats_grants::until_day.eq(day),
                    stats_grants::grants.eq(n),
                ))
                .execute(conn)?;
        }
        let now = consentry::storage::millis(SystemClock.now());
        for i in 0..5_000usize {
            let received = now - rnd(60 * rollups::DAY_MS as u64) as i64;
            let deadline = (rnd(20) != 0).then_some(received + 2 * rollups::DAY_MS);
            let forwarded = (rnd(3) != 0).then_some(received + rnd(3 * rollups::DAY_MS as u64) as i64);
            diesel::insert_into(objections::table)
                .values((
                    objections::id.eq(format!("urn:uuid:00000000-0000-4000-9000-{i:012}")),
                    objections::enterprise_uscc.eq(code("EN", i)),
                    objections::target_kind.eq("data"),
                    objections::target_ref.eq("x"),
                    objections::reason.eq("x"),
                    objections::attachments.eq("[]"),
                    objections::filing.eq("{}"),
                    objections::filing_sha256.eq(format!("{i}")),
                    objections::received_by.eq(platforms[i % PLATFORMS].clone()),
                    objections::received_role.eq("platform"),
                    objections::filed_at.eq(received),
                    objections::received_at.eq(received),
                    objections::deadline_at.eq(deadline),
                    objections::forwarded_at.eq(forwarded),
                    objections::state
                        .eq(["received", "forwarded", "under-review", "corrected", "rejected"][i % 5]),
                    objections::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        // The log's own size stays what it is: the node keeps writing to it (assertion ids, the
        // regulator's entry), and no statistic reads the log.
        Ok(())
    })
    .unwrap();
    if let DbConn::Pg(c) = conn {
        use diesel::connection::SimpleConnection;
        c.batch_execute("ANALYZE").unwrap();
    }
    (access_rows, cat_rows, total)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let db = args.first().cloned().unwrap_or_else(|| "sqlite".into());
    let entries: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000_000);
    let days: i64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(730);
    let rounds: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(15);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp");
    std::fs::create_dir_all(&root).unwrap();
    let dir = tempfile::tempdir_in(root).unwrap();
    let (url, pg_drop) = if db == "sqlite" {
        (
            format!("sqlite://{}", dir.path().join("stats.sqlite3").display()),
            None,
        )
    } else {
        let base = db.trim_end_matches("/postgres").to_owned();
        let name = format!("consentry_stats_{}", uuid::Uuid::new_v4().simple());
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
    let today = rollups::cst_day(node.now_ms());
    let t = Instant::now();
    // A regulator to ask (added before the fill, which sets the log's size without a tree).
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
    let (access_rows, cat_rows, total) = {
        let mut conn = node.store.conn().unwrap();
        fill(&mut conn, entries, days, today)
    };
    println!(
        "{db}: rollups for {total} entries over {days} days: {access_rows} stats_access rows, {cat_rows} \
         stats_access_category rows, {GRANTS} grants, 5000 objections (filled in {:.0} s)",
        t.elapsed().as_secs_f64()
    );

    let node = web::Data::new(node);
    let did = node.did().to_owned();
    let shared = node.clone();
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
            .unwrap();
        let body = resp.into_string().unwrap();
        (t.elapsed().as_secs_f64() * 1e3, body.len())
    };
    let first = rollups::day_date(today - days + 1);
    let year = rollups::day_date(today - 364);
    let p0 = code("PL", 0);
    let b0 = code("BK", 0);
    let cases: Vec<(String, String)> = vec![
        ("GET /v1/stats (30 days)".into(), "/v1/stats".into()),
        (
            "GET /v1/stats?format=csv (30 days)".into(),
            "/v1/stats?format=csv".into(),
        ),
        (
            "GET /v1/stats (365 days)".to_string(),
            format!("/v1/stats?from={year}"),
        ),
        (
            format!("GET /v1/stats ({days} days)"),
            format!("/v1/stats?from={first}"),
        ),
        (
            format!("GET /v1/stats/access groupBy=day,kind ({days} days)"),
            format!("/v1/stats/access?from={first}"),
        ),
        (
            format!("GET /v1/stats/access groupBy=category ({days} days)"),
            format!("/v1/stats/access?from={first}&groupBy=category"),
        ),
        (
            "GET /v1/stats/access groupBy=day,platform,bank,category (30 days)".into(),
            "/v1/stats/access?groupBy=day,platform,bank,category".into(),
        ),
        (
            format!("GET /v1/stats/access platform={p0} groupBy=day,bank (365 days)"),
            format!("/v1/stats/access?from={year}&platform={p0}&groupBy=day,bank"),
        ),
    ];
    for (label, path) in &cases {
        let mut ms = Vec::new();
        let mut size = 0;
        for _ in 0..rounds {
            let (t, n) = http(path);
            ms.push(t);
            size = n;
        }
        let (min, med) = (ms.iter().copied().fold(f64::MAX, f64::min), median(&mut ms));
        println!("{db}: {label:<72} median {med:>8.2} ms  (min {min:.2} ms, {size} bytes)");
    }
    // Direct calls (no HTTP, no assertion, no serialization): the database part alone.
    let sys = actix_web::rt::System::new();
    let now = shared.now_ms();
    for (label, scope, span) in [
        ("summary, all, 30 days", Scope::All, 30),
        ("summary, all, 365 days", Scope::All, 365),
        ("summary, platform, 365 days", Scope::Platform(p0.clone()), 365),
        ("summary, bank, 365 days", Scope::Bank(b0.clone()), 365),
    ] {
        let period = Period {
            from_day: today - span + 1,
            until_day: today,
        };
        let mut ms = Vec::new();
        for _ in 0..rounds {
            let t = Instant::now();
            let s = sys
                .block_on(consentry::node::stats::summary(&shared, scope.clone(), period))
                .unwrap();
            ms.push(t.elapsed().as_secs_f64() * 1e3);
            assert!(s.totals.releases > 0);
        }
        println!("{db}: direct {label:<64} median {:>8.2} ms", median(&mut ms));
    }
    let mut ms = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let mut c = shared.store.conn().unwrap();
        let g = rollups::grant_counts(&mut c, now).unwrap();
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(g.total, GRANTS as i64);
    }
    println!(
        "{db}: direct {:<64} median {:>8.2} ms",
        "grant figures (O(days) + boundary)",
        median(&mut ms)
    );
    let mut ms = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let r = sys
            .block_on(consentry::node::stats::access(
                &shared,
                Scope::All,
                Period {
                    from_day: today - days + 1,
                    until_day: today,
                },
                AccessFilters {
                    group_by: Some("category,kind".into()),
                    ..Default::default()
                },
            ))
            .unwrap();
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(!r.rows.is_empty());
    }
    println!(
        "{db}: direct {:<64} median {:>8.2} ms",
        format!("access by category,kind ({days} days)"),
        median(&mut ms)
    );
    sys.block_on(handle.stop(true));
    drop(shared);
    if let Some((base, name)) = pg_drop {
        if let Ok(mut admin) = diesel::PgConnection::establish(&format!("{base}/postgres")) {
            let _ =
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
        }
    }
}
