//! The access log's answers (`spec/access-log.md`): receipts, checkpoints, proofs, entries; the
//! answers of `src/http/routes/audit.rs` and the receipts inside release and report answers.

use serde::Serialize;

/// A signed inclusion promise for a new log entry (`components/schemas/InclusionPromise`; built by
/// [`crate::node::receipts::promise`]).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionPromise {
    /// Always `inclusion-promise` (`InclusionPromise.type`).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The log's origin line (`InclusionPromise.origin`).
    pub origin: String,
    /// The entry's index (`InclusionPromise.index`).
    pub index: u64,
    /// The entry's leaf hash, base64 (`InclusionPromise.leafHash`).
    pub leaf_hash: String,
    /// The entry's time, ms since the epoch (`InclusionPromise.timeMs`).
    pub time_ms: u64,
    /// The node key that signed (`InclusionPromise.signer`).
    pub signer: String,
    /// The Ed25519 signature over the promise statement, base64 (`InclusionPromise.signature`).
    pub signature: String,
    /// Where the full receipt will be served (`InclusionPromise.proof`).
    pub proof: String,
}
