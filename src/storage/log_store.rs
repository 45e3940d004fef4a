//! The access log in the database, and the group committer that appends to it.
//!
//! One committer thread per process owns a dedicated connection. Handlers submit *jobs* — closures
//! that run inside the committer's transaction and may append entries — and await their results.
//! The committer takes every job queued (up to a batch limit), opens one transaction, takes the log
//! lock (`SELECT … FOR UPDATE` on the single `log_state` row in PostgreSQL, `BEGIN IMMEDIATE` in
//! SQLite), runs the jobs in order each inside its own savepoint, writes the new log state with a
//! compare-and-set on the size, commits once (one fsync for the whole batch), and only then answers
//! every job. Consequences:
//!
//! * an acknowledged entry is durable (the answer follows the commit);
//! * sequence numbers have no gaps or duplicates, across any number of processes (the lock, and the
//!   CAS as a second guard);
//! * a job's own writes (a release's usage count, a revocation's status bit) commit in the same
//!   transaction as its entry, or not at all: no release without its entry, no entry without its
//!   release;
//! * a failing job rolls back to its savepoint and leaves the other jobs of the batch untouched;
//! * the statistics rollups count exactly the committed entries: each job's counted entries are kept
//!   in memory ([`crate::storage::stats::AccessDelta`]), merged into the batch only if the job's
//!   savepoint committed, and added with upserts before the log-state compare-and-set, inside the
//!   batch transaction (spec/statistics.md §4).
//!
//! The committer survives the database going away (a PostgreSQL restart or failover). When a batch
//! fails and its connection no longer answers, or its transaction state is broken, the batch is
//! failed to every caller (nothing is acknowledged that was not committed), the connection is dropped
//! and a fresh one is made, retried with a backoff from [`BACKOFF_MIN`] to [`BACKOFF_MAX`]; jobs
//! that arrive meanwhile fail at once with [`StorageError::Connection`] (`503` with `Retry-After`),
//! never wait. An idle connection is checked every [`IDLE_CHECK`] and before a batch that follows a
//! pause, so a restart during a quiet spell costs no failed request. The committer keeps no log state
//! between batches: each batch reads the size, frontier and chain heads under the log lock, so
//! entries appended meanwhile by another process (or nothing, after a failover) are what the next
//! batch builds on.
//!
//! One thing may not happen on reconnection: the log shrinking. If the database comes back with
//! fewer entries than this process has already committed (a failover to an asynchronous replica that
//! lacked the tail, a restored backup), acknowledged entries — and checkpoints signed over them —
//! are gone. The committer then halts: it refuses every further job (`503`), readiness reports it,
//! and the operator must investigate (README, "PostgreSQL failover"); appending would fork the log.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::R2D2Connection;
use time::OffsetDateTime;
use tokio::sync::oneshot;

use super::schema::{log_heads, log_leaves, log_nodes, log_records, log_state, seen_jti};
use super::seq_cache::{JobKind, SeqCache};
use super::stats::AccessDelta;
use super::{DbConn, StorageError, StorageResult, Store, millis};
use crate::clock::Clock;
use crate::error::Error;
use crate::log::entry::{AccessRecord, EntryKind, Leaf, NO_PREVIOUS, record_commitment, subject_tag};
use crate::log::merkle::{self, CompactRange, Hash, NodeSource};

/// An entry to append.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// What it records.
    pub kind: EntryKind,
    /// The enterprise it is about (for the subject chain and queries).
    pub enterprise: Option<String>,
    /// The grant it relies on: id and SHA-256 of the stored signed bytes.
    pub grant: Option<(String, crate::crypto::Sha256Digest)>,
    /// The caller's USCC (query column).
    pub caller: Option<String>,
    /// The platform on the path (query column).
    pub platform: Option<String>,
    /// The bank on the path (query column).
    pub bank: Option<String>,
    /// Category codes, comma-separated (query column).
    pub categories: Option<String>,
    /// `allowed`, `refused` or the event's action (query column).
    pub decision: Option<String>,
    /// The full record.
    pub record: AccessRecord,
}

/// An entry as appended.
#[derive(Debug, Clone)]
pub struct Appended {
    /// Its index.
    pub seq: u64,
    /// The leaf.
    pub leaf: Leaf,
    /// SHA-256(0x00 ‖ leaf).
    pub leaf_hash: Hash,
    /// The salt of its record commitment.
    pub salt: [u8; 32],
}

/// The log's state inside a batch.
#[derive(Debug, Clone)]
struct State {
    range: CompactRange,
    last_time: i64,
}

