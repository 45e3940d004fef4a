//! Tamper evidence of the access log on a real database (issue #4), with the real `consentry audit`
//! binary: a node logs a few dozen entries (participants, grants, releases, refusals, a revocation)
//! and checkpoints them; the checkpoint note is saved and the log verifies, as an exported evidence
//! bundle and live (`--node`). Then, each on a fresh copy of that state, the rows of the log tables are
//! changed the way a malicious operator would, the node is started on the tampered database, and
//! `consentry audit verify` must exit 1 and name the place:
//!
//! * (a) one byte of an entry's record; one byte of an entry's leaf;
//! * (b) an entry deleted; an entry deleted and the rest renumbered, re-chained and re-hashed;
//! * (c) two entries swapped; swapped and renumbered, re-chained and re-hashed;
//! * (d) the tail truncated and regrown with other entries (a consistent log with fresh checkpoints:
//!   only the checkpoint saved earlier, `--trusted-checkpoint`, catches it);
//! * (e) the database rolled back to an older backup (caught with the newer checkpoint saved earlier).
//!
//! On SQLite every case starts from a consistent copy of the database file (`VACUUM INTO`) in its own
//! data folder; on PostgreSQL the log tables are saved and restored in place and the node restarted.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use consentry::identity::KeyFile;
use consentry::log::entry::{EntryKind, Leaf, NO_PREVIOUS};
use consentry::log::merkle::{self, CompactRange};
use consentry::log::note::Signer;
use consentry::storage::schema::{checkpoints, log_heads, log_leaves, log_nodes, log_records, log_state};
use consentry::storage::{DbConn, Store};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::common::server::{Backend, TestNode, get_public};
use crate::service::{BANK, ENTERPRISE, World};

/// Entries cut off the tail in case (d); it regrows with this many plus [`REGROW_EXTRA`].
const TAIL: u64 = 5;
const REGROW_EXTRA: u64 = 3;

// ---------------------------------------------------------------------------------------------
// The log tables, row by row
// ---------------------------------------------------------------------------------------------

/// A row of `log_leaves`, every column in table order.
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
/// A row of `log_records`: seq, salt, record.
type RecordRow = (i64, Option<Vec<u8>>, Option<String>);

/// An entry: its leaf row and its record row.
#[derive(Clone)]
struct Entry {
    leaf: LeafRow,
    record: Option<RecordRow>,
}

impl Entry {
    /// This entry's rows under another `seq` (the leaf bytes unchanged).
    fn at(&self, seq: i64) -> Entry {
        let mut e = self.clone();
        e.leaf.0 = seq;
        if let Some(r) = &mut e.record {
            r.0 = seq;
        }
        e
    }

    fn parsed(&self) -> Leaf {
        Leaf::from_bytes(&self.leaf.1).unwrap()
    }
}

/// Every row of every log table (PostgreSQL snapshots).
#[derive(Clone)]
struct LogTables {
    state: (i64, Vec<u8>, i64),
    entries: Vec<Entry>,
    nodes: Vec<(i16, i64, Vec<u8>)>,
    heads: Vec<(Vec<u8>, i64)>,
    checkpoints: Vec<(i64, String, i64)>,
}

fn connect(database_url: &str) -> DbConn {
    Store::open(database_url, 2)
        .unwrap()
        .dedicated_connection()
        .unwrap()
}

/// Runs `f` on the database in one transaction.
fn in_transaction(database_url: &str, f: impl FnOnce(&mut DbConn)) {
    let mut c = connect(database_url);
    c.transaction::<_, diesel::result::Error, _>(|c| {
        f(c);
        Ok(())
    })
    .unwrap();
}

fn load_entries(c: &mut DbConn) -> Vec<Entry> {
    let leaves: Vec<LeafRow> = log_leaves::table.order(log_leaves::seq.asc()).load(c).unwrap();
    let mut records: HashMap<i64, RecordRow> = log_records::table
        .load::<RecordRow>(c)
        .unwrap()
        .into_iter()
        .map(|r| (r.0, r))
        .collect();
    leaves
        .into_iter()
        .map(|leaf| {
            let record = records.remove(&leaf.0);
            Entry { leaf, record }
        })
        .collect()
}

