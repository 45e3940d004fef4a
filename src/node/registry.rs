//! The participant registry: the node admits and removes platforms, platforms register their banks,
//! the node registers regulators, enterprises register by binding their USCC to a did:key (pending
//! until the node approves, which issues them an identity credential), keys rotate keeping their
//! history, and enterprises delegate signing to agents (经办人).
//!
//! Every change is an access-log entry (kind `participant`) written in the same transaction.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::answers::registry as answers;
use super::{Caller, Node};
use crate::credential::data_integrity;
use crate::credential::datetime::format_utc_seconds;
use crate::error::{Error, Result};
use crate::identity::DidKey;
use crate::ids::Uscc;
use crate::log::entry::{AccessRecord, EntryKind, PartyRef};
use crate::policy::{ParticipantState, Role};
use crate::storage::from_millis;
use crate::storage::industries;
use crate::storage::log_store::{NewEntry, Tx};
use crate::storage::participants::{self, Delegation, NewParticipant, Participant};

/// What the node is told about a new platform, bank or regulator.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewMember {
    /// Unified Social Credit Code.
    pub uscc: String,
    /// Name.
    pub name: String,
    /// Its did:key.
    pub did: String,
    /// Base URL (platforms).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The 设区市 a platform covers (platforms only; codes of `spec/regions/jiangsu.json`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    /// An enterprise's industry as it declared it when registering (a code checked against the
    /// node's GB/T 4754 table, `crate::industry`); never read from an HTTP body of the other roles.
    #[serde(skip)]
    pub industry: Option<crate::industry::Industry>,
}

/// Who performed a registry change, as the log records it.
#[derive(Debug, Clone)]
pub struct Actor {
    /// Code.
    pub uscc: String,
    /// Role.
    pub role: Role,
    /// Key.
    pub did: Option<String>,
}

impl Actor {
    /// The node's operator acting locally (the command line), with the node key.
    pub fn operator(node: &Node, node_uscc: &str) -> Self {
        Self {
            uscc: node_uscc.to_owned(),
            role: Role::Node,
            did: Some(node.did().to_owned()),
        }
    }

    /// An authenticated caller.
    pub fn caller(c: &Caller) -> Self {
        Self {
            uscc: c.uscc().to_owned(),
            role: c.role,
            did: Some(c.assertion.signer.as_str().to_owned()),
        }
    }

    fn party(&self) -> PartyRef {
        PartyRef {
            uscc: self.uscc.clone(),
            role: self.role.as_str().to_owned(),
            did: self.did.clone(),
        }
    }
}

fn check_member(m: &NewMember) -> Result<DidKey> {
    Uscc::parse(&m.uscc).map_err(|e| Error::invalid("invalid-uscc", format!("uscc: {e}")))?;
    if m.name.trim().is_empty() || m.name.len() > 200 {
        return Err(Error::invalid("invalid-name", "name must have 1–200 bytes"));
    }
    if let Some(e) = &m.endpoint {
        if !(e.starts_with("https://") || e.starts_with("http://")) || e.len() > 500 {
            return Err(Error::invalid(
                "invalid-endpoint",
                "endpoint must be an http(s) URL",
            ));
        }
    }
    let known = crate::region::Regions::jiangsu();
    for (i, r) in m.regions.iter().enumerate() {
        if !known
            .get(r)
            .is_some_and(|d| d.level == crate::region::Level::Prefecture)
        {
            return Err(Error::invalid(
                "invalid-region",
                format!("regions: {r:?} is not a 设区市 of Jiangsu (spec/regions/jiangsu.json)"),
            ));
        }
        if m.regions[..i].contains(r) {
            return Err(Error::invalid("invalid-region", format!("regions: {r} twice")));
        }
    }
    DidKey::parse(&m.did).map_err(|e| Error::invalid("invalid-did", format!("did: {e}")))
}

/// Refuses regions for a member that is not a platform.
fn no_regions(m: &NewMember) -> Result<()> {
    if m.regions.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid(
            "invalid-region",
            "regions: only a platform declares the regions it covers",
        ))
    }
}

fn participant_entry(action: &str, subject: &Participant, actor: &Actor, detail: Value) -> NewEntry {
    NewEntry {
        kind: EntryKind::Participant,
        enterprise: (subject.role == Role::Enterprise).then(|| subject.uscc.clone()),
        grant: None,
        caller: Some(actor.uscc.clone()),
        platform: (subject.role == Role::Platform).then(|| subject.uscc.clone()),
        bank: (subject.role == Role::Bank).then(|| subject.uscc.clone()),
        categories: None,
        decision: Some(action.to_owned()),
        record: AccessRecord {
            enterprise: (subject.role == Role::Enterprise).then(|| subject.uscc.clone()),
            caller: Some(actor.party()),
            decision: Some(action.to_owned()),
            detail: Some(
                json!({"participant": {"uscc": subject.uscc, "role": subject.role, "name": subject.name}, "details": detail}),
            ),
            ..Default::default()
        },
    }
}

