//! The grant lifecycle at the node: status slots, submission (verify, bind to the enterprise's key,
//! store the exact bytes), revocation, suspension and resumption by signed request (kept as
//! evidence), and the cascade when a platform is removed.

use serde_json::{Value, json};

use super::answers::grants::{
    Grant, GrantDetail, GrantEvent, GrantStatusChanged, Notice, NoticeList, StatusSlot,
};
use super::answers::{Page, Paged};
use super::registry::{Actor, delegated};
use super::{Caller, Node};
use crate::credential::datetime::format_utc_seconds;
use crate::crypto::Sha256Digest;
use crate::error::{Error, Result};
use crate::grant::{self, GrantAction, GrantState, VerifiedGrant};
use crate::log::entry::{AccessRecord, EntryKind, GrantRef, PartyRef, Reason};
use crate::policy::{ParticipantState, Role};
use crate::status::StatusPurpose;
use crate::storage::grants::{self as store, StoredGrant};
use crate::storage::log_store::{NewEntry, Tx};
use crate::storage::{from_millis, millis, notices, participants, status_lists};

/// The base URL of list pair `n`: `<public>/status/<n>`.
pub fn list_base(node: &Node, n: i64) -> String {
    format!("{}/status/{n}", node.public_url)
}

/// Allocates a status slot for the caller's next grant (an enterprise, or an agent signing for one).
pub async fn allocate_slot(node: &Node, caller: &Caller) -> Result<StatusSlot> {
    caller.require(&[Role::Enterprise])?;
    let (uscc, a) = (caller.uscc().to_owned(), caller.assertion.clone());
    let (list, idx) = node
        .committer
        .run(move |tx| -> Result<(i64, i64)> {
            tx.consume_assertion(&a)?;
            Ok(status_lists::allocate_slot(tx.conn, &uscc, tx.now())?)
        })
        .await?;
    Ok(StatusSlot {
        status_list: list_base(node, list),
        status_index: idx,
    })
}

fn grant_entry(
    kind: EntryKind,
    g: &StoredGrant,
    digest: Sha256Digest,
    actor: &PartyRef,
    detail: Value,
) -> NewEntry {
    NewEntry {
        kind,
        enterprise: Some(g.enterprise_uscc.clone()),
        grant: Some((g.id.clone(), digest)),
        caller: Some(actor.uscc.clone()),
        platform: Some(g.grantee_uscc.clone()),
        bank: None,
        categories: None,
        decision: Some(kind.as_str().to_owned()),
        record: AccessRecord {
            enterprise: Some(g.enterprise_uscc.clone()),
            caller: Some(actor.clone()),
            platform: Some(g.grantee_uscc.clone()),
            grant: Some(GrantRef {
                id: g.id.clone(),
                sha256: g.sha256.clone(),
            }),
            decision: Some(kind.as_str().to_owned()),
            detail: Some(detail),
            ..Default::default()
        },
    }
}

/// Parses `<public>/status/<n>/<purpose>` of this node into `n`.
fn list_number(node: &Node, url: &str, purpose: StatusPurpose) -> Option<i64> {
    let rest = url.strip_prefix(&format!("{}/status/", node.public_url))?;
    let n = rest.strip_suffix(&format!("/{}", purpose.as_str()))?;
    n.parse().ok().filter(|v: &i64| *v > 0 && v.to_string() == n)
}

/// A signed grant verified completely and its status slot read, ready to be stored
/// ([`store_verified`]) in a committer job.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The verified grant.
    pub grant: VerifiedGrant,
    /// The exact bytes (surrounding whitespace trimmed).
    pub body: Vec<u8>,
    /// Its status list number at this node.
    pub slot_list: i64,
    /// Its status index.
    pub slot_index: i64,
    /// When it says it was signed, ms.
    pub signed_ms: i64,
}

