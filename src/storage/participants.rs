//! Participants and their keys (with validity intervals), identity credentials and delegations.

use diesel::prelude::*;

use super::schema::{delegations, issued_credentials, participant_keys, participants};
use super::{DbConn, StorageResult};
use crate::policy::{ParticipantState, Role};

/// A participant row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = participants)]
pub struct Participant {
    /// Row id.
    pub id: i64,
    /// Unified Social Credit Code.
    pub uscc: String,
    /// Its role.
    #[diesel(deserialize_as = String)]
    pub role: Role,
    /// Name.
    pub name: String,
    /// Its admission state.
    #[diesel(deserialize_as = String)]
    pub state: ParticipantState,
    /// For banks: the platform that registered them.
    pub platform_uscc: Option<String>,
    /// For platforms: their base URL.
    pub endpoint: Option<String>,
    /// The signed registration request (enterprises) or admission note.
    pub evidence: Option<String>,
    /// Created, ms.
    pub created_at: i64,
    /// Updated, ms.
    pub updated_at: i64,
}

/// A new participant.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = participants)]
pub struct NewParticipant<'a> {
    /// Code.
    pub uscc: &'a str,
    /// Role.
    #[diesel(serialize_as = String)]
    pub role: Role,
    /// Name.
    pub name: &'a str,
    /// Initial state.
    #[diesel(serialize_as = String)]
    pub state: ParticipantState,
    /// Registering platform (banks).
    pub platform_uscc: Option<&'a str>,
    /// Base URL (platforms).
    pub endpoint: Option<&'a str>,
    /// Evidence.
    pub evidence: Option<&'a str>,
    /// Now, ms.
    pub created_at: i64,
    /// Now, ms.
    pub updated_at: i64,
}

/// A key a participant holds or held.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = participant_keys)]
pub struct ParticipantKey {
    /// Row id.
    pub id: i64,
    /// Owner.
    pub participant_id: i64,
    /// The did:key.
    pub did: String,
    /// Valid from, ms.
    pub valid_from: i64,
    /// Valid until, ms (None: current).
    pub valid_until: Option<i64>,
}

/// Inserts a participant with its first key, valid from `now`, and counts it in the statistics
/// rollup (role × state, spec/statistics.md §3.1) in the same transaction.
pub fn insert(conn: &mut DbConn, new: &NewParticipant<'_>, did: &str) -> StorageResult<Participant> {
    diesel::insert_into(participants::table)
        .values(new.clone())
        .execute(conn)?;
    super::stats::participant_added(conn, new.role.as_str(), new.state.as_str())?;
    let p = find(conn, new.uscc, new.role)?.ok_or(diesel::result::Error::NotFound)?;
    diesel::insert_into(participant_keys::table)
        .values((
            participant_keys::participant_id.eq(p.id),
            participant_keys::did.eq(did),
            participant_keys::valid_from.eq(new.created_at),
        ))
        .execute(conn)?;
    Ok(p)
}

/// The participant with this code and role.
pub fn find(conn: &mut DbConn, uscc: &str, role: Role) -> StorageResult<Option<Participant>> {
    Ok(participants::table
        .filter(participants::uscc.eq(uscc))
        .filter(participants::role.eq(role.as_str()))
        .select(Participant::as_select())
        .get_result(conn)
        .optional()?)
}

/// The participant holding this code, whatever its role: a code names one legal entity and so at
/// most one participant (the unique index `participants_one_per_uscc`, spec/security.md §3.1).
pub fn find_by_uscc(conn: &mut DbConn, uscc: &str) -> StorageResult<Option<Participant>> {
    Ok(participants::table
        .filter(participants::uscc.eq(uscc))
        .select(Participant::as_select())
        .get_result(conn)
        .optional()?)
}

/// The participant by row id.
pub fn get(conn: &mut DbConn, id: i64) -> StorageResult<Option<Participant>> {
    Ok(participants::table
        .find(id)
        .select(Participant::as_select())
        .get_result(conn)
        .optional()?)
}

/// The participant holding `did`, with the key row, whatever the key's interval.
pub fn find_by_did(conn: &mut DbConn, did: &str) -> StorageResult<Option<(Participant, ParticipantKey)>> {
    Ok(participant_keys::table
        .inner_join(participants::table.on(participants::id.eq(participant_keys::participant_id)))
        .filter(participant_keys::did.eq(did))
        .select((Participant::as_select(), ParticipantKey::as_select()))
        .get_result(conn)
        .optional()?)
}

