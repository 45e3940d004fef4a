//! Monitoring statistics (spec/statistics.md) on SQLite and PostgreSQL:
//!
//! * a randomized stream of events (seeded; the seed is printed, rerun with `STATS_SEED=…`) —
//!   registrations and decisions, platforms and banks, grants submitted / suspended / resumed /
//!   revoked / expiring, platform suspensions and removal (cascading suspensions), releases and
//!   refusals across platforms, banks, categories and China-Standard-Time days (a test clock that
//!   crosses CST midnight, 16:00 UTC) — then every rollup row and every figure compared with a direct
//!   count over the source tables (`log_leaves`, `grants`, `participants`, `objections`), at several
//!   instants, before and after a rebuild;
//! * a job that appends and then fails inside the group committer leaves the rollups unchanged, and
//!   the rebuild agrees;
//! * over HTTP: JSON and CSV (parsed back and compared), content negotiation, who sees what, and
//!   problems for bad parameters.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use consentry::catalog::Catalog;
use consentry::clock::Clock;
use consentry::config::{Config, ServeArgs};
use consentry::credential::data_integrity::create_proof;
use consentry::grant::GrantDraft;
use consentry::grant::model::{
    CategoryGrant, Enterprise, Grantee, GranteeRole, Granularity, OnwardRecipient, RatePeriod, RecipientRole,
    Usage,
};
use consentry::identity::KeyFile;
use consentry::ids::{GrantId, Uscc};
use consentry::log::entry::{AccessRecord, EntryKind};
use consentry::node::registry::{self, Actor, NewMember};
use consentry::node::stats::{AccessFilters, Period, Scope};
use consentry::node::{Caller, Node};
use consentry::storage::log_store::NewEntry;
use consentry::storage::stats as rollups;
use consentry::storage::{DbConn, from_millis, millis};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, SmallInt, Text};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::common::server::{Answer, Backend, PgDatabase, new_key};

// ---------------------------------------------------------------------------------------------
// A node on a test clock.

struct TestClock(AtomicI64);

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        from_millis(self.0.load(Ordering::SeqCst))
    }
}

struct Env {
    node: Node,
    clock: Arc<TestClock>,
    _dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

impl Env {
    fn open(backend: Backend, start: OffsetDateTime) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let pg = (backend == Backend::Postgres).then(PgDatabase::create);
        let database_url = match &pg {
            Some(db) => db.url(),
            None => format!("sqlite://{}", dir.path().join("node.sqlite3").display()),
        };
        let config = Config::resolve(&ServeArgs {
            data_dir: Some(dir.path().to_path_buf()),
            database_url: Some(database_url),
            public_url: Some("http://127.0.0.1:9".into()),
            workers: Some(2),
            ..Default::default()
        })
        .unwrap();
        let clock = Arc::new(TestClock(AtomicI64::new(millis(start))));
        let (node, _) = consentry::node::start::open(&config, clock.clone()).unwrap();
        Self {
            node,
            clock,
            _dir: dir,
            _pg: pg,
        }
    }

    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    fn now_ms(&self) -> i64 {
        self.clock.0.load(Ordering::SeqCst)
    }

    fn set(&self, t: OffsetDateTime) {
        self.clock.0.store(millis(t), Ordering::SeqCst);
    }

    fn advance_ms(&self, ms: i64) {
        self.clock.0.fetch_add(ms, Ordering::SeqCst);
    }

    async fn caller(&self, key: &KeyFile, path: &str) -> Caller {
        let token = consentry::node::auth::make(key, self.node.did(), "POST", path, self.now()).unwrap();
        self.node.authenticate(&token, "POST", path).await.unwrap()
    }

    fn operator(&self) -> Actor {
        Actor::operator(&self.node, consentry::node::start::DEFAULT_NODE_USCC)
    }

    fn run<R>(&self, f: impl FnOnce(&mut DbConn) -> R) -> R {
        let mut c = self.node.store.conn().unwrap();
        f(&mut c)
    }
}

/// SplitMix64: small, seedable, good enough to pick events.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> Option<&'a T> {
        if v.is_empty() {
            None
        } else {
            v.get(self.below(v.len()))
        }
    }
}