/// Verifies a signed grant (either envelope) completely and reads its status slot, which must be
/// at this node's lists (`400 status-slot`).
pub fn prepare(node: &Node, bytes: &[u8]) -> Result<Prepared> {
    let now = node.clock.now();
    let catalog = node.catalog();
    let g = grant::verify::verify_using(bytes, &catalog, &node.keys, now)?;
    let slot_list = list_number(
        node,
        &g.revocation_entry().status_list_credential,
        StatusPurpose::Revocation,
    )
    .filter(|n| {
        Some(*n)
            == list_number(
                node,
                &g.suspension_entry().status_list_credential,
                StatusPurpose::Suspension,
            )
    })
    .ok_or_else(|| {
        Error::invalid(
            "status-slot",
            format!(
                "the status entries must point at this node's lists ({}/status/N/…)",
                node.public_url
            ),
        )
    })?;
    let slot_index: i64 = g
        .revocation_entry()
        .status_list_index
        .parse()
        .map_err(|_| Error::invalid("status-slot", "bad index"))?;
    Ok(Prepared {
        body: crate::credential::trim(bytes).to_vec(),
        signed_ms: millis(g.signed_at().unwrap_or(now)),
        grant: g,
        slot_list,
        slot_index,
    })
}

/// Submits a signed grant (either envelope). The node verifies it completely, checks that the signer
/// is the enterprise's key valid when it signed (or an agent it delegated `sign-grants` to), that the
/// grantee and banks are admitted, and that the status slot was allocated to this enterprise; then
/// stores the exact bytes and logs the submission. Submitting the same bytes again returns the stored
/// grant (and `false`: nothing new was stored).
pub async fn submit(node: &Node, bytes: Vec<u8>) -> Result<(Grant, bool)> {
    let p = prepare(node, &bytes)?;
    let g = p.grant.clone();
    let stored = node.committer.run(move |tx| store_verified(tx, &p, None)).await?;
    // Warm the verified-grant cache: the first release will not verify again.
    node.grants.get_or_verify(g.digest(), || Ok(g.clone()))?;
    Ok(stored)
}

