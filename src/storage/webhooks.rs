//! Webhook endpoints (`webhook_endpoints`) and their durable outbox of deliveries
//! (`webhook_outbox`), spec/notifications.md. What is delivered when, and by whom, is decided in
//! [`crate::node::notify`]; this module only reads and writes the rows.
//!
//! * An endpoint is `active` or `deleted` (never removed: its history stays until it expires). It
//!   numbers its deliveries `1, 2, …` (`next_seq`) and is delivered by whoever holds its lease
//!   (`lease_owner` until `lease_until`); `next_attempt_at` is when its oldest pending delivery is
//!   due (`None`: nothing due).
//! * A delivery is `pending`, `delivered` or `cancelled`.
//! * The `*_locked` reads lock the endpoint rows on PostgreSQL (`FOR UPDATE`), so that an enqueue and
//!   the delivery worker's bookkeeping on the same endpoint serialize; a SQLite write transaction
//!   holds the database's write lock already. They are meant to run inside a transaction.

use diesel::prelude::*;

use super::schema::{webhook_endpoints as ep, webhook_outbox as ob};
use super::{DbConn, StorageResult};

/// A webhook endpoint's state. The states of the endpoint and delivery rows are the outbox's own
/// bookkeeping (what is pending, what was delivered), so they live here with the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointState {
    /// Receives deliveries.
    Active,
    /// Deleted by its owner (kept until its history expires).
    Deleted,
}

impl EndpointState {
    /// Every state.
    pub const ALL: [Self; 2] = [Self::Active, Self::Deleted];

    /// The stored (and JSON) spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Deleted => "deleted",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// A delivery's state in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Not yet delivered; retried until it is, or cancelled.
    Pending,
    /// Acknowledged by the endpoint.
    Delivered,
    /// Given up (its endpoint was deleted).
    Cancelled,
}

impl DeliveryState {
    /// Every state.
    pub const ALL: [Self; 3] = [Self::Pending, Self::Delivered, Self::Cancelled];

    /// The stored (and JSON) spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// A stored endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = ep)]
pub struct EndpointRow {
    /// Internal id.
    pub id: i64,
    /// The id its owner sees (a UUID).
    pub public_id: String,
    /// Where deliveries go (normalized URL).
    pub url: String,
    /// The subscribed event types, sorted, joined by `,`.
    pub events: String,
    /// The owner's note.
    pub description: Option<String>,
    /// Active or deleted.
    #[diesel(deserialize_as = String)]
    pub state: EndpointState,
    /// The sequence number of the next delivery enqueued.
    pub next_seq: i64,
    /// When the oldest pending delivery is due, ms (`None`: nothing due).
    pub next_attempt_at: Option<i64>,
    /// The process delivering to it now, if any.
    pub lease_owner: Option<String>,
    /// Registered, ms.
    pub created_at: i64,
    /// Last changed by its owner, ms.
    pub updated_at: i64,
}

/// A stored delivery.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = ob)]
pub struct OutboxRow {
    /// Internal id.
    pub id: i64,
    /// Its sequence number at its endpoint.
    pub seq: i64,
    /// The event's id (`Consentry-Event-Id`), the same on every attempt.
    pub event_id: String,
    /// The event type.
    pub event_type: String,
    /// The payload (JSON text), the same on every attempt.
    pub body: String,
    /// Pending, delivered or cancelled.
    #[diesel(deserialize_as = String)]
    pub state: DeliveryState,
    /// Attempts made.
    pub attempts: i64,
    /// Enqueued, ms.
    pub created_at: i64,
    /// When the next attempt is due, ms.
    pub next_attempt_at: i64,
    /// Last attempt, ms.
    pub last_attempt_at: Option<i64>,
    /// HTTP status of the last attempt, if it got one.
    pub last_status: Option<i64>,
    /// What went wrong in the last attempt.
    pub last_error: Option<String>,
    /// Acknowledged by the receiver, ms.
    pub delivered_at: Option<i64>,
}

/// A new endpoint.
#[derive(Debug, Clone, Copy)]
pub struct NewEndpoint<'a> {
    /// The id its owner sees (unique).
    pub public_id: &'a str,
    /// The owner (USCC).
    pub owner_uscc: &'a str,
    /// The owner's role.
    pub owner_role: &'a str,
    /// Where deliveries go (normalized URL).
    pub url: &'a str,
    /// The subscribed event types, sorted, joined by `,`.
    pub events: &'a str,
    /// The owner's note.
    pub description: Option<&'a str>,
    /// Now, ms.
    pub now: i64,
}