fn add_member(
    tx: &mut Tx<'_>,
    m: &NewMember,
    role: Role,
    state: ParticipantState,
    platform: Option<&str>,
    actor: &Actor,
    evidence: Option<&str>,
) -> Result<Participant> {
    add_member_with(tx, m, role, state, platform, actor, evidence, json!({}))
}

/// [`add_member`] with further details for the log entry (merged into `details`).
#[allow(clippy::too_many_arguments)]
fn add_member_with(
    tx: &mut Tx<'_>,
    m: &NewMember,
    role: Role,
    state: ParticipantState,
    platform: Option<&str>,
    actor: &Actor,
    evidence: Option<&str>,
    extra: Value,
) -> Result<Participant> {
    // A code names one legal entity: whoever registers it, in whatever role, it must be new. This is
    // what keeps a platform from registering another participant's code as its "bank" and then
    // reading that participant's grants, webhooks and notices (spec/security.md §3.1).
    if let Some(existing) = participants::find_by_uscc(tx.conn, &m.uscc)? {
        return Err(Error::Conflict(if existing.role == role {
            format!("{} {} is already registered", role.as_str(), m.uscc)
        } else {
            format!(
                "{} is already a registered participant; one code names one participant",
                m.uscc
            )
        }));
    }
    if participants::find_by_did(tx.conn, &m.did)?.is_some() {
        return Err(Error::Conflict(format!(
            "key {} already belongs to a participant",
            m.did
        )));
    }
    let now = tx.now();
    let p = participants::insert(
        tx.conn,
        &NewParticipant {
            uscc: &m.uscc,
            role,
            name: m.name.trim(),
            state,
            platform_uscc: platform,
            endpoint: m.endpoint.as_deref(),
            evidence,
            created_at: now,
            updated_at: now,
        },
        &m.did,
    )?;
    let action = if state == ParticipantState::Pending {
        "registration-submitted"
    } else {
        "admitted"
    };
    let mut details = json!({"did": m.did});
    if !m.regions.is_empty() {
        details["regions"] = json!(m.regions);
    }
    if let Some(i) = &m.industry {
        // The claim, as registered; it counts once the node approves the registration.
        details["industry"] = json!(i.as_str());
    }
    if let Value::Object(more) = extra {
        for (k, v) in more {
            details[k.as_str()] = v;
        }
    }
    tx.append(participant_entry(action, &p, actor, details))?;
    Ok(p)
}

/// The answer to an admission: the member as registered.
fn member_created(p: Participant) -> answers::MemberCreated {
    answers::MemberCreated {
        uscc: p.uscc,
        name: p.name,
        role: p.role,
        state: p.state,
    }
}

/// The answer to a bank's registration: the bank as registered, with its platform.
fn bank_created(p: Participant) -> answers::BankCreated {
    answers::BankCreated {
        uscc: p.uscc,
        name: p.name,
        role: p.role,
        state: p.state,
        platform: p.platform_uscc,
    }
}

/// Admits a financing platform (node operators only).
pub async fn admit_platform(node: &Node, m: NewMember, actor: Actor) -> Result<answers::MemberCreated> {
    check_member(&m)?;
    if m.endpoint.is_none() {
        return Err(Error::invalid(
            "invalid-endpoint",
            "a platform needs its endpoint URL",
        ));
    }
    node.committer
        .run(move |tx| {
            let p = add_member(
                tx,
                &m,
                Role::Platform,
                ParticipantState::Active,
                None,
                &actor,
                None,
            )?;
            participants::set_regions(tx.conn, &p.uscc, &m.regions)?;
            Ok(member_created(p))
        })
        .await
}

/// Registers a regulator (node operators only).
pub async fn add_regulator(node: &Node, m: NewMember, actor: Actor) -> Result<answers::MemberCreated> {
    check_member(&m)?;
    no_regions(&m)?;
    node.committer
        .run(move |tx| {
            add_member(
                tx,
                &m,
                Role::Regulator,
                ParticipantState::Active,
                None,
                &actor,
                None,
            )
            .map(member_created)
        })
        .await
}

