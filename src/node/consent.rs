//! Consent requests at the node (spec/consent-requests.md): a platform or bank drafts the grant it
//! asks an enterprise for; the enterprise answers with a grant **within** it (stored through the
//! normal submission, in the same transaction that marks the request `signed`), or declines; the
//! requester may withdraw it while it is pending; unanswered requests expire. The requester is told
//! of every answer by a signed webhook (`consent-request.signed|declined|expired`).
//!
//! Guarantees: the requester and its role are the authenticated caller's, never the body's; a
//! request's terms pass the grant rules (spec/grant.md §4, letters aside) and the party checks
//! before anything is written, every failure listed (`422 consent-request-invalid`); only parties
//! and regulators see a request (others `404`); a grant that exceeds its request is refused with
//! every reason (`422 grant-exceeds-request`) and changes nothing; every state change runs in one
//! committer job with the webhook it owes.

use serde_json::{Value, json};

use super::answers::consent::{ConsentRequest, ConsentRequestAccepted, Requester};
use super::answers::{PageQuery, Paged};
use super::{Caller, Node, grants};
use crate::credential::datetime::{format_utc_seconds, parse_datetime_stamp};
use crate::error::{Error, Result};
use crate::grant::GrantTerms;
use crate::grant::model::GranteeRole;
use crate::grant::request::{ConsentRequestState, RequestedGrant, within};
use crate::ids::ConsentRequestId;
use crate::log::entry::Reason;
use crate::policy::{ParticipantState, Role};
use crate::storage::consent_requests::{self as store, ConsentRequestRow, NewConsentRequest, Scope};
use crate::storage::log_store::Tx;
use crate::storage::{from_millis, millis, participants};

/// How long a request waits for an answer at most: 30 days, or until the requested `validUntil`
/// when that comes first.
pub const ANSWER_WITHIN_DAYS: i64 = 30;
/// A day, in milliseconds.
const DAY_MS: i64 = 86_400_000;
/// The longest message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 2000;
/// The longest decline reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// `POST /v1/consent-requests`: the requested grant and a message.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateBody {
    /// The requested terms: a grant's `credentialSubject`, without letters.
    pub terms: GrantTerms,
    /// The earliest `validFrom` (RFC 3339 date-time with a time zone).
    pub valid_from: String,
    /// The latest `validUntil`.
    pub valid_until: String,
    /// A message to the enterprise (optional, at most 2000 characters).
    #[serde(default)]
    pub message: Option<String>,
}

/// `POST /v1/consent-requests/{id}/decline`: an optional reason.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclineBody {
    /// Why (optional, at most 500 characters; shown to the requester).
    #[serde(default)]
    pub reason: Option<String>,
}

/// `GET /v1/consent-requests`: an optional state and the page.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only requests in this state.
    pub state: Option<ConsentRequestState>,
    /// Only requests after this cursor (from `next`).
    pub after: Option<i64>,
    /// At most this many (1–200, default 50).
    pub limit: Option<i64>,
}

fn reason(code: &str, message: impl Into<String>) -> Reason {
    Reason {
        code: code.to_owned(),
        message: message.into(),
    }
}

/// The answer for a stored row.
fn describe(r: &ConsentRequestRow) -> Result<ConsentRequest> {
    let terms: GrantTerms = serde_json::from_str(&r.terms)
        .map_err(|e| Error::Internal(format!("stored terms of {}: {e}", r.id)))?;
    Ok(ConsentRequest {
        id: r.id.as_str().to_owned(),
        requester: Requester {
            uscc: r.requester_uscc.clone(),
            role: r.requester_role,
        },
        enterprise: r.enterprise_uscc.clone(),
        terms,
        valid_from: format_utc_seconds(from_millis(r.valid_from)),
        valid_until: format_utc_seconds(from_millis(r.valid_until)),
        message: r.message.clone(),
        state: r.state,
        grant: r.grant_id.clone(),
        decline_reason: r.decline_reason.clone(),
        created_at: format_utc_seconds(from_millis(r.created_at)),
        expires_at: format_utc_seconds(from_millis(r.expires_at)),
        answered_at: r.answered_at.map(|a| format_utc_seconds(from_millis(a))),
    })
}