/// Loads endpoint rows of a query, locking them on PostgreSQL (see the module documentation).
macro_rules! load_locked {
    ($conn:expr, $q:expr) => {
        match $conn {
            DbConn::Pg(c) => $q.select(EndpointRow::as_select()).for_update().load(c)?,
            DbConn::Sqlite(c) => $q.select(EndpointRow::as_select()).load(c)?,
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------------------------

/// The `(owner, events)` of every active endpoint whose events text contains `event` (a prefilter:
/// the caller checks the exact event type in the list).
pub fn active_owners_mentioning(conn: &mut DbConn, event: &str) -> StorageResult<Vec<(String, String)>> {
    Ok(ep::table
        .filter(ep::state.eq(EndpointState::Active.as_str()))
        .filter(ep::events.like(format!("%{event}%")))
        .select((ep::owner_uscc, ep::events))
        .load(conn)?)
}

/// Endpoint `id` (whatever its state), locked.
pub fn endpoint_locked(conn: &mut DbConn, id: i64) -> StorageResult<Option<EndpointRow>> {
    let rows: Vec<EndpointRow> = load_locked!(conn, ep::table.filter(ep::id.eq(id)));
    Ok(rows.into_iter().next())
}

/// The active endpoints of `owner`, oldest first, locked.
pub fn active_of_locked(conn: &mut DbConn, owner: &str) -> StorageResult<Vec<EndpointRow>> {
    Ok(load_locked!(
        conn,
        ep::table
            .filter(ep::owner_uscc.eq(owner))
            .filter(ep::state.eq(EndpointState::Active.as_str()))
            .order(ep::id.asc())
    ))
}

/// The active endpoints of `owner`, oldest first.
pub fn active_of(conn: &mut DbConn, owner: &str) -> StorageResult<Vec<EndpointRow>> {
    Ok(ep::table
        .filter(ep::owner_uscc.eq(owner))
        .filter(ep::state.eq(EndpointState::Active.as_str()))
        .order(ep::id.asc())
        .select(EndpointRow::as_select())
        .load(conn)?)
}

/// The active endpoint of `owner` with this public id, locked; `None` if there is none (another
/// owner's endpoint is never found).
pub fn own_active_locked(
    conn: &mut DbConn,
    owner: &str,
    public_id: &str,
) -> StorageResult<Option<EndpointRow>> {
    let rows: Vec<EndpointRow> = load_locked!(
        conn,
        ep::table
            .filter(ep::public_id.eq(public_id))
            .filter(ep::owner_uscc.eq(owner))
            .filter(ep::state.eq(EndpointState::Active.as_str()))
    );
    Ok(rows.into_iter().next())
}

/// The active endpoint of `owner` with this public id; `None` if there is none (another owner's
/// endpoint is never found).
pub fn own_active(conn: &mut DbConn, owner: &str, public_id: &str) -> StorageResult<Option<EndpointRow>> {
    Ok(ep::table
        .filter(ep::public_id.eq(public_id))
        .filter(ep::owner_uscc.eq(owner))
        .filter(ep::state.eq(EndpointState::Active.as_str()))
        .select(EndpointRow::as_select())
        .first(conn)
        .optional()?)
}

/// How many active endpoints `owner` has.
pub fn count_active(conn: &mut DbConn, owner: &str) -> StorageResult<i64> {
    Ok(ep::table
        .filter(ep::owner_uscc.eq(owner))
        .filter(ep::state.eq(EndpointState::Active.as_str()))
        .count()
        .get_result(conn)?)
}

/// Stores a new active endpoint with nothing owed and no lease.
pub fn insert_endpoint(conn: &mut DbConn, e: &NewEndpoint<'_>) -> StorageResult<()> {
    diesel::insert_into(ep::table)
        .values((
            ep::public_id.eq(e.public_id),
            ep::owner_uscc.eq(e.owner_uscc),
            ep::owner_role.eq(e.owner_role),
            ep::url.eq(e.url),
            ep::events.eq(e.events),
            ep::description.eq(e.description),
            ep::state.eq(EndpointState::Active.as_str()),
            ep::next_seq.eq(1i64),
            ep::lease_until.eq(0i64),
            ep::created_at.eq(e.now),
            ep::updated_at.eq(e.now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Changes endpoint `id`'s URL, events and description, and sets when its next delivery is due.
pub fn update_settings(
    conn: &mut DbConn,
    id: i64,
    url: &str,
    events: &str,
    description: Option<&str>,
    next_attempt_at: Option<i64>,
    now: i64,
) -> StorageResult<()> {
    diesel::update(ep::table.find(id))
        .set((
            ep::url.eq(url),
            ep::events.eq(events),
            ep::description.eq(description),
            ep::updated_at.eq(now),
            ep::next_attempt_at.eq(next_attempt_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Marks endpoint `id` deleted, with nothing due.
pub fn mark_deleted(conn: &mut DbConn, id: i64, now: i64) -> StorageResult<()> {
    diesel::update(ep::table.find(id))
        .set((
            ep::state.eq(EndpointState::Deleted.as_str()),
            ep::updated_at.eq(now),
            ep::next_attempt_at.eq(None::<i64>),
        ))
        .execute(conn)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Outbox
// ---------------------------------------------------------------------------------------------

/// Enqueues a pending delivery to endpoint `e` at its next sequence number, due at `now`, and
/// advances the endpoint's `next_seq` (its `next_attempt_at` becomes `now` unless something was due
/// already). `e` must be the endpoint as just read under its lock ([`active_of_locked`]).
pub fn push_delivery(
    conn: &mut DbConn,
    e: &EndpointRow,
    event_id: &str,
    event_type: &str,
    body: &str,
    now: i64,
) -> StorageResult<()> {
    diesel::insert_into(ob::table)
        .values((
            ob::endpoint_id.eq(e.id),
            ob::seq.eq(e.next_seq),
            ob::event_id.eq(event_id),
            ob::event_type.eq(event_type),
            ob::body.eq(body),
            ob::state.eq(DeliveryState::Pending.as_str()),
            ob::attempts.eq(0i64),
            ob::created_at.eq(now),
            ob::next_attempt_at.eq(now),
        ))
        .execute(conn)?;
    diesel::update(ep::table.find(e.id))
        .set((
            ep::next_seq.eq(e.next_seq + 1),
            ep::next_attempt_at.eq(e.next_attempt_at.unwrap_or(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// How many deliveries to `endpoint` are pending.
pub fn pending_count(conn: &mut DbConn, endpoint: i64) -> StorageResult<i64> {
    Ok(ob::table
        .filter(ob::endpoint_id.eq(endpoint))
        .filter(ob::state.eq(DeliveryState::Pending.as_str()))
        .count()
        .get_result(conn)?)
}

/// Makes every pending delivery to `endpoint` due at `at`; returns how many.
pub fn reschedule_pending(conn: &mut DbConn, endpoint: i64, at: i64) -> StorageResult<usize> {
    Ok(diesel::update(
        ob::table
            .filter(ob::endpoint_id.eq(endpoint))
            .filter(ob::state.eq(DeliveryState::Pending.as_str())),
    )
    .set(ob::next_attempt_at.eq(at))
    .execute(conn)?)
}

/// Cancels every pending delivery to `endpoint`; returns how many.
pub fn cancel_pending(conn: &mut DbConn, endpoint: i64) -> StorageResult<usize> {
    Ok(diesel::update(
        ob::table
            .filter(ob::endpoint_id.eq(endpoint))
            .filter(ob::state.eq(DeliveryState::Pending.as_str())),
    )
    .set(ob::state.eq(DeliveryState::Cancelled.as_str()))
    .execute(conn)?)
}

/// At most `limit` deliveries to `endpoint` with a sequence number below `before`, newest first.
pub fn history(conn: &mut DbConn, endpoint: i64, before: i64, limit: i64) -> StorageResult<Vec<OutboxRow>> {
    Ok(ob::table
        .filter(ob::endpoint_id.eq(endpoint))
        .filter(ob::seq.lt(before))
        .order(ob::seq.desc())
        .limit(limit)
        .select(OutboxRow::as_select())
        .load(conn)?)
}

/// The oldest pending delivery to `endpoint`, if any.
pub fn pending_head(conn: &mut DbConn, endpoint: i64) -> StorageResult<Option<OutboxRow>> {
    Ok(ob::table
        .filter(ob::endpoint_id.eq(endpoint))
        .filter(ob::state.eq(DeliveryState::Pending.as_str()))
        .order(ob::seq.asc())
        .select(OutboxRow::as_select())
        .first(conn)
        .optional()?)
}

/// The state of delivery `id`, or `None` if there is no such delivery.
pub fn delivery_state(conn: &mut DbConn, id: i64) -> StorageResult<Option<DeliveryState>> {
    let stored: Option<String> = ob::table.find(id).select(ob::state).first(conn).optional()?;
    Ok(stored.map(DeliveryState::try_from).transpose()?)
}

/// Records that delivery `id` was acknowledged with `status` at `now`, after `attempts` attempts.
pub fn mark_delivered(conn: &mut DbConn, id: i64, attempts: i64, status: i64, now: i64) -> StorageResult<()> {
    diesel::update(ob::table.find(id))
        .set((
            ob::state.eq(DeliveryState::Delivered.as_str()),
            ob::attempts.eq(attempts),
            ob::last_attempt_at.eq(now),
            ob::last_status.eq(status),
            ob::last_error.eq(None::<String>),
            ob::delivered_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a failed attempt on delivery `id` at `now` (its `attempts`-th), with the status it got
/// if any and what went wrong; it stays pending, due again at `next`.
pub fn mark_failed(
    conn: &mut DbConn,
    id: i64,
    attempts: i64,
    status: Option<i64>,
    error: &str,
    next: i64,
    now: i64,
) -> StorageResult<()> {
    diesel::update(ob::table.find(id))
        .set((
            ob::attempts.eq(attempts),
            ob::last_attempt_at.eq(now),
            ob::last_status.eq(status),
            ob::last_error.eq(error),
            ob::next_attempt_at.eq(next),
        ))
        .execute(conn)?;
    Ok(())
}

/// The deliveries waiting in the outbox (every endpoint) and when the oldest of them was enqueued
/// (ms), for `/metrics`.
pub fn backlog(conn: &mut DbConn) -> StorageResult<(u64, Option<i64>)> {
    let (n, oldest): (i64, Option<i64>) = ob::table
        .filter(ob::state.eq(DeliveryState::Pending.as_str()))
        .select((diesel::dsl::count_star(), diesel::dsl::min(ob::created_at)))
        .first(conn)?;
    Ok((u64::try_from(n).unwrap_or(0), oldest))
}

/// Forgets delivered and cancelled deliveries enqueued before `before`, endpoint by endpoint;
/// returns how many.
pub fn purge_history(conn: &mut DbConn, before: i64) -> StorageResult<usize> {
    let ids: Vec<i64> = ep::table.select(ep::id).load(conn)?;
    let mut n = 0;
    for id in ids {
        n += diesel::delete(
            ob::table
                .filter(ob::endpoint_id.eq(id))
                .filter(ob::state.ne(DeliveryState::Pending.as_str()))
                .filter(ob::created_at.lt(before)),
        )
        .execute(conn)?;
    }
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// Leases
// ---------------------------------------------------------------------------------------------

/// Up to `limit` active endpoints that are due at `now` and not leased, the longest waiting first.
pub fn due(conn: &mut DbConn, now: i64, limit: i64) -> StorageResult<Vec<i64>> {
    Ok(ep::table
        .filter(ep::next_attempt_at.le(now))
        .filter(ep::state.eq(EndpointState::Active.as_str()))
        .filter(ep::lease_until.lt(now))
        .order(ep::next_attempt_at.asc())
        .limit(limit)
        .select(ep::id)
        .load(conn)?)
}

/// Takes endpoint `id`'s lease for `instance` until `until` if it is active and nobody holds it at
/// `now` (an atomic compare-and-set on `lease_until`); whether it was taken.
pub fn claim(conn: &mut DbConn, id: i64, instance: &str, now: i64, until: i64) -> StorageResult<bool> {
    let n = diesel::update(
        ep::table
            .find(id)
            .filter(ep::state.eq(EndpointState::Active.as_str()))
            .filter(ep::lease_until.lt(now)),
    )
    .set((ep::lease_owner.eq(instance), ep::lease_until.eq(until)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Extends the lease on endpoint `id` until `until` (the caller holds it, under the row lock).
pub fn renew_lease(conn: &mut DbConn, id: i64, until: i64) -> StorageResult<()> {
    diesel::update(ep::table.find(id))
        .set(ep::lease_until.eq(until))
        .execute(conn)?;
    Ok(())
}

/// Gives back the lease on endpoint `id` if `instance` holds it, setting when its next delivery is
/// due (`None`: nothing due); a lease held by another process is left alone.
pub fn release_lease(conn: &mut DbConn, id: i64, instance: &str, next: Option<i64>) -> StorageResult<()> {
    diesel::update(ep::table.find(id).filter(ep::lease_owner.eq(instance)))
        .set((
            ep::lease_owner.eq(None::<String>),
            ep::lease_until.eq(0i64),
            ep::next_attempt_at.eq(next),
        ))
        .execute(conn)?;
    Ok(())
}