/// Registers a providing department (node operators only, `spec/intake.md` §2): a participant of
/// role `department`, active at once, bound to one catalog provider (`provider`, e.g. `STA`), for
/// which alone it may submit signed data batches. The binding is logged with the admission.
pub async fn add_department(
    node: &Node,
    m: NewMember,
    provider: String,
    actor: Actor,
) -> Result<super::answers::intake::DepartmentCreated> {
    check_member(&m)?;
    no_regions(&m)?;
    if node.catalog().provider(&provider).is_none() {
        return Err(Error::invalid(
            "unknown-provider",
            format!("{provider:?} is not a providing department of the catalog"),
        ));
    }
    node.committer
        .run(move |tx| {
            let m = NewMember { endpoint: None, ..m };
            let p = add_member_with(
                tx,
                &m,
                Role::Department,
                ParticipantState::Active,
                None,
                &actor,
                None,
                json!({"provider": provider}),
            )?;
            crate::storage::intake::bind(tx.conn, p.id, &provider)?;
            Ok(super::answers::intake::DepartmentCreated {
                uscc: p.uscc,
                name: p.name,
                role: p.role,
                state: p.state,
                provider,
            })
        })
        .await
}

/// A platform registers one of its banks; the second value says whether it is new. The code must
/// not name any other participant (spec/security.md §3.1); registering again the same bank, with
/// the same current key, by the same platform is idempotent (`false`), so that a platform that
/// lost the answer may retry.
pub async fn register_bank(
    node: &Node,
    caller: &Caller,
    m: NewMember,
) -> Result<(answers::BankCreated, bool)> {
    caller.require(&[Role::Platform])?;
    check_member(&m)?;
    no_regions(&m)?;
    let platform = caller.uscc().to_owned();
    let actor = Actor::caller(caller);
    let a = caller.assertion.clone();
    node.committer
        .run(move |tx| {
            tx.consume_assertion(&a)?;
            if let Some(p) = participants::find_by_uscc(tx.conn, &m.uscc)? {
                let same_key = participants::keys(tx.conn, p.id)?
                    .last()
                    .is_some_and(|k| k.did == m.did && k.valid_until.is_none());
                if p.role == Role::Bank && p.platform_uscc.as_deref() == Some(platform.as_str()) && same_key {
                    return Ok((bank_created(p), false));
                }
            }
            add_member(
                tx,
                &m,
                Role::Bank,
                ParticipantState::Active,
                Some(&platform),
                &actor,
                None,
            )
            .map(|p| (bank_created(p), true))
        })
        .await
}

/// An enterprise's registration request: a signed request (`action: "register"`, claims `uscc`,
/// `name`, and optionally `industry`, a GB/T 4754 code of the node's table) made with the key it
/// binds. Pending until the node approves.
pub async fn submit_registration(node: &Node, token: &str) -> Result<answers::RegistrationAccepted> {
    let req = node.verify_request(token, "register")?;
    let industry = match req.claims.get("industry") {
        None | Some(Value::Null) => None,
        Some(Value::String(code)) => Some(node.classify_industry(code)?),
        Some(_) => {
            return Err(Error::invalid(
                "invalid-industry",
                "industry: a string such as C13",
            ));
        }
    };
    let m = NewMember {
        uscc: req.str("uscc").unwrap_or_default().to_owned(),
        name: req.str("name").unwrap_or_default().to_owned(),
        did: req.signer.as_str().to_owned(),
        endpoint: None,
        regions: vec![],
        industry,
    };
    check_member(&m)?;
    let actor = Actor {
        uscc: m.uscc.clone(),
        role: Role::Enterprise,
        did: Some(m.did.clone()),
    };
    let evidence = token.to_owned();
    node.committer
        .run(move |tx| {
            tx.consume_assertion(&req)?;
            add_member(
                tx,
                &m,
                Role::Enterprise,
                ParticipantState::Pending,
                None,
                &actor,
                Some(&evidence),
            )
            .map(|p| answers::RegistrationAccepted {
                uscc: p.uscc,
                name: p.name,
                state: p.state,
            })
        })
        .await
}

/// The `industry` claim of a stored registration request (a compact JWS the node verified when it
/// was submitted), if it has one.
fn registration_industry(token: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("industry")?.as_str().map(str::to_owned)
}

/// The identity credential the node issues an approved enterprise: the node vouches that this
/// did:key belongs to this USCC.
pub fn identity_credential(
    node: &Node,
    p: &Participant,
    did: &str,
    at: time::OffsetDateTime,
) -> Result<Value> {
    let unsigned = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", crate::grant::model::GRANT_CONTEXT],
        "id": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "type": ["VerifiableCredential", "EnterpriseIdentityCredential"],
        "issuer": node.did(),
        "validFrom": format_utc_seconds(at),
        "credentialSubject": {"id": did, "uscc": p.uscc, "name": p.name},
    });
    data_integrity::create_proof(&unsigned, &node.key, at).map_err(|e| Error::Internal(e.to_string()))
}

