//! What a process says about itself: liveness and readiness (the node's and a platform's, served
//! by the same code), and the node's description (`GET /v1/node`) and a platform's
//! (`GET /v1/platform`).

use serde::Serialize;
use serde_json::Value;

/// The state of one readiness check (`components/schemas/ReadinessChecks`), and of a ready process as
/// a whole (`Health.status`): serialized as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckState {
    /// The check passes.
    Ok,
    /// The database cannot be reached.
    Unavailable,
    /// The log committer lost its connection and is making a new one.
    Reconnecting,
    /// The log committer stopped for good: the database lost entries it had committed.
    Halted,
    /// No checkpoint was signed within the staleness bound.
    Stale,
}

impl CheckState {
    /// Its name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Unavailable => "unavailable",
            Self::Reconnecting => "reconnecting",
            Self::Halted => "halted",
            Self::Stale => "stale",
        }
    }
}

/// What `/livez` says of a process that answers (`Liveness.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LiveState {
    /// The only state: it answered.
    Alive,
}

/// `GET /livez` (`components/schemas/Liveness`; built by [`crate::node::health::live`]): the
/// process answers.
#[derive(Debug, Clone, Serialize)]
pub struct Liveness {
    /// Always `alive` (`Liveness.status`).
    pub status: LiveState,
}

/// The readiness checks and their states (`components/schemas/ReadinessChecks`); all `ok` in a
/// `200` answer (a failing check is a `503` problem listing them instead).
#[derive(Debug, Clone, Serialize)]
pub struct ReadinessChecks {
    /// `ok` or `unavailable` (`ReadinessChecks.database`).
    pub database: CheckState,
    /// `ok`, `reconnecting` or `halted` (`ReadinessChecks.committer`).
    pub committer: CheckState,
    /// `ok` or `stale` (`ReadinessChecks.checkpoint`).
    pub checkpoint: CheckState,
}

/// `GET /readyz` and `GET /healthz` (`components/schemas/Health`; built by
/// [`crate::node::health::ready`]): a ready process, its log's size and every check.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// Always `ok` (`Health.status`).
    pub status: CheckState,
    /// Entries in the access log (`Health.logSize`).
    pub log_size: u64,
    /// `Health.checks`.
    pub checks: ReadinessChecks,
}

/// `GET /v1/node` (`components/schemas/NodeInfo`; built by [`crate::node::health::describe`]): the
/// node's identity, its log's head and its catalog version.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    /// The node's DID, the `aud` of assertions and signed requests (`NodeInfo.did`).
    pub did: String,
    /// `NodeInfo.publicUrl`.
    pub public_url: String,
    /// The access log's origin (`NodeInfo.logOrigin`).
    pub log_origin: String,
    /// `NodeInfo.logSize`.
    pub log_size: u64,
    /// The Merkle root at `logSize`, hex (`NodeInfo.logRoot`).
    pub log_root: String,
    /// `NodeInfo.catalogVersion`.
    pub catalog_version: String,
    /// The DID document of the node's did:key (`NodeInfo.didDocument`).
    pub did_document: Value,
    /// The log key the node signs with now, vkey (`NodeInfo.logKey`, spec/access-log.md §5.5).
    pub log_key: String,
    /// Every key of the log's key history and the tree sizes it may sign (`NodeInfo.logKeys`);
    /// the records themselves are at `GET /v1/log/keys`.
    pub log_keys: Vec<super::log::KeyRangeAnswer>,
}

/// `GET /v1/platform` on a platform (`PlatformInfo` of spec/openapi-platform.yaml): the platform's
/// identity, its node, and its own log's head.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformInfo {
    /// The platform's USCC (`PlatformInfo.uscc`).
    pub uscc: String,
    /// The platform's DID (`PlatformInfo.did`).
    pub did: String,
    /// The node's base URL (`PlatformInfo.node`).
    pub node: String,
    /// The node's DID; `null` while the node cannot be reached (`PlatformInfo.nodeDid`).
    pub node_did: Option<String>,
    /// The origin of the platform's log (`PlatformInfo.logOrigin`).
    pub log_origin: String,
    /// `PlatformInfo.logSize`.
    pub log_size: u64,
    /// The Merkle root of the platform's log at `logSize`, hex (`PlatformInfo.logRoot`).
    pub log_root: String,
}