/// Stores a prepared grant inside a committer job: the checks of [`submit`] (same bytes held:
/// returned with `false`; another grant with its id: `409`; enterprise, signer, grantee, banks and
/// slot), the row, its parties, the slot's binding and the `grant-submitted` log entry (whose
/// detail names `consent_request` when the grant answers one). Nothing is written when a check fails.
pub fn store_verified(tx: &mut Tx<'_>, p: &Prepared, consent_request: Option<&str>) -> Result<(Grant, bool)> {
    let (g, body, slot_list, slot_index, signed_ms) =
        (&p.grant, p.body.clone(), p.slot_list, p.slot_index, p.signed_ms);
    if let Some(existing) = store::get(tx.conn, g.id().as_str())? {
        if existing.sha256 == g.digest().to_hex() {
            return Ok((describe(&existing), false));
        }
        return Err(Error::Conflict(format!(
            "another grant with id {} is already held",
            g.id()
        )));
    }
    // The enterprise, and the key that signed.
    let enterprise = participants::find(tx.conn, g.enterprise().as_str(), Role::Enterprise)?
        .ok_or_else(|| Error::Forbidden(format!("enterprise {} is not registered", g.enterprise())))?;
    if enterprise.state != ParticipantState::Active {
        return Err(Error::Forbidden(format!(
            "enterprise {} is {}",
            enterprise.uscc, enterprise.state
        )));
    }
    let signer = g.signer().as_str();
    let delegation_id = match participants::find_by_did(tx.conn, signer)? {
        Some((p, key)) if p.id == enterprise.id => {
            // A new grant must come from the key valid now (a rotated-out key may be the
            // compromised one, and `created` is the signer's word); grants stored before a
            // rotation stay valid. `created` has whole seconds, the key's start milliseconds.
            if key.valid_until.is_some_and(|u| u <= tx.now()) {
                return Err(Error::Forbidden(format!(
                    "{signer} is no longer the enterprise's key; sign with the current key"
                )));
            }
            if key.valid_from / 1000 * 1000 > signed_ms {
                return Err(Error::Forbidden(format!(
                    "{signer} was not yet the enterprise's key when the grant says it was signed"
                )));
            }
            None
        }
        _ => match delegated(tx.conn, signer, enterprise.id, "sign-grants", signed_ms)? {
            Some(d) => Some(d.id),
            None => {
                return Err(Error::Forbidden(format!(
                    "{signer} is neither a key of {} nor an agent it delegated sign-grants to",
                    enterprise.uscc
                )));
            }
        },
    };
    // The grantee and banks.
    let grantee_role = match g.terms().grantee.role {
        grant::model::GranteeRole::Platform => Role::Platform,
        grant::model::GranteeRole::Node => Role::Node,
    };
    let grantee = participants::find(tx.conn, &g.terms().grantee.uscc, grantee_role)?.ok_or_else(|| {
        Error::Forbidden(format!(
            "grantee {} is not an admitted {}",
            g.terms().grantee.uscc,
            grantee_role.as_str()
        ))
    })?;
    if grantee.state != ParticipantState::Active {
        return Err(Error::Forbidden(format!(
            "grantee {} is {}",
            grantee.uscc, grantee.state
        )));
    }
    for r in &g.terms().onward_recipients {
        let bank = participants::find(tx.conn, &r.uscc, Role::Bank)?
            .ok_or_else(|| Error::Forbidden(format!("bank {} is not registered", r.uscc)))?;
        if bank.platform_uscc.as_deref() != Some(grantee.uscc.as_str()) {
            return Err(Error::Forbidden(format!(
                "bank {} is not registered by platform {}",
                r.uscc, grantee.uscc
            )));
        }
    }
    // The status slot.
    match status_lists::slot(tx.conn, slot_list, slot_index)? {
        Some((owner, None)) if owner == enterprise.uscc => {}
        Some((_, Some(used))) => {
            return Err(Error::Conflict(format!(
                "status slot {slot_list}/{slot_index} is used by {used}"
            )));
        }
        _ => {
            return Err(Error::invalid(
                "status-slot",
                format!(
                    "status slot {slot_list}/{slot_index} was not allocated to {}",
                    enterprise.uscc
                ),
            ));
        }
    }
    status_lists::bind_slot(tx.conn, slot_list, slot_index, g.id().as_str())?;
    let mut row = StoredGrant {
        id: g.id().as_str().to_owned(),
        sha256: g.digest().to_hex(),
        body,
        envelope: g.envelope().short_name().to_owned(),
        enterprise_uscc: enterprise.uscc.clone(),
        grantee_uscc: grantee.uscc.clone(),
        signer_did: signer.to_owned(),
        delegation_id,
        status_list: slot_list,
        status_index: slot_index,
        valid_from: millis(g.valid_from()),
        valid_until: millis(g.valid_until()),
        state: GrantState::Active,
        submitted_at: tx.now(),
        submitted_seq: i64::try_from(tx.size()).unwrap_or(i64::MAX),
    };
    let mut parties = vec![
        (enterprise.uscc.clone(), "enterprise"),
        (grantee.uscc.clone(), grantee_role.as_str()),
    ];
    parties.extend(
        g.terms()
            .onward_recipients
            .iter()
            .map(|r| (r.uscc.clone(), "bank")),
    );
    let categories: Vec<&str> = g.terms().categories.iter().map(|c| c.code.as_str()).collect();
    store::insert(tx.conn, &row, &parties, &categories)?;
    let actor = PartyRef {
        uscc: enterprise.uscc.clone(),
        role: "enterprise".into(),
        did: Some(signer.to_owned()),
    };
    let e = tx.append(grant_entry(
        EntryKind::GrantSubmitted,
        &row,
        g.digest(),
        &actor,
        match consent_request {
            Some(r) => json!({"envelope": row.envelope, "consentRequest": r}),
            None => json!({"envelope": row.envelope}),
        },
    ))?;
    row.submitted_seq = i64::try_from(e.seq).unwrap_or(i64::MAX);
    Ok((describe(&row), true))
}

/// The public description of a stored grant.
pub fn describe(g: &StoredGrant) -> Grant {
    Grant {
        id: g.id.clone(),
        sha256: g.sha256.clone(),
        envelope: g.envelope.clone(),
        enterprise: g.enterprise_uscc.clone(),
        grantee: g.grantee_uscc.clone(),
        signer: g.signer_did.clone(),
        delegation: g.delegation_id.clone(),
        state: g.state,
        status_list_number: g.status_list,
        status_list_index: g.status_index,
        valid_from: format_utc_seconds(from_millis(g.valid_from)),
        valid_until: format_utc_seconds(from_millis(g.valid_until)),
        submitted_at: format_utc_seconds(from_millis(g.submitted_at)),
        log_index: g.submitted_seq,
    }
}