/// A leaf row as inserted.
type LeafRow = (
    i64,
    Vec<u8>,
    i16,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The log rows a batch appends, written together when the batch ends (one multi-row statement per
/// table and 256 rows, not a round trip per row), inside the same transaction and before the log
/// state moves: the commit still holds the entries and their state or neither. Chain heads are kept
/// here too, so a chain touched twice in a batch is read from the database once.
#[derive(Debug, Default)]
struct Pending {
    leaves: Vec<LeafRow>,
    records: Vec<(i64, Vec<u8>, String)>,
    nodes: Vec<(i16, i64, Vec<u8>)>,
    /// Chain key → the newest seq on it.
    heads: std::collections::HashMap<Vec<u8>, i64>,
}

impl Pending {
    /// Moves a job's rows into the batch's (the job's savepoint committed).
    fn absorb(&mut self, job: Pending) {
        self.leaves.extend(job.leaves);
        self.records.extend(job.records);
        self.nodes.extend(job.nodes);
        self.heads.extend(job.heads);
    }

    /// Writes the rows: leaves, records, tree nodes, then the chain heads (upserts).
    fn flush(self, conn: &mut DbConn) -> StorageResult<()> {
        for chunk in self.leaves.chunks(256) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|r| {
                    (
                        log_leaves::seq.eq(r.0),
                        log_leaves::leaf.eq(&r.1),
                        log_leaves::kind.eq(r.2),
                        log_leaves::time.eq(r.3),
                        log_leaves::enterprise_uscc.eq(&r.4),
                        log_leaves::grant_id.eq(&r.5),
                        log_leaves::caller_uscc.eq(&r.6),
                        log_leaves::platform_uscc.eq(&r.7),
                        log_leaves::bank_uscc.eq(&r.8),
                        log_leaves::categories.eq(&r.9),
                        log_leaves::decision.eq(&r.10),
                    )
                })
                .collect();
            crate::on_backend!(&mut *conn, |c| diesel::insert_into(log_leaves::table)
                .values(&rows)
                .execute(c))?;
        }
        for chunk in self.records.chunks(256) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|r| {
                    (
                        log_records::seq.eq(r.0),
                        log_records::salt.eq(Some(&r.1)),
                        log_records::record.eq(Some(&r.2)),
                    )
                })
                .collect();
            crate::on_backend!(&mut *conn, |c| diesel::insert_into(log_records::table)
                .values(&rows)
                .execute(c))?;
        }
        for chunk in self.nodes.chunks(256) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|r| {
                    (
                        log_nodes::level.eq(r.0),
                        log_nodes::idx.eq(r.1),
                        log_nodes::hash.eq(&r.2),
                    )
                })
                .collect();
            crate::on_backend!(&mut *conn, |c| diesel::insert_into(log_nodes::table)
                .values(&rows)
                .execute(c))?;
        }
        let mut heads: Vec<(Vec<u8>, i64)> = self.heads.into_iter().collect();
        heads.sort_unstable();
        for chunk in heads.chunks(256) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|(chain, seq)| (log_heads::chain.eq(chain), log_heads::seq.eq(*seq)))
                .collect();
            crate::on_backend!(&mut *conn, |c| diesel::insert_into(log_heads::table)
                .values(&rows)
                .on_conflict(log_heads::chain)
                .do_update()
                .set(log_heads::seq.eq(diesel::upsert::excluded(log_heads::seq)))
                .execute(c))?;
        }
        Ok(())
    }
}

/// What a job sees: the connection inside the batch transaction and the log.
pub struct Tx<'a> {
    /// The connection, inside the transaction.
    pub conn: &'a mut DbConn,
    state: &'a mut State,
    tag_key: &'a [u8; 32],
    now: i64,
    stats: &'a mut AccessDelta,
    /// The rows of the jobs before this one in the batch (read-only: chain heads).
    batch: &'a Pending,
    /// This job's rows, merged into the batch's if the job succeeds.
    job: &'a mut Pending,
    /// What the sequencer holds between batches ([`SeqCache`]).
    cache: &'a mut SeqCache,
}

