//! Per-request authorization and release (issue #3 §5), as named steps:
//!
//! 1. **Read** ([`release`], `subject_of`, `input_problems`): the body (after authentication,
//!    so that a malformed request from a known caller is still recorded as a refusal) and what it
//!    asks, kept for the log.
//! 2. **Gather** (`gather`): the bank it acts for, the grant (verified, from the cache by
//!    digest), its status and usage now.
//! 3. **Decide** (`decide`, [`crate::policy::decide`]): every reason at once. Refused: one job in
//!    the group commit records the refusal.
//! 4. **Fetch** (`fetch`): derived forms or (masked) raw records, clipped to the relied-on grant's
//!    data period.
//! 5. **Evaluate** (credit evaluations only, `evaluations::finish`): the model applied and
//!    the credential signed.
//! 6. **Commit**: one job re-checks status, usage and admission under the log lock — the order of
//!    the log is the order of truth, so a release can never be logged after the revocation it
//!    ignored — counts the use and appends the release (and stores an evaluation).
//! 7. **Answer**: the data is returned only after that commit, with its digest and a receipt.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::answers::grants::ReleaseAnswer;
use super::{Caller, Node};
use crate::crypto::{Sha256Digest, jcs};
use crate::error::{Error, Result};
use crate::grant::{GrantState, Granularity, VerifiedGrant};
use crate::ids::{GrantId, Uscc};
use crate::log::entry::{AccessRecord, CategoryRef, EntryKind, GrantRef, PartyRef, Reason};
use crate::policy::{
    self, BankFacts, CallerFacts, Decision, Facts, GrantStatus, ParticipantState, ReleaseRequest, Role,
};
use crate::storage::grants::{self as store, StoredGrant};
use crate::storage::log_store::{Appended, NewEntry};
use crate::storage::participants;

/// The body of `POST /v1/releases`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReleaseBody {
    /// The enterprise whose data is asked for.
    pub enterprise: String,
    /// The grant relied on (needed for non-public categories).
    #[serde(default)]
    pub grant: Option<String>,
    /// Category codes.
    pub categories: Vec<String>,
    /// `raw` or `derived`.
    pub granularity: Granularity,
    /// A financing purpose.
    pub purpose: String,
    /// The bank the platform asks for, if any.
    #[serde(default)]
    pub on_behalf_of: Option<String>,
    /// The caller's request id (echoed and logged); one is made if absent.
    #[serde(default)]
    pub request_id: Option<String>,
}

/// The first day of the records released without a grant (public data): before any record.
const OPEN_FROM: &str = "1900-01-01";
/// The last day of the records released without a grant.
const OPEN_UNTIL: &str = "9999-12-31";

/// The outcome the commit job reports.
#[derive(Debug)]
enum Outcome {
    Released {
        seq: u64,
        leaf_hash: String,
        time_ms: u64,
    },
    Refused {
        seq: u64,
        reasons: Vec<Reason>,
    },
}

fn reason(code: &str, message: impl Into<String>) -> Reason {
    Reason {
        code: code.to_owned(),
        message: message.into(),
    }
}

/// What a release request is, for the log, even when it is refused.
struct Subject {
    enterprise: Option<String>,
    grant: Option<(String, Sha256Digest)>,
    categories: Vec<CategoryRef>,
    granularity: Option<Granularity>,
    purpose: Option<String>,
    bank: Option<String>,
    request_id: String,
    /// The intake batches the released records came in (sorted, deduplicated; spec/intake.md §7).
    batches: Vec<String>,
    /// The ids of the data records the release carried (sorted, deduplicated): who received a
    /// record is known exactly when it is corrected (spec/objections.md §7.1).
    records: Vec<i64>,
}