/// Replaces every row of `log_leaves` and `log_records` with `entries` (the tree, the head and the
/// chain heads are left as they are).
fn write_entries(c: &mut DbConn, entries: &[Entry]) {
    diesel::delete(log_leaves::table).execute(c).unwrap();
    diesel::delete(log_records::table).execute(c).unwrap();
    for Entry { leaf: l, record } in entries {
        diesel::insert_into(log_leaves::table)
            .values((
                log_leaves::seq.eq(l.0),
                log_leaves::leaf.eq(&l.1),
                log_leaves::kind.eq(l.2),
                log_leaves::time.eq(l.3),
                log_leaves::enterprise_uscc.eq(&l.4),
                log_leaves::grant_id.eq(&l.5),
                log_leaves::caller_uscc.eq(&l.6),
                log_leaves::platform_uscc.eq(&l.7),
                log_leaves::bank_uscc.eq(&l.8),
                log_leaves::categories.eq(&l.9),
                log_leaves::decision.eq(&l.10),
            ))
            .execute(c)
            .unwrap();
        if let Some((seq, salt, text)) = record {
            diesel::insert_into(log_records::table)
                .values((
                    log_records::seq.eq(seq),
                    log_records::salt.eq(salt),
                    log_records::record.eq(text),
                ))
                .execute(c)
                .unwrap();
        }
    }
}

fn save_tables(c: &mut DbConn) -> LogTables {
    LogTables {
        state: log_state::table
            .find(1i16)
            .select((log_state::size, log_state::frontier, log_state::last_time))
            .first(c)
            .unwrap(),
        entries: load_entries(c),
        nodes: log_nodes::table.load(c).unwrap(),
        heads: log_heads::table.load(c).unwrap(),
        checkpoints: checkpoints::table.load(c).unwrap(),
    }
}

fn restore_tables(c: &mut DbConn, t: &LogTables) {
    write_entries(c, &t.entries);
    write_nodes(c, t.nodes.iter().cloned());
    diesel::delete(log_heads::table).execute(c).unwrap();
    for (chain, seq) in &t.heads {
        diesel::insert_into(log_heads::table)
            .values((log_heads::chain.eq(chain), log_heads::seq.eq(seq)))
            .execute(c)
            .unwrap();
    }
    diesel::delete(checkpoints::table).execute(c).unwrap();
    for (size, note, at) in &t.checkpoints {
        diesel::insert_into(checkpoints::table)
            .values((
                checkpoints::size.eq(size),
                checkpoints::note.eq(note),
                checkpoints::created_at.eq(at),
            ))
            .execute(c)
            .unwrap();
    }
    set_head(c, &t.state);
}

fn write_nodes(c: &mut DbConn, nodes: impl Iterator<Item = (i16, i64, Vec<u8>)>) {
    diesel::delete(log_nodes::table).execute(c).unwrap();
    for (level, idx, hash) in nodes {
        diesel::insert_into(log_nodes::table)
            .values((
                log_nodes::level.eq(level),
                log_nodes::idx.eq(idx),
                log_nodes::hash.eq(hash),
            ))
            .execute(c)
            .unwrap();
    }
}

fn set_head(c: &mut DbConn, (size, frontier, last_time): &(i64, Vec<u8>, i64)) {
    diesel::update(log_state::table.find(1i16))
        .set((
            log_state::size.eq(size),
            log_state::frontier.eq(frontier),
            log_state::last_time.eq(last_time),
        ))
        .execute(c)
        .unwrap();
}

/// The previous entry on a chain (grant digest or subject tag), updating the chain's head.
fn chain(heads: &mut HashMap<[u8; 32], u64>, key: [u8; 32], seq: u64) -> u64 {
    if key == [0; 32] {
        return NO_PREVIOUS;
    }
    heads.insert(key, seq).unwrap_or(NO_PREVIOUS)
}

