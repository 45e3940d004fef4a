//! The in-app inbox (`notices`): one row per event a participant was told about, kept forever and
//! never changed. Written inside the transaction of the change it reports
//! ([`crate::node::notify::enqueue`]).

use diesel::prelude::*;

use super::schema::notices;
use super::{DbConn, StorageResult};

/// A stored notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRow {
    /// Its id (increasing: newer notices have larger ids).
    pub id: i64,
    /// The kind (the event type with `-` for `.`).
    pub kind: String,
    /// The event data (JSON text).
    pub body: String,
    /// When it was written, ms.
    pub created_at: i64,
}

/// Adds a notice for participant `uscc`.
pub fn insert(conn: &mut DbConn, uscc: &str, kind: &str, body: &str, now: i64) -> StorageResult<()> {
    diesel::insert_into(notices::table)
        .values((
            notices::uscc.eq(uscc),
            notices::kind.eq(kind),
            notices::body.eq(body),
            notices::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The newest `limit` notices of participant `uscc`, newest first.
pub fn of_participant(conn: &mut DbConn, uscc: &str, limit: i64) -> StorageResult<Vec<NoticeRow>> {
    let rows: Vec<(i64, String, String, i64)> = notices::table
        .filter(notices::uscc.eq(uscc))
        .order(notices::id.desc())
        .limit(limit)
        .select((notices::id, notices::kind, notices::body, notices::created_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, body, created_at)| NoticeRow {
            id,
            kind,
            body,
            created_at,
        })
        .collect())
}
