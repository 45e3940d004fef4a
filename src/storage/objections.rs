//! Stored objections (spec/objections.md): one row per objection, its signed steps in order, and the
//! data corrections resolutions made. Written only inside the log committer's transaction, together
//! with the step's log entry.

use diesel::prelude::*;

use super::schema::{data_corrections, objection_steps, objections};
use super::{BadValue, DbConn, StorageResult};
use crate::ids::ObjectionId;

/// An objection's state, and the name of the step that led to it (spec/objections.md):
///
/// ```text
/// received ─▶ forwarded ─▶ under-review ─▶ corrected | rejected
/// ```
///
/// Which step may follow which is the node's rule (`crate::node::objections`); the spellings are
/// here, with the rows that store them, the one place each is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectionState {
    /// The receiver has it.
    Received,
    /// The node has it.
    Forwarded,
    /// The node is reviewing it.
    UnderReview,
    /// Upheld: the data (or the finding on the access entry) was corrected.
    Corrected,
    /// Not upheld.
    Rejected,
}

impl ObjectionState {
    /// Every state, in the order of the steps.
    pub const ALL: [Self; 5] = [
        Self::Received,
        Self::Forwarded,
        Self::UnderReview,
        Self::Corrected,
        Self::Rejected,
    ];

    /// The kebab-case name stored and shown.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Forwarded => "forwarded",
            Self::UnderReview => "under-review",
            Self::Corrected => "corrected",
            Self::Rejected => "rejected",
        }
    }

    /// The state for its name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Serialized as its name ([`ObjectionState::as_str`]), as the answers show it.
impl serde::Serialize for ObjectionState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A stored objection id that does not parse is [`BadValue`], hence
/// [`StorageError::Corrupt`](super::StorageError::Corrupt).
impl TryFrom<String> for ObjectionId {
    type Error = BadValue;
    fn try_from(value: String) -> Result<Self, BadValue> {
        ObjectionId::parse(&value).map_err(|_| BadValue {
            kind: "objection id",
            value,
        })
    }
}

impl From<ObjectionId> for String {
    fn from(id: ObjectionId) -> String {
        id.as_str().to_owned()
    }
}

/// An objection row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = objections)]
pub struct ObjectionRow {
    /// `obj-<uuid>`.
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub id: ObjectionId,
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
    /// Its state.
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub state: ObjectionState,
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
    #[diesel(deserialize_as = String)]
    pub objection_id: ObjectionId,
    /// The state it moved to.
    #[diesel(deserialize_as = String)]
    pub step: ObjectionState,
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
#[derive(Debug, Clone)]
pub struct NewStep<'a> {
    /// The objection.
    pub objection_id: &'a ObjectionId,
    /// The state it moves to.
    pub step: ObjectionState,
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
    #[diesel(deserialize_as = String)]
    pub objection_id: ObjectionId,
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
    // By value: the id and the state are written through their `serialize_as` conversions.
    diesel::insert_into(objections::table)
        .values(row.clone())
        .execute(conn)?;
    Ok(())
}

