//! Notifications (spec/notifications.md): the in-app inbox (`notices`), participants' webhook
//! endpoints, and the durable outbox of deliveries signed by the node (HTTP Message Signatures,
//! RFC 9421, Ed25519; `Content-Digest`, RFC 9530).
//!
//! * [`enqueue`] runs inside the caller's transaction (a group-commit job): it writes the inbox row and
//!   one outbox row per matching endpoint, or nothing at all if the job fails. An event is therefore
//!   owed to a receiver exactly when the change that caused it is committed.
//! * The delivery worker ([`spawn`]) delivers each endpoint's outbox strictly in `seq` order: event
//!   n + 1 is sent only after event n was answered with a 2xx. Failures are retried forever with
//!   exponential back-off and jitter ([`retry_delay_ms`], capped at 15 minutes by default); attempts,
//!   the last error and the next attempt are stored, so a restart resumes where the last process
//!   stopped. Several node processes may share one PostgreSQL database: an endpoint is delivered by
//!   whoever holds its lease (`lease_owner`, `lease_until` in the database), never by two at once
//!   unless a lease expired mid-delivery, which can only duplicate a delivery, never reorder one.
//! * Delivery is at least once: receivers de-duplicate on the `Consentry-Event-Id` header (the
//!   payload's `id`), which never changes between attempts.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Caller, Node};
use crate::config::WebhookConfig;
use crate::credential::datetime::format_utc_seconds;
use crate::crypto::httpsig;
use crate::error::{Error, Result};
use crate::policy::Role;
use crate::storage::webhooks::{
    self as store, DeliveryState, EndpointRow, EndpointState, NewEndpoint, OutboxRow,
};
use crate::storage::{DbConn, Store, from_millis, notices};

/// `grant.revoked`: a grant the recipient is party to was revoked (final).
pub const GRANT_REVOKED: &str = "grant.revoked";
/// `grant.suspended`: a grant the recipient is party to was suspended.
pub const GRANT_SUSPENDED: &str = "grant.suspended";
/// `grant.resumed`: a suspended grant the recipient is party to is active again.
pub const GRANT_RESUMED: &str = "grant.resumed";
/// `data.released`: the node released data about the recipient (an enterprise).
pub const DATA_RELEASED: &str = "data.released";
/// `objection.updated`: an objection the recipient filed or handles changed state.
pub const OBJECTION_UPDATED: &str = "objection.updated";
/// `participant.state`: the recipient's own admission state (or one of its banks') changed.
pub const PARTICIPANT_STATE: &str = "participant.state";

/// Every event type, in documentation order.
pub const EVENTS: [&str; 6] = [
    GRANT_REVOKED,
    GRANT_SUSPENDED,
    GRANT_RESUMED,
    DATA_RELEASED,
    OBJECTION_UPDATED,
    PARTICIPANT_STATE,
];

/// The event types a participant of `role` can receive, hence subscribe to.
pub fn events_for(role: Role) -> &'static [&'static str] {
    match role {
        Role::Enterprise => &EVENTS,
        Role::Platform | Role::Bank => &[
            GRANT_REVOKED,
            GRANT_SUSPENDED,
            GRANT_RESUMED,
            OBJECTION_UPDATED,
            PARTICIPANT_STATE,
        ],
        Role::Node | Role::Regulator => &[],
    }
}

/// The label of the node's signature in `Signature-Input` / `Signature`.
pub const SIGNATURE_LABEL: &str = "consentry";
/// The `tag` parameter of the node's webhook signatures (RFC 9421 §2.3).
pub const SIGNATURE_TAG: &str = "consentry-webhook";
/// Seconds between a signature's `created` and `expires`.
pub const SIGNATURE_LIFETIME_SECS: i64 = 300;
/// The components every delivery signature covers, in order.
pub const COVERED: [&str; 7] = [
    "@method",
    "@target-uri",
    "content-type",
    "content-digest",
    "consentry-event-id",
    "consentry-event-type",
    "consentry-sequence",
];
/// Most endpoints one participant may have.
pub const MAX_ENDPOINTS: i64 = 10;
/// Longest endpoint URL.
pub const MAX_URL_LEN: usize = 2000;
/// How long a delivering process holds an endpoint (renewed before each attempt).
pub const LEASE_MS: i64 = 60_000;
/// Connect timeout and whole-request timeout of a delivery.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// See [`CONNECT_TIMEOUT`].
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long delivered and cancelled deliveries stay in the history.
pub const HISTORY_MS: i64 = 30 * 24 * 3600 * 1000;
/// Most deliveries one lease covers before the endpoint goes back to the queue (fairness).
const BATCH_PER_LEASE: usize = 200;
/// Most endpoints one process delivers to at once.
const MAX_CONCURRENT: usize = 16;
/// Poll interval of the worker.
const POLL: Duration = Duration::from_millis(200);

// ---------------------------------------------------------------------------------------------
// Per-process state
// ---------------------------------------------------------------------------------------------

