//! The access log's key history (`log_keys`: seq → signed key record, spec/access-log.md §5.5),
//! append-only. A record is appended only at the next `seq` (the primary key refuses a second
//! record at one position, so two concurrent rotations cannot both succeed), in the same
//! transaction that points `settings.service_did` at the key it makes current.

use diesel::prelude::*;

use super::schema::{log_keys, settings};
use super::{DbConn, StorageResult};

/// Every record's note, `seq` 0 first.
pub fn all(conn: &mut DbConn) -> StorageResult<Vec<String>> {
    Ok(log_keys::table
        .order(log_keys::seq.asc())
        .select(log_keys::note)
        .load(conn)?)
}

/// Every record as `(seq, note, created_at)`, `seq` 0 first.
pub fn rows(conn: &mut DbConn) -> StorageResult<Vec<(i64, String, i64)>> {
    Ok(log_keys::table
        .order(log_keys::seq.asc())
        .select((log_keys::seq, log_keys::note, log_keys::created_at))
        .load(conn)?)
}

/// How many records there are (cheap: a process checks it every checkpoint round).
pub fn count(conn: &mut DbConn) -> StorageResult<i64> {
    Ok(log_keys::table.count().get_result(conn)?)
}

/// Appends the record `note` at `seq` and, if `service_did` is given, points
/// `settings.service_did` at it (the DID of the key the record makes current), in one transaction.
/// `false` (nothing written) if the history does not have exactly `seq` records.
pub fn append(
    conn: &mut DbConn,
    seq: i64,
    note: &str,
    now: i64,
    service_did: Option<&str>,
) -> StorageResult<bool> {
    super::Store::write_txn(conn, |c| -> StorageResult<bool> {
        let n: i64 = log_keys::table.count().get_result(c)?;
        if n != seq {
            return Ok(false);
        }
        diesel::insert_into(log_keys::table)
            .values((
                log_keys::seq.eq(seq),
                log_keys::note.eq(note),
                log_keys::created_at.eq(now),
            ))
            .execute(c)?;
        if let Some(did) = service_did {
            diesel::update(settings::table.find("service_did"))
                .set(settings::value.eq(did))
                .execute(c)?;
        }
        Ok(true)
    })
}
