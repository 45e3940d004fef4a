//! The monthly bulletins (`spec/loans.md` §6) and the log entries a bulletin is computed from.

use diesel::prelude::*;

use super::schema::{bulletins, log_leaves, log_records};
use super::{DbConn, StorageResult};
use crate::log::entry::EntryKind;

/// An archived bulletin.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = bulletins)]
pub struct StoredBulletin {
    /// `YYYY-MM`.
    pub month: String,
    /// Entries below this index were read.
    pub log_size: i64,
    /// The JCS bytes as signed.
    pub content: String,
    /// Their SHA-256, hex.
    pub sha256: String,
    /// The node's Ed25519 signature over them, base64url without padding.
    pub signature: String,
    /// The signing key's DID.
    pub signer: String,
    /// The same figures as CSV.
    pub csv: String,
    /// When it was made, ms.
    pub generated_at: i64,
}

/// The bulletin of `month`, if archived.
pub fn get(conn: &mut DbConn, month: &str) -> StorageResult<Option<StoredBulletin>> {
    Ok(bulletins::table
        .find(month)
        .select(StoredBulletin::as_select())
        .first(conn)
        .optional()?)
}

/// Archives a bulletin; `false` if the month already has one (nothing written).
pub fn insert(conn: &mut DbConn, b: &StoredBulletin) -> StorageResult<bool> {
    let n = crate::on_backend!(conn, |c| diesel::insert_into(bulletins::table)
        .values(b)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(n == 1)
}

/// Every archived bulletin's month, log size, digest and time, newest month first.
pub fn list(conn: &mut DbConn) -> StorageResult<Vec<(String, i64, String, i64)>> {
    Ok(bulletins::table
        .select((
            bulletins::month,
            bulletins::log_size,
            bulletins::sha256,
            bulletins::generated_at,
        ))
        .order(bulletins::month.desc())
        .load(conn)?)
}

/// A log entry a bulletin reads: index, kind code, time (ms) and record (canonical JSON; `None`
/// once erased).
pub type EntryRow = (i64, i16, i64, Option<String>);

/// The entries a bulletin of the month `[start_ms, end_ms)` reads, below index `size`: participant
/// and release entries of the month, and every loan report.
pub fn entries(conn: &mut DbConn, size: i64, start_ms: i64, end_ms: i64) -> StorageResult<Vec<EntryRow>> {
    let code = |k: EntryKind| i16::from(k as u8);
    let mut rows: Vec<EntryRow> = log_leaves::table
        .left_join(log_records::table.on(log_records::seq.eq(log_leaves::seq)))
        .filter(log_leaves::seq.lt(size))
        .filter(log_leaves::kind.eq_any([code(EntryKind::Release), code(EntryKind::Participant)]))
        .filter(log_leaves::time.ge(start_ms))
        .filter(log_leaves::time.lt(end_ms))
        .select((
            log_leaves::seq,
            log_leaves::kind,
            log_leaves::time,
            log_records::record.nullable(),
        ))
        .load(conn)?;
    let loans: Vec<EntryRow> = log_leaves::table
        .left_join(log_records::table.on(log_records::seq.eq(log_leaves::seq)))
        .filter(log_leaves::seq.lt(size))
        .filter(log_leaves::kind.eq(code(EntryKind::LoanReport)))
        .select((
            log_leaves::seq,
            log_leaves::kind,
            log_leaves::time,
            log_records::record.nullable(),
        ))
        .load(conn)?;
    rows.extend(loans);
    rows.sort_unstable_by_key(|r| r.0);
    Ok(rows)
}

/// The time (ms) of the log's first entry, if any.
pub fn first_entry_time(conn: &mut DbConn) -> StorageResult<Option<i64>> {
    Ok(log_leaves::table
        .filter(log_leaves::seq.eq(0i64))
        .select(log_leaves::time)
        .first(conn)
        .optional()?)
}
