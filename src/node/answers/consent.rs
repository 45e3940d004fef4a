//! Consent requests (`spec/consent-requests.md`): the answers of `src/http/routes/consent.rs` and of
//! the portal's consent-request calls.

use serde::Serialize;

use super::Listed;
use super::grants::Grant;
use crate::grant::GrantTerms;
use crate::grant::request::ConsentRequestState;
use crate::policy::Role;

/// Who asked (`components/schemas/ConsentRequest`, member `requester`): always the authenticated
/// caller that created the request.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Requester {
    /// Its USCC.
    pub uscc: String,
    /// `platform` or `bank`.
    pub role: Role,
}

/// A consent request (`components/schemas/ConsentRequest`), also an item of `GET
/// /v1/consent-requests` (`components/schemas/ConsentRequestList`, [`super::Paged`]).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentRequest {
    /// `creq-<uuid>`.
    pub id: String,
    /// Who asked.
    pub requester: Requester,
    /// The enterprise asked (its USCC).
    pub enterprise: String,
    /// The requested terms: a grant's `credentialSubject` without letters.
    pub terms: GrantTerms,
    /// The earliest `validFrom` a grant answering it may state.
    pub valid_from: String,
    /// The latest `validUntil` a grant answering it may state.
    pub valid_until: String,
    /// The requester's message (may be empty).
    pub message: String,
    /// Its state.
    pub state: ConsentRequestState,
    /// The grant that answered it (`signed`), else `null`.
    pub grant: Option<String>,
    /// The enterprise's reason for declining, if given, else `null`.
    pub decline_reason: Option<String>,
    /// When it was made.
    pub created_at: String,
    /// When it expires if nobody answers.
    pub expires_at: String,
    /// When it left `pending`, else `null`.
    pub answered_at: Option<String>,
}

impl Listed for ConsentRequest {
    const MEMBER: &'static str = "consentRequests";
}

/// `POST /v1/consent-requests/{id}/accept` (`components/schemas/ConsentRequestAccepted`): the
/// request, now `signed`, and the grant stored in the same transaction.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentRequestAccepted {
    /// The request.
    pub consent_request: ConsentRequest,
    /// The grant that answered it.
    pub grant: Grant,
}