/// The node's notification state: settings, this process's lease identity, the HTTP agent and the
/// set of enterprises with a `data.released` endpoint (an in-memory check that keeps the release path
/// free of any query for everyone else; refreshed from the database every second and at once after
/// an endpoint changes in this process).
pub struct Notifier {
    /// Settings from the configuration.
    pub settings: WebhookConfig,
    instance: String,
    released: RwLock<HashSet<String>>,
    busy: std::sync::Mutex<HashSet<i64>>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("settings", &self.settings)
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

impl Notifier {
    /// A notifier for these settings, with a fresh lease identity.
    pub fn new(settings: WebhookConfig) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirects(0)
            .build();
        Self {
            settings,
            instance: format!("{}", uuid::Uuid::new_v4()),
            released: RwLock::new(HashSet::new()),
            busy: std::sync::Mutex::new(HashSet::new()),
            agent,
        }
    }

    /// Whether `enterprise` has an active endpoint subscribed to `data.released` (in memory; see the
    /// type's documentation for how fresh it is).
    pub fn wants_released(&self, enterprise: &str) -> bool {
        self.released
            .read()
            .map(|s| !s.is_empty() && s.contains(enterprise))
            .unwrap_or(true)
    }

    /// Reloads the set of enterprises subscribed to `data.released`.
    pub fn refresh(&self, conn: &mut DbConn) -> Result<()> {
        self.set_released(released_subscribers(conn)?);
        Ok(())
    }

    fn set_released(&self, set: HashSet<String>) {
        if let Ok(mut s) = self.released.write() {
            *s = set;
        }
    }
}

