//! Signed data intake (来源可溯, `spec/intake.md`): a providing department's signed batch, checked
//! whole, written content-addressed in one transaction with one access-log entry; the operator's
//! `consentry admin import` goes the same way as batches signed by the node.
//!
//! Guarantees:
//! * a batch is accepted or refused **whole**: every problem (signer, provider, each bad record with
//!   its index) is answered at once (`422 batch-refused`), and nothing is written;
//! * the signer must be the current key of the submitting participant, an active department bound
//!   to the batch's provider (or the node itself, for any provider);
//! * the same batch again (same batch id) writes nothing and answers the batch as first recorded;
//!   a record already held (same content id among the current records of its enterprise, category
//!   and date) is not written again; a changed record is a new version, the old row kept and marked
//!   superseded by the batch;
//! * each accepted batch appends exactly one `data-intake` entry (digest, provider, submitter,
//!   counts; the entry's time is the log's), and each written record carries its batch id.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::answers::intake::IntakeBatch;
use super::answers::{Page, PageQuery, Paged};
use super::{Caller, Node};
use crate::crypto::Sha256Digest;
use crate::error::{Error, Result};
use crate::intake::{self, CheckedBatch, Problem};
use crate::log::entry::{AccessRecord, EntryKind, PartyRef};
use crate::policy::{ParticipantState, Role};
use crate::storage::data::{self as records, NewRecord};
use crate::storage::intake as store;
use crate::storage::log_store::{NewEntry, Tx};
use crate::storage::{industries, participants};

/// How old a batch statement may be when it arrives, seconds.
pub const MAX_AGE_SECS: i64 = 600;

/// The body of `POST /v1/intake/batches`: the department's signed statement (compact JWS,
/// `typ: consentry-request+jwt`, `action: submit-batch`, the batch in claim `batch`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitBody {
    /// The signed statement.
    pub statement: String,
}

/// Who submits a batch, as the transaction checks it.
#[derive(Debug, Clone)]
struct Submitter {
    participant_id: i64,
    role: Role,
}

/// What the transaction decided.
enum Recorded {
    New(store::Batch),
    Held(store::Batch),
}

fn view(b: store::Batch, resubmitted: bool) -> Result<IntakeBatch> {
    Ok(IntakeBatch {
        submitter_role: Role::parse(&b.submitter_role)
            .ok_or_else(|| Error::Internal(format!("stored role {:?}", b.submitter_role)))?,
        received_at: crate::calendar::format_cst(crate::storage::from_millis(b.received_at)),
        batch: b.batch_id,
        provider: b.provider,
        submitter: b.submitter_uscc,
        signer: b.signer_did,
        reference: b.reference,
        records: b.records,
        new_records: b.new_records,
        new_versions: b.new_versions,
        already_held: b.already_held,
        log_index: b.log_index,
        resubmitted,
    })
}

/// Reads the statement: signature and freshness (`400 signed-request` when they fail), then the
/// batch document checked against the catalog (its problems returned, not raised).
fn read(
    node: &Node,
    token: &str,
    max_records: usize,
) -> Result<(
    crate::node::auth::SignedRequest,
    Value,
    Vec<Problem>,
    Option<CheckedBatch>,
)> {
    let req = super::auth::verify_statement(
        token,
        intake::ACTION,
        &node.audience(),
        node.clock.now(),
        &node.keys,
        MAX_AGE_SECS,
    )?;
    let doc = req
        .claims
        .get(intake::CLAIM)
        .cloned()
        .ok_or_else(|| Error::invalid("signed-request", "claim batch is missing"))?;
    let catalog = node.catalog();
    let (problems, checked) =
        match intake::check_with_limit(&doc, &catalog, node.industries.as_deref(), max_records) {
            Ok(b) => (vec![], Some(b)),
            Err(p) => (p, None),
        };
    Ok((req, doc, problems, checked))
}

