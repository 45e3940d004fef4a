//! The state machine of an objection: its states ([`ObjectionState`]), which may follow which
//! ([`previous`]), the steps between them ([`forward`]; [`decide`] / [`decide_as`]: review, then
//! resolution) and how a step is recorded.
//!
//! ```text
//! received ─▶ forwarded ─▶ under-review ─▶ corrected | rejected
//! ```
//!
//! Guarantees: a step is taken only from the state before it (else a conflict); each step is a
//! statement signed by its actor, chained by digest to the previous one, appended to the access log
//! on the enterprise's chain and notified, in the same transaction as the state change; a
//! correction keeps the record's old fields and, in the same transaction, sends `record.corrected`
//! to every platform and bank that received the record ([`super::recipients`]).

use serde::Deserialize;
use serde_json::{Value, json};

use super::filing::Target;
use super::recipients;
use super::statements::{
    Actor, Statement, StepBody, action, actor_statement, caller_statement, check_signer_is, invalid,
    text_claim,
};
use super::views::{find, get_unchecked};
use crate::calendar::format_cst;
use crate::crypto::Sha256Digest;
use crate::error::{Error, Result};
use crate::log::entry::{AccessRecord, EntryKind};
use crate::node::answers::objections::Objection;
use crate::node::{Caller, Node, notify};
use crate::policy::Role;
use crate::storage::log_store::{NewEntry, Tx};
use crate::storage::objections::{self as store, NewStep, ObjectionRow};
use crate::storage::{data, from_millis};

/// Largest corrected record, in bytes of JSON.
pub const MAX_CORRECTION: usize = 16 * 1024;

pub use crate::storage::objections::ObjectionState;

/// The one state a step to `to` starts from (`None` for `received`: lodging the filing creates it).
/// The whole state machine: `received ─▶ forwarded ─▶ under-review ─▶ corrected | rejected`.
pub const fn previous(to: ObjectionState) -> Option<ObjectionState> {
    match to {
        ObjectionState::Received => None,
        ObjectionState::Forwarded => Some(ObjectionState::Received),
        ObjectionState::UnderReview => Some(ObjectionState::Forwarded),
        ObjectionState::Corrected | ObjectionState::Rejected => Some(ObjectionState::UnderReview),
    }
}

/// Appends a step: its log entry, its row, the state change, and the notices.
pub(super) fn record_step(
    tx: &mut Tx<'_>,
    o: &ObjectionRow,
    step: ObjectionState,
    st: &Statement,
    at: i64,
    detail: Value,
) -> Result<(u64, String)> {
    let prev = store::steps(tx.conn, &o.id)?
        .last()
        .map_or_else(|| o.filing_sha256.clone(), |s| s.sha256.clone());
    let sha = st.sha256();
    let platform = (o.received_role == "platform").then(|| o.received_by.clone());
    let mut d = json!({
        "objection": o.id,
        "step": step.as_str(),
        "statementSha256": sha,
        "prevSha256": prev,
        "target": Target::from_row(&o.target_kind, &o.target_ref).to_json(),
    });
    if let (Value::Object(m), Value::Object(extra)) = (&mut d, detail) {
        m.extend(extra);
    }
    let e = tx.append(NewEntry {
        kind: EntryKind::Objection,
        enterprise: Some(o.enterprise_uscc.clone()),
        grant: None,
        caller: Some(st.actor.uscc.clone()),
        platform: platform.clone(),
        bank: None,
        categories: None,
        decision: Some(step.as_str().to_owned()),
        record: AccessRecord {
            enterprise: Some(o.enterprise_uscc.clone()),
            caller: Some(st.actor.clone()),
            platform,
            decision: Some(step.as_str().to_owned()),
            detail: Some(d),
            ..AccessRecord::default()
        },
    })?;
    let seq = i64::try_from(e.seq).map_err(|_| Error::Internal("log index".into()))?;
    store::add_step(
        tx.conn,
        &NewStep {
            objection_id: &o.id,
            step,
            actor_uscc: &st.actor.uscc,
            actor_role: &st.actor.role,
            actor_did: st.actor.did.as_deref().unwrap_or_default(),
            statement: &st.token,
            sha256: &sha,
            prev_sha256: Some(&prev),
            at,
            log_seq: seq,
        },
        (step == ObjectionState::Forwarded).then_some(at),
    )?;
    let body = json!({
        "objection": o.id,
        "state": step.as_str(),
        "at": format_cst(from_millis(at)),
        "logIndex": e.seq,
        "message": message(step, o.id.as_str()),
    });
    notify::enqueue(
        tx.conn,
        &o.enterprise_uscc,
        notify::OBJECTION_UPDATED,
        body.clone(),
        at,
    )?;
    if o.received_role == "platform" {
        notify::enqueue(tx.conn, &o.received_by, notify::OBJECTION_UPDATED, body, at)?;
    }
    Ok((e.seq, sha))
}

