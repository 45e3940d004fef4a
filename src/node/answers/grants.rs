//! Grants, releases and credit evaluations (`spec/grant.md`, `spec/evaluation.md`): the answers of
//! `src/http/routes/grants.rs`, and the notices of `GET /v1/notices`.

use serde::Serialize;
use serde_json::Value;

use super::log::InclusionPromise;
use crate::evaluation::EvaluationState;
use crate::grant::{GrantState, Granularity};

/// `POST /v1/status/slots` (`components/schemas/StatusSlot`): a reserved status-list slot.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusSlot {
    /// `StatusSlot.statusList`: the list's URL.
    pub status_list: String,
    /// `StatusSlot.statusIndex`.
    pub status_index: i64,
}

/// A stored grant (`components/schemas/Grant`): `POST /v1/grants`, the items of `GET /v1/grants`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    /// `Grant.id`.
    pub id: String,
    /// `Grant.sha256`.
    pub sha256: String,
    /// `Grant.envelope`: `di` or `jwt`.
    pub envelope: String,
    /// `Grant.enterprise`.
    pub enterprise: String,
    /// `Grant.grantee`.
    pub grantee: String,
    /// `Grant.signer`.
    pub signer: String,
    /// `Grant.delegation` (`null` when the enterprise signed itself).
    pub delegation: Option<String>,
    /// `Grant.state`.
    pub state: GrantState,
    /// `Grant.statusListNumber`.
    pub status_list_number: i64,
    /// `Grant.statusListIndex`.
    pub status_list_index: i64,
    /// `Grant.validFrom`.
    pub valid_from: String,
    /// `Grant.validUntil`.
    pub valid_until: String,
    /// `Grant.submittedAt`.
    pub submitted_at: String,
    /// `Grant.logIndex`.
    pub log_index: i64,
}

/// The items of `GET /v1/grants` (`components/schemas/GrantList`): a page of [`Grant`]s.
impl super::Listed for Grant {
    const MEMBER: &'static str = "grants";
}

/// `GET /v1/grants/{id}` (`components/schemas/GrantDetail`): the grant, its signed credential and
/// its events.
#[derive(Debug, Clone, Serialize)]
pub struct GrantDetail {
    /// The grant (`components/schemas/Grant`).
    #[serde(flatten)]
    pub grant: Grant,
    /// `GrantDetail.credential`: the exact signed grant as held.
    pub credential: String,
    /// `GrantDetail.events`, oldest first.
    pub events: Vec<GrantEvent>,
}

/// A status change of a grant (`components/schemas/GrantEvent`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantEvent {
    /// `GrantEvent.action`: `revoke`, `suspend` or `resume`.
    pub action: String,
    /// `GrantEvent.actor`.
    pub actor: String,
    /// `GrantEvent.evidence`.
    pub evidence: String,
    /// `GrantEvent.at`.
    pub at: String,
    /// `GrantEvent.logIndex`.
    pub log_index: i64,
}

/// `POST /v1/grants/{id}/revoke|suspend|resume` (`components/schemas/GrantStatusChanged`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantStatusChanged {
    /// `GrantStatusChanged.id`.
    pub id: String,
    /// `GrantStatusChanged.state`.
    pub state: GrantState,
    /// `GrantStatusChanged.logIndex`.
    pub log_index: u64,
}

/// A notice in a participant's inbox (`components/schemas/Notice`).
#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    /// `Notice.id`.
    pub id: i64,
    /// `Notice.kind`.
    pub kind: String,
    /// `Notice.at`.
    pub at: String,
    /// `Notice.body` (`null` if the stored body cannot be read).
    pub body: Value,
}

/// `GET /v1/notices` (`components/schemas/NoticeList`).
#[derive(Debug, Clone, Serialize)]
pub struct NoticeList {
    /// `NoticeList.notices`.
    pub notices: Vec<Notice>,
}

/// `POST /v1/releases` (`components/schemas/ReleaseAnswer`) and `POST /v1/evaluations`
/// (`components/schemas/EvaluationAnswer`: `data` is then the inputs and the signed evaluation).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseAnswer {
    /// `ReleaseAnswer.requestId`.
    pub request_id: String,
    /// `ReleaseAnswer.enterprise`.
    pub enterprise: String,
    /// `ReleaseAnswer.grant` (`null` for public data).
    pub grant: Option<String>,
    /// `ReleaseAnswer.purpose`.
    pub purpose: String,
    /// `ReleaseAnswer.granularity`.
    pub granularity: Granularity,
    /// `ReleaseAnswer.onBehalfOf` (`null` when the platform asks for itself).
    pub on_behalf_of: Option<String>,
    /// `ReleaseAnswer.data`: the released document, whose JCS bytes `dataSha256` digests.
    pub data: Value,
    /// `ReleaseAnswer.dataSha256`.
    pub data_sha256: String,
    /// `ReleaseAnswer.logIndex`.
    pub log_index: u64,
    /// `ReleaseAnswer.leafHash`.
    pub leaf_hash: String,
    /// `ReleaseAnswer.receipt`.
    pub receipt: InclusionPromise,
    /// `ReleaseAnswer.batches`: the intake batches the released records came in, sorted, without
    /// repeats (empty for records held from before signed intake; spec/intake.md §7).
    pub batches: Vec<String>,
}

/// `GET /v1/evaluations/{id}`, `POST /v1/evaluations/{id}/withdraw`
/// (`components/schemas/EvaluationView`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EvaluationView {
    /// `EvaluationView.id`.
    pub id: String,
    /// `EvaluationView.enterprise`.
    pub enterprise: String,
    /// `EvaluationView.requestedBy`.
    pub requested_by: String,
    /// `EvaluationView.grant`.
    pub grant: String,
    /// `EvaluationView.model`.
    pub model: EvaluationModelRef,
    /// `EvaluationView.grade`.
    pub grade: String,
    /// `EvaluationView.score`.
    pub score: i64,
    /// `EvaluationView.state`.
    pub state: EvaluationState,
    /// `EvaluationView.issuedAt`.
    pub issued_at: String,
    /// `EvaluationView.validUntil`.
    pub valid_until: String,
    /// `EvaluationView.withdrawnAt` (`null` unless withdrawn).
    pub withdrawn_at: Option<String>,
    /// `EvaluationView.logIndex`.
    pub log_index: i64,
    /// `EvaluationView.credential` (`components/schemas/CreditEvaluation`), as issued.
    pub credential: Value,
}

/// `EvaluationView.model` (`components/schemas/EvaluationView`).
#[derive(Debug, Clone, Serialize)]
pub struct EvaluationModelRef {
    /// `model.id`.
    pub id: String,
    /// `model.version`.
    pub version: i64,
}
