//! Storage: one diesel code path over SQLite (embedded, the default) and PostgreSQL (production,
//! several service processes on one database).
//!
//! * The backend is chosen by the URL scheme: `sqlite://PATH` or `postgres://…`.
//! * Migrations for both live in `migrations/{sqlite,postgres}` with the same names, are embedded in
//!   the binary and run at start.
//! * SQLite runs in WAL mode with `synchronous=FULL`: a committed transaction survives power loss.
//!   Durable single-row commits are slow (~1,000/s), which is why the access log batches appends
//!   into group commits ([`crate::log`] and [`log_store`]).
//! * Everything here is plain synchronous diesel; HTTP handlers reach it through [`Store::call`],
//!   which runs the closure on a blocking thread.
//! * The database may go away (a PostgreSQL restart, a failover, a full disk) and come back: a
//!   request waits at most [`DEFAULT_CONNECTION_WAIT`] (configurable) for a connection, then fails
//!   with [`StorageError::Connection`] (`503 storage-unavailable` with `Retry-After`); the pool drops
//!   broken connections and makes new ones; [`Outage`] logs the outage once when it starts, with its
//!   cause, and once when it ends.
//! * This is the one home of SQL: every query of the service is a named function of a module here
//!   (one per concept: [`grants`], [`participants`], [`webhooks`], [`checkpoints`] …), and no file
//!   outside `src/storage/` names diesel (tests/integration/architecture.rs checks it). The node
//!   ([`crate::node`]) decides and orchestrates; the HTTP handlers and the portal reach this module
//!   only through the node.

pub mod alerts;
pub mod audit;
pub mod bulletins;
pub mod checkpoints;
mod conn;
pub mod consent_requests;
pub mod cursors;
pub mod data;
pub mod displays;
pub mod evaluations;
pub mod feed;
pub mod grants;
pub mod industries;
pub mod intake;
pub mod letters;
pub mod loans;
pub mod log_keys;
pub mod log_store;
pub mod notices;
pub mod objections;
pub mod outage;
pub mod participants;
pub mod schema;
pub mod seq_cache;
pub mod sessions;
pub mod settings;
pub mod stats;
pub mod status_lists;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{CustomizeConnection, ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use conn::DbConn;
pub use outage::Outage;

/// How long a request waits for a database connection before it fails, unless configured
/// otherwise (`consentry serve --database-wait-ms`).
pub const DEFAULT_CONNECTION_WAIT: Duration = Duration::from_secs(1);

/// Seconds libpq waits for a PostgreSQL server to answer a new connection, when the URL does not
/// say (`connect_timeout`): a host that does not answer fails a connection attempt, not hangs it.
const PG_CONNECT_TIMEOUT_SECS: u64 = 3;

/// Runs one diesel expression on the concrete connection of either backend, for the few statements
/// the portable `MultiBackend` cannot express (upserts, multi-row inserts). The body is compiled once
/// per backend.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::storage::DbConn::Sqlite($c) => $body,
            $crate::storage::DbConn::Pg($c) => $body,
        }
    };
}

/// Which backend a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A storage failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The database URL is not `sqlite://…` or `postgres://…`.
    #[error("database URL must start with sqlite:// or postgres:// (got {0:?})")]
    Url(String),
    /// A connection could not be made or taken from the pool.
    #[error("database connection: {0}")]
    Connection(String),
    /// Migrations failed.
    #[error("database migration: {0}")]
    Migration(String),
    /// A query failed.
    #[error("database: {0}")]
    Query(diesel::result::Error),
    /// Stored data that does not parse (corruption or a bug).
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// A blocking task could not run.
    #[error("storage task: {0}")]
    Task(String),
}

impl StorageError {
    /// Whether this is the database being unreachable or the connection to it lost (as opposed to a
    /// statement failing on a working connection): the outage is logged once by [`Outage`], not per
    /// request.
    pub fn is_connection(&self) -> bool {
        match self {
            Self::Connection(_) => true,
            Self::Query(e) => is_connection_error(e),
            _ => false,
        }
    }
}

/// A query failure as the service's error: [`crate::error::Error::Storage`] with
/// [`StorageError::Query`], so that `?` on a diesel result inside a transaction closure of the
/// service ([`Store::write_txn`], the group committer) keeps the database's own error. Here, beside
/// the only code that runs queries, so that no module outside storage names diesel.
impl From<diesel::result::Error> for crate::error::Error {
    fn from(e: diesel::result::Error) -> Self {
        Self::Storage(e.into())
    }
}

