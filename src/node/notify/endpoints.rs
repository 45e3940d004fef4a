//! The webhook endpoint registry of `/v1/webhooks`: [`register`], [`rotate`], [`delete`], [`list`],
//! [`get`] and the delivery history ([`deliveries`]) of a participant's own endpoints.
//!
//! Guarantees: only platforms, banks and enterprises manage endpoints, each only its own; nothing is
//! written unless every check passes (URL, events the role can receive, at most [`MAX_ENDPOINTS`]);
//! a rotation keeps the pending deliveries in order, a deletion cancels them (kept in the history).

use serde::Deserialize;
use serde_json::Value;

use super::notifier::refreshed;
use super::outbox::{EVENTS, events_for};
use super::urls::check_url;
use crate::credential::datetime::format_utc_seconds;
use crate::error::{Error, Result};
use crate::node::answers::webhooks::{Webhook, WebhookDeleted, WebhookDeliveries, WebhookDelivery};
use crate::node::{Caller, Node};
use crate::policy::Role;
use crate::storage::webhooks::{
    self as store, DeliveryState, EndpointRow, EndpointState, NewEndpoint, OutboxRow,
};
use crate::storage::{DbConn, from_millis};

/// Most endpoints one participant may have.
pub const MAX_ENDPOINTS: i64 = 10;

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

fn describe(e: &EndpointRow, pending: i64) -> Webhook {
    Webhook {
        id: e.public_id.clone(),
        url: e.url.clone(),
        events: e.events.split(',').map(str::to_owned).collect(),
        description: e.description.clone(),
        state: e.state,
        pending,
        next_attempt_at: e
            .next_attempt_at
            .filter(|_| pending > 0)
            .map(|t| format_utc_seconds(from_millis(t))),
        created_at: format_utc_seconds(from_millis(e.created_at)),
        updated_at: format_utc_seconds(from_millis(e.updated_at)),
    }
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

/// Registers an endpoint for the caller (an active platform, bank or enterprise). Nothing is written
/// unless every check passes.
pub async fn register(node: &Node, caller: &Caller, body: EndpointBody) -> Result<Webhook> {
    caller.require(&MANAGERS)?;
    let (url, events, description) = check_body(&body, caller.role, node.notify.settings.allow_insecure)?;
    let (owner, role, a) = (
        caller.uscc().to_owned(),
        caller.role.as_str(),
        caller.assertion.clone(),
    );
    let v = node
        .committer
        .run(move |tx| -> Result<Webhook> {
            tx.consume_assertion(&a)?;
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
pub async fn rotate(node: &Node, caller: &Caller, public_id: String, body: EndpointBody) -> Result<Webhook> {
    caller.require(&MANAGERS)?;
    let (url, events, description) = check_body(&body, caller.role, node.notify.settings.allow_insecure)?;
    let (owner, a) = (caller.uscc().to_owned(), caller.assertion.clone());
    let v = node
        .committer
        .run(move |tx| -> Result<Webhook> {
            let row = own_endpoint(tx.conn, &owner, &public_id)?;
            tx.consume_assertion(&a)?;
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
pub async fn delete(node: &Node, caller: &Caller, public_id: String) -> Result<WebhookDeleted> {
    caller.require(&MANAGERS)?;
    let (owner, a) = (caller.uscc().to_owned(), caller.assertion.clone());
    let v = node
        .committer
        .run(move |tx| -> Result<WebhookDeleted> {
            let row = own_endpoint(tx.conn, &owner, &public_id)?;
            tx.consume_assertion(&a)?;
            let now = tx.now();
            let cancelled = store::cancel_pending(tx.conn, row.id)?;
            store::mark_deleted(tx.conn, row.id, now)?;
            Ok(WebhookDeleted {
                id: row.public_id,
                state: EndpointState::Deleted,
                cancelled,
            })
        })
        .await?;
    refreshed(node).await;
    Ok(v)
}

/// The caller's active endpoints, oldest first.
pub async fn list(node: &Node, caller: &Caller) -> Result<Vec<Webhook>> {
    caller.require(&MANAGERS)?;
    let owner = caller.uscc().to_owned();
    node.store
        .call(move |c| -> Result<Vec<Webhook>> {
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
pub async fn get(node: &Node, caller: &Caller, public_id: String) -> Result<Webhook> {
    caller.require(&MANAGERS)?;
    let owner = caller.uscc().to_owned();
    node.store
        .call(move |c| -> Result<Webhook> {
            let r = endpoint_of(c, &owner, &public_id)?;
            Ok(describe(&r, pending_of(c, r.id)?))
        })
        .await
}

fn describe_delivery(r: &OutboxRow) -> WebhookDelivery {
    let t = |v: Option<i64>| v.map(|t| format_utc_seconds(from_millis(t)));
    WebhookDelivery {
        sequence: r.seq,
        event_id: r.event_id.clone(),
        kind: r.event_type.clone(),
        state: r.state,
        attempts: r.attempts,
        created_at: format_utc_seconds(from_millis(r.created_at)),
        next_attempt_at: t(Some(r.next_attempt_at).filter(|_| r.state == DeliveryState::Pending)),
        last_attempt_at: t(r.last_attempt_at),
        last_status: r.last_status,
        last_error: r.last_error.clone(),
        delivered_at: t(r.delivered_at),
        payload: serde_json::from_str::<Value>(&r.body).unwrap_or(Value::Null),
    }
}

/// An endpoint's delivery history, newest first: at most `limit` (1–200) deliveries with a sequence
/// number below `before` (all when `None`).
pub async fn deliveries(
    node: &Node,
    caller: &Caller,
    public_id: String,
    before: Option<i64>,
    limit: Option<i64>,
) -> Result<WebhookDeliveries> {
    caller.require(&MANAGERS)?;
    let limit = crate::node::answers::Page::limit(limit)?;
    let owner = caller.uscc().to_owned();
    node.store
        .call(move |c| -> Result<WebhookDeliveries> {
            let e = endpoint_of(c, &owner, &public_id)?;
            let rows = store::history(c, e.id, before.unwrap_or(i64::MAX), limit)?;
            Ok(WebhookDeliveries {
                endpoint: e.public_id,
                deliveries: rows.iter().map(describe_delivery).collect(),
            })
        })
        .await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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