fn entry(
    kind: EntryKind,
    caller: &Caller,
    s: &Subject,
    reasons: Vec<Reason>,
    data_sha256: Option<String>,
) -> NewEntry {
    let codes: Vec<&str> = s.categories.iter().map(|c| c.code.as_str()).collect();
    let decision = if kind == EntryKind::Release {
        "allowed"
    } else {
        "refused"
    };
    NewEntry {
        kind,
        enterprise: s.enterprise.clone(),
        grant: s.grant.clone(),
        caller: Some(caller.uscc().to_owned()),
        platform: (caller.role == Role::Platform).then(|| caller.uscc().to_owned()),
        bank: s.bank.clone(),
        categories: (!codes.is_empty()).then(|| codes.join(",")),
        decision: Some(decision.into()),
        record: AccessRecord {
            enterprise: s.enterprise.clone(),
            caller: Some(PartyRef {
                uscc: caller.uscc().to_owned(),
                role: caller.role.as_str().to_owned(),
                did: Some(caller.assertion.signer.as_str().to_owned()),
            }),
            platform: (caller.role == Role::Platform).then(|| caller.uscc().to_owned()),
            bank: s.bank.clone(),
            grant: s.grant.as_ref().map(|(id, d)| GrantRef {
                id: id.clone(),
                sha256: d.to_hex(),
            }),
            categories: s.categories.clone(),
            purpose: s.purpose.clone(),
            decision: Some(decision.into()),
            reasons,
            request_id: Some(s.request_id.clone()),
            data_sha256,
            detail: s.granularity.map(|g| {
                let mut d = json!({"granularity": g.as_str()});
                if kind == EntryKind::Release {
                    if !s.batches.is_empty() {
                        d["batches"] = json!(s.batches);
                    }
                    // Always present on a release (even empty): its absence marks a release
                    // logged before records were cited.
                    d["records"] = json!(s.records);
                }
                d
            }),
            ..Default::default()
        },
    }
}

fn random_request_id() -> String {
    format!("urn:uuid:{}", uuid::Uuid::new_v4())
}

/// Whether a caller's request id is kept as is (otherwise one is made).
fn usable_request_id(r: &str) -> bool {
    !r.is_empty() && r.len() <= 200
}

/// Counts a refusal in the metrics and logs it (reason codes only: no party, no message).
fn refused(node: &Node, seq: u64, reasons: &[Reason]) {
    node.metrics
        .release_refused(reasons.iter().map(|r| r.code.as_str()));
    if tracing::enabled!(tracing::Level::DEBUG) {
        let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
        tracing::debug!(log_index = seq, reasons = %codes.join(","), "release refused");
    }
}

/// Records a refusal and returns the error to answer with.
async fn refuse(node: &Node, caller: &Caller, s: Subject, reasons: Vec<Reason>) -> Error {
    let c = caller.clone();
    let r = reasons.clone();
    let a = caller.assertion.clone();
    let logged = node
        .committer
        .run_sequenced(false, move |tx| -> Result<u64> {
            tx.consume_assertion(&a)?;
            Ok(tx.append(entry(EntryKind::Refusal, &c, &s, r, None))?.seq)
        })
        .await;
    match logged {
        Ok(seq) => {
            refused(node, seq, &reasons);
            Error::Refused {
                reasons,
                log_index: Some(seq),
            }
        }
        Err(e) => e,
    }
}

/// Handles a release request from an authenticated caller. `body` is the raw JSON body.
/// `request_id` is the request's own id (spec/ops/README.md §3): the release takes it when the body
/// names none; when the body names one, that one replaces it (in `request_id` and in the current
/// log span), so the answer, the log entry and the log lines carry the same id.
pub async fn release(
    node: &Node,
    caller: &Caller,
    body: &[u8],
    request_id: &mut String,
) -> Result<ReleaseAnswer> {
    let parsed: std::result::Result<ReleaseBody, String> = crate::crypto::json::parse(body)
        .map_err(|e| e.to_string())
        .and_then(|n| crate::crypto::json::de::from_node(&n).map_err(|e| e.to_string()));
    match parsed {
        Ok(mut req) => {
            match req.request_id.as_deref().filter(|r| usable_request_id(r)) {
                Some(own) => {
                    own.clone_into(request_id);
                    tracing::Span::current().record("request_id", own);
                }
                None => req.request_id = Some(request_id.clone()),
            }
            release_request(node, caller, req, None).await
        }
        Err(e) => {
            let s = Subject {
                enterprise: None,
                grant: None,
                categories: vec![],
                granularity: None,
                purpose: None,
                bank: None,
                request_id: request_id.clone(),
                batches: vec![],
                records: vec![],
            };
            Err(refuse(node, caller, s, vec![reason("malformed-request", e)]).await)
        }
    }
}