/// What an operator covering their tracks does after editing the entries: renumber every leaf (the
/// `seq` column and the `seq` inside the leaf), recompute the grant and subject chains, rebuild the
/// Merkle tree's stored nodes, the log head and the chain heads, so that the log is consistent in
/// itself and the node keeps appending to it. Signed checkpoints are left as they are.
fn rewrite(c: &mut DbConn, edit: impl FnOnce(&mut Vec<Entry>)) {
    let mut entries = load_entries(c);
    edit(&mut entries);
    let (mut grants, mut subjects) = (HashMap::new(), HashMap::new());
    let mut range = CompactRange::new();
    let mut nodes = Vec::new();
    let mut last_time = 0;
    for (i, e) in entries.iter_mut().enumerate() {
        let seq = i as u64;
        let mut leaf = e.parsed();
        leaf.seq = seq;
        leaf.prev_same_grant = chain(&mut grants, leaf.grant_digest, seq);
        leaf.prev_same_subject = chain(&mut subjects, leaf.subject_tag, seq);
        let bytes = leaf.to_bytes();
        for (level, idx, hash) in range.append(&merkle::leaf_hash(&bytes)).unwrap() {
            nodes.push((i16::from(level), idx as i64, hash.to_vec()));
        }
        *e = e.at(seq as i64);
        e.leaf.1 = bytes.to_vec();
        last_time = last_time.max(e.leaf.3);
    }
    write_entries(c, &entries);
    write_nodes(c, nodes.into_iter());
    diesel::delete(log_heads::table).execute(c).unwrap();
    for (tag, heads) in [(b'g', grants), (b's', subjects)] {
        for (key, seq) in heads {
            let mut chain_key = vec![tag];
            chain_key.extend_from_slice(&key);
            diesel::insert_into(log_heads::table)
                .values((log_heads::chain.eq(chain_key), log_heads::seq.eq(seq as i64)))
                .execute(c)
                .unwrap();
        }
    }
    set_head(c, &(range.size() as i64, range.to_bytes(), last_time));
}

// ---------------------------------------------------------------------------------------------
// The binary
// ---------------------------------------------------------------------------------------------

/// A run of `consentry`.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The `invalid: <check>: <message>` lines, in the verifier's (log) order.
    fn failures(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("invalid: "))
            .collect()
    }

    fn first_failure(&self) -> &str {
        self.failures()
            .first()
            .copied()
            .unwrap_or_else(|| panic!("no failure reported: {self:?}"))
    }

    fn has(&self, line: &str) -> bool {
        self.failures().contains(&line)
    }
}