/// A diesel error, except that a stored value of an enumerated column that does not parse
/// ([`BadValue`], raised while loading a row) is [`StorageError::Corrupt`], never a default.
impl From<diesel::result::Error> for StorageError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::DeserializationError(inner) if inner.is::<BadValue>() => {
                Self::Corrupt(inner.to_string())
            }
            other => Self::Query(other),
        }
    }
}

impl From<BadValue> for StorageError {
    fn from(e: BadValue) -> Self {
        Self::Corrupt(e.to_string())
    }
}

/// A stored value of an enumerated column (a state, a role) that is none of its spellings.
#[derive(Debug, thiserror::Error)]
#[error("stored {kind} {value:?} is not one of its spellings")]
pub struct BadValue {
    /// What the column holds (`participant state`, `grant state` …).
    pub kind: &'static str,
    /// The stored text.
    pub value: String,
}

/// Conversions at the storage edge: each enum of the core is stored as its `as_str()` spelling and
/// parsed back on load (`#[diesel(deserialize_as = String)]` on the row's field), a spelling that
/// does not parse being [`BadValue`] and so [`StorageError::Corrupt`].
macro_rules! stored_enum {
    ($($ty:ty => $kind:literal),* $(,)?) => {$(
        impl TryFrom<String> for $ty {
            type Error = BadValue;
            fn try_from(value: String) -> Result<Self, BadValue> {
                <$ty>::parse(&value).ok_or(BadValue { kind: $kind, value })
            }
        }

        impl From<$ty> for String {
            fn from(v: $ty) -> String {
                v.as_str().to_owned()
            }
        }
    )*};
}

stored_enum! {
    crate::policy::ParticipantState => "participant state",
    crate::policy::Role => "participant role",
    crate::grant::GrantState => "grant state",
    webhooks::EndpointState => "webhook endpoint state",
    webhooks::DeliveryState => "webhook delivery state",
    objections::ObjectionState => "objection state",
    crate::grant::request::ConsentRequestState => "consent request state",
}

/// Whether a diesel error means the connection itself is unusable (closed by the server, or its
/// transaction state broken by a failed rollback): the connection must be replaced.
pub fn is_connection_error(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error as E};
    match e {
        E::DatabaseError(DatabaseErrorKind::ClosedConnection, _) | E::BrokenTransactionManager => true,
        E::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            // libpq reports a lost server as an unknown error with one of these messages.
            let m = info.message();
            m.contains("server closed the connection")
                || m.contains("terminating connection")
                || m.contains("no connection to the server")
                || m.contains("could not receive data")
                || m.contains("could not send data")
                || m.contains("connection to server")
        }
        _ => false,
    }
}

/// Result of a storage operation.
pub type StorageResult<T> = Result<T, StorageError>;