impl Tx<'_> {
    /// The batch's instant (ms): never earlier than any entry already in the log.
    pub fn now(&self) -> i64 {
        self.now.max(self.state.last_time)
    }

    /// The log's size before the next append.
    pub fn size(&self) -> u64 {
        self.state.range.size()
    }

    /// Appends an entry.
    pub fn append(&mut self, e: NewEntry) -> Result<Appended, Error> {
        let seq = self.state.range.size();
        let time = self.now();
        let seq_i = i64::try_from(seq).map_err(|_| Error::Internal("log full".into()))?;
        let (grant_id, grant_digest) = match &e.grant {
            Some((id, d)) => (Some(id.clone()), d.0),
            None => (None, [0u8; 32]),
        };
        let tag = e.enterprise.as_deref().map(|u| subject_tag(self.tag_key, u));
        let prev_same_grant = match &e.grant {
            Some(_) => self.bump_head(&chain_key(b'g', &grant_digest), seq_i)?,
            None => NO_PREVIOUS,
        };
        let prev_same_subject = match &tag {
            Some(t) => self.bump_head(&chain_key(b's', t), seq_i)?,
            None => NO_PREVIOUS,
        };
        let mut salt = [0u8; 32];
        crate::crypto::ed25519::random_bytes(&mut salt).map_err(|e| Error::Internal(e.to_string()))?;
        let canonical = e.record.canonical();
        let leaf = Leaf {
            kind: e.kind,
            seq,
            time_ms: u64::try_from(time).unwrap_or(0),
            grant_digest,
            prev_same_grant,
            subject_tag: tag.unwrap_or([0; 32]),
            prev_same_subject,
            record_commitment: record_commitment(&salt, &canonical),
        };
        let bytes = leaf.to_bytes();
        let leaf_hash = merkle::leaf_hash(&bytes);
        let new_nodes = self
            .state
            .range
            .append(&leaf_hash)
            .map_err(|_| Error::Internal("log full".into()))?;
        self.job.leaves.push((
            seq_i,
            bytes.to_vec(),
            i16::from(e.kind as u8),
            time,
            e.enterprise.clone(),
            grant_id,
            e.caller.clone(),
            e.platform.clone(),
            e.bank.clone(),
            e.categories.clone(),
            e.decision.clone(),
        ));
        self.job.records.push((
            seq_i,
            salt.to_vec(),
            String::from_utf8_lossy(&canonical).into_owned(),
        ));
        for (level, idx, hash) in new_nodes {
            self.job.nodes.push((
                i16::from(level),
                i64::try_from(idx).unwrap_or(i64::MAX),
                hash.to_vec(),
            ));
        }
        self.state.last_time = time;
        self.stats.record(e.kind, time, e.platform, e.bank, e.categories);
        Ok(Appended {
            seq,
            leaf,
            leaf_hash,
            salt,
        })
    }

    /// A participant's state as of this point in the log (held by the sequencer, or read).
    pub fn participant_state(&mut self, id: i64) -> Result<Option<crate::policy::ParticipantState>, Error> {
        Ok(self.cache.participant_state(self.conn, id)?)
    }

    /// A grant's state as of this point in the log (held by the sequencer, or read).
    pub fn grant_state(&mut self, id: &str) -> Result<Option<crate::grant::GrantState>, Error> {
        Ok(self.cache.grant_state(self.conn, id)?)
    }

    /// Releases counted for a grant in a usage period, this batch's included.
    pub fn usage(&mut self, grant: &str, period: &str) -> Result<u64, Error> {
        Ok(self.cache.usage(self.conn, grant, period)?)
    }

    /// Counts one release for a grant in a usage period: written with the batch, or not at all if
    /// this job fails.
    pub fn count_use(&mut self, grant: &str, period: &str) {
        self.cache.count_use(grant, period);
    }

    /// Whether any of `records` was corrected by an entry at or after log size `from`
    /// (spec/objections.md §7.1); asks the database only when the sequencer cannot prove it was not.
    pub fn corrected_since(&mut self, records: &[i64], from: u64) -> Result<bool, Error> {
        if records.is_empty() || !self.cache.maybe_corrected_since(from) {
            return Ok(false);
        }
        Ok(super::objections::corrected_since(self.conn, records, from)?)
    }

    /// Spends a single-use signed token (a client assertion, a signed request): records its id
    /// with its signer until it expires, in this transaction, so that the token and what it asked
    /// for are recorded together or not at all; a token whose id was spent before (by any process
    /// sharing the database) is `401 unauthenticated` and the transaction writes nothing.
    pub fn consume_assertion<T: SingleUse + ?Sized>(&mut self, token: &T) -> Result<(), Error> {
        self.consume_jti(token.jti(), token.issuer(), token.expires_ms())
    }

    /// Records a client-assertion id; fails with a conflict if it was seen before (by any process).
    /// For a token at hand, [`Tx::consume_assertion`] says the same in one argument.
    pub fn consume_jti(&mut self, jti: &str, issuer: &str, expires_at: i64) -> Result<(), Error> {
        let row = (
            seen_jti::jti.eq(jti),
            seen_jti::issuer.eq(issuer),
            seen_jti::expires_at.eq(expires_at),
        );
        let inserted = crate::on_backend!(&mut *self.conn, |c| diesel::insert_into(seen_jti::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c))?;
        if inserted == 0 {
            return Err(Error::Unauthenticated(format!(
                "assertion id {jti} was already used"
            )));
        }
        Ok(())
    }

    /// The newest entry on `chain` before `seq` (this job's, then the batch's, then the stored head),
    /// and `seq` becomes the head.
    fn bump_head(&mut self, chain: &[u8], seq: i64) -> Result<u64, Error> {
        let prev = match self.job.heads.get(chain).or_else(|| self.batch.heads.get(chain)) {
            Some(p) => Some(*p),
            None => log_heads::table
                .find(chain.to_vec())
                .select(log_heads::seq)
                .get_result(self.conn)
                .optional()?,
        };
        self.job.heads.insert(chain.to_vec(), seq);
        Ok(prev.and_then(|p| u64::try_from(p).ok()).unwrap_or(NO_PREVIOUS))
    }
}

fn chain_key(tag: u8, id: &[u8; 32]) -> Vec<u8> {
    let mut k = Vec::with_capacity(33);
    k.push(tag);
    k.extend_from_slice(id);
    k
}

/// A job's result, type-erased so jobs of every shape share one queue.
type Output = Box<dyn std::any::Any + Send>;

