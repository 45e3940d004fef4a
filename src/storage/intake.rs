//! Signed data intake (`spec/intake.md`): the batches received and the providing departments'
//! bindings to their catalog provider.

use diesel::prelude::*;

use super::schema::{department_providers, intake_batches};
use super::{DbConn, StorageResult};

/// A batch as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = intake_batches)]
pub struct Batch {
    /// Row id (the list cursor).
    pub id: i64,
    /// The batch id (hex SHA-256 of the batch document's JCS bytes).
    pub batch_id: String,
    /// The providing department's catalog code.
    pub provider: String,
    /// Who submitted it (a department, or the node for `consentry admin import`).
    pub submitter_uscc: String,
    /// The submitter's role.
    pub submitter_role: String,
    /// The key that signed it.
    pub signer_did: String,
    /// The department's own reference, if given.
    pub reference: Option<String>,
    /// Records in the batch.
    pub records: i64,
    /// Records new to the node.
    pub new_records: i64,
    /// Records that are new versions of held ones.
    pub new_versions: i64,
    /// Records the node already held (nothing written for them).
    pub already_held: i64,
    /// The signed statement as received (evidence).
    pub evidence: String,
    /// The access-log entry that recorded it.
    pub log_index: i64,
    /// When it was received, ms.
    pub received_at: i64,
}

/// A batch to store.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = intake_batches)]
pub struct NewBatch<'a> {
    /// See [`Batch::batch_id`].
    pub batch_id: &'a str,
    /// See [`Batch::provider`].
    pub provider: &'a str,
    /// See [`Batch::submitter_uscc`].
    pub submitter_uscc: &'a str,
    /// See [`Batch::submitter_role`].
    pub submitter_role: &'a str,
    /// See [`Batch::signer_did`].
    pub signer_did: &'a str,
    /// See [`Batch::reference`].
    pub reference: Option<&'a str>,
    /// See [`Batch::records`].
    pub records: i64,
    /// See [`Batch::new_records`].
    pub new_records: i64,
    /// See [`Batch::new_versions`].
    pub new_versions: i64,
    /// See [`Batch::already_held`].
    pub already_held: i64,
    /// See [`Batch::evidence`].
    pub evidence: &'a str,
    /// See [`Batch::log_index`].
    pub log_index: i64,
    /// See [`Batch::received_at`].
    pub received_at: i64,
}

/// Stores a batch.
pub fn insert(conn: &mut DbConn, b: &NewBatch<'_>) -> StorageResult<usize> {
    Ok(diesel::insert_into(intake_batches::table)
        .values(b)
        .execute(conn)?)
}

/// A batch by its batch id.
pub fn find(conn: &mut DbConn, batch_id: &str) -> StorageResult<Option<Batch>> {
    Ok(intake_batches::table
        .filter(intake_batches::batch_id.eq(batch_id))
        .select(Batch::as_select())
        .first(conn)
        .optional()?)
}

/// Batches in receipt order after row `after`, at most `limit`; only `submitter`'s when given.
pub fn list(conn: &mut DbConn, submitter: Option<&str>, after: i64, limit: i64) -> StorageResult<Vec<Batch>> {
    let q = intake_batches::table
        .filter(intake_batches::id.gt(after))
        .select(Batch::as_select())
        .order(intake_batches::id.asc())
        .limit(limit);
    Ok(match submitter {
        Some(s) => q.filter(intake_batches::submitter_uscc.eq(s)).load(conn)?,
        None => q.load(conn)?,
    })
}

/// Per providing department (catalog provider code, in code order): batches received, records
/// they wrote (new records and new versions) and records they repeated (already held). Reads the
/// batches, never the records.
pub fn by_provider(conn: &mut DbConn) -> StorageResult<Vec<(String, i64, i64, i64)>> {
    let rows: Vec<(String, i64, i64, i64)> = intake_batches::table
        .select((
            intake_batches::provider,
            intake_batches::new_records,
            intake_batches::new_versions,
            intake_batches::already_held,
        ))
        .load(conn)?;
    let mut out: std::collections::BTreeMap<String, (i64, i64, i64)> = Default::default();
    for (p, new, versions, held) in rows {
        let e = out.entry(p).or_default();
        e.0 += 1;
        e.1 += new + versions;
        e.2 += held;
    }
    Ok(out.into_iter().map(|(p, (b, r, h))| (p, b, r, h)).collect())
}

/// Number of batches stored.
pub fn count(conn: &mut DbConn) -> StorageResult<i64> {
    Ok(intake_batches::table.count().get_result(conn)?)
}

/// Binds a department participant to its catalog provider.
pub fn bind(conn: &mut DbConn, participant_id: i64, provider: &str) -> StorageResult<usize> {
    Ok(diesel::insert_into(department_providers::table)
        .values((
            department_providers::participant_id.eq(participant_id),
            department_providers::provider.eq(provider),
        ))
        .execute(conn)?)
}

/// The catalog provider a department participant is bound to.
pub fn provider_of(conn: &mut DbConn, participant_id: i64) -> StorageResult<Option<String>> {
    Ok(department_providers::table
        .find(participant_id)
        .select(department_providers::provider)
        .first(conn)
        .optional()?)
}