#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<DbConn, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), diesel::r2d2::Error> {
        if let DbConn::Sqlite(c) = conn {
            // busy_timeout first, so that nothing below fails on a lock another connection holds.
            c.batch_execute(
                "PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
                 PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32768;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// Makes the pool's connections: the concrete connection of the URL's backend, so that a refused
/// connection reports the database's own message (PostgreSQL's `too many clients`, `the database
/// system is starting up`…) rather than the generic failure of trying every backend in turn.
#[derive(Debug)]
pub struct Manager {
    backend: Backend,
    url: String,
}

impl Manager {
    fn establish(&self) -> Result<DbConn, diesel::ConnectionError> {
        Ok(match self.backend {
            Backend::Sqlite => DbConn::Sqlite(SqliteConnection::establish(
                self.url.trim_start_matches("sqlite://"),
            )?),
            Backend::Postgres => DbConn::Pg(PgConnection::establish(&pg_url(&self.url))?),
        })
    }
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        self.establish().map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

/// The PostgreSQL URL with a `connect_timeout` unless it has one.
fn pg_url(url: &str) -> String {
    if url.contains("connect_timeout=") {
        url.to_owned()
    } else {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}connect_timeout={PG_CONNECT_TIMEOUT_SECS}")
    }
}

/// A pooled connection.
pub type PooledConn = PooledConnection<Manager>;

/// A pool of connections to one database.
#[derive(Clone)]
pub struct Store {
    pool: Pool<Manager>,
    backend: Backend,
    url: String,
    wait: Duration,
    outage: Arc<Outage>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the URL: it may carry a password.
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// The backend a URL names.
pub fn backend_of(url: &str) -> StorageResult<Backend> {
    if url.starts_with("sqlite://") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err(StorageError::Url(redact(url)))
    }
}

/// A URL with any password replaced by `***`, for messages.
pub fn redact(url: &str) -> String {
    match split_password(url) {
        (rest, Some(_)) => rest.replacen("@", ":***@", 1),
        (rest, None) => rest,
    }
}

/// `url` without the password of its userinfo (`postgres://user@host/db`), and that password: for
/// handing the password to a child process in its environment rather than on its command line, and
/// for [`redact`]. A URL without one comes back whole, with `None`.
pub fn split_password(url: &str) -> (String, Option<String>) {
    if let (Some(s), Some(at)) = (url.find("://"), url.find('@')) {
        if at > s {
            if let Some((user, password)) = url[s + 3..at].split_once(':') {
                return (
                    format!("{}{user}{}", &url[..s + 3], &url[at..]),
                    Some(password.to_owned()),
                );
            }
        }
    }
    (url.to_owned(), None)
}

/// What a database URL holds, read by [`probe`] without creating, migrating or changing anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// No database at all: the SQLite file does not exist.
    Nothing,
    /// A database without a single table (a SQLite file or PostgreSQL database just created).
    Empty,
    /// A database with tables that no Consentry process ever bound to its key (no `service_did`
    /// setting, or no settings table at all): someone else's.
    Foreign,
    /// A Consentry database, bound to the process key with this DID.
    Service {
        /// The DID of the key it belongs to.
        did: String,
    },
}

/// Looks at the database at `url` without creating it (a missing SQLite file stays missing),
/// migrating it or writing to it: for commands that must act on an existing node's database and
/// never set one up by mistake (`consentry admin …` given a wrong folder or URL). A server that
/// cannot be reached, or a PostgreSQL database that does not exist, is [`StorageError::Connection`].
pub fn probe(url: &str) -> StorageResult<Found> {
    let backend = backend_of(url)?;
    if backend == Backend::Sqlite && !std::path::Path::new(url.trim_start_matches("sqlite://")).exists() {
        return Ok(Found::Nothing);
    }
    let manager = Manager {
        backend,
        url: url.to_owned(),
    };
    let mut conn = manager
        .establish()
        .map_err(|e| StorageError::Connection(redact_error(url, &e.to_string())))?;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let tables: Count = match &mut conn {
        DbConn::Sqlite(c) => diesel::RunQueryDsl::get_result(
            diesel::sql_query("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'"),
            c,
        )?,
        DbConn::Pg(c) => diesel::RunQueryDsl::get_result(
            diesel::sql_query(
                "SELECT count(*) AS n FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace s \
                 ON s.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') \
                 AND s.nspname NOT IN ('pg_catalog', 'information_schema') \
                 AND s.nspname NOT LIKE 'pg_toast%' AND s.nspname NOT LIKE 'pg_temp%'",
            ),
            c,
        )?,
    };
    if tables.n == 0 {
        return Ok(Found::Empty);
    }
    let has_settings = match &mut conn {
        DbConn::Sqlite(c) => {
            let r: Count = diesel::RunQueryDsl::get_result(
                diesel::sql_query(
                    "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'settings'",
                ),
                c,
            )?;
            r.n > 0
        }
        DbConn::Pg(c) => {
            #[derive(diesel::QueryableByName)]
            struct Exists {
                #[diesel(sql_type = diesel::sql_types::Bool)]
                e: bool,
            }
            let r: Exists = diesel::RunQueryDsl::get_result(
                diesel::sql_query("SELECT to_regclass('settings') IS NOT NULL AS e"),
                c,
            )?;
            r.e
        }
    };
    if !has_settings {
        return Ok(Found::Foreign);
    }
    Ok(match settings::get(&mut conn, "service_did")? {
        Some(did) => Found::Service { did },
        None => Found::Foreign,
    })
}

/// Writes a consistent copy of the SQLite database `conn` is open on to the new file `dest`, while
/// other connections go on reading and writing: `VACUUM INTO` (sqlite.org/lang_vacuum.html, "VACUUM
/// INTO": "the generated output database is a consistent snapshot of the original database"). `dest`
/// must not exist. On PostgreSQL this is [`StorageError::Url`]: use `pg_dump` there.
pub fn sqlite_snapshot(conn: &mut DbConn, dest: &std::path::Path) -> StorageResult<()> {
    let DbConn::Sqlite(c) = conn else {
        return Err(StorageError::Url(
            "a snapshot with VACUUM INTO needs SQLite".into(),
        ));
    };
    let dest = dest
        .to_str()
        .ok_or_else(|| StorageError::Url(format!("{}: not UTF-8", dest.display())))?;
    diesel::RunQueryDsl::execute(
        diesel::sql_query("VACUUM INTO ?").bind::<diesel::sql_types::Text, _>(dest),
        c,
    )?;
    Ok(())
}

/// A connection error's text with the URL's password, should the driver quote it, replaced.
fn redact_error(url: &str, message: &str) -> String {
    match split_password(url) {
        (_, Some(password)) if !password.is_empty() => message.replace(&password, "***"),
        _ => message.to_owned(),
    }
}

impl Store {
    /// Opens (creating the SQLite file if needed) and migrates the database at `url`, with the
    /// default connection wait ([`DEFAULT_CONNECTION_WAIT`]).
    pub fn open(url: &str, pool_size: u32) -> StorageResult<Self> {
        Self::open_with(url, pool_size, DEFAULT_CONNECTION_WAIT)
    }

    /// Opens and migrates the database at `url`; a request waits at most `wait` for a connection.
    ///
    /// The first connection is made directly, not through the pool: a database that refuses
    /// connections fails the start at once, with its own message.
    pub fn open_with(url: &str, pool_size: u32, wait: Duration) -> StorageResult<Self> {
        let backend = backend_of(url)?;
        let manager = Manager {
            backend,
            url: url.to_owned(),
        };
        let mut first = manager
            .establish()
            .map_err(|e| StorageError::Connection(e.to_string()))?;
        SqlitePragmas
            .on_acquire(&mut first)
            .map_err(|e| StorageError::Connection(e.to_string()))?;
        migrate(&mut first)?;
        drop(first);
        let outage = Arc::new(Outage::default());
        let pool = Pool::builder()
            .max_size(pool_size.max(2))
            // No connection made ahead of need: the pool makes connections on its own threads, and
            // one still being made when a one-shot command exits (`consentry admin …` refusing a
            // database) raced the process's exit handlers inside libpq and crashed it.
            .min_idle(Some(0))
            // So nothing closes an SQLite connection for idleness or age (its page cache stays warm
            // and a quiet spell costs no reconnect); a PostgreSQL connection is replaced after the
            // pool's default idle time and lifetime (a server restart, a failover).
            .idle_timeout((backend != Backend::Sqlite).then_some(Duration::from_secs(600)))
            .max_lifetime((backend != Backend::Sqlite).then_some(Duration::from_secs(1800)))
            .connection_timeout(wait.max(Duration::from_millis(10)))
            // A PostgreSQL connection may have died with its server (a restart, a failover): it is
            // checked with a round trip when taken from the pool. An SQLite connection is a file
            // handle in this process and cannot: no check (a statement per request saved).
            .test_on_check_out(backend != Backend::Sqlite)
            .connection_customizer(Box::new(SqlitePragmas))
            .error_handler(Box::new(outage::PoolErrors(Arc::clone(&outage))))
            .build_unchecked(manager);
        Ok(Self {
            pool,
            backend,
            url: url.to_owned(),
            wait,
            outage,
        })
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// How long a request waits for a connection.
    pub fn wait(&self) -> Duration {
        self.wait
    }

    /// The database's availability as this process last saw it.
    pub fn outage(&self) -> &Outage {
        &self.outage
    }

    /// The pool's use now: connections open, of which idle, and the most it opens.
    pub fn pool_use(&self) -> (u32, u32, u32) {
        let st = self.pool.state();
        (st.connections, st.idle_connections, self.pool.max_size())
    }

    /// A fresh connection outside the pool (the log committer keeps one for itself).
    pub fn dedicated_connection(&self) -> StorageResult<DbConn> {
        let manager = Manager {
            backend: self.backend,
            url: self.url.clone(),
        };
        let mut conn = manager
            .establish()
            .map_err(|e| StorageError::Connection(e.to_string()))?;
        SqlitePragmas
            .on_acquire(&mut conn)
            .map_err(|e| StorageError::Connection(e.to_string()))?;
        Ok(conn)
    }

    /// A pooled connection, waiting at most [`Store::wait`] for one.
    pub fn conn(&self) -> StorageResult<PooledConn> {
        match self.pool.get() {
            Ok(c) => {
                self.outage.ended();
                Ok(c)
            }
            Err(e) => {
                let msg = e.to_string();
                Err(StorageError::Connection(match self.outage.cause() {
                    // r2d2 names the last connection error it saw; add the outage's cause if not.
                    Some(cause) if !msg.contains(&cause) => format!("{msg}: {cause}"),
                    _ => msg,
                }))
            }
        }
    }

    /// Runs `f` with a pooled connection on the current thread.
    pub fn run<R>(&self, f: impl FnOnce(&mut DbConn) -> StorageResult<R>) -> StorageResult<R> {
        let mut conn = self.conn()?;
        f(&mut conn)
    }

    /// Runs `f` — a read of a few rows by key, on the release path — where it costs least: on SQLite
    /// on the calling thread (the read takes microseconds from the page cache, less than handing it
    /// to another thread and waking this one again: measured in BENCHMARKS.md, "Releases over
    /// HTTP"), on PostgreSQL on a blocking thread as [`Store::call`] (a network round trip must not
    /// stall an async worker). Not for scans or anything that may wait on a lock.
    pub async fn quick<R, E>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<R, E> + Send + 'static,
    ) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<StorageError> + Send + 'static,
    {
        // Only with an idle connection at hand: never wait for one on an async worker (a worker
        // blocked there could not drain the streams that hold the pool's connections).
        if self.backend == Backend::Sqlite {
            if let Some(mut conn) = self.pool.try_get() {
                self.outage.ended();
                return f(&mut conn);
            }
        }
        self.call(f).await
    }

    /// Runs `f` with a pooled connection on a blocking thread (for async handlers).
    pub async fn call<R, E>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<R, E> + Send + 'static,
    ) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<StorageError> + Send + 'static,
    {
        let store = self.clone();
        actix_web::rt::task::spawn_blocking(move || {
            let mut conn = store.conn().map_err(E::from)?;
            f(&mut conn)
        })
        .await
        .map_err(|e| E::from(StorageError::Task(e.to_string())))?
    }

    /// Runs `f` inside a transaction that takes the write lock at its start: `BEGIN IMMEDIATE` on
    /// SQLite (so concurrent writers wait for each other instead of failing), an ordinary transaction
    /// on PostgreSQL (where callers lock the rows they update). Nested transactions inside `f` become
    /// savepoints.
    pub fn write_txn<R, E>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<R, E>) -> Result<R, E>
    where
        E: From<diesel::result::Error>,
    {
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        if !matches!(conn, DbConn::Sqlite(_)) {
            return conn.transaction(f);
        }
        if let DbConn::Sqlite(c) = conn {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
        }
        let result = f(conn);
        if let DbConn::Sqlite(c) = conn {
            match &result {
                Ok(_) => AnsiTransactionManager::commit_transaction(c)?,
                Err(_) => AnsiTransactionManager::rollback_transaction(c)?,
            }
        }
        result
    }
}

