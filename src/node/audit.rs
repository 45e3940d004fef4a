//! Reading the access log: checkpoints, leaves, proofs, receipts, access chains by enterprise, grant,
//! platform, bank, category and time, and evidence bundles (spec/access-log.md §5–§7).
//!
//! Proofs come from the stored complete-subtree hashes (O(log n) reads); sizes come from signed
//! checkpoints. Who sees which *records*: the node and regulators all, an enterprise its own, a
//! platform or bank the entries naming it. Leaves, checkpoints and proofs are public: they reveal no
//! business data (enterprises appear only as keyed tags).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};

use super::answers::Page;
use super::answers::log::{Checkpoint, CheckpointList, ConsistencyProof, InclusionProof};
use super::answers::log::{LogEntry, LogEntryPage};
use super::{Caller, Node};
use crate::credential::datetime::{format_utc_seconds, parse_datetime_stamp};
use crate::error::{Error, Result};
use crate::log::entry::{EntryKind, Leaf};
use crate::log::merkle::{self, CompactRange};
use crate::log::note::Note;
use crate::log::tlog_proof::TlogProof;
use crate::policy::Role;
use crate::storage::audit::{self as store, EntryFilter};
use crate::storage::checkpoints;
use crate::storage::log_store::{self, DbNodes};
use crate::storage::{DbConn, from_millis, millis};

/// Largest page of entries or leaves.
pub const MAX_PAGE: i64 = 10_000;

/// Page size of `GET /v1/log/entries` when the query gives none.
pub const DEFAULT_ENTRIES: i64 = 100;

fn nodes(c: &mut DbConn) -> DbNodes<'_> {
    DbNodes(std::cell::RefCell::new(c))
}

fn size_of(c: &mut DbConn) -> Result<u64> {
    Ok(log_store::head(c)?.0)
}

/// The root hash of the log's first `size` entries (RFC 9162 §2.1.1), from the stored tree.
pub fn root_at(c: &mut DbConn, size: u64) -> Result<merkle::Hash> {
    merkle::root(size, &nodes(c)).map_err(Error::Storage)
}

/// The log's current size and root hash (the head of the one stored tree; it may be ahead of the
/// newest checkpoint).
pub fn head(c: &mut DbConn) -> Result<(u64, merkle::Hash)> {
    Ok(log_store::head(c)?)
}

/// The newest checkpoint note, if any.
pub fn latest_checkpoint(c: &mut DbConn) -> Result<Option<(u64, String)>> {
    let row = checkpoints::latest(c)?;
    Ok(row.map(|(s, n)| (u64::try_from(s).unwrap_or(0), n)))
}

/// Most checkpoints in one page of `GET /v1/log/checkpoints`.
pub const MAX_CHECKPOINTS_PAGE: i64 = 1000;

/// Checkpoints with size > `after`, oldest first, at most `limit` (1–[`MAX_CHECKPOINTS_PAGE`], default
/// 100; outside that, `400 invalid-query`: never silently fewer than asked).
pub fn checkpoints_after(c: &mut DbConn, after: u64, limit: Option<i64>) -> Result<CheckpointList> {
    let limit = Page::limit_within(limit, 100, MAX_CHECKPOINTS_PAGE)?;
    let rows = checkpoints::after(c, i64::try_from(after).unwrap_or(i64::MAX), limit)?;
    Ok(CheckpointList {
        checkpoints: rows
            .into_iter()
            .map(|r| Checkpoint {
                size: r.size,
                note: r.note,
                created_at: format_utc_seconds(from_millis(r.created_at)),
            })
            .collect(),
    })
}

/// Leaves `[from, from + limit)`, concatenated (136 bytes each); `limit` 1–[`MAX_PAGE`], default
/// 1000 (outside that, `400 invalid-query`).
pub fn leaves(c: &mut DbConn, from: u64, limit: Option<i64>) -> Result<Vec<u8>> {
    let from_i = i64::try_from(from).map_err(|_| Error::invalid("invalid-range", "from is too large"))?;
    // Positions, not a count of rows: a missing row makes the page short (the verifier then names
    // the gap) instead of shifting the rows after it into its place.
    let limit = Page::limit_within(limit, 1000, MAX_PAGE)?;
    let rows = store::leaf_range(c, from_i, from_i.saturating_add(limit))?;
    Ok(rows.concat())
}

