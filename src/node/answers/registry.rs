//! The registry's answers that are typed so far: who holds a key, for platforms resolving their
//! callers (`GET /v1/participants/by-did/{did}`).

use serde::Serialize;

use crate::policy::{ParticipantState, Role};

/// Who holds a did:key at the node, as a platform needs it to admit a caller the node registered
/// (`components/schemas/KeyHolder`; built by [`crate::node::registry::key_holder`]). Nothing
/// personal: the code, role and state of the participant, and whether the key is its current one.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyHolder {
    /// The participant's USCC (`KeyHolder.uscc`).
    pub uscc: String,
    /// Its role (`KeyHolder.role`).
    pub role: Role,
    /// Its admission state now (`KeyHolder.state`).
    pub state: ParticipantState,
    /// The key asked about (`KeyHolder.did`).
    pub did: String,
    /// Since when the key is the participant's, RFC 3339 UTC (`KeyHolder.validFrom`).
    pub valid_from: String,
    /// Until when it was, RFC 3339 UTC; `null` for a key not rotated out (`KeyHolder.validUntil`).
    pub valid_until: Option<String>,
    /// Whether the key authenticates the participant now (`KeyHolder.current`).
    pub current: bool,
}
