//! Reads of the stored access log for auditors (spec/access-log.md §5–§7): ranges of leaves and of
//! tree hashes (tiles, pages, evidence bundles), leaves joined with their erasable salt and record,
//! and the filtered access chain. Writes go through the group committer ([`super::log_store`]) only.
//!
//! Ranges are ranges of *positions* (`[from, end)`), never a count of rows: a missing row makes an
//! answer short instead of shifting the rows after it into its place.

use diesel::prelude::*;

use super::schema::{log_leaves, log_nodes, log_records};
use super::{DbConn, StorageResult};

/// The stored leaves (136 bytes each when intact) at positions `[from, end)`, in order.
pub fn leaf_range(conn: &mut DbConn, from: i64, end: i64) -> StorageResult<Vec<Vec<u8>>> {
    Ok(log_leaves::table
        .filter(log_leaves::seq.ge(from))
        .filter(log_leaves::seq.lt(end))
        .order(log_leaves::seq.asc())
        .select(log_leaves::leaf)
        .load(conn)?)
}

/// The stored tree hashes at tree level `level` with indices `[from, end)`, in order.
pub fn node_range(conn: &mut DbConn, level: i16, from: i64, end: i64) -> StorageResult<Vec<Vec<u8>>> {
    Ok(log_nodes::table
        .filter(log_nodes::level.eq(level))
        .filter(log_nodes::idx.ge(from))
        .filter(log_nodes::idx.lt(end))
        .order(log_nodes::idx.asc())
        .select(log_nodes::hash)
        .load(conn)?)
}

/// The enterprise (USCC) the leaf at `seq` is about: `None` if there is no such leaf,
/// `Some(None)` if the entry names no enterprise.
pub fn leaf_enterprise(conn: &mut DbConn, seq: i64) -> StorageResult<Option<Option<String>>> {
    Ok(log_leaves::table
        .find(seq)
        .select(log_leaves::enterprise_uscc)
        .first(conn)
        .optional()?)
}

/// The columns of a [`LeafRow`], as selected.
type LeafColumns = (i64, Vec<u8>, i64, Option<Vec<u8>>, Option<String>);

/// A leaf with what is stored beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafRow {
    /// Its position in the log.
    pub seq: i64,
    /// The leaf bytes.
    pub leaf: Vec<u8>,
    /// The entry's time, ms.
    pub time: i64,
    /// The salt of its record; `None` once erased (or never stored).
    pub salt: Option<Vec<u8>>,
    /// Its record (canonical JSON); `None` once erased (or never stored).
    pub record: Option<String>,
}

/// The leaves at positions `[from, end)` with their salts and records, in order.
pub fn leaves_with_records(conn: &mut DbConn, from: i64, end: i64) -> StorageResult<Vec<LeafRow>> {
    let rows: Vec<LeafColumns> = log_leaves::table
        .left_join(log_records::table.on(log_records::seq.eq(log_leaves::seq)))
        .filter(log_leaves::seq.ge(from))
        .filter(log_leaves::seq.lt(end))
        .order(log_leaves::seq.asc())
        .select((
            log_leaves::seq,
            log_leaves::leaf,
            log_leaves::time,
            log_records::salt.nullable(),
            log_records::record.nullable(),
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(LeafRow::from).collect())
}

impl From<LeafColumns> for LeafRow {
    fn from((seq, leaf, time, salt, record): LeafColumns) -> Self {
        Self {
            seq,
            leaf,
            time,
            salt,
            record,
        }
    }
}

/// Filters of an access-chain read ([`entries`]); every filter given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryFilter {
    /// Entries about this enterprise (USCC).
    pub enterprise: Option<String>,
    /// Entries relying on this grant.
    pub grant: Option<String>,
    /// Entries with this platform (USCC) on the path.
    pub platform: Option<String>,
    /// Entries with this bank (USCC) on the path.
    pub bank: Option<String>,
    /// Entries naming this category (one of the comma-separated `categories`).
    pub category: Option<String>,
    /// Entries of this kind (its stored code).
    pub kind: Option<i16>,
    /// Entries at or after this instant, ms.
    pub from_ms: Option<i64>,
    /// Entries at or before this instant, ms.
    pub until_ms: Option<i64>,
    /// Entries at positions greater than this (the cursor).
    pub after: Option<i64>,
    /// At most this many entries.
    pub limit: i64,
}

