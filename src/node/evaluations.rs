//! Credit evaluations (`spec/evaluation.md`; issue #11 §4–5): a platform asks the node to evaluate
//! an enterprise under the enterprise's grant; the node releases the derived inputs to itself as a
//! release with purpose `financing-credit-evaluation` ([`super::release::release_request`]),
//! applies the model, and issues the result as a `CreditEvaluation` credential signed with its own
//! key, with a status entry that withdraws it. The access-log entry's data digest covers the inputs
//! and the signed credential; the evaluation row is written in the same transaction.
//!
//! 1. [`evaluate`]: read the body, load the model (the built-in one, or the platform's own
//!    document, checked), choose the model's input categories the grant covers, run the release.
//! 2. [`finish`] (inside the release, after the decision and the fetch): evaluate, allocate a
//!    status slot, build and sign the credential.
//! 3. [`view`]: the evaluation and its state, to the platform that asked, the enterprise, a
//!    regulator or the node.
//! 4. [`withdraw`]: the platform that asked (or the node) sets the status bit, in a log entry.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::answers::grants::{EvaluationModelRef, EvaluationView, ReleaseAnswer};
use super::release::{ReleaseBody, release_request};
use super::{Caller, Node};
use crate::credential::data_integrity;
use crate::crypto::{Sha256Digest, jcs};
use crate::error::{Error, Result};
use crate::evaluation::{self, EvaluationState, Issue, Model};
use crate::grant::{Granularity, VerifiedGrant};
use crate::log::entry::{AccessRecord, EntryKind, PartyRef};
use crate::policy::Role;
use crate::status::{StatusEntry, StatusPurpose};
use crate::storage::evaluations::{self as store, StoredEvaluation};
use crate::storage::log_store::NewEntry;
use crate::storage::{from_millis, millis, status_lists};

/// The purpose every evaluation is released under.
pub const EVALUATION_PURPOSE: &str = "financing-credit-evaluation";

/// The body of `POST /v1/evaluations`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EvaluationBody {
    /// The enterprise to evaluate.
    pub enterprise: String,
    /// The enterprise's grant to the caller, naming the evaluation purpose.
    pub grant: String,
    /// The caller's own model document (`spec/evaluation.md` §2); the built-in model if absent.
    #[serde(default)]
    pub model: Option<Value>,
    /// The caller's request id.
    #[serde(default)]
    pub request_id: Option<String>,
    /// The bank the platform asks for, if any: it must be an onward recipient of the grant; the
    /// credential's key indicators then carry values only of the categories the grant gives that
    /// bank (the others are `null`; points and score are unchanged), and the log names the bank.
    #[serde(default)]
    pub for_bank: Option<String>,
}

/// What an evaluation adds to a release.
#[derive(Debug, Clone)]
pub struct EvaluationJob {
    model: Model,
    model_sha256: String,
    /// The bank the evaluation is for (spec/evaluation.md §4).
    pub(crate) for_bank: Option<String>,
}

fn model_digest(model: &Model) -> Result<String> {
    let v = serde_json::to_value(model).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(Sha256Digest::of(&jcs::canonicalize(&v).map_err(|e| Error::Internal(e.to_string()))?).to_hex())
}

/// Step 1: handles `POST /v1/evaluations` from a platform (or the node itself).
pub async fn evaluate(node: &Node, caller: &Caller, body: &[u8]) -> Result<ReleaseAnswer> {
    caller.require(&[Role::Platform, Role::Node])?;
    let node_json =
        crate::crypto::json::parse(body).map_err(|e| Error::invalid("malformed-json", e.to_string()))?;
    let b: EvaluationBody = crate::crypto::json::de::from_node(&node_json)
        .map_err(|e| Error::invalid("invalid-body", e.to_string()))?;
    let catalog = node.catalog();
    let model = match &b.model {
        None => Model::builtin(&catalog),
        // A caller's own model may not pass for the built-in one: same id, then the same document.
        Some(doc) => Model::own(&doc.to_string(), &catalog),
    }
    .map_err(|e| Error::invalid("invalid-evaluation-model", e.to_string()))?;
    // The model's inputs the grant covers; the rest score their "missing" points. When the grant
    // cannot be read, ask for all of them and let the release refuse, with its reasons logged.
    let grant = {
        let id = b.grant.clone();
        let row = node
            .store
            .call(move |c| crate::storage::grants::get(c, &id))
            .await?;
        row.and_then(|r| super::grants::verified(node, &r).ok())
    };
    // The inputs are derived with the forms of the catalog version the grant cites: the model must
    // name indicators of that version.
    if let Some(g) = &grant {
        let cited = g.terms().catalog_version.as_deref();
        let used = catalog
            .derivations()
            .set_for(cited)
            .map(|set| set.catalog_version.as_str());
        if used != Some(model.catalog_version.as_str()) {
            return Err(Error::invalid(
                "invalid-evaluation-model",
                format!(
                    "the model reads catalog {} but the grant's releases use catalog {}",
                    model.catalog_version,
                    used.unwrap_or("(unknown)")
                ),
            ));
        }
    }
    if let (Some(bank), Some(g)) = (&b.for_bank, &grant) {
        if g.terms().onward_recipient(bank).is_none() {
            return Err(Error::Forbidden(format!(
                "grant {} does not name bank {bank}",
                g.id()
            )));
        }
    }
    let granted: Option<Vec<String>> =
        grant.map(|g| g.terms().categories.iter().map(|c| c.code.clone()).collect());
    let wanted = model.categories();
    let categories = match granted {
        Some(g) if wanted.iter().any(|c| g.contains(c)) => {
            wanted.into_iter().filter(|c| g.contains(c)).collect()
        }
        _ => wanted,
    };
    let job = EvaluationJob {
        model_sha256: model_digest(&model)?,
        model,
        for_bank: b.for_bank,
    };
    let req = ReleaseBody {
        enterprise: b.enterprise,
        grant: Some(b.grant),
        categories,
        granularity: Granularity::Derived,
        purpose: EVALUATION_PURPOSE.to_owned(),
        on_behalf_of: None,
        request_id: b.request_id,
    };
    release_request(node, caller, req, Some(job)).await
}