/// A job's closure.
type JobFn = Box<dyn FnOnce(&mut Tx<'_>) -> Result<Output, Error> + Send>;

struct Job {
    kind: JobKind,
    run: JobFn,
    reply: oneshot::Sender<Result<Output, Error>>,
}

/// The first wait before making a new connection after the committer's connection failed.
pub const BACKOFF_MIN: Duration = Duration::from_millis(50);
/// The longest wait between two attempts to reconnect.
pub const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// How long the committer's connection may sit unused before it is checked (a round trip).
pub const IDLE_CHECK: Duration = Duration::from_secs(1);

/// Whether the committer has a working connection, for readiness.
#[derive(Debug, Default)]
struct Health {
    down: AtomicBool,
    halted: AtomicBool,
    cause: Mutex<Option<String>>,
    /// The log's size after this process's last commit (or at start): every entry below it is
    /// committed.
    committed: std::sync::atomic::AtomicU64,
    /// Where group commits are counted ([`Committer::observe`]).
    metrics: std::sync::OnceLock<std::sync::Arc<crate::metrics::Metrics>>,
}

impl Health {
    fn set(&self, cause: Option<String>) {
        if self.halted.load(Ordering::Acquire) {
            return;
        }
        self.down.store(cause.is_some(), Ordering::Release);
        *self.cause.lock().unwrap_or_else(PoisonError::into_inner) = cause;
    }

    fn halt(&self, cause: String) {
        *self.cause.lock().unwrap_or_else(PoisonError::into_inner) = Some(cause);
        self.down.store(true, Ordering::Release);
        self.halted.store(true, Ordering::Release);
    }
}

/// A handle to the committer thread.
#[derive(Clone)]
pub struct Committer {
    tx: mpsc::SyncSender<Job>,
    health: Arc<Health>,
}

impl std::fmt::Debug for Committer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Committer")
    }
}

impl Committer {
    /// Starts the committer thread on a dedicated connection.
    pub fn start(
        store: &Store,
        tag_key: [u8; 32],
        clock: std::sync::Arc<dyn Clock>,
        batch_max: usize,
    ) -> StorageResult<Self> {
        let mut conn = store.dedicated_connection()?;
        let (size, _) = head(&mut conn)?;
        let (tx, rx) = mpsc::sync_channel::<Job>(batch_max.max(1) * 4);
        let health = Arc::new(Health::default());
        health.committed.store(size, Ordering::Release);
        let link = Link {
            store: store.clone(),
            conn: Some(conn),
            health: Arc::clone(&health),
            backoff: BACKOFF_MIN,
            next_try: Instant::now(),
            used: Instant::now(),
            high_water: i64::try_from(size).unwrap_or(i64::MAX),
        };
        thread::Builder::new()
            .name("log-committer".into())
            .spawn(move || run(link, rx, tag_key, clock, batch_max.max(1)))
            .map_err(|e| StorageError::Task(e.to_string()))?;
        Ok(Self { tx, health })
    }

    /// Counts every later group commit in `metrics` (its jobs, its duration, a failure); the first
    /// call wins.
    pub fn observe(&self, metrics: std::sync::Arc<crate::metrics::Metrics>) {
        let _ = self.health.metrics.set(metrics);
    }

    /// `Ok` while the committer holds a working connection; otherwise why not (it is reconnecting).
    pub fn health(&self) -> Result<(), String> {
        if !self.health.down.load(Ordering::Acquire) {
            return Ok(());
        }
        let cause = self.health.cause.lock().unwrap_or_else(PoisonError::into_inner);
        Err(cause.clone().unwrap_or_else(|| "no database connection".into()))
    }

    /// A log size every entry below which is committed: the size after this process's last group
    /// commit (or at its start). Other processes may have appended since, so it may be below the
    /// database's size, never above it: a read that starts after this call sees every entry below it
    /// (and every change committed with them).
    pub fn committed_size(&self) -> u64 {
        self.health.committed.load(Ordering::Acquire)
    }

    /// Whether the committer has halted for good: the database's log is behind what this process
    /// committed (see the module documentation). Only a restart, after investigation, clears it.
    pub fn is_halted(&self) -> bool {
        self.health.halted.load(Ordering::Acquire)
    }