/// The node's decision on a pending registration, named as in the URL (`/v1/admin/registrations/
/// {uscc}/approve`, the portal's `/portal/api/registrations/{uscc}/{decision}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationDecision {
    /// Admit: the participant becomes `active` and receives its identity credential.
    Approve,
    /// Refuse: the participant becomes `rejected`.
    Reject,
}

impl RegistrationDecision {
    /// Parses the URL spelling (`approve`, `reject`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "approve" => Some(Self::Approve),
            "reject" => Some(Self::Reject),
            _ => None,
        }
    }

    /// The state the registration moves to.
    pub fn state(self) -> ParticipantState {
        match self {
            Self::Approve => ParticipantState::Active,
            Self::Reject => ParticipantState::Rejected,
        }
    }
}

/// Approves (or rejects) a pending enterprise registration (node operators only). Approval issues
/// the identity credential.
pub async fn decide_registration(
    node: &Node,
    uscc: String,
    decision: RegistrationDecision,
    actor: Actor,
) -> Result<answers::RegistrationDecision> {
    let approve = decision == RegistrationDecision::Approve;
    let now = node.clock.now();
    let (p, key) = {
        let u = uscc.clone();
        node.store
            .call(move |c| -> Result<_> {
                let p = participants::find(c, &u, Role::Enterprise)?
                    .ok_or_else(|| Error::NotFound(format!("no registration for {u}")))?;
                let key = participants::keys(c, p.id)?
                    .pop()
                    .ok_or_else(|| Error::Internal("no key".into()))?;
                Ok((p, key))
            })
            .await?
    };
    if p.state != ParticipantState::Pending {
        return Err(Error::Conflict(format!("{uscc} is {}, not pending", p.state)));
    }
    let credential = if approve {
        Some(identity_credential(node, &p, &key.did, now)?)
    } else {
        None
    };
    let cred = credential.clone();
    // The industry the enterprise stated in its signed registration (checked against the node's
    // table when it was submitted, and again now): stored on approval only.
    let industry = match (approve, p.evidence.as_deref().and_then(registration_industry)) {
        (true, Some(code)) => node.classify_industry(&code).ok(),
        _ => None,
    };
    node.committer
        .run(move |tx| -> Result<()> {
            let state = decision.state();
            // Guard against a concurrent decision.
            let current = participants::get(tx.conn, p.id)?.map(|x| x.state);
            if current != Some(ParticipantState::Pending) {
                return Err(Error::Conflict(format!("{} was decided meanwhile", p.uscc)));
            }
            participants::set_state(tx.conn, p.id, state, tx.now())?;
            if let Some(c) = &cred {
                let id = c.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
                participants::store_credential(tx.conn, &id, p.id, "identity", &c.to_string(), tx.now())?;
            }
            let action = if approve {
                "registration-approved"
            } else {
                "registration-rejected"
            };
            let mut details = json!({"did": key.did});
            if let Some(i) = &industry {
                details["industry"] = json!(i.as_str());
                // The enterprise's own word counts until a providing department's import says
                // otherwise.
                if industries::of(tx.conn, &p.uscc)?.is_none() {
                    industries::set(
                        tx.conn,
                        &p.uscc,
                        i.as_str(),
                        industries::Source::Registration,
                        tx.now(),
                    )?;
                }
            }
            tx.append(participant_entry(action, &p, &actor, details))?;
            Ok(())
        })
        .await?;
    Ok(answers::RegistrationDecision {
        uscc,
        state: decision.state(),
        identity_credential: credential,
    })
}

/// Parses the state an operator asks for (`active`, `suspended`, `removed`): the one table the
/// `/v1` admin route and the portal share.
pub fn settable_state(s: &str) -> Result<ParticipantState> {
    ParticipantState::settable(s).ok_or_else(|| {
        Error::invalid(
            "invalid-state",
            format!("state {s:?} must be active, suspended or removed"),
        )
    })
}

/// Sets a platform's (or bank's, or regulator's) state: `active`, `suspended` or `removed` (node
/// operators only). Removing a platform suspends every grant naming it as grantee, removing a bank
/// every grant naming it as a recipient, in the status lists, and tells each enterprise.
pub async fn set_state(
    node: &Node,
    uscc: String,
    role: Role,
    state: ParticipantState,
    actor: Actor,
) -> Result<answers::StateChanged> {
    set_state_spending(node, uscc, role, state, actor, None).await
}