/// The verified grant for stored bytes, from the cache or verified now.
pub fn verified(node: &Node, g: &StoredGrant) -> std::result::Result<VerifiedGrant, grant::GrantError> {
    let digest = Sha256Digest::of(&g.body);
    let catalog = node.catalog();
    // Verified at submission time's rules; the policy re-checks the window and status every time.
    node.grants.get_or_verify(digest, || {
        grant::verify::verify_using(
            &g.body,
            &catalog,
            &node.keys,
            from_millis(g.valid_from.max(0)).max(from_millis(g.submitted_at)),
        )
    })
}

/// A status change by signed request: `action` is `revoke`, `suspend` or `resume`; the request's
/// claim `grant` names the grant. The signer must be the enterprise's current key, or an agent it
/// delegated that action to. The request is kept as evidence and the change logged.
pub async fn change_status(node: &Node, action: GrantAction, token: &str) -> Result<GrantStatusChanged> {
    let now = node.clock.now();
    let req = super::auth::verify_request(token, action.as_str(), &node.audience(), now, &node.keys)?;
    let grant_id = req
        .str("grant")
        .ok_or_else(|| Error::invalid("signed-request", "claim grant is missing"))?
        .to_owned();
    let evidence = token.to_owned();
    node.committer
        .run(move |tx| -> Result<GrantStatusChanged> {
            let g = store::get(tx.conn, &grant_id)?
                .ok_or_else(|| Error::NotFound(format!("grant {grant_id}")))?;
            let signer = req.signer.as_str();
            let enterprise = participants::find(tx.conn, &g.enterprise_uscc, Role::Enterprise)?
                .ok_or_else(|| Error::Internal("grant without enterprise".into()))?;
            let own_key = matches!(participants::find_by_did(tx.conn, signer)?,
                Some((p, k)) if p.id == enterprise.id && k.valid_until.is_none());
            if !own_key && delegated(tx.conn, signer, enterprise.id, action.as_str(), tx.now())?.is_none() {
                return Err(Error::Forbidden(format!(
                    "{signer} may not {action} grants of {}",
                    enterprise.uscc
                )));
            }
            tx.consume_assertion(&req)?;
            let Some(new_state) = action.apply(g.state) else {
                return Err(Error::Conflict(format!(
                    "grant {grant_id} is {}; cannot {action}",
                    g.state
                )));
            };
            let kind = match action {
                GrantAction::Revoke => EntryKind::GrantRevoked,
                GrantAction::Suspend => EntryKind::GrantSuspended,
                GrantAction::Resume => EntryKind::GrantResumed,
            };
            if action == GrantAction::Resume {
                let grantee = participants::find(tx.conn, &g.grantee_uscc, Role::Platform)?;
                if grantee.is_some_and(|p| p.state == ParticipantState::Removed) {
                    return Err(Error::Conflict(format!(
                        "grant {grant_id} names platform {} which was removed",
                        g.grantee_uscc
                    )));
                }
            }
            apply_state(tx, &g, kind, new_state)?;
            let actor = PartyRef {
                uscc: enterprise.uscc.clone(),
                role: "enterprise".into(),
                did: Some(signer.to_owned()),
            };
            let digest = Sha256Digest::from_hex(&g.sha256).unwrap_or(Sha256Digest([0; 32]));
            let e = tx.append(grant_entry(
                kind,
                &g,
                digest,
                &actor,
                json!({"requestSha256": Sha256Digest::of(evidence.as_bytes()).to_hex()}),
            ))?;
            store::add_event(
                tx.conn,
                &g.id,
                action.as_str(),
                &format!("{} enterprise {signer}", enterprise.uscc),
                &evidence,
                tx.now(),
                i64::try_from(e.seq).unwrap_or(0),
            )?;
            // Everyone relying on the grant is told in the same transaction (spec/notifications.md).
            let event = super::notify::grant_event(kind)?;
            let data = json!({
                "grant": g.id, "enterprise": g.enterprise_uscc, "grantee": g.grantee_uscc,
                "state": new_state, "previousState": g.state, "action": action.as_str(), "by": signer,
                "logIndex": e.seq,
            });
            let now = tx.now();
            super::notify::grant_changed(
                tx.conn,
                &g.id,
                &g.enterprise_uscc,
                event,
                &data,
                &|role| {
                    Some(super::notify::grant_message(
                        event,
                        &g.id,
                        &g.enterprise_uscc,
                        role,
                        None,
                    ))
                },
                now,
            )?;
            Ok(GrantStatusChanged {
                id: g.id,
                state: new_state,
                log_index: e.seq,
            })
        })
        .await
}