fn message(step: ObjectionState, id: &str) -> String {
    match step {
        ObjectionState::Received => format!("异议 {id} 已受理。Objection {id} was received."),
        ObjectionState::Forwarded => format!("异议 {id} 已转至节点。Objection {id} reached the node."),
        ObjectionState::UnderReview => format!("异议 {id} 正在核查。Objection {id} is under review."),
        ObjectionState::Corrected => {
            format!("异议 {id} 成立，数据已更正。Objection {id} was upheld and the data corrected.")
        }
        ObjectionState::Rejected => format!("异议 {id} 不成立。Objection {id} was rejected."),
    }
}

/// A platform hands over an objection it registered earlier with its receipt only.
pub async fn forward(node: &Node, caller: &Caller, id: String, body: StepBody) -> Result<Objection> {
    caller.require(&[Role::Platform])?;
    let st = caller_statement(node, caller, &body.statement, action::FORWARD, 600)?;
    let caller_id = caller.participant.id;
    let caller_uscc = caller.uscc().to_owned();
    let id2 = id.clone();
    node.committer
        .run(move |tx| -> Result<()> {
            let o = find(tx.conn, &id2)?.ok_or_else(|| Error::NotFound(format!("objection {id2}")))?;
            if o.received_by != caller_uscc {
                return Err(Error::NotFound(format!("objection {id2}")));
            }
            if st.req.str("filingSha256") != Some(o.filing_sha256.as_str()) {
                return Err(invalid(
                    "the statement must name the objection's filing (filingSha256)",
                ));
            }
            if previous(ObjectionState::Forwarded) != Some(o.state) {
                return Err(Error::Conflict(format!(
                    "objection {id2} is {}; cannot forward",
                    o.state.as_str()
                )));
            }
            check_signer_is(tx, &st, caller_id)?;
            tx.consume_assertion(&st.req)?;
            let at = tx.now();
            let kept = o.deadline_at.map(|d| at <= d);
            record_step(
                tx,
                &o,
                ObjectionState::Forwarded,
                &st,
                at,
                json!({"deadlineKept": kept}),
            )?;
            Ok(())
        })
        .await?;
    get_unchecked(node, id).await
}

/// The body of a resolution statement's `correction` claim.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Correction {
    fields: serde_json::Map<String, Value>,
}

/// The node operator opens the review (`review-objection`) or resolves it (`resolve-objection`,
/// claims `outcome` = `corrected` | `rejected`, `explanation`, and for a data objection upheld,
/// `correction: {fields: {…}}` — the record's new fields).
pub async fn decide(
    node: &Node,
    caller: &Caller,
    id: String,
    act: &'static str,
    body: StepBody,
) -> Result<Objection> {
    caller.require(&[Role::Node])?;
    decide_as(node, Actor::from(caller), id, act, body).await
}