/// Step 2: turns the derived inputs of an allowed release into the released evaluation: the
/// inputs and the signed credential, and the row to store with the release.
pub(crate) async fn finish(
    node: &Node,
    caller: &Caller,
    job: EvaluationJob,
    grant: Option<&VerifiedGrant>,
    inputs: Map<String, Value>,
    now: OffsetDateTime,
) -> Result<(Value, StoredEvaluation)> {
    let grant = grant.ok_or_else(|| Error::Internal("an evaluation is released under a grant".into()))?;
    let enterprise = grant.terms().enterprise.clone();
    let by_category: BTreeMap<String, Value> = inputs.clone().into_iter().collect();
    let mut result = evaluation::evaluate(&job.model, &by_category);
    // For a bank: only the inputs the grant gives that bank are shown, as the bank may receive them.
    if let Some(bank) = &job.for_bank {
        let allowed: Vec<&str> = grant
            .terms()
            .onward_recipient(bank)
            .map(|r| r.categories.iter().map(|c| c.code.as_str()).collect())
            .unwrap_or_default();
        for (k, i) in result.key_indicators.iter_mut().zip(&job.model.indicators) {
            if !allowed.contains(&i.input.category.as_str()) {
                k.value = Value::Null;
            }
        }
    }
    let inputs = Value::Object(inputs);
    let inputs_sha256 =
        Sha256Digest::of(&jcs::canonicalize(&inputs).map_err(|e| Error::Internal(e.to_string()))?).to_hex();
    // The slot is taken through the committer, the one writer of the status lists, as a grant's is;
    // a release refused at commit time leaves it allocated and unbound, like a slot a grant never
    // used (it holds no bit and names no credential).
    let (list, index) = {
        let uscc = enterprise.uscc.clone();
        node.committer
            .run(move |tx| -> Result<(i64, i64)> {
                Ok(status_lists::allocate_slot(tx.conn, &uscc, tx.now())?)
            })
            .await?
    };
    let index_u64 = u64::try_from(index).map_err(|_| Error::Internal(format!("negative index {index}")))?;
    let status = StatusEntry::new(
        StatusPurpose::Revocation,
        &format!("{}/revocation", super::grants::list_base(node, list)),
        index_u64,
    );
    let id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
    let evaluated_on = now.to_offset(time::macros::offset!(+8)).date();
    let unsigned = evaluation::credential(
        &job.model,
        &result,
        &Issue {
            id: &id,
            issuer: node.did(),
            enterprise_uscc: &enterprise.uscc,
            enterprise_name: &enterprise.name,
            evaluated_at: now,
            evaluated_on,
            inputs_sha256: &inputs_sha256,
            model_sha256: &job.model_sha256,
            status: Some(status),
        },
    );
    let signed = data_integrity::create_proof(&unsigned, &node.key, now)
        .map_err(|e| Error::Internal(e.to_string()))?;
    let valid_until = now + time::Duration::days(i64::from(job.model.validity_days));
    let row = StoredEvaluation {
        id,
        enterprise_uscc: enterprise.uscc,
        requested_by: caller.uscc().to_owned(),
        grant_id: grant.id().as_str().to_owned(),
        model_id: job.model.model_id.clone(),
        model_version: i64::from(job.model.version),
        grade: result.grade,
        score: i64::from(result.score),
        status_list: list,
        status_index: index,
        issued_at: millis(now),
        valid_until: millis(valid_until),
        withdrawn_at: None,
        log_index: 0,
        credential: signed.to_string(),
    };
    Ok((json!({"inputs": inputs, "evaluation": signed}), row))
}