/// Sets the status bits and the state column together.
fn apply_state(tx: &mut Tx<'_>, g: &StoredGrant, kind: EntryKind, new_state: GrantState) -> Result<()> {
    let now = tx.now();
    match kind {
        EntryKind::GrantRevoked => status_lists::set_bit(
            tx.conn,
            g.status_list,
            StatusPurpose::Revocation,
            g.status_index,
            true,
            now,
        )?,
        EntryKind::GrantSuspended => status_lists::set_bit(
            tx.conn,
            g.status_list,
            StatusPurpose::Suspension,
            g.status_index,
            true,
            now,
        )?,
        EntryKind::GrantResumed => status_lists::set_bit(
            tx.conn,
            g.status_list,
            StatusPurpose::Suspension,
            g.status_index,
            false,
            now,
        )?,
        _ => return Err(Error::Internal("not a status change".into())),
    }
    store::set_state(tx.conn, &g.id, new_state)?;
    Ok(())
}

/// Suspends every active grant that names `removed` — a platform as grantee, or a bank as an onward
/// recipient — because it was removed, logging each and telling each enterprise. Runs inside the
/// removal's own transaction. Returns how many were suspended.
pub fn cascade_suspend(tx: &mut Tx<'_>, removed: &str, role: Role, actor: &PartyRef) -> Result<usize> {
    let (reason, member) = if role == Role::Bank {
        ("bank-removed", "bank")
    } else {
        ("platform-removed", "platform")
    };
    let affected = store::naming(tx.conn, removed)?;
    let mut n = 0;
    for g in affected
        .into_iter()
        .filter(|g| g.state == GrantState::Active && (role == Role::Bank || g.grantee_uscc == removed))
    {
        apply_state(tx, &g, EntryKind::GrantSuspended, GrantState::Suspended)?;
        let digest = Sha256Digest::from_hex(&g.sha256).unwrap_or(Sha256Digest([0; 32]));
        let e = tx.append(grant_entry(
            EntryKind::GrantSuspended,
            &g,
            digest,
            actor,
            json!({"cascade": reason, member: removed}),
        ))?;
        store::add_event(
            tx.conn,
            &g.id,
            GrantAction::Suspend.as_str(),
            &format!("node ({reason})"),
            reason,
            tx.now(),
            i64::try_from(e.seq).unwrap_or(0),
        )?;
        // The enterprise, the platform and its banks are told in the same transaction.
        let mut data = json!({
            "grant": g.id, "enterprise": g.enterprise_uscc, "grantee": g.grantee_uscc,
            "state": GrantState::Suspended, "previousState": g.state, "action": GrantAction::Suspend.as_str(),
            "reason": reason, "logIndex": e.seq,
        });
        data[member] = json!(removed);
        let now = tx.now();
        let why = super::notify::Removed { role, uscc: removed };
        super::notify::grant_changed(
            tx.conn,
            &g.id,
            &g.enterprise_uscc,
            super::notify::GRANT_SUSPENDED,
            &data,
            &|who| {
                Some(super::notify::grant_message(
                    super::notify::GRANT_SUSPENDED,
                    &g.id,
                    &g.enterprise_uscc,
                    who,
                    Some(why),
                ))
            },
            now,
        )?;
        n += 1;
    }
    Ok(n)
}