/// The enterprises with an active endpoint subscribed to `data.released`.
fn released_subscribers(conn: &mut DbConn) -> Result<HashSet<String>> {
    let owners = store::active_owners_mentioning(conn, DATA_RELEASED)?;
    Ok(owners
        .into_iter()
        .filter(|(_, e)| e.split(',').any(|x| x == DATA_RELEASED))
        .map(|(o, _)| o)
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Enqueueing (inside the caller's transaction)
// ---------------------------------------------------------------------------------------------

/// Whether endpoint `e` is subscribed to `event`.
fn subscribes(e: &EndpointRow, event: &str) -> bool {
    e.events.split(',').any(|x| x == event)
}

/// Notifies participant `to_uscc` of `event` (one of [`EVENTS`]) with event data `body`: writes the
/// in-app notice (kind = the event type with `-` for `.`, body = `body`) and one outbox row per active
/// endpoint of that participant subscribed to `event`, all on `conn` — call it inside the
/// transaction of the change it reports (a group-commit job: `enqueue(tx.conn, …, tx.now())`), so
/// that the notice exists exactly when the change does. See spec/notifications.md §2 for the
/// envelope the receiver gets.
pub fn enqueue(conn: &mut DbConn, to_uscc: &str, event: &str, body: Value, now_ms: i64) -> Result<()> {
    if !EVENTS.contains(&event) {
        return Err(Error::Internal(format!("unknown event type {event}")));
    }
    notices::insert(conn, to_uscc, &event.replace('.', "-"), &body.to_string(), now_ms)?;
    enqueue_webhooks(conn, to_uscc, event, body, now_ms)?;
    Ok(())
}

/// Like [`enqueue`] without the in-app notice: only the outbox rows (used for `data.released`,
/// which the enterprise's history shows already). Returns how many endpoints will receive it.
pub fn enqueue_webhooks(
    conn: &mut DbConn,
    to_uscc: &str,
    event: &str,
    data: Value,
    now_ms: i64,
) -> Result<usize> {
    if !EVENTS.contains(&event) {
        return Err(Error::Internal(format!("unknown event type {event}")));
    }
    let endpoints: Vec<EndpointRow> = store::active_of_locked(conn, to_uscc)?
        .into_iter()
        .filter(|e| subscribes(e, event))
        .collect();
    if endpoints.is_empty() {
        return Ok(0);
    }
    let event_id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
    let payload = json!({
        "id": event_id,
        "type": event,
        "createdAt": format_utc_seconds(from_millis(now_ms)),
        "recipient": to_uscc,
        "data": data,
    })
    .to_string();
    for e in &endpoints {
        store::push_delivery(conn, e, &event_id, event, &payload, now_ms)?;
    }
    Ok(endpoints.len())
}

/// The participants a change of grant `grant_id` concerns: the enterprise first, then every
/// platform and bank the grant names (`grant_parties`), each once, as `(uscc, role)`.
pub fn grant_recipients(
    conn: &mut DbConn,
    grant_id: &str,
    enterprise: &str,
) -> Result<Vec<(String, String)>> {
    let parties = crate::storage::grants::onward_parties(conn, grant_id)?;
    let mut out = vec![(enterprise.to_owned(), "enterprise".to_owned())];
    for p in parties {
        if !out.iter().any(|(u, _)| *u == p.0) {
            out.push(p);
        }
    }
    Ok(out)
}

/// Notifies everyone a grant change concerns ([`grant_recipients`]) with `data`; `message(role)`
/// gives each a bilingual `message` member (none when it returns `None`).
pub fn grant_changed(
    conn: &mut DbConn,
    grant_id: &str,
    enterprise: &str,
    event: &str,
    data: &Value,
    message: &dyn Fn(&str) -> Option<String>,
    now_ms: i64,
) -> Result<usize> {
    let recipients = grant_recipients(conn, grant_id, enterprise)?;
    for (uscc, role) in &recipients {
        let mut body = data.clone();
        if let Some(m) = message(role) {
            body["message"] = Value::String(m);
        }
        enqueue(conn, uscc, event, body, now_ms)?;
    }
    Ok(recipients.len())
}

/// The event type of a grant status change entry.
pub fn grant_event(kind: crate::log::entry::EntryKind) -> Result<&'static str> {
    use crate::log::entry::EntryKind as K;
    match kind {
        K::GrantRevoked => Ok(GRANT_REVOKED),
        K::GrantSuspended => Ok(GRANT_SUSPENDED),
        K::GrantResumed => Ok(GRANT_RESUMED),
        other => Err(Error::Internal(format!(
            "{} is not a grant status change",
            other.as_str()
        ))),
    }
}

/// The bilingual message of a grant event for a recipient of `role`; `removed_platform` names the
/// platform whose removal suspended the grant (the cascade).
pub fn grant_message(
    event: &str,
    grant: &str,
    enterprise: &str,
    role: &str,
    removed_platform: Option<&str>,
) -> String {
    let (zh, en) = match event {
        GRANT_REVOKED => ("已撤销", "revoked"),
        GRANT_SUSPENDED => ("已暂停", "suspended"),
        _ => ("已恢复", "resumed"),
    };
    match (role, removed_platform) {
        ("enterprise", Some(p)) => format!(
            "您授权给平台 {p} 的授权 {grant} 因该平台被移除已暂停。Your grant {grant} to platform {p} was suspended because the platform was removed."
        ),
        (_, Some(p)) => format!(
            "企业 {enterprise} 的授权 {grant} 因平台 {p} 被移除已暂停。Grant {grant} of enterprise {enterprise} was suspended because platform {p} was removed."
        ),
        ("enterprise", None) => format!("您的授权 {grant} {zh}。Your grant {grant} was {en}."),
        _ => format!(
            "企业 {enterprise} 的授权 {grant} {zh}，请按此调整数据使用。Grant {grant} of enterprise {enterprise} was {en}; act on it."
        ),
    }
}

/// Notifies a participant that its admission state changed (`participant.state`), and for a bank
/// also the platform that registered it. For the registry to call inside the change's job.
pub fn participant_state(
    conn: &mut DbConn,
    uscc: &str,
    role: &str,
    state: &str,
    platform: Option<&str>,
    now_ms: i64,
) -> Result<()> {
    let data = json!({"participant": uscc, "role": role, "state": state});
    enqueue(conn, uscc, PARTICIPANT_STATE, data.clone(), now_ms)?;
    if let (Some(p), "bank") = (platform, role) {
        enqueue(conn, p, PARTICIPANT_STATE, data, now_ms)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Endpoint registry
// ---------------------------------------------------------------------------------------------

/// Checks and normalizes an endpoint URL: `https://` with a DNS name or IP literal, no user
/// information, no fragment, visible ASCII, at most [`MAX_URL_LEN`] bytes; `http://` only when
/// `allow_insecure` and the host is a loopback address (`localhost`, `127.0.0.0/8`, `[::1]`). The
/// result has a lowercase scheme and host, no default port and a non-empty path: the exact
/// `@target-uri` the deliveries are signed for.
pub fn check_url(url: &str, allow_insecure: bool) -> Result<String> {
    let bad = |m: String| Error::invalid("invalid-webhook-url", m);
    if url.len() > MAX_URL_LEN {
        return Err(bad(format!("url: at most {MAX_URL_LEN} bytes")));
    }
    let p = httpsig::target_parts(url).map_err(|e| bad(format!("url: {e}")))?;
    let host_ok = if p.authority.starts_with('[') {
        p.host
            .bytes()
            .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
    } else {
        p.host
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-')
            && !p.host.starts_with(['.', '-'])
            && !p.host.ends_with('-')
    };
    if !host_ok {
        return Err(bad(format!("url: {:?} is not a host name or IP literal", p.host)));
    }
    let loopback = p.host == "localhost"
        || p.host == "::1"
        || p.host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|a| a.is_loopback());
    match p.scheme.as_str() {
        "https" => {}
        "http" if allow_insecure && loopback => {}
        "http" if allow_insecure => {
            return Err(bad(format!(
                "url: http:// is allowed only to a loopback host, not {}",
                p.host
            )));
        }
        _ => {
            return Err(bad(
                "url: webhook endpoints must be https:// (this node does not allow insecure webhooks)".into(),
            ));
        }
    }
    let mut out = format!("{}://{}{}", p.scheme, p.authority, p.path);
    if let Some(q) = &p.query {
        out.push('?');
        out.push_str(q);
    }
    Ok(out)
}

/// The body of `POST /v1/webhooks` and `POST /v1/webhooks/{id}/rotate`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EndpointBody {
    /// Where deliveries go.
    pub url: String,
    /// The event types wanted.
    pub events: Vec<String>,
    /// A note for the owner.
    #[serde(default)]
    pub description: Option<String>,
}

/// Validated endpoint settings: normalized URL, sorted events joined by `,`, description.
fn check_body(
    b: &EndpointBody,
    role: Role,
    allow_insecure: bool,
) -> Result<(String, String, Option<String>)> {
    let url = check_url(&b.url, allow_insecure)?;
    let bad = |m: String| Error::invalid("invalid-webhook-events", m);
    if b.events.is_empty() {
        return Err(bad("events: subscribe to at least one event type".into()));
    }
    let allowed = events_for(role);
    let mut events: Vec<&str> = Vec::new();
    for e in &b.events {
        if !EVENTS.contains(&e.as_str()) {
            return Err(bad(format!(
                "events: unknown event type {e:?} (known: {})",
                EVENTS.join(", ")
            )));
        }
        if !allowed.contains(&e.as_str()) {
            return Err(bad(format!("events: a {} never receives {e}", role.as_str())));
        }
        if events.contains(&e.as_str()) {
            return Err(bad(format!("events: {e} is listed twice")));
        }
        events.push(e);
    }
    events.sort_unstable();
    if let Some(d) = &b.description {
        if d.len() > 200 || d.chars().any(char::is_control) {
            return Err(Error::invalid(
                "invalid-body",
                "description: at most 200 bytes, no control characters",
            ));
        }
    }
    Ok((url, events.join(","), b.description.clone()))
}

fn describe(e: &EndpointRow, pending: i64) -> Value {
    json!({
        "id": e.public_id,
        "url": e.url,
        "events": e.events.split(',').collect::<Vec<_>>(),
        "description": e.description,
        "state": e.state,
        "pending": pending,
        "nextAttemptAt": e.next_attempt_at.filter(|_| pending > 0).map(|t| format_utc_seconds(from_millis(t))),
        "createdAt": format_utc_seconds(from_millis(e.created_at)),
        "updatedAt": format_utc_seconds(from_millis(e.updated_at)),
    })
}

fn pending_of(conn: &mut DbConn, endpoint: i64) -> Result<i64> {
    Ok(store::pending_count(conn, endpoint)?)
}

/// The caller's active endpoint `public_id`, locked for the transaction.
fn own_endpoint(conn: &mut DbConn, owner: &str, public_id: &str) -> Result<EndpointRow> {
    store::own_active_locked(conn, owner, public_id)?
        .ok_or_else(|| Error::NotFound(format!("webhook endpoint {public_id}")))
}

const MANAGERS: [Role; 3] = [Role::Platform, Role::Bank, Role::Enterprise];

async fn refreshed(node: &Node) {
    match node.store.call(released_subscribers).await {
        Ok(set) => node.notify.set_released(set),
        Err(e) if e.is_outage() => {}
        Err(e) => tracing::warn!(error = %e, "refreshing webhook subscriptions failed"),
    }
}

/// Registers an endpoint for the caller (an active platform, bank or enterprise). Nothing is written
/// unless every check passes.
pub async fn register(node: &Node, caller: &Caller, body: EndpointBody) -> Result<Value> {
    caller.require(&MANAGERS)?;
    let (url, events, description) = check_body(&body, caller.role, node.notify.settings.allow_insecure)?;
    let (owner, role, a) = (
        caller.uscc().to_owned(),
        caller.role.as_str(),
        caller.assertion.clone(),
    );
    let v = node
        .committer
        .run(move |tx| -> Result<Value> {
            tx.consume_jti(&a.jti, a.signer.as_str(), a.expires_ms)?;
            let count = store::count_active(tx.conn, &owner)?;
            if count >= MAX_ENDPOINTS {
                return Err(Error::Conflict(format!(
                    "{owner} already has {MAX_ENDPOINTS} webhook endpoints; delete one first"
                )));
            }
            let now = tx.now();
            let public_id = uuid::Uuid::new_v4().to_string();
            store::insert_endpoint(
                tx.conn,
                &NewEndpoint {
                    public_id: &public_id,
                    owner_uscc: &owner,
                    owner_role: role,
                    url: &url,
                    events: &events,
                    description: description.as_deref(),
                    now,
                },
            )?;
            let row = own_endpoint(tx.conn, &owner, &public_id)?;
            Ok(describe(&row, 0))
        })
        .await?;
    refreshed(node).await;
    Ok(v)
}

/// Changes an endpoint's URL, events and description at once. Its pending deliveries stay, in
/// order, and become due at once (the new URL is tried without waiting for the old back-off); events
/// already owed are delivered even if their type is no longer subscribed.
pub async fn rotate(node: &Node, caller: &Caller, public_id: String, body: EndpointBody) -> Result<Value> {
    caller.require(&MANAGERS)?;
    let (url, events, description) = check_body(&body, caller.role, node.notify.settings.allow_insecure)?;
    let (owner, a) = (caller.uscc().to_owned(), caller.assertion.clone());
    let v = node
        .committer
        .run(move |tx| -> Result<Value> {
            let row = own_endpoint(tx.conn, &owner, &public_id)?;
            tx.consume_jti(&a.jti, a.signer.as_str(), a.expires_ms)?;
            let now = tx.now();
            let pending = pending_of(tx.conn, row.id)?;
            store::reschedule_pending(tx.conn, row.id, now)?;
            store::update_settings(
                tx.conn,
                row.id,
                &url,
                &events,
                description.as_deref(),
                (pending > 0).then_some(now),
                now,
            )?;
            let row = own_endpoint(tx.conn, &owner, &public_id)?;
            Ok(describe(&row, pending))
        })
        .await?;
    refreshed(node).await;
    Ok(v)
}

/// Deletes an endpoint: it receives nothing more, and its pending deliveries are cancelled (kept in
/// the history as `cancelled` until the history expires).
pub async fn delete(node: &Node, caller: &Caller, public_id: String) -> Result<Value> {
    caller.require(&MANAGERS)?;
    let (owner, a) = (caller.uscc().to_owned(), caller.assertion.clone());
    let v = node
        .committer
        .run(move |tx| -> Result<Value> {
            let row = own_endpoint(tx.conn, &owner, &public_id)?;
            tx.consume_jti(&a.jti, a.signer.as_str(), a.expires_ms)?;
            let now = tx.now();
            let cancelled = store::cancel_pending(tx.conn, row.id)?;
            store::mark_deleted(tx.conn, row.id, now)?;
            Ok(json!({"id": row.public_id, "state": EndpointState::Deleted, "cancelled": cancelled}))
        })
        .await?;
    refreshed(node).await;
    Ok(v)
}

/// The caller's active endpoints, oldest first.
pub async fn list(node: &Node, caller: &Caller) -> Result<Vec<Value>> {
    caller.require(&MANAGERS)?;
    let owner = caller.uscc().to_owned();
    node.store
        .call(move |c| -> Result<Vec<Value>> {
            let rows = store::active_of(c, &owner)?;
            rows.iter()
                .map(|r| Ok(describe(r, pending_of(c, r.id)?)))
                .collect()
        })
        .await
}

fn endpoint_of(c: &mut DbConn, owner: &str, public_id: &str) -> Result<EndpointRow> {
    store::own_active(c, owner, public_id)?
        .ok_or_else(|| Error::NotFound(format!("webhook endpoint {public_id}")))
}

/// One of the caller's endpoints.
pub async fn get(node: &Node, caller: &Caller, public_id: String) -> Result<Value> {
    caller.require(&MANAGERS)?;
    let owner = caller.uscc().to_owned();
    node.store
        .call(move |c| -> Result<Value> {
            let r = endpoint_of(c, &owner, &public_id)?;
            Ok(describe(&r, pending_of(c, r.id)?))
        })
        .await
}

fn describe_delivery(r: &OutboxRow) -> Value {
    let t = |v: Option<i64>| v.map(|t| format_utc_seconds(from_millis(t)));
    json!({
        "sequence": r.seq,
        "eventId": r.event_id,
        "type": r.event_type,
        "state": r.state,
        "attempts": r.attempts,
        "createdAt": format_utc_seconds(from_millis(r.created_at)),
        "nextAttemptAt": t(Some(r.next_attempt_at).filter(|_| r.state == DeliveryState::Pending)),
        "lastAttemptAt": t(r.last_attempt_at),
        "lastStatus": r.last_status,
        "lastError": r.last_error,
        "deliveredAt": t(r.delivered_at),
        "payload": serde_json::from_str::<Value>(&r.body).unwrap_or(Value::Null),
    })
}

/// An endpoint's delivery history, newest first: at most `limit` (1–200) deliveries with a sequence
/// number below `before` (all when `None`).
pub async fn deliveries(
    node: &Node,
    caller: &Caller,
    public_id: String,
    before: Option<i64>,
    limit: Option<i64>,
) -> Result<Value> {
    caller.require(&MANAGERS)?;
    let limit = limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(Error::invalid("invalid-query", "limit: 1–200"));
    }
    let owner = caller.uscc().to_owned();
    node.store
        .call(move |c| -> Result<Value> {
            let e = endpoint_of(c, &owner, &public_id)?;
            let rows = store::history(c, e.id, before.unwrap_or(i64::MAX), limit)?;
            Ok(json!({
                "endpoint": e.public_id,
                "deliveries": rows.iter().map(describe_delivery).collect::<Vec<_>>(),
            }))
        })
        .await
}

// ---------------------------------------------------------------------------------------------
// Delivery
// ---------------------------------------------------------------------------------------------

/// The delay before retry number `failures` (≥ 1 failed attempts so far): `base · 2^(failures−1)`
/// capped at `cap`, then "equal jitter": a uniformly chosen value in `[d/2, d]` from `random`.
pub fn retry_delay_ms(failures: u32, base_ms: u64, cap_ms: u64, random: u64) -> u64 {
    let shift = failures.saturating_sub(1).min(40);
    let d = base_ms.saturating_mul(1u64 << shift).min(cap_ms).max(1);
    let half = d / 2;
    d - random % (half + 1)
}

/// The signed HTTP request that delivers `body` to `url` (RFC 9421 signature by `node`'s key, created
/// at `now_s`; spec/notifications.md §3).
pub fn signed_delivery(
    node: &Node,
    url: &str,
    event_id: &str,
    event_type: &str,
    seq: i64,
    body: &[u8],
    now_s: i64,
) -> Result<httpsig::Request> {
    let mut req = httpsig::Request {
        method: "POST".into(),
        target_uri: url.to_owned(),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("Content-Digest".into(), httpsig::content_digest(body)),
            ("Consentry-Event-Id".into(), event_id.to_owned()),
            ("Consentry-Event-Type".into(), event_type.to_owned()),
            ("Consentry-Sequence".into(), seq.to_string()),
        ],
        body: body.to_vec(),
    };
    let mut nonce = [0u8; 16];
    crate::crypto::ed25519::random_bytes(&mut nonce).map_err(|e| Error::Internal(e.to_string()))?;
    let params = httpsig::SignatureParams {
        created: Some(now_s),
        expires: Some(now_s + SIGNATURE_LIFETIME_SECS),
        nonce: Some(hex::encode(nonce)),
        keyid: Some(node.key.did.verification_method_id()),
        alg: Some(httpsig::ALG_ED25519.into()),
        tag: Some(SIGNATURE_TAG.into()),
    };
    httpsig::sign(&mut req, SIGNATURE_LABEL, &COVERED, &params, &node.key.secret)
        .map_err(|e| Error::Internal(format!("signing a delivery: {e}")))?;
    Ok(req)
}

