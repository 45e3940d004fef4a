//! Signed checkpoints of the access log (`checkpoints`: size → note text), kept forever. At most one
//! checkpoint per tree size; the note of a stored checkpoint changes only by gaining witness
//! cosignatures, through the compare-and-set [`replace_note`].

use diesel::prelude::*;

use super::schema::checkpoints;
use super::{DbConn, StorageResult};

/// A stored checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRow {
    /// The tree size it commits to.
    pub size: i64,
    /// The signed note (C2SP tlog-checkpoint), with any cosignatures.
    pub note: String,
    /// When it was signed, ms.
    pub created_at: i64,
}

/// The checkpoint of the largest size, as `(size, note)`, or `None` if none is stored.
pub fn latest(conn: &mut DbConn) -> StorageResult<Option<(i64, String)>> {
    Ok(checkpoints::table
        .order(checkpoints::size.desc())
        .select((checkpoints::size, checkpoints::note))
        .first(conn)
        .optional()?)
}

/// The size of the largest checkpoint and when it was signed (ms), or `None` if none is stored
/// (for `/metrics`: one row by the primary key).
pub fn newest_signed(conn: &mut DbConn) -> StorageResult<Option<(i64, i64)>> {
    Ok(checkpoints::table
        .order(checkpoints::size.desc())
        .select((checkpoints::size, checkpoints::created_at))
        .first(conn)
        .optional()?)
}

/// At most `limit` checkpoints of size greater than `after`, smallest first.
pub fn after(conn: &mut DbConn, after: i64, limit: i64) -> StorageResult<Vec<CheckpointRow>> {
    let rows: Vec<(i64, String, i64)> = checkpoints::table
        .filter(checkpoints::size.gt(after))
        .order(checkpoints::size.asc())
        .limit(limit)
        .select((checkpoints::size, checkpoints::note, checkpoints::created_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(size, note, created_at)| CheckpointRow {
            size,
            note,
            created_at,
        })
        .collect())
}

/// Every checkpoint of size at most `size`, as `(size, note)`, smallest first.
pub fn up_to(conn: &mut DbConn, size: i64) -> StorageResult<Vec<(i64, String)>> {
    Ok(checkpoints::table
        .filter(checkpoints::size.le(size))
        .order(checkpoints::size.asc())
        .select((checkpoints::size, checkpoints::note))
        .load(conn)?)
}

/// The note of the checkpoint of `size`, or `None` if there is none.
pub fn note(conn: &mut DbConn, size: i64) -> StorageResult<Option<String>> {
    Ok(checkpoints::table
        .find(size)
        .select(checkpoints::note)
        .first(conn)
        .optional()?)
}

/// Stores the checkpoint of `size` unless one of that size is stored already (several processes may
/// race to sign the same size: the first stored wins, and the others change nothing and do not
/// fail).
pub fn insert_if_absent(conn: &mut DbConn, size: i64, note: &str, now: i64) -> StorageResult<()> {
    crate::on_backend!(conn, |c| diesel::insert_into(checkpoints::table)
        .values((
            checkpoints::size.eq(size),
            checkpoints::note.eq(note),
            checkpoints::created_at.eq(now)
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// Replaces the note of the checkpoint of `size` with `new` only if it is still `expected` (a
/// compare-and-set: a note changed meanwhile by another process is never overwritten). Returns
/// whether it was replaced.
pub fn replace_note(conn: &mut DbConn, size: i64, expected: &str, new: &str) -> StorageResult<bool> {
    let updated = crate::on_backend!(conn, |c| diesel::update(
        checkpoints::table
            .filter(checkpoints::size.eq(size))
            .filter(checkpoints::note.eq(expected))
    )
    .set(checkpoints::note.eq(new))
    .execute(c))?;
    Ok(updated == 1)
}
