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

/// One signed checkpoint (`components/schemas/Checkpoint`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    /// The tree size it commits to (`Checkpoint.size`).
    pub size: i64,
    /// The C2SP signed note with any cosignatures (`Checkpoint.note`).
    pub note: String,
    /// When it was signed, RFC 3339 UTC (`Checkpoint.createdAt`).
    pub created_at: String,
}

/// `GET /v1/log/keys` (`components/schemas/LogKeys`; built by [`crate::node::keys::answer`]): the
/// log's key history (spec/access-log.md §5.5).
#[derive(Debug, Clone, Serialize)]
pub struct LogKeysAnswer {
    /// The log's origin (`LogKeys.origin`).
    pub origin: String,
    /// The key the node signs credentials and promises with now, vkey (`LogKeys.current`).
    pub current: String,
    /// Every key and the tree sizes it may sign (`LogKeys.keys`), in the order introduced.
    pub keys: Vec<KeyRangeAnswer>,
    /// The key records, `seq` 0 first (`LogKeys.records`).
    pub records: Vec<KeyRecordAnswer>,
}

/// One key of the history (`components/schemas/LogKeyRange`).
#[derive(Debug, Clone, Serialize)]
pub struct KeyRangeAnswer {
    /// Its vkey (`LogKeyRange.key`).
    pub key: String,
    /// Its `did:key` (`LogKeyRange.did`): the issuer of what it signed.
    pub did: String,
    /// The first tree size it may sign (`LogKeyRange.from`).
    pub from: u64,
    /// The first size it may no longer sign; `null` while open (`LogKeyRange.until`).
    pub until: Option<u64>,
}

/// One key record (`components/schemas/LogKeyRecord`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRecordAnswer {
    /// Its position (`LogKeyRecord.seq`).
    pub seq: i64,
    /// `genesis`, `planned`, `complete` or `emergency` (`LogKeyRecord.kind`).
    pub kind: &'static str,
    /// The key it introduces or, for `complete`, the current key (`LogKeyRecord.key`).
    pub key: String,
    /// Its tree size (`LogKeyRecord.from`).
    pub from: u64,
    /// The signed record, verbatim (`LogKeyRecord.note`).
    pub note: String,
    /// When it was stored, RFC 3339 UTC (`LogKeyRecord.createdAt`).
    pub created_at: String,
}

/// `GET /v1/log/checkpoints` (`components/schemas/CheckpointList`; built by
/// [`crate::node::audit::checkpoints_after`]): checkpoints above a size, smallest first.
#[derive(Debug, Clone, Serialize)]
pub struct CheckpointList {
    /// `CheckpointList.checkpoints`.
    pub checkpoints: Vec<Checkpoint>,
}

/// `GET /v1/log/proof/inclusion` (`components/schemas/InclusionProof`; built by
/// [`crate::node::audit::inclusion`]): the RFC 9162 audit path of an entry in a tree size.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionProof {
    /// The entry's index (`InclusionProof.index`).
    pub index: u64,
    /// The tree size proved against (`InclusionProof.size`).
    pub size: u64,
    /// The entry's Merkle leaf hash, hex (`InclusionProof.leafHash`).
    pub leaf_hash: String,
    /// The audit path, leaf sibling first, hex (`InclusionProof.proof`).
    pub proof: Vec<String>,
}

/// `GET /v1/log/proof/consistency` (`components/schemas/ConsistencyProof`; built by
/// [`crate::node::audit::consistency`]): the RFC 9162 consistency proof between two sizes.
#[derive(Debug, Clone, Serialize)]
pub struct ConsistencyProof {
    /// The smaller size (`ConsistencyProof.from`).
    pub from: u64,
    /// The larger size (`ConsistencyProof.to`).
    pub to: u64,
    /// The proof's hashes, hex (`ConsistencyProof.proof`).
    pub proof: Vec<String>,
}

/// An entry of the access log with its record (`components/schemas/LogEntry`), an item of `GET
/// /v1/log/entries` (`components/schemas/LogEntryPage`, [`super::Paged`] with the entry index as
/// cursor).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    /// The entry's position in the log (`LogEntry.index`).
    pub index: u64,
    /// When it was logged, RFC 3339 UTC to the second (`LogEntry.time`).
    pub time: String,
    /// Its kind (`LogEntry.kind`, `components/schemas/EntryKind`).
    pub kind: crate::log::entry::EntryKind,
    /// The 136-byte leaf, standard base64 (`LogEntry.leaf`).
    pub leaf: String,
    /// The Merkle leaf hash, hex (`LogEntry.leafHash`).
    pub leaf_hash: String,
    /// The record's salt, hex; `None` (`null`) once erased (`LogEntry.salt`).
    pub salt: Option<String>,
    /// The record as stored (a document of its own); `None` (`null`) once erased (`LogEntry.record`).
    pub record: Option<serde_json::Value>,
}

impl super::Listed for LogEntry {
    const MEMBER: &'static str = "entries";
}

/// `GET /v1/log/entries` (`components/schemas/LogEntryPage`): a page of entries, oldest first,
/// with the index of the last one as `next` when the page is full.
pub type LogEntryPage = super::Paged<LogEntry, u64>;
