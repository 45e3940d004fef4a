//! Stored consent requests (spec/consent-requests.md): one row per request. Written only inside the
//! log committer's transaction (creation, withdrawal, decline, expiry, and the answering grant's own
//! submission), so a request's state changes exactly when the change that caused it commits.

use diesel::prelude::*;

use super::schema::consent_requests as cr;
use super::{BadValue, DbConn, StorageResult};
use crate::grant::request::ConsentRequestState;
use crate::ids::ConsentRequestId;
use crate::policy::Role;

impl TryFrom<String> for ConsentRequestId {
    type Error = BadValue;
    fn try_from(value: String) -> Result<Self, BadValue> {
        ConsentRequestId::parse(&value).map_err(|_| BadValue {
            kind: "consent request id",
            value,
        })
    }
}

impl From<ConsentRequestId> for String {
    fn from(id: ConsentRequestId) -> String {
        id.as_str().to_owned()
    }
}

/// A consent request row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = cr)]
pub struct ConsentRequestRow {
    /// Insertion order: the list cursor.
    pub seq: i64,
    /// `creq-<uuid>`.
    #[diesel(deserialize_as = String)]
    pub id: ConsentRequestId,
    /// The requester (the authenticated caller that created it).
    pub requester_uscc: String,
    /// Its role: platform or bank.
    #[diesel(deserialize_as = String)]
    pub requester_role: Role,
    /// The enterprise asked.
    pub enterprise_uscc: String,
    /// The requested terms (a grant's `credentialSubject` without letters), JSON.
    pub terms: String,
    /// Earliest `validFrom`, ms.
    pub valid_from: i64,
    /// Latest `validUntil`, ms.
    pub valid_until: i64,
    /// The requester's message to the enterprise (may be empty).
    pub message: String,
    /// Its state.
    #[diesel(deserialize_as = String)]
    pub state: ConsentRequestState,
    /// The grant that answered it (state `signed`).
    pub grant_id: Option<String>,
    /// The enterprise's reason for declining, if it gave one.
    pub decline_reason: Option<String>,
    /// Created at, ms.
    pub created_at: i64,
    /// Expires at, ms (pending until then at the latest).
    pub expires_at: i64,
    /// When it left `pending`, ms.
    pub answered_at: Option<i64>,
}

/// A request to insert (the row without `seq` and with state `pending`).
#[derive(Debug, Clone)]
pub struct NewConsentRequest<'a> {
    /// Its id.
    pub id: &'a ConsentRequestId,
    /// The requester.
    pub requester_uscc: &'a str,
    /// Its role.
    pub requester_role: Role,
    /// The enterprise asked.
    pub enterprise_uscc: &'a str,
    /// The requested terms, JSON.
    pub terms: &'a str,
    /// Earliest `validFrom`, ms.
    pub valid_from: i64,
    /// Latest `validUntil`, ms.
    pub valid_until: i64,
    /// The message.
    pub message: &'a str,
    /// Created at, ms.
    pub created_at: i64,
    /// Expires at, ms.
    pub expires_at: i64,
}

/// Inserts a pending request.
pub fn insert(conn: &mut DbConn, r: &NewConsentRequest<'_>) -> StorageResult<()> {
    diesel::insert_into(cr::table)
        .values((
            cr::id.eq(r.id.as_str()),
            cr::requester_uscc.eq(r.requester_uscc),
            cr::requester_role.eq(r.requester_role.as_str()),
            cr::enterprise_uscc.eq(r.enterprise_uscc),
            cr::terms.eq(r.terms),
            cr::valid_from.eq(r.valid_from),
            cr::valid_until.eq(r.valid_until),
            cr::message.eq(r.message),
            cr::state.eq(ConsentRequestState::Pending.as_str()),
            cr::created_at.eq(r.created_at),
            cr::expires_at.eq(r.expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// A request by id.
pub fn get(conn: &mut DbConn, id: &str) -> StorageResult<Option<ConsentRequestRow>> {
    Ok(cr::table
        .filter(cr::id.eq(id))
        .select(ConsentRequestRow::as_select())
        .first(conn)
        .optional()?)
}

/// Who a list is for: the requests a participant made, those addressed to an enterprise, or all.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Made by this participant.
    Requester(&'a str),
    /// Addressed to this enterprise.
    Enterprise(&'a str),
    /// Every request.
    All,
}

/// A page of requests in `scope` (optionally in one state), in creation order, after cursor `after`.
pub fn list(
    conn: &mut DbConn,
    scope: Scope<'_>,
    state: Option<ConsentRequestState>,
    after: i64,
    limit: i64,
) -> StorageResult<Vec<ConsentRequestRow>> {
    let rows = crate::on_backend!(conn, |c| {
        let mut q = cr::table
            .filter(cr::seq.gt(after))
            .select(ConsentRequestRow::as_select())
            .order(cr::seq.asc())
            .limit(limit)
            .into_boxed();
        match scope {
            Scope::Requester(u) => q = q.filter(cr::requester_uscc.eq(u.to_owned())),
            Scope::Enterprise(u) => q = q.filter(cr::enterprise_uscc.eq(u.to_owned())),
            Scope::All => {}
        }
        if let Some(s) = state {
            q = q.filter(cr::state.eq(s.as_str()));
        }
        q.load(c)
    })?;
    Ok(rows)
}

/// Moves a pending request to `to` (answered at `at`), with the grant or the decline reason.
/// Returns whether it was still pending (only a pending request changes).
pub fn finish(
    conn: &mut DbConn,
    id: &str,
    to: ConsentRequestState,
    grant_id: Option<&str>,
    reason: Option<&str>,
    at: i64,
) -> StorageResult<bool> {
    let n = diesel::update(
        cr::table
            .filter(cr::id.eq(id))
            .filter(cr::state.eq(ConsentRequestState::Pending.as_str())),
    )
    .set((
        cr::state.eq(to.as_str()),
        cr::grant_id.eq(grant_id),
        cr::decline_reason.eq(reason),
        cr::answered_at.eq(at),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Pending requests whose time ran out at `now` (at most `limit`, oldest first).
pub fn due(conn: &mut DbConn, now: i64, limit: i64) -> StorageResult<Vec<ConsentRequestRow>> {
    Ok(cr::table
        .filter(cr::state.eq(ConsentRequestState::Pending.as_str()))
        .filter(cr::expires_at.le(now))
        .order(cr::seq.asc())
        .limit(limit)
        .select(ConsentRequestRow::as_select())
        .load(conn)?)
}