/// Every key of a participant, oldest first.
pub fn keys(conn: &mut DbConn, participant_id: i64) -> StorageResult<Vec<ParticipantKey>> {
    Ok(participant_keys::table
        .filter(participant_keys::participant_id.eq(participant_id))
        .order(participant_keys::valid_from.asc())
        .select(ParticipantKey::as_select())
        .load(conn)?)
}

/// Closes the current key at `at` and adds `new_did`, valid from `at`.
pub fn rotate_key(conn: &mut DbConn, participant_id: i64, new_did: &str, at: i64) -> StorageResult<()> {
    diesel::update(
        participant_keys::table
            .filter(participant_keys::participant_id.eq(participant_id))
            .filter(participant_keys::valid_until.is_null()),
    )
    .set(participant_keys::valid_until.eq(at))
    .execute(conn)?;
    diesel::insert_into(participant_keys::table)
        .values((
            participant_keys::participant_id.eq(participant_id),
            participant_keys::did.eq(new_did),
            participant_keys::valid_from.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Sets a participant's state, moving it between the statistics rollup's states in the same
/// transaction (spec/statistics.md §3.1).
pub fn set_state(conn: &mut DbConn, id: i64, state: ParticipantState, now: i64) -> StorageResult<()> {
    let state = state.as_str();
    let before: Option<(String, String)> = participants::table
        .find(id)
        .select((participants::role, participants::state))
        .get_result(conn)
        .optional()?;
    diesel::update(participants::table.find(id))
        .set((participants::state.eq(state), participants::updated_at.eq(now)))
        .execute(conn)?;
    if let Some((role, old)) = before {
        super::stats::participant_moved(conn, &role, &old, state)?;
    }
    Ok(())
}

/// Participants, filtered by role, state (its spelling: a filter from a query may name no state
/// and then matches nothing) and registering platform, in creation order.
pub fn list(
    conn: &mut DbConn,
    role: Option<&str>,
    state: Option<&str>,
    platform: Option<&str>,
) -> StorageResult<Vec<Participant>> {
    let mut q = participants::table
        .select(Participant::as_select())
        .order(participants::id.asc())
        .into_boxed();
    if let Some(r) = role {
        q = q.filter(participants::role.eq(r.to_owned()));
    }
    if let Some(s) = state {
        q = q.filter(participants::state.eq(s.to_owned()));
    }
    if let Some(p) = platform {
        q = q.filter(participants::platform_uscc.eq(p.to_owned()));
    }
    Ok(q.load(conn)?)
}

/// Stores a credential the node issued.
pub fn store_credential(
    conn: &mut DbConn,
    id: &str,
    participant_id: i64,
    kind: &str,
    body: &str,
    at: i64,
) -> StorageResult<()> {
    diesel::insert_into(issued_credentials::table)
        .values((
            issued_credentials::id.eq(id),
            issued_credentials::participant_id.eq(participant_id),
            issued_credentials::kind.eq(kind),
            issued_credentials::body.eq(body),
            issued_credentials::issued_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The newest credential of a kind issued to a participant.
pub fn latest_credential(
    conn: &mut DbConn,
    participant_id: i64,
    kind: &str,
) -> StorageResult<Option<String>> {
    Ok(issued_credentials::table
        .filter(issued_credentials::participant_id.eq(participant_id))
        .filter(issued_credentials::kind.eq(kind))
        .order(issued_credentials::issued_at.desc())
        .select(issued_credentials::body)
        .first(conn)
        .optional()?)
}

/// A delegation row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = delegations)]
pub struct Delegation {
    /// The delegation credential's id.
    pub id: String,
    /// The enterprise.
    pub enterprise_id: i64,
    /// The agent's did:key.
    pub agent_did: String,
    /// The agent's name.
    pub agent_name: String,
    /// JSON array of allowed actions.
    pub scope: String,
    /// The signed delegation credential.
    pub body: String,
    /// Valid from, ms.
    pub valid_from: i64,
    /// Valid until, ms.
    pub valid_until: i64,
    /// Revoked at, ms.
    pub revoked_at: Option<i64>,
}

/// Stores a delegation.
pub fn insert_delegation(conn: &mut DbConn, d: &Delegation) -> StorageResult<()> {
    diesel::insert_into(delegations::table)
        .values((
            delegations::id.eq(&d.id),
            delegations::enterprise_id.eq(d.enterprise_id),
            delegations::agent_did.eq(&d.agent_did),
            delegations::agent_name.eq(&d.agent_name),
            delegations::scope.eq(&d.scope),
            delegations::body.eq(&d.body),
            delegations::valid_from.eq(d.valid_from),
            delegations::valid_until.eq(d.valid_until),
        ))
        .execute(conn)?;
    Ok(())
}

/// Delegations held by an agent key.
pub fn delegations_of_agent(conn: &mut DbConn, agent_did: &str) -> StorageResult<Vec<Delegation>> {
    Ok(delegations::table
        .filter(delegations::agent_did.eq(agent_did))
        .select(Delegation::as_select())
        .load(conn)?)
}

/// Delegations an enterprise has made.
pub fn delegations_of(conn: &mut DbConn, enterprise_id: i64) -> StorageResult<Vec<Delegation>> {
    Ok(delegations::table
        .filter(delegations::enterprise_id.eq(enterprise_id))
        .select(Delegation::as_select())
        .load(conn)?)
}

/// Revokes a delegation.
pub fn revoke_delegation(conn: &mut DbConn, id: &str, at: i64) -> StorageResult<usize> {
    Ok(diesel::update(
        delegations::table
            .find(id)
            .filter(delegations::revoked_at.is_null()),
    )
    .set(delegations::revoked_at.eq(at))
    .execute(conn)?)
}

/// Records the 设区市 a platform covers (call inside the transaction that admits it).
pub fn set_regions(conn: &mut DbConn, platform: &str, regions: &[String]) -> StorageResult<()> {
    use super::schema::platform_regions as r;
    diesel::delete(r::table.filter(r::platform_uscc.eq(platform))).execute(conn)?;
    for region in regions {
        crate::on_backend!(conn, |c| diesel::insert_into(r::table)
            .values((r::platform_uscc.eq(platform), r::region.eq(region)))
            .execute(c))?;
    }
    Ok(())
}

/// The 设区市 a platform covers, in code order.
pub fn regions(conn: &mut DbConn, platform: &str) -> StorageResult<Vec<String>> {
    use super::schema::platform_regions as r;
    Ok(r::table
        .filter(r::platform_uscc.eq(platform))
        .order(r::region)
        .select(r::region)
        .load(conn)?)
}

/// Who (USCC) last set the bank `bank` to `state`, read from the access log's participant entries
/// (the actor is the entry's caller): the node's operator, or the bank's platform.
pub fn last_set_by(conn: &mut DbConn, bank: &str, state: &str) -> StorageResult<Option<String>> {
    use super::schema::log_leaves as l;
    Ok(l::table
        .filter(l::kind.eq(i16::from(crate::log::entry::EntryKind::Participant as u8)))
        .filter(l::bank_uscc.eq(bank))
        .filter(l::decision.eq(state))
        .order(l::seq.desc())
        .select(l::caller_uscc)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{StorageError, Store};

    /// A stored state or role that is none of the enum's spellings is `Corrupt`, never a default.
    #[test]
    fn an_unknown_stored_spelling_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}/t.db", dir.path().display()), 1).unwrap();
        let new = NewParticipant {
            uscc: "91350100M000100Y43",
            role: Role::Enterprise,
            name: "x",
            state: ParticipantState::Pending,
            platform_uscc: None,
            endpoint: None,
            evidence: None,
            created_at: 1,
            updated_at: 1,
        };
        let p = store
            .run(|c| {
                insert(
                    c,
                    &new,
                    "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
                )
            })
            .unwrap();
        assert_eq!((p.role, p.state), (Role::Enterprise, ParticipantState::Pending));
        // The schema's CHECK constraints refuse such a value; corruption does not ask.
        store
            .run(|c| {
                crate::on_backend!(c, |c| diesel::sql_query("PRAGMA ignore_check_constraints = ON")
                    .execute(c))?;
                Ok(())
            })
            .unwrap();
        for (column, value) in [("state", "Active"), ("role", "banq")] {
            let sql = format!("UPDATE participants SET {column} = '{value}'");
            store
                .run(|c| {
                    crate::on_backend!(c, |c| diesel::sql_query(&sql).execute(c))?;
                    Ok(())
                })
                .unwrap();
            match store.run(|c| get(c, p.id)) {
                Err(StorageError::Corrupt(m)) => assert!(m.contains(value), "{m}"),
                other => panic!("{column} {value:?}: {other:?}"),
            }
            store
                .run(|c| {
                    let fix = "UPDATE participants SET state = 'pending', role = 'enterprise'";
                    crate::on_backend!(c, |c| diesel::sql_query(fix).execute(c))?;
                    Ok(())
                })
                .unwrap();
        }
    }
}