/// What one attempt came to.
#[derive(Debug)]
enum Outcome {
    Acknowledged(u16),
    Failed(Option<u16>, String),
}

/// One attempt. The endpoint URL is checked again (the rules may have been tightened since it was
/// registered: `http://` is refused once `allow-insecure` is off), and it never appears in the
/// error text, which is logged and shown to the receiver: URLs can carry secrets.
fn send(node: &Node, req: &httpsig::Request) -> Outcome {
    if let Err(e) = check_url(&req.target_uri, node.notify.settings.allow_insecure) {
        return Outcome::Failed(None, format!("endpoint refused, not attempted: {e}"));
    }
    let mut r = node.notify.agent.post(&req.target_uri);
    for (k, v) in &req.headers {
        r = r.set(k, v);
    }
    r = r.set(
        "User-Agent",
        concat!("consentry/", env!("CARGO_PKG_VERSION"), " webhook"),
    );
    let snippet = |resp: ureq::Response| {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut std::io::Read::take(resp.into_reader(), 300), &mut text);
        text
    };
    match r.send_bytes(&req.body) {
        Ok(resp) if (200..300).contains(&resp.status()) => Outcome::Acknowledged(resp.status()),
        Ok(resp) => {
            let s = resp.status();
            Outcome::Failed(Some(s), format!("HTTP {s} (not 2xx): {}", snippet(resp)))
        }
        Err(ureq::Error::Status(s, resp)) => Outcome::Failed(Some(s), format!("HTTP {s}: {}", snippet(resp))),
        Err(ureq::Error::Transport(t)) => Outcome::Failed(
            None,
            match t.message() {
                Some(m) => format!("transport: {}: {m}", t.kind()),
                None => format!("transport: {}", t.kind()),
            },
        ),
    }
}

