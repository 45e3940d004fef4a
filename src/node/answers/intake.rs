//! Answers of signed data intake (`spec/intake.md`, `components/schemas/IntakeBatch`).

use serde::Serialize;

use super::Listed;
use crate::policy::Role;

/// `POST /v1/intake/batches`, `GET /v1/intake/batches/{id}` and the items of
/// `GET /v1/intake/batches` (`components/schemas/IntakeBatch`): a batch as the node holds it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IntakeBatch {
    /// `IntakeBatch.batch`: the batch id (hex SHA-256 of the JCS bytes of the batch document).
    pub batch: String,
    /// `IntakeBatch.provider`: the catalog provider code.
    pub provider: String,
    /// `IntakeBatch.submitter`: the department (or the node, for an operator's import).
    pub submitter: String,
    /// `IntakeBatch.submitterRole`.
    pub submitter_role: Role,
    /// `IntakeBatch.signer`: the did:key that signed the batch.
    pub signer: String,
    /// `IntakeBatch.reference` (`null` when the department gave none).
    pub reference: Option<String>,
    /// `IntakeBatch.records`: records in the batch.
    pub records: i64,
    /// `IntakeBatch.newRecords`: records new to the node.
    pub new_records: i64,
    /// `IntakeBatch.newVersions`: records that are a new version of a held one.
    pub new_versions: i64,
    /// `IntakeBatch.alreadyHeld`: records the node already held (nothing written for them).
    pub already_held: i64,
    /// `IntakeBatch.receivedAt` (RFC 3339, CST).
    pub received_at: String,
    /// `IntakeBatch.logIndex`: the access-log entry of the batch.
    pub log_index: i64,
    /// `IntakeBatch.resubmitted`: `true` when this answer is to a batch the node already held
    /// (nothing was written).
    pub resubmitted: bool,
}

impl Listed for IntakeBatch {
    const MEMBER: &'static str = "batches";
}

/// `POST /v1/admin/departments` (`components/schemas/DepartmentCreated`): the department as
/// registered, with the provider it is bound to.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentCreated {
    /// `DepartmentCreated.uscc`.
    pub uscc: String,
    /// `DepartmentCreated.name`.
    pub name: String,
    /// `DepartmentCreated.role` (always `department`).
    pub role: Role,
    /// `DepartmentCreated.state`.
    pub state: crate::policy::ParticipantState,
    /// `DepartmentCreated.provider`.
    pub provider: String,
}
