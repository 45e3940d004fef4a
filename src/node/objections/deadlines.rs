//! The forwarding deadline: the end (23:59:59.999 CST) of the [`FORWARD_WORKING_DAYS`]th working day
//! after the filing's date ([`deadline_for`], with the Chinese holiday calendar), how it is shown,
//! and the periodic [`sweep`] that computes deadlines once the calendar has their year and tells the
//! regulators about overdue objections and deadlines that cannot be computed.
//!
//! Guarantees: a deadline the calendar cannot compute is left unknown and reported, never guessed;
//! an objection forwarded on its filing day kept its deadline whatever the calendar says; the
//! regulators are told once per objection and flag.

use serde_json::{Value, json};

use crate::calendar::{CalendarError, WorkCalendar, format_cst};
use crate::error::Result;
use crate::node::{Node, notify};
use crate::policy::Role;
use crate::storage::objections::{self as store, ObjectionRow};
use crate::storage::{from_millis, millis, participants};

/// Working days a receiver has to forward an objection to the node.
pub const FORWARD_WORKING_DAYS: u32 = 2;

/// The deadline for a filing signed at `filed_at` (ms), or why it is unknown.
pub fn deadline_for(node: &Node, filed_at: i64) -> std::result::Result<i64, CalendarError> {
    node.calendar
        .get()
        .deadline(from_millis(filed_at), FORWARD_WORKING_DAYS)
        .map(|d| millis(d.end))
}

/// The deadline's state for display and statistics.
pub(super) fn deadline_view(cal: &WorkCalendar, o: &ObjectionRow, now: i64) -> Value {
    match o.deadline_at {
        None if o.forwarded_at.is_some_and(|f| same_cst_day(f, o.filed_at)) => {
            // Forwarded on the day it was filed: within any deadline, whatever the calendar says.
            json!({"workingDays": FORWARD_WORKING_DAYS, "status": "kept"})
        }
        None => {
            let why = cal
                .deadline(from_millis(o.filed_at), FORWARD_WORKING_DAYS)
                .err()
                .map(|e| e.to_string());
            json!({"workingDays": FORWARD_WORKING_DAYS, "status": "unknown", "reason": why})
        }
        Some(d) => {
            let status = match o.forwarded_at {
                Some(f) if f <= d || same_cst_day(f, o.filed_at) => "kept",
                Some(_) => "missed",
                None if now > d => "missed",
                None => "pending",
            };
            let date = from_millis(d).to_offset(crate::calendar::CST).date();
            json!({
                "workingDays": FORWARD_WORKING_DAYS,
                "date": date.to_string(),
                "at": format_cst(from_millis(d)),
                "status": status,
            })
        }
    }
}

pub(super) fn same_cst_day(a: i64, b: i64) -> bool {
    let day = |ms| from_millis(ms).to_offset(crate::calendar::CST).date();
    day(a) == day(b)
}

/// Periodic duties: compute deadlines that were unknown once the calendar has their year, tell the
/// regulators (once each) about objections whose deadline passed unforwarded, and about objections
/// whose deadline cannot be computed. Returns how many objections it flagged or updated.
pub async fn sweep(node: &Node) -> Result<usize> {
    if let Err(e) = node.calendar.reload_if_changed() {
        tracing::warn!(error = %e, "working-day calendar not reloaded");
    }
    let cal = node.calendar.get();
    node.committer
        .run(move |tx| -> Result<usize> {
            let now = tx.now();
            let mut n = 0;
            let regulators: Vec<String> = participants::list(
                tx.conn,
                Some(Role::Regulator.as_str()),
                Some(crate::policy::ParticipantState::Active.as_str()),
                None,
            )?
                .into_iter()
                .map(|p| p.uscc)
                .collect();
            let mut unknown = Vec::new();
            loop {
                let page = store::without_deadline(tx.conn, unknown.last().map(|o: &store::ObjectionRow| &o.id), 500)?;
                let done = page.len() < 500;
                unknown.extend(page);
                if done {
                    break;
                }
            }
            for o in unknown {
                match cal.deadline(from_millis(o.filed_at), FORWARD_WORKING_DAYS) {
                    Ok(d) => {
                        store::set_deadline(tx.conn, &o.id, millis(d.end))?;
                        n += 1;
                    }
                    // Forwarded on its filing day: kept whatever the calendar says, nothing to flag.
                    Err(_) if o.forwarded_at.is_some_and(|f| same_cst_day(f, o.filed_at)) => {}
                    Err(e) if o.calendar_flagged_at.is_none() => {
                        let body = json!({
                            "objection": o.id,
                            "flag": "deadline-unknown",
                            "reason": e.to_string(),
                            "message": format!("异议 {} 的转送期限无法计算：{e}。The forwarding deadline of objection {} cannot be computed: {e}", o.id, o.id),
                        });
                        for r in &regulators {
                            notify::enqueue(tx.conn, r, notify::OBJECTION_UPDATED, body.clone(), now)?;
                        }
                        store::mark_flagged(tx.conn, &o.id, false, now)?;
                        n += 1;
                    }
                    Err(_) => {}
                }
            }
            for o in store::newly_overdue(tx.conn, now, 500)? {
                let body = json!({
                    "objection": o.id,
                    "flag": "overdue",
                    "receivedBy": o.received_by,
                    "deadline": o.deadline_at.map(|d| format_cst(from_millis(d))),
                    "message": format!("异议 {} 未在两个工作日内转至节点（受理方 {}）。Objection {} was not forwarded to the node within two working days (received by {}).", o.id, o.received_by, o.id, o.received_by),
                });
                for r in &regulators {
                    notify::enqueue(tx.conn, r, notify::OBJECTION_UPDATED, body.clone(), now)?;
                }
                store::mark_flagged(tx.conn, &o.id, true, now)?;
                n += 1;
            }
            Ok(n)
        })
        .await
}
