//! Portal sessions (spec/security.md §3.2): the SHA-256 of each session's cookie token, its
//! participant, the key that opened it, its CSRF token and its clock. The token itself is never stored.

use diesel::prelude::*;

use super::schema::portal_sessions;
use super::{DbConn, StorageResult};

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = portal_sessions)]
pub struct SessionRow {
    /// SHA-256 (hex) of the cookie token.
    pub token_sha256: String,
    /// The participant signed in.
    pub participant_id: i64,
    /// The did:key that signed the challenge.
    pub did: String,
    /// The CSRF token.
    pub csrf: String,
    /// Opened, ms.
    pub created_at: i64,
    /// Last used, ms.
    pub last_seen: i64,
    /// Hard expiry, ms.
    pub expires_at: i64,
    /// Ended (sign-out, or the participant's key or state changed), ms.
    pub ended_at: Option<i64>,
}

/// Stores a new session.
pub fn insert(conn: &mut DbConn, row: &SessionRow) -> StorageResult<()> {
    diesel::insert_into(portal_sessions::table)
        .values((
            portal_sessions::token_sha256.eq(&row.token_sha256),
            portal_sessions::participant_id.eq(row.participant_id),
            portal_sessions::did.eq(&row.did),
            portal_sessions::csrf.eq(&row.csrf),
            portal_sessions::created_at.eq(row.created_at),
            portal_sessions::last_seen.eq(row.last_seen),
            portal_sessions::expires_at.eq(row.expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The session with this token hash.
pub fn get(conn: &mut DbConn, token_sha256: &str) -> StorageResult<Option<SessionRow>> {
    Ok(portal_sessions::table
        .find(token_sha256)
        .select(SessionRow::as_select())
        .first(conn)
        .optional()?)
}

/// Records a use of a session.
pub fn touch(conn: &mut DbConn, token_sha256: &str, now: i64) -> StorageResult<()> {
    diesel::update(portal_sessions::table.find(token_sha256))
        .set(portal_sessions::last_seen.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Ends one session (sign-out).
pub fn end(conn: &mut DbConn, token_sha256: &str, now: i64) -> StorageResult<()> {
    diesel::update(portal_sessions::table.find(token_sha256))
        .set(portal_sessions::ended_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Ends every open session of a participant (its key was rotated or recovered, or it was
/// suspended or removed); returns how many were open.
pub fn end_all_of(conn: &mut DbConn, participant_id: i64, now: i64) -> StorageResult<usize> {
    Ok(diesel::update(
        portal_sessions::table
            .filter(portal_sessions::participant_id.eq(participant_id))
            .filter(portal_sessions::ended_at.is_null()),
    )
    .set(portal_sessions::ended_at.eq(now))
    .execute(conn)?)
}
