//! The node's data records (what `DataSource` serves), imported from the providing departments.

use diesel::prelude::*;

use super::schema::data_records;
use super::{DbConn, StorageResult};

/// A stored record.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = data_records)]
pub struct DataRecord {
    /// Row id.
    pub id: i64,
    /// The enterprise.
    pub uscc: String,
    /// Catalog category.
    pub category: String,
    /// The record's date, `YYYY-MM-DD`.
    pub record_date: String,
    /// The record's fields, JSON.
    pub body: String,
    /// The providing department.
    pub provider: String,
    /// Imported at, ms.
    pub imported_at: i64,
    /// Its content id (`spec/intake.md` §4), `None` for a record held before signed intake.
    pub content_id: Option<String>,
    /// The batch it came in (`intake_batches.batch_id`), `None` for a record held before signed
    /// intake or inserted directly.
    pub batch_id: Option<String>,
    /// Its version among the records of its (enterprise, category, date), from 1.
    pub version: i64,
    /// The batch that superseded it (`None`: current; releases read current records only).
    pub superseded_by: Option<String>,
    /// When it was superseded, ms.
    pub superseded_at: Option<i64>,
}

/// A record to import.
#[derive(Debug, Clone, Insertable, serde::Deserialize)]
#[diesel(table_name = data_records)]
#[serde(rename_all = "camelCase")]
pub struct NewRecord {
    /// The enterprise.
    pub uscc: String,
    /// Catalog category.
    pub category: String,
    /// `YYYY-MM-DD`.
    #[serde(rename = "date")]
    pub record_date: String,
    /// Fields, JSON text.
    #[serde(skip)]
    pub body: String,
    /// Providing department.
    pub provider: String,
    /// Import time, ms.
    #[serde(skip)]
    pub imported_at: i64,
    /// Its content id (`crate::intake::content_id`).
    #[serde(skip)]
    pub content_id: Option<String>,
    /// The batch it comes in, if any.
    #[serde(skip)]
    pub batch_id: Option<String>,
    /// Its version among the records of its (enterprise, category, date), from 1.
    #[serde(skip, default = "first_version")]
    pub version: i64,
}

fn first_version() -> i64 {
    1
}

/// Inserts records.
pub fn insert(conn: &mut DbConn, records: &[NewRecord]) -> StorageResult<usize> {
    let mut n = 0;
    for chunk in records.chunks(500) {
        n += crate::on_backend!(conn, |c| diesel::insert_into(data_records::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(n)
}

/// Records of an enterprise in a category between two dates (inclusive), oldest first.
pub fn query(
    conn: &mut DbConn,
    uscc: &str,
    category: &str,
    from: &str,
    until: &str,
) -> StorageResult<Vec<DataRecord>> {
    Ok(data_records::table
        .filter(data_records::uscc.eq(uscc))
        .filter(data_records::category.eq(category))
        .filter(data_records::record_date.ge(from))
        .filter(data_records::record_date.le(until))
        .filter(data_records::superseded_by.is_null())
        .order((data_records::record_date.asc(), data_records::id.asc()))
        .select(DataRecord::as_select())
        .load(conn)?)
}

/// Every current record of an enterprise (its free self-query), oldest first.
pub fn of_enterprise(conn: &mut DbConn, uscc: &str) -> StorageResult<Vec<DataRecord>> {
    Ok(data_records::table
        .filter(data_records::uscc.eq(uscc))
        .filter(data_records::superseded_by.is_null())
        .order((data_records::category.asc(), data_records::record_date.asc()))
        .select(DataRecord::as_select())
        .load(conn)?)
}

/// A record by id.
pub fn get(conn: &mut DbConn, id: i64) -> StorageResult<Option<DataRecord>> {
    Ok(data_records::table
        .find(id)
        .select(DataRecord::as_select())
        .get_result(conn)
        .optional()?)
}

/// Replaces a record's fields (a correction after an objection).
pub fn correct(conn: &mut DbConn, id: i64, body: &str) -> StorageResult<usize> {
    Ok(diesel::update(data_records::table.find(id))
        .set(data_records::body.eq(body))
        .execute(conn)?)
}

/// Number of records held.
pub fn count(conn: &mut DbConn) -> StorageResult<i64> {
    Ok(data_records::table.count().get_result(conn)?)
}

/// The current (not superseded) records of one (enterprise, category, date), oldest first.
pub fn current_of_key(
    conn: &mut DbConn,
    uscc: &str,
    category: &str,
    date: &str,
) -> StorageResult<Vec<DataRecord>> {
    Ok(data_records::table
        .filter(data_records::uscc.eq(uscc))
        .filter(data_records::category.eq(category))
        .filter(data_records::record_date.eq(date))
        .filter(data_records::superseded_by.is_null())
        .order(data_records::id.asc())
        .select(DataRecord::as_select())
        .load(conn)?)
}

/// The highest version held of one (enterprise, category, date), 0 when none.
pub fn last_version(conn: &mut DbConn, uscc: &str, category: &str, date: &str) -> StorageResult<i64> {
    Ok(data_records::table
        .filter(data_records::uscc.eq(uscc))
        .filter(data_records::category.eq(category))
        .filter(data_records::record_date.eq(date))
        .select(diesel::dsl::max(data_records::version))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0))
}

/// Marks records superseded by `batch` at `at` (they are kept; releases no longer read them).
pub fn supersede(conn: &mut DbConn, ids: &[i64], batch: &str, at: i64) -> StorageResult<usize> {
    Ok(
        diesel::update(data_records::table.filter(data_records::id.eq_any(ids)))
            .set((
                data_records::superseded_by.eq(batch),
                data_records::superseded_at.eq(at),
            ))
            .execute(conn)?,
    )
}

/// Stores the content id of a record held before signed intake (computed when a batch first
/// touches its key).
pub fn set_content_id(conn: &mut DbConn, id: i64, content_id: &str) -> StorageResult<usize> {
    Ok(diesel::update(data_records::table.find(id))
        .set(data_records::content_id.eq(content_id))
        .execute(conn)?)
}

/// Every record (current and superseded) that came in `batch`, in insertion order.
pub fn of_batch(conn: &mut DbConn, batch: &str) -> StorageResult<Vec<DataRecord>> {
    Ok(data_records::table
        .filter(data_records::batch_id.eq(batch))
        .order(data_records::id.asc())
        .select(DataRecord::as_select())
        .load(conn)?)
}

/// Current records held per providing department: `(provider, records)`, by provider.
pub fn held_by_provider(conn: &mut DbConn) -> StorageResult<Vec<(String, i64)>> {
    Ok(data_records::table
        .filter(data_records::superseded_by.is_null())
        .group_by(data_records::provider)
        .select((data_records::provider, diesel::dsl::count_star()))
        .order(data_records::provider.asc())
        .load(conn)?)
}
