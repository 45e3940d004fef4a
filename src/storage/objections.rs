//! Stored objections (spec/objections.md): one row per objection, its signed steps in order, and the
//! data corrections resolutions made. Written only inside the log committer's transaction, together
//! with the step's log entry.

use diesel::prelude::*;

use super::schema::{data_corrections, objection_steps, objections};
use super::{DbConn, StorageResult};

/// An objection row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = objections)]
pub struct ObjectionRow {
    /// `obj-<uuid>`.
    pub id: String,
    /// The enterprise that objects.
    pub enterprise_uscc: String,
    /// `data` or `access`.
    pub target_kind: String,
    /// The data record id or the log index, as text.
    pub target_ref: String,
    /// The enterprise's reason.
    pub reason: String,
    /// JSON array of `{name, sha256, mediaType?}`.
    pub attachments: String,
    /// The enterprise's signed filing (compact JWS).
    pub filing: String,
    /// SHA-256 (hex) of `filing`: one objection per filing.
    pub filing_sha256: String,
    /// Who received it: the node's or a platform's USCC.
    pub received_by: String,
    /// `node` or `platform`.
    pub received_role: String,
    /// When the enterprise signed the filing, ms.
    pub filed_at: i64,
    /// When the receiver received it, ms.
    pub received_at: i64,
    /// The forwarding deadline's last instant, ms; `None` while the calendar lacks a year it needs.
    pub deadline_at: Option<i64>,
    /// When it reached the node's review process, ms.
    pub forwarded_at: Option<i64>,
    /// `received`, `forwarded`, `under-review`, `corrected` or `rejected`.
    pub state: String,
    /// When the regulators were told it is overdue.
    pub overdue_flagged_at: Option<i64>,
    /// When the regulators were told its deadline cannot be computed.
    pub calendar_flagged_at: Option<i64>,
    /// Last change, ms.
    pub updated_at: i64,
}

/// A signed step.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = objection_steps)]
pub struct StepRow {
    /// Row id (orders the steps).
    pub id: i64,
    /// The objection.
    pub objection_id: String,
    /// The state it moved to.
    pub step: String,
    /// The actor's USCC.
    pub actor_uscc: String,
    /// The actor's role.
    pub actor_role: String,
    /// The key that signed the statement.
    pub actor_did: String,
    /// The actor's signed statement (compact JWS).
    pub statement: String,
    /// SHA-256 (hex) of `statement`.
    pub sha256: String,
    /// The previous step's `sha256` (the filing's digest for the first step).
    pub prev_sha256: Option<String>,
    /// When, ms.
    pub at: i64,
    /// Its log entry.
    pub log_seq: i64,
}

/// A step to record.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = objection_steps)]
pub struct NewStep<'a> {
    /// The objection.
    pub objection_id: &'a str,
    /// The state it moves to.
    pub step: &'a str,
    /// The actor's USCC.
    pub actor_uscc: &'a str,
    /// The actor's role.
    pub actor_role: &'a str,
    /// The key that signed.
    pub actor_did: &'a str,
    /// The signed statement.
    pub statement: &'a str,
    /// Its SHA-256 (hex).
    pub sha256: &'a str,
    /// The previous step's digest.
    pub prev_sha256: Option<&'a str>,
    /// When, ms.
    pub at: i64,
    /// Its log entry.
    pub log_seq: i64,
}

/// A correction of a data record.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = data_corrections)]
pub struct CorrectionRow {
    /// Row id.
    pub id: i64,
    /// The data record.
    pub record_id: i64,
    /// The objection that caused it.
    pub objection_id: String,
    /// The fields before (JSON).
    pub old_body: String,
    /// The fields after (JSON).
    pub new_body: String,
    /// When, ms.
    pub at: i64,
    /// Its log entry.
    pub log_seq: i64,
}

/// Inserts an objection.
pub fn insert(conn: &mut DbConn, row: &ObjectionRow) -> StorageResult<()> {
    diesel::insert_into(objections::table).values(row).execute(conn)?;
    Ok(())
}

