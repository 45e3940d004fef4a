//! Objections (异议申诉, spec/objections.md): an enterprise objects to a data item about itself or to
//! an entry of its access history; whoever received the objection (a platform or the node) forwards
//! it to the node within two working days of the filing; the node works it to a resolution:
//!
//! ```text
//! received ─▶ forwarded ─▶ under-review ─▶ corrected | rejected
//! ```
//!
//! Every step is a statement signed by its actor (a `consentry-request+jwt` compact JWS: the
//! enterprise signs the filing, the receiver its receipt, the forwarder the hand-over, the node
//! operator the review and the resolution), chained by digest (each step names the previous one's
//! SHA-256, the first names the filing's), and appended to the access log as an `objection` entry on
//! the enterprise's chain, in the same transaction as the state change. A correction replaces the
//! data record's fields, keeps the old ones, and shows in the enterprise's history.
//!
//! The forwarding deadline is the end (23:59:59.999 CST) of the second working day after the date of
//! the enterprise's signed filing, counted with the Chinese holiday calendar ([`crate::calendar`]).
//! When the calendar lacks a year the count needs, the deadline is left unknown and the regulators
//! are told, rather than guessed; it is computed as soon as a calendar with that year is loaded.
//!
//! | file | holds |
//! |---|---|
//! | `filing.rs` | the filing and its target, [`file()`] (lodging, directly or relayed by a platform) |
//! | `state.rs` | the states ([`ObjectionState`], stored by `crate::storage::objections`) and the state machine ([`previous`]), the steps ([`forward`], [`decide`]), recording a step |
//! | `statements.rs` | the signed statements of the steps: actions, actors, verification |
//! | `deadlines.rs` | the forwarding deadline ([`deadline_for`]) and the periodic [`sweep`] |
//! | `views.rs` | reading objections ([`get`], [`list`]) |
//! | `recipients.rs` | who received a corrected record, and their `record.corrected` notices |

mod deadlines;
mod filing;
mod recipients;
mod state;
mod statements;
mod views;

pub use deadlines::{FORWARD_WORKING_DAYS, deadline_for, sweep};
pub use filing::{Attachment, Filing, Lodge, MAX_ATTACHMENTS, Target, file, parse_filing};
pub use state::{MAX_CORRECTION, ObjectionState, decide, decide_as, forward, previous};
pub use statements::{Actor, MAX_STATEMENT_AGE_SECS, MAX_TEXT, StepBody, action};
pub use views::{DEFAULT_LIST_PAGE, ListQuery, MAX_LIST_PAGE, get, list};
