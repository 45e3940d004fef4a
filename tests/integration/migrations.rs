//! Every schema change on both backends goes up, down and up again: each `down.sql` undoes its
//! `up.sql` exactly (the schema after up → down → up is the schema after up), and a database with
//! data in it migrates down and up without error.

use consentry::storage::{DbConn, Store};
use diesel::RunQueryDsl;
use diesel::sql_types::Text;

use crate::common::server::PgDatabase;

#[derive(diesel::QueryableByName, PartialEq, Eq, Debug, PartialOrd, Ord)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// The schema as text, in a stable order: every table's columns and every index.
fn schema(conn: &mut DbConn) -> Vec<String> {
    let q = match conn {
        DbConn::Sqlite(_) => {
            "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') AS line FROM sqlite_master \
             WHERE name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations' ORDER BY type, name"
        }
        DbConn::Pg(_) => {
            "SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable \
             || ' ' || COALESCE(column_default, '') AS line FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name <> '__diesel_schema_migrations' \
             UNION ALL SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes \
             WHERE schemaname = current_schema() AND tablename <> '__diesel_schema_migrations' ORDER BY 1"
        }
    };
    let mut lines: Vec<Line> = consentry::on_backend!(conn, |c| diesel::sql_query(q).load(c)).unwrap();
    lines.sort();
    lines.into_iter().map(|l| l.line).collect()
}

fn up_down_up(url: &str) {
    let store = Store::open(url, 2).unwrap();
    let mut conn = store.conn().unwrap();
    let after_up = schema(&mut conn);
    assert!(
        after_up.iter().any(|l| l.contains("participants_one_per_uscc")),
        "{after_up:#?}"
    );
    let applied = consentry::storage::revert_all_migrations(&mut conn).unwrap();
    let dirs = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .count();
    assert_eq!(applied, dirs, "every migration reverted");
    assert!(
        schema(&mut conn).is_empty(),
        "down left tables behind: {:#?}",
        schema(&mut conn)
    );
    assert_eq!(
        consentry::storage::run_pending_migrations(&mut conn).unwrap(),
        dirs
    );
    assert_eq!(schema(&mut conn), after_up, "up → down → up changed the schema");
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(conn: &mut DbConn, sql: &str) -> i64 {
    let rows: Vec<Count> = consentry::on_backend!(conn, |c| diesel::sql_query(sql).load(c)).unwrap();
    rows[0].n
}

/// A database holding participants with keys (every deployed node has at least its own) goes down
/// and up through every migration of this year, those that rebuild `participants` included (SQLite
/// cannot alter a CHECK constraint), and keeps its rows and their references.
fn rows_survive_the_recent_migrations(url: &str) {
    let store = Store::open(url, 2).unwrap();
    let mut conn = store.conn().unwrap();
    for sql in [
        "INSERT INTO participants (id, uscc, role, name, state, created_at, updated_at) \
         VALUES (7, '91330100716105852F', 'enterprise', 'e', 'active', 1, 1)",
        "INSERT INTO participant_keys (id, participant_id, did, valid_from) VALUES (9, 7, 'did:key:z6Mk', 1)",
    ] {
        consentry::on_backend!(&mut *conn, |c| diesel::sql_query(sql).execute(c)).unwrap();
    }
    let recent = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("2026-12-07")
        })
        .count();
    assert!(recent >= 1);
    for _ in 0..recent {
        consentry::storage::revert_last_migration(&mut conn).unwrap();
    }
    assert_eq!(
        consentry::storage::run_pending_migrations(&mut conn).unwrap(),
        recent
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM participants WHERE id = 7"
        ),
        1
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM participant_keys k JOIN participants p ON p.id = k.participant_id WHERE k.id = 9"
        ),
        1
    );
}

#[test]
fn rows_survive_the_recent_migrations_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    rows_survive_the_recent_migrations(&format!("sqlite://{}", dir.path().join("m.sqlite3").display()));
}

#[test]
fn rows_survive_the_recent_migrations_on_postgres() {
    let db = PgDatabase::create();
    rows_survive_the_recent_migrations(&db.url());
}

#[test]
fn migrations_go_up_down_up_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    up_down_up(&format!("sqlite://{}", dir.path().join("m.sqlite3").display()));
}

#[test]
fn migrations_go_up_down_up_on_postgres() {
    let db = PgDatabase::create();
    up_down_up(&db.url());
}

/// Both trees hold the same migrations, by name.
#[test]
fn both_backends_have_the_same_migrations() {
    let names = |b: &str| {
        let mut v: Vec<String> = std::fs::read_dir(format!("{}/migrations/{b}", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("sqlite"), names("postgres"));
}
