//! The access log under failure and contention, with the real binary as a child process:
//!
//! * **crash**: releases stream in from several clients while the server is killed with SIGKILL,
//!   three times; after every restart the log verifies (size and root against a recomputation over
//!   every leaf, `leaf.seq == index`) and every release the server acknowledged is in it exactly once,
//!   with its grant's usage count equal to the number of its release entries;
//! * **two processes on one PostgreSQL database**: both take releases at once; the log has no gaps
//!   or duplicates, verifies, holds every acknowledged release and refusal exactly once and nothing
//!   else, and a grant's rate limit holds across the two processes;
//! * **the database goes away** (a throwaway PostgreSQL cluster of the test's own, stopped, restarted
//!   with `pg_ctl restart -m fast` and killed with SIGKILL, five times under load; an SQLite database
//!   on a full disk): while it is away a release is answered within 2 s with `503` and `Retry-After`,
//!   readiness says not ready and liveness stays up; once it is back releases succeed again within
//!   seconds, the node never restarted; every acknowledged release is in the log, which verifies
//!   (`consentry audit verify --node … --key`).

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use consentry::catalog::Catalog;
use consentry::credential::data_integrity::create_proof;
use consentry::grant::GrantDraft;
use consentry::grant::model::{RatePeriod, Usage};
use consentry::identity::KeyFile;
use consentry::log::entry::{EntryKind, LEAF_LEN, Leaf};
use consentry::log::merkle::{self, Hash};
use consentry::storage::Store;
use serde_json::{Value, json};

use crate::common::cluster::PgCluster;
use crate::common::server::{Client, PgDatabase, get_public, new_key};
use crate::service::{BANK, ENTERPRISE, PLATFORM, draft, now};

/// Data for the test enterprise: two tax filings inside the grants' data period, its registration.
const RECORDS: &str = r#"{"uscc":"91330100716105852F","category":"TAX-03","date":"2025-01-31","provider":"STA","fields":{"taxType":"VAT","taxPaid":1200.5,"declaredSales":48000}}
{"uscc":"91330100716105852F","category":"TAX-03","date":"2025-02-28","provider":"STA","fields":{"taxType":"VAT","taxPaid":1350,"declaredSales":52000}}
{"uscc":"91330100716105852F","category":"REG-01","date":"2020-05-01","provider":"SAMR","fields":{"name":"杭州示例科技有限公司","capital":1000000,"status":"存续"}}"#;

/// Environment variables the binary reads that must not leak in from the test's environment.
const SERVE_ENV: &[&str] = &[
    "DATABASE_URL",
    "CONSENTRY_CONFIG",
    "CONSENTRY_DATA_DIR",
    "CONSENTRY_LISTEN",
    "CONSENTRY_PUBLIC_URL",
    "CONSENTRY_ROLE",
    "CONSENTRY_NODE_URL",
    "CONSENTRY_PLATFORM_USCC",
    "CONSENTRY_WORKERS",
    "CONSENTRY_CHECKPOINT_INTERVAL",
    "CONSENTRY_WITNESSES",
    "CONSENTRY_CATALOG_DIR",
];

