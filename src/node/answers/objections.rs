//! Objections (异议申诉, `spec/objections.md`): the answers of `src/http/routes/objections.rs` and of
//! the portal's objection calls.

use serde::Serialize;
use serde_json::Value;

use super::{Listed, Paged};
use crate::node::objections::ObjectionState;

/// Who received a filing, or who signed a step (`ObjectionSummary.receivedBy`,
/// `ObjectionStepRecord.actor` without its key).
#[derive(Debug, Clone, Serialize)]
pub struct ObjectionParty {
    /// Its USCC.
    pub uscc: String,
    /// `node` or `platform`.
    pub role: String,
}

/// An objection as listed, without statements (`components/schemas/ObjectionSummary`), an item
/// of `GET /v1/objections` (`components/schemas/ObjectionList`, [`Paged`] with the `before`
/// cursor).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectionSummary {
    /// `ObjectionSummary.id`.
    pub id: String,
    /// `ObjectionSummary.enterprise`.
    pub enterprise: String,
    /// `ObjectionSummary.target` (`{type: data, record}` or `{type: access, logIndex}`).
    pub target: Value,
    /// `ObjectionSummary.reason`.
    pub reason: String,
    /// `ObjectionSummary.attachments`, as filed.
    pub attachments: Value,
    /// `ObjectionSummary.state`.
    pub state: ObjectionState,
    /// `ObjectionSummary.receivedBy`.
    pub received_by: ObjectionParty,
    /// `ObjectionSummary.filedAt`.
    pub filed_at: String,
    /// `ObjectionSummary.receivedAt`.
    pub received_at: String,
    /// `ObjectionSummary.forwardedAt` (`null` while `received`).
    pub forwarded_at: Option<String>,
    /// `ObjectionSummary.deadline` (`components/schemas/ObjectionDeadline`).
    pub deadline: Value,
    /// `ObjectionSummary.overdue`: the deadline's status is `missed`.
    pub overdue: bool,
    /// `ObjectionSummary.updatedAt`.
    pub updated_at: String,
}

/// The key that signed a step, with its holder (`ObjectionStepRecord.actor`).
#[derive(Debug, Clone, Serialize)]
pub struct StepActor {
    /// Its USCC.
    pub uscc: String,
    /// `node` or `platform`.
    pub role: String,
    /// The `did:key` that signed the statement.
    pub did: String,
}

/// One signed step as logged (`components/schemas/ObjectionStepRecord`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectionStepRecord {
    /// The state the step led to.
    pub step: ObjectionState,
    /// Who signed it.
    pub actor: StepActor,
    /// When, China Standard Time.
    pub at: String,
    /// The signed statement, verbatim.
    pub statement: String,
    /// SHA-256 (hex) of `statement`.
    pub sha256: String,
    /// The previous step's `sha256` (the filing's for the first step).
    pub prev_sha256: Option<String>,
    /// The step's log entry.
    pub log_index: i64,
}

/// A record corrected by the resolution (`components/schemas/ObjectionCorrection`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectionCorrection {
    /// The record's id.
    pub record: i64,
    /// Its fields before (a document of its own).
    pub old: Value,
    /// Its fields after.
    pub new: Value,
    /// When, China Standard Time.
    pub at: String,
    /// The resolution's log entry.
    pub log_index: i64,
}

/// One objection with its filing, signed steps and corrections (`components/schemas/Objection`):
/// `GET /v1/objections/{id}` and the answers of filing, forwarding, review and resolution.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Objection {
    /// The members of the summary.
    #[serde(flatten)]
    pub summary: ObjectionSummary,
    /// `Objection.steps`, oldest first.
    pub steps: Vec<ObjectionStepRecord>,
    /// `Objection.filing`, verbatim.
    pub filing: String,
    /// `Objection.filingSha256`.
    pub filing_sha256: String,
    /// `Objection.receipt`: the first step's statement (absent only if no step was stored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
    /// `Objection.corrections`.
    pub corrections: Vec<ObjectionCorrection>,
}

impl Listed for ObjectionSummary {
    const MEMBER: &'static str = "objections";
}

/// The portal lists an enterprise's own objections in full, under the same member.
impl Listed for Objection {
    const MEMBER: &'static str = "objections";
}

/// `GET /v1/objections` (`components/schemas/ObjectionList`): a page, newest first, with the
/// cursor `<receivedAt ms>~<id>` of the last item as `next` when the page is full (pass as
/// `before`).
pub type ObjectionList = Paged<ObjectionSummary, String>;