    /// Runs `f` in the next group commit, in a savepoint of its own, and returns its result once the
    /// batch is durable. `f` may write anything; what the sequencer holds is read again after it.
    pub async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Tx<'_>) -> Result<R, Error> + Send + 'static,
    ) -> Result<R, Error> {
        self.run_as(JobKind::General, f).await
    }

    /// Runs `f` as a [`JobKind::Sequenced`] job: it changes no state the sequencer holds and writes
    /// only through [`Tx`]'s methods (plus its own rows through the connection when `savepoint`).
    /// A release or a refusal: without a savepoint, without re-reading what the sequencer holds.
    pub async fn run_sequenced<R: Send + 'static>(
        &self,
        savepoint: bool,
        f: impl FnOnce(&mut Tx<'_>) -> Result<R, Error> + Send + 'static,
    ) -> Result<R, Error> {
        self.run_as(JobKind::Sequenced { savepoint }, f).await
    }

    async fn run_as<R: Send + 'static>(
        &self,
        kind: JobKind,
        f: impl FnOnce(&mut Tx<'_>) -> Result<R, Error> + Send + 'static,
    ) -> Result<R, Error> {
        let (reply, rx) = oneshot::channel();
        let job = Job {
            kind,
            run: Box::new(move |tx| f(tx).map(|r| Box::new(r) as Output)),
            reply,
        };
        let queue = self.tx.clone();
        // The queue is bounded: waiting for room applies back-pressure; try without a thread first.
        match queue.try_send(job) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full(job)) => {
                actix_web::rt::task::spawn_blocking(move || queue.send(job))
                    .await
                    .map_err(|e| Error::Internal(e.to_string()))?
                    .map_err(|_| Error::Internal("the log committer has stopped".into()))?
            }
            Err(mpsc::TrySendError::Disconnected(_)) => {
                return Err(Error::Internal("the log committer has stopped".into()));
            }
        }
        let out = rx
            .await
            .map_err(|_| Error::Internal("the log committer dropped a job".into()))??;
        out.downcast::<R>()
            .map(|b| *b)
            .map_err(|_| Error::Internal("job result type".into()))
    }

    /// [`Committer::run`] for callers off the async reactor (the command line, start-up).
    pub fn run_blocking<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Tx<'_>) -> Result<R, Error> + Send + 'static,
    ) -> Result<R, Error> {
        let (reply, rx) = oneshot::channel();
        let job = Job {
            kind: JobKind::General,
            run: Box::new(move |tx| f(tx).map(|r| Box::new(r) as Output)),
            reply,
        };
        self.tx
            .send(job)
            .map_err(|_| Error::Internal("the log committer has stopped".into()))?;
        let out = rx
            .blocking_recv()
            .map_err(|_| Error::Internal("the log committer dropped a job".into()))??;
        out.downcast::<R>()
            .map(|b| *b)
            .map_err(|_| Error::Internal("job result type".into()))
    }
}

/// The committer's connection, replaced when it breaks.
struct Link {
    store: Store,
    conn: Option<DbConn>,
    health: Arc<Health>,
    backoff: Duration,
    /// No reconnection attempt before this.
    next_try: Instant,
    /// When the connection last answered.
    used: Instant,
    /// The largest log size this process has seen under the log lock: the log never shrinks.
    high_water: i64,
}

impl Link {
    /// The connection is unusable: drop it; the next attempt to reconnect is immediate.
    fn lost(&mut self, cause: &str) {
        self.conn = None;
        self.health.set(Some(cause.to_owned()));
        self.store.outage().began(cause);
        tracing::warn!(
            cause,
            "the log committer lost its database connection; reconnecting"
        );
        self.backoff = BACKOFF_MIN;
        self.next_try = Instant::now();
    }

    /// Makes a connection if there is none and the backoff allows; whether there is one.
    fn connect(&mut self) -> bool {
        if self.conn.is_some() {
            return true;
        }
        if Instant::now() < self.next_try {
            return false;
        }
        match self.store.dedicated_connection() {
            Ok(c) => {
                self.conn = Some(c);
                self.used = Instant::now();
                self.backoff = BACKOFF_MIN;
                self.health.set(None);
                self.store.outage().ended();
                tracing::info!("the log committer has a database connection again");
                true
            }
            Err(e) => {
                let cause = e.to_string();
                self.store.outage().began(&cause);
                self.health.set(Some(cause));
                self.next_try = Instant::now() + self.backoff;
                self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
                false
            }
        }
    }

    /// Checks that the connection still answers (and its transaction state is sound); drops it if
    /// not.
    fn check(&mut self) {
        let Some(c) = &mut self.conn else { return };
        let cause = if c.is_broken() {
            Some("the connection's transaction state is broken".to_owned())
        } else {
            c.ping().err().map(|e| e.to_string())
        };
        match cause {
            Some(cause) => self.lost(&cause),
            None => self.used = Instant::now(),
        }
    }
}