/// Step 1: what a release request is, for the log (categories with their providers).
fn subject_of(
    req: &ReleaseBody,
    catalog: &crate::catalog::Catalog,
    evaluation: Option<&super::evaluations::EvaluationJob>,
) -> Subject {
    let request_id = req
        .request_id
        .clone()
        .filter(|r| usable_request_id(r))
        .unwrap_or_else(random_request_id);
    Subject {
        enterprise: Some(req.enterprise.clone()),
        grant: None,
        categories: req
            .categories
            .iter()
            .map(|c| CategoryRef {
                code: c.clone(),
                granularity: req.granularity.as_str().into(),
                providers: catalog
                    .category(c)
                    .map(|x| x.providers.clone())
                    .unwrap_or_default(),
            })
            .collect(),
        granularity: Some(req.granularity),
        purpose: Some(req.purpose.clone()),
        // An evaluation for a bank names the bank in the log (spec/evaluation.md §4).
        bank: req
            .on_behalf_of
            .clone()
            .or_else(|| evaluation.and_then(|j| j.for_bank.clone())),
        request_id,
        batches: vec![],
        records: vec![],
    }
}

/// Step 1: the input checks that make a request meaningless (malformed codes, too many categories).
fn input_problems(req: &ReleaseBody) -> Vec<Reason> {
    let mut bad = Vec::new();
    if let Err(e) = Uscc::parse(&req.enterprise) {
        bad.push(reason("invalid-uscc", format!("enterprise: {e}")));
    }
    if let Some(b) = &req.on_behalf_of {
        if let Err(e) = Uscc::parse(b) {
            bad.push(reason("invalid-uscc", format!("onBehalfOf: {e}")));
        }
    }
    if let Some(g) = &req.grant {
        if let Err(e) = GrantId::parse(g) {
            bad.push(reason("grant-id", e.to_string()));
        }
    }
    if req.categories.len() > 64 {
        bad.push(reason("too-many-categories", "at most 64 categories per request"));
    }
    bad
}

/// What step 2 found.
struct Gathered {
    bank: Option<participants::Participant>,
    verified: Option<VerifiedGrant>,
    grant_problem: Option<Vec<Reason>>,
    status: Option<GrantStatus>,
    used: u64,
}

/// Step 2: the grant (read, its digest into `subject`, verified from the cache), its status and
/// its use in the current period, and the bank. `Ok(Err(reasons))`: another enterprise's grant,
/// refused without naming it, so that the refusal in this enterprise's history discloses nothing
/// of a third party's grant (spec/security.md §3.4).
async fn gather(
    node: &Node,
    req: &ReleaseBody,
    subject: &mut Subject,
    now: time::OffsetDateTime,
) -> Result<std::result::Result<Gathered, Vec<Reason>>> {
    let (grant_row, bank) = {
        let (gid, bank) = (req.grant.clone(), req.on_behalf_of.clone());
        node.store
            .quick(
                move |c| -> Result<(Option<StoredGrant>, Option<participants::Participant>)> {
                    let g = match gid {
                        Some(id) => store::get(c, &id)?,
                        None => None,
                    };
                    let b = match bank {
                        Some(u) => participants::find(c, &u, Role::Bank)?,
                        None => None,
                    };
                    Ok((g, b))
                },
            )
            .await?
    };
    let mut grant_problem = None;
    let mut verified: Option<VerifiedGrant> = None;
    match (&req.grant, &grant_row) {
        (Some(id), None) => {
            grant_problem = Some(vec![reason(
                "unknown-grant",
                format!("grant {id} is not held by the node"),
            )])
        }
        (_, Some(row)) if row.enterprise_uscc != req.enterprise => {
            return Ok(Err(vec![reason(
                "grant-other-enterprise",
                "the grant is not by the enterprise whose data is asked for",
            )]));
        }
        (_, Some(row)) => {
            // A stored digest that does not parse is corruption: fail rather than log a release
            // against a made-up digest.
            let digest = Sha256Digest::from_hex(&row.sha256).ok_or_else(|| {
                crate::storage::StorageError::Corrupt(format!(
                    "grant {}: the stored digest is not 64 hex digits",
                    row.id
                ))
            })?;
            subject.grant = Some((row.id.clone(), digest));
            match super::grants::verified(node, row) {
                Ok(g) => verified = Some(g),
                Err(e) => grant_problem = Some(super::grants::reasons_of(&e)),
            }
        }
        (None, None) => {}
    }
    let status = grant_row.as_ref().map(|g| GrantStatus {
        revoked: g.state == GrantState::Revoked,
        suspended: g.state == GrantState::Suspended,
    });
    let period = verified
        .as_ref()
        .map(|g| policy::usage_period(g.terms().usage, now));
    let used = match (&grant_row, &period) {
        (Some(g), Some(p)) => {
            let (id, p) = (g.id.clone(), p.clone());
            node.store.quick(move |c| store::usage(c, &id, &p)).await?
        }
        _ => 0,
    };
    Ok(Ok(Gathered {
        bank,
        verified,
        grant_problem,
        status,
        used,
    }))
}