/// An inclusion proof of entry `index` in the tree of `size` (default: the log's size).
pub fn inclusion(c: &mut DbConn, index: u64, size: Option<u64>) -> Result<InclusionProof> {
    let current = size_of(c)?;
    let size = size.unwrap_or(current);
    if size > current || index >= size {
        return Err(Error::invalid(
            "invalid-range",
            format!("need index < size ≤ {current}; got index {index}, size {size}"),
        ));
    }
    let (leaf_hash, proof) = log_store::prefetched(c, |src| {
        Ok::<_, Error>((
            merkle::NodeSource::node(src, 0, index).map_err(Error::Storage)?,
            merkle::inclusion_proof(index, size, src).map_err(|e| Error::Internal(format!("{e:?}")))?,
        ))
    })??;
    Ok(InclusionProof {
        index,
        size,
        leaf_hash: hex::encode(leaf_hash),
        proof: proof.iter().map(hex::encode).collect(),
    })
}

/// A consistency proof between two sizes.
pub fn consistency(c: &mut DbConn, from: u64, to: u64) -> Result<ConsistencyProof> {
    let current = size_of(c)?;
    if from > to || to > current {
        return Err(Error::invalid(
            "invalid-range",
            format!("need from ≤ to ≤ {current}; got {from}, {to}"),
        ));
    }
    let proof = log_store::prefetched(c, |src| merkle::consistency_proof(from, to, src))?
        .map_err(|e| Error::Internal(format!("{e:?}")))?;
    Ok(ConsistencyProof {
        from,
        to,
        proof: proof.iter().map(hex::encode).collect(),
    })
}

/// The C2SP tlog-proof receipt of entry `index` against the newest checkpoint, or `None` if no
/// checkpoint covers it yet.
pub fn receipt(c: &mut DbConn, index: u64) -> Result<Option<String>> {
    let Some((size, note)) = latest_checkpoint(c)? else {
        return Ok(None);
    };
    if index >= size {
        return Ok(None);
    }
    let proof = log_store::prefetched(c, |src| merkle::inclusion_proof(index, size, src))?
        .map_err(|e| Error::Internal(format!("{e:?}")))?;
    let checkpoint = Note::parse(note.as_bytes()).map_err(|e| Error::Internal(e.to_string()))?;
    let receipt = TlogProof {
        extra: Vec::new(),
        index,
        proof,
        checkpoint,
    };
    receipt
        .to_text()
        .map(Some)
        .map_err(|e| Error::Internal(e.to_string()))
}

/// Filters of an access-chain query.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EntryQuery {
    /// Entries about this enterprise.
    pub enterprise: Option<String>,
    /// Entries relying on this grant.
    pub grant: Option<String>,
    /// Entries with this platform on the path.
    pub platform: Option<String>,
    /// Entries with this bank on the path.
    pub bank: Option<String>,
    /// Entries naming this category.
    pub category: Option<String>,
    /// Entries of this kind (`release`, `refusal`, `grant-revoked` …).
    pub kind: Option<String>,
    /// From this instant (RFC 3339).
    pub from: Option<String>,
    /// Until this instant (RFC 3339).
    pub until: Option<String>,
    /// Only entries with a larger index (the cursor).
    pub after: Option<u64>,
    /// Page size: 1–10,000 ([`MAX_PAGE`]), default 100; another value is `400 invalid-query`.
    pub limit: Option<i64>,
}

fn kind_code(name: &str) -> Option<i16> {
    EntryKind::ALL
        .iter()
        .find(|k| k.as_str() == name)
        .map(|k| i16::from(*k as u8))
}