fn run(
    mut link: Link,
    rx: mpsc::Receiver<Job>,
    tag_key: [u8; 32],
    clock: std::sync::Arc<dyn Clock>,
    batch_max: usize,
) {
    let mut cache = SeqCache::default();
    loop {
        let wait = match link.conn {
            Some(_) => IDLE_CHECK,
            None => link
                .next_try
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1)),
        };
        let first = match rx.recv_timeout(wait) {
            Ok(j) => j,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // Idle: keep the connection checked, or keep trying to get one back, so that the
                // next job finds a working connection and readiness tells the truth.
                if link.conn.is_some() {
                    link.check();
                } else {
                    link.connect();
                }
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        let mut jobs = vec![first];
        while jobs.len() < batch_max {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        if link.conn.is_some() && link.used.elapsed() >= IDLE_CHECK {
            link.check();
        }
        if link.health.halted.load(Ordering::Acquire) {
            let cause = link.health.cause.lock().map(|c| c.clone()).ok().flatten();
            for job in jobs {
                let _ = job.reply.send(Err(Error::Storage(StorageError::Corrupt(
                    cause
                        .clone()
                        .unwrap_or_else(|| "the log committer has halted".into()),
                ))));
            }
            continue;
        }
        if !link.connect() {
            // No connection: fail at once (503 with Retry-After), never keep callers waiting.
            let cause = link
                .store
                .outage()
                .cause()
                .unwrap_or_else(|| "no connection".into());
            for job in jobs {
                let _ = job
                    .reply
                    .send(Err(Error::Storage(StorageError::Connection(format!(
                        "the log committer has no database connection: {cause}"
                    )))));
            }
            continue;
        }
        let Some(conn) = link.conn.as_mut() else {
            continue;
        };
        let (n, started) = (jobs.len(), Instant::now());
        let outcome = commit_batch(
            conn,
            jobs,
            &tag_key,
            clock.now(),
            &mut link.high_water,
            &mut cache,
        );
        if let Some(m) = link.health.metrics.get() {
            m.log_batch(n, started.elapsed(), outcome.is_err());
        }
        let failed = match outcome {
            Ok(()) => {
                let size = u64::try_from(link.high_water).unwrap_or(0);
                link.health.committed.fetch_max(size, Ordering::AcqRel);
                false
            }
            Err(Failure::Batch) => true,
            Err(Failure::Shrunk(msg)) => {
                tracing::error!(
                    "{msg}: the database lost acknowledged entries (failover to a replica that lacked \
                     them, or a restored backup); this process appends nothing more. Investigate, \
                     then restart it"
                );
                link.health.halt(msg);
                continue;
            }
        };
        if failed {
            // A batch that fails on a working connection (a full disk, a constraint) leaves it in
            // place; one that fails because the connection is gone or broken replaces it.
            link.check();
        } else {
            link.used = Instant::now();
        }
    }
}

/// Why a batch failed as a whole.
enum Failure {
    /// The database refused it (its jobs have been told).
    Batch,
    /// The log is shorter than this process has seen it (its jobs have been told).
    Shrunk(String),
}

/// Runs one group commit and answers its jobs.
fn commit_batch(
    conn: &mut DbConn,
    jobs: Vec<Job>,
    tag_key: &[u8; 32],
    now: OffsetDateTime,
    high_water: &mut i64,
    cache: &mut SeqCache,
) -> Result<(), Failure> {
    let mut shrunk = None;
    let mut results: Vec<Result<Output, Error>> = Vec::with_capacity(jobs.len());
    let (runs, replies): (Vec<(JobKind, JobFn)>, Vec<_>) =
        jobs.into_iter().map(|j| ((j.kind, j.run), j.reply)).unzip();
    let outcome = Store::write_txn(conn, |conn| -> Result<i64, Error> {
        let (old_size, mut state) = lock_state(conn)?;
        if old_size < *high_water {
            let msg = format!(
                "the access log in the database has {old_size} entries, but this process has already \
                 committed {high_water}"
            );
            shrunk = Some(msg.clone());
            return Err(Error::Storage(StorageError::Corrupt(msg)));
        }
        let mut counted = AccessDelta::default();
        let mut pending = Pending::default();
        cache.begin(u64::try_from(old_size).unwrap_or(0));
        for (kind, f) in runs {
            let snapshot = state.clone();
            let mut job_counts = AccessDelta::default();
            let mut job_rows = Pending::default();
            if kind == JobKind::General {
                // It may read the usage counts: the batch's so far are written first.
                cache.settle_uses(conn)?;
            }
            let run = |c: &mut DbConn| {
                let mut tx = Tx {
                    conn: c,
                    state: &mut state,
                    tag_key,
                    now: millis(now),
                    stats: &mut job_counts,
                    batch: &pending,
                    job: &mut job_rows,
                    cache: &mut *cache,
                };
                f(&mut tx)
            };
            let r = match kind {
                JobKind::General | JobKind::Sequenced { savepoint: true } => conn.transaction(run),
                JobKind::Sequenced { savepoint: false } => match run(conn) {
                    // Without a savepoint, a statement that failed may have ended the transaction
                    // (SQLite on a full disk) or poisoned it (PostgreSQL): the batch fails as a
                    // whole, and no job of it is acknowledged.
                    Err(Error::Storage(e)) => return Err(Error::Storage(e)),
                    other => other,
                },
            };
            if r.is_err() {
                state = snapshot;
                cache.job_failed();
            } else {
                counted.absorb(&mut job_counts);
                pending.absorb(job_rows);
                cache.job_done();
            }
            if kind == JobKind::General {
                cache.after_general(state.range.size());
            }
            results.push(r);
        }
        pending.flush(conn)?;
        counted.flush(conn)?;
        cache.write_uses(conn)?;
        let new_size = i64::try_from(state.range.size()).map_err(|_| Error::Internal("log full".into()))?;
        let updated = diesel::update(log_state::table.find(1i16).filter(log_state::size.eq(old_size)))
            .set((
                log_state::size.eq(new_size),
                log_state::frontier.eq(state.range.to_bytes()),
                log_state::last_time.eq(state.last_time),
            ))
            .execute(conn)?;
        if updated != 1 {
            return Err(Error::Internal(
                "the log moved under its lock (concurrent sequencer?)".into(),
            ));
        }
        Ok(new_size)
    });
    match outcome {
        Ok(new_size) => {
            *high_water = new_size;
            cache.committed(u64::try_from(new_size).unwrap_or(0));
            for (reply, r) in replies.into_iter().zip(results) {
                let _ = reply.send(r);
            }
            Ok(())
        }
        Err(e) => {
            cache.failed();
            // Nothing of the batch was committed (or, if the connection died during the commit, it
            // is not known to be): every job learns that it failed; none is acknowledged.
            let lost = matches!(&e, Error::Storage(s) if s.is_connection());
            if !lost {
                tracing::error!(error = %e, "group commit failed");
            }
            let msg = format!("group commit failed: {e}");
            for reply in replies {
                let err = if lost {
                    StorageError::Connection(msg.clone())
                } else {
                    StorageError::Task(msg.clone())
                };
                let _ = reply.send(Err(Error::Storage(err)));
            }
            Err(shrunk.map_or(Failure::Batch, Failure::Shrunk))
        }
    }
}

