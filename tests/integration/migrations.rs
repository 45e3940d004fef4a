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