enum Step {
    Stop,
    Deliver { row: Box<OutboxRow>, url: String },
}

fn release_lease(conn: &mut DbConn, id: i64, instance: &str, next: Option<i64>) -> Result<()> {
    Ok(store::release_lease(conn, id, instance, next)?)
}

/// Under the endpoint's row lock: the next delivery to make (renewing the lease), or nothing (the
/// lease released and `next_attempt_at` set to when the head is due, or cleared).
fn next_step(conn: &mut DbConn, id: i64, instance: &str, now: i64) -> Result<Step> {
    Store::write_txn(conn, |conn| -> Result<Step> {
        let Some(e) = store::endpoint_locked(conn, id)? else {
            return Ok(Step::Stop);
        };
        if e.lease_owner.as_deref() != Some(instance) {
            return Ok(Step::Stop);
        }
        if e.state != EndpointState::Active {
            release_lease(conn, id, instance, None)?;
            return Ok(Step::Stop);
        }
        let head = store::pending_head(conn, id)?;
        match head {
            None => {
                release_lease(conn, id, instance, None)?;
                Ok(Step::Stop)
            }
            Some(h) if h.next_attempt_at > now => {
                release_lease(conn, id, instance, Some(h.next_attempt_at))?;
                Ok(Step::Stop)
            }
            Some(h) => {
                store::renew_lease(conn, id, now + LEASE_MS)?;
                Ok(Step::Deliver {
                    row: Box::new(h),
                    url: e.url,
                })
            }
        }
    })
}