/// [`decide`] for an actor already known to be the node operator (the command line, with the node's
/// key).
pub async fn decide_as(
    node: &Node,
    actor: Actor,
    id: String,
    act: &'static str,
    body: StepBody,
) -> Result<Objection> {
    if actor.role != Role::Node {
        return Err(Error::Forbidden(
            "only the node operator reviews and resolves objections".into(),
        ));
    }
    let st = actor_statement(node, &actor, &body.statement, act, 600)?;
    if st.req.str("objection") != Some(id.as_str()) {
        return Err(invalid(format!(
            "the statement must name the objection (objection {id})"
        )));
    }
    let explanation = text_claim(&st.req, "explanation", act == action::RESOLVE)?;
    let outcome = match act {
        action::REVIEW => ObjectionState::UnderReview,
        _ => match st.req.str("outcome").and_then(ObjectionState::parse) {
            Some(s @ (ObjectionState::Corrected | ObjectionState::Rejected)) => s,
            _ => return Err(invalid("outcome must be \"corrected\" or \"rejected\"")),
        },
    };
    let correction = match st.req.claims.get("correction") {
        None => None,
        Some(v) => {
            let c: Correction =
                serde_json::from_value(v.clone()).map_err(|e| invalid(format!("correction: {e}")))?;
            let text = serde_json::to_string(&c.fields).map_err(|e| Error::Internal(e.to_string()))?;
            if text.len() > MAX_CORRECTION {
                return Err(invalid(format!("correction larger than {MAX_CORRECTION} bytes")));
            }
            Some(text)
        }
    };
    let caller_id = actor.participant_id;
    let id2 = id.clone();
    node.committer
        .run(move |tx| -> Result<()> {
            let o = find(tx.conn, &id2)?.ok_or_else(|| Error::NotFound(format!("objection {id2}")))?;
            let allowed = previous(outcome) == Some(o.state);
            if !allowed {
                return Err(Error::Conflict(format!(
                    "objection {id2} is {}; cannot move to {}",
                    o.state.as_str(),
                    outcome.as_str()
                )));
            }
            check_signer_is(tx, &st, caller_id)?;
            tx.consume_assertion(&st.req)?;
            let target = Target::from_row(&o.target_kind, &o.target_ref);
            let mut detail = json!({"explanation": explanation});
            let mut change = None;
            match (&target, outcome, &correction) {
                (Target::Data { record }, ObjectionState::Corrected, Some(new_body)) => {
                    let r = data::get(tx.conn, *record)?
                        .ok_or_else(|| Error::Conflict(format!("data record {record} no longer exists")))?;
                    // Every earlier recipient, from the log as it stands under the lock.
                    let told = recipients::of_record(tx.conn, &r, tx.size())?;
                    let nth = store::corrections_of_records(tx.conn, &[*record])?.len() + 1;
                    detail["correction"] = json!({
                        "record": record,
                        "category": r.category,
                        "oldSha256": Sha256Digest::of(r.body.as_bytes()).to_hex(),
                        "newSha256": Sha256Digest::of(new_body.as_bytes()).to_hex(),
                        // How many were told, not who: the entry is readable by the platform that
                        // received the objection, which must not learn who else got the record.
                        "notified": told.len(),
                    });
                    let event = json!({
                        "objection": o.id,
                        "enterprise": o.enterprise_uscc,
                        "category": r.category,
                        "record": record,
                        "recordDate": r.record_date,
                        "version": r.version,
                        "correction": nth,
                    });
                    change = Some((*record, r.body, new_body.clone(), told, event));
                }
                (Target::Data { .. }, ObjectionState::Corrected, None) => {
                    return Err(invalid("a data objection is corrected with correction.fields"));
                }
                (_, _, Some(_)) => {
                    return Err(invalid(
                        "correction is given only when a data objection is corrected",
                    ));
                }
                _ => {}
            }
            let at = tx.now();
            let (seq, _) = record_step(tx, &o, outcome, &st, at, detail)?;
            if let Some((record, old, new, told, mut event)) = change {
                data::correct(tx.conn, record, &new)?;
                store::add_correction(
                    tx.conn,
                    record,
                    &o.id,
                    &old,
                    &new,
                    at,
                    i64::try_from(seq).unwrap_or(0),
                )?;
                event["logIndex"] = json!(seq);
                event["at"] = json!(format_cst(from_millis(at)));
                recipients::notify_all(tx.conn, &told, &event, at)?;
            }
            Ok(())
        })
        .await?;
    get_unchecked(node, id).await
}