/// The access chain a caller may see, filtered and paginated (oldest first); `next` is the cursor
/// (the index of the last entry of a full page, to pass as `after`). A `limit` outside 1–10,000 is
/// `400 invalid-query` (`limit: 1–10000`), checked after the caller's role; nothing is read.
pub fn entries(c: &mut DbConn, caller: &Caller, mut q: EntryQuery) -> Result<LogEntryPage> {
    // Least privilege: narrow the query to what the caller may see.
    match caller.role {
        Role::Node | Role::Regulator => {}
        Role::Enterprise => q.enterprise = Some(caller.uscc().to_owned()),
        Role::Platform => q.platform = Some(caller.uscc().to_owned()),
        Role::Bank => q.bank = Some(caller.uscc().to_owned()),
        Role::Department => {
            return Err(Error::Forbidden(
                "a providing department reads its own batches (GET /v1/intake/batches), not the log".into(),
            ));
        }
    }
    let limit = Page::limit_within(q.limit, DEFAULT_ENTRIES, MAX_PAGE)?;
    let kind = match q.kind {
        Some(k) => Some(
            kind_code(&k)
                .ok_or_else(|| Error::invalid("invalid-query", format!("unknown entry kind {k}")))?,
        ),
        None => None,
    };
    let instant = |t: &str, f: &str| {
        parse_datetime_stamp(t)
            .map(millis)
            .map_err(|e| Error::invalid("invalid-query", format!("{f}: {e}")))
    };
    let from_ms = q.from.map(|t| instant(&t, "from")).transpose()?;
    let until_ms = q.until.map(|t| instant(&t, "until")).transpose()?;
    let filter = EntryFilter {
        enterprise: q.enterprise,
        grant: q.grant,
        platform: q.platform,
        bank: q.bank,
        category: q.category,
        kind,
        from_ms,
        until_ms,
        after: q.after.map(|a| i64::try_from(a).unwrap_or(i64::MAX)),
        limit,
    };
    let rows = store::entries(c, filter)?;
    let mut out = Vec::with_capacity(rows.len());
    for store::LeafRow {
        seq,
        leaf: leaf_bytes,
        time,
        salt,
        record,
    } in rows
    {
        let leaf =
            Leaf::from_bytes(&leaf_bytes).map_err(|e| Error::Internal(format!("stored leaf {seq}: {e}")))?;
        out.push(LogEntry {
            index: u64::try_from(seq)
                .map_err(|_| Error::Internal(format!("stored leaf at negative position {seq}")))?,
            time: format_utc_seconds(from_millis(time)),
            kind: leaf.kind,
            leaf: STANDARD.encode(&leaf_bytes),
            leaf_hash: hex::encode(merkle::leaf_hash(&leaf_bytes)),
            salt: salt.map(hex::encode),
            record: record.and_then(|r| serde_json::from_str::<Value>(&r).ok()),
        });
    }
    let next = Page::next(limit, &out, |e| e.index);
    Ok(LogEntryPage { items: out, next })
}

