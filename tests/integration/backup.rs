//! Backups (issue #16 item 3), on SQLite and PostgreSQL: `consentry admin backup` while the node
//! serves writes; `admin restore` into a new database, which verifies and on which a node starts and
//! goes on appending; and the rollback guard: a backup older than a checkpoint the node already
//! published is refused by `restore`, `verify` and `serve` alike.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;

use crate::admin::admin;
use crate::common::server::{Backend, PgDatabase, TestNode, new_key};
use crate::service::World;

/// A fresh folder holding only the node's key (and, when `guard`, the newest checkpoint it
/// published), and an empty database of `backend` for it.
fn fresh_home(from: &Path, backend: Backend, guard: bool) -> (tempfile::TempDir, String, Option<PgDatabase>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(from.join("node.key.json"), dir.path().join("node.key.json")).unwrap();
    if guard {
        std::fs::copy(
            from.join("published-checkpoint"),
            dir.path().join("published-checkpoint"),
        )
        .unwrap();
    }
    let pg = (backend == Backend::Postgres).then(PgDatabase::create);
    let url = match &pg {
        Some(db) => db.url(),
        None => format!("sqlite://{}", dir.path().join("consentry.sqlite3").display()),
    };
    (dir, url, pg)
}

fn backup_restore(backend: Backend) {
    let w = World::new(backend);
    let dir = w.node.dir.path().to_path_buf();
    let url = w.node.database_url.clone();
    let grant = w.grant();

    // Load: the enterprise suspends and resumes its grant as fast as it can, each change a log entry.
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (c, stop, grant) = (w.client(&w.enterprise), Arc::clone(&stop), grant.clone());
        std::thread::spawn(move || {
            let mut done = 0u32;
            while !stop.load(Ordering::Relaxed) {
                for action in ["suspend", "resume"] {
                    let token = c.signed_request(action, json!({"grant": grant}));
                    let a = c.post_raw(&format!("/v1/grants/{grant}/{action}"), &token, false);
                    assert_eq!(a.status, 200, "{action}: {}", a.text);
                    done += 1;
                }
            }
            done
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    let backups = tempfile::tempdir().unwrap();
    let dest = backups.path().join("node.backup");
    let d = dest.to_str().unwrap();
    let v = admin(&dir, &url, &["backup", d]).ok().json();
    assert!(v["logSizeAtLeast"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(
        v["bytes"].as_u64().unwrap(),
        std::fs::metadata(&dest).unwrap().len()
    );
    // Never over an existing file.
    admin(&dir, &url, &["backup", d]).failed(2, "never overwrites");
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    let changes = load.join().unwrap();
    assert!(changes > 4, "the load hardly ran: {changes} changes");
    // A checkpoint of everything, recorded in the folder as published.
    let r = admin(&dir, &url, &["checkpoint"]).ok();
    let published = std::fs::read_to_string(dir.join("published-checkpoint")).unwrap();
    assert!(
        r.out.starts_with(published.split("\n\n").next().unwrap()),
        "{}\n{published}",
        r.out
    );

    // The serving node's own log verifies, extending what it published.
    let v = admin(&dir, &url, &["verify", "--json"]).ok().json();
    assert_eq!(v["valid"], true, "{v}");

    // Restored into a new database beside the key: it verifies, a node starts on it and goes on.
    if backend == Backend::Postgres {
        // Never into someone else's database.
        let (home, _, _) = fresh_home(&dir, backend, false);
        let other = PgDatabase::create();
        {
            use diesel::{Connection, RunQueryDsl};
            let mut c = diesel::PgConnection::establish(&other.url()).unwrap();
            diesel::sql_query("CREATE TABLE theirs (x int)")
                .execute(&mut c)
                .unwrap();
        }
        admin(home.path(), &other.url(), &["restore", d]).failed(2, "not an empty PostgreSQL database");
    }
    let (home, home_url, pg) = fresh_home(&dir, backend, false);
    let r = admin(home.path(), &home_url, &["restore", d]).ok();
    assert!(r.out.starts_with("valid: "), "{}", r.out);
    admin(home.path(), &home_url, &["restore", d]).failed(2, "already holds a node's database");
    let node = TestNode::start_with(home, home_url.clone(), pg);
    let before = node
        .node
        .store
        .run(consentry::storage::log_store::head)
        .unwrap()
        .0;
    let k = new_key();
    let c = node.client(&k);
    let u = consentry::ids::Uscc::complete("91320400MA0000B1").unwrap();
    let token = c.signed_request(
        "register",
        json!({"uscc": u.as_str(), "name": "常州示例有限公司"}),
    );
    let a = c.post_raw("/v1/registrations", &token, false);
    assert_eq!(a.status, 202, "{}", a.text);
    let after = node
        .node
        .store
        .run(consentry::storage::log_store::head)
        .unwrap()
        .0;
    assert_eq!(after, before + 1, "the restored node did not append");
    let v = admin(node.dir.path(), &home_url, &["verify", "--json"])
        .ok()
        .json();
    assert_eq!(v["valid"], true, "{v}");

    // With the record of the newer checkpoint the node published after the backup: refused.
    let (home, home_url, _pg) = fresh_home(&dir, backend, true);
    admin(home.path(), &home_url, &["restore", d]).failed(2, "rolled back");
    let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .arg("serve")
        .arg("--data-dir")
        .arg(home.path())
        .args(["--database-url", &home_url, "--listen", "127.0.0.1:0"])
        .env_remove("CONSENTRY_DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rolled back"), "{err}");
    // The operator may accept the rollback by removing the record: then it starts and verifies.
    std::fs::remove_file(home.path().join("published-checkpoint")).unwrap();
    let v = admin(home.path(), &home_url, &["verify", "--json"]).ok().json();
    assert_eq!(v["valid"], true, "{v}");
}

#[test]
fn backup_under_load_restore_verify_continue_on_sqlite() {
    backup_restore(Backend::Sqlite);
}

#[test]
fn backup_under_load_restore_verify_continue_on_postgres() {
    backup_restore(Backend::Postgres);
}
