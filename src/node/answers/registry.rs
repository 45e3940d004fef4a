//! The registry's answers: participants and their keys, registrations and the node's decisions on
//! them, admissions, state changes, key rotations, delegations, and who holds a key (for platforms
//! resolving their callers, `GET /v1/participants/by-did/{did}`).

use serde::Serialize;
use serde_json::Value;

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

/// One key of a participant with its validity interval (`components/schemas/ParticipantKey`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantKey {
    /// The did:key (`ParticipantKey.did`).
    pub did: String,
    /// Since when it is the participant's, RFC 3339 UTC (`ParticipantKey.validFrom`).
    pub valid_from: String,
    /// When it was rotated out, RFC 3339 UTC; `null` for the current key
    /// (`ParticipantKey.validUntil`).
    pub valid_until: Option<String>,
}

/// A participant as the registry views show it (`components/schemas/Participant`; built by
/// [`crate::node::registry::list`] and [`crate::node::registry::describe`]): code, role, name,
/// state, registering platform, endpoint, declared regions and every key, oldest first.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Participant {
    /// The USCC (`Participant.uscc`).
    pub uscc: String,
    /// Its role (`Participant.role`).
    pub role: Role,
    /// Its name (`Participant.name`).
    pub name: String,
    /// Its admission state (`Participant.state`).
    pub state: ParticipantState,
    /// For a bank, the platform that registered it; else `null` (`Participant.platform`).
    pub platform: Option<String>,
    /// Its base URL (platforms), else `null` (`Participant.endpoint`).
    pub endpoint: Option<String>,
    /// For a platform, the 设区市 it covers, in code order; empty for every other role
    /// (`Participant.regions`).
    pub regions: Vec<String>,
    /// When it was registered, RFC 3339 UTC (`Participant.createdAt`).
    pub created_at: String,
    /// Its keys, oldest first (`Participant.keys`).
    pub keys: Vec<ParticipantKey>,
}

/// `GET /v1/participants` (`components/schemas/ParticipantList`): the participants the caller may
/// list.
#[derive(Debug, Clone, Serialize)]
pub struct ParticipantList {
    /// `ParticipantList.participants`.
    pub participants: Vec<Participant>,
}

/// `GET /v1/admin/registrations` (`components/schemas/RegistrationList`): enterprises in one
/// registration state (pending by default).
#[derive(Debug, Clone, Serialize)]
pub struct RegistrationList {
    /// `RegistrationList.registrations`.
    pub registrations: Vec<Participant>,
}

/// `GET /v1/participants/me` (`components/schemas/Me`): the caller's own record and the newest
/// identity credential the node issued it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    /// The caller's record (`Me.participant`).
    pub participant: Participant,
    /// The newest `EnterpriseIdentityCredential` issued to the caller, as signed, or `null`
    /// (`Me.identityCredential`).
    pub identity_credential: Option<Value>,
}

/// `POST /v1/admin/platforms` and `POST /v1/admin/regulators` (`components/schemas/MemberCreated`):
/// the member as registered.
#[derive(Debug, Clone, Serialize)]
pub struct MemberCreated {
    /// `MemberCreated.uscc`.
    pub uscc: String,
    /// `MemberCreated.name` (trimmed as stored).
    pub name: String,
    /// `MemberCreated.role`.
    pub role: Role,
    /// `MemberCreated.state`.
    pub state: ParticipantState,
}

/// `POST /v1/banks` (`components/schemas/BankCreated`): the bank as registered by its platform
/// (the node's, and a platform's own answer to its operator).
#[derive(Debug, Clone, Serialize)]
pub struct BankCreated {
    /// `BankCreated.uscc`.
    pub uscc: String,
    /// `BankCreated.name`.
    pub name: String,
    /// `BankCreated.role` (always `bank`).
    pub role: Role,
    /// `BankCreated.state`.
    pub state: ParticipantState,
    /// The registering platform's USCC (`BankCreated.platform`).
    pub platform: Option<String>,
}

/// `POST /v1/registrations` (`components/schemas/RegistrationAccepted`): an enterprise's
/// registration, recorded and pending.
#[derive(Debug, Clone, Serialize)]
pub struct RegistrationAccepted {
    /// `RegistrationAccepted.uscc`.
    pub uscc: String,
    /// `RegistrationAccepted.name`.
    pub name: String,
    /// `RegistrationAccepted.state` (always `pending`).
    pub state: ParticipantState,
}

/// `POST /v1/admin/registrations/{uscc}/approve` and `…/reject`
/// (`components/schemas/RegistrationDecision`): the registration's new state and, on approval, the
/// identity credential issued.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationDecision {
    /// `RegistrationDecision.uscc`.
    pub uscc: String,
    /// `active` or `rejected` (`RegistrationDecision.state`).
    pub state: ParticipantState,
    /// The `EnterpriseIdentityCredential` issued on approval, as signed; `null` on rejection
    /// (`RegistrationDecision.identityCredential`).
    pub identity_credential: Option<Value>,
}

/// `POST /v1/admin/participants/{role}/{uscc}/state` and `POST /v1/banks/{uscc}/state`
/// (`components/schemas/StateChanged`): the participant's state now.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateChanged {
    /// `StateChanged.uscc`.
    pub uscc: String,
    /// `active`, `suspended` or `removed` (`StateChanged.state`).
    pub state: ParticipantState,
    /// Grants suspended by the removal of a platform or bank; 0 otherwise
    /// (`StateChanged.suspendedGrants`).
    pub suspended_grants: u64,
}

/// `POST /v1/participants/me/keys` and `POST /v1/admin/participants/{role}/{uscc}/recover-key`
/// (`components/schemas/KeyRotated`): the participant's new current key.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRotated {
    /// `KeyRotated.uscc`.
    pub uscc: String,
    /// The new key (`KeyRotated.did`).
    pub did: String,
    /// Since when it is current, RFC 3339 UTC (`KeyRotated.validFrom`).
    pub valid_from: String,
    /// The `key-rotated` access-log entry (`KeyRotated.logIndex`).
    pub log_index: u64,
}

/// `POST /v1/delegations` (`components/schemas/DelegationCreated`): the delegation as registered.
#[derive(Debug, Clone, Serialize)]
pub struct DelegationCreated {
    /// The delegation credential's id (`DelegationCreated.id`).
    pub id: String,
    /// The agent's did:key (`DelegationCreated.agent`).
    pub agent: String,
    /// The actions delegated (`DelegationCreated.scope`).
    pub scope: Vec<String>,
}