/// [`set_state`] for a caller authenticated by a client assertion (`spend`): the assertion is spent
/// in the change's own transaction, so that it is never accepted twice, across restarts too.
pub async fn set_state_spending(
    node: &Node,
    uscc: String,
    role: Role,
    state: ParticipantState,
    actor: Actor,
    spend: Option<super::auth::Assertion>,
) -> Result<answers::StateChanged> {
    check_settable(role, state)?;
    node.committer
        .run(move |tx| -> Result<answers::StateChanged> {
            let p = participants::find(tx.conn, &uscc, role)?
                .ok_or_else(|| Error::NotFound(format!("no {} {uscc}", role.as_str())))?;
            if let Some(a) = &spend {
                tx.consume_assertion(&a)?;
            }
            change_state(tx, &p, state, &actor)
        })
        .await
}

/// A platform suspends, resumes or removes one of its own banks (`POST /v1/banks/{uscc}/state`,
/// spec/openapi.yaml): as [`set_state`] does for the node's operator, with the platform as the
/// actor, and only for a bank this platform registered (another's bank, or a code that is no
/// bank, is `404`: the platform learns nothing of others' banks). A suspension the node's operator
/// made is the operator's to lift: the platform resuming it is `403`.
pub async fn set_bank_state(
    node: &Node,
    caller: &Caller,
    uscc: String,
    state: ParticipantState,
) -> Result<answers::StateChanged> {
    caller.require(&[Role::Platform])?;
    check_settable(Role::Bank, state)?;
    let (platform, actor, a) = (
        caller.uscc().to_owned(),
        Actor::caller(caller),
        caller.assertion.clone(),
    );
    node.committer
        .run(move |tx| -> Result<answers::StateChanged> {
            let p = participants::find(tx.conn, &uscc, Role::Bank)?
                .filter(|b| b.platform_uscc.as_deref() == Some(platform.as_str()))
                .ok_or_else(|| Error::NotFound(format!("{platform} has no bank {uscc}")))?;
            if state == ParticipantState::Active && p.state == ParticipantState::Suspended {
                let by = participants::last_set_by(tx.conn, &uscc, ParticipantState::Suspended.as_str())?;
                if let Some(by) = by.filter(|b| *b != platform) {
                    return Err(Error::Forbidden(format!(
                        "{uscc} was suspended by {by}, not by {platform}: only {by} resumes it"
                    )));
                }
            }
            tx.consume_assertion(&a)?;
            change_state(tx, &p, state, &actor)
        })
        .await
}

fn check_settable(role: Role, state: ParticipantState) -> Result<()> {
    if !matches!(
        state,
        ParticipantState::Active | ParticipantState::Suspended | ParticipantState::Removed
    ) {
        return Err(Error::invalid(
            "invalid-state",
            "state must be active, suspended or removed",
        ));
    }
    if role == Role::Node {
        return Err(Error::Forbidden(
            "the node's own entry cannot change state".into(),
        ));
    }
    Ok(())
}

/// The change itself, in the caller's transaction: removal is final; the same state again changes
/// nothing; otherwise the state, the end of the participant's portal sessions, the log entry, the
/// `participant.state` event, and a removal's cascade to the grants naming it.
fn change_state(
    tx: &mut Tx<'_>,
    p: &Participant,
    state: ParticipantState,
    actor: &Actor,
) -> Result<answers::StateChanged> {
    let uscc = p.uscc.clone();
    if p.state == ParticipantState::Removed {
        return Err(Error::Conflict(format!("{uscc} was removed; removal is final")));
    }
    if p.state == state {
        return Ok(answers::StateChanged {
            uscc,
            state,
            suspended_grants: 0,
        });
    }
    participants::set_state(tx.conn, p.id, state, tx.now())?;
    if state != ParticipantState::Active {
        crate::storage::sessions::end_all_of(tx.conn, p.id, tx.now())?;
    }
    tx.append(participant_entry(
        state.as_str(),
        p,
        actor,
        json!({"from": p.state}),
    ))?;
    super::notify::participant_state(
        tx.conn,
        &uscc,
        p.role.as_str(),
        state.as_str(),
        p.platform_uscc.as_deref(),
        tx.now(),
    )?;
    let mut suspended = 0;
    if state == ParticipantState::Removed && matches!(p.role, Role::Platform | Role::Bank) {
        suspended = super::grants::cascade_suspend(tx, &uscc, p.role, &actor.party())?;
    }
    Ok(answers::StateChanged {
        uscc,
        state,
        suspended_grants: u64::try_from(suspended).unwrap_or(u64::MAX),
    })
}