fn seed() -> u64 {
    let seed = std::env::var("STATS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| consentry::storage::millis(consentry::clock::SystemClock.now()) as u64);
    println!("stats stream seed: {seed} (rerun with STATS_SEED={seed})");
    seed
}

fn uscc(prefix: &str, n: usize) -> String {
    Uscc::complete(&format!("91330100{prefix}{n:06}"))
        .unwrap()
        .as_str()
        .to_owned()
}

struct Party {
    uscc: String,
    key: KeyFile,
    platform: Option<String>,
}

#[derive(Clone)]
struct GrantInfo {
    id: String,
    enterprise: String,
    bank: Option<String>,
}

fn draft(
    env: &Env,
    enterprise: &Party,
    platform: &str,
    bank: Option<&str>,
    slot: &Value,
    until: OffsetDateTime,
    usage: Usage,
) -> GrantDraft {
    let t = env.now();
    let mut d = GrantDraft::example(enterprise.key.did.as_str())
        .with_id(GrantId::random())
        .with_validity(t - time::Duration::minutes(1), until)
        .with_status(
            slot["statusList"].as_str().unwrap(),
            slot["statusIndex"].as_u64().unwrap(),
        )
        .with_usage(usage)
        .with_category("HPF-01", Granularity::Derived);
    let terms = &mut d.terms;
    terms.enterprise = Enterprise {
        uscc: enterprise.uscc.clone(),
        name: "测试企业".into(),
    };
    terms.grantee = Grantee {
        uscc: platform.to_owned(),
        name: "测试平台".into(),
        role: GranteeRole::Platform,
    };
    terms.onward_recipients = bank
        .map(|b| OnwardRecipient {
            uscc: b.to_owned(),
            name: "测试银行".into(),
            role: RecipientRole::Bank,
            categories: vec![
                CategoryGrant {
                    code: "TAX-03".into(),
                    granularity: Granularity::Derived,
                },
                CategoryGrant {
                    code: "SOC-01".into(),
                    granularity: Granularity::Derived,
                },
            ],
        })
        .into_iter()
        .collect();
    d.with_current_letters(&Catalog::builtin())
}

const CATEGORIES: [&str; 6] = ["TAX-03", "SOC-01", "HPF-01", "REG-01", "JUD-01", "NOPE-1"];

// ---------------------------------------------------------------------------------------------
// Direct counts over the source tables (independent of src/storage/stats.rs: SQL over the raw rows).

#[derive(QueryableByName)]
struct AccessCount {
    #[diesel(sql_type = BigInt)]
    day: i64,
    #[diesel(sql_type = SmallInt)]
    kind: i16,
    #[diesel(sql_type = Text)]
    platform: String,
    #[diesel(sql_type = Text)]
    bank: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Pair {
    #[diesel(sql_type = Text)]
    a: String,
    #[diesel(sql_type = BigInt)]
    b: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct TextPair {
    #[diesel(sql_type = Text)]
    a: String,
    #[diesel(sql_type = Text)]
    b: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

type AKey = (i64, i16, String, String);

/// CST day of `time`, in SQL: UTC+8, whole days (every time here is after 1970).
const CST_DAY: &str = "((time + 28800000) / 86400000)";

fn direct_access(c: &mut DbConn) -> BTreeMap<AKey, i64> {
    let sql = format!(
        "SELECT {CST_DAY} AS day, kind, COALESCE(platform_uscc, '') AS platform, COALESCE(bank_uscc, '') AS bank, \
         CAST(COUNT(*) AS BIGINT) AS n FROM log_leaves WHERE kind IN (1, 2, 8) GROUP BY 1, 2, 3, 4"
    );
    let rows: Vec<AccessCount> = consentry::on_backend!(c, |c| diesel::sql_query(&sql).load(c)).unwrap();
    rows.into_iter()
        .map(|r| ((r.day, r.kind, r.platform, r.bank), r.n))
        .collect()
}

/// Entries naming `code` in their comma-separated `categories`, by (day, kind, platform, bank).
fn direct_category(c: &mut DbConn, code: &str) -> BTreeMap<AKey, i64> {
    assert!(code.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-'));
    let sql = format!(
        "SELECT {CST_DAY} AS day, kind, COALESCE(platform_uscc, '') AS platform, COALESCE(bank_uscc, '') AS bank, \
         CAST(COUNT(*) AS BIGINT) AS n FROM log_leaves WHERE kind IN (1, 2, 8) AND (categories = '{code}' \
         OR categories LIKE '{code},%' OR categories LIKE '%,{code}' OR categories LIKE '%,{code},%') GROUP BY 1, 2, 3, 4"
    );
    let rows: Vec<AccessCount> = consentry::on_backend!(c, |c| diesel::sql_query(&sql).load(c)).unwrap();
    rows.into_iter()
        .map(|r| ((r.day, r.kind, r.platform, r.bank), r.n))
        .collect()
}

fn rollup_access(c: &mut DbConn) -> BTreeMap<AKey, i64> {
    use consentry::storage::schema::stats_access as t;
    t::table
        .filter(t::entries.ne(0))
        .select((t::day, t::kind, t::platform, t::bank, t::entries))
        .load::<(i64, i16, String, String, i64)>(c)
        .unwrap()
        .into_iter()
        .map(|(d, k, p, b, n)| ((d, k, p, b), n))
        .collect()
}

fn rollup_categories(c: &mut DbConn) -> BTreeMap<String, BTreeMap<AKey, i64>> {
    use consentry::storage::schema::stats_access_category as t;
    let mut out: BTreeMap<String, BTreeMap<AKey, i64>> = BTreeMap::new();
    for (d, k, p, b, cat, n) in t::table
        .filter(t::entries.ne(0))
        .select((t::day, t::kind, t::platform, t::bank, t::category, t::entries))
        .load::<(i64, i16, String, String, String, i64)>(c)
        .unwrap()
    {
        out.entry(cat).or_default().insert((d, k, p, b), n);
    }
    out
}

fn direct_grants(c: &mut DbConn) -> BTreeMap<(String, i64), i64> {
    let rows: Vec<Pair> = consentry::on_backend!(c, |c| diesel::sql_query(
        "SELECT state AS a, ((valid_until + 28800000) / 86400000) AS b, CAST(COUNT(*) AS BIGINT) AS n \
         FROM grants GROUP BY 1, 2"
    )
    .load(c))
    .unwrap();
    rows.into_iter().map(|r| ((r.a, r.b), r.n)).collect()
}

fn rollup_grants(c: &mut DbConn) -> BTreeMap<(String, i64), i64> {
    use consentry::storage::schema::stats_grants as t;
    t::table
        .filter(t::grants.ne(0))
        .select((t::state, t::until_day, t::grants))
        .load::<(String, i64, i64)>(c)
        .unwrap()
        .into_iter()
        .map(|(s, d, n)| ((s, d), n))
        .collect()
}

fn direct_participants(c: &mut DbConn) -> BTreeMap<(String, String), i64> {
    let rows: Vec<TextPair> = consentry::on_backend!(c, |c| diesel::sql_query(
        "SELECT role AS a, state AS b, CAST(COUNT(*) AS BIGINT) AS n FROM participants GROUP BY 1, 2"
    )
    .load(c))
    .unwrap();
    rows.into_iter().map(|r| ((r.a, r.b), r.n)).collect()
}

fn rollup_participants(c: &mut DbConn) -> BTreeMap<(String, String), i64> {
    rollups::participant_counts(c)
        .unwrap()
        .into_iter()
        .map(|(r, s, n)| ((r, s), n))
        .collect()
}

fn count(c: &mut DbConn, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let r: Vec<N> = consentry::on_backend!(c, |c| diesel::sql_query(sql).load(c)).unwrap();
    r[0].n
}

/// Direct figures for grants at `now` (spec/statistics.md §3.2).
fn direct_grant_figures(c: &mut DbConn, now: i64) -> rollups::GrantCounts {
    let q = |c: &mut DbConn, w: &str| {
        count(
            c,
            &format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM grants WHERE {w}"),
        )
    };
    rollups::GrantCounts {
        active: q(c, &format!("state = 'active' AND valid_until >= {now}")),
        suspended: q(c, &format!("state = 'suspended' AND valid_until >= {now}")),
        revoked: q(c, "state = 'revoked'"),
        expired: q(
            c,
            &format!("state IN ('active', 'suspended') AND valid_until < {now}"),
        ),
        total: q(c, "1 = 1"),
    }
}

fn kind_of(name: &str) -> i16 {
    match name {
        "releases" => 1,
        "refusals" => 2,
        _ => 8,
    }
}

/// Every rollup row equals the direct count; every figure of the summary (and of a platform's and a
/// bank's scoped summary) equals the direct count; the rebuild check agrees.
fn verify(env: &Env, label: &str) {
    let now = env.now_ms();
    let (access, cats, grants, parts) = env.run(|c| {
        (
            rollup_access(c),
            rollup_categories(c),
            rollup_grants(c),
            rollup_participants(c),
        )
    });
    let direct = env.run(direct_access);
    assert!(
        !direct.is_empty(),
        "{label}: the stream logged releases and refusals"
    );
    assert_eq!(access, direct, "{label}: stats_access = COUNT over log_leaves");
    let mut codes: Vec<String> = CATEGORIES.iter().map(|s| (*s).to_owned()).collect();
    codes.extend(cats.keys().cloned());
    codes.sort();
    codes.dedup();
    for code in &codes {
        let want = env.run(|c| direct_category(c, code));
        let have = cats.get(code).cloned().unwrap_or_default();
        assert_eq!(have, want, "{label}: stats_access_category for {code}");
    }
    assert_eq!(
        grants,
        env.run(direct_grants),
        "{label}: stats_grants = COUNT over grants"
    );
    assert_eq!(
        parts,
        env.run(direct_participants),
        "{label}: stats_participants = COUNT over participants"
    );

    // The figures, over a period covering every day of the stream.
    let days: Vec<i64> = direct.keys().map(|k| k.0).collect();
    let (first, last) = (*days.iter().min().unwrap(), *days.iter().max().unwrap());
    let period = Period {
        from_day: first,
        until_day: last.max(rollups::cst_day(now)),
    };
    let s = actix_web::rt::System::new()
        .block_on(consentry::node::stats::summary(&env.node, Scope::All, period))
        .unwrap();
    assert_eq!(
        s.grants.unwrap(),
        env.run(|c| direct_grant_figures(c, now)),
        "{label}: grant figures at {now}"
    );
    let g = s.grants.unwrap();
    assert_eq!(
        g.active + g.suspended + g.revoked + g.expired,
        g.total,
        "{label}: a partition"
    );
    let ent = s.enterprises.clone().unwrap();
    for (state, n) in &ent {
        let want = count_where(
            env,
            &format!("participants WHERE role = 'enterprise' AND state = '{state}'"),
        );
        assert_eq!(*n, want, "{label}: enterprises {state}");
    }
    assert_eq!(
        s.registered_enterprises().unwrap(),
        count_where(
            env,
            "participants WHERE role = 'enterprise' AND state IN ('active', 'suspended')"
        )
    );
    assert_eq!(
        s.log_size,
        count_where(env, "log_leaves"),
        "{label}: snapshot log size"
    );
    check_summary_access(env, &s, &direct, &cats, |_| true, label);

    // Scoped: a platform and a bank see exactly their rows.
    let (platform, bank) = direct
        .keys()
        .find(|k| !k.2.is_empty() && !k.3.is_empty())
        .map(|k| (k.2.clone(), k.3.clone()))
        .unwrap();
    for scope in [Scope::Platform(platform.clone()), Scope::Bank(bank.clone())] {
        let s = actix_web::rt::System::new()
            .block_on(consentry::node::stats::summary(&env.node, scope.clone(), period))
            .unwrap();
        assert!(
            s.enterprises.is_none() && s.grants.is_none(),
            "{label}: {scope:?} sees no global figures"
        );
        let keep = |k: &AKey| match &scope {
            Scope::Platform(p) => &k.2 == p,
            Scope::Bank(b) => &k.3 == b,
            Scope::All => true,
        };
        check_summary_access(env, &s, &direct, &cats, keep, &format!("{label} {scope:?}"));
    }

    // Every dimension at once through the access query equals the category rollup (and the direct
    // counts checked above).
    let t = actix_web::rt::System::new()
        .block_on(consentry::node::stats::access(
            &env.node,
            Scope::All,
            period,
            AccessFilters {
                group_by: Some("day,kind,platform,bank,category".into()),
                ..Default::default()
            },
        ))
        .unwrap();
    let mut got: BTreeMap<String, BTreeMap<AKey, i64>> = BTreeMap::new();
    for r in &t.rows {
        got.entry(r.category.clone().unwrap()).or_default().insert(
            (
                r.day.unwrap(),
                r.kind.unwrap(),
                r.platform.clone().unwrap(),
                r.bank.clone().unwrap(),
            ),
            r.entries,
        );
    }
    let in_period: BTreeMap<String, BTreeMap<AKey, i64>> = cats
        .iter()
        .map(|(c, m)| {
            (
                c.clone(),
                m.iter()
                    .filter(|(k, _)| k.0 >= period.from_day && k.0 <= period.until_day)
                    .map(|(k, v)| (k.clone(), *v))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(got, in_period, "{label}: /v1/stats/access grouped by everything");

    // The rebuild, as a check: nothing differs.
    let report = env.run(|c| rollups::rebuild(c, false)).unwrap();
    assert!(report.matched, "{label}: rebuild check: {:?}", report.differences);
    assert_eq!(report.entries_scanned, direct.values().sum::<i64>());
}

fn count_where(env: &Env, from: &str) -> i64 {
    env.run(|c| count(c, &format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM {from}")))
}

/// The summary's access figures against direct counts restricted by `keep`.
fn check_summary_access(
    env: &Env,
    s: &consentry::node::stats::Summary,
    direct: &BTreeMap<AKey, i64>,
    cats: &BTreeMap<String, BTreeMap<AKey, i64>>,
    keep: impl Fn(&AKey) -> bool,
    label: &str,
) {
    let _ = env;
    let rows: Vec<(&AKey, i64)> = direct
        .iter()
        .filter(|(k, _)| keep(k) && k.0 >= s.period.from_day && k.0 <= s.period.until_day)
        .map(|(k, v)| (k, *v))
        .collect();
    let sum = |f: &dyn Fn(&AKey) -> bool| rows.iter().filter(|(k, _)| f(k)).map(|(_, v)| v).sum::<i64>();
    let json = s.to_json();
    for member in ["releases", "refusals", "onwardReleases"] {
        let k = kind_of(member);
        assert_eq!(
            json["access"]["totals"][member],
            json!(sum(&|x| x.1 == k)),
            "{label}: total {member}"
        );
        for day in json["access"]["byDay"].as_array().unwrap() {
            let d = rollups::parse_date(day["date"].as_str().unwrap()).unwrap();
            assert_eq!(
                day[member],
                json!(sum(&|x| x.1 == k && x.0 == d)),
                "{label}: {member} on {day}"
            );
        }
        for (list, idx) in [("byPlatform", 2usize), ("byBank", 3)] {
            let arr = json["access"][list].as_array().unwrap();
            let mut seen = 0;
            for row in arr {
                let key = row[if idx == 2 { "platform" } else { "bank" }]
                    .as_str()
                    .unwrap_or("")
                    .to_owned();
                let want = sum(&|x| x.1 == k && if idx == 2 { x.2 == key } else { x.3 == key });
                assert_eq!(row[member], json!(want), "{label}: {list} {key} {member}");
                seen += want;
            }
            assert_eq!(seen, sum(&|x| x.1 == k), "{label}: {list} covers every {member}");
        }
        for row in json["access"]["byCategory"].as_array().unwrap() {
            let code = row["category"].as_str().unwrap();
            let want: i64 = cats
                .get(code)
                .map(|m| {
                    m.iter()
                        .filter(|(x, _)| {
                            keep(x) && x.1 == k && x.0 >= s.period.from_day && x.0 <= s.period.until_day
                        })
                        .map(|(_, v)| v)
                        .sum()
                })
                .unwrap_or(0);
            assert_eq!(row[member], json!(want), "{label}: category {code} {member}");
        }
    }
    let listed: Vec<&str> = json["access"]["byCategory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["category"].as_str().unwrap())
        .collect();
    for (code, m) in cats {
        let any = m
            .keys()
            .any(|x| keep(x) && x.0 >= s.period.from_day && x.0 <= s.period.until_day);
        assert_eq!(
            listed.contains(&code.as_str()),
            any,
            "{label}: category {code} listed"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The randomized stream.

struct World {
    platforms: Vec<Party>,
    banks: Vec<Party>,
    enterprises: Vec<Party>,
    grants: Vec<GrantInfo>,
    next_id: usize,
}

async fn register_enterprise(env: &Env, w: &mut World, rng: &mut Rng) {
    w.next_id += 1;
    let key = new_key();
    let code = uscc("EN", w.next_id);
    let token = consentry::node::auth::make_request(
        &key,
        env.node.did(),
        "register",
        json!({"uscc": code, "name": format!("企业{}", w.next_id)}),
        env.now(),
    )
    .unwrap();
    registry::submit_registration(&env.node, &token).await.unwrap();
    match rng.below(10) {
        0 => {} // stays pending
        1 => {
            registry::decide_registration(
                &env.node,
                code.clone(),
                registry::RegistrationDecision::Reject,
                env.operator(),
            )
            .await
            .unwrap();
        }
        _ => {
            registry::decide_registration(
                &env.node,
                code.clone(),
                registry::RegistrationDecision::Approve,
                env.operator(),
            )
            .await
            .unwrap();
        }
    }
    w.enterprises.push(Party {
        uscc: code,
        key,
        platform: None,
    });
}

async fn new_grant(env: &Env, w: &mut World, rng: &mut Rng) {
    let Some(e) = rng.pick(&w.enterprises) else { return };
    let Some(p) = rng.pick(&w.platforms) else { return };
    let banks: Vec<&Party> = w
        .banks
        .iter()
        .filter(|b| b.platform.as_deref() == Some(&p.uscc))
        .collect();
    let bank = if rng.chance(70) {
        rng.pick(&banks).map(|b| b.uscc.clone())
    } else {
        None
    };
    let caller = env.caller(&e.key, "/v1/status/slots").await;
    let Ok(slot) = consentry::node::grants::allocate_slot(&env.node, &caller).await else {
        return; // a pending or rejected enterprise
    };
    let until = if rng.chance(50) {
        env.now() + time::Duration::days(365)
    } else {
        // Expiring within the stream, often on another CST day.
        env.now() + time::Duration::minutes(10 + rng.below(60 * 40) as i64)
    };
    let usage = if rng.chance(20) {
        Usage::OneOff {}
    } else {
        Usage::Periodic {
            max_releases: 3,
            per: RatePeriod::Day,
        }
    };
    let d = draft(
        env,
        e,
        &p.uscc,
        bank.as_deref(),
        &serde_json::to_value(&slot).unwrap(),
        until,
        usage,
    );
    let bytes = serde_json::to_vec(&create_proof(&d.to_credential(), &e.key, env.now()).unwrap()).unwrap();
    if consentry::node::grants::submit(&env.node, bytes).await.is_ok() {
        w.grants.push(GrantInfo {
            id: d.id.as_str().to_owned(),
            enterprise: e.uscc.clone(),
            bank,
        });
    }
}

async fn change_grant(env: &Env, w: &World, rng: &mut Rng) {
    let Some(g) = rng.pick(&w.grants) else { return };
    let Some(e) = w.enterprises.iter().find(|e| e.uscc == g.enterprise) else {
        return;
    };
    let action: &'static str = match rng.below(10) {
        0..=3 => "suspend",
        4..=7 => "resume",
        _ => "revoke",
    };
    let token = consentry::node::auth::make_request(
        &e.key,
        env.node.did(),
        action,
        json!({"grant": g.id}),
        env.now(),
    )
    .unwrap();
    let _ = consentry::node::grants::change_status(
        &env.node,
        consentry::grant::GrantAction::parse(action).unwrap(),
        &token,
    )
    .await;
}

async fn release(env: &Env, w: &World, rng: &mut Rng) {
    let bank_direct = rng.chance(5);
    let Some(p) = rng.pick(if bank_direct { &w.banks } else { &w.platforms }) else {
        return;
    };
    let grant = if rng.chance(85) {
        rng.pick(&w.grants).cloned()
    } else {
        None
    };
    let enterprise = match (&grant, rng.chance(90)) {
        (Some(g), true) => g.enterprise.clone(),
        _ => rng
            .pick(&w.enterprises)
            .map(|e| e.uscc.clone())
            .unwrap_or_default(),
    };
    let n = 1 + rng.below(3);
    let mut cats: Vec<&str> = (0..n).map(|_| *rng.pick(&CATEGORIES).unwrap()).collect();
    cats.dedup();
    let mut body = json!({
        "enterprise": enterprise,
        "categories": cats,
        "granularity": if rng.chance(70) { "derived" } else { "raw" },
        "purpose": if rng.chance(95) { "credit-approval" } else { "marketing" },
    });
    if let Some(g) = &grant {
        body["grant"] = json!(g.id);
        if let Some(b) = &g.bank {
            if rng.chance(60) {
                body["onBehalfOf"] = json!(b);
            }
        }
    }
    if rng.chance(10) {
        if let Some(b) = rng.pick(&w.banks) {
            body["onBehalfOf"] = json!(b.uscc);
        }
    }
    if rng.chance(3) {
        body = json!({"enterprise": enterprise, "categories": "TAX-03"}); // malformed: still a refusal
    }
    let caller = env.caller(&p.key, "/v1/releases").await;
    let _ = consentry::node::release::release(
        &env.node,
        &caller,
        body.to_string().as_bytes(),
        &mut consentry::http::new_request_id(),
    )
    .await;
}

async fn platform_state(env: &Env, w: &World, rng: &mut Rng, allow_removal: bool) {
    let Some(p) = rng.pick(&w.platforms) else { return };
    let state: &'static str = match rng.below(10) {
        0..=4 => "active",
        5..=8 => "suspended",
        _ if allow_removal => "removed",
        _ => "active",
    };
    let _ = registry::set_state(
        &env.node,
        p.uscc.clone(),
        consentry::policy::Role::Platform,
        consentry::policy::ParticipantState::parse(state).unwrap(),
        env.operator(),
    )
    .await;
}

/// Objections as the lead's module stores them (rows only: the figures are read from the table).
/// Returns what a direct reading of the definitions gives: by state, kept, missed, pending, unknown.
fn add_objections(env: &Env, w: &World, rng: &mut Rng, n: usize) {
    use consentry::storage::schema::objections as o;
    let now = env.now_ms();
    let states = consentry::node::stats::OBJECTION_STATES;
    env.run(|c| {
        for i in 0..n {
            let state = states[rng.below(states.len())];
            let received_at = now - rng.below(10 * 86_400_000) as i64;
            let deadline =
                (!rng.chance(15)).then(|| received_at + 2 * 86_400_000 + rng.below(86_400_000) as i64);
            let forwarded = match (state, deadline) {
                ("received", _) => None,
                (_, Some(d)) if rng.chance(50) => Some(d - rng.below(86_400_000) as i64),
                (_, Some(d)) => Some(d + 1 + rng.below(86_400_000) as i64),
                (_, None) if rng.chance(50) => Some(received_at + 1000),
                (_, None) => Some(received_at + 3 * 86_400_000),
            };
            let (by, role) = match rng.pick(&w.platforms) {
                Some(p) if rng.chance(60) => (p.uscc.clone(), "platform"),
                _ => (consentry::node::start::DEFAULT_NODE_USCC.to_owned(), "node"),
            };
            let id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
            diesel::insert_into(o::table)
                .values((
                    o::id.eq(&id),
                    o::enterprise_uscc.eq(w.enterprises[0].uscc.as_str()),
                    o::target_kind.eq("data"),
                    o::target_ref.eq(format!("record:{i}")),
                    o::reason.eq("测试"),
                    o::attachments.eq("[]"),
                    o::filing.eq("{}"),
                    o::filing_sha256.eq(&id),
                    o::received_by.eq(&by),
                    o::received_role.eq(role),
                    o::filed_at.eq(received_at),
                    o::received_at.eq(received_at),
                    o::deadline_at.eq(deadline),
                    o::forwarded_at.eq(forwarded),
                    o::state.eq(state),
                    o::updated_at.eq(now),
                ))
                .execute(c)
                .unwrap();
        }
    });
}

/// An objection's state, receiver, filing instant, deadline and forwarding instant.
type ObjectionFacts = (String, String, i64, Option<i64>, Option<i64>);

/// The objection figures against the definitions applied to the rows in Rust.
fn verify_objections(env: &Env, received_by: Option<&str>, label: &str) {
    use consentry::storage::schema::objections as o;
    let now = env.now_ms();
    let rows: Vec<ObjectionFacts> = env.run(|c| {
        o::table
            .select((
                o::state,
                o::received_by,
                o::filed_at,
                o::deadline_at,
                o::forwarded_at,
            ))
            .load(c)
            .unwrap()
    });
    let mut want = rollups::ObjectionCounts::default();
    // The China Standard Time day of an instant (UTC+8, no daylight saving).
    let cst_day = |ms: i64| (ms + 8 * 3_600_000).div_euclid(86_400_000);
    for (state, by, filed, deadline, forwarded) in rows {
        if received_by.is_some_and(|r| r != by) {
            continue;
        }
        *want.by_state.entry(state).or_insert(0) += 1;
        match (deadline, forwarded) {
            // Forwarded on its filing day: kept whatever the calendar says.
            (_, Some(f)) if cst_day(f) == cst_day(filed) => want.kept += 1,
            (None, _) => want.unknown += 1,
            (Some(d), Some(f)) if f <= d => want.kept += 1,
            (Some(_), Some(_)) => want.missed += 1,
            (Some(d), None) if now > d => want.missed += 1,
            (Some(_), None) => want.pending += 1,
        }
    }
    let got = env
        .run(|c| rollups::objection_counts(c, now, received_by))
        .unwrap();
    assert_eq!(got, want, "{label}: objections (received by {received_by:?})");
}

fn stream(backend: Backend) {
    let seed = seed();
    let mut rng = Rng(seed);
    // 23:00 CST on 10 March 2026: CST midnight is at 16:00 UTC, UTC midnight 8 hours later.
    let t0 = crate::common::at("2026-03-10T15:00:00Z");
    let env = Env::open(backend, t0);
    let mut w = World {
        platforms: vec![],
        banks: vec![],
        enterprises: vec![],
        grants: vec![],
        next_id: 0,
    };
    actix_web::rt::System::new().block_on(async {
        let op = env.operator();
        for i in 0..3 {
            let key = new_key();
            let code = uscc("PL", i);
            registry::admit_platform(
                &env.node,
                NewMember {
                    uscc: code.clone(),
                    name: format!("平台{i}"),
                    did: key.did.as_str().to_owned(),
                    endpoint: Some(format!("https://platform{i}.example")),
                    regions: vec![],
                    industry: None,
                },
                op.clone(),
            )
            .await
            .unwrap();
            for j in 0..2 {
                let bkey = new_key();
                let bcode = uscc("BK", i * 10 + j);
                registry::register_bank(
                    &env.node,
                    &caller_fresh(&env, &key).await,
                    NewMember {
                        uscc: bcode.clone(),
                        name: format!("银行{i}{j}"),
                        did: bkey.did.as_str().to_owned(),
                        endpoint: None,
                        regions: vec![],
                        industry: None,
                    },
                )
                .await
                .unwrap();
                w.banks.push(Party {
                    uscc: bcode,
                    key: bkey,
                    platform: Some(code.clone()),
                });
            }
            w.platforms.push(Party {
                uscc: code,
                key,
                platform: None,
            });
        }
        for _ in 0..6 {
            register_enterprise(&env, &mut w, &mut rng).await;
        }
        for _ in 0..8 {
            new_grant(&env, &mut w, &mut rng).await;
        }
        assert!(!w.grants.is_empty(), "the setup made grants");

        // Across CST midnight (16:00 UTC), which is not UTC midnight: one entry just before, one
        // just after, on the same UTC day.
        env.set(crate::common::at("2026-03-10T15:59:59.500Z"));
        release(&env, &w, &mut rng).await;
        env.set(crate::common::at("2026-03-10T16:00:00.100Z"));
        release(&env, &w, &mut rng).await;
        let by_day = env.run(direct_access);
        let d10 = rollups::parse_date("2026-03-10").unwrap();
        let d11 = rollups::parse_date("2026-03-11").unwrap();
        let on = |d: i64| {
            by_day
                .iter()
                .filter(|(k, _)| k.0 == d)
                .map(|(_, v)| v)
                .sum::<i64>()
        };
        assert_eq!(
            (on(d10), on(d11)),
            (1, 1),
            "one entry on each side of CST midnight"
        );
        let s = consentry::node::stats::summary(
            &env.node,
            Scope::All,
            Period {
                from_day: d10,
                until_day: d11,
            },
        )
        .await
        .unwrap();
        let per_day: Vec<i64> = s.by_day.iter().map(|(_, c)| c.releases + c.refusals).collect();
        assert_eq!(per_day, vec![1, 1], "the figures split at 16:00 UTC");

        event_stream(&env, &mut w, &mut rng, 0..110).await;
    });
    // `verify` runs its own runtime, so it is called between the two halves of the stream.
    verify(&env, "mid-stream");
    actix_web::rt::System::new().block_on(event_stream(&env, &mut w, &mut rng, 110..220));
    let days = {
        let d = env.run(direct_access);
        d.keys().map(|k| k.0).collect::<std::collections::BTreeSet<_>>()
    };
    assert!(days.len() >= 3, "the stream spans several CST days: {days:?}");
    verify(&env, "end of stream");
    // Time passes with no event: grants expire, figures follow, rollups need no write.
    env.advance_ms(30 * 3_600_000);
    verify(&env, "30 hours later");
    add_objections(&env, &w, &mut rng, 40);
    verify_objections(&env, None, "all");
    for p in &w.platforms {
        verify_objections(&env, Some(&p.uscc), "platform");
    }
    // The rebuild replaces the rollups with identical ones.
    let before = env.run(|c| {
        (
            rollup_access(c),
            rollup_categories(c),
            rollup_grants(c),
            rollup_participants(c),
        )
    });
    let report = env.run(|c| rollups::rebuild(c, true)).unwrap();
    assert!(report.matched && report.written, "{report:?}");
    let after = env.run(|c| {
        (
            rollup_access(c),
            rollup_categories(c),
            rollup_grants(c),
            rollup_participants(c),
        )
    });
    assert_eq!(before, after, "rebuild gives identical rollups");
    // A damaged rollup is found and repaired.
    env.run(|c| {
        diesel::update(consentry::storage::schema::stats_access::table)
            .set(consentry::storage::schema::stats_access::entries.eq(7777))
            .execute(c)
            .unwrap()
    });
    let report = env.run(|c| rollups::rebuild(c, false)).unwrap();
    assert!(!report.matched && report.difference_count > 0, "{report:?}");
    assert!(
        report.differences[0].contains("had 7777"),
        "{:?}",
        report.differences
    );
    let report = env.run(|c| rollups::rebuild(c, true)).unwrap();
    assert!(!report.matched && report.written);
    verify(&env, "after repair");
}

/// Steps `steps` of the randomized event stream.
async fn event_stream(env: &Env, w: &mut World, rng: &mut Rng, steps: std::ops::Range<u32>) {
    for step in steps {
        env.advance_ms(rng.below(40 * 60_000) as i64 + rng.below(60_000) as i64);
        match rng.below(100) {
            0..=54 => release(env, w, rng).await,
            55..=71 => new_grant(env, w, rng).await,
            72..=84 => change_grant(env, w, rng).await,
            85..=91 => platform_state(env, w, rng, step > 150).await,
            _ => register_enterprise(env, w, rng).await,
        }
    }
}

async fn caller_fresh(env: &Env, key: &KeyFile) -> Caller {
    env.caller(key, "/v1/banks").await
}

#[test]
fn randomized_stream_matches_direct_counts_on_sqlite() {
    stream(Backend::Sqlite);
}

#[test]
fn randomized_stream_matches_direct_counts_on_postgres() {
    stream(Backend::Postgres);
}

// ---------------------------------------------------------------------------------------------
// Failed jobs.

fn release_entry(platform: &str, bank: &str, categories: &str) -> NewEntry {
    NewEntry {
        kind: EntryKind::Release,
        enterprise: Some("91330100716105852F".into()),
        grant: None,
        caller: Some(platform.into()),
        platform: Some(platform.into()),
        bank: Some(bank.into()),
        categories: Some(categories.into()),
        decision: Some("allowed".into()),
        record: AccessRecord::default(),
    }
}

fn failed_jobs(backend: Backend) {
    let env = Env::open(backend, crate::common::at("2026-05-01T03:00:00Z"));
    let (p, b) = ("91440300708461136T", "911000001000013428");
    let committer = env.node.committer.clone();
    let snapshot = |env: &Env| env.run(|c| (rollup_access(c), rollup_categories(c)));
    // One good entry first, so that the rollup rows exist.
    committer
        .run_blocking(move |tx| tx.append(release_entry(p, b, "TAX-03,SOC-01")).map(|a| a.seq))
        .unwrap();
    let before = snapshot(&env);
    let size_before = count_where(&env, "log_leaves");

    // A job refused inside the committer after it appended: its savepoint rolls back, and its counts
    // are dropped (the assertion id was used by the job before it).
    committer
        .run_blocking(|tx| tx.consume_jti("used-once", "did:key:test", i64::MAX))
        .unwrap();
    let r = committer.run_blocking(move |tx| {
        tx.append(release_entry(p, b, "TAX-03,SOC-01"))?;
        tx.consume_jti("used-once", "did:key:test", i64::MAX)
    });
    assert!(r.is_err(), "the replayed assertion id refuses the job");
    assert_eq!(
        snapshot(&env),
        before,
        "a failed job leaves the rollups unchanged"
    );
    assert_eq!(count_where(&env, "log_leaves"), size_before, "and the log");

    // Failing and succeeding jobs submitted at once share batches: only the good ones count.
    let results = actix_web::rt::System::new().block_on(async {
        let mut handles = Vec::new();
        for i in 0..60u32 {
            let c = committer.clone();
            handles.push(actix_web::rt::spawn(async move {
                c.run(move |tx| {
                    tx.append(release_entry(p, b, if i % 3 == 0 { "HPF-01" } else { "TAX-03" }))?;
                    if i % 2 == 1 {
                        return Err(consentry::error::Error::Conflict(
                            "refused in the committer".into(),
                        ));
                    }
                    Ok(())
                })
                .await
                .is_ok()
            }));
        }
        let mut ok = Vec::new();
        for h in handles {
            ok.push(h.await.unwrap());
        }
        ok
    });
    let good = results.iter().filter(|ok| **ok).count() as i64;
    assert_eq!(good, 30);
    let after = snapshot(&env);
    let total = |m: &BTreeMap<AKey, i64>| m.values().sum::<i64>();
    assert_eq!(
        total(&after.0) - total(&before.0),
        good,
        "entries counted = jobs committed"
    );
    let hpf = after.1.get("HPF-01").map(total).unwrap_or(0);
    assert_eq!(hpf, 10, "i % 3 == 0 and even: 0, 6, 12, … 54");
    assert_eq!(after.0, env.run(direct_access));
    assert_eq!(count_where(&env, "log_leaves"), size_before + good);
    let report = env.run(|c| rollups::rebuild(c, false)).unwrap();
    assert!(report.matched, "{:?}", report.differences);
    // A grant job that fails after inserting leaves the grant rollup unchanged too.
    let grants_before = env.run(rollup_grants);
    let r = committer.run_blocking(|tx| -> consentry::error::Result<()> {
        let g = consentry::storage::grants::StoredGrant {
            id: "urn:uuid:00000000-0000-4000-8000-000000000001".into(),
            sha256: "00".into(),
            body: vec![],
            envelope: "jwt".into(),
            enterprise_uscc: "91330100716105852F".into(),
            grantee_uscc: "91440300708461136T".into(),
            signer_did: "did:key:x".into(),
            delegation_id: None,
            status_list: 1,
            status_index: 1,
            valid_from: 0,
            valid_until: 1_900_000_000_000,
            state: consentry::grant::GrantState::Active,
            submitted_at: 0,
            submitted_seq: 0,
        };
        consentry::storage::grants::insert(tx.conn, &g, &[], &["TAX-03"])?;
        Err(consentry::error::Error::Conflict("changed its mind".into()))
    });
    assert!(r.is_err());
    assert_eq!(env.run(rollup_grants), grants_before);
    assert_eq!(count_where(&env, "grants"), 0);
}

#[test]
fn a_failed_job_leaves_the_rollups_unchanged_on_sqlite() {
    failed_jobs(Backend::Sqlite);
}

#[test]
fn a_failed_job_leaves_the_rollups_unchanged_on_postgres() {
    failed_jobs(Backend::Postgres);
}

// ---------------------------------------------------------------------------------------------
// HTTP: JSON, CSV, negotiation, scopes, problems.

/// GET with a fresh assertion and optional Accept header.
fn get(w: &crate::service::World, key: &KeyFile, path: &str, accept: Option<&str>) -> Answer {
    let token =
        consentry::node::auth::make(key, &w.node.did, "GET", path, consentry::clock::SystemClock.now())
            .unwrap();
    let mut req = crate::common::server::http()
        .get(&format!("{}{path}", w.node.url))
        .set("Authorization", &format!("Bearer {token}"));
    if let Some(a) = accept {
        req = req.set("Accept", a);
    }
    let resp = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport: {e}"),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .map(|n| (n.clone(), resp.header(&n).unwrap_or("").to_owned()))
        .collect();
    let text = resp.into_string().unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        body,
        headers,
        text,
    }
}

/// An RFC 4180 parser (quoted fields, doubled quotes, CRLF records), written apart from the writer.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    assert!(text.ends_with("\r\n"), "records end with CRLF");
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "CR only before LF");
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(row.is_empty() && field.is_empty());
    let width = rows[0].len();
    assert!(
        rows.iter().all(|r| r.len() == width),
        "every record has the header's width"
    );
    rows
}

fn csv_of_summary_json(j: &Value) -> Vec<Vec<String>> {
    let mut out = vec![
        vec!["figure", "dimension", "key", "kind", "count"]
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>(),
    ];
    let mut push = |a: &str, b: &str, c: &str, d: &str, n: &Value| {
        out.push(vec![
            a.into(),
            b.into(),
            c.into(),
            d.into(),
            n.as_i64().unwrap().to_string(),
        ]);
    };
    if j["enterprises"].is_object() {
        push(
            "enterprises",
            "total",
            "registered",
            "",
            &j["enterprises"]["registered"],
        );
        for (s, n) in j["enterprises"]["byState"].as_object().unwrap() {
            push("enterprises", "state", s, "", n);
        }
    }
    if j["grants"].is_object() {
        for s in ["active", "suspended", "revoked", "expired"] {
            push("grants", "state", s, "", &j["grants"][s]);
        }
        push("grants", "total", "all", "", &j["grants"]["total"]);
    }
    let kinds = [
        ("release", "releases"),
        ("refusal", "refusals"),
        ("onward-release", "onwardReleases"),
    ];
    for (k, m) in kinds {
        push("access", "total", "", k, &j["access"]["totals"][m]);
    }
    for d in j["access"]["byDay"].as_array().unwrap() {
        for (k, m) in kinds {
            push("access", "day", d["date"].as_str().unwrap(), k, &d[m]);
        }
    }
    for (dim, list) in [
        ("platform", "byPlatform"),
        ("bank", "byBank"),
        ("category", "byCategory"),
    ] {
        for r in j["access"][list].as_array().unwrap() {
            for (k, m) in kinds {
                push("access", dim, r[dim].as_str().unwrap_or(""), k, &r[m]);
            }
        }
    }
    if j["objections"].is_object() {
        for s in consentry::node::stats::OBJECTION_STATES {
            push("objections", "state", s, "", &j["objections"]["byState"][s]);
        }
        for s in ["kept", "missed", "pending", "unknown"] {
            push("objections", "deadline", s, "", &j["objections"]["deadline"][s]);
        }
    }
    if let Some(list) = j["departments"].as_array() {
        for d in list {
            for m in [
                "batches",
                "recordsReceived",
                "recordsAlreadyHeld",
                "categoryReleases",
            ] {
                push("departments", d["provider"].as_str().unwrap(), m, "", &d[m]);
            }
        }
    }
    out
}

#[test]
fn http_json_and_csv_agree_and_scopes_hold() {
    use crate::service::{BANK, ENTERPRISE, PLATFORM, World};
    let w = World::new(Backend::Sqlite);
    let grant = w.grant();
    let tax = json!({"enterprise": ENTERPRISE, "grant": grant, "categories": ["TAX-03"], "granularity": "derived", "purpose": "credit-approval", "onBehalfOf": BANK});
    assert_eq!(w.release(tax.clone()).status, 200);
    let mut both = tax.clone();
    both["categories"] = json!(["TAX-03", "SOC-01"]);
    both.as_object_mut().unwrap().remove("onBehalfOf");
    assert_eq!(w.release(both).status, 200);
    let mut bad = tax.clone();
    bad["purpose"] = json!("marketing");
    assert_eq!(w.release(bad).status, 403);
    // A bank asking the node itself: refused, logged with the bank and no platform.
    let r = w.client(&w.bank).post("/v1/releases", &tax);
    assert_eq!(r.status, 403);

    // The regulator's summary: JSON.
    let a = get(&w, &w.regulator, "/v1/stats", None);
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.header("content-type"), Some("application/json"));
    let j = &a.body;
    assert_eq!(j["scope"]["kind"], "all");
    assert_eq!(j["timeZone"], "+08:00");
    assert_eq!(
        j["access"]["totals"],
        json!({"releases": 2, "refusals": 2, "onwardReleases": 0})
    );
    assert_eq!(j["enterprises"]["registered"], 1);
    assert_eq!(j["grants"]["active"], 1);
    assert_eq!(j["grants"]["total"], 1);
    assert_eq!(j["period"]["days"], 30);
    assert_eq!(j["access"]["byDay"].as_array().unwrap().len(), 30);
    let today = j["access"]["byDay"][29].clone();
    assert_eq!(
        (today["releases"].as_i64(), today["refusals"].as_i64()),
        (Some(2), Some(2))
    );
    let cats: BTreeMap<String, (i64, i64)> = j["access"]["byCategory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["category"].as_str().unwrap().to_owned(),
                (r["releases"].as_i64().unwrap(), r["refusals"].as_i64().unwrap()),
            )
        })
        .collect();
    assert_eq!(cats["TAX-03"], (2, 2));
    assert_eq!(cats["SOC-01"], (1, 0));
    let platforms = j["access"]["byPlatform"].as_array().unwrap();
    assert!(
        platforms
            .iter()
            .any(|p| p["platform"].is_null() && p["refusals"] == 1),
        "{platforms:?}"
    );

    // CSV: by `format`, by Accept, parsed back, equal to the JSON.
    for (path, accept) in [
        ("/v1/stats?format=csv", None),
        ("/v1/stats", Some("text/csv")),
        ("/v1/stats", Some("application/json;q=0.4, text/csv")),
    ] {
        let c = get(&w, &w.regulator, path, accept);
        assert_eq!(c.status, 200, "{}", c.text);
        assert_eq!(
            c.header("content-type"),
            Some("text/csv; charset=utf-8; header=present")
        );
        assert!(c.header("content-disposition").unwrap().contains(".csv"));
        let mut rows = parse_csv(&c.text);
        let mut want = csv_of_summary_json(j);
        rows[1..].sort();
        want[1..].sort();
        assert_eq!(rows, want, "{path} {accept:?}: CSV = JSON");
    }
    for accept in [
        "application/json",
        "text/csv;q=0.5, application/json",
        "*/*",
        "application/xml",
    ] {
        let c = get(&w, &w.regulator, "/v1/stats", Some(accept));
        assert_eq!(c.header("content-type"), Some("application/json"), "{accept}");
    }

    // Grouped access counts, JSON and CSV.
    let path = "/v1/stats/access?groupBy=category,platform,kind";
    let a = get(&w, &w.node.node_key, path, None);
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["groupBy"], json!(["kind", "platform", "category"]));
    let c = get(&w, &w.node.node_key, &format!("{path}&format=csv"), None);
    let rows = parse_csv(&c.text);
    assert_eq!(rows[0], ["kind", "platform", "category", "count"]);
    let from_json: Vec<Vec<String>> = a.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            vec![
                r["kind"].as_str().unwrap().to_owned(),
                r["platform"].as_str().unwrap_or("").to_owned(),
                r["category"].as_str().unwrap().to_owned(),
                r["count"].as_i64().unwrap().to_string(),
            ]
        })
        .collect();
    assert_eq!(rows[1..].to_vec(), from_json);
    assert!(from_json.contains(&vec![
        "release".into(),
        PLATFORM.into(),
        "SOC-01".into(),
        "1".into()
    ]));

    // The platform sees its own rows only, and no global figures.
    let a = get(&w, &w.platform, "/v1/stats", None);
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["scope"], json!({"kind": "platform", "uscc": PLATFORM}));
    assert!(a.body.get("enterprises").is_none() && a.body.get("grants").is_none());
    assert_eq!(
        a.body["access"]["totals"],
        json!({"releases": 2, "refusals": 1, "onwardReleases": 0})
    );
    assert!(
        a.body["access"]["byPlatform"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["platform"] == PLATFORM)
    );
    let a = get(
        &w,
        &w.platform,
        "/v1/stats/access?platform=91330000MA28PLAT2L",
        None,
    );
    assert_eq!(a.status, 403, "{}", a.text);
    assert_eq!(a.problem(), "forbidden");
    // The bank: rows where it is the bank (its platform's request for it, and its own refused one).
    let a = get(&w, &w.bank, "/v1/stats/access?groupBy=platform,kind", None);
    assert_eq!(a.status, 200, "{}", a.text);
    let rows = a.body["rows"].as_array().unwrap();
    let total: i64 = rows.iter().map(|r| r["count"].as_i64().unwrap()).sum();
    assert_eq!(
        total, 3,
        "its platform's release and refusal for it, and its own refusal: {rows:?}"
    );
    assert!(a.body.get("objections").is_none());
    // Enterprises are refused.
    let a = get(&w, &w.enterprise, "/v1/stats", None);
    assert_eq!(a.status, 403, "{}", a.text);
    assert_eq!(a.header("content-type"), Some("application/problem+json"));

    // Bad parameters: problems, nothing else.
    for (path, code) in [
        ("/v1/stats?from=2026-13-01", "invalid-stats-query"),
        (
            "/v1/stats?from=2026-11-30&until=2026-11-01",
            "invalid-stats-query",
        ),
        (
            "/v1/stats?from=2000-01-01&until=2026-11-01",
            "invalid-stats-query",
        ),
        ("/v1/stats?format=xml", "invalid-stats-query"),
        ("/v1/stats?foo=1", "invalid-query"),
        ("/v1/stats/access?groupBy=week", "invalid-stats-query"),
        ("/v1/stats/access?groupBy=day,day", "invalid-stats-query"),
        ("/v1/stats/access?kind=grant-submitted", "invalid-stats-query"),
        ("/v1/stats/access?bank=", "invalid-stats-query"),
    ] {
        let a = get(&w, &w.regulator, path, None);
        assert_eq!(a.status, 400, "{path}: {}", a.text);
        assert_eq!(
            a.header("content-type"),
            Some("application/problem+json"),
            "{path}"
        );
        assert_eq!(a.problem(), code, "{path}");
    }
    let a = crate::common::server::get_public(&format!("{}/v1/stats", w.node.url));
    assert_eq!(a.status, 401);
}
