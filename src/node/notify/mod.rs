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
//!
//! | file | holds |
//! |---|---|
//! | `outbox.rs` | the event types and [`enqueue`]: the notice and the outbox rows, inside the change's transaction |
//! | `delivery.rs` | the worker ([`spawn`]): leases, in-order delivery, retries ([`retry_delay_ms`]), history |
//! | `signing.rs` | the signed request of a delivery ([`signed_delivery`], RFC 9421 and RFC 9530) |
//! | `urls.rs` | endpoint URLs ([`check_url`]) |
//! | `endpoints.rs` | the endpoint registry of `/v1/webhooks` ([`register`], [`rotate`], [`delete`], …) |
//! | `notifier.rs` | the per-process state ([`Notifier`]) |

mod delivery;
mod endpoints;
mod notifier;
mod outbox;
mod signing;
mod urls;

pub use delivery::{CONNECT_TIMEOUT, HISTORY_MS, LEASE_MS, REQUEST_TIMEOUT, retry_delay_ms, spawn};
pub use endpoints::{EndpointBody, MAX_ENDPOINTS, delete, deliveries, get, list, register, rotate};
pub use notifier::Notifier;
pub use outbox::{
    CONSENT_REQUEST_DECLINED, CONSENT_REQUEST_EXPIRED, CONSENT_REQUEST_SIGNED, DATA_RELEASED, EVENTS,
    GRANT_RESUMED, GRANT_REVOKED, GRANT_SUSPENDED, OBJECTION_UPDATED, PARTICIPANT_STATE, PUBLIC_BATCH,
    RECORD_CORRECTED, RISK_ALERT, Removed, enqueue, enqueue_webhooks, events_for, grant_changed, grant_event,
    grant_message, grant_recipients, participant_state,
};
pub use signing::{COVERED, SIGNATURE_LABEL, SIGNATURE_LIFETIME_SECS, SIGNATURE_TAG, signed_delivery};
pub use urls::{MAX_URL_LEN, check_url};
