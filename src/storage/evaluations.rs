//! Credit evaluations the node issued (`spec/evaluation.md`): one row per `CreditEvaluation`
//! credential, written in the same transaction as the access-log release that carried it.

use diesel::prelude::*;

use super::schema::evaluations;
use super::{DbConn, StorageResult};

/// A stored evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = evaluations)]
pub struct StoredEvaluation {
    /// The credential id (`urn:uuid:…`).
    pub id: String,
    /// The enterprise evaluated.
    pub enterprise_uscc: String,
    /// The platform (or the node) that asked for it.
    pub requested_by: String,
    /// The grant it was computed under.
    pub grant_id: String,
    /// The model's id.
    pub model_id: String,
    /// The model's version.
    pub model_version: i64,
    /// The grade.
    pub grade: String,
    /// The score, 0–100.
    pub score: i64,
    /// The status list holding its withdrawal bit.
    pub status_list: i64,
    /// The index in that list.
    pub status_index: i64,
    /// Issued at, ms.
    pub issued_at: i64,
    /// Valid until, ms.
    pub valid_until: i64,
    /// Withdrawn at, ms.
    pub withdrawn_at: Option<i64>,
    /// The release entry that carried it.
    pub log_index: i64,
    /// The signed credential, JSON.
    pub credential: String,
}

/// Inserts an evaluation. Call inside the log-append transaction of its release.
pub fn insert(conn: &mut DbConn, e: &StoredEvaluation) -> StorageResult<()> {
    crate::on_backend!(conn, |c| diesel::insert_into(evaluations::table)
        .values(e)
        .execute(c))?;
    Ok(())
}

/// An evaluation by id.
pub fn get(conn: &mut DbConn, id: &str) -> StorageResult<Option<StoredEvaluation>> {
    Ok(evaluations::table
        .filter(evaluations::id.eq(id))
        .select(StoredEvaluation::as_select())
        .first(conn)
        .optional()?)
}

/// The newest evaluation of an enterprise (withdrawn or not).
pub fn latest_of(conn: &mut DbConn, enterprise: &str) -> StorageResult<Option<StoredEvaluation>> {
    Ok(evaluations::table
        .filter(evaluations::enterprise_uscc.eq(enterprise))
        .order((evaluations::issued_at.desc(), evaluations::id.desc()))
        .select(StoredEvaluation::as_select())
        .first(conn)
        .optional()?)
}

/// Marks an evaluation withdrawn. Call inside the log-append transaction that records it (which
/// also sets its status bit).
pub fn mark_withdrawn(conn: &mut DbConn, id: &str, at: i64) -> StorageResult<()> {
    diesel::update(evaluations::table.filter(evaluations::id.eq(id)))
        .set(evaluations::withdrawn_at.eq(at))
        .execute(conn)?;
    Ok(())
}

/// How many evaluations are stored (withdrawn or not).
pub fn count(conn: &mut DbConn) -> StorageResult<i64> {
    Ok(evaluations::table.count().get_result(conn)?)
}