/// Whether `caller` is a party to the request (its requester or its enterprise) or reads
/// everything (a regulator, the node).
fn visible_to(r: &ConsentRequestRow, role: Role, uscc: &str) -> bool {
    match role {
        Role::Enterprise => r.enterprise_uscc == uscc,
        Role::Platform | Role::Bank => r.requester_uscc == uscc,
        Role::Regulator | Role::Node => true,
        Role::Department => false,
    }
}

/// The checks of the parties a request names, run in the creating job (spec/consent-requests.md
/// §3): the enterprise registered and active; the grantee an active platform; every bank active and
/// registered by the grantee; the requester itself the grantee (a platform) or one of the banks with
/// the grantee its platform (a bank).
fn party_reasons(tx: &mut Tx<'_>, t: &GrantTerms, caller: &Caller) -> Result<Vec<Reason>> {
    let mut out = Vec::new();
    match participants::find(tx.conn, &t.enterprise.uscc, Role::Enterprise)? {
        Some(e) if e.state == ParticipantState::Active => {}
        _ => out.push(reason(
            "unknown-enterprise",
            format!(
                "enterprise {} is not a registered, active enterprise",
                t.enterprise.uscc
            ),
        )),
    }
    let grantee_ok = t.grantee.role == GranteeRole::Platform
        && participants::find(tx.conn, &t.grantee.uscc, Role::Platform)?
            .is_some_and(|p| p.state == ParticipantState::Active);
    if !grantee_ok {
        out.push(reason(
            "grantee-not-admitted",
            format!("grantee {} is not an admitted, active platform", t.grantee.uscc),
        ));
    }
    for b in &t.onward_recipients {
        match participants::find(tx.conn, &b.uscc, Role::Bank)? {
            Some(p)
                if p.state == ParticipantState::Active
                    && p.platform_uscc.as_deref() == Some(&t.grantee.uscc) => {}
            _ => out.push(reason(
                "bank-not-of-platform",
                format!(
                    "bank {} is not an active bank registered by platform {}",
                    b.uscc, t.grantee.uscc
                ),
            )),
        }
    }
    let me = caller.uscc();
    let recipient = match caller.role {
        Role::Platform => t.grantee.uscc == me,
        Role::Bank => {
            caller.participant.platform_uscc.as_deref() == Some(t.grantee.uscc.as_str())
                && t.onward_recipient(me).is_some()
        }
        _ => false,
    };
    if !recipient {
        out.push(reason(
            "requester-not-recipient",
            format!(
                "the requester {me} must be the grantee (a platform) or a bank named among the \
                 recipients whose platform is the grantee"
            ),
        ));
    }
    Ok(out)
}