/// Rotates the caller's key: a signed request by the current key (`action: "rotate-key"`, claim
/// `newKey` = the new did:key, claim `proof` = a signed request `accept-key` made with the new key).
/// Earlier keys stay on record with their validity interval.
pub async fn rotate_key(node: &Node, token: &str) -> Result<answers::KeyRotated> {
    let now = node.clock.now();
    let req = super::auth::verify_request(token, "rotate-key", &node.audience(), now, &node.keys)?;
    let new_did = req
        .str("newKey")
        .ok_or_else(|| Error::invalid("signed-request", "newKey missing"))?
        .to_owned();
    let pop = req
        .str("proof")
        .ok_or_else(|| Error::invalid("signed-request", "proof (signed by the new key) missing"))?;
    let accept = super::auth::verify_request(pop, "accept-key", &node.audience(), now, &node.keys)?;
    if accept.signer.as_str() != new_did {
        return Err(Error::invalid(
            "signed-request",
            "the proof is not signed by the new key",
        ));
    }
    rotate(
        node,
        req.signer.as_str().to_owned(),
        new_did,
        token.to_owned(),
        None,
        (req.jti, req.expires_ms),
    )
    .await
}

/// The recovery path for a lost key: a node operator, after checking the enterprise's identity
/// offline, binds a new key (with its proof of possession) to the participant.
pub async fn recover_key(
    node: &Node,
    uscc: String,
    role: Role,
    pop: &str,
    actor: Actor,
) -> Result<answers::KeyRotated> {
    if role == Role::Node {
        return Err(Error::Forbidden(
            "the node's own key is replaced in its data folder, not through recovery".into(),
        ));
    }
    let accept = node.verify_request(pop, "accept-key")?;
    let new_did = accept.signer.as_str().to_owned();
    let u = uscc.clone();
    let old = node
        .store
        .call(move |c| -> Result<String> {
            let p = participants::find(c, &u, role)?.ok_or_else(|| Error::NotFound(format!("no {u}")))?;
            let k = participants::keys(c, p.id)?
                .pop()
                .ok_or_else(|| Error::Internal("no key".into()))?;
            Ok(k.did)
        })
        .await?;
    rotate(
        node,
        old,
        new_did,
        pop.to_owned(),
        Some(actor),
        (accept.jti, accept.expires_ms),
    )
    .await
}

async fn rotate(
    node: &Node,
    old_did: String,
    new_did: String,
    evidence: String,
    actor: Option<Actor>,
    jti: (String, i64),
) -> Result<answers::KeyRotated> {
    DidKey::parse(&new_did).map_err(|e| Error::invalid("invalid-did", e.to_string()))?;
    node.committer
        .run(move |tx| -> Result<answers::KeyRotated> {
            let (p, key) = participants::find_by_did(tx.conn, &old_did)?
                .ok_or_else(|| Error::Unauthenticated(format!("{old_did} is not a registered key")))?;
                        if key.valid_until.is_some() {
                return Err(Error::Conflict("that key was already rotated out".into()));
            }
            if matches!(p.state, ParticipantState::Removed | ParticipantState::Rejected) {
                return Err(Error::Forbidden(format!("{} is {}", p.uscc, p.state)));
            }
            if participants::find_by_did(tx.conn, &new_did)?.is_some() {
                return Err(Error::Conflict(format!("{new_did} already belongs to a participant")));
            }
            tx.consume_jti(&jti.0, &old_did, jti.1)?;
            participants::rotate_key(tx.conn, p.id, &new_did, tx.now())?;
            // Sessions opened with the old key end with it (spec/security.md §3.2).
            crate::storage::sessions::end_all_of(tx.conn, p.id, tx.now())?;
            let actor = actor.unwrap_or(Actor {
                uscc: p.uscc.clone(),
                role: p.role,
                did: Some(old_did.clone()),
            });
            let e = tx.append(participant_entry(
                "key-rotated",
                &p,
                &actor,
                json!({"from": old_did, "to": new_did, "evidenceSha256": crate::crypto::Sha256Digest::of(evidence.as_bytes()).to_hex()}),
            ))?;
            Ok(answers::KeyRotated {
                uscc: p.uscc,
                did: new_did,
                valid_from: format_utc_seconds(from_millis(tx.now())),
                log_index: e.seq,
            })
        })
        .await
}

/// The actions a delegation may allow.
pub const DELEGABLE: [&str; 5] = ["sign-grants", "revoke", "suspend", "resume", "object"];