/// `POST /v1/intake/batches`: a department (or the node's operator) submits a signed batch.
/// Returns the batch and whether it is new (`false`: the node already held this batch; nothing
/// was written).
pub async fn submit(node: &Node, caller: &Caller, body: SubmitBody) -> Result<IntakeBatch> {
    caller.require(&[Role::Department, Role::Node])?;
    let token = body.statement;
    let (req, doc, problems, checked) = read(node, &token, intake::MAX_RECORDS)?;
    let stated_provider = doc
        .get("provider")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let submitter = Submitter {
        participant_id: caller.participant.id,
        role: caller.role,
    };
    let a = caller.assertion.clone();
    let recorded = node
        .committer
        .run(move |tx| -> Result<Recorded> {
            let mut all = signer_problems(tx, &submitter, req.signer.as_str(), &stated_provider)?;
            all.extend(problems);
            let batch = match checked {
                Some(b) if all.is_empty() => b,
                _ => return Err(Error::Batch(all)),
            };
            tx.consume_assertion(&a)?;
            record(tx, &batch, req.signer.as_str(), &token)
        })
        .await?;
    match recorded {
        Recorded::New(b) => view(b, false),
        Recorded::Held(b) => view(b, true),
    }
}

/// The problems of the signer: it must be the submitting participant's current key, the
/// participant active, and (for a department) bound to the batch's provider.
fn signer_problems(tx: &mut Tx<'_>, who: &Submitter, signer: &str, provider: &str) -> Result<Vec<Problem>> {
    let mut out = Vec::new();
    let me = participants::get(tx.conn, who.participant_id)?
        .ok_or_else(|| Error::Internal("the submitter vanished".into()))?;
    let current = participants::keys(tx.conn, me.id)?
        .into_iter()
        .any(|k| k.did == signer && k.valid_until.is_none());
    if !current {
        out.push(Problem::batch(
            "wrong-signer",
            format!(
                "the batch is signed by {signer}, which is not the current key of {} {}",
                me.role.as_str(),
                me.uscc
            ),
        ));
    }
    if me.state != ParticipantState::Active {
        out.push(Problem::batch(
            "submitter-not-admitted",
            format!("{} is {}", me.uscc, me.state),
        ));
    }
    if who.role == Role::Department {
        match store::provider_of(tx.conn, me.id)? {
            Some(p) if p == provider => {}
            Some(p) => out.push(Problem::batch(
                "provider-not-yours",
                format!("{} submits for {p}, not {provider:?}", me.uscc),
            )),
            None => out.push(Problem::batch(
                "provider-not-yours",
                format!("{} is bound to no provider", me.uscc),
            )),
        }
    }
    Ok(out)
}

