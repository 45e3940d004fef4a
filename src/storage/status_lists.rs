//! Bitstring status lists as stored: one row per list and purpose holding the 16 KiB bitstring, and
//! the slots (indexes) handed out, at random, to grants.
//!
//! Status bits change only inside access-log append transactions (revocation, suspension and
//! resumption are log entries), which the log serializes across processes, so read-modify-write of a
//! list needs no lock of its own.

use diesel::prelude::*;

use super::schema::{status_lists, status_slots};
use super::{DbConn, StorageError, StorageResult};
use crate::status::StatusPurpose;
use crate::status::bitstring::{Bitstring, MIN_ENTRIES};

/// Entries per list (the minimum the spec allows, 16 KiB: herd privacy without waste).
pub const LIST_ENTRIES: u64 = MIN_ENTRIES;
/// A list takes no new slots once this many are allocated, so random picks rarely collide.
pub const LIST_FILL_LIMIT: i64 = (MIN_ENTRIES as i64) * 3 / 4;

fn ensure_list(conn: &mut DbConn, list_no: i64, now: i64) -> StorageResult<()> {
    for purpose in [StatusPurpose::Revocation, StatusPurpose::Suspension] {
        let exists: i64 = status_lists::table
            .filter(status_lists::list_no.eq(list_no))
            .filter(status_lists::purpose.eq(purpose.as_str()))
            .count()
            .get_result(conn)?;
        if exists == 0 {
            diesel::insert_into(status_lists::table)
                .values((
                    status_lists::list_no.eq(list_no),
                    status_lists::purpose.eq(purpose.as_str()),
                    status_lists::bits.eq(Bitstring::zeroed(LIST_ENTRIES, 1).as_bytes().to_vec()),
                    status_lists::version.eq(1i64),
                    status_lists::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Allocates a free slot at a random index for `enterprise`, opening a new list when the current one
/// is three-quarters full. Returns `(list_no, index)`.
pub fn allocate_slot(conn: &mut DbConn, enterprise: &str, now: i64) -> StorageResult<(i64, i64)> {
    let current: Option<i64> = status_slots::table
        .select(diesel::dsl::max(status_slots::list_no))
        .first(conn)?;
    let mut list_no = current.unwrap_or(1);
    let used: i64 = status_slots::table
        .filter(status_slots::list_no.eq(list_no))
        .count()
        .get_result(conn)?;
    if used >= LIST_FILL_LIMIT {
        list_no += 1;
    }
    ensure_list(conn, list_no, now)?;
    for _ in 0..64 {
        let mut r = [0u8; 8];
        crate::crypto::ed25519::random_bytes(&mut r).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let idx = i64::try_from(u64::from_le_bytes(r) % LIST_ENTRIES).unwrap_or(0);
        let taken: i64 = status_slots::table
            .filter(status_slots::list_no.eq(list_no))
            .filter(status_slots::idx.eq(idx))
            .count()
            .get_result(conn)?;
        if taken == 0 {
            diesel::insert_into(status_slots::table)
                .values((
                    status_slots::list_no.eq(list_no),
                    status_slots::idx.eq(idx),
                    status_slots::enterprise_uscc.eq(enterprise),
                    status_slots::allocated_at.eq(now),
                ))
                .execute(conn)?;
            return Ok((list_no, idx));
        }
    }
    Err(StorageError::Corrupt(format!(
        "no free status slot found in list {list_no}"
    )))
}

/// How many status slots are allocated, over every list.
pub fn slot_count(conn: &mut DbConn) -> StorageResult<i64> {
    Ok(status_slots::table.count().get_result(conn)?)
}

/// The enterprise a slot was allocated to, and the grant using it.
pub fn slot(conn: &mut DbConn, list_no: i64, idx: i64) -> StorageResult<Option<(String, Option<String>)>> {
    Ok(status_slots::table
        .filter(status_slots::list_no.eq(list_no))
        .filter(status_slots::idx.eq(idx))
        .select((status_slots::enterprise_uscc, status_slots::grant_id))
        .first(conn)
        .optional()?)
}

/// Marks a slot as used by a grant.
pub fn bind_slot(conn: &mut DbConn, list_no: i64, idx: i64, grant_id: &str) -> StorageResult<()> {
    diesel::update(
        status_slots::table
            .filter(status_slots::list_no.eq(list_no))
            .filter(status_slots::idx.eq(idx)),
    )
    .set(status_slots::grant_id.eq(grant_id))
    .execute(conn)?;
    Ok(())
}

/// A list's bitstring, version and last change.
pub fn get_list(
    conn: &mut DbConn,
    list_no: i64,
    purpose: StatusPurpose,
) -> StorageResult<Option<(Bitstring, i64, i64)>> {
    let row: Option<(Vec<u8>, i64, i64)> = status_lists::table
        .filter(status_lists::list_no.eq(list_no))
        .filter(status_lists::purpose.eq(purpose.as_str()))
        .select((
            status_lists::bits,
            status_lists::version,
            status_lists::updated_at,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|(bits, v, at)| (Bitstring::from_bytes(bits, 1), v, at)))
}

/// Sets one status bit and bumps the list's version. Call only inside a log-append transaction.
pub fn set_bit(
    conn: &mut DbConn,
    list_no: i64,
    purpose: StatusPurpose,
    idx: i64,
    value: bool,
    now: i64,
) -> StorageResult<()> {
    let (mut bits, version, _) = get_list(conn, list_no, purpose)?
        .ok_or_else(|| StorageError::Corrupt(format!("no status list {list_no}")))?;
    let index = u64::try_from(idx).map_err(|_| StorageError::Corrupt(format!("negative index {idx}")))?;
    bits.set(index, u8::from(value))
        .map_err(|e| StorageError::Corrupt(e.to_string()))?;
    diesel::update(
        status_lists::table
            .filter(status_lists::list_no.eq(list_no))
            .filter(status_lists::purpose.eq(purpose.as_str())),
    )
    .set((
        status_lists::bits.eq(bits.as_bytes().to_vec()),
        status_lists::version.eq(version + 1),
        status_lists::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(())
}

/// Numbers of every list that exists.
pub fn list_numbers(conn: &mut DbConn) -> StorageResult<Vec<i64>> {
    Ok(status_lists::table
        .select(status_lists::list_no)
        .distinct()
        .order(status_lists::list_no.asc())
        .load(conn)?)
}
