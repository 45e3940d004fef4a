//! The answers of the webhook endpoint registry (`/v1/webhooks`, spec/notifications.md §4):
//! endpoints, their deletion, and their delivery history.

use serde::Serialize;
use serde_json::Value;

use crate::storage::webhooks::{DeliveryState, EndpointState};

/// One of the caller's active endpoints (`components/schemas/Webhook`; built by
/// [`crate::node::notify::register`], [`crate::node::notify::rotate`], [`crate::node::notify::get`]
/// and [`crate::node::notify::list`]).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    /// The endpoint's public id, a UUID (`Webhook.id`).
    pub id: String,
    /// The normalized URL deliveries are signed for (`Webhook.url`).
    pub url: String,
    /// The subscribed event types, sorted (`Webhook.events`).
    pub events: Vec<String>,
    /// The owner's note, or `null` (`Webhook.description`).
    pub description: Option<String>,
    /// Always `active` in these answers (`Webhook.state`).
    pub state: EndpointState,
    /// Deliveries not yet answered 2xx (`Webhook.pending`).
    pub pending: i64,
    /// When the oldest pending delivery is next tried, RFC 3339 UTC; `null` when nothing is pending
    /// (`Webhook.nextAttemptAt`).
    pub next_attempt_at: Option<String>,
    /// RFC 3339 UTC (`Webhook.createdAt`).
    pub created_at: String,
    /// RFC 3339 UTC (`Webhook.updatedAt`).
    pub updated_at: String,
}

/// `GET /v1/webhooks` (`components/schemas/WebhookList`): the caller's active endpoints, oldest
/// first.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookList {
    /// `WebhookList.webhooks`.
    pub webhooks: Vec<Webhook>,
}

/// `POST /v1/webhooks/{id}/delete` (`components/schemas/WebhookDeleted`): the endpoint is deleted
/// and its pending deliveries cancelled.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookDeleted {
    /// The endpoint's public id (`WebhookDeleted.id`).
    pub id: String,
    /// Always `deleted` (`WebhookDeleted.state`).
    pub state: EndpointState,
    /// Pending deliveries cancelled (`WebhookDeleted.cancelled`).
    pub cancelled: usize,
}

/// One delivery of an endpoint's history (`components/schemas/WebhookDelivery`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDelivery {
    /// The endpoint's delivery sequence number (`WebhookDelivery.sequence`).
    pub sequence: i64,
    /// The event id (`WebhookDelivery.eventId`).
    pub event_id: String,
    /// The event type (`WebhookDelivery.type`).
    #[serde(rename = "type")]
    pub kind: String,
    /// `pending`, `delivered` or `cancelled` (`WebhookDelivery.state`).
    pub state: DeliveryState,
    /// Attempts made (`WebhookDelivery.attempts`).
    pub attempts: i64,
    /// RFC 3339 UTC (`WebhookDelivery.createdAt`).
    pub created_at: String,
    /// When the next attempt is due, for a pending delivery; else `null`
    /// (`WebhookDelivery.nextAttemptAt`).
    pub next_attempt_at: Option<String>,
    /// `WebhookDelivery.lastAttemptAt`, or `null`.
    pub last_attempt_at: Option<String>,
    /// The HTTP status of the last answer, or `null` (`WebhookDelivery.lastStatus`).
    pub last_status: Option<i64>,
    /// Why the last attempt failed, or `null` (`WebhookDelivery.lastError`).
    pub last_error: Option<String>,
    /// `WebhookDelivery.deliveredAt`, or `null`.
    pub delivered_at: Option<String>,
    /// The body delivered (or to deliver), as stored; `null` if it no longer parses
    /// (`WebhookDelivery.payload`).
    pub payload: Value,
}

/// `GET /v1/webhooks/{id}/deliveries` (`components/schemas/WebhookDeliveries`): an endpoint's
/// delivery history, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookDeliveries {
    /// The endpoint's public id (`WebhookDeliveries.endpoint`).
    pub endpoint: String,
    /// `WebhookDeliveries.deliveries`.
    pub deliveries: Vec<WebhookDelivery>,
}