/// Records an attempt. Returns whether to go on with the next delivery.
fn record(
    conn: &mut DbConn,
    id: i64,
    row: &OutboxRow,
    instance: &str,
    outcome: &Outcome,
    now: i64,
    settings: &WebhookConfig,
) -> Result<bool> {
    Store::write_txn(conn, |conn| -> Result<bool> {
        let Some(e) = store::endpoint_locked(conn, id)? else {
            return Ok(false);
        };
        let owner = e.lease_owner.as_deref() == Some(instance);
        let state = store::delivery_state(conn, row.id)?;
        if state != Some(DeliveryState::Pending) {
            return Ok(owner);
        }
        match outcome {
            Outcome::Acknowledged(status) => {
                // A fact whoever holds the lease: the receiver has it.
                store::mark_delivered(conn, row.id, row.attempts + 1, i64::from(*status), now)?;
                Ok(owner)
            }
            Outcome::Failed(status, error) => {
                if !owner {
                    return Ok(false);
                }
                let attempts = row.attempts + 1;
                // Jitter only spreads retries out; a failing generator leaves it at zero, which is
                // still a correct (if less spread) schedule, so it does not fail the delivery.
                let mut r = [0u8; 8];
                if crate::crypto::ed25519::random_bytes(&mut r).is_err() {
                    r = [0; 8];
                }
                let delay = retry_delay_ms(
                    u32::try_from(attempts).unwrap_or(u32::MAX),
                    settings.retry_base_ms,
                    settings.retry_cap_ms,
                    u64::from_le_bytes(r),
                );
                let next = now.saturating_add(i64::try_from(delay).unwrap_or(i64::MAX));
                let error: String = error.chars().take(500).collect();
                store::mark_failed(conn, row.id, attempts, status.map(i64::from), &error, next, now)?;
                release_lease(conn, id, instance, Some(next))?;
                Ok(false)
            }
        }
    })
}