/// Sets up a new database file (WAL) and runs the pending migrations.
fn migrate(conn: &mut DbConn) -> StorageResult<()> {
    if let DbConn::Sqlite(c) = conn {
        // WAL is a property of the database file: set once, kept by every later connection.
        c.batch_execute("PRAGMA journal_mode = WAL;")?;
    }
    let result = match conn {
        DbConn::Sqlite(c) => {
            return with_sqlite_foreign_keys_off(c, |c| {
                c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ())
            });
        }
        DbConn::Pg(c) => {
            // Several processes may start at once on one database: serialize migrations.
            c.batch_execute("SELECT pg_advisory_lock(7264001)")?;
            let r = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ());
            c.batch_execute("SELECT pg_advisory_unlock(7264001)")?;
            r
        }
    };
    result.map_err(|e| StorageError::Migration(e.to_string()))
}

#[derive(diesel::QueryableByName)]
struct ForeignKeyViolation {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table: String,
}

/// Runs SQLite migrations the way SQLite documents for schema changes that rebuild a table (a
/// CHECK constraint cannot be altered: the table is copied, dropped and renamed; sqlite.org
/// "ALTER TABLE", §7): foreign keys off while they run — dropping a parent table with foreign keys
/// on deletes its rows first and fails on their children, even though the rebuilt table holds the
/// same ids —, then `PRAGMA foreign_key_check`, which must find nothing, then foreign keys on again.
fn with_sqlite_foreign_keys_off<R>(
    c: &mut diesel::SqliteConnection,
    run: impl FnOnce(&mut diesel::SqliteConnection) -> Result<R, Box<dyn std::error::Error + Send + Sync>>,
) -> StorageResult<R> {
    c.batch_execute("PRAGMA foreign_keys = OFF;")?;
    let result = run(c).map_err(|e| StorageError::Migration(e.to_string()));
    let violations: Vec<ForeignKeyViolation> =
        diesel::RunQueryDsl::load(diesel::sql_query("PRAGMA foreign_key_check"), c)?;
    c.batch_execute("PRAGMA foreign_keys = ON;")?;
    let r = result?;
    if let Some(v) = violations.first() {
        return Err(StorageError::Migration(format!(
            "{} foreign key violation(s) after the migrations, first in table {}",
            violations.len(),
            v.table
        )));
    }
    Ok(r)
}