/// Registers a delegation: an `AgentDelegation` credential (eddsa-jcs-2022) issued by the enterprise's
/// current key, naming the agent's did:key (`credentialSubject.id`), `name`, `uscc` (the
/// enterprise) and `scope` (some of [`DELEGABLE`]), with a validity window.
pub async fn add_delegation(
    node: &Node,
    caller: &Caller,
    credential: &[u8],
) -> Result<answers::DelegationCreated> {
    caller.require(&[Role::Enterprise])?;
    let now = node.clock.now();
    let vc = crate::credential::verify(credential, now)
        .map_err(|e| Error::invalid("delegation", e.to_string()))?;
    if vc.signer.as_str() != caller.assertion.signer.as_str() || !vc.issuer_bound {
        return Err(Error::invalid(
            "delegation",
            "the delegation must be issued and signed by the caller's current key",
        ));
    }
    let doc = serde_json::Value::Object(vc.document);
    let types = crate::credential::vc::string_list(
        crate::crypto::json::Node::from_value(&doc)
            .ok()
            .as_ref()
            .and_then(|n| n.get("type")),
    );
    if !types.iter().any(|t| t == "AgentDelegation") {
        return Err(Error::invalid("delegation", "type must include AgentDelegation"));
    }
    let subject = doc.get("credentialSubject").cloned().unwrap_or_default();
    let agent = subject
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    DidKey::parse(&agent).map_err(|e| Error::invalid("delegation", format!("credentialSubject.id: {e}")))?;
    if subject.get("uscc").and_then(Value::as_str) != Some(caller.uscc()) {
        return Err(Error::invalid(
            "delegation",
            "credentialSubject.uscc must be the enterprise's code",
        ));
    }
    let scope: Vec<String> = subject
        .get("scope")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    if scope.is_empty() || scope.iter().any(|s| !DELEGABLE.contains(&s.as_str())) {
        return Err(Error::invalid(
            "delegation",
            format!("scope must be a non-empty subset of {}", DELEGABLE.join(", ")),
        ));
    }
    let window = |k: &str| {
        doc.get(k)
            .and_then(Value::as_str)
            .and_then(|t| crate::credential::datetime::parse_datetime_stamp(t).ok())
            .map(crate::storage::millis)
    };
    let (Some(from), Some(until)) = (window("validFrom"), window("validUntil")) else {
        return Err(Error::invalid(
            "delegation",
            "validFrom and validUntil are required",
        ));
    };
    let d = Delegation {
        id: doc
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        enterprise_id: caller.participant.id,
        agent_did: agent,
        agent_name: subject
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        scope: serde_json::to_string(&scope).unwrap_or_default(),
        body: String::from_utf8_lossy(credential).into_owned(),
        valid_from: from,
        valid_until: until,
        revoked_at: None,
    };
    crate::ids::GrantId::parse(&d.id).map_err(|_| Error::invalid("delegation", "id must be a urn:uuid"))?;
    let (actor, a, p) = (
        Actor::caller(caller),
        caller.assertion.clone(),
        caller.participant.clone(),
    );
    let stored = d.clone();
    node.committer
        .run(move |tx| -> Result<Vec<String>> {
            tx.consume_assertion(&a)?;
            if participants::delegations_of(tx.conn, stored.enterprise_id)?
                .iter()
                .any(|d| d.id == stored.id)
            {
                return Err(Error::Conflict(format!(
                    "delegation {} is already registered",
                    stored.id
                )));
            }
            participants::insert_delegation(tx.conn, &stored)?;
            tx.append(participant_entry(
                "delegation-added",
                &p,
                &actor,
                json!({"delegation": stored.id, "agent": stored.agent_did, "scope": scope}),
            ))?;
            Ok(scope)
        })
        .await
        .map(|scope| answers::DelegationCreated {
            id: d.id,
            agent: d.agent_did,
            scope,
        })
}

/// Whether `agent_did` held a delegation from `enterprise_id` covering `action` at `at_ms`.
pub fn delegated(
    conn: &mut crate::storage::DbConn,
    agent_did: &str,
    enterprise_id: i64,
    action: &str,
    at_ms: i64,
) -> Result<Option<Delegation>> {
    Ok(participants::delegations_of_agent(conn, agent_did)?
        .into_iter()
        .find(|d| {
            d.enterprise_id == enterprise_id
                && d.valid_from <= at_ms
                && at_ms <= d.valid_until
                && d.revoked_at.is_none_or(|r| r > at_ms)
                && serde_json::from_str::<Vec<String>>(&d.scope).is_ok_and(|s| s.iter().any(|x| x == action))
        }))
}

/// A participant as the registry views show it: code, role, name, state, registering platform,
/// endpoint and every key with its validity interval.
fn view(c: &mut crate::storage::DbConn, p: Participant) -> Result<answers::Participant> {
    let keys = participants::keys(c, p.id)?;
    let regions = if p.role == Role::Platform {
        participants::regions(c, &p.uscc)?
    } else {
        Vec::new()
    };
    Ok(answers::Participant {
        uscc: p.uscc,
        role: p.role,
        name: p.name,
        state: p.state,
        platform: p.platform_uscc,
        endpoint: p.endpoint,
        regions,
        created_at: format_utc_seconds(from_millis(p.created_at)),
        keys: keys
            .into_iter()
            .map(|k| answers::ParticipantKey {
                did: k.did,
                valid_from: format_utc_seconds(from_millis(k.valid_from)),
                valid_until: k.valid_until.map(|u| format_utc_seconds(from_millis(u))),
            })
            .collect(),
    })
}

