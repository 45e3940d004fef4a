//! Every `consentry admin …` subcommand run as the operator runs it — the binary, against the
//! database of a node that is serving — on SQLite and PostgreSQL: exit codes and output asserted,
//! the serving node seeing each change; and its errors: a wrong data folder, a wrong database
//! (missing, someone else's, another node's), a lock held by another process (issue #16 item 5).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::server::{Backend, PgDatabase, get_public, industry_fixture, new_key};
use crate::service::{BANK, ENTERPRISE, PLATFORM, World};

/// What one run printed.
pub(crate) struct Ran {
    pub(crate) code: Option<i32>,
    pub(crate) out: String,
    pub(crate) err: String,
}

impl Ran {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.out).unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", self.out, self.err))
    }

    pub(crate) fn ok(self) -> Self {
        assert_eq!(self.code, Some(0), "{}{}", self.out, self.err);
        self
    }

    /// Failed with `code`, saying `needle` on stderr and nothing on stdout.
    pub(crate) fn failed(self, code: i32, needle: &str) -> Self {
        assert_eq!(self.code, Some(code), "{}{}", self.out, self.err);
        assert!(self.err.contains(needle), "wanted {needle:?} in: {}", self.err);
        assert!(self.out.is_empty(), "a failed command printed: {}", self.out);
        self
    }
}

