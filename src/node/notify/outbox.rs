//! The event types and enqueueing: [`EVENTS`] and which roles receive which ([`events_for`]),
//! [`enqueue`] (the in-app notice and one outbox row per subscribed endpoint) and the helpers the
//! node's operations call to report a change (grants, admission states), with their bilingual
//! messages.
//!
//! Guarantees: everything here runs on the caller's connection, inside the transaction of the change
//! it reports (a group-commit job), so an event is owed exactly when its change is committed; an
//! unknown event type is an error, never a silent drop.

use serde_json::{Value, json};

use crate::credential::datetime::format_utc_seconds;
use crate::error::{Error, Result};
use crate::policy::Role;
use crate::storage::webhooks::{self as store, EndpointRow};
use crate::storage::{DbConn, from_millis, notices};

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

/// `risk.alert`: a post-loan risk alert about a borrower of the recipient (a bank) or of one of its
/// banks (a platform) (spec/loans.md §7).
pub const RISK_ALERT: &str = "risk.alert";

/// `public.batch`: a batch of public information the recipient (a bank) subscribed to was pushed
/// (spec/loans.md §9).
pub const PUBLIC_BATCH: &str = "public.batch";

/// `consent-request.signed`: the enterprise answered the recipient's consent request with a grant
/// within it (spec/consent-requests.md §6).
pub const CONSENT_REQUEST_SIGNED: &str = "consent-request.signed";
/// `consent-request.declined`: the enterprise declined the recipient's consent request.
pub const CONSENT_REQUEST_DECLINED: &str = "consent-request.declined";
/// `consent-request.expired`: the recipient's consent request expired unanswered.
pub const CONSENT_REQUEST_EXPIRED: &str = "consent-request.expired";

/// `record.corrected`: a data record the recipient (a platform or bank) received in a release was
/// corrected after an objection (spec/objections.md §7.1).
pub const RECORD_CORRECTED: &str = "record.corrected";

/// Every event type, in documentation order.
pub const EVENTS: [&str; 12] = [
    GRANT_REVOKED,
    GRANT_SUSPENDED,
    GRANT_RESUMED,
    DATA_RELEASED,
    OBJECTION_UPDATED,
    PARTICIPANT_STATE,
    RISK_ALERT,
    PUBLIC_BATCH,
    CONSENT_REQUEST_SIGNED,
    CONSENT_REQUEST_DECLINED,
    CONSENT_REQUEST_EXPIRED,
    RECORD_CORRECTED,
];

/// The event types a participant of `role` can receive, hence subscribe to.
pub fn events_for(role: Role) -> &'static [&'static str] {
    match role {
        Role::Enterprise => &[
            GRANT_REVOKED,
            GRANT_SUSPENDED,
            GRANT_RESUMED,
            DATA_RELEASED,
            OBJECTION_UPDATED,
            PARTICIPANT_STATE,
        ],
        Role::Platform => &[
            GRANT_REVOKED,
            GRANT_SUSPENDED,
            GRANT_RESUMED,
            OBJECTION_UPDATED,
            PARTICIPANT_STATE,
            RISK_ALERT,
            CONSENT_REQUEST_SIGNED,
            CONSENT_REQUEST_DECLINED,
            CONSENT_REQUEST_EXPIRED,
            RECORD_CORRECTED,
        ],
        Role::Bank => &[
            GRANT_REVOKED,
            GRANT_SUSPENDED,
            GRANT_RESUMED,
            OBJECTION_UPDATED,
            PARTICIPANT_STATE,
            RISK_ALERT,
            PUBLIC_BATCH,
            CONSENT_REQUEST_SIGNED,
            CONSENT_REQUEST_DECLINED,
            CONSENT_REQUEST_EXPIRED,
            RECORD_CORRECTED,
        ],
        Role::Node | Role::Regulator | Role::Department => &[],
    }
}

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

/// The bilingual message of a grant event for a recipient of `role`; `removed` names the platform or
/// bank whose removal suspended the grant (the cascade).
pub fn grant_message(
    event: &str,
    grant: &str,
    enterprise: &str,
    role: &str,
    removed: Option<Removed<'_>>,
) -> String {
    let (zh, en) = match event {
        GRANT_REVOKED => ("已撤销", "revoked"),
        GRANT_SUSPENDED => ("已暂停", "suspended"),
        _ => ("已恢复", "resumed"),
    };
    match (role, removed) {
        (
            "enterprise",
            Some(Removed {
                role: Role::Bank,
                uscc: b,
            }),
        ) => format!(
            "您的授权 {grant} 所列银行 {b} 被移除，该授权已暂停。Your grant {grant} was suspended because bank {b}, which it names, was removed."
        ),
        (
            _,
            Some(Removed {
                role: Role::Bank,
                uscc: b,
            }),
        ) => format!(
            "企业 {enterprise} 的授权 {grant} 因银行 {b} 被移除已暂停。Grant {grant} of enterprise {enterprise} was suspended because bank {b} was removed."
        ),
        ("enterprise", Some(Removed { uscc: p, .. })) => format!(
            "您授权给平台 {p} 的授权 {grant} 因该平台被移除已暂停。Your grant {grant} to platform {p} was suspended because the platform was removed."
        ),
        (_, Some(Removed { uscc: p, .. })) => format!(
            "企业 {enterprise} 的授权 {grant} 因平台 {p} 被移除已暂停。Grant {grant} of enterprise {enterprise} was suspended because platform {p} was removed."
        ),
        ("enterprise", None) => format!("您的授权 {grant} {zh}。Your grant {grant} was {en}."),
        _ => format!(
            "企业 {enterprise} 的授权 {grant} {zh}，请按此调整数据使用。Grant {grant} of enterprise {enterprise} was {en}; act on it."
        ),
    }
}

/// The participant whose removal suspended a grant (a platform it names as grantee, or a bank it
/// names as a recipient), for [`grant_message`].
#[derive(Debug, Clone, Copy)]
pub struct Removed<'a> {
    /// Platform or bank.
    pub role: Role,
    /// Its code.
    pub uscc: &'a str,
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