/// Writes a checked batch in the caller's transaction (see the module's guarantees).
fn record(tx: &mut Tx<'_>, batch: &CheckedBatch, signer: &str, token: &str) -> Result<Recorded> {
    if let Some(b) = store::find(tx.conn, &batch.id)? {
        return Ok(Recorded::Held(b));
    }
    let (submitter, key) = participants::find_by_did(tx.conn, signer)?
        .ok_or_else(|| Error::Internal(format!("signer {signer} vanished")))?;
    let now = tx.now();
    // Group the batch's records by (enterprise, category, date), in batch order.
    let mut keys: BTreeMap<(&str, &str, &str), Vec<&intake::Record>> = BTreeMap::new();
    for r in &batch.records {
        keys.entry((r.uscc.as_str(), r.category.as_str(), r.date.as_str()))
            .or_default()
            .push(r);
    }
    let (mut new_records, mut new_versions, mut held) = (0i64, 0i64, 0i64);
    let mut rows: Vec<NewRecord> = Vec::new();
    let mut superseded: Vec<i64> = Vec::new();
    for ((uscc, category, date), given) in &keys {
        let current = records::current_of_key(tx.conn, uscc, category, date)?;
        let mut current_ids: Vec<(i64, String)> = Vec::with_capacity(current.len());
        for row in &current {
            let id = match &row.content_id {
                Some(id) => id.clone(),
                None => {
                    // A record held from before signed intake: its content id, computed once.
                    let id = intake::content_id_of_text(uscc, category, date, &row.body).unwrap_or_default();
                    records::set_content_id(tx.conn, row.id, &id)?;
                    id
                }
            };
            current_ids.push((row.id, id));
        }
        let mut seen: Vec<&str> = Vec::new();
        let mut fresh: Vec<&intake::Record> = Vec::new();
        for r in given {
            if seen.contains(&r.content_id.as_str()) || current_ids.iter().any(|(_, c)| *c == r.content_id) {
                held += 1;
            } else {
                fresh.push(r);
            }
            seen.push(&r.content_id);
        }
        if fresh.is_empty() {
            continue;
        }
        let version = records::last_version(tx.conn, uscc, category, date)? + 1;
        if current.is_empty() {
            new_records += i64::try_from(fresh.len()).unwrap_or(i64::MAX);
        } else {
            new_versions += i64::try_from(fresh.len()).unwrap_or(i64::MAX);
            // The batch's records are now the key's current set: the held rows it does not repeat
            // are superseded (kept, pointing at the batch).
            superseded.extend(
                current_ids
                    .iter()
                    .filter(|(_, c)| !seen.contains(&c.as_str()))
                    .map(|(id, _)| *id),
            );
        }
        for r in fresh {
            rows.push(NewRecord {
                uscc: r.uscc.clone(),
                category: r.category.clone(),
                record_date: r.date.clone(),
                body: Value::Object(r.fields.clone()).to_string(),
                provider: batch.provider.clone(),
                imported_at: now,
                content_id: Some(r.content_id.clone()),
                batch_id: Some(batch.id.clone()),
                version,
            });
        }
    }
    records::insert(tx.conn, &rows)?;
    if !superseded.is_empty() {
        records::supersede(tx.conn, &superseded, &batch.id, now)?;
    }
    // The industries the department states (its word replaces what was stored).
    let mut stated: BTreeMap<&str, &str> = BTreeMap::new();
    for r in &batch.records {
        if let Some(i) = &r.industry {
            stated.insert(&r.uscc, i.as_str());
        }
    }
    for (uscc, i) in stated {
        industries::set(tx.conn, uscc, i, industries::Source::Import, now)?;
    }
    let count = i64::try_from(batch.records.len()).unwrap_or(i64::MAX);
    let mut categories: Vec<&str> = batch.records.iter().map(|r| r.category.as_str()).collect();
    categories.sort_unstable();
    categories.dedup();
    let statement_sha256 = Sha256Digest::of(token.as_bytes()).to_hex();
    let detail = json!({
        "batch": batch.id,
        "provider": batch.provider,
        "submitter": submitter.uscc,
        "reference": batch.reference,
        "records": count,
        "newRecords": new_records,
        "newVersions": new_versions,
        "alreadyHeld": held,
        "supersededRecords": superseded.len(),
        "categories": categories,
        "statementSha256": statement_sha256,
    });
    let appended = tx.append(NewEntry {
        kind: EntryKind::DataIntake,
        enterprise: None,
        grant: None,
        caller: Some(submitter.uscc.clone()),
        platform: None,
        bank: None,
        categories: Some(categories.join(",")),
        decision: Some("accepted".into()),
        record: AccessRecord {
            caller: Some(PartyRef {
                uscc: submitter.uscc.clone(),
                role: submitter.role.as_str().into(),
                did: Some(key.did.clone()),
            }),
            decision: Some("accepted".into()),
            request_id: Some(batch.id.clone()),
            data_sha256: Some(batch.id.clone()),
            detail: Some(detail),
            ..Default::default()
        },
    })?;
    let log_index =
        i64::try_from(appended.seq).map_err(|_| Error::Internal("log index beyond i64".into()))?;
    let row = store::NewBatch {
        batch_id: &batch.id,
        provider: &batch.provider,
        submitter_uscc: &submitter.uscc,
        submitter_role: submitter.role.as_str(),
        signer_did: &key.did,
        reference: batch.reference.as_deref(),
        records: count,
        new_records,
        new_versions,
        already_held: held,
        evidence: token,
        log_index,
        received_at: now,
    };
    store::insert(tx.conn, &row)?;
    let stored = store::find(tx.conn, &batch.id)?
        .ok_or_else(|| Error::Internal("the batch just stored is missing".into()))?;
    Ok(Recorded::New(stored))
}

