//! What an objection looks like to a reader: one objection with its steps, statements and
//! corrections ([`get`]), and the list, newest first with a cursor ([`list`], [`ListQuery`]).
//!
//! Guarantees: a viewer sees only what it may — its own objections (enterprise), those it received
//! (platform), all of them (node, regulators), none (bank); an objection it may not see is answered
//! as not found.

use serde::Deserialize;
use serde_json::Value;

use super::deadlines::deadline_view;
use super::filing::Target;
use super::state::ObjectionState;
use super::statements::Actor;
use crate::calendar::{WorkCalendar, format_cst};
use crate::error::{Error, Result};
use crate::ids::ObjectionId;
use crate::node::Node;
use crate::node::answers::Page;
use crate::node::answers::objections::{
    Objection, ObjectionCorrection, ObjectionList, ObjectionParty, ObjectionStepRecord, ObjectionSummary,
    StepActor,
};
use crate::policy::Role;
use crate::storage::objections::{self as store, Filter, ObjectionRow, StepRow};
use crate::storage::{DbConn, from_millis};

fn step_view(s: &StepRow) -> ObjectionStepRecord {
    ObjectionStepRecord {
        step: s.step,
        actor: StepActor {
            uscc: s.actor_uscc.clone(),
            role: s.actor_role.clone(),
            did: s.actor_did.clone(),
        },
        at: format_cst(from_millis(s.at)),
        statement: s.statement.clone(),
        sha256: s.sha256.clone(),
        prev_sha256: s.prev_sha256.clone(),
        log_index: s.log_seq,
    }
}

fn summary(o: &ObjectionRow, now: i64, cal: &WorkCalendar) -> ObjectionSummary {
    let deadline = deadline_view(cal, o, now);
    let overdue = deadline["status"] == "missed";
    ObjectionSummary {
        id: o.id.to_string(),
        enterprise: o.enterprise_uscc.clone(),
        target: Target::from_row(&o.target_kind, &o.target_ref).to_json(),
        reason: o.reason.clone(),
        attachments: serde_json::from_str::<Value>(&o.attachments).unwrap_or(Value::Array(vec![])),
        state: o.state,
        received_by: ObjectionParty {
            uscc: o.received_by.clone(),
            role: o.received_role.clone(),
        },
        filed_at: format_cst(from_millis(o.filed_at)),
        received_at: format_cst(from_millis(o.received_at)),
        forwarded_at: o.forwarded_at.map(|f| format_cst(from_millis(f))),
        deadline,
        overdue,
        updated_at: format_cst(from_millis(o.updated_at)),
    }
}

fn full(c: &mut DbConn, o: &ObjectionRow, now: i64, cal: &WorkCalendar) -> Result<Objection> {
    let steps = store::steps(c, &o.id)?;
    let corrections = store::corrections(c, &o.id)?
        .into_iter()
        .map(|k| ObjectionCorrection {
            record: k.record_id,
            old: serde_json::from_str::<Value>(&k.old_body).unwrap_or(Value::Null),
            new: serde_json::from_str::<Value>(&k.new_body).unwrap_or(Value::Null),
            at: format_cst(from_millis(k.at)),
            log_index: k.log_seq,
        })
        .collect();
    Ok(Objection {
        summary: summary(o, now, cal),
        receipt: steps.first().map(|first| first.statement.clone()),
        steps: steps.iter().map(step_view).collect(),
        filing: o.filing.clone(),
        filing_sha256: o.filing_sha256.clone(),
        corrections,
    })
}

/// The objection `id` names, if any: an id that is not an objection id names none (a path or a
/// statement may carry any text).
pub(super) fn find(c: &mut DbConn, id: &str) -> Result<Option<ObjectionRow>> {
    match ObjectionId::parse(id) {
        Ok(id) => Ok(store::get(c, &id)?),
        Err(_) => Ok(None),
    }
}

pub(super) async fn get_unchecked(node: &Node, id: String) -> Result<Objection> {
    let (now, cal) = (node.now_ms(), node.calendar.get());
    node.store
        .call(move |c| -> Result<Objection> {
            let o = find(c, &id)?.ok_or_else(|| Error::NotFound(format!("objection {id}")))?;
            full(c, &o, now, &cal)
        })
        .await
}

/// Whether `viewer` may see `o`: its enterprise, the platform that received it, the node, regulators.
fn visible(viewer: &Actor, o: &ObjectionRow) -> bool {
    match viewer.role {
        Role::Node | Role::Regulator => true,
        Role::Enterprise => o.enterprise_uscc == viewer.uscc,
        Role::Platform => o.received_by == viewer.uscc,
        Role::Bank | Role::Department => false,
    }
}