/// The query of `GET /v1/grants` (spec/openapi.yaml `listGrants`), as sent: [`list_for`] checks
/// it after it has checked who is asking.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GrantsQuery {
    /// Only this enterprise's grants (USCC).
    pub enterprise: Option<String>,
    /// Only grants to this platform (the grantee's USCC).
    pub platform: Option<String>,
    /// Only grants naming this bank as an onward recipient (USCC).
    pub bank: Option<String>,
    /// Only grants covering this catalog category.
    pub category: Option<String>,
    /// Only grants in this state: `active`, `suspended` or `revoked`.
    pub state: Option<String>,
    /// Only grants submitted at or after this instant (RFC 3339).
    pub submitted_from: Option<String>,
    /// Only grants submitted at or before this instant (RFC 3339).
    pub submitted_until: Option<String>,
    /// Only grants older than this cursor (the `next` of the previous page: a log index).
    pub after: Option<i64>,
    /// At most this many (1–200, default 50).
    pub limit: Option<i64>,
}

impl GrantsQuery {
    /// The filter this query asks for, each member checked: a USCC's check character, a category
    /// of the catalog, a known state, RFC 3339 instants in order; the first member at fault is
    /// `400 invalid-query`, naming it.
    fn filter(&self, node: &Node) -> Result<store::GrantFilter> {
        let uscc = |name: &str, v: &Option<String>| -> Result<Option<String>> {
            v.as_deref()
                .map(|u| {
                    crate::ids::Uscc::parse(u)
                        .map(|u| u.as_str().to_owned())
                        .map_err(|e| Error::invalid("invalid-query", format!("{name}: {e}")))
                })
                .transpose()
        };
        let instant = |name: &str, v: &Option<String>| -> Result<Option<i64>> {
            v.as_deref()
                .map(|t| {
                    crate::credential::datetime::parse_datetime_stamp(t)
                        .map(millis)
                        .map_err(|e| Error::invalid("invalid-query", format!("{name}: {e}")))
                })
                .transpose()
        };
        let category = match self.category.as_deref() {
            Some(c) if node.catalog().category(c).is_none() => {
                return Err(Error::invalid(
                    "invalid-query",
                    format!("category: {c:?} is not a category of the catalog"),
                ));
            }
            c => c.map(str::to_owned),
        };
        let state = self
            .state
            .as_deref()
            .map(|s| {
                GrantState::parse(s).ok_or_else(|| {
                    Error::invalid(
                        "invalid-query",
                        format!("state: {s:?} is not one of active, suspended, revoked"),
                    )
                })
            })
            .transpose()?;
        let f = store::GrantFilter {
            enterprise: uscc("enterprise", &self.enterprise)?,
            grantee: uscc("platform", &self.platform)?,
            bank: uscc("bank", &self.bank)?,
            naming: None,
            category,
            state,
            submitted_from: instant("submittedFrom", &self.submitted_from)?,
            submitted_until: instant("submittedUntil", &self.submitted_until)?,
        };
        if let (Some(a), Some(b)) = (f.submitted_from, f.submitted_until)
            && a > b
        {
            return Err(Error::invalid(
                "invalid-query",
                "submittedFrom is after submittedUntil",
            ));
        }
        Ok(f)
    }
}

/// Grants visible to a caller, newest first, one page at a time, filtered by `q`: an enterprise
/// sees its own, a platform or bank those naming it (as grantee or onward recipient), a regulator
/// or the node every grant (§12's oversight). A filter outside the caller's own scope answers
/// nothing rather than another participant's grants; an enterprise naming another enterprise is
/// `403`.
pub async fn list_for(node: &Node, caller: &Caller, q: GrantsQuery) -> Result<Paged<Grant>> {
    let limit = Page::limit(q.limit)?;
    let mut f = q.filter(node)?;
    let me = caller.uscc().to_owned();
    match caller.role {
        Role::Enterprise => {
            if f.enterprise.as_ref().is_some_and(|e| *e != me) {
                return Err(Error::Forbidden("an enterprise sees its own grants only".into()));
            }
            f.enterprise = Some(me);
        }
        Role::Platform | Role::Bank => f.naming = Some((me, caller.role)),
        Role::Regulator | Role::Node => {}
        Role::Department => {
            return Err(Error::Forbidden("a providing department sees no grants".into()));
        }
    }
    let before = q.after;
    let rows = node
        .store
        .call(move |c| Ok::<_, Error>(store::search(c, &f, before, limit)?))
        .await?;
    let next = Page::next(limit, &rows, |g| g.submitted_seq);
    Ok(Paged {
        items: rows.iter().map(describe).collect(),
        next,
    })
}