/// Reverts every applied migration, newest first, running each `down.sql`, and returns how many
/// were reverted; the database is left empty of the schema. For the up → down → up check of every
/// schema change on both backends (tests/integration/migrations.rs); no command offers it.
pub fn revert_all_migrations(conn: &mut DbConn) -> StorageResult<usize> {
    let result = match conn {
        DbConn::Sqlite(c) => {
            return with_sqlite_foreign_keys_off(c, |c| {
                c.revert_all_migrations(SQLITE_MIGRATIONS).map(|v| v.len())
            });
        }
        DbConn::Pg(c) => c.revert_all_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()),
    };
    result.map_err(|e| StorageError::Migration(e.to_string()))
}

/// Reverts the newest applied migration (its `down.sql`) and returns its name. For the migration
/// tests (tests/integration/migrations.rs); no command offers it.
pub fn revert_last_migration(conn: &mut DbConn) -> StorageResult<String> {
    let result = match conn {
        DbConn::Sqlite(c) => {
            return with_sqlite_foreign_keys_off(c, |c| {
                c.revert_last_migration(SQLITE_MIGRATIONS).map(|v| v.to_string())
            });
        }
        DbConn::Pg(c) => c
            .revert_last_migration(POSTGRES_MIGRATIONS)
            .map(|v| v.to_string()),
    };
    result.map_err(|e| StorageError::Migration(e.to_string()))
}