fn consentry(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// One audit of the node's current state: the bundle exported with `consentry audit export`, the
/// live node with the regulator's key (records through the bundle), the live node without a key
/// (leaves only).
struct Audit {
    bundle: Run,
    live: Run,
    leaves: Run,
}

// ---------------------------------------------------------------------------------------------
// The verifier's messages (src/log/audit.rs), as the command line prints them
// ---------------------------------------------------------------------------------------------

fn record_changed(k: u64) -> String {
    format!(
        "invalid: record: entry {k}: the record and its salt do not open the leaf's commitment (the record or \
         the leaf was changed)"
    )
}

fn missing(k: u64) -> String {
    format!(
        "invalid: sequence: entry {k} is missing: entry {} is followed by entry {}",
        k - 1,
        k + 1
    )
}

fn moved(position: u64, seq: u64) -> String {
    format!(
        "invalid: sequence: entry {position}: the leaf at this position carries seq {seq}: entries were moved, \
         swapped, deleted or renumbered"
    )
}

fn rollback(entries: u64, trusted: u64) -> String {
    format!(
        "invalid: rollback: the log holds {entries} entries, but the trusted checkpoint saved earlier has \
         {trusted}: the node serves an older state of its log (restored from a backup, or truncated); entries \
         {entries}..{trusted} are gone"
    )
}

/// Whether `line` is the root failure of checkpoint `c`, the change narrowed down to `g..c`.
fn is_root_mismatch(line: &str, g: u64, c: u64) -> bool {
    let matched = if g > 0 {
        format!(" (the checkpoint of size {g} matched)")
    } else {
        String::new()
    };
    line.starts_with(&format!(
        "invalid: root: checkpoint {c} does not match the entries: their root is "
    )) && line.ends_with(&format!("; the change lies in entries {g}..{c}{matched}"))
}

/// Whether `line` is the fork against the trusted checkpoint of size `n`.
fn is_trusted_fork(line: &str, n: u64) -> bool {
    line.starts_with(&format!(
        "invalid: fork: the first {n} entries do not lead to the trusted checkpoint (size {n}): their root is "
    )) && line.ends_with(&format!(
        "— the log was rewritten at or before entry {}, e.g. its tail truncated and regrown with other entries",
        n - 1
    ))
}

// ---------------------------------------------------------------------------------------------
// The node and its log
// ---------------------------------------------------------------------------------------------

fn public_release() -> Value {
    json!({"enterprise": ENTERPRISE, "categories": ["REG-01"], "granularity": "raw", "purpose": "credit-approval"})
}

fn tax_release(grant: &str) -> Value {
    json!({"enterprise": ENTERPRISE, "grant": grant, "categories": ["TAX-03"], "granularity": "derived", "purpose": "credit-approval", "onBehalfOf": BANK})
}

fn log_size(node: &TestNode) -> u64 {
    get_public(&format!("{}/v1/node", node.url)).body["logSize"]
        .as_u64()
        .unwrap()
}

/// Waits until the newest checkpoint covers the whole log; returns its size and note.
fn wait_for_checkpoint(node: &TestNode) -> (u64, String) {
    let size = log_size(node);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = get_public(&format!("{}/v1/log/checkpoint", node.url));
        if r.status == 200 {
            let signed: u64 = r.text.lines().nth(1).unwrap().parse().unwrap();
            assert!(signed <= size, "checkpoint {signed} beyond the log of {size}");
            if signed == size {
                return (size, r.text);
            }
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint of size {size} within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn checkpoint_sizes(node: &TestNode) -> Vec<u64> {
    let r = get_public(&format!("{}/v1/log/checkpoints?limit=1000", node.url));
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["size"].as_u64().unwrap())
        .collect()
}

/// Which saved state a case starts from.
#[derive(Debug, Clone, Copy)]
enum Start {
    /// The whole log, checkpointed (its note saved as the trusted checkpoint).
    Good,
    /// An older state (a backup), checkpointed.
    Mid,
}

enum Saved {
    /// SQLite: `good.sqlite3` and `mid.sqlite3` (and the node key) in the fixture's folder.
    Files,
    /// PostgreSQL: the log tables.
    Tables {
        good: Box<LogTables>,
        mid: Box<LogTables>,
    },
}

struct Fixture {
    /// The node serving the current case.
    node: Option<TestNode>,
    saved: Saved,
    /// Keys, checkpoint notes, database copies, bundles.
    files: tempfile::TempDir,
    regulator_key: PathBuf,
    platform: KeyFile,
    /// The log's note verifier key.
    vkey: String,
    /// The good log: its size, its entries, its checkpoint sizes, its note saved in `good_note`.
    n: u64,
    entries: Vec<Entry>,
    checkpoints: Vec<u64>,
    good_note: PathBuf,
    /// The size of the older state.
    m: u64,
    bundles: u32,
}

/// Saves the node's state as `name` (SQLite: a consistent copy of the database file).
fn snapshot(node: &TestNode, files: &Path, name: &str) -> Option<LogTables> {
    let mut c = connect(&node.database_url);
    if let DbConn::Sqlite(s) = &mut c {
        let path = files.join(format!("{name}.sqlite3"));
        s.batch_execute(&format!("VACUUM INTO '{}'", path.display()))
            .unwrap();
        return None;
    }
    Some(save_tables(&mut c))
}

impl Fixture {
    /// A node with a few dozen entries of every sort, checkpointed, saved twice (half-way and at the
    /// end).
    fn build(backend: Backend) -> Self {
        let w = World::new(backend);
        let files = tempfile::tempdir().unwrap();
        let regulator_key = files.path().join("regulator.key.json");
        w.regulator.write_new(&regulator_key).unwrap();
        std::fs::copy(
            w.node.dir.path().join("node.key.json"),
            files.path().join("node.key.json"),
        )
        .unwrap();
        let vkey = Signer::new(w.node.node.origin.clone(), w.node.node_key.secret.clone())
            .unwrap()
            .verifier_key()
            .to_vkey();
        let ok = |body: Value| {
            let r = w.release(body);
            assert_eq!(r.status, 200, "{}", r.text);
        };
        let refused = |body: Value, reason: &str| {
            let r = w.release(body);
            assert_eq!(r.status, 403, "{}", r.text);
            assert!(r.reasons().contains(&reason.to_owned()), "{:?}", r.reasons());
        };
        let unknown_grant = || tax_release(consentry::ids::GrantId::random().as_str());

        let g1 = w.grant();
        let g2 = w.grant();
        // The grant allows 4 releases a month: the fifth is refused.
        for _ in 0..4 {
            ok(tax_release(&g1));
        }
        refused(tax_release(&g1), "rate-exceeded");
        ok(
            json!({"enterprise": ENTERPRISE, "grant": g2, "categories": ["TAX-03"], "granularity": "raw", "purpose": "credit-approval"}),
        );
        for _ in 0..3 {
            ok(public_release());
        }
        refused(unknown_grant(), "unknown-grant");
        let (m, _) = wait_for_checkpoint(&w.node);
        let mid = snapshot(&w.node, files.path(), "mid");

        for _ in 0..2 {
            ok(tax_release(&g2));
        }
        let mut b = tax_release(&g2);
        b["purpose"] = json!("post-loan-management");
        refused(b, "purpose-not-granted");
        let mut b = tax_release(&g2);
        b["granularity"] = json!("raw");
        refused(b, "bank-raw-non-public");
        let r = w.change(&w.enterprise, "revoke", &g1);
        assert_eq!(r.status, 200, "{}", r.text);
        refused(tax_release(&g1), "grant-revoked");
        for _ in 0..6 {
            ok(public_release());
        }
        refused(unknown_grant(), "unknown-grant");
        refused(unknown_grant(), "unknown-grant");
        ok(tax_release(&g2));
        let (n, note) = wait_for_checkpoint(&w.node);
        assert!(n >= 30 && m >= 10 && m + 10 <= n, "a few dozen entries: {m}, {n}");
        let good_note = files.path().join("good.checkpoint");
        std::fs::write(&good_note, &note).unwrap();
        let checkpoints = checkpoint_sizes(&w.node);
        assert!(
            checkpoints.contains(&m) && checkpoints.last() == Some(&n),
            "{checkpoints:?}"
        );
        let good = snapshot(&w.node, files.path(), "good");
        let entries = load_entries(&mut connect(&w.node.database_url));
        assert_eq!(entries.len() as u64, n);
        let platform = w.platform.clone();
        let (node, saved) = match (good, mid) {
            (Some(good), Some(mid)) => (
                Some(w.node),
                Saved::Tables {
                    good: Box::new(good),
                    mid: Box::new(mid),
                },
            ),
            _ => (None, Saved::Files),
        };
        Self {
            node,
            saved,
            files,
            regulator_key,
            platform,
            vkey,
            n,
            entries,
            checkpoints,
            good_note,
            m,
            bundles: 0,
        }
    }

    fn node(&self) -> &TestNode {
        self.node.as_ref().unwrap()
    }

    /// Sets up a fresh copy of a saved state, changed by `tamper` (in one transaction), with the node
    /// (re)started on it.
    fn fresh(&mut self, from: Start, tamper: impl FnOnce(&mut DbConn)) {
        match &self.saved {
            Saved::Files => {
                self.node = None;
                let dir = tempfile::tempdir().unwrap();
                std::fs::copy(
                    self.files.path().join("node.key.json"),
                    dir.path().join("node.key.json"),
                )
                .unwrap();
                let name = match from {
                    Start::Good => "good.sqlite3",
                    Start::Mid => "mid.sqlite3",
                };
                let db = dir.path().join("node.sqlite3");
                std::fs::copy(self.files.path().join(name), &db).unwrap();
                let url = format!("sqlite://{}", db.display());
                in_transaction(&url, tamper);
                self.node = Some(TestNode::start_with(dir, url, None));
            }
            Saved::Tables { good, mid } => {
                let tables = match from {
                    Start::Good => good,
                    Start::Mid => mid,
                };
                let node = self.node.take().unwrap();
                in_transaction(&node.database_url, |c| {
                    restore_tables(c, tables);
                    tamper(c);
                });
                // The operator who tampers also removes the data folder's record of the newest
                // published checkpoint (the node would refuse a rolled-back log otherwise:
                // tests/integration/backup.rs); what is left to catch it is the auditor.
                let _ = std::fs::remove_file(node.dir.path().join("published-checkpoint"));
                self.node = Some(node.restart());
            }
        }
    }

    /// Exports the node's evidence bundle and verifies it, and the live node with and without the
    /// regulator's key; the bundle and the live node with the key must agree.
    fn audit(&mut self, label: &str, trusted: Option<&Path>) -> Audit {
        let url = self.node().url.clone();
        self.bundles += 1;
        let bundle = self.files.path().join(format!("bundle-{}.jsonl", self.bundles));
        let (bundle, key) = (bundle.to_str().unwrap(), self.regulator_key.to_str().unwrap());
        let export = consentry(&["audit", "export", "--node", &url, "--key", key, "--out", bundle]);
        assert_eq!(export.code, Some(0), "{label}: export: {export:?}");
        assert!(export.stdout.starts_with("exported entries 0.."), "{export:?}");
        let mut common = vec!["--log-key", self.vkey.as_str()];
        if let Some(t) = trusted {
            common.extend(["--trusted-checkpoint", t.to_str().unwrap()]);
        }
        let verify = |target: &[&str]| {
            let mut args = vec!["audit", "verify"];
            args.extend_from_slice(target);
            args.extend_from_slice(&common);
            consentry(&args)
        };
        let audit = Audit {
            bundle: verify(&[bundle]),
            live: verify(&["--node", &url, "--key", key]),
            leaves: verify(&["--node", &url]),
        };
        eprintln!(
            "--- {label}\nbundle: exit {:?}\n{}{}live, leaves only: exit {:?}\n{}",
            audit.bundle.code,
            audit.bundle.stdout,
            audit.bundle.stderr,
            audit.leaves.code,
            audit.leaves.stderr
        );
        assert_eq!(
            (audit.live.code, &audit.live.stderr),
            (audit.bundle.code, &audit.bundle.stderr),
            "{label}: the live node with --key must give the bundle's verdict"
        );
        audit
    }

    /// The smallest checkpoint of the good log above `k` (the first a change at entry `k` breaks) and
    /// the largest at or below it (the last that still matches; 0 if none).
    fn around(&self, k: u64) -> (u64, u64) {
        let below = self
            .checkpoints
            .iter()
            .copied()
            .filter(|&s| s <= k)
            .max()
            .unwrap_or(0);
        let above = self.checkpoints.iter().copied().filter(|&s| s > k).min().unwrap();
        (below, above)
    }

    /// Indices of the release entries that were allowed.
    fn releases(&self) -> Vec<u64> {
        (0..self.n)
            .filter(|&i| {
                let e = &self.entries[i as usize];
                e.parsed().kind == EntryKind::Release && e.leaf.10.as_deref() == Some("allowed")
            })
            .collect()
    }

    fn time(&self, i: u64) -> u64 {
        self.entries[i as usize].parsed().time_ms
    }
}

// ---------------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------------

fn tamper_cases(f: &mut Fixture) {
    let (n, m) = (f.n, f.m);
    let good_note = f.good_note.clone();
    let releases = f.releases();
    let early: Vec<u64> = releases.iter().copied().filter(|&i| i > 0 && i < m).collect();
    let late: Vec<u64> = releases.iter().copied().filter(|&i| i > m && i < n - 1).collect();
    assert!(early.len() >= 3 && late.len() >= 3, "{releases:?} ({m}, {n})");

    // The good log verifies every way, and extends the checkpoint saved from it.
    f.fresh(Start::Good, |_| {});
    let a = f.audit("good log", None);
    for run in [&a.bundle, &a.leaves] {
        assert_eq!(run.code, Some(0), "{run:?}");
        assert!(run.failures().is_empty(), "{run:?}");
        assert!(run.stdout.contains(&format!("entries: {n} (root ")), "{run:?}");
    }
    assert!(
        a.bundle
            .stdout
            .contains(&format!("records: {n} opened, 0 erased\n")),
        "{:?}",
        a.bundle
    );
    assert!(
        a.leaves
            .stdout
            .contains(&format!("{n} not supplied (leaves only)")),
        "{:?}",
        a.leaves
    );
    let a = f.audit("good log, trusted checkpoint", Some(&good_note));
    for run in [&a.bundle, &a.leaves] {
        assert_eq!(run.code, Some(0), "{run:?}");
        assert!(
            run.stdout
                .contains(&format!("trusted checkpoint: size {n}, extended by this log")),
            "{run:?}"
        );
    }

    // (a) One byte of a record: the record no longer opens its leaf's commitment — and nothing else
    // is wrong (leaves, tree and checkpoints are intact).
    let k = early[1];
    f.fresh(Start::Good, |c| {
        let text: Option<String> = log_records::table
            .find(k as i64)
            .select(log_records::record)
            .first(c)
            .unwrap();
        let mut bytes = text.unwrap().into_bytes();
        let at = String::from_utf8_lossy(&bytes)
            .find(r#""decision":"allowed""#)
            .unwrap()
            + r#""decision":""#.len();
        bytes[at] = b'A';
        diesel::update(log_records::table.find(k as i64))
            .set(log_records::record.eq(String::from_utf8(bytes).unwrap()))
            .execute(c)
            .unwrap();
    });
    let a = f.audit(&format!("(a) one byte of the record of entry {k}"), None);
    assert_eq!(a.bundle.code, Some(1));
    assert_eq!(a.bundle.failures(), vec![record_changed(k)], "{:?}", a.bundle);

    // (a) One byte of a leaf (its record commitment): the record does not open it, and the first
    // checkpoint after it no longer matches the entries.
    let k = late[0];
    f.fresh(Start::Good, |c| {
        let mut leaf: Vec<u8> = log_leaves::table
            .find(k as i64)
            .select(log_leaves::leaf)
            .first(c)
            .unwrap();
        *leaf.last_mut().unwrap() ^= 0x01;
        diesel::update(log_leaves::table.find(k as i64))
            .set(log_leaves::leaf.eq(leaf))
            .execute(c)
            .unwrap();
    });
    let a = f.audit(&format!("(a) one byte of the leaf of entry {k}"), None);
    let (g, c) = f.around(k);
    assert_eq!(a.bundle.code, Some(1));
    // Later checkpoints (if the cadence signed any between `c` and the end) cannot match either: they
    // are only counted ("invalid: more: …").
    let failures = a.bundle.failures();
    assert_eq!(failures[0], record_changed(k), "{:?}", a.bundle);
    assert!(is_root_mismatch(failures[1], g, c), "{:?}", a.bundle);
    assert!(
        failures[2..].iter().all(|l| l.starts_with("invalid: more: ")),
        "{:?}",
        a.bundle
    );
    assert_eq!(a.leaves.code, Some(1));
    let failures = a.leaves.failures();
    assert!(is_root_mismatch(failures[0], g, c), "{:?}", a.leaves);
    assert!(
        failures[1..].iter().all(|l| l.starts_with("invalid: more: ")),
        "{:?}",
        a.leaves
    );

    // (b) An entry deleted: the entry after it takes its place.
    let k = (m + n) / 2;
    f.fresh(Start::Good, |c| {
        diesel::delete(log_leaves::table.find(k as i64))
            .execute(c)
            .unwrap();
        diesel::delete(log_records::table.find(k as i64))
            .execute(c)
            .unwrap();
    });
    let a = f.audit(&format!("(b) entry {k} deleted"), None);
    assert_eq!(a.bundle.code, Some(1));
    assert_eq!(a.bundle.first_failure(), missing(k), "{:?}", a.bundle);
    // The export is by position: the bundle is one entry short (never padded or duplicated), so the
    // checkpoints past the gap cannot be reached.
    let total = f.n;
    assert!(
        a.bundle.failures().iter().any(|l| *l
            == format!(
                "invalid: bundle: the header announces entries 0..{total}, the bundle holds {} entries",
                total - 1
            )),
        "{:?}",
        a.bundle
    );
    assert!(
        a.bundle
            .failures()
            .iter()
            .any(|l| l.starts_with(&format!("invalid: root: checkpoint {total} "))),
        "{:?}",
        a.bundle
    );
    assert_eq!(a.leaves.code, Some(1));
    assert_eq!(a.leaves.first_failure(), moved(k, k + 1), "{:?}", a.leaves);

    // (b) An entry deleted and the log rebuilt without it: renumbered, re-chained, re-hashed, the head
    // moved back. Only the signed checkpoints remember it.
    let k = early[0];
    f.fresh(Start::Good, |c| {
        rewrite(c, |e| {
            e.remove(k as usize);
        });
    });
    let a = f.audit(
        &format!("(b) entry {k} deleted, the log renumbered and rehashed"),
        None,
    );
    let (g, c) = f.around(k);
    assert!(c < n);
    assert_eq!(a.bundle.code, Some(1));
    assert!(is_root_mismatch(a.bundle.first_failure(), g, c), "{:?}", a.bundle);
    assert!(
        !a.bundle.stderr.contains("invalid: sequence:") && !a.bundle.stderr.contains("chain:"),
        "the rewrite is consistent in itself: {:?}",
        a.bundle
    );
    assert_eq!(a.leaves.code, Some(1), "{:?}", a.leaves);
    assert!(is_root_mismatch(a.leaves.first_failure(), g, c), "{:?}", a.leaves);
    let a = f.audit(
        &format!("(b) entry {k} deleted, the log renumbered and rehashed, trusted checkpoint"),
        Some(&good_note),
    );
    assert!(a.bundle.has(&rollback(n - 1, n)), "{:?}", a.bundle);

    // (c) Two entries swapped, rows and all.
    let (j, k) = (early[2], late[1]);
    f.fresh(Start::Good, |c| {
        let mut entries = load_entries(c);
        let (ej, ek) = (entries[j as usize].clone(), entries[k as usize].clone());
        entries[j as usize] = ek.at(j as i64);
        entries[k as usize] = ej.at(k as i64);
        write_entries(c, &entries);
    });
    let a = f.audit(&format!("(c) entries {j} and {k} swapped"), None);
    assert_eq!(a.bundle.code, Some(1));
    assert_eq!(a.bundle.first_failure(), moved(j, k), "{:?}", a.bundle);
    assert!(a.bundle.has(&moved(k, j)), "{:?}", a.bundle);
    assert_eq!(a.leaves.code, Some(1));
    assert_eq!(a.leaves.first_failure(), moved(j, k), "{:?}", a.leaves);

    // (c) Two entries swapped and the log rebuilt: sequence numbers and chains are consistent, but
    // time runs backwards and the checkpoints do not match.
    let j = early[0];
    let k = (j + 2..n).find(|&k| f.time(k) > f.time(j)).unwrap();
    f.fresh(Start::Good, |c| rewrite(c, |e| e.swap(j as usize, k as usize)));
    let a = f.audit(
        &format!("(c) entries {j} and {k} swapped, the log renumbered and rehashed"),
        None,
    );
    let mut times: Vec<u64> = (0..n).map(|i| f.time(i)).collect();
    times.swap(j as usize, k as usize);
    let (p, latest) = (1..n as usize)
        .find_map(|p| {
            let latest = *times[..p].iter().max().unwrap();
            (times[p] < latest).then_some((p, latest))
        })
        .unwrap();
    let backwards = format!(
        "invalid: time: entry {p}: its time {} ms is before entry {}'s time {latest} ms (time never decreases)",
        times[p],
        p - 1
    );
    let (g, c) = f.around(j);
    assert_eq!(a.bundle.code, Some(1));
    assert!(a.bundle.has(&backwards), "{backwards}\n{:?}", a.bundle);
    assert!(
        a.bundle.failures().iter().any(|l| is_root_mismatch(l, g, c)),
        "{:?}",
        a.bundle
    );
    assert!(!a.bundle.stderr.contains("invalid: sequence:"), "{:?}", a.bundle);
    assert_eq!(a.leaves.code, Some(1));
    assert!(a.leaves.has(&backwards), "{:?}", a.leaves);

    // (d) The tail truncated and regrown with other entries, the newer checkpoints deleted and new
    // ones signed: a consistent log, which only the checkpoint saved earlier exposes.
    let keep = n - TAIL;
    f.fresh(Start::Good, |c| {
        rewrite(c, |e| e.truncate(keep as usize));
        diesel::delete(checkpoints::table.filter(checkpoints::size.gt(keep as i64)))
            .execute(c)
            .unwrap();
    });
    assert_eq!(log_size(f.node()), keep);
    let platform = f.node().client(&f.platform);
    for _ in 0..TAIL + REGROW_EXTRA {
        let r = platform.post("/v1/releases", &public_release());
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let (regrown, _) = wait_for_checkpoint(f.node());
    assert_eq!(regrown, n + REGROW_EXTRA);
    let a = f.audit(
        &format!("(d) entries {keep}..{n} truncated, regrown to {regrown}"),
        None,
    );
    for run in [&a.bundle, &a.leaves] {
        assert_eq!(
            run.code,
            Some(0),
            "the regrown log is consistent in itself: {run:?}"
        );
    }
    let a = f.audit(
        &format!("(d) entries {keep}..{n} truncated, regrown to {regrown}, trusted checkpoint {n}"),
        Some(&good_note),
    );
    for run in [&a.bundle, &a.leaves] {
        assert_eq!(run.code, Some(1), "{run:?}");
        assert!(run.failures().iter().any(|l| is_trusted_fork(l, n)), "{run:?}");
    }

    // (e) Rolled back to an older backup: a valid log, but shorter than the checkpoint saved earlier.
    f.fresh(Start::Mid, |_| {});
    assert_eq!(log_size(f.node()), m);
    let a = f.audit(&format!("(e) rolled back to {m} entries"), None);
    for run in [&a.bundle, &a.leaves] {
        assert_eq!(run.code, Some(0), "an older state is a valid log: {run:?}");
        assert!(run.stdout.contains(&format!("entries: {m} (root ")), "{run:?}");
    }
    let a = f.audit(
        &format!("(e) rolled back to {m} entries, trusted checkpoint {n}"),
        Some(&good_note),
    );
    for run in [&a.bundle, &a.leaves] {
        assert_eq!(run.code, Some(1), "{run:?}");
        assert_eq!(run.failures(), vec![rollback(m, n)], "{run:?}");
    }
}

#[test]
fn tampering_is_detected_on_sqlite() {
    let mut f = Fixture::build(Backend::Sqlite);
    tamper_cases(&mut f);
}

#[test]
fn tampering_is_detected_on_postgres() {
    let mut f = Fixture::build(Backend::Postgres);
    tamper_cases(&mut f);
}
