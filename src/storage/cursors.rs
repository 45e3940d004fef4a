//! Readers of new data records (the post-loan risk sweep, `crate::node::alerts`; the public push,
//! `crate::node::feed`): how far each has read, and the next records it reads. One table, one row
//! per reader.

use diesel::prelude::*;

use super::data::DataRecord;
use super::schema::{data_records, record_cursors};
use super::{DbConn, StorageResult};

/// Who reads the new records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// The post-loan risk sweep.
    RiskAlerts,
    /// The batch push of public information.
    PublicPush,
}

impl Reader {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RiskAlerts => "risk-alerts",
            Self::PublicPush => "public-push",
        }
    }
}

/// The id of the last data record `reader` has read (0 at first).
pub fn get(conn: &mut DbConn, reader: Reader) -> StorageResult<i64> {
    Ok(record_cursors::table
        .find(reader.as_str())
        .select(record_cursors::last_record)
        .first(conn)
        .optional()?
        .unwrap_or(0))
}

/// Moves `reader`'s cursor forward to `to` (never back).
pub fn advance(conn: &mut DbConn, reader: Reader, to: i64) -> StorageResult<()> {
    let n = diesel::update(record_cursors::table.find(reader.as_str()))
        .filter(record_cursors::last_record.lt(to))
        .set(record_cursors::last_record.eq(to))
        .execute(conn)?;
    if n == 0 && get(conn, reader)? < to {
        crate::on_backend!(conn, |c| diesel::insert_into(record_cursors::table)
            .values((
                record_cursors::reader.eq(reader.as_str()),
                record_cursors::last_record.eq(to),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    Ok(())
}

/// Up to `limit` data records after id `after` imported at or before `settled` (ms), in id order.
///
/// Ids are given out when a row is inserted and become visible when its transaction commits, so
/// with concurrent imports (several processes on PostgreSQL) a lower id can appear after a higher
/// one. Readers that keep a cursor therefore read only rows older than a settling time, by which
/// every transaction that took a lower id has committed (unless it ran longer than that).
pub fn records_after(
    conn: &mut DbConn,
    after: i64,
    settled: i64,
    limit: i64,
) -> StorageResult<Vec<DataRecord>> {
    let rows: Vec<DataRecord> = data_records::table
        .filter(data_records::id.gt(after))
        .order(data_records::id)
        .limit(limit)
        .select(DataRecord::as_select())
        .load(conn)?;
    // In id order, up to the first row not yet settled: a cursor never passes an unsettled row.
    Ok(rows
        .into_iter()
        .take_while(|r| r.imported_at <= settled)
        .collect())
}
