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
        .order((data_records::record_date.asc(), data_records::id.asc()))
        .select(DataRecord::as_select())
        .load(conn)?)
}

/// Every record of an enterprise (its free self-query), oldest first.
pub fn of_enterprise(conn: &mut DbConn, uscc: &str) -> StorageResult<Vec<DataRecord>> {
    Ok(data_records::table
        .filter(data_records::uscc.eq(uscc))
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