/// Participants for the registry views.
pub async fn list(
    node: &Node,
    role: Option<String>,
    state: Option<String>,
    platform: Option<String>,
) -> Result<Vec<answers::Participant>> {
    node.store
        .call(move |c| -> Result<Vec<answers::Participant>> {
            let rows = participants::list(c, role.as_deref(), state.as_deref(), platform.as_deref())?;
            rows.into_iter().map(|p| view(c, p)).collect()
        })
        .await
}

/// One participant (by row id, as authenticated) for the registry views, with its keys and the
/// newest identity credential the node issued it (`GET /v1/participants/me`).
pub async fn describe(node: &Node, id: i64) -> Result<answers::Me> {
    node.store
        .call(move |c| -> Result<answers::Me> {
            let p = participants::get(c, id)?.ok_or_else(|| Error::NotFound("no such participant".into()))?;
            let credential = participants::latest_credential(c, id, "identity")?
                .and_then(|s| serde_json::from_str::<Value>(&s).ok());
            Ok(answers::Me {
                participant: view(c, p)?,
                identity_credential: credential,
            })
        })
        .await
}

/// Ensures this service itself is registered in its own database (the node as `node`, a platform as
/// `platform`) with its key; run at start.
pub fn ensure_self(node: &Node, role: Role, uscc: &str, name: &str) -> Result<()> {
    let (uscc, name, did) = (uscc.to_owned(), name.to_owned(), node.did().to_owned());
    let exists = node.store.run(|c| participants::find(c, &uscc, role))?;
    if let Some(p) = exists {
        // After a key rollover (spec/access-log.md §5.5; the database's DID is the key's, checked
        // at start) the node's own registry entry follows its key, with a log entry saying so.
        let keys = node.store.run(|c| participants::keys(c, p.id))?;
        let old = keys
            .iter()
            .find(|k| k.valid_until.is_none())
            .map(|k| k.did.clone());
        if old.as_deref().is_some_and(|o| o != did) {
            node.committer.run_blocking(move |tx| {
                participants::rotate_key(tx.conn, p.id, &did, tx.now())?;
                let actor = Actor {
                    uscc: p.uscc.clone(),
                    role,
                    did: Some(did.clone()),
                };
                tx.append(participant_entry(
                    "key-rotated",
                    &p,
                    &actor,
                    json!({"from": old, "to": did, "reason": "log key rollover (key history)"}),
                ))
                .map(|_| ())
            })?;
        }
        return Ok(());
    }
    node.committer.run_blocking(move |tx| {
        let m = NewMember {
            uscc,
            name,
            did,
            endpoint: None,
            regions: vec![],
            industry: None,
        };
        let actor = Actor {
            uscc: m.uscc.clone(),
            role,
            did: Some(m.did.clone()),
        };
        add_member(tx, &m, role, ParticipantState::Active, None, &actor, None).map(|_| ())
    })
}

/// Records a bank in a platform's own registry (the platform role), inside a log transaction.
pub fn add_bank_locally(
    tx: &mut Tx<'_>,
    m: &NewMember,
    platform: &str,
    actor: &Actor,
) -> Result<answers::BankCreated> {
    check_member(m)?;
    add_member(
        tx,
        m,
        Role::Bank,
        ParticipantState::Active,
        Some(platform),
        actor,
        None,
    )
    .map(bank_created)
}

/// Who holds `did` at the node, for a platform resolving a caller its own registry does not hold
/// (spec/access-log.md §1.1): the participant's code, role and state, the key's validity and
/// whether it is current now. `404` when no participant has the key; `400 invalid-did` when `did`
/// is not a did:key. The caller's authorization (platforms only) is the handler's.
pub async fn key_holder(node: &Node, did: String) -> Result<crate::node::answers::registry::KeyHolder> {
    crate::identity::DidKey::parse(&did).map_err(|e| Error::invalid("invalid-did", format!("did: {e}")))?;
    let now = node.now_ms();
    let found = {
        let did = did.clone();
        node.store
            .call(move |c| participants::find_by_did(c, &did))
            .await?
    };
    let (p, key) = found.ok_or_else(|| Error::NotFound("no participant holds this key".into()))?;
    Ok(crate::node::answers::registry::KeyHolder {
        uscc: p.uscc,
        role: p.role,
        state: p.state,
        did,
        valid_from: format_utc_seconds(from_millis(key.valid_from)),
        valid_until: key.valid_until.map(|u| format_utc_seconds(from_millis(u))),
        current: key.valid_from <= now && key.valid_until.is_none_or(|u| u > now),
    })
}