/// A `consentry serve` child process, killed (SIGKILL) when dropped.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Server {
    /// Starts the binary on `dir` (and `database_url`, default SQLite in `dir`) on a free port and
    /// waits until it answers.
    fn start(dir: &Path, database_url: Option<&str>, log_name: &str) -> Self {
        Self::start_logging_to(dir, dir, database_url, log_name)
    }

    /// [`Server::start`] with the server's log in `log_dir` (not in the data folder).
    fn start_logging_to(dir: &Path, log_dir: &Path, database_url: Option<&str>, log_name: &str) -> Self {
        let port = crate::common::free_port();
        let listen = format!("127.0.0.1:{port}");
        let log = log_dir.join(log_name);
        let out = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_consentry"));
        for v in SERVE_ENV {
            cmd.env_remove(v);
        }
        cmd.env("CONSENTRY_LOG", "warn")
            .arg("serve")
            .arg("--data-dir")
            .arg(dir)
            .args(["--listen", &listen]);
        if let Some(url) = database_url {
            cmd.args(["--database-url", url]);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        let mut s = Self {
            child,
            base: format!("http://{listen}"),
            log,
        };
        s.wait_ready();
        s
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(2)).build();
        loop {
            if let Ok(r) = agent.get(&format!("{}/healthz", self.base)).call() {
                if r.status() == 200 {
                    return;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the server exited at start ({status}):\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the server did not answer within 60 s:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL (`Child::kill` on Unix), then reap.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The keys of the participants set up through the API.
struct Parties {
    node_did: String,
    platform: KeyFile,
    enterprise: KeyFile,
}

fn client(base: &str, node_did: &str, key: &KeyFile) -> Client {
    Client {
        base: base.to_owned(),
        audience: node_did.to_owned(),
        key: key.clone(),
        clock: std::sync::Arc::new(consentry::clock::SystemClock),
    }
}

/// Admits a platform, its bank and the enterprise through the admin API of the server at `base`
/// (with the node key from `dir`), and imports the enterprise's data into `database_url`.
fn set_up(base: &str, dir: &Path, database_url: &str) -> Parties {
    let node_key = KeyFile::read(&dir.join("node.key.json")).unwrap();
    let node_did = node_key.did.as_str().to_owned();
    let (platform, bank, enterprise) = (new_key(), new_key(), new_key());
    let op = client(base, &node_did, &node_key);
    let r = op.post(
        "/v1/admin/platforms",
        &json!({"uscc": PLATFORM, "name": "示例融资信用服务平台", "did": platform.did.as_str(), "endpoint": "http://platform.example"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let r = client(base, &node_did, &platform).post(
        "/v1/banks",
        &json!({"uscc": BANK, "name": "示例银行", "did": bank.did.as_str()}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let c = client(base, &node_did, &enterprise);
    let token = c.signed_request(
        "register",
        json!({"uscc": ENTERPRISE, "name": "杭州示例科技有限公司"}),
    );
    let r = c.post_raw("/v1/registrations", &token, false);
    assert_eq!(r.status, 202, "{}", r.text);
    let r = op.post(
        &format!("/v1/admin/registrations/{ENTERPRISE}/approve"),
        &json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let records = consentry::node::data::parse_import(RECORDS.as_bytes(), &Catalog::builtin(), None, 0)
        .unwrap()
        .records;
    let store = Store::open(database_url, 2).unwrap();
    store
        .run(|c| consentry::storage::data::insert(c, &records))
        .unwrap();
    Parties {
        node_did,
        platform,
        enterprise,
    }
}

/// Submits a grant from the enterprise to the platform (the bank may have TAX-03 derived), edited by
/// `edit`; returns its id.
fn submit_grant(base: &str, p: &Parties, edit: impl FnOnce(&mut GrantDraft)) -> String {
    let c = client(base, &p.node_did, &p.enterprise);
    let slot = c.post("/v1/status/slots", &json!({}));
    assert_eq!(slot.status, 201, "{}", slot.text);
    let mut d = draft(
        &p.enterprise,
        slot.body["statusList"].as_str().unwrap(),
        slot.body["statusIndex"].as_u64().unwrap(),
    );
    edit(&mut d);
    let bytes =
        serde_json::to_string(&create_proof(&d.to_credential(), &p.enterprise, now()).unwrap()).unwrap();
    let r = c.post_raw("/v1/grants", &bytes, false);
    assert_eq!(r.status, 201, "{}", r.text);
    d.id.as_str().to_owned()
}

fn unlimited(d: &mut GrantDraft) {
    d.terms.usage = Usage::Periodic {
        max_releases: 1_000_000,
        per: RatePeriod::Day,
    };
}

fn tax_release(grant: &str) -> Value {
    json!({"enterprise": ENTERPRISE, "grant": grant, "categories": ["TAX-03"], "granularity": "derived", "purpose": "credit-approval", "onBehalfOf": BANK})
}

/// What became of one release request.
#[derive(Debug)]
#[allow(dead_code)] // the payloads are read through Debug, in failure messages
enum Sent {
    /// 200: the release and its entry.
    Released { index: u64, leaf_hash: String },
    /// 403 with the index of the logged refusal.
    Refused { index: u64 },
    /// Any other answer.
    Other { status: u16, text: String },
    /// No answer (connection refused or cut).
    Transport(String),
}

/// One release from the platform, with its own assertion, on `agent`.
fn send_release(agent: &ureq::Agent, base: &str, p: &Parties, body: &Value) -> Sent {
    let token = consentry::node::auth::make(&p.platform, &p.node_did, "POST", "/v1/releases", now()).unwrap();
    let r = agent
        .post(&format!("{base}/v1/releases"))
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/json")
        .send_string(&body.to_string());
    let (status, resp) = match r {
        Ok(resp) => (resp.status(), resp),
        Err(ureq::Error::Status(s, resp)) => (s, resp),
        Err(e) => return Sent::Transport(e.to_string()),
    };
    let text = match resp.into_string() {
        Ok(t) => t,
        // Headers came, the body did not: no answer either.
        Err(e) => return Sent::Transport(e.to_string()),
    };
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    match (status, v["logIndex"].as_u64()) {
        (200, Some(index)) => match v["leafHash"].as_str() {
            Some(h) => Sent::Released {
                index,
                leaf_hash: h.to_owned(),
            },
            None => Sent::Other { status, text },
        },
        (403, Some(index)) => Sent::Refused { index },
        _ => Sent::Other { status, text },
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(5))
        .timeout(Duration::from_secs(60))
        .build()
}

/// The whole log as a server publishes it.
struct LogView {
    size: u64,
    root: Hash,
    leaves: Vec<Leaf>,
    hashes: Vec<Hash>,
}

fn get_bytes(url: &str) -> Vec<u8> {
    let resp = crate::common::server::http().get(url).call().unwrap();
    let mut out = Vec::new();
    resp.into_reader().read_to_end(&mut out).unwrap();
    out
}

/// Reads the head from `/v1/node` and every leaf from `/v1/log/leaves`, and checks that the leaves
/// are numbered `0..size` without gaps or duplicates, that nothing lies beyond the head, and that
/// the recomputed root is the published one.
fn read_log(base: &str) -> LogView {
    let info = get_public(&format!("{base}/v1/node"));
    assert_eq!(info.status, 200, "{}", info.text);
    let size = info.body["logSize"].as_u64().unwrap();
    let root: Hash = hex::decode(info.body["logRoot"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let mut leaves = Vec::new();
    let mut hashes = Vec::new();
    while (hashes.len() as u64) < size {
        let from = hashes.len();
        let page = get_bytes(&format!("{base}/v1/log/leaves?from={from}&limit=10000"));
        assert!(!page.is_empty(), "no leaves from {from}, but the log has {size}");
        assert_eq!(page.len() % LEAF_LEN, 0, "leaves come in {LEAF_LEN}-byte units");
        for bytes in page.chunks_exact(LEAF_LEN) {
            let leaf = Leaf::from_bytes(bytes).unwrap();
            assert_eq!(
                leaf.seq,
                hashes.len() as u64,
                "leaf numbered {} at index {}",
                leaf.seq,
                hashes.len()
            );
            hashes.push(merkle::leaf_hash(bytes));
            leaves.push(leaf);
        }
    }
    assert_eq!(hashes.len() as u64, size, "more leaves than the head says");
    let beyond = get_bytes(&format!("{base}/v1/log/leaves?from={size}&limit=10"));
    assert!(
        beyond.is_empty(),
        "{} bytes of leaves stored beyond the head {size}",
        beyond.len()
    );
    merkle::verify_leaf_hashes_root(&hashes, size, &root)
        .unwrap_or_else(|e| panic!("the published root of {size} entries does not verify: {e:?}"));
    LogView {
        size,
        root,
        leaves,
        hashes,
    }
}

/// Every acknowledged release is in the log exactly once, at the index it was acknowledged with, as a
/// release; every acknowledged refusal is a refusal entry at its index; no index is claimed twice.
fn check_acknowledged(view: &LogView, released: &[(u64, String)], refused: &[u64]) {
    let mut positions: HashMap<String, Vec<u64>> = HashMap::new();
    for (i, h) in view.hashes.iter().enumerate() {
        positions.entry(hex::encode(h)).or_default().push(i as u64);
    }
    let mut claimed = HashSet::new();
    for (index, leaf_hash) in released {
        assert!(claimed.insert(*index), "index {index} acknowledged twice");
        assert_eq!(
            positions.get(leaf_hash).map(Vec::as_slice),
            Some(&[*index][..]),
            "acknowledged release {index} ({leaf_hash}) must be in the log of {} exactly once, at its index",
            view.size
        );
        assert_eq!(view.leaves[*index as usize].kind, EntryKind::Release);
    }
    for index in refused {
        assert!(claimed.insert(*index), "index {index} acknowledged twice");
        assert!(
            *index < view.size,
            "refusal {index} beyond the log of {}",
            view.size
        );
        assert_eq!(view.leaves[*index as usize].kind, EntryKind::Refusal);
    }
}

/// Release entries on `grant` and the grant's counted uses, straight from the database.
fn usage_and_entries(database_url: &str, grant: &str) -> (i64, i64) {
    use consentry::storage::schema::{grant_usage, log_leaves};
    use diesel::prelude::*;
    let store = Store::open(database_url, 2).unwrap();
    let mut conn = store.conn().unwrap();
    let used: Vec<i64> = grant_usage::table
        .filter(grant_usage::grant_id.eq(grant))
        .select(grant_usage::used)
        .load(&mut *conn)
        .unwrap();
    let entries: i64 = log_leaves::table
        .filter(log_leaves::grant_id.eq(grant))
        .filter(log_leaves::kind.eq(i16::from(EntryKind::Release as u8)))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    (used.iter().sum(), entries)
}

#[test]
fn acknowledged_releases_survive_sigkill() {
    const ROUNDS: usize = 3;
    const CLIENTS: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("consentry.sqlite3").display());
    let mut server = Server::start(dir.path(), None, "serve-0.log");
    let parties = Arc::new(set_up(&server.base, dir.path(), &database_url));
    let grant = submit_grant(&server.base, &parties, unlimited);
    let released: Arc<Mutex<Vec<(u64, String)>>> = Arc::default();
    let mut cut = 0;
    for round in 0..ROUNDS {
        let before = released.lock().unwrap().len();
        let stop = Arc::new(AtomicBool::new(false));
        let unexpected: Arc<Mutex<Vec<String>>> = Arc::default();
        let cut_here = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let (base, p, grant) = (server.base.clone(), Arc::clone(&parties), grant.clone());
                let (stop, released, unexpected, cut_here) = (
                    Arc::clone(&stop),
                    Arc::clone(&released),
                    Arc::clone(&unexpected),
                    Arc::clone(&cut_here),
                );
                std::thread::spawn(move || {
                    let agent = agent();
                    let body = tax_release(&grant);
                    while !stop.load(Ordering::Relaxed) {
                        match send_release(&agent, &base, &p, &body) {
                            Sent::Released { index, leaf_hash } => {
                                released.lock().unwrap().push((index, leaf_hash));
                            }
                            Sent::Transport(_) => {
                                // The server is gone: this request's fate is unknown, and no more.
                                cut_here.fetch_add(1, Ordering::Relaxed);
                                return;
                            }
                            other => unexpected.lock().unwrap().push(format!("{other:?}")),
                        }
                    }
                })
            })
            .collect();
        // Let the stream run, then kill the server mid-stream.
        let deadline = Instant::now() + Duration::from_secs(120);
        while released.lock().unwrap().len() < before + 60 + 40 * round {
            assert!(Instant::now() < deadline, "releases do not flow");
            std::thread::sleep(Duration::from_millis(5));
        }
        server.kill();
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            t.join().unwrap();
        }
        let unexpected = unexpected.lock().unwrap();
        assert!(unexpected.is_empty(), "unexpected answers: {unexpected:?}");
        cut += cut_here.load(Ordering::Relaxed);

        // Restart on the same folder: everything acknowledged is there, once, and the log verifies.
        server = Server::start(dir.path(), None, &format!("serve-{}.log", round + 1));
        let view = read_log(&server.base);
        let released = released.lock().unwrap();
        check_acknowledged(&view, &released, &[]);
        assert!(
            view.size >= released.len() as u64,
            "the log holds fewer entries than were acknowledged"
        );
        eprintln!(
            "round {round}: killed after {} acknowledged releases in all, log size {} after restart, root {}",
            released.len(),
            view.size,
            hex::encode(view.root)
        );
    }
    assert!(
        cut >= 1,
        "at least one request must have been cut by a kill (else the kills were not mid-stream)"
    );
    // The restarted server keeps appending where the log ends.
    let r =
        client(&server.base, &parties.node_did, &parties.platform).post("/v1/releases", &tax_release(&grant));
    assert_eq!(r.status, 200, "{}", r.text);
    let view = read_log(&server.base);
    assert_eq!(r.body["logIndex"].as_u64(), Some(view.size - 1));
    let mut all = released.lock().unwrap().clone();
    all.push((view.size - 1, r.body["leafHash"].as_str().unwrap().to_owned()));
    check_acknowledged(&view, &all, &[]);
    // No release without its count, no count without its release, across the crashes.
    let (used, entries) = usage_and_entries(&database_url, &grant);
    assert_eq!(used, entries, "counted uses of the grant vs. its release entries");
    assert!(entries as usize >= all.len());
}

#[test]
fn two_processes_share_one_postgres_log() {
    const CLIENTS: usize = 6;
    const PER_CLIENT: usize = 60;
    let db = PgDatabase::create();
    let url = db.url();
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let s1 = Server::start(d1.path(), Some(&url), "serve.log");
    std::fs::copy(d1.path().join("node.key.json"), d2.path().join("node.key.json")).unwrap();
    let s2 = Server::start(d2.path(), Some(&url), "serve.log");
    let parties = Arc::new(set_up(&s1.base, d1.path(), &url));
    let big = submit_grant(&s1.base, &parties, unlimited);
    // The default draft allows 4 releases a month: the rest must be refused, across both processes.
    let small = submit_grant(&s2.base, &parties, |_| {});
    let setup_size = read_log(&s1.base).size;
    let bases = [s1.base.clone(), s2.base.clone()];

    #[derive(Default)]
    struct Tally {
        released: Vec<(u64, String)>,
        refused: Vec<u64>,
        small_released: usize,
        per_server: [usize; 2],
        unexpected: Vec<String>,
    }
    let tally: Arc<Mutex<Tally>> = Arc::default();
    let threads: Vec<_> = (0..CLIENTS)
        .map(|t| {
            let base = bases[t % 2].clone();
            let (p, tally) = (Arc::clone(&parties), Arc::clone(&tally));
            let (big, small) = (big.clone(), small.clone());
            std::thread::spawn(move || {
                let agent = agent();
                for i in 0..PER_CLIENT {
                    let (body, on_small) = match i % 10 {
                        3 => (tax_release(&small), true),
                        // Public data: no grant, still logged.
                        6 => (
                            json!({"enterprise": ENTERPRISE, "categories": ["REG-01"], "granularity": "raw", "purpose": "credit-approval"}),
                            false,
                        ),
                        // A grant the node does not hold: refused and logged.
                        9 => (
                            tax_release(consentry::ids::GrantId::random().as_str()),
                            false,
                        ),
                        _ => (tax_release(&big), false),
                    };
                    let sent = send_release(&agent, &base, &p, &body);
                    let mut tally = tally.lock().unwrap();
                    match sent {
                        Sent::Released { index, leaf_hash } => {
                            tally.released.push((index, leaf_hash));
                            tally.per_server[t % 2] += 1;
                            if on_small {
                                tally.small_released += 1;
                            }
                        }
                        Sent::Refused { index } => tally.refused.push(index),
                        other => tally.unexpected.push(format!("{other:?}")),
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let tally = tally.lock().unwrap();
    assert!(
        tally.unexpected.is_empty(),
        "unexpected answers: {:?}",
        tally.unexpected
    );
    assert_eq!(tally.released.len() + tally.refused.len(), CLIENTS * PER_CLIENT);
    assert!(
        tally.per_server.iter().all(|n| *n > 0),
        "both processes released: {:?}",
        tally.per_server
    );

    // Both processes publish the same log, and it is exactly what was acknowledged.
    let v1 = read_log(&s1.base);
    let v2 = read_log(&s2.base);
    assert_eq!((v1.size, v1.root), (v2.size, v2.root), "one log, one head");
    assert_eq!(v1.hashes, v2.hashes);
    assert_eq!(
        v1.size,
        setup_size + tally.released.len() as u64 + tally.refused.len() as u64,
        "log entries = set-up entries + acknowledged releases + acknowledged refusals"
    );
    check_acknowledged(&v1, &tally.released, &tally.refused);
    assert_eq!(
        tally.small_released, 4,
        "a grant of 4 releases a month gives exactly 4, whichever process asks"
    );
    let (used, entries) = usage_and_entries(&url, &big);
    assert_eq!(used, entries, "counted uses vs. release entries, big grant");
    let (used, entries) = usage_and_entries(&url, &small);
    assert_eq!(
        (used, entries),
        (4, 4),
        "counted uses vs. release entries, small grant"
    );
    drop((s1, s2));
}

/// The server's log so far.
fn server_log(server: &Server) -> String {
    std::fs::read_to_string(&server.log).unwrap_or_default()
}

/// Polls `f` every 50 ms until it is true; how long that took, or a panic naming `what` after
/// `within`.
fn until(within: Duration, what: &str, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if f() {
            return start.elapsed();
        }
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// While the database is away: a release is answered within 2 s with a `503 storage-unavailable`
/// problem and `Retry-After`; readiness (`/readyz` and `/healthz`) says not ready, just as fast;
/// liveness stays up.
fn check_unavailable(server: &Server, p: &Parties, grant: &str) {
    let c = client(&server.base, &p.node_did, &p.platform);
    for _ in 0..3 {
        let t = Instant::now();
        let r = c.post("/v1/releases", &tax_release(grant));
        let took = t.elapsed();
        assert_eq!(r.status, 503, "{}", r.text);
        assert!(took < Duration::from_secs(2), "a release took {took:?} to fail");
        assert_eq!(r.problem(), "storage-unavailable", "{}", r.text);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        assert_eq!(r.header("retry-after"), Some("1"), "{:?}", r.headers);
    }
    for path in ["/readyz", "/healthz"] {
        let t = Instant::now();
        let r = get_public(&format!("{}{path}", server.base));
        let took = t.elapsed();
        assert_eq!(r.status, 503, "{path}: {}", r.text);
        assert!(took < Duration::from_secs(2), "{path} took {took:?}");
        assert_eq!(r.problem(), "storage-unavailable");
        assert_eq!(r.body["checks"]["database"], "unavailable", "{}", r.text);
        assert!(r.header("retry-after").is_some());
    }
    let r = get_public(&format!("{}/livez", server.base));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "alive");
}

/// Whether the server is ready (`/readyz` answers 200 with every check ok).
fn ready(server: &Server) -> bool {
    let r = get_public(&format!("{}/readyz", server.base));
    r.status == 200
        && ["database", "committer", "checkpoint"]
            .iter()
            .all(|k| r.body["checks"][k] == "ok")
}

/// `consentry audit verify --node URL --key KEYFILE`: exit code and output.
fn audit_verify(base: &str, key: &Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["audit", "verify", "--node", base, "--key"])
        .arg(key)
        .output()
        .unwrap();
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Releases streamed by `clients` threads until stopped: acknowledged ones collected, `503`s
/// counted, anything else (another status, no answer at all) kept as unexpected.
struct Load {
    stop: Arc<AtomicBool>,
    released: Arc<Mutex<Vec<(u64, String)>>>,
    unavailable: Arc<AtomicUsize>,
    unexpected: Arc<Mutex<Vec<String>>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(clients: usize, base: &str, p: &Arc<Parties>, grant: &str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let released: Arc<Mutex<Vec<(u64, String)>>> = Arc::default();
        let unavailable = Arc::new(AtomicUsize::new(0));
        let unexpected: Arc<Mutex<Vec<String>>> = Arc::default();
        let threads = (0..clients)
            .map(|_| {
                let (base, p, body) = (base.to_owned(), Arc::clone(p), tax_release(grant));
                let (stop, released, unavailable, unexpected) = (
                    Arc::clone(&stop),
                    Arc::clone(&released),
                    Arc::clone(&unavailable),
                    Arc::clone(&unexpected),
                );
                std::thread::spawn(move || {
                    let agent = agent();
                    while !stop.load(Ordering::Relaxed) {
                        match send_release(&agent, &base, &p, &body) {
                            Sent::Released { index, leaf_hash } => {
                                released.lock().unwrap().push((index, leaf_hash));
                            }
                            Sent::Other { status: 503, .. } => {
                                unavailable.fetch_add(1, Ordering::Relaxed);
                                // Light load: a client that is told to retry waits a little.
                                std::thread::sleep(Duration::from_millis(20));
                            }
                            other => unexpected.lock().unwrap().push(format!("{other:?}")),
                        }
                    }
                })
            })
            .collect();
        Self {
            stop,
            released,
            unavailable,
            unexpected,
            threads,
        }
    }

    fn released(&self) -> usize {
        self.released.lock().unwrap().len()
    }

    fn finish(self) -> (Vec<(u64, String)>, usize, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            t.join().unwrap();
        }
        let released = self.released.lock().unwrap().clone();
        let unexpected = self.unexpected.lock().unwrap().clone();
        (released, self.unavailable.load(Ordering::Relaxed), unexpected)
    }
}

#[test]
fn node_rides_through_postgres_restarts_and_crashes() {
    const ROUNDS: usize = 5;
    const RECOVERY: Duration = Duration::from_secs(10);
    let cluster = PgCluster::start();
    let url = cluster.url();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), Some(&url), "serve.log");
    let parties = Arc::new(set_up(&server.base, dir.path(), &url));
    let grant = submit_grant(&server.base, &parties, unlimited);
    let c = client(&server.base, &parties.node_did, &parties.platform);
    let first = c.post("/v1/releases", &tax_release(&grant));
    assert_eq!(first.status, 200, "{}", first.text);
    let mut released = vec![(
        first.body["logIndex"].as_u64().unwrap(),
        first.body["leafHash"].as_str().unwrap().to_owned(),
    )];

    // The cluster stopped: fast, honest failures. Started again: the node is back by itself.
    cluster.stop_fast();
    check_unavailable(&server, &parties, &grant);
    cluster.start_server();
    let back = until(RECOVERY, "a release after the cluster started again", || {
        let r = c.post("/v1/releases", &tax_release(&grant));
        if r.status == 200 {
            released.push((
                r.body["logIndex"].as_u64().unwrap(),
                r.body["leafHash"].as_str().unwrap().to_owned(),
            ));
        }
        r.status == 200
    });
    let ready_again = until(RECOVERY, "ready after the cluster started again", || {
        ready(&server)
    });
    eprintln!("stopped cluster started: first release after {back:?}, ready after {ready_again:?} more");

    // Restarts and crashes under load.
    let load = Load::start(2, &server.base, &parties, &grant);
    for round in 0..ROUNDS {
        let before = load.released();
        until(Duration::from_secs(60), "releases flow", || {
            load.released() >= before + 20
        });
        let how = if round % 2 == 0 {
            cluster.restart_fast();
            "pg_ctl restart -m fast"
        } else {
            cluster.kill_postmaster();
            cluster.start_server();
            "kill -9 of the postmaster, then start"
        };
        let up = load.released();
        let took = until(RECOVERY, &format!("round {round}: releases after {how}"), || {
            load.released() > up
        });
        eprintln!("round {round}: {how}; releases again {took:?} after the cluster was up");
    }
    let (streamed, unavailable, unexpected) = load.finish();
    assert!(unexpected.is_empty(), "unexpected answers: {unexpected:?}");
    released.extend(streamed);
    eprintln!(
        "{} releases acknowledged, {unavailable} answered 503 during the outages",
        released.len()
    );

    // Everything acknowledged is in the log, once; the log verifies, also for an auditor.
    until(RECOVERY, "ready at the end", || ready(&server));
    let view = read_log(&server.base);
    check_acknowledged(&view, &released, &[]);
    let (used, entries) = usage_and_entries(&url, &grant);
    assert_eq!(used, entries, "counted uses of the grant vs. its release entries");
    assert!(entries as usize >= released.len());
    let (code, out) = audit_verify(&server.base, &dir.path().join("node.key.json"));
    assert_eq!(code, Some(0), "audit verify:\n{out}");

    // The outages were logged once each (with their cause), not once per failed request.
    let log = server_log(&server);
    let outages = log.matches("database unavailable").count();
    assert!(outages >= 1, "no outage logged:\n{log}");
    assert!(
        outages <= 3 * (ROUNDS + 1),
        "{outages} outage lines for {} outages:\n{log}",
        ROUNDS + 1
    );
    eprintln!(
        "server log: {outages} outage lines, {} end-of-outage lines, {} failed group commits",
        log.matches("database available again").count(),
        log.matches("group commit failed").count()
    );
    for line in log.lines().filter(|l| l.contains("group commit failed")).take(5) {
        eprintln!("  {line}");
    }
}

/// A small tmpfs mounted for the test (needs root), unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Self { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

#[test]
fn sqlite_full_disk_fails_fast_and_recovers() {
    let Some(disk) = SmallDisk::mount(24) else {
        eprintln!("skipped: cannot mount a small tmpfs (not root?)");
        return;
    };
    let logs = tempfile::tempdir().unwrap();
    let mut server = Server::start_logging_to(disk.path(), logs.path(), None, "serve.log");
    let database_url = format!("sqlite://{}", disk.path().join("consentry.sqlite3").display());
    let parties = set_up(&server.base, disk.path(), &database_url);
    let grant = submit_grant(&server.base, &parties, unlimited);
    let c = client(&server.base, &parties.node_did, &parties.platform);
    let mut released = Vec::new();
    let release = |released: &mut Vec<(u64, String)>| {
        let t = Instant::now();
        let r = c.post("/v1/releases", &tax_release(&grant));
        let took = t.elapsed();
        assert!(took < Duration::from_secs(2), "a release took {took:?}");
        match r.status {
            200 => {
                released.push((
                    r.body["logIndex"].as_u64().unwrap(),
                    r.body["leafHash"].as_str().unwrap().to_owned(),
                ));
                true
            }
            503 => {
                assert_eq!(r.problem(), "storage-unavailable", "{}", r.text);
                assert_eq!(r.header("retry-after"), Some("1"), "{:?}", r.headers);
                false
            }
            other => panic!("release answered {other}: {}", r.text),
        }
    };
    for _ in 0..5 {
        assert!(release(&mut released));
    }

    // Fill the disk; releases fail (fast, 503 + Retry-After) once SQLite needs a page it cannot get.
    let filler = disk.path().join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0x5a_u8; 64 * 1024];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.sync_all();
    }
    until(
        Duration::from_secs(60),
        "a release failing on the full disk",
        || !release(&mut released),
    );
    let r = get_public(&format!("{}/livez", server.base));
    assert_eq!(r.status, 200, "{}", r.text);

    // Space returns: releases succeed again, at once.
    std::fs::remove_file(&filler).unwrap();
    let took = until(Duration::from_secs(5), "a release after space returned", || {
        release(&mut released)
    });
    eprintln!("first release {took:?} after space returned");
    for _ in 0..5 {
        assert!(release(&mut released));
    }
    until(Duration::from_secs(15), "ready after space returned", || {
        ready(&server)
    });
    let view = read_log(&server.base);
    check_acknowledged(&view, &released, &[]);
    let (used, entries) = usage_and_entries(&database_url, &grant);
    assert_eq!(used, entries, "counted uses of the grant vs. its release entries");
    server.kill();
}

/// The database comes back with a shorter log than the node has seen (what a failover to an
/// asynchronous replica that lacked the tail, or a restored backup, looks like): the node appends
/// nothing more, answers 503, and readiness says the committer has halted.
#[test]
fn a_log_that_shrank_under_the_node_halts_it() {
    use consentry::storage::schema::log_state;
    use diesel::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("consentry.sqlite3").display());
    let server = Server::start(dir.path(), None, "serve.log");
    let parties = set_up(&server.base, dir.path(), &database_url);
    let grant = submit_grant(&server.base, &parties, unlimited);
    let c = client(&server.base, &parties.node_did, &parties.platform);
    let store = Store::open(&database_url, 2).unwrap();
    let state = || -> (i64, Vec<u8>, i64) {
        store
            .run(|conn| {
                Ok(log_state::table
                    .find(1i16)
                    .select((log_state::size, log_state::frontier, log_state::last_time))
                    .get_result(conn)?)
            })
            .unwrap()
    };
    let old = state();
    for _ in 0..3 {
        let r = c.post("/v1/releases", &tax_release(&grant));
        assert_eq!(r.status, 200, "{}", r.text);
    }
    until(Duration::from_secs(10), "a checkpoint of the grown log", || {
        get_public(&format!("{}/v1/log/checkpoint", server.base))
            .text
            .contains(&format!("\n{}\n", state().0))
    });
    // The log's state goes back to before the releases.
    store
        .run(|conn| {
            diesel::update(log_state::table.find(1i16))
                .set((
                    log_state::size.eq(old.0),
                    log_state::frontier.eq(&old.1),
                    log_state::last_time.eq(old.2),
                ))
                .execute(conn)?;
            Ok(())
        })
        .unwrap();
    let r = c.post("/v1/releases", &tax_release(&grant));
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(state().0, old.0, "nothing appended to the shrunk log");
    let r = get_public(&format!("{}/readyz", server.base));
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.body["checks"]["committer"], "halted", "{}", r.text);
    let r = c.post("/v1/releases", &tax_release(&grant));
    assert_eq!(r.status, 503, "still halted: {}", r.text);
    assert!(
        server_log(&server).contains("the database lost acknowledged entries"),
        "{}",
        server_log(&server)
    );
}

/// Runs the binary: `command`, the data folder `dir` and database `url`, then `tail`; its exit code,
/// output, and how long it took.
fn run_cli(command: &str, tail: &[&str], dir: &Path, url: &str) -> (Option<i32>, String, Duration) {
    let t = Instant::now();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_consentry"));
    for v in SERVE_ENV {
        cmd.env_remove(v);
    }
    let out = cmd
        .arg(command)
        .arg("--data-dir")
        .arg(dir)
        .args(["--database-url", url, "--listen", "127.0.0.1:0"])
        .args(tail)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text, t.elapsed())
}

/// `serve` and `admin` fail at once, with PostgreSQL's own message, when the database refuses
/// connections: nobody listening, or every connection taken (`too many clients`).
#[test]
fn serve_and_admin_fail_at_once_with_the_databases_own_message() {
    let cluster = PgCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let closed = crate::common::free_port();
    let nobody = format!("postgres://postgres@127.0.0.1:{closed}/postgres");
    // A node's folder (its key): admin commands refuse any other before trying the database.
    consentry::identity::KeyFile::load_or_create(dir.path(), "node.key.json").unwrap();
    for args in [("serve", &[][..]), ("admin", &["participants"][..])] {
        let (code, out, took) = run_cli(args.0, args.1, dir.path(), &nobody);
        assert_ne!(code, Some(0), "{args:?}: {out}");
        assert!(took < Duration::from_secs(5), "{args:?} took {took:?}: {out}");
        assert!(out.contains("Connection refused"), "{args:?}: {out}");
        assert!(!out.contains("multiconnection"), "{args:?}: {out}");
    }

    // Take every connection the cluster allows.
    let mut held = Vec::new();
    let refusal = loop {
        use diesel::Connection;
        match diesel::PgConnection::establish(&cluster.url()) {
            Ok(c) => held.push(c),
            Err(e) => break e.to_string(),
        }
        assert!(held.len() < 200, "the cluster never refused a connection");
    };
    assert!(refusal.contains("too many clients"), "{refusal}");
    for args in [("serve", &[][..]), ("admin", &["participants"][..])] {
        let (code, out, took) = run_cli(args.0, args.1, dir.path(), &cluster.url());
        assert_ne!(code, Some(0), "{args:?}: {out}");
        assert!(took < Duration::from_secs(5), "{args:?} took {took:?}: {out}");
        assert!(out.contains("too many clients"), "{args:?}: {out}");
        assert!(!out.contains("multiconnection"), "{args:?}: {out}");
    }
    drop(held);
}