/// `consentry admin --data-dir DIR --database-url URL --industries FIXTURE ARGS…`, with no
/// `CONSENTRY_*` setting of the test's own environment leaking in.
pub(crate) fn admin(dir: &Path, url: &str, args: &[&str]) -> Ran {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_consentry"));
    for (k, _) in std::env::vars() {
        if k.starts_with("CONSENTRY_") || k == "DATABASE_URL" {
            cmd.env_remove(k);
        }
    }
    let fixture = industry_fixture();
    let out = cmd
        .arg("admin")
        .arg("--data-dir")
        .arg(dir)
        .args(["--database-url", url, "--industries"])
        .arg(&fixture)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Ran {
        code: out.status.code(),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn uscc(base: &str) -> String {
    consentry::ids::Uscc::complete(base).unwrap().as_str().to_owned()
}

/// The serving node's view of a participant, through its own key.
fn me(w: &World, key: &consentry::identity::KeyFile) -> crate::common::server::Answer {
    w.client(key).get("/v1/participants/me")
}

/// The id of the first data record in an answer of `GET /v1/enterprise/data`.
fn first_record_id(v: &Value) -> Option<i64> {
    match v {
        Value::Object(m) if m.contains_key("id") && m.contains_key("category") => m["id"].as_i64(),
        Value::Object(m) => m.values().find_map(first_record_id),
        Value::Array(a) => a.iter().find_map(first_record_id),
        _ => None,
    }
}

fn every_command(backend: Backend) {
    let w = World::new(backend);
    let dir = w.node.dir.path().to_path_buf();
    let url = w.node.database_url.clone();
    let run = |args: &[&str]| admin(&dir, &url, args);

    // init on a node that is set up: the same node, no new key.
    let v = run(&["init"]).ok().json();
    assert_eq!(v["did"], w.node.did.as_str());
    assert_eq!(v["keyCreated"], false);

    // tag-key: the node's subject-tag key, 32 bytes in hex.
    let r = run(&["tag-key"]).ok();
    assert_eq!(r.out.trim(), hex::encode(w.node.node.tag_key));

    // participants, by role.
    let v = run(&["participants", "--role", "platform"]).ok().json();
    let list = v["participants"].as_array().unwrap();
    assert!(list.iter().any(|p| p["uscc"] == PLATFORM), "{v}");
    assert!(list.iter().all(|p| p["role"] == "platform"), "{v}");

    // A second platform: admitted, suspended, resumed, removed; the serving node follows each step.
    let p2 = new_key();
    let p2_uscc = uscc("91320100MA0000P2");
    let add = [
        "platform",
        "add",
        "--uscc",
        &p2_uscc,
        "--name",
        "第二融资信用服务平台",
        "--did",
        p2.did.as_str(),
        "--endpoint",
        "https://p2.example.cn",
        "--region",
        "320100",
    ];
    let v = run(&add).ok().json();
    assert_eq!(v["uscc"], p2_uscc.as_str());
    assert_eq!(v["role"], "platform");
    assert_eq!(v["state"], "active");
    assert_eq!(me(&w, &p2).status, 200);
    let size = w.log_size();
    run(&add).failed(2, "");
    assert_eq!(w.log_size(), size, "a refused admission wrote to the log");
    for (cmd, state) in [
        ("suspend", "suspended"),
        ("resume", "active"),
        ("remove", "removed"),
    ] {
        let v = run(&["platform", cmd, &p2_uscc]).ok().json();
        assert_eq!(v["state"], state, "{cmd}: {v}");
        // The serving node follows: its own view says so, and a suspended or removed platform is
        // refused.
        assert_eq!(me(&w, &p2).body["participant"]["state"], state, "{cmd}");
        let grants = w.client(&p2).get("/v1/grants");
        let status = if state == "active" { 200 } else { 403 };
        assert_eq!(grants.status, status, "{cmd}: {}", grants.text);
    }
    run(&["platform", "resume", &p2_uscc]).failed(2, "");
    run(&["platform", "suspend", "91320100MA0000P2X"]).failed(2, "");

    // A providing department and a regulator.
    let dept = new_key();
    let v = run(&[
        "department",
        "--uscc",
        &uscc("1132000001000009"),
        "--name",
        "江苏省税务局",
        "--did",
        dept.did.as_str(),
        "--provider",
        "STA",
    ])
    .ok()
    .json();
    assert_eq!(v["role"], "department", "{v}");
    assert_eq!(me(&w, &dept).status, 200);
    run(&[
        "department",
        "--uscc",
        &uscc("1132000001000017"),
        "--name",
        "x",
        "--did",
        new_key().did.as_str(),
        "--provider",
        "NOPE",
    ])
    .failed(2, "NOPE");
    let reg = new_key();
    let v = run(&[
        "regulator",
        "--uscc",
        &uscc("11320000MB0000RG"),
        "--name",
        "省金融监管局二处",
        "--did",
        reg.did.as_str(),
    ])
    .ok()
    .json();
    assert_eq!(v["role"], "regulator");
    assert_eq!(v["state"], "active");
    assert_eq!(me(&w, &reg).status, 200);

    // Registrations: two enterprises ask; one approved, one rejected.
    let (e1, e2) = (new_key(), new_key());
    let (u1, u2) = (uscc("91320200MA0000E1"), uscc("91320200MA0000E2"));
    for (k, u) in [(&e1, &u1), (&e2, &u2)] {
        let c = w.client(k);
        let token = c.signed_request("register", json!({"uscc": u, "name": "无锡示例有限公司"}));
        let a = c.post_raw("/v1/registrations", &token, false);
        assert_eq!(a.status, 202, "{}", a.text);
    }
    let v = run(&["registrations"]).ok().json();
    let pending: Vec<&str> = v["registrations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["uscc"].as_str())
        .collect();
    assert!(
        pending.contains(&u1.as_str()) && pending.contains(&u2.as_str()),
        "{v}"
    );
    assert!(
        !pending.contains(&ENTERPRISE),
        "an active enterprise listed as pending: {v}"
    );
    let v = run(&["approve", &u1]).ok().json();
    let vc = v["identityCredential"].to_string();
    let checked = consentry::credential::verify(vc.as_bytes(), w.node.clock_now()).unwrap();
    assert_eq!(checked.signer.as_str(), w.node.did);
    assert_eq!(me(&w, &e1).body["participant"]["state"], "active");
    run(&["approve", &u1]).failed(2, "");
    let v = run(&["reject", &u2]).ok().json();
    assert!(v["identityCredential"].is_null(), "{v}");
    let v = run(&["registrations", "--state", "rejected"]).ok().json();
    assert!(
        v["registrations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["uscc"] == u2.as_str()),
        "{v}"
    );
    run(&["approve", &uscc("91320200MA0000E3")]).failed(2, "");

    // Key recovery: the bank's new key, proven by its accept-key request, replaces the old one.
    let new_bank = new_key();
    let pop = w.client(&new_bank).signed_request("accept-key", json!({}));
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &pop).unwrap();
    let f = file.path().to_str().unwrap();
    run(&["recover-key", "--role", "bank", "--uscc", BANK, f]).ok();
    assert_eq!(me(&w, &new_bank).status, 200);
    assert_eq!(me(&w, &w.bank).status, 401);
    // The same proof again: spent.
    run(&["recover-key", "--role", "bank", "--uscc", BANK, f]).failed(2, "");
    run(&["recover-key", "--role", "banker", "--uscc", BANK, f]).failed(2, "unknown role banker");

    // A new authorization-letter version; the same again is refused.
    let mut letter = get_public(&format!("{}/v1/catalog/letters/STA/1", w.node.url)).body["letter"].clone();
    letter["id"] = json!("STA/99");
    letter["version"] = json!(99);
    let letter_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(letter_file.path(), letter.to_string()).unwrap();
    let lf = letter_file.path().to_str().unwrap();
    run(&["publish-letter", lf]).ok();
    // The serving process picks it up within a few seconds (node::letters::refresh).
    let t = Instant::now();
    let served = loop {
        let a = get_public(&format!("{}/v1/catalog/letters/STA/99", w.node.url));
        if a.status == 200 || t.elapsed() > Duration::from_secs(10) {
            break a;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(served.status, 200, "{}", served.text);
    assert_eq!(served.body["letter"]["version"], 99, "{}", served.text);
    run(&["publish-letter", lf]).failed(2, "");
    std::fs::write(letter_file.path(), "{\"id\": ").unwrap();
    run(&["publish-letter", lf]).failed(2, "");

    // Imports: a record once, then nothing new.
    let records = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        records.path(),
        format!(
            "{}\n",
            json!({"uscc": ENTERPRISE, "category": "TAX-03", "date": "2025-04-30", "provider": "STA",
                   "fields": {"taxType": "VAT", "taxPaid": 990, "declaredSales": 41000}})
        ),
    )
    .unwrap();
    let rf = records.path().to_str().unwrap();
    let r = run(&["import", rf]).ok();
    assert!(r.out.starts_with("imported 1 records"), "{}", r.out);
    let r = run(&["import", rf]).ok();
    assert!(r.out.contains("nothing new"), "{}", r.out);
    std::fs::write(records.path(), "{\"uscc\": \"not-a-code\"}\n").unwrap();
    let r = run(&["import", rf]);
    assert_eq!(r.code, Some(1), "{}{}", r.out, r.err);
    assert!(r.err.starts_with("invalid: "), "{}", r.err);
    run(&["import", "/nonexistent/records.jsonl"]).failed(2, "/nonexistent/records.jsonl");

    // A checkpoint now: the node's signed note over its whole log.
    let r = run(&["checkpoint"]).ok();
    let mut lines = r.out.lines();
    assert!(
        lines.next().unwrap().ends_with("/consentry/access-log"),
        "{}",
        r.out
    );
    let size: u64 = lines.next().unwrap().parse().unwrap();
    assert_eq!(size, w.log_size(), "{}", r.out);
    assert!(r.out.contains("\n\n\u{2014} "), "no signature line: {}", r.out);

    // Statistics: JSON, CSV, and the rollups checked against their sources.
    let v = run(&["stats"]).ok().json();
    assert!(v.is_object() && !v.as_object().unwrap().is_empty(), "{v}");
    let r = run(&["stats", "--csv"]).ok();
    assert!(r.out.lines().count() > 1, "{}", r.out);
    let v = run(&["stats", "rebuild", "--check"]).ok().json();
    assert_eq!(v["matched"], true, "{v}");
    run(&["stats", "--from", "2026-13-01"]).failed(2, "");

    // Objections: one filed by the enterprise, reviewed and resolved by the operator's commands.
    let ent = w.client(&w.enterprise);
    let data = ent.get("/v1/enterprise/data");
    assert_eq!(data.status, 200, "{}", data.text);
    let record = first_record_id(&data.body).expect("a record of the enterprise");
    let filing = ent.signed_request(
        "object",
        json!({"enterprise": ENTERPRISE, "target": {"type": "data", "record": record}, "reason": "纳税额有误"}),
    );
    let a = ent.post("/v1/objections", &json!({"filing": filing}));
    assert_eq!(a.status, 201, "{}", a.text);
    let id = a.body["id"].as_str().unwrap().to_owned();
    let v = run(&["objection", "list"]).ok().json();
    assert!(v.to_string().contains(&id), "{v}");
    let v = run(&["objection", "show", &id]).ok().json();
    assert_eq!(v["state"], "forwarded", "{v}");
    let v = run(&["objection", "review", &id, "--note", "核查中"]).ok().json();
    assert_eq!(v["state"], "under-review", "{v}");
    let v = run(&[
        "objection",
        "resolve",
        &id,
        "--outcome",
        "rejected",
        "--explanation",
        "经核查，该次查询有授权",
    ])
    .ok()
    .json();
    assert_eq!(v["state"], "rejected", "{v}");
    let seen = ent.get(&format!("/v1/objections/{id}"));
    assert_eq!(seen.body["state"], "rejected", "{}", seen.text);
    let r = run(&["objection", "review", &id]);
    assert_eq!(r.code, Some(1), "{}{}", r.out, r.err);
    assert!(r.err.starts_with("invalid: "), "{}", r.err);
    let r = run(&[
        "objection",
        "show",
        "urn:uuid:0e0c3c47-33b4-4c5f-8a44-9c2d3f1e2a10",
    ]);
    assert_eq!(r.code, Some(1), "{}{}", r.out, r.err);
    assert!(r.err.contains("not-found"), "{}", r.err);

    // Usage errors.
    run(&["frobnicate"]).failed(2, "frobnicate");
    run(&["approve"]).failed(2, "USCC");
}

#[test]
fn every_admin_command_on_sqlite() {
    every_command(Backend::Sqlite);
}

#[test]
fn every_admin_command_on_postgres() {
    every_command(Backend::Postgres);
}

/// A node's data folder is a key and a database that belong together; an admin command given the
/// wrong one of either names the mistake, exits 2 and sets nothing up.
fn wrong_folder_or_database(backend: Backend) {
    let w = World::new(backend);
    let dir = w.node.dir.path();
    let url = &w.node.database_url;

    // An empty folder: not a node's. Nothing is made in it.
    let empty = tempfile::tempdir().unwrap();
    admin(empty.path(), url, &["participants"]).failed(2, "holds no node.key.json");
    assert_eq!(
        std::fs::read_dir(empty.path()).unwrap().count(),
        0,
        "the command wrote into the folder"
    );
    // A folder that does not exist.
    admin(&empty.path().join("typo"), url, &["participants"]).failed(2, "holds no node.key.json");
    assert!(!empty.path().join("typo").exists());

    // The right folder, a SQLite file that does not exist: not created.
    let missing = empty.path().join("other.sqlite3");
    admin(dir, &format!("sqlite://{}", missing.display()), &["participants"]).failed(2, "no database at");
    assert!(!missing.exists(), "the command created a database");

    // Someone else's (empty) PostgreSQL database: not migrated into a node's.
    let foreign = PgDatabase::create();
    admin(dir, &foreign.url(), &["participants"]).failed(2, "is not a Consentry node's database");
    {
        use diesel::{Connection, RunQueryDsl};
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut c = diesel::PgConnection::establish(&foreign.url()).unwrap();
        let n: N = diesel::sql_query(
            "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .get_result(&mut c)
        .unwrap();
        assert_eq!(n.n, 0, "the command created tables in someone else's database");
    }
    // A PostgreSQL database that does not exist: the server's own message.
    let absent = format!(
        "{}/consentry_absent_{}",
        crate::common::server::pg_base(),
        std::process::id()
    );
    admin(dir, &absent, &["participants"]).failed(2, "does not exist");

    // Another node's database with this node's key.
    let other = tempfile::tempdir().unwrap();
    let other_url = format!("sqlite://{}", other.path().join("consentry.sqlite3").display());
    let v = admin(other.path(), &other_url, &["init"]).ok().json();
    assert_eq!(v["keyCreated"], true);
    admin(dir, &other_url, &["participants"]).failed(2, "belongs to");

    // init refuses to bind a node's database to another key.
    admin(other.path(), url, &["init"]).failed(2, "belongs to");

    // And the node's own pair still works.
    admin(dir, url, &["participants"]).ok();
}

#[test]
fn wrong_folder_or_database_on_sqlite() {
    wrong_folder_or_database(Backend::Sqlite);
}

#[test]
fn wrong_folder_or_database_on_postgres() {
    wrong_folder_or_database(Backend::Postgres);
}

/// An enterprise waiting for approval, for the lock tests.
fn pending(w: &World) -> String {
    let k = new_key();
    let u = uscc("91320300MA0000L1");
    let c = w.client(&k);
    let token = c.signed_request("register", json!({"uscc": u, "name": "徐州示例有限公司"}));
    let a = c.post_raw("/v1/registrations", &token, false);
    assert_eq!(a.status, 202, "{}", a.text);
    u
}

fn registration_state(w: &World, u: &str) -> String {
    let v = admin(
        w.node.dir.path(),
        &w.node.database_url,
        &["participants", "--role", "enterprise"],
    )
    .ok()
    .json();
    v["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["uscc"] == u)
        .map(|p| p["state"].as_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// SQLite: another process holding the write lock longer than the busy timeout (10 s) makes an admin
/// command fail with SQLite's own message, exit 2, nothing written; once the lock is gone it runs.
#[test]
fn a_held_sqlite_lock_fails_the_command_cleanly() {
    use diesel::{Connection, RunQueryDsl};
    let w = World::new(Backend::Sqlite);
    let u = pending(&w);
    let path = w.node.database_url.trim_start_matches("sqlite://").to_owned();
    let mut holder = diesel::SqliteConnection::establish(&path).unwrap();
    diesel::sql_query("BEGIN IMMEDIATE").execute(&mut holder).unwrap();
    let t = Instant::now();
    admin(w.node.dir.path(), &w.node.database_url, &["approve", &u]).failed(2, "database is locked");
    assert!(
        t.elapsed() >= Duration::from_secs(9),
        "gave up before the busy timeout: {:?}",
        t.elapsed()
    );
    diesel::sql_query("ROLLBACK").execute(&mut holder).unwrap();
    assert_eq!(registration_state(&w, &u), "pending");
    admin(w.node.dir.path(), &w.node.database_url, &["approve", &u]).ok();
    assert_eq!(registration_state(&w, &u), "active");
}

/// PostgreSQL: the access log's lock (the `log_state` row) held by another process makes an admin
/// command that appends to the log wait for it, then complete — nothing lost, nothing doubled.
#[test]
fn a_held_postgres_log_lock_makes_the_command_wait() {
    use diesel::{Connection, RunQueryDsl};
    let w = World::new(Backend::Postgres);
    let u = pending(&w);
    let size = w.log_size();
    let url = w.node.database_url.clone();
    let (locked, release) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
    let holder = std::thread::spawn(move || {
        let mut c = diesel::PgConnection::establish(&url).unwrap();
        c.transaction::<_, diesel::result::Error, _>(|c| {
            diesel::sql_query("SELECT 1 FROM log_state FOR UPDATE").execute(c)?;
            locked.0.send(()).unwrap();
            release.1.recv().unwrap();
            Ok(())
        })
        .unwrap();
    });
    locked.1.recv().unwrap();
    let dir = w.node.dir.path().to_path_buf();
    let db = w.node.database_url.clone();
    let u2 = u.clone();
    let t = Instant::now();
    let cmd = std::thread::spawn(move || admin(&dir, &db, &["approve", &u2]));
    std::thread::sleep(Duration::from_secs(2));
    assert!(!cmd.is_finished(), "the command did not wait for the log lock");
    release.0.send(()).unwrap();
    holder.join().unwrap();
    cmd.join().unwrap().ok();
    assert!(t.elapsed() >= Duration::from_secs(2));
    assert_eq!(registration_state(&w, &u), "active");
    assert_eq!(w.log_size(), size + 1, "one decision, one entry");
}
