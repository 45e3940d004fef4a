//! The enterprise's consent to the public display of its evaluation (苏信码; `spec/evaluation.md`
//! §6): one row per enterprise, changed only inside the log-append transaction that records it.

use diesel::prelude::*;

use super::schema::public_displays;
use super::{DbConn, StorageResult};

/// A stored consent.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = public_displays)]
pub struct Display {
    /// The enterprise.
    pub enterprise_uscc: String,
    /// Whether display is authorized now.
    pub authorized: bool,
    /// The evaluation the consent covers (the one current when it was given); none once revoked.
    pub evaluation_id: Option<String>,
    /// When it last changed, ms.
    pub changed_at: i64,
    /// The signed request that changed it (a `consentry-request+jwt`), kept as evidence.
    pub evidence: String,
    /// The log entry that recorded the change.
    pub log_index: i64,
}

/// The enterprise's consent, if it ever gave one.
pub fn get(conn: &mut DbConn, enterprise: &str) -> StorageResult<Option<Display>> {
    Ok(public_displays::table
        .find(enterprise)
        .select(Display::as_select())
        .first(conn)
        .optional()?)
}

/// Records the consent (insert or replace). Call inside the log-append transaction.
pub fn put(conn: &mut DbConn, d: &Display) -> StorageResult<()> {
    let updated = diesel::update(public_displays::table.find(&d.enterprise_uscc))
        .set((
            public_displays::authorized.eq(d.authorized),
            public_displays::evaluation_id.eq(&d.evaluation_id),
            public_displays::changed_at.eq(d.changed_at),
            public_displays::evidence.eq(&d.evidence),
            public_displays::log_index.eq(d.log_index),
        ))
        .execute(conn)?;
    if updated == 0 {
        crate::on_backend!(conn, |c| diesel::insert_into(public_displays::table)
            .values(d)
            .execute(c))?;
    }
    Ok(())
}