/// The operator's import (`consentry admin import`): the file's records, one batch per provider
/// (in the order the providers first appear), each signed with the node's key and recorded as a
/// department's batch is. Returns the batches (a batch the node already held comes back with
/// `resubmitted: true`, nothing written). Blocking: call it outside an async runtime (the CLI, a
/// test's thread).
pub fn import_as_node(node: &Node, file: &super::data::Import) -> Result<Vec<IntakeBatch>> {
    let mut order: Vec<&str> = Vec::new();
    for r in &file.records {
        if !order.contains(&r.provider.as_str()) {
            order.push(&r.provider);
        }
    }
    let mut out = Vec::new();
    for provider in order {
        let rows: Vec<Value> = file
            .records
            .iter()
            .filter(|r| r.provider == provider)
            .map(|r| {
                let fields: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
                let mut v =
                    json!({"uscc": r.uscc, "category": r.category, "date": r.record_date, "fields": fields});
                if let Some(i) = file.industries.get(&r.uscc) {
                    v["industry"] = json!(i.as_str());
                }
                v
            })
            .collect();
        let doc = json!({"provider": provider, "records": rows});
        let statement = super::auth::make_request(
            &node.key,
            node.did(),
            intake::ACTION,
            json!({ intake::CLAIM: doc }),
            node.clock.now(),
        )?;
        let (req, _, problems, checked) = read(node, &statement, usize::MAX)?;
        let batch = match checked {
            Some(b) if problems.is_empty() => b,
            _ => return Err(Error::Batch(problems)),
        };
        let me = node
            .store
            .run(|c| participants::find_by_did(c, node.did()))?
            .ok_or_else(|| Error::Internal("the node is not in its own registry (start it once)".into()))?;
        let submitter = Submitter {
            participant_id: me.0.id,
            role: Role::Node,
        };
        let recorded = node.committer.run_blocking(move |tx| -> Result<Recorded> {
            let p = signer_problems(tx, &submitter, req.signer.as_str(), &batch.provider)?;
            if !p.is_empty() {
                return Err(Error::Batch(p));
            }
            record(tx, &batch, req.signer.as_str(), &statement)
        })?;
        out.push(match recorded {
            Recorded::New(b) => view(b, false)?,
            Recorded::Held(b) => view(b, true)?,
        });
    }
    Ok(out)
}

/// `GET /v1/intake/batches`: a department its own batches; the node's operators and regulators
/// every batch; in receipt order, paged by `after`/`limit`.
pub async fn list(node: &Node, caller: &Caller, q: PageQuery) -> Result<Paged<IntakeBatch>> {
    caller.require(&[Role::Department, Role::Node, Role::Regulator])?;
    let page = q.page()?;
    let only = (caller.role == Role::Department).then(|| caller.uscc().to_owned());
    let rows = node
        .store
        .call(move |c| store::list(c, only.as_deref(), page.after, page.limit).map_err(Error::from))
        .await?;
    let next = Page::next(page.limit, &rows, |b| b.id);
    let items = rows
        .into_iter()
        .map(|b| view(b, false))
        .collect::<Result<Vec<_>>>()?;
    Ok(Paged { items, next })
}

/// `GET /v1/intake/batches/{id}`: one batch; a department sees only its own (another's is
/// `404`, as if unknown).
pub async fn get(node: &Node, caller: &Caller, id: String) -> Result<IntakeBatch> {
    caller.require(&[Role::Department, Role::Node, Role::Regulator])?;
    let b = node
        .store
        .call(move |c| store::find(c, &id).map_err(Error::from))
        .await?
        .filter(|b| caller.role != Role::Department || b.submitter_uscc == caller.uscc())
        .ok_or_else(|| Error::NotFound("no such batch".into()))?;
    view(b, false)
}