/// Runs the pending migrations (as [`Store::open`] does) and returns how many ran.
pub fn run_pending_migrations(conn: &mut DbConn) -> StorageResult<usize> {
    let result = match conn {
        DbConn::Sqlite(c) => {
            return with_sqlite_foreign_keys_off(c, |c| {
                c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len())
            });
        }
        DbConn::Pg(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()),
    };
    result.map_err(|e| StorageError::Migration(e.to_string()))
}

/// Milliseconds since the Unix epoch, as stored.
pub fn millis(t: time::OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The instant for stored milliseconds.
pub fn from_millis(ms: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod url_tests {
    use super::{redact, redact_error, split_password};

    #[test]
    fn passwords_are_split_off_and_redacted() {
        let url = "postgres://node:s3cr:et@db.example:5432/consentry";
        assert_eq!(
            split_password(url),
            (
                "postgres://node@db.example:5432/consentry".to_owned(),
                Some("s3cr:et".to_owned())
            )
        );
        assert_eq!(redact(url), "postgres://node:***@db.example:5432/consentry");
        assert_eq!(
            redact_error(url, "password s3cr:et refused"),
            "password *** refused"
        );
        for plain in [
            "postgres://node@db.example/consentry",
            "sqlite:///var/lib/consentry/node.sqlite3",
            "postgres://db.example/x",
        ] {
            assert_eq!(split_password(plain), (plain.to_owned(), None));
            assert_eq!(redact(plain), plain);
        }
        assert_eq!(redact("postgres://node:@db/x"), "postgres://node:***@db/x");
    }
}