/// Step 3: [`policy::decide`] over the gathered facts.
fn decide(
    caller: &Caller,
    req: &ReleaseBody,
    g: &Gathered,
    grant_required: bool,
    now: time::OffsetDateTime,
    catalog: &crate::catalog::Catalog,
) -> Decision {
    let policy_req = ReleaseRequest {
        enterprise: req.enterprise.clone(),
        categories: req.categories.clone(),
        granularity: req.granularity,
        purpose: req.purpose.clone(),
        on_behalf_of: req.on_behalf_of.clone(),
        grant_required,
    };
    let caller_facts = CallerFacts {
        uscc: caller.uscc().to_owned(),
        role: caller.role,
        active: caller.active(),
    };
    let bank_facts = g.bank.as_ref().map(|b| BankFacts {
        uscc: b.uscc.clone(),
        active: b.state == ParticipantState::Active,
        platform: b.platform_uscc.clone(),
    });
    let facts = Facts {
        request: &policy_req,
        caller: &caller_facts,
        bank: bank_facts.as_ref(),
        grant: g.verified.as_ref(),
        grant_problem: g.grant_problem.clone(),
        status: g.status,
        used_in_period: g.used,
        now,
    };
    policy::decide(&facts, catalog)
}

/// What step 4 read: the payload of each category, the batches and the records it came from.
struct Fetched {
    data: Map<String, Value>,
    batches: Vec<String>,
    records: Vec<i64>,
}

