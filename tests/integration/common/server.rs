//! A real node for tests: the HTTP server on an ephemeral port, on SQLite in a temporary folder or on
//! a fresh PostgreSQL database (dropped afterwards), plus a blocking client that signs assertions.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::mpsc;

use actix_web::{App, HttpServer, web};
use consentry::clock::{Clock, SystemClock};
use consentry::config::{Config, ServiceRole};
use consentry::crypto::SecretKey;
use consentry::identity::KeyFile;
use consentry::node::Node;
use serde_json::Value;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// The PostgreSQL server on the machine.
    Postgres,
}

/// The PostgreSQL server tests use (trust auth); override with CONSENTRY_TEST_PG.
pub fn pg_base() -> String {
    std::env::var("CONSENTRY_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A fresh PostgreSQL database, dropped when this is dropped.
pub struct PgDatabase {
    pub name: String,
}

impl PgDatabase {
    pub fn create() -> Self {
        use diesel::{Connection, RunQueryDsl};
        let name = format!("consentry_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = diesel::PgConnection::establish(&format!("{}/postgres", pg_base()))
            .expect("PostgreSQL must be running on 127.0.0.1:5432 (.ci/run starts it)");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .unwrap();
        Self { name }
    }

    pub fn url(&self) -> String {
        format!("{}/{}", pg_base(), self.name)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        use diesel::{Connection, RunQueryDsl};
        if let Ok(mut admin) = diesel::PgConnection::establish(&format!("{}/postgres", pg_base())) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
                .execute(&mut admin);
        }
    }
}

/// The metrics token of the test nodes and platforms (`GET /metrics` with it as bearer).
pub const TEST_METRICS_TOKEN: &str = "test-metrics-token-0123456789";

/// A running node.
#[allow(dead_code)] // some fields serve only some tests
pub struct TestNode {
    pub url: String,
    pub did: String,
    pub node_key: KeyFile,
    pub node: Arc<Node>,
    pub database_url: String,
    pub dir: tempfile::TempDir,
    /// The node's clock: the system clock, movable (`clock.set(…)`); clients follow it.
    pub clock: Arc<consentry::clock::ShiftedClock>,
    server: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
    _pg: Option<PgDatabase>,
}

impl TestNode {
    pub fn start(backend: Backend) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let pg = (backend == Backend::Postgres).then(PgDatabase::create);
        let database_url = match &pg {
            Some(db) => db.url(),
            None => format!("sqlite://{}", dir.path().join("node.sqlite3").display()),
        };
        Self::start_with(dir, database_url, pg)
    }

    /// A second process's worth of node on the same database and data folder (same key).
    pub fn start_with(dir: tempfile::TempDir, database_url: String, pg: Option<PgDatabase>) -> Self {
        Self::start_with_webhooks(dir, database_url, pg, test_webhooks())
    }

    /// [`TestNode::start_with`] with these webhook settings.
    pub fn start_with_webhooks(
        dir: tempfile::TempDir,
        database_url: String,
        pg: Option<PgDatabase>,
        webhooks: consentry::config::WebhookConfig,
    ) -> Self {
        let clock = Arc::new(consentry::clock::ShiftedClock::default());
        Self::start_full(dir, database_url, pg, webhooks, clock, None, vec![])
    }

    /// A fresh node whose clock reads `at` from its first instant (its whole log is dated from there).
    pub fn start_at(backend: Backend, at: time::OffsetDateTime) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let pg = (backend == Backend::Postgres).then(PgDatabase::create);
        let database_url = match &pg {
            Some(db) => db.url(),
            None => format!("sqlite://{}", dir.path().join("node.sqlite3").display()),
        };
        let clock = Arc::new(consentry::clock::ShiftedClock::default());
        clock.set(at);
        Self::start_full(dir, database_url, pg, test_webhooks(), clock, None, vec![])
    }

    /// Everything configurable: webhook settings, the clock, the working-day calendar file, the
    /// witnesses it collects cosignatures from (`--witness` entries).
    pub fn start_full(
        dir: tempfile::TempDir,
        database_url: String,
        pg: Option<PgDatabase>,
        webhooks: consentry::config::WebhookConfig,
        clock: Arc<consentry::clock::ShiftedClock>,
        calendar: Option<std::path::PathBuf>,
        witnesses: Vec<String>,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let url = format!("http://{addr}");
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            listen: addr.to_string(),
            database_url: database_url.clone(),
            public_url: url.clone(),
            fix_origin: true,
            role: ServiceRole::Node,
            node_url: None,
            platform_uscc: None,
            workers: 2,
            log_batch_max: 1024,
            checkpoint_interval_secs: 1,
            catalog_dir: None,
            witnesses,
            calendar,
            // A made-up industry table (tests/support): GB/T 4754 itself is not shipped.
            industries: Some(industry_fixture()),
            webhooks,
            database_wait_ms: 1000,
            evaluation_model: None,
            metrics_token: Some(TEST_METRICS_TOKEN.into()),
            metrics_listen: None,
            log_format: Default::default(),
        };
        let (node, _) = consentry::node::start::open(&config, clock.clone()).unwrap();
        let node = web::Data::new(node);
        let shared = node.clone().into_inner();
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                consentry::node::background::spawn(node.clone().into_inner(), 1);
                let data = node.clone();
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .configure(consentry::http::configure)
                })
                .workers(2)
                .shutdown_timeout(10)
                .listen(listener)
                .unwrap()
                .run();
                tx.send(server.handle()).unwrap();
                server.await.unwrap();
            });
        });
        let server = rx.recv().unwrap();
        let node_key = KeyFile::read(&dir.path().join("node.key.json")).unwrap();
        Self {
            url,
            did: node_key.did.as_str().to_owned(),
            node_key,
            node: shared,
            database_url,
            dir,
            clock,
            server,
            thread: Some(thread),
            _pg: pg,
        }
    }

    /// A client acting with `key`.
    pub fn client(&self, key: &KeyFile) -> Client {
        Client {
            base: self.url.clone(),
            audience: self.did.clone(),
            key: key.clone(),
            clock: self.clock.clone(),
        }
    }

    /// What the node's clock reads now.
    pub fn clock_now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    /// The node operator's client (the node key).
    pub fn operator(&self) -> Client {
        self.client(&self.node_key)
    }

    /// Stops this node and starts it again on the same database and data folder (a restart; the new
    /// process listens on another port).
    pub fn restart(mut self) -> Self {
        self.stop();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        let pg = self._pg.take();
        let url = std::mem::take(&mut self.database_url);
        Self::start_with(dir, url, pg)
    }

    /// Stops the server (the database and folder stay until drop).
    pub fn stop(&mut self) {
        actix_web::rt::System::new().block_on(self.server.stop(true));
        if let Some(t) = self.thread.take() {
            join_within(t, "the node's server thread");
        }
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Webhook settings of test nodes: http:// to loopback receivers allowed, retries after 200 ms
/// doubling up to 2 s.
pub fn test_webhooks() -> consentry::config::WebhookConfig {
    consentry::config::WebhookConfig {
        allow_insecure: true,
        retry_base_ms: 200,
        retry_cap_ms: 2000,
    }
}

/// Joins a server thread, waiting at most a minute: a server whose runtime cannot stop (a blocking
/// task that never returns) fails the test by name instead of hanging the whole run. While the test
/// is already failing the thread is left behind with a message (a second panic would abort).
pub fn join_within(t: std::thread::JoinHandle<()>, what: &str) {
    let start = std::time::Instant::now();
    while !t.is_finished() {
        if start.elapsed() > std::time::Duration::from_secs(60) {
            if std::thread::panicking() {
                eprintln!("{what} did not stop within a minute; left running");
                return;
            }
            panic!("{what} did not stop within a minute: one of its tasks never ended");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = t.join();
}

/// The HTTP agent of every test request: a request the node never answers fails the test after two
/// minutes with a transport error instead of hanging the run (CI's own limit is far longer).
pub fn http() -> &'static ureq::Agent {
    static AGENT: std::sync::OnceLock<ureq::Agent> = std::sync::OnceLock::new();
    AGENT.get_or_init(|| {
        // No connection reuse: every request on a fresh connection, as with `ureq::get`, so that a
        // connection the server closed after an error answer is never picked up again.
        ureq::AgentBuilder::new()
            .timeout_connect(std::time::Duration::from_secs(10))
            .timeout(std::time::Duration::from_secs(120))
            .max_idle_connections(0)
            .max_idle_connections_per_host(0)
            .build()
    })
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(String, String)>,
    pub text: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The problem `type` code (after the #).
    pub fn problem(&self) -> &str {
        self.body["type"]
            .as_str()
            .and_then(|t| t.rsplit('#').next())
            .unwrap_or("")
    }

    /// Every reason code.
    pub fn reasons(&self) -> Vec<String> {
        self.body["reasons"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r["code"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A blocking client that signs a fresh assertion for every request.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub audience: String,
    pub key: KeyFile,
    /// The clock assertions and signed requests are dated by (the node's, in node tests).
    pub clock: Arc<dyn consentry::clock::Clock>,
}

/// An answer from a ureq result (a status error is an answer too; a transport error panics).
pub fn answer(r: Result<ureq::Response, ureq::Error>) -> Answer {
    let resp = match r {
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
    let text = resp.into_string().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        body,
        headers,
        text,
    }
}

impl Client {
    fn assertion(&self, method: &str, path: &str) -> String {
        consentry::node::auth::make(&self.key, &self.audience, method, path, self.clock.now()).unwrap()
    }

    pub fn get(&self, path: &str) -> Answer {
        let token = self.assertion("GET", path);
        answer(
            crate::common::server::http()
                .get(&format!("{}{path}", self.base))
                .set("Authorization", &format!("Bearer {token}"))
                .call(),
        )
    }

    pub fn post(&self, path: &str, body: &Value) -> Answer {
        let token = self.assertion("POST", path);
        answer(
            crate::common::server::http()
                .post(&format!("{}{path}", self.base))
                .set("Authorization", &format!("Bearer {token}"))
                .set("Content-Type", "application/json")
                .send_string(&body.to_string()),
        )
    }

    pub fn post_raw(&self, path: &str, body: &str, authenticated: bool) -> Answer {
        let mut req = crate::common::server::http()
            .post(&format!("{}{path}", self.base))
            .set("Content-Type", "application/json");
        if authenticated {
            req = req.set(
                "Authorization",
                &format!("Bearer {}", self.assertion("POST", path)),
            );
        }
        answer(req.send_string(body))
    }

    /// A signed request (registration, revocation…) made with this client's key.
    pub fn signed_request(&self, action: &str, claims: Value) -> String {
        consentry::node::auth::make_request(&self.key, &self.audience, action, claims, self.clock.now())
            .unwrap()
    }
}

/// Unauthenticated GET.
pub fn get_public(url: &str) -> Answer {
    answer(crate::common::server::http().get(url).call())
}

/// A fresh key.
pub fn new_key() -> KeyFile {
    KeyFile::new(SecretKey::generate().unwrap())
}

/// The made-up industry table every test node loads (`tests/support/industries.fixture.json`; its
/// codes and names are not GB/T 4754's, which is not shipped: `src/industry.rs`).
pub fn industry_fixture() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/industries.fixture.json")
}

/// A running platform (its own folder, SQLite database and log), connected to a node.
#[allow(dead_code)]
pub struct TestPlatform {
    pub url: String,
    pub key: KeyFile,
    pub uscc: String,
    pub dir: tempfile::TempDir,
    /// The running platform (its store, to read or tamper with its database).
    pub platform: web::Data<consentry::platform::Platform>,
    server: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
    _pg: Option<PgDatabase>,
}

impl TestPlatform {
    /// Starts a platform for `uscc` against `node_url` (not yet admitted at the node).
    pub fn start(node_url: &str, uscc: &str) -> Self {
        Self::try_start(node_url, uscc, None).unwrap()
    }

    /// Starts a platform with its own evaluation model file ([`consentry::platform::Platform::open`]:
    /// the error of a file that cannot be used).
    pub fn try_start(
        node_url: &str,
        uscc: &str,
        evaluation_model: Option<std::path::PathBuf>,
    ) -> consentry::error::Result<Self> {
        Self::try_start_on(node_url, uscc, evaluation_model, Backend::Sqlite)
    }

    /// Starts a platform for `uscc` against `node_url` with its database on `backend` (a fresh
    /// PostgreSQL database, dropped afterwards, or SQLite in its folder).
    pub fn start_on(node_url: &str, uscc: &str, backend: Backend) -> Self {
        Self::try_start_on(node_url, uscc, None, backend).unwrap()
    }

    fn try_start_on(
        node_url: &str,
        uscc: &str,
        evaluation_model: Option<std::path::PathBuf>,
        backend: Backend,
    ) -> consentry::error::Result<Self> {
        let dir = tempfile::tempdir().unwrap();
        let (database_url, pg) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", dir.path().join("platform.sqlite3").display()),
                None,
            ),
            Backend::Postgres => {
                let db = PgDatabase::create();
                (db.url(), Some(db))
            }
        };
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let url = format!("http://{addr}");
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            listen: addr.to_string(),
            database_url,
            public_url: url.clone(),
            fix_origin: true,
            role: ServiceRole::Platform,
            node_url: Some(node_url.to_owned()),
            platform_uscc: Some(uscc.to_owned()),
            workers: 2,
            log_batch_max: 1024,
            checkpoint_interval_secs: 1,
            catalog_dir: None,
            witnesses: vec![],
            calendar: None,
            industries: None,
            webhooks: Default::default(),
            database_wait_ms: 1000,
            evaluation_model,
            metrics_token: Some(TEST_METRICS_TOKEN.into()),
            metrics_listen: None,
            log_format: Default::default(),
        };
        let (platform, _) = consentry::platform::Platform::open(&config, Arc::new(SystemClock))?;
        let key = platform.core.key.clone();
        let platform = web::Data::new(platform);
        let handle = platform.clone();
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                consentry::platform::spawn_background(platform.clone(), 1);
                let data = platform.clone();
                let server = HttpServer::new(move || {
                    // As `consentry serve --role platform` (`consentry::platform::serve`).
                    App::new()
                        .wrap(consentry::http::problems())
                        .app_data(data.clone())
                        .configure(consentry::platform::configure)
                })
                .workers(2)
                .shutdown_timeout(10)
                .listen(listener)
                .unwrap()
                .run();
                tx.send(server.handle()).unwrap();
                server.await.unwrap();
            });
        });
        let server = rx.recv().unwrap();
        Ok(Self {
            url,
            key,
            uscc: uscc.to_owned(),
            dir,
            platform: handle,
            server,
            thread: Some(thread),
            _pg: pg,
        })
    }

    /// A client of the platform acting with `key` (assertions addressed to the platform's DID).
    pub fn client(&self, key: &KeyFile) -> Client {
        Client {
            base: self.url.clone(),
            audience: self.key.did.as_str().to_owned(),
            key: key.clone(),
            clock: Arc::new(SystemClock),
        }
    }
}

impl Drop for TestPlatform {
    fn drop(&mut self) {
        actix_web::rt::System::new().block_on(self.server.stop(true));
        if let Some(t) = self.thread.take() {
            join_within(t, "the platform's server thread");
        }
    }
}
