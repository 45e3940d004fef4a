//! What `data.released` webhooks add to a release (BENCHMARKS.md, "Webhooks on the release path"):
//!
//! ```text
//! cargo run --release --example notify_cost -- [--pg] [--jobs 12800]
//! ```
//!
//! Two measurements. First, the in-memory check every release makes (`Notifier::wants_released`),
//! a million times with no subscriber and a million times with one. Then, on the group committer (the
//! serial part of the release path), `jobs` release entries appended from 64 threads, once alone and
//! once each with its `data.released` outbox row, on SQLite (a fresh folder under target/tmp) and, with
//! `--pg`, also on a fresh PostgreSQL database on `CONSENTRY_TEST_PG` (default
//! `postgres://postgres@127.0.0.1:5432`, dropped afterwards).
//!
//! Formerly the ignored test `notifications::measure_release_path_cost`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use consentry::clock::SystemClock;
use consentry::config::{Config, ServiceRole};
use consentry::log::entry::{AccessRecord, EntryKind};
use consentry::node::{Node, notify};
use consentry::storage::log_store::NewEntry;
use consentry::storage::webhooks::NewEndpoint;
use diesel::prelude::*;
use serde_json::json;

const ENTERPRISE: &str = "91330100716105852F";
const PLATFORM: &str = "91440300708461136T";

/// A node on `database_url` with its data folder in `dir` (no HTTP server: the committer and the
/// notifier are all this measures).
fn open(dir: &std::path::Path, database_url: String) -> Node {
    let config = Config {
        data_dir: dir.to_path_buf(),
        listen: "127.0.0.1:0".into(),
        database_url,
        public_url: "http://127.0.0.1:0".into(),
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
        webhooks: Default::default(),
        database_wait_ms: 1000,
        evaluation_model: None,
        metrics_token: None,
        metrics_listen: None,
        log_format: Default::default(),
    };
    consentry::node::start::open(&config, Arc::new(SystemClock))
        .unwrap()
        .0
}

/// Subscribes `enterprise` to `data.released` (as `POST /v1/webhooks` would) and reloads the
/// notifier's in-memory set.
fn subscribe(node: &Node, enterprise: &str) {
    let mut c = node.store.dedicated_connection().unwrap();
    let public_id = uuid::Uuid::new_v4().to_string();
    consentry::storage::webhooks::insert_endpoint(
        &mut c,
        &NewEndpoint {
            public_id: &public_id,
            owner_uscc: enterprise,
            owner_role: consentry::policy::Role::Enterprise.as_str(),
            url: "http://127.0.0.1:9/x",
            events: notify::DATA_RELEASED,
            description: None,
            now: node.now_ms(),
        },
    )
    .unwrap();
    node.notify.refresh(&mut c).unwrap();
}

/// `jobs` release entries for `enterprise` appended through the committer from 64 threads, each with
/// its `data.released` outbox row when `notify_it`.
fn measure_committer(node: &Node, enterprise: &str, jobs: usize, notify_it: bool) -> Duration {
    let threads = 64;
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            let committer = node.committer.clone();
            let enterprise = enterprise.to_owned();
            s.spawn(move || {
                for _ in 0..jobs / threads {
                    let e = enterprise.clone();
                    committer
                        .run_blocking(move |tx| {
                            let entry = NewEntry {
                                kind: EntryKind::Release,
                                enterprise: Some(e.clone()),
                                grant: None,
                                caller: Some(PLATFORM.into()),
                                platform: Some(PLATFORM.into()),
                                bank: None,
                                categories: Some("REG-01".into()),
                                decision: Some("allowed".into()),
                                record: AccessRecord {
                                    enterprise: Some(e.clone()),
                                    ..Default::default()
                                },
                            };
                            let seq = tx.append(entry)?.seq;
                            if notify_it {
                                let now = tx.now();
                                notify::enqueue_webhooks(
                                    tx.conn,
                                    &e,
                                    notify::DATA_RELEASED,
                                    json!({"logIndex": seq}),
                                    now,
                                )?;
                            }
                            Ok(())
                        })
                        .unwrap();
                }
            });
        }
    });
    start.elapsed()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pg = args.iter().any(|a| a == "--pg");
    let jobs: usize = args
        .iter()
        .position(|a| a == "--jobs")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(12_800);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp");
    std::fs::create_dir_all(&root).unwrap();

    // The in-memory check, with no subscriber and with one.
    let n = 1_000_000;
    let notifier = notify::Notifier::new(Default::default());
    let mut hits = 0;
    let start = Instant::now();
    for i in 0..n {
        if notifier.wants_released(if i % 2 == 0 { ENTERPRISE } else { PLATFORM }) {
            hits += 1;
        }
    }
    let empty = start.elapsed();
    let dir = tempfile::tempdir_in(&root).unwrap();
    let url = format!("sqlite://{}", dir.path().join("node.sqlite3").display());
    let node = open(dir.path(), url);
    subscribe(&node, ENTERPRISE);
    let start = Instant::now();
    for i in 0..n {
        if node
            .notify
            .wants_released(if i % 2 == 0 { ENTERPRISE } else { PLATFORM })
        {
            hits += 1;
        }
    }
    let one = start.elapsed();
    println!(
        "in-memory check: {:.1} ns (no subscriber), {:.1} ns (one subscriber) per release ({hits})",
        empty.as_nanos() as f64 / f64::from(n),
        one.as_nanos() as f64 / f64::from(n)
    );

    // The committer, without and with the outbox row.
    let mut backends = vec![("SQLite", node, None)];
    if pg {
        let base = std::env::var("CONSENTRY_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let name = format!("consentry_notify_{}", uuid::Uuid::new_v4().simple());
        let mut admin = diesel::PgConnection::establish(&format!("{base}/postgres")).unwrap();
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .unwrap();
        let pg_dir = tempfile::tempdir_in(&root).unwrap();
        let node = open(pg_dir.path(), format!("{base}/{name}"));
        subscribe(&node, ENTERPRISE);
        backends.push(("PostgreSQL", node, Some((base, name, pg_dir))));
    }
    for (label, node, _) in &backends {
        let _ = measure_committer(node, ENTERPRISE, 1280, false);
        let base = measure_committer(node, ENTERPRISE, jobs, false);
        let with = measure_committer(node, ENTERPRISE, jobs, true);
        let per = |d: Duration| d.as_secs_f64() * 1e6 / jobs as f64;
        println!(
            "{label}: committer append only {:.1} µs/release ({:.0}/s); append + data.released outbox {:.1} µs/release ({:.0}/s)",
            per(base),
            jobs as f64 / base.as_secs_f64(),
            per(with),
            jobs as f64 / with.as_secs_f64()
        );
    }
    for (_, node, pg) in backends {
        drop(node);
        if let Some((base, name, _dir)) = pg {
            if let Ok(mut admin) = diesel::PgConnection::establish(&format!("{base}/postgres")) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}