/// Reads and locks the log state.
fn lock_state(conn: &mut DbConn) -> Result<(i64, State), Error> {
    let row: (i64, Vec<u8>, i64) = match conn {
        DbConn::Pg(c) => log_state::table
            .find(1i16)
            .select((log_state::size, log_state::frontier, log_state::last_time))
            .for_update()
            .get_result(c)?,
        DbConn::Sqlite(_) => {
            // BEGIN IMMEDIATE already holds the database's write lock.
            log_state::table
                .find(1i16)
                .select((log_state::size, log_state::frontier, log_state::last_time))
                .get_result(conn)?
        }
    };
    let (size, frontier, last_time) = row;
    let range = if size == 0 {
        CompactRange::new()
    } else {
        CompactRange::from_bytes(&frontier)
            .map_err(|e| Error::Storage(StorageError::Corrupt(e.to_string())))?
    };
    if i64::try_from(range.size()).ok() != Some(size) {
        return Err(Error::Storage(StorageError::Corrupt(
            "log frontier does not match the log size".into(),
        )));
    }
    Ok((size, State { range, last_time }))
}

/// Reads complete-subtree hashes from `log_nodes`.
pub struct DbNodes<'a>(pub std::cell::RefCell<&'a mut DbConn>);

impl NodeSource for DbNodes<'_> {
    type Error = StorageError;
    fn node(&self, level: u8, index: u64) -> Result<Hash, StorageError> {
        let mut conn = self.0.borrow_mut();
        let idx = i64::try_from(index).map_err(|_| StorageError::Corrupt("node index".into()))?;
        let bytes: Vec<u8> = log_nodes::table
            .find((i16::from(level), idx))
            .select(log_nodes::hash)
            .get_result(&mut **conn)
            .map_err(|e| match e {
                diesel::result::Error::NotFound => {
                    StorageError::Corrupt(format!("missing tree node ({level}, {index})"))
                }
                other => StorageError::Query(other),
            })?;
        bytes
            .try_into()
            .map_err(|_| StorageError::Corrupt(format!("tree node ({level}, {index}) is not 32 bytes")))
    }
}

/// Records the nodes a proof algorithm reads, answering zeros. Which nodes an RFC 9162 inclusion or
/// consistency proof needs depends on the sizes only, never on the hashes, so one pass over this
/// finds them all and [`prefetched`] reads them in a single query instead of one per tree level.
#[derive(Debug, Default)]
pub struct WantedNodes(std::cell::RefCell<Vec<(u8, u64)>>);

impl NodeSource for WantedNodes {
    type Error = StorageError;
    fn node(&self, level: u8, index: u64) -> Result<Hash, StorageError> {
        self.0.borrow_mut().push((level, index));
        Ok([0; 32])
    }
}

/// Complete-subtree hashes read from `log_nodes` ahead of time (see [`WantedNodes`]).
#[derive(Debug, Default)]
pub struct PrefetchedNodes(std::collections::HashMap<(u8, u64), Hash>);