/// Runs `f` on a pooled connection taken for this step only (never held across an HTTP request).
fn with_conn<R>(node: &Node, f: impl FnOnce(&mut DbConn) -> Result<R>) -> Result<R> {
    let mut conn = node.store.conn()?;
    f(&mut conn)
}

/// Delivers endpoint `id`'s due deliveries in order while this process holds its lease, then gives
/// the lease back (also after a failure, best effort; otherwise it expires after [`LEASE_MS`]).
fn run_endpoint(node: &Node, id: i64) -> Result<()> {
    let instance = node.notify.instance.clone();
    let result = deliver_due(node, id, &instance);
    if result.is_err() {
        let now = node.now_ms();
        let _ = with_conn(node, |c| release_lease(c, id, &instance, Some(now)));
    }
    result
}

fn deliver_due(node: &Node, id: i64, instance: &str) -> Result<()> {
    for _ in 0..BATCH_PER_LEASE {
        let now = node.now_ms();
        let (row, url) = match with_conn(node, |c| next_step(c, id, instance, now))? {
            Step::Stop => return Ok(()),
            Step::Deliver { row, url } => (*row, url),
        };
        let req = signed_delivery(
            node,
            &url,
            &row.event_id,
            &row.event_type,
            row.seq,
            row.body.as_bytes(),
            now.div_euclid(1000),
        )?;
        let outcome = send(node, &req);
        if let Outcome::Failed(_, e) = &outcome {
            tracing::info!(endpoint = id, seq = row.seq, error = %e, "webhook delivery failed; will retry");
        }
        let done = node.now_ms();
        let settings = &node.notify.settings;
        if !with_conn(node, |c| record(c, id, &row, instance, &outcome, done, settings))? {
            return Ok(());
        }
    }
    // Fairness: give the endpoint back to the queue (still due).
    let now = node.now_ms();
    with_conn(node, |c| release_lease(c, id, instance, Some(now)))
}

/// Up to `limit` endpoints that are due and not leased, the longest waiting first.
fn due_endpoints(conn: &mut DbConn, now: i64, limit: usize) -> Result<Vec<i64>> {
    Ok(store::due(conn, now, i64::try_from(limit).unwrap_or(64))?)
}

/// Takes endpoint `id`'s lease for this process if nobody holds it (an atomic compare-and-set on
/// `lease_until`); whether it was taken.
fn claim(conn: &mut DbConn, id: i64, instance: &str, now: i64) -> Result<bool> {
    Ok(store::claim(conn, id, instance, now, now + LEASE_MS)?)
}

/// Claims endpoint `id` and delivers to it, on the current (blocking) thread. Claiming here rather
/// than in the polling task means that a process shutting down never leaves a lease behind: a
/// blocking task either never starts, or runs to its end and releases the lease.
fn claim_and_run(node: &Node, id: i64) -> Result<()> {
    let now = node.now_ms();
    if with_conn(node, |c| claim(c, id, &node.notify.instance, now))? {
        run_endpoint(node, id)?;
    }
    Ok(())
}

/// Forgets delivered and cancelled deliveries older than [`HISTORY_MS`].
fn purge_history(conn: &mut DbConn, now: i64) -> Result<usize> {
    Ok(store::purge_history(conn, now - HISTORY_MS)?)
}

