//! The service's one error type. Each variant carries what the caller needs to act on it; the single
//! mapping to HTTP (status, RFC 9457 problem `type`) lives in [`crate::http::problem`].
//!
//! Problem types are `https://w3id.org/consentry/problems#<code>`; every code is listed in
//! spec/problems.md and never changes meaning.

use crate::grant::GrantError;
use crate::log::entry::Reason;
use crate::storage::StorageError;

/// Base of every problem `type` URI.
pub const PROBLEM_BASE: &str = "https://w3id.org/consentry/problems#";

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request is malformed or a value is invalid; nothing was changed.
    #[error("{message}")]
    Invalid {
        /// Stable code, e.g. `invalid-uscc`.
        code: &'static str,
        /// What was wrong, naming the field.
        message: String,
    },
    /// No valid client assertion (or session).
    #[error("authentication failed: {0}")]
    Unauthenticated(String),
    /// Authenticated, but this caller may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The thing asked for does not exist (or the caller may not know it exists).
    #[error("not found: {0}")]
    NotFound(String),
    /// The path exists but does not serve this method (RFC 9110 §15.5.6; the answer lists `Allow`).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The request conflicts with the current state (duplicate, wrong state).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A submitted grant failed verification; every reason is listed.
    #[error("{0}")]
    Grant(#[from] GrantError),
    /// A release was refused; every reason is listed. The refusal itself was recorded in the log.
    #[error("release refused: {}", .reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>().join(", "))]
    Refused {
        /// The reasons.
        reasons: Vec<Reason>,
        /// The log index of the refusal entry.
        log_index: Option<u64>,
    },
    /// A loan report (`spec/loans.md` §3) was refused: the bank received no data under the grant
    /// it cites (`403 report-refused`), or the report conflicts with the loan so far: out of order,
    /// or a report id used before (`409 report-conflict`). Every reason is listed; nothing was
    /// written.
    #[error("report refused: {}", .reasons.iter().map(|r| r.message.as_str()).collect::<Vec<_>>().join("; "))]
    Report {
        /// `true`: a conflict with the loan (409); `false`: not entitled (403).
        conflict: bool,
        /// The reasons.
        reasons: Vec<Reason>,
    },
    /// A data batch (`spec/intake.md`) was refused whole (`422 batch-refused`): every problem is
    /// listed, each bad record with its index. Nothing was written.
    #[error("batch refused: {}", .0.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; "))]
    Batch(Vec<crate::intake::Problem>),
    /// A consent request (spec/consent-requests.md §3) was refused: its terms break the grant rules,
    /// or a party it names is not what the request needs (`422 consent-request-invalid`). Every
    /// reason is listed; nothing was written.
    #[error("consent request refused: {}", .0.iter().map(|r| r.code.as_str()).collect::<Vec<_>>().join(", "))]
    ConsentRequest(Vec<Reason>),
    /// A grant answering a consent request goes beyond it (spec/consent-requests.md §5, `422
    /// grant-exceeds-request`). Every reason is listed; nothing was written and the request stays
    /// pending.
    #[error("the grant exceeds the consent request: {}", .0.iter().map(|r| r.code.as_str()).collect::<Vec<_>>().join(", "))]
    ExceedsRequest(Vec<Reason>),
    /// The request body exceeds the limit.
    #[error("request body exceeds {0} bytes")]
    TooLarge(usize),
    /// The database failed.
    #[error("{0}")]
    Storage(#[from] StorageError),
    /// A dependency (the node, seen from a platform) could not be reached or answered badly.
    #[error("upstream: {0}")]
    Upstream(String),
    /// A bug or an impossible state.
    #[error("internal error: {0}")]
    Internal(String),
    /// The process is alive but not ready to serve (the readiness probe,
    /// [`crate::node::health`]): every check with its state (`ok` or what is wrong).
    #[error("not ready: {}", .0.iter().filter(|c| c.1 != "ok").map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", "))]
    NotReady(Vec<(&'static str, &'static str)>),
}

impl Error {
    /// An [`Error::Invalid`].
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
        }
    }

    /// The stable problem code.
    pub fn code(&self) -> &str {
        match self {
            Self::Invalid { code, .. } => code,
            Self::Unauthenticated(_) => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not-found",
            Self::MethodNotAllowed(_) => "method-not-allowed",
            Self::Conflict(_) => "conflict",
            Self::Grant(_) => "grant-invalid",
            Self::Refused { .. } => "release-refused",
            Self::Report { conflict: false, .. } => "report-refused",
            Self::Report { conflict: true, .. } => "report-conflict",
            Self::Batch(_) => "batch-refused",
            Self::ConsentRequest(_) => "consent-request-invalid",
            Self::ExceedsRequest(_) => "grant-exceeds-request",
            Self::TooLarge(_) => "payload-too-large",
            Self::Storage(_) | Self::NotReady(_) => "storage-unavailable",
            Self::Upstream(_) => "upstream-unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// Whether this is the database being unreachable (or the connection to it lost): logged once
    /// per outage ([`crate::storage::Outage`]), not per request or per round of a background task.
    pub fn is_outage(&self) -> bool {
        matches!(self, Self::Storage(e) if e.is_connection())
    }
}

/// Result of a service operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;