/// Writes an evidence bundle of entries `[0, to)` as JSON Lines (spec/access-log.md §7): a header
/// line, one line per entry with its leaf, salt and record, every checkpoint up to `to`, and the
/// consistency proofs between consecutive checkpoints. Entries are read a page at a time and written
/// as they come, so `out` may stream the bundle (the HTTP route does): memory does not grow with the
/// log.
pub fn export(node: &Node, c: &mut DbConn, to: Option<u64>, out: &mut dyn std::io::Write) -> Result<()> {
    let io = |e: std::io::Error| Error::Internal(format!("writing the evidence bundle: {e}"));
    let current = size_of(c)?;
    let to = to.unwrap_or(current).min(current);
    let ring = super::keys::refresh(c, node)?;
    let header = json!({
        "format": "consentry-evidence-bundle/v1",
        "origin": node.origin,
        "logKey": first_key(node, &ring)?.to_vkey(),
        "from": 0,
        "to": to,
    });
    out.write_all(header.to_string().as_bytes()).map_err(io)?;
    out.write_all(b"\n").map_err(io)?;
    // The key history (§5.5), before the checkpoints it lets a verifier check.
    for note in crate::storage::log_keys::all(c)? {
        out.write_all(json!({"keyRecord": note}).to_string().as_bytes())
            .map_err(io)?;
        out.write_all(b"\n").map_err(io)?;
    }
    let mut from = 0u64;
    while from < to {
        let page = i64::try_from((to - from).min(MAX_PAGE as u64)).unwrap_or(MAX_PAGE);
        let from_i = i64::try_from(from).unwrap_or(i64::MAX);
        let rows = store::leaves_with_records(c, from_i, from_i.saturating_add(page))?;
        // Pages are ranges of positions: a missing row leaves the bundle short, never duplicated.
        for r in &rows {
            let line = json!({
                "i": r.seq,
                "leaf": STANDARD.encode(&r.leaf),
                "salt": r.salt.as_ref().map(hex::encode),
                "record": r.record.as_ref().and_then(|r| serde_json::from_str::<Value>(r).ok()),
            });
            out.write_all(line.to_string().as_bytes()).map_err(io)?;
            out.write_all(b"\n").map_err(io)?;
        }
        from += page as u64;
    }
    let cps = checkpoints::up_to(c, i64::try_from(to).unwrap_or(i64::MAX))?;
    let mut previous: Option<u64> = None;
    for (size, note) in cps {
        let size = u64::try_from(size).unwrap_or(0);
        out.write_all(json!({"checkpoint": note}).to_string().as_bytes())
            .map_err(io)?;
        out.write_all(b"\n").map_err(io)?;
        if let Some(p) = previous {
            let proof = consistency(c, p, size)?;
            out.write_all(json!({"consistency": proof}).to_string().as_bytes())
                .map_err(io)?;
            out.write_all(b"\n").map_err(io)?;
        }
        previous = Some(size);
    }
    Ok(())
}

/// The log's first key (the genesis key of its history, §5.5), or this process's key before the
/// genesis: what the bundle's header states and a verifier pins.
fn first_key(node: &Node, ring: &super::keys::Ring) -> Result<crate::log::note::VerifierKey> {
    match ring.history() {
        Some(h) => Ok(h.first().clone()),
        None => Ok(super::checkpoints::signer(node)?.verifier_key()),
    }
}

/// The compact range (frontier) at `size`, for verifiers resuming from a trusted checkpoint.
pub fn frontier(c: &mut DbConn, size: u64) -> Result<Vec<String>> {
    let range = CompactRange::from_source(size, &nodes(c)).map_err(Error::Storage)?;
    Ok(range.hashes().iter().map(hex::encode).collect())
}

/// Verifies this node's own log offline, as a regulator's auditor would (spec/access-log.md §7): the
/// evidence bundle of the whole log is written to a scratch file in the data folder (removed after)
/// and replayed by [`crate::log::audit::audit_reader`] with the node's own log key pinned — every leaf,
/// record, chain, checkpoint signature and consistency proof — and, when the data folder records the
/// newest checkpoint the node published ([`super::checkpoints::PUBLISHED_FILE`]), with that checkpoint
/// as the trusted one the log must extend (a restored backup older than it fails here).
pub fn verify_own(node: &Node) -> Result<crate::log::audit::AuditReport> {
    let scratch = node
        .data_dir
        .join(format!(".verify-{}.jsonl", std::process::id()));
    let io = |e: std::io::Error| Error::Internal(format!("{}: {e}", scratch.display()));
    let result = (|| {
        {
            let mut f = std::io::BufWriter::new(std::fs::File::create(&scratch).map_err(io)?);
            let mut c = node.store.conn()?;
            export(node, &mut c, None, &mut f)?;
            std::io::Write::flush(&mut f).map_err(io)?;
        }
        let mut opts = crate::log::audit::AuditOptions::new(node.clock.now());
        let ring = super::keys::refresh(&mut *node.store.conn()?, node)?;
        opts.log_key = Some(first_key(node, &ring)?);
        opts.trusted_checkpoint = super::checkpoints::remembered(
            &node.data_dir,
            &super::checkpoints::published_file(&node.origin),
        )?
        .map(|(_, text)| text);
        let f = std::fs::File::open(&scratch).map_err(io)?;
        crate::log::audit::audit_reader(f, opts, &mut |_| {}).map_err(|e| Error::Internal(e.to_string()))
    })();
    let _ = std::fs::remove_file(&scratch);
    result
}