/// An objection by id.
pub fn get(conn: &mut DbConn, id: &str) -> StorageResult<Option<ObjectionRow>> {
    Ok(objections::table
        .find(id)
        .select(ObjectionRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// The objection lodged with this filing, if any.
pub fn by_filing(conn: &mut DbConn, filing_sha256: &str) -> StorageResult<Option<ObjectionRow>> {
    Ok(objections::table
        .filter(objections::filing_sha256.eq(filing_sha256))
        .select(ObjectionRow::as_select())
        .first(conn)
        .optional()?)
}

/// Records a step and moves the objection to `state` (with `forwarded_at` when it is forwarded).
pub fn add_step(conn: &mut DbConn, step: &NewStep<'_>, forwarded_at: Option<i64>) -> StorageResult<()> {
    diesel::insert_into(objection_steps::table)
        .values(step)
        .execute(conn)?;
    let target = objections::table.find(step.objection_id);
    match forwarded_at {
        Some(f) => diesel::update(target)
            .set((
                objections::state.eq(step.step),
                objections::forwarded_at.eq(Some(f)),
                objections::updated_at.eq(step.at),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((
                objections::state.eq(step.step),
                objections::updated_at.eq(step.at),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// The steps of an objection, in order.
pub fn steps(conn: &mut DbConn, id: &str) -> StorageResult<Vec<StepRow>> {
    Ok(objection_steps::table
        .filter(objection_steps::objection_id.eq(id))
        .order(objection_steps::id.asc())
        .select(StepRow::as_select())
        .load(conn)?)
}

/// The corrections an objection made.
pub fn corrections(conn: &mut DbConn, id: &str) -> StorageResult<Vec<CorrectionRow>> {
    Ok(data_corrections::table
        .filter(data_corrections::objection_id.eq(id))
        .order(data_corrections::id.asc())
        .select(CorrectionRow::as_select())
        .load(conn)?)
}

/// Corrections of the given data records, oldest first (the enterprise's own-data view shows them).
pub fn corrections_of_records(conn: &mut DbConn, record_ids: &[i64]) -> StorageResult<Vec<CorrectionRow>> {
    Ok(data_corrections::table
        .filter(data_corrections::record_id.eq_any(record_ids))
        .order(data_corrections::id.asc())
        .select(CorrectionRow::as_select())
        .load(conn)?)
}

/// Records a correction.
pub fn add_correction(
    conn: &mut DbConn,
    record_id: i64,
    objection_id: &str,
    old_body: &str,
    new_body: &str,
    at: i64,
    log_seq: i64,
) -> StorageResult<()> {
    diesel::insert_into(data_corrections::table)
        .values((
            data_corrections::record_id.eq(record_id),
            data_corrections::objection_id.eq(objection_id),
            data_corrections::old_body.eq(old_body),
            data_corrections::new_body.eq(new_body),
            data_corrections::at.eq(at),
            data_corrections::log_seq.eq(log_seq),
        ))
        .execute(conn)?;
    Ok(())
}

/// Which objections to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this enterprise's.
    pub enterprise: Option<String>,
    /// Only those this participant received.
    pub received_by: Option<String>,
    /// Only in this state.
    pub state: Option<String>,
    /// Only those not forwarded whose deadline passed before this instant (ms), or forwarded late.
    pub overdue_at: Option<i64>,
    /// Only those whose deadline could not be computed.
    pub deadline_unknown: bool,
    /// Received before this instant (ms): the cursor, newest first.
    pub before: Option<(i64, String)>,
    /// Page size.
    pub limit: i64,
}

/// Objections matching `f`, newest first.
pub fn list(conn: &mut DbConn, f: &Filter) -> StorageResult<Vec<ObjectionRow>> {
    let mut q = objections::table
        .select(ObjectionRow::as_select())
        .order((objections::received_at.desc(), objections::id.desc()))
        .limit(f.limit)
        .into_boxed();
    if let Some(e) = &f.enterprise {
        q = q.filter(objections::enterprise_uscc.eq(e.clone()));
    }
    if let Some(r) = &f.received_by {
        q = q.filter(objections::received_by.eq(r.clone()));
    }
    if let Some(s) = &f.state {
        q = q.filter(objections::state.eq(s.clone()));
    }
    if let Some(now) = f.overdue_at {
        q = q.filter(
            objections::forwarded_at
                .is_null()
                .and(objections::deadline_at.lt(now))
                .or(objections::forwarded_at.gt(objections::deadline_at)),
        );
    }
    if f.deadline_unknown {
        q = q.filter(objections::deadline_at.is_null());
    }
    if let Some((at, id)) = &f.before {
        q = q.filter(
            objections::received_at
                .lt(*at)
                .or(objections::received_at.eq(*at).and(objections::id.lt(id.clone()))),
        );
    }
    Ok(q.load(conn)?)
}

/// Objections still waiting to be forwarded whose deadline has passed and that were not yet flagged.
pub fn newly_overdue(conn: &mut DbConn, now: i64, limit: i64) -> StorageResult<Vec<ObjectionRow>> {
    Ok(objections::table
        .filter(objections::state.eq("received"))
        .filter(objections::deadline_at.lt(now))
        .filter(objections::overdue_flagged_at.is_null())
        .select(ObjectionRow::as_select())
        .limit(limit)
        .load(conn)?)
}

/// Objections whose deadline is unknown (the calendar lacked a year), by id, after `after` (a
/// cursor: the sweep pages through all of them).
pub fn without_deadline(
    conn: &mut DbConn,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<ObjectionRow>> {
    let mut q = objections::table
        .filter(objections::deadline_at.is_null())
        .into_boxed();
    if let Some(id) = after {
        q = q.filter(objections::id.gt(id.to_owned()));
    }
    Ok(q.order(objections::id.asc())
        .select(ObjectionRow::as_select())
        .limit(limit)
        .load(conn)?)
}

/// Sets a deadline found later (a calendar for the missing year was loaded).
pub fn set_deadline(conn: &mut DbConn, id: &str, deadline_at: i64) -> StorageResult<()> {
    diesel::update(
        objections::table
            .find(id)
            .filter(objections::deadline_at.is_null()),
    )
    .set(objections::deadline_at.eq(Some(deadline_at)))
    .execute(conn)?;
    Ok(())
}

/// Marks the regulators as told (`overdue` or `calendar`).
pub fn mark_flagged(conn: &mut DbConn, id: &str, overdue: bool, at: i64) -> StorageResult<()> {
    let target = objections::table.find(id);
    if overdue {
        diesel::update(target)
            .set(objections::overdue_flagged_at.eq(Some(at)))
            .execute(conn)?;
    } else {
        diesel::update(target)
            .set(objections::calendar_flagged_at.eq(Some(at)))
            .execute(conn)?;
    }
    Ok(())
}