/// `POST /v1/consent-requests`: a platform or bank (active) asks an enterprise for a grant. The
/// terms are checked as a grant's (spec/grant.md §4, letters aside), the window (`validFrom` ≤
/// `validUntil`, `validUntil` in the future) and the parties; every failure is a reason of `422
/// consent-request-invalid` and nothing is written. Otherwise the request is stored `pending`,
/// expiring after [`ANSWER_WITHIN_DAYS`] or at `validUntil`.
pub async fn create(node: &Node, caller: &Caller, body: CreateBody) -> Result<ConsentRequest> {
    caller.require(&[Role::Platform, Role::Bank])?;
    let now = node.clock.now();
    let message = body.message.unwrap_or_default();
    if message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(Error::invalid(
            "invalid-body",
            format!("message: at most {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    let catalog = node.catalog();
    let mut reasons: Vec<Reason> = crate::grant::rules::check_requested_terms(&body.terms, &catalog)
        .into_iter()
        .map(|v| reason(v.code(), v.to_string()))
        .collect();
    let window = match (
        parse_datetime_stamp(&body.valid_from),
        parse_datetime_stamp(&body.valid_until),
    ) {
        (Ok(f), Ok(u)) if f <= u => {
            if u <= now {
                reasons.push(reason(
                    "expired",
                    format!("validUntil {} has passed", body.valid_until),
                ));
            }
            Some((f, u))
        }
        (Ok(_), Ok(_)) => {
            reasons.push(reason("validity-window", "validFrom is after validUntil"));
            None
        }
        _ => {
            reasons.push(reason(
                "validity-window",
                "validFrom and validUntil must be date-times with a time zone",
            ));
            None
        }
    };
    let terms_json = serde_json::to_string(&body.terms).map_err(|e| Error::Internal(e.to_string()))?;
    let (c, terms) = (caller.clone(), body.terms);
    let id = ConsentRequestId::random();
    let row = node
        .committer
        .run(move |tx| -> Result<ConsentRequestRow> {
            tx.consume_assertion(&c.assertion)?;
            let mut reasons = reasons.clone();
            reasons.extend(party_reasons(tx, &terms, &c)?);
            let Some((from, until)) = window else {
                return Err(Error::ConsentRequest(reasons));
            };
            if !reasons.is_empty() {
                return Err(Error::ConsentRequest(reasons));
            }
            let created = tx.now();
            let expires = created
                .saturating_add(ANSWER_WITHIN_DAYS * DAY_MS)
                .min(millis(until));
            store::insert(
                tx.conn,
                &NewConsentRequest {
                    id: &id,
                    requester_uscc: c.uscc(),
                    requester_role: c.role,
                    enterprise_uscc: &terms.enterprise.uscc,
                    terms: &terms_json,
                    valid_from: millis(from),
                    valid_until: millis(until),
                    message: &message,
                    created_at: created,
                    expires_at: expires,
                },
            )?;
            store::get(tx.conn, id.as_str())?.ok_or_else(|| Error::Internal("request vanished".into()))
        })
        .await?;
    tracing::info!(request = %row.id, state = %row.state, "consent request made");
    describe(&row)
}

/// `GET /v1/consent-requests`: a page of the requests the caller (active) may see — a platform or
/// bank its own, an enterprise those addressed to it, a regulator or the node all — in creation
/// order, optionally in one state.
pub async fn list(node: &Node, caller: &Caller, q: ListQuery) -> Result<Paged<ConsentRequest>> {
    caller.require(&[
        Role::Platform,
        Role::Bank,
        Role::Enterprise,
        Role::Regulator,
        Role::Node,
    ])?;
    let page = PageQuery {
        after: q.after,
        limit: q.limit,
    }
    .page()?;
    let (role, uscc, state) = (caller.role, caller.uscc().to_owned(), q.state);
    let rows = node
        .store
        .call(move |c| -> Result<Vec<ConsentRequestRow>> {
            let scope = match role {
                Role::Enterprise => Scope::Enterprise(&uscc),
                Role::Platform | Role::Bank => Scope::Requester(&uscc),
                Role::Regulator | Role::Node => Scope::All,
                Role::Department => {
                    return Err(Error::Forbidden(
                        "a providing department has no consent requests".into(),
                    ));
                }
            };
            Ok(store::list(c, scope, state, page.after, page.limit)?)
        })
        .await?;
    let next = super::answers::Page::next(page.limit, &rows, |r| r.seq);
    Ok(Paged {
        items: rows.iter().map(describe).collect::<Result<_>>()?,
        next,
    })
}

/// `GET /v1/consent-requests/{id}`: one request, to its parties and regulators (others `404`).
pub async fn get(node: &Node, caller: &Caller, id: &str) -> Result<ConsentRequest> {
    caller.require(&[
        Role::Platform,
        Role::Bank,
        Role::Enterprise,
        Role::Regulator,
        Role::Node,
    ])?;
    let (role, uscc, key) = (caller.role, caller.uscc().to_owned(), id.to_owned());
    let row = node
        .store
        .call(move |c| -> Result<Option<ConsentRequestRow>> { Ok(store::get(c, &key)?) })
        .await?
        .filter(|r| visible_to(r, role, &uscc))
        .ok_or_else(|| Error::NotFound(format!("consent request {id}")))?;
    describe(&row)
}

/// The request `id` as `uscc` in `role` may act on it: `404` when it does not exist or the caller
/// is not the party `role` names; `409` when it is no longer pending or its time ran out.
fn pending_for(
    tx: &mut Tx<'_>,
    id: &str,
    party: impl Fn(&ConsentRequestRow) -> bool,
) -> Result<ConsentRequestRow> {
    let r = store::get(tx.conn, id)?
        .filter(&party)
        .ok_or_else(|| Error::NotFound(format!("consent request {id}")))?;
    if r.state != ConsentRequestState::Pending {
        return Err(Error::Conflict(format!("consent request {id} is {}", r.state)));
    }
    if r.expires_at <= tx.now() {
        return Err(Error::Conflict(format!("consent request {id} has expired")));
    }
    Ok(r)
}

/// The bilingual message of an answer to a request, for the requester.
fn message(event: &str, id: &str, enterprise: &str) -> String {
    let (zh, en) = match event {
        super::notify::CONSENT_REQUEST_SIGNED => ("已签署授权", "signed a grant for"),
        super::notify::CONSENT_REQUEST_DECLINED => ("已拒绝", "declined"),
        _ => ("未获答复，已过期", "did not answer; it expired:"),
    };
    format!(
        "企业 {enterprise} {zh}您的授权请求 {id}。Enterprise {enterprise} {en} your consent request {id}."
    )
}

/// Queues the requester's event for a request that just left `pending`.
fn tell_requester(tx: &mut Tx<'_>, r: &ConsentRequestRow, event: &str, extra: Value) -> Result<()> {
    let mut data = json!({
        "consentRequest": r.id.as_str(),
        "enterprise": r.enterprise_uscc,
        "message": message(event, r.id.as_str(), &r.enterprise_uscc),
    });
    if let (Value::Object(d), Value::Object(x)) = (&mut data, extra) {
        d.extend(x);
    }
    let now = tx.now();
    super::notify::enqueue(tx.conn, &r.requester_uscc, event, data, now)
}

/// Reads a row back after a change.
fn reread(tx: &mut Tx<'_>, id: &str) -> Result<ConsentRequestRow> {
    store::get(tx.conn, id)?.ok_or_else(|| Error::Internal(format!("consent request {id} vanished")))
}

/// `POST /v1/consent-requests/{id}/withdraw`: the requester (active) withdraws its pending request.
/// Nobody is notified (the requester did it).
pub async fn withdraw(node: &Node, caller: &Caller, id: String) -> Result<ConsentRequest> {
    caller.require(&[Role::Platform, Role::Bank])?;
    let c = caller.clone();
    let row = node
        .committer
        .run(move |tx| -> Result<ConsentRequestRow> {
            tx.consume_assertion(&c.assertion)?;
            let r = pending_for(tx, &id, |r| r.requester_uscc == c.uscc())?;
            let now = tx.now();
            store::finish(tx.conn, &id, ConsentRequestState::Withdrawn, None, None, now)?;
            reread(tx, r.id.as_str())
        })
        .await?;
    tracing::info!(request = %row.id, state = %row.state, "consent request withdrawn");
    describe(&row)
}

/// `POST /v1/consent-requests/{id}/decline`: the enterprise (active) declines a pending request
/// addressed to it, with an optional reason; the requester gets `consent-request.declined`.
pub async fn decline(node: &Node, caller: &Caller, id: String, body: DeclineBody) -> Result<ConsentRequest> {
    caller.require(&[Role::Enterprise])?;
    let why = body.reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    if why.as_ref().is_some_and(|r| r.chars().count() > MAX_REASON_CHARS) {
        return Err(Error::invalid(
            "invalid-body",
            format!("reason: at most {MAX_REASON_CHARS} characters"),
        ));
    }
    let c = caller.clone();
    let row = node
        .committer
        .run(move |tx| -> Result<ConsentRequestRow> {
            tx.consume_assertion(&c.assertion)?;
            let r = pending_for(tx, &id, |r| r.enterprise_uscc == c.uscc())?;
            let now = tx.now();
            store::finish(
                tx.conn,
                &id,
                ConsentRequestState::Declined,
                None,
                why.as_deref(),
                now,
            )?;
            let r = reread(tx, r.id.as_str())?;
            tell_requester(
                tx,
                &r,
                super::notify::CONSENT_REQUEST_DECLINED,
                json!({"state": r.state, "reason": why}),
            )?;
            Ok(r)
        })
        .await?;
    tracing::info!(request = %row.id, state = %row.state, "consent request declined");
    describe(&row)
}

/// `POST /v1/consent-requests/{id}/accept`: the enterprise answers a pending request with a signed
/// grant (the body, as for `POST /v1/grants`, whose signature authenticates it; `session_enterprise`
/// is the signed-in enterprise of a portal call, which must be the grant's). The grant is verified
/// and checked exactly as a submission, and must lie within the request ([`within`]); then, in one
/// job, it is stored and logged (the log entry's detail names the request), the request becomes
/// `signed` with the grant's id, and the requester gets `consent-request.signed`. The same bytes
/// sent again for a request they already answered return the same answer (`false`: nothing new).
pub async fn accept(
    node: &Node,
    id: String,
    bytes: Vec<u8>,
    session_enterprise: Option<String>,
) -> Result<(ConsentRequestAccepted, bool)> {
    let p = grants::prepare(node, &bytes)?;
    let enterprise = p.grant.enterprise().as_str().to_owned();
    if session_enterprise.is_some_and(|s| s != enterprise) {
        return Err(Error::Forbidden("the grant is for another enterprise".into()));
    }
    let g = p.grant.clone();
    let (row, grant, created) = node
        .committer
        .run(
            move |tx| -> Result<(ConsentRequestRow, super::answers::grants::Grant, bool)> {
                let r = store::get(tx.conn, &id)?
                    .filter(|r| r.enterprise_uscc == enterprise)
                    .ok_or_else(|| Error::NotFound(format!("consent request {id}")))?;
                let grant_id = p.grant.id().as_str().to_owned();
                if r.state == ConsentRequestState::Signed && r.grant_id.as_deref() == Some(grant_id.as_str())
                {
                    let (grant, _) = grants::store_verified(tx, &p, Some(&id))?;
                    return Ok((r, grant, false));
                }
                let r = pending_for(tx, &id, |_| true)?;
                if crate::storage::grants::get(tx.conn, &grant_id)?.is_some() {
                    return Err(Error::Conflict(format!(
                        "grant {grant_id} is already held; answer a request with a new grant"
                    )));
                }
                let terms: GrantTerms = serde_json::from_str(&r.terms)
                    .map_err(|e| Error::Internal(format!("stored terms of {id}: {e}")))?;
                let requested = RequestedGrant {
                    terms,
                    valid_from: from_millis(r.valid_from),
                    valid_until: from_millis(r.valid_until),
                };
                let g = &p.grant;
                let exceeds = within(g.terms(), g.valid_from(), g.valid_until(), &requested);
                if !exceeds.is_empty() {
                    return Err(Error::ExceedsRequest(
                        exceeds.into_iter().map(|e| reason(e.code, e.message)).collect(),
                    ));
                }
                let (grant, created) = grants::store_verified(tx, &p, Some(&id))?;
                let now = tx.now();
                if !store::finish(
                    tx.conn,
                    &id,
                    ConsentRequestState::Signed,
                    Some(&grant.id),
                    None,
                    now,
                )? {
                    return Err(Error::Conflict(format!(
                        "consent request {id} is no longer pending"
                    )));
                }
                let r = reread(tx, &id)?;
                tell_requester(
                    tx,
                    &r,
                    super::notify::CONSENT_REQUEST_SIGNED,
                    json!({"state": r.state, "grant": grant.id, "logIndex": grant.log_index}),
                )?;
                Ok((r, grant, created))
            },
        )
        .await?;
    node.grants.get_or_verify(g.digest(), || Ok(g.clone()))?;
    if created {
        tracing::info!(request = %row.id, state = %row.state, "consent request signed");
    }
    Ok((
        ConsentRequestAccepted {
            consent_request: describe(&row)?,
            grant,
        },
        created,
    ))
}

/// The expiry sweep (background, every few seconds): every pending request whose time ran out
/// becomes `expired` and its requester gets `consent-request.expired`, each in the same job.
/// Returns how many expired.
pub async fn expire_due(node: &Node) -> Result<usize> {
    let now = node.now_ms();
    let any = node
        .store
        .call(move |c| -> Result<Vec<ConsentRequestRow>> { Ok(store::due(c, now, 1)?) })
        .await?;
    if any.is_empty() {
        return Ok(0);
    }
    let expired = node
        .committer
        .run(move |tx| -> Result<Vec<String>> {
            let now = tx.now();
            let mut done = Vec::new();
            for r in store::due(tx.conn, now, 100)? {
                if store::finish(
                    tx.conn,
                    r.id.as_str(),
                    ConsentRequestState::Expired,
                    None,
                    None,
                    now,
                )? {
                    let r = reread(tx, r.id.as_str())?;
                    tell_requester(
                        tx,
                        &r,
                        super::notify::CONSENT_REQUEST_EXPIRED,
                        json!({"state": r.state}),
                    )?;
                    done.push(r.id.as_str().to_owned());
                }
            }
            Ok(done)
        })
        .await?;
    for id in &expired {
        tracing::info!(request = %id, "consent request expired");
    }
    Ok(expired.len())
}