/// The entries matching `f`, oldest first, with their salts and records.
pub fn entries(conn: &mut DbConn, f: EntryFilter) -> StorageResult<Vec<LeafRow>> {
    let mut query = log_leaves::table
        .left_join(log_records::table.on(log_records::seq.eq(log_leaves::seq)))
        .select((
            log_leaves::seq,
            log_leaves::leaf,
            log_leaves::time,
            log_records::salt.nullable(),
            log_records::record.nullable(),
        ))
        .order(log_leaves::seq.asc())
        .limit(f.limit)
        .into_boxed();
    if let Some(v) = f.enterprise {
        query = query.filter(log_leaves::enterprise_uscc.eq(v));
    }
    if let Some(v) = f.grant {
        query = query.filter(log_leaves::grant_id.eq(v));
    }
    if let Some(v) = f.platform {
        query = query.filter(log_leaves::platform_uscc.eq(v));
    }
    if let Some(v) = f.bank {
        query = query.filter(log_leaves::bank_uscc.eq(v));
    }
    if let Some(v) = f.category {
        query = query.filter(
            log_leaves::categories
                .eq(v.clone())
                .or(log_leaves::categories.like(format!("{v},%")))
                .or(log_leaves::categories.like(format!("%,{v}")))
                .or(log_leaves::categories.like(format!("%,{v},%"))),
        );
    }
    if let Some(code) = f.kind {
        query = query.filter(log_leaves::kind.eq(code));
    }
    if let Some(t) = f.from_ms {
        query = query.filter(log_leaves::time.ge(t));
    }
    if let Some(t) = f.until_ms {
        query = query.filter(log_leaves::time.le(t));
    }
    if let Some(a) = f.after {
        query = query.filter(log_leaves::seq.gt(a));
    }
    let rows: Vec<LeafColumns> = query.load(conn)?;
    Ok(rows.into_iter().map(LeafRow::from).collect())
}

/// A `release` entry of the node's log as the corrections read it ([`releases_naming`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseLeaf {
    /// Its position in the log.
    pub seq: i64,
    /// The entry's time, ms.
    pub time: i64,
    /// Who asked: a platform, the node's operator, or a bank (the public feed).
    pub caller: Option<String>,
    /// The platform on the path (the caller, or the bank's platform for the public feed).
    pub platform: Option<String>,
    /// The bank it asked for (`onBehalfOf`), if any.
    pub bank: Option<String>,
    /// Its record (canonical JSON); `None` once erased.
    pub record: Option<String>,
}

/// The `release` entries about `enterprise` that name `category`, at positions in `(after, before)`,
/// oldest first, at most `limit` of them.
pub fn releases_naming(
    conn: &mut DbConn,
    enterprise: &str,
    category: &str,
    after: i64,
    before: i64,
    limit: i64,
) -> StorageResult<Vec<ReleaseLeaf>> {
    let release = i16::from(crate::log::entry::EntryKind::Release as u8);
    type Row = (
        i64,
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = log_leaves::table
        .left_join(log_records::table.on(log_records::seq.eq(log_leaves::seq)))
        .filter(log_leaves::enterprise_uscc.eq(enterprise))
        .filter(log_leaves::kind.eq(release))
        .filter(log_leaves::seq.gt(after))
        .filter(log_leaves::seq.lt(before))
        .filter(
            log_leaves::categories
                .eq(category)
                .or(log_leaves::categories.like(format!("{category},%")))
                .or(log_leaves::categories.like(format!("%,{category}")))
                .or(log_leaves::categories.like(format!("%,{category},%"))),
        )
        .order(log_leaves::seq.asc())
        .limit(limit)
        .select((
            log_leaves::seq,
            log_leaves::time,
            log_leaves::caller_uscc,
            log_leaves::platform_uscc,
            log_leaves::bank_uscc,
            log_records::record.nullable(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(seq, time, caller, platform, bank, record)| ReleaseLeaf {
            seq,
            time,
            caller,
            platform,
            bank,
            record,
        })
        .collect())
}