impl PrefetchedNodes {
    /// Reads `wanted` (duplicates allowed) in one query per 128 nodes; a node that is absent is
    /// reported when the algorithm asks for it.
    pub fn load(conn: &mut DbConn, mut wanted: Vec<(u8, u64)>) -> StorageResult<Self> {
        wanted.sort_unstable();
        wanted.dedup();
        let mut out = std::collections::HashMap::with_capacity(wanted.len());
        if let DbConn::Pg(pg) = conn {
            // One statement of fixed text whatever the count (prepared once, plan cached): a join
            // with the wanted pairs as two arrays, each pair an index lookup.
            #[derive(QueryableByName)]
            struct NodeRow {
                #[diesel(sql_type = diesel::sql_types::SmallInt)]
                level: i16,
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                idx: i64,
                #[diesel(sql_type = diesel::sql_types::Binary)]
                hash: Vec<u8>,
            }
            let levels: Vec<i16> = wanted.iter().map(|w| i16::from(w.0)).collect();
            let idxs = wanted
                .iter()
                .map(|w| i64::try_from(w.1).map_err(|_| StorageError::Corrupt("node index".into())))
                .collect::<StorageResult<Vec<i64>>>()?;
            let rows: Vec<NodeRow> = diesel::sql_query(
                "SELECT n.level, n.idx, n.hash FROM log_nodes n \
                 JOIN unnest($1::smallint[], $2::bigint[]) AS w(level, idx) \
                 ON n.level = w.level AND n.idx = w.idx",
            )
            .bind::<diesel::sql_types::Array<diesel::sql_types::SmallInt>, _>(levels)
            .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(idxs)
            .load(pg)?;
            for r in rows {
                out.insert(node_key(r.level, r.idx)?, node_hash(r.level, r.idx, r.hash)?);
            }
            return Ok(Self(out));
        }
        for chunk in wanted.chunks(128) {
            let mut q = log_nodes::table
                .select((log_nodes::level, log_nodes::idx, log_nodes::hash))
                .into_boxed();
            for &(level, index) in chunk {
                let idx = i64::try_from(index).map_err(|_| StorageError::Corrupt("node index".into()))?;
                q = q.or_filter(log_nodes::level.eq(i16::from(level)).and(log_nodes::idx.eq(idx)));
            }
            let rows: Vec<(i16, i64, Vec<u8>)> = q.load(conn)?;
            for (level, idx, hash) in rows {
                out.insert(node_key(level, idx)?, node_hash(level, idx, hash)?);
            }
        }
        Ok(Self(out))
    }
}

fn node_key(level: i16, idx: i64) -> StorageResult<(u8, u64)> {
    Ok((
        u8::try_from(level).map_err(|_| StorageError::Corrupt("node level".into()))?,
        u64::try_from(idx).map_err(|_| StorageError::Corrupt("node index".into()))?,
    ))
}

fn node_hash(level: i16, idx: i64, hash: Vec<u8>) -> StorageResult<Hash> {
    hash.try_into()
        .map_err(|_| StorageError::Corrupt(format!("tree node ({level}, {idx}) is not 32 bytes")))
}

impl NodeSource for PrefetchedNodes {
    type Error = StorageError;
    fn node(&self, level: u8, index: u64) -> Result<Hash, StorageError> {
        self.0
            .get(&(level, index))
            .copied()
            .ok_or_else(|| StorageError::Corrupt(format!("missing tree node ({level}, {index})")))
    }
}

/// Runs `algo` (a proof over a [`NodeSource`]) with every node it reads fetched in one query: the
/// first run over [`WantedNodes`] finds them, the second computes over [`PrefetchedNodes`].
pub fn prefetched<T>(
    conn: &mut DbConn,
    algo: impl Fn(&dyn NodeSource<Error = StorageError>) -> T,
) -> StorageResult<T> {
    let wanted = WantedNodes::default();
    let _ = algo(&wanted);
    let src = PrefetchedNodes::load(conn, wanted.0.into_inner())?;
    Ok(algo(&src))
}

/// The log's size and root now.
pub fn head(conn: &mut DbConn) -> StorageResult<(u64, Hash)> {
    let (size, frontier): (i64, Vec<u8>) = log_state::table
        .find(1i16)
        .select((log_state::size, log_state::frontier))
        .get_result(conn)?;
    let range = if size == 0 {
        CompactRange::new()
    } else {
        CompactRange::from_bytes(&frontier).map_err(|e| StorageError::Corrupt(e.to_string()))?
    };
    Ok((range.size(), range.root()))
}

/// The log's size (entries), as committed in the database (one row by its key).
pub fn size(conn: &mut DbConn) -> StorageResult<u64> {
    let size: i64 = log_state::table
        .find(1i16)
        .select(log_state::size)
        .get_result(conn)?;
    Ok(u64::try_from(size).unwrap_or(0))
}

/// Removes client-assertion ids that have expired.
pub fn purge_jti(conn: &mut DbConn, now: i64) -> StorageResult<usize> {
    Ok(diesel::delete(seen_jti::table.filter(seen_jti::expires_at.lt(now))).execute(conn)?)
}

/// SQLite only: truncates the WAL after a checkpoint, keeping the file small (no-op on PostgreSQL).
pub fn compact(conn: &mut DbConn) -> StorageResult<()> {
    if let DbConn::Sqlite(c) = conn {
        c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")?;
    }
    Ok(())
}

/// A single-use signed token whose id a transaction spends ([`Tx::consume_assertion`]): its id, the
/// key that signed it and until when its id must be remembered (ms since the epoch).
pub trait SingleUse {
    /// The token's id (`jti`).
    fn jti(&self) -> &str;
    /// The key (DID) that signed it.
    fn issuer(&self) -> &str;
    /// Until when the id is remembered, ms since the epoch.
    fn expires_ms(&self) -> i64;
}

impl<T: SingleUse + ?Sized> SingleUse for &T {
    fn jti(&self) -> &str {
        (**self).jti()
    }
    fn issuer(&self) -> &str {
        (**self).issuer()
    }
    fn expires_ms(&self) -> i64 {
        (**self).expires_ms()
    }
}