/// The public view of a stored evaluation.
pub fn describe(e: &StoredEvaluation, now_ms: i64) -> EvaluationView {
    use crate::credential::datetime::format_utc_seconds;
    EvaluationView {
        id: e.id.clone(),
        enterprise: e.enterprise_uscc.clone(),
        requested_by: e.requested_by.clone(),
        grant: e.grant_id.clone(),
        model: EvaluationModelRef {
            id: e.model_id.clone(),
            version: e.model_version,
        },
        grade: e.grade.clone(),
        score: e.score,
        state: EvaluationState::at(e.withdrawn_at.is_some(), e.valid_until, now_ms),
        issued_at: format_utc_seconds(from_millis(e.issued_at)),
        valid_until: format_utc_seconds(from_millis(e.valid_until)),
        withdrawn_at: e.withdrawn_at.map(|t| format_utc_seconds(from_millis(t))),
        log_index: e.log_index,
        credential: serde_json::from_str(&e.credential).unwrap_or(Value::Null),
    }
}

/// Whether `caller` may see or act on `e`: the platform that asked, the node; for viewing also the
/// enterprise itself and regulators.
fn may(caller: &Caller, e: &StoredEvaluation, viewing: bool) -> bool {
    match caller.role {
        Role::Node => true,
        Role::Platform => caller.uscc() == e.requested_by,
        Role::Enterprise => viewing && caller.uscc() == e.enterprise_uscc,
        Role::Regulator => viewing,
        _ => false,
    }
}

/// Step 3: `GET /v1/evaluations/{id}`.
pub async fn view(node: &Node, caller: &Caller, id: &str) -> Result<EvaluationView> {
    caller.require(&[Role::Platform, Role::Node, Role::Enterprise, Role::Regulator])?;
    let key = id.to_owned();
    let row = node.store.call(move |c| store::get(c, &key)).await?;
    match row {
        // Someone else's evaluation answers as an unknown one: its existence is not disclosed.
        Some(e) if may(caller, &e, true) => Ok(describe(&e, node.now_ms())),
        _ => Err(Error::NotFound(format!("evaluation {id}"))),
    }
}

/// Step 4: `POST /v1/evaluations/{id}/withdraw`. Withdrawing a withdrawn evaluation changes
/// nothing and answers its state.
pub async fn withdraw(node: &Node, caller: &Caller, id: &str) -> Result<EvaluationView> {
    caller.require(&[Role::Platform, Role::Node])?;
    let key = id.to_owned();
    let row = node.store.call(move |c| store::get(c, &key)).await?;
    let Some(e) = row.filter(|e| may(caller, e, false)) else {
        return Err(Error::NotFound(format!("evaluation {id}")));
    };
    if e.withdrawn_at.is_some() {
        caller.consume(node).await?;
        return Ok(describe(&e, node.now_ms()));
    }
    let (c, a) = (caller.clone(), caller.assertion.clone());
    let ev = e.clone();
    node.committer
        .run(move |tx| -> Result<()> {
            tx.consume_assertion(&a)?;
            let now = tx.now();
            // Re-read under the log lock: two withdrawals race to one entry.
            if store::get(tx.conn, &ev.id)?.is_some_and(|x| x.withdrawn_at.is_some()) {
                return Ok(());
            }
            status_lists::set_bit(
                tx.conn,
                ev.status_list,
                StatusPurpose::Revocation,
                ev.status_index,
                true,
                now,
            )?;
            store::mark_withdrawn(tx.conn, &ev.id, now)?;
            tx.append(NewEntry {
                kind: EntryKind::EvaluationWithdrawn,
                enterprise: Some(ev.enterprise_uscc.clone()),
                grant: None,
                caller: Some(c.uscc().to_owned()),
                platform: (c.role == Role::Platform).then(|| c.uscc().to_owned()),
                bank: None,
                categories: None,
                decision: Some("evaluation-withdrawn".into()),
                record: AccessRecord {
                    enterprise: Some(ev.enterprise_uscc.clone()),
                    caller: Some(PartyRef {
                        uscc: c.uscc().to_owned(),
                        role: c.role.as_str().to_owned(),
                        did: Some(c.assertion.signer.as_str().to_owned()),
                    }),
                    decision: Some("evaluation-withdrawn".into()),
                    detail: Some(json!({"evaluation": ev.id, "issuedIn": ev.log_index})),
                    ..Default::default()
                },
            })?;
            Ok(())
        })
        .await?;
    let key = id.to_owned();
    let now_row = node.store.call(move |c| store::get(c, &key)).await?;
    now_row
        .map(|e| describe(&e, node.now_ms()))
        .ok_or_else(|| Error::NotFound(format!("evaluation {id}")))
}