/// Step 4: the data of every asked category — clipped to the relied-on grant's data period, derived
/// forms per the catalog version it cites (spec/derivations.md), raw records masked — read on the
/// blocking pool.
async fn fetch(
    node: &Node,
    req: &ReleaseBody,
    relied_on: Option<&VerifiedGrant>,
    now: time::OffsetDateTime,
    catalog: &std::sync::Arc<crate::catalog::Catalog>,
) -> Result<Fetched> {
    let (from, until) = match relied_on {
        Some(g) => (
            g.terms().data_period.from.clone(),
            g.terms().data_period.until.clone(),
        ),
        None => (OPEN_FROM.to_owned(), OPEN_UNTIL.to_owned()),
    };
    let (Some(from_day), Some(until_day)) = (
        crate::grant::rules::parse_date(&from),
        crate::grant::rules::parse_date(&until),
    ) else {
        return Err(Error::Internal(format!(
            "grant data period {from}..{until} does not parse"
        )));
    };
    let catalog_version = relied_on.and_then(|g| g.terms().catalog_version.clone());
    let today = now.to_offset(time::macros::offset!(+8)).date();
    let (src, ent, cats, gran, catalog) = (
        std::sync::Arc::clone(&node.data),
        req.enterprise.clone(),
        req.categories.clone(),
        req.granularity,
        std::sync::Arc::clone(catalog),
    );
    type Read = (
        Vec<(String, Value)>,
        std::collections::BTreeSet<String>,
        std::collections::BTreeSet<i64>,
    );
    let (fetched, batches, ids) = actix_web::rt::task::spawn_blocking(move || -> Result<Read> {
        let scope = super::data::Scope {
            catalog_version: catalog_version.as_deref(),
            from: from_day,
            until: until_day,
            today,
        };
        let mut batches = std::collections::BTreeSet::new();
        let mut ids = std::collections::BTreeSet::new();
        let payloads = cats
            .iter()
            .map(|c| {
                let records = src.fetch(&ent, c, &from, &until)?;
                batches.extend(records.iter().filter_map(|r| r.batch_id.clone()));
                ids.extend(records.iter().map(|r| r.id));
                Ok((
                    c.clone(),
                    super::data::payload(&catalog, c, &records, gran, scope)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((payloads, batches, ids))
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))??;
    Ok(Fetched {
        data: fetched.into_iter().collect(),
        batches: batches.into_iter().collect(),
        records: ids.into_iter().collect(),
    })
}

/// The steps of a release after its body was read: gather the facts, decide, fetch, (for an
/// evaluation, evaluate and sign), commit, answer. `evaluation` turns the release into a credit
/// evaluation (`spec/evaluation.md`): the derived inputs and the signed credential are what is
/// released and logged, and the evaluation is stored in the same transaction.
pub(crate) async fn release_request(
    node: &Node,
    caller: &Caller,
    req: ReleaseBody,
    evaluation: Option<super::evaluations::EvaluationJob>,
) -> Result<ReleaseAnswer> {
    let catalog = node.catalog();
    // 1. Read: what is asked, kept for the log even when it is refused.
    let mut subject = subject_of(&req, &catalog, evaluation.as_ref());
    let request_id = subject.request_id.clone();
    let bad = input_problems(&req);
    if !bad.is_empty() {
        return Err(refuse(node, caller, subject, bad).await);
    }
    // 2. Gather the facts: the grant (verified), its status and usage, the bank.
    let now = node.clock.now();
    let gathered = match gather(node, &req, &mut subject, now).await? {
        Ok(g) => g,
        Err(reasons) => return Err(refuse(node, caller, subject, reasons).await),
    };
    // 3. Decide, with every reason.
    let needs_grant = match decide(caller, &req, &gathered, evaluation.is_some(), now, &catalog) {
        Decision::Refuse(reasons) => return Err(refuse(node, caller, subject, reasons).await),
        Decision::Allow { needs_grant } => needs_grant,
    };
    let verified = gathered.verified;
    let relied_on = verified.as_ref().filter(|_| needs_grant);
    // 4. Fetch the data. Every correction logged below `read_from` was committed before the read
    // started, so the read saw it; one logged later may have been missed (checked at the commit).
    let read_from = node.committer.committed_size();
    let Fetched {
        data,
        batches,
        records,
    } = fetch(node, &req, relied_on, now, &catalog).await?;
    subject.batches = batches;
    subject.records = records;
    // 5. An evaluation evaluates and signs; its inputs and credential are what is released.
    let (data, evaluation_row) = match evaluation {
        None => (Value::Object(data), None),
        Some(job) => {
            let (data, row) = super::evaluations::finish(node, caller, job, relied_on, data, now).await?;
            (data, Some(row))
        }
    };
    let data_sha256 =
        Sha256Digest::of(&jcs::canonicalize(&data).map_err(|e| Error::Internal(e.to_string()))?).to_hex();

    let answer_batches = subject.batches.clone();
    // 6. Commit: re-check under the log lock, count, append.
    let (c, a) = (caller.clone(), caller.assertion.clone());
    let digest = data_sha256.clone();
    let grant_for_job = verified
        .as_ref()
        .filter(|_| needs_grant)
        .map(|g| (g.id().as_str().to_owned(), g.terms().usage));
    // `data.released` (spec/notifications.md §2): only for an enterprise with a subscribed endpoint,
    // decided in memory, so that every other release costs one hash-set lookup and no query.
    let released_note = node.notify.wants_released(&req.enterprise).then(|| {
        let note = json!({
            "enterprise": req.enterprise,
            "requestId": request_id,
            "caller": caller.uscc(),
            "callerRole": caller.role.as_str(),
            "bank": req.on_behalf_of,
            "grant": req.grant,
            "categories": req.categories,
            "granularity": req.granularity,
            "purpose": req.purpose,
            "dataSha256": data_sha256,
        });
        (req.enterprise.clone(), note)
    });
    // An evaluation or a `data.released` webhook writes rows of its own: that job keeps its savepoint.
    let savepoint = evaluation_row.is_some() || released_note.is_some();
    let outcome = node
        .committer
        .run_sequenced(savepoint, move |tx| -> Result<Outcome> {
            tx.consume_assertion(&a)?;
            let mut late = Vec::new();
            // The grant and usage period whose use this release counts, once every check passed.
            let mut counted = None;
            if let Some(state) = tx.participant_state(c.participant.id)? {
                if state != ParticipantState::Active {
                    late.push(reason(
                        "caller-not-admitted",
                        format!("{} became {state}", c.uscc()),
                    ));
                }
            }
            if let Some((id, usage)) = &grant_for_job {
                match tx.grant_state(id)? {
                    Some(GrantState::Active) => {}
                    Some(s) => late.push(reason(&format!("grant-{s}"), format!("grant {id} is {s}"))),
                    None => late.push(reason("unknown-grant", format!("grant {id} vanished"))),
                }
                let period = policy::usage_period(*usage, crate::storage::from_millis(tx.now()));
                let used = tx.usage(id, &period)?;
                let max = match usage {
                    crate::grant::model::Usage::OneOff {} => 1,
                    crate::grant::model::Usage::Periodic { max_releases, .. } => u64::from(*max_releases),
                };
                if used >= max {
                    late.push(reason(
                        "rate-exceeded",
                        format!("{max} release(s) per period already used"),
                    ));
                }
                counted = Some(period);
            }
            // A correction committed while the data was read (spec/objections.md §7.1): the read
            // may hold the old fields, and the correction's recipients were counted before this
            // release existed. Nothing is released; asking again reads the corrected record.
            if late.is_empty() && tx.corrected_since(&subject.records, read_from)? {
                late.push(reason(
                    "data-corrected",
                    "a record of this release was corrected while it was read; ask again",
                ));
            }
            if !late.is_empty() {
                let seq = tx
                    .append(entry(EntryKind::Refusal, &c, &subject, late.clone(), None))?
                    .seq;
                return Ok(Outcome::Refused { seq, reasons: late });
            }
            // Counted only for a release: a refusal (a late rate check, a correction during the
            // read) spends no use, so asking again is not refused for it.
            if let (Some((id, _)), Some(period)) = (&grant_for_job, &counted) {
                tx.count_use(id, period);
            }
            let Appended {
                seq, leaf, leaf_hash, ..
            } = tx.append(entry(EntryKind::Release, &c, &subject, vec![], Some(digest)))?;
            if let Some(mut e) = evaluation_row {
                e.log_index =
                    i64::try_from(seq).map_err(|_| Error::Internal("log index beyond i64".into()))?;
                crate::storage::evaluations::insert(tx.conn, &e)?;
                crate::storage::status_lists::bind_slot(tx.conn, e.status_list, e.status_index, &e.id)?;
            }
            if let Some((enterprise, mut note)) = released_note {
                note["logIndex"] = json!(seq);
                let now = tx.now();
                super::notify::enqueue_webhooks(
                    tx.conn,
                    &enterprise,
                    super::notify::DATA_RELEASED,
                    note,
                    now,
                )?;
            }
            Ok(Outcome::Released {
                seq,
                leaf_hash: hex::encode(leaf_hash),
                time_ms: leaf.time_ms,
            })
        })
        .await?;
    // 7. Answer.
    match outcome {
        Outcome::Refused { seq, reasons } => {
            refused(node, seq, &reasons);
            Err(Error::Refused {
                reasons,
                log_index: Some(seq),
            })
        }
        Outcome::Released {
            seq,
            leaf_hash,
            time_ms,
        } => {
            node.metrics.release_allowed();
            tracing::debug!(log_index = seq, "release allowed");
            let promise = super::receipts::promise(node, seq, &leaf_hash, time_ms);
            Ok(ReleaseAnswer {
                request_id,
                enterprise: req.enterprise,
                grant: req.grant,
                purpose: req.purpose,
                granularity: req.granularity,
                on_behalf_of: req.on_behalf_of,
                data,
                data_sha256,
                log_index: seq,
                leaf_hash,
                receipt: promise,
                batches: answer_batches,
            })
        }
    }
}