/// Starts the delivery worker on the current actix runtime: every 200 ms it looks for due endpoints
/// and claims and delivers each (up to 16 at a time) on a blocking thread; every second it refreshes the
/// `data.released` subscriptions; every hour it purges old history.
pub fn spawn(node: Arc<Node>) {
    actix_web::rt::spawn(async move {
        let permits = Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT));
        let mut tick = actix_web::rt::time::interval(POLL);
        let (mut refreshed_at, mut purged_at) = (0i64, node.now_ms());
        loop {
            tick.tick().await;
            let now = node.now_ms();
            if now - refreshed_at >= 1000 {
                refreshed_at = now;
                refreshed(&node).await;
            }
            if now - purged_at >= 3_600_000 {
                purged_at = now;
                if let Err(e) = node.store.call(move |c| purge_history(c, now)).await {
                    if !e.is_outage() {
                        tracing::warn!(error = %e, "purging webhook history failed");
                    }
                }
            }
            let free = permits.available_permits();
            if free == 0 {
                continue;
            }
            let busy: HashSet<i64> = node.notify.busy.lock().map(|b| b.clone()).unwrap_or_default();
            let limit = free + busy.len();
            let due = match node.store.call(move |c| due_endpoints(c, now, limit)).await {
                Ok(d) => d,
                Err(e) => {
                    if !e.is_outage() {
                        tracing::warn!(error = %e, "finding due webhook endpoints failed");
                    }
                    continue;
                }
            };
            for id in due.into_iter().filter(|id| !busy.contains(id)) {
                let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
                    break;
                };
                if let Ok(mut b) = node.notify.busy.lock() {
                    b.insert(id);
                }
                let n = Arc::clone(&node);
                actix_web::rt::task::spawn_blocking(move || {
                    let _permit = permit;
                    if let Err(e) = claim_and_run(&n, id) {
                        if !e.is_outage() {
                            tracing::warn!(endpoint = id, error = %e, "webhook delivery stopped");
                        }
                    }
                    if let Ok(mut b) = n.notify.busy.lock() {
                        b.remove(&id);
                    }
                });
            }
        }
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_with_jitter_and_caps() {
        let cap = 900_000;
        for (failures, lo, hi) in [
            (1, 500, 1000),
            (2, 1000, 2000),
            (3, 2000, 4000),
            (10, 256_000, 512_000),
            (11, 450_000, 900_000),
            (60, 450_000, 900_000),
        ] {
            for r in [0u64, 1, 7, u64::MAX, 123_456_789] {
                let d = retry_delay_ms(failures, 1000, cap, r);
                assert!((lo..=hi).contains(&d), "{failures}: {d}");
            }
        }
        assert_eq!(retry_delay_ms(1, 1000, cap, 0), 1000);
        assert_eq!(retry_delay_ms(1, 1000, cap, 500), 500);
    }

    #[test]
    fn urls() {
        assert_eq!(
            check_url("HTTPS://Hooks.Example.com:443", false).unwrap(),
            "https://hooks.example.com/"
        );
        assert_eq!(
            check_url("https://h.example:8443/a/b?x=1", false).unwrap(),
            "https://h.example:8443/a/b?x=1"
        );
        assert_eq!(
            check_url("http://127.0.0.1:9000/hook", true).unwrap(),
            "http://127.0.0.1:9000/hook"
        );
        assert_eq!(check_url("http://[::1]/h", true).unwrap(), "http://[::1]/h");
        for (u, insecure) in [
            ("http://127.0.0.1:9000/hook", false),
            ("http://example.com/hook", true),
            ("http://10.0.0.1/hook", true),
            ("ftp://example.com/", true),
            ("https://user:pw@example.com/", false),
            ("https://example.com/#frag", false),
            ("https://exa mple.com/", false),
            ("https:///path", false),
            ("https://ex_ample.com/", false),
            ("https://example.com:99999999/", false),
            ("/relative", false),
            ("https://例子.com/", false),
        ] {
            let e = check_url(u, insecure).unwrap_err();
            assert_eq!(e.code(), "invalid-webhook-url", "{u}");
        }
        assert!(check_url(&format!("https://e.com/{}", "a".repeat(2000)), false).is_err());
    }

    #[test]
    fn event_bodies() {
        let b = |events: &[&str]| EndpointBody {
            url: "https://e.example/h".into(),
            events: events.iter().map(|s| (*s).to_owned()).collect(),
            description: None,
        };
        let (_, events, _) =
            check_body(&b(&["grant.suspended", "grant.revoked"]), Role::Bank, false).unwrap();
        assert_eq!(events, "grant.revoked,grant.suspended");
        for (events, role) in [
            (&[][..], Role::Bank),
            (&["grant.revoked", "grant.revoked"][..], Role::Platform),
            (&["data.released"][..], Role::Platform),
            (&["grant.exploded"][..], Role::Enterprise),
        ] {
            assert_eq!(
                check_body(&b(events), role, false).unwrap_err().code(),
                "invalid-webhook-events",
                "{events:?}"
            );
        }
    }
}