/// Fills in the categories of grants stored before they were kept (migration
/// `2026-12-07-000003_grant_search`), from their signed bytes, in batches; a grant whose bytes no
/// longer verify is left out of category searches and reported. Returns how many were filled.
pub fn backfill_categories(node: &Node) -> Result<usize> {
    let mut after = -1_i64;
    let mut filled = 0;
    loop {
        let batch = node.store.run(|c| store::without_categories(c, after, 500))?;
        let Some(last) = batch.last() else {
            return Ok(filled);
        };
        after = last.submitted_seq;
        let found: Vec<(String, i64, Vec<String>)> = batch
            .iter()
            .filter_map(|g| match verified(node, g) {
                Ok(v) => Some((
                    g.id.clone(),
                    g.submitted_seq,
                    v.terms().categories.iter().map(|c| c.code.clone()).collect(),
                )),
                Err(e) => {
                    tracing::warn!(grant = %g.id, error = %e, "stored grant no longer verifies; not searchable by category");
                    None
                }
            })
            .collect();
        node.store.run(|c| -> crate::storage::StorageResult<()> {
            for (id, seq, cats) in &found {
                let cats: Vec<&str> = cats.iter().map(String::as_str).collect();
                store::add_categories(c, id, *seq, &cats)?;
            }
            Ok(())
        })?;
        filled += found.len();
    }
}

/// One grant, if the caller may see it: its description, the signed credential and its events.
pub async fn get_for(node: &Node, caller: &Caller, id: String) -> Result<GrantDetail> {
    let (role, uscc) = (caller.role, caller.uscc().to_owned());
    node.store
        .call(move |c| -> Result<GrantDetail> {
            let g = store::get(c, &id)?.ok_or_else(|| Error::NotFound(format!("grant {id}")))?;
            let mut named = || -> Result<bool> { Ok(store::naming(c, &uscc)?.iter().any(|x| x.id == g.id)) };
            let visible = match role {
                Role::Enterprise => g.enterprise_uscc == uscc,
                Role::Platform | Role::Bank => named()?,
                Role::Regulator | Role::Node => true,
                Role::Department => false,
            };
            if !visible {
                return Err(Error::NotFound(format!("grant {id}")));
            }
            let events = store::events(c, &g.id)?
                .into_iter()
                .map(|e| GrantEvent {
                    action: e.action,
                    actor: e.actor,
                    evidence: e.evidence,
                    at: format_utc_seconds(from_millis(e.at)),
                    log_index: e.log_seq,
                })
                .collect();
            Ok(GrantDetail {
                grant: describe(&g),
                credential: String::from_utf8_lossy(&g.body).into_owned(),
                events,
            })
        })
        .await
}

/// A refusal reason from a grant verification failure.
pub fn reasons_of(e: &grant::GrantError) -> Vec<Reason> {
    e.reasons()
        .into_iter()
        .map(|(code, message)| Reason { code, message })
        .collect()
}

/// Notices for a participant, newest first.
pub async fn notices_for(node: &Node, caller: &Caller) -> Result<NoticeList> {
    let uscc = caller.uscc().to_owned();
    node.store
        .call(move |c| -> Result<NoticeList> {
            let rows = notices::of_participant(c, &uscc, 200)?;
            Ok(NoticeList {
                notices: rows
                    .into_iter()
                    .map(|n| Notice {
                        body: serde_json::from_str::<Value>(&n.body).unwrap_or(Value::Null),
                        id: n.id,
                        kind: n.kind,
                        at: format_utc_seconds(from_millis(n.created_at)),
                    })
                    .collect(),
            })
        })
        .await
}

/// Actor of a node-initiated change.
pub fn node_actor(actor: &Actor) -> PartyRef {
    PartyRef {
        uscc: actor.uscc.clone(),
        role: actor.role.as_str().to_owned(),
        did: actor.did.clone(),
    }
}