/// One objection with its steps, statements and corrections, if the viewer may see it.
pub async fn get(node: &Node, viewer: &Actor, id: String) -> Result<Objection> {
    // A bank sees no objection (`404`, as if none existed); a department is told it may not.
    if viewer.role == Role::Department {
        refuse_other_roles(viewer)?;
    }
    let (now, cal) = (node.now_ms(), node.calendar.get());
    let caller = viewer.clone();
    node.store
        .call(move |c| -> Result<Objection> {
            let o = find(c, &id)?
                .filter(|o| visible(&caller, o))
                .ok_or_else(|| Error::NotFound(format!("objection {id}")))?;
            full(c, &o, now, &cal)
        })
        .await
}

/// Query of `GET /v1/objections`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this state.
    pub state: Option<String>,
    /// Only overdue ones (deadline missed, forwarded or not).
    pub overdue: Option<bool>,
    /// Only those whose deadline is unknown (calendar missing).
    #[serde(rename = "deadlineUnknown")]
    pub deadline_unknown: Option<bool>,
    /// Only this enterprise's (node and regulators).
    pub enterprise: Option<String>,
    /// Cursor: the `next` of the previous page.
    pub before: Option<String>,
    /// Page size: 1–500 ([`MAX_LIST_PAGE`]), default 50; another value is `400 invalid-query`.
    pub limit: Option<i64>,
}

/// Largest page of `GET /v1/objections`.
pub const MAX_LIST_PAGE: i64 = 500;

/// Page size of `GET /v1/objections` when the query gives none.
pub const DEFAULT_LIST_PAGE: i64 = 50;

/// Objections are read by the enterprises that file them, the platforms that receive them, the
/// node that handles them and regulators; a bank (it hands objections on at its platform,
/// spec/objections.md §5.7) or a providing department (spec/intake.md §2) is `403`.
fn refuse_other_roles(viewer: &Actor) -> Result<()> {
    match viewer.role {
        Role::Enterprise | Role::Platform | Role::Regulator | Role::Node => Ok(()),
        Role::Bank => Err(Error::Forbidden("banks do not handle objections".into())),
        Role::Department => Err(Error::Forbidden(
            "a providing department does not read objections".into(),
        )),
    }
}

/// Objections the viewer may see, newest first, with a cursor: `next` (that of the last item of a
/// full page) passed as `before` reads the following page. A `limit` outside 1–500 is `400
/// invalid-query` (`limit: 1–500`), checked after the caller's role; nothing is read.
pub async fn list(node: &Node, caller: &Actor, q: ListQuery) -> Result<ObjectionList> {
    refuse_other_roles(caller)?;
    let (now, cal) = (node.now_ms(), node.calendar.get());
    let limit = Page::limit_within(q.limit, DEFAULT_LIST_PAGE, MAX_LIST_PAGE)?;
    let mut f = Filter {
        state: None,
        enterprise: q.enterprise.clone(),
        overdue_at: q.overdue.unwrap_or(false).then_some(now),
        deadline_unknown: q.deadline_unknown.unwrap_or(false),
        limit,
        ..Filter::default()
    };
    if let Some(s) = &q.state {
        let state = ObjectionState::parse(s)
            .ok_or_else(|| Error::invalid("invalid-query", format!("unknown state {s}")))?;
        f.state = Some(state);
    }
    match caller.role {
        Role::Enterprise => f.enterprise = Some(caller.uscc.clone()),
        Role::Platform => f.received_by = Some(caller.uscc.clone()),
        Role::Regulator | Role::Node | Role::Bank | Role::Department => {}
    }
    if let Some(b) = &q.before {
        let (at, id) = b
            .split_once('~')
            .and_then(|(a, i)| {
                let at = a
                    .parse::<i64>()
                    .ok()
                    .filter(|t| *t >= 0 && a.bytes().all(|b| b.is_ascii_digit()))?;
                let uuid = i.strip_prefix("obj-")?;
                uuid::Uuid::parse_str(uuid).ok()?;
                Some((at, i.to_owned()))
            })
            .ok_or_else(|| Error::invalid("invalid-query", "before: not a cursor from this API"))?;
        f.before = Some((at, id));
    }
    node.store
        .call(move |c| -> Result<ObjectionList> {
            let rows = store::list(c, &f)?;
            let next = Page::next(f.limit, &rows, |o| format!("{}~{}", o.received_at, o.id));
            let items = rows.iter().map(|o| summary(o, now, &cal)).collect();
            Ok(ObjectionList { items, next })
        })
        .await
}