/// An objection by id.
pub fn get(conn: &mut DbConn, id: &ObjectionId) -> StorageResult<Option<ObjectionRow>> {
    Ok(objections::table
        .find(id.as_str())
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
        .values((
            objection_steps::objection_id.eq(step.objection_id.as_str()),
            objection_steps::step.eq(step.step.as_str()),
            objection_steps::actor_uscc.eq(step.actor_uscc),
            objection_steps::actor_role.eq(step.actor_role),
            objection_steps::actor_did.eq(step.actor_did),
            objection_steps::statement.eq(step.statement),
            objection_steps::sha256.eq(step.sha256),
            objection_steps::prev_sha256.eq(step.prev_sha256),
            objection_steps::at.eq(step.at),
            objection_steps::log_seq.eq(step.log_seq),
        ))
        .execute(conn)?;
    let target = objections::table.find(step.objection_id.as_str());
    match forwarded_at {
        Some(f) => diesel::update(target)
            .set((
                objections::state.eq(step.step.as_str()),
                objections::forwarded_at.eq(Some(f)),
                objections::updated_at.eq(step.at),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((
                objections::state.eq(step.step.as_str()),
                objections::updated_at.eq(step.at),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// The steps of an objection, in order.
pub fn steps(conn: &mut DbConn, id: &ObjectionId) -> StorageResult<Vec<StepRow>> {
    Ok(objection_steps::table
        .filter(objection_steps::objection_id.eq(id.as_str()))
        .order(objection_steps::id.asc())
        .select(StepRow::as_select())
        .load(conn)?)
}

/// The corrections an objection made.
pub fn corrections(conn: &mut DbConn, id: &ObjectionId) -> StorageResult<Vec<CorrectionRow>> {
    Ok(data_corrections::table
        .filter(data_corrections::objection_id.eq(id.as_str()))
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

/// Whether any of the records was corrected by a log entry at index `from` or later (a correction
/// committed after a reader started at log size `from`, so the reader may hold the old fields).
pub fn corrected_since(conn: &mut DbConn, record_ids: &[i64], from: u64) -> StorageResult<bool> {
    let from = i64::try_from(from).unwrap_or(i64::MAX);
    let n: i64 = data_corrections::table
        .filter(data_corrections::record_id.eq_any(record_ids))
        .filter(data_corrections::log_seq.ge(from))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Records a correction.
pub fn add_correction(
    conn: &mut DbConn,
    record_id: i64,
    objection_id: &ObjectionId,
    old_body: &str,
    new_body: &str,
    at: i64,
    log_seq: i64,
) -> StorageResult<()> {
    diesel::insert_into(data_corrections::table)
        .values((
            data_corrections::record_id.eq(record_id),
            data_corrections::objection_id.eq(objection_id.as_str()),
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
    pub state: Option<ObjectionState>,
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
    if let Some(s) = f.state {
        q = q.filter(objections::state.eq(s.as_str()));
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
        .filter(objections::state.eq(ObjectionState::Received.as_str()))
        .filter(objections::deadline_at.lt(now))
        .filter(objections::overdue_flagged_at.is_null())
        .select(ObjectionRow::as_select())
        .limit(limit)
        .load(conn)?)
}

/// Objections still waiting to be forwarded, counted by their deadline's risk at `now` (ms): past
/// it, within `soon` ms of it, and unknown (the calendar lacked the year). Reads the
/// `objections_state` index only (for `/metrics`).
pub fn deadline_risk(conn: &mut DbConn, now: i64, soon: i64) -> StorageResult<(u64, u64, u64)> {
    let waiting = || objections::table.filter(objections::state.eq(ObjectionState::Received.as_str()));
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    let overdue: i64 = waiting()
        .filter(objections::deadline_at.lt(now))
        .count()
        .get_result(conn)?;
    let due: i64 = waiting()
        .filter(objections::deadline_at.ge(now))
        .filter(objections::deadline_at.lt(now.saturating_add(soon)))
        .count()
        .get_result(conn)?;
    let unknown: i64 = waiting()
        .filter(objections::deadline_at.is_null())
        .count()
        .get_result(conn)?;
    Ok((count(overdue), count(due), count(unknown)))
}

/// Objections whose deadline is unknown (the calendar lacked a year), by id, after `after` (a
/// cursor: the sweep pages through all of them).
pub fn without_deadline(
    conn: &mut DbConn,
    after: Option<&ObjectionId>,
    limit: i64,
) -> StorageResult<Vec<ObjectionRow>> {
    let mut q = objections::table
        .filter(objections::deadline_at.is_null())
        .into_boxed();
    if let Some(id) = after {
        q = q.filter(objections::id.gt(id.as_str().to_owned()));
    }
    Ok(q.order(objections::id.asc())
        .select(ObjectionRow::as_select())
        .limit(limit)
        .load(conn)?)
}

/// Sets a deadline found later (a calendar for the missing year was loaded).
pub fn set_deadline(conn: &mut DbConn, id: &ObjectionId, deadline_at: i64) -> StorageResult<()> {
    diesel::update(
        objections::table
            .find(id.as_str())
            .filter(objections::deadline_at.is_null()),
    )
    .set(objections::deadline_at.eq(Some(deadline_at)))
    .execute(conn)?;
    Ok(())
}

/// Marks the regulators as told (`overdue` or `calendar`).
pub fn mark_flagged(conn: &mut DbConn, id: &ObjectionId, overdue: bool, at: i64) -> StorageResult<()> {
    let target = objections::table.find(id.as_str());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{StorageError, Store};

    #[test]
    fn state_spellings() {
        for s in ObjectionState::ALL {
            assert_eq!(ObjectionState::parse(s.as_str()), Some(s));
        }
        for bad in ["", "Received", "under_review", "underreview", "pending"] {
            assert_eq!(ObjectionState::parse(bad), None, "{bad}");
        }
    }

    /// A stored state or id that does not parse is `Corrupt`, never a default.
    #[test]
    fn an_unknown_stored_spelling_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}/t.db", dir.path().display()), 1).unwrap();
        let id = ObjectionId::random();
        let row = ObjectionRow {
            id: id.clone(),
            enterprise_uscc: "91350100M000100Y43".into(),
            target_kind: "data".into(),
            target_ref: "1".into(),
            reason: "r".into(),
            attachments: "[]".into(),
            filing: "f".into(),
            filing_sha256: "00".into(),
            received_by: "91350100M000100Y43".into(),
            received_role: "node".into(),
            filed_at: 1,
            received_at: 1,
            deadline_at: None,
            forwarded_at: None,
            state: ObjectionState::Received,
            overdue_flagged_at: None,
            calendar_flagged_at: None,
            updated_at: 1,
        };
        store.run(|c| insert(c, &row)).unwrap();
        assert_eq!(store.run(|c| get(c, &id)).unwrap(), Some(row));
        // The schema's CHECK constraints refuse such a value; corruption does not ask.
        store
            .run(|c| {
                crate::on_backend!(c, |c| diesel::sql_query("PRAGMA ignore_check_constraints = ON")
                    .execute(c))?;
                Ok(())
            })
            .unwrap();
        let sql = "UPDATE objections SET state = 'Received'";
        store
            .run(|c| {
                crate::on_backend!(c, |c| diesel::sql_query(sql).execute(c))?;
                Ok(())
            })
            .unwrap();
        match store.run(|c| get(c, &id)) {
            Err(StorageError::Corrupt(m)) => assert!(m.contains("Received"), "{m}"),
            other => panic!("{other:?}"),
        }
        let sql = "UPDATE objections SET state = 'received', id = 'obj-other'";
        store
            .run(|c| {
                crate::on_backend!(c, |c| diesel::sql_query(sql).execute(c))?;
                Ok(())
            })
            .unwrap();
        match store.run(|c| {
            list(
                c,
                &Filter {
                    limit: 10,
                    ..Filter::default()
                },
            )
        }) {
            Err(StorageError::Corrupt(m)) => assert!(m.contains("obj-other"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
