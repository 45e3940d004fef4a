//! A bank's request at its platform: verify the bank and the grant (offline, with the node's signed
//! status lists), ask the node on the bank's behalf, record the onward release with the node's entry
//! as its upstream.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::Platform;
use crate::crypto::{Sha256Digest, jcs};
use crate::error::{Error, Result};
use crate::grant::{Granularity, VerifiedGrant};
use crate::log::entry::{AccessRecord, CategoryRef, EntryKind, GrantRef, PartyRef, Reason, UpstreamRef};
use crate::node::Caller;
use crate::policy::{self, BankFacts, CallerFacts, Decision, Facts, GrantStatus, ReleaseRequest, Role};
use crate::status::{Bitstring, StatusEntry};
use crate::storage::log_store::NewEntry;

/// What a bank sends.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BankRequest {
    /// The enterprise.
    pub enterprise: String,
    /// The grant naming this bank.
    #[serde(default)]
    pub grant: Option<String>,
    /// Categories.
    pub categories: Vec<String>,
    /// Purpose.
    pub purpose: String,
    /// `derived` (default) or `raw` (public categories only).
    #[serde(default = "derived")]
    pub granularity: Granularity,
    /// The bank's request id.
    #[serde(default)]
    pub request_id: Option<String>,
}

fn derived() -> Granularity {
    Granularity::Derived
}

/// Grants and status lists fetched from the node.
#[derive(Debug, Default)]
pub struct ListCache {
    lists: Mutex<HashMap<String, (OffsetDateTime, Arc<Bitstring>)>>,
    grants: Mutex<HashMap<String, Vec<u8>>>,
}

fn reason(code: &str, message: impl Into<String>) -> Reason {
    Reason {
        code: code.to_owned(),
        message: message.into(),
    }
}

async fn blocking<R: Send + 'static>(f: impl FnOnce() -> Result<R> + Send + 'static) -> Result<R> {
    actix_web::rt::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
}

/// The signed grant's bytes, from the node (cached: a grant's bytes never change).
async fn grant_bytes(p: &Platform, id: &str) -> Result<Vec<u8>> {
    if let Some(b) = p.lists.grants.lock().ok().and_then(|m| m.get(id).cloned()) {
        return Ok(b);
    }
    let (node, path) = (p.node.clone(), format!("/v1/grants/{id}"));
    let (status, body) = blocking(move || node.get(&path)).await?;
    if status == 404 {
        return Err(Error::NotFound(format!(
            "the node holds no grant {id} naming this platform"
        )));
    }
    if status != 200 {
        return Err(Error::Upstream(format!(
            "the node answered {status} for grant {id}"
        )));
    }
    let v: Value = serde_json::from_str(&body).map_err(|e| Error::Upstream(e.to_string()))?;
    let bytes = v["credential"]
        .as_str()
        .ok_or_else(|| Error::Upstream("no credential in the node's answer".into()))?
        .as_bytes()
        .to_vec();
    if let Ok(mut m) = p.lists.grants.lock() {
        m.insert(id.to_owned(), bytes.clone());
    }
    Ok(bytes)
}

/// The bit of a status entry, from the node's signed list (cached for the list's ttl). The list
/// must be signed by the node and be for the entry's purpose.
async fn status_bit(p: &Platform, entry: &StatusEntry, now: OffsetDateTime) -> Result<bool> {
    let url = entry.status_list_credential.clone();
    let index = entry.index().map_err(|e| Error::Upstream(e.to_string()))?;
    let fresh = p.lists.lists.lock().ok().and_then(|m| {
        m.get(&url)
            .filter(|(at, _)| now - *at < time::Duration::milliseconds(crate::node::status::TTL_MS as i64))
            .map(|(_, l)| Arc::clone(l))
    });
    let list = match fresh {
        Some(l) => l,
        None => {
            let (node, u) = (p.node.clone(), url.clone());
            let (node_did, (status, body)) =
                blocking(move || Ok((node.node_did()?, node.fetch(&u)?))).await?;
            if status != 200 {
                return Err(Error::Upstream(format!("status list {url}: {status}")));
            }
            let vc = crate::credential::verify(body.as_bytes(), now)
                .map_err(|e| Error::Upstream(format!("status list {url}: {e}")))?;
            if vc.signer.as_str() != node_did || !vc.issuer_bound {
                return Err(Error::Upstream(format!(
                    "status list {url} is not signed by the node"
                )));
            }
            let subject = &vc.document["credentialSubject"];
            if subject["statusPurpose"].as_str() != Some(entry.status_purpose.as_str()) {
                return Err(Error::Upstream(format!(
                    "STATUS_VERIFICATION_ERROR: {url} is not a {} list",
                    entry.status_purpose.as_str()
                )));
            }
            let encoded = subject["encodedList"]
                .as_str()
                .ok_or_else(|| Error::Upstream("no encodedList".into()))?;
            let bits = Arc::new(Bitstring::decode(encoded, 1).map_err(|e| Error::Upstream(e.to_string()))?);
            if let Ok(mut m) = p.lists.lists.lock() {
                m.insert(url.clone(), (now, Arc::clone(&bits)));
            }
            bits
        }
    };
    Ok(list.get(index).map_err(|e| Error::Upstream(e.to_string()))? == 1)
}

/// One bank request being served: who, what, and its id.
struct Ask<'a> {
    p: &'a Platform,
    bank: &'a Caller,
    req: &'a BankRequest,
    request_id: &'a str,
}

fn entry(
    kind: EntryKind,
    ask: &Ask<'_>,
    grant: Option<(&str, Sha256Digest)>,
    reasons: Vec<Reason>,
    data: Option<String>,
    upstream: Option<UpstreamRef>,
) -> NewEntry {
    let Ask {
        p,
        bank,
        req,
        request_id,
    } = *ask;
    let catalog = p.core.catalog();
    let categories: Vec<CategoryRef> = req
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
        .collect();
    let decision = if kind == EntryKind::OnwardRelease {
        "allowed"
    } else {
        "refused"
    };
    NewEntry {
        kind,
        enterprise: Some(req.enterprise.clone()),
        grant: grant.map(|(id, d)| (id.to_owned(), d)),
        caller: Some(bank.uscc().to_owned()),
        platform: Some(p.uscc.clone()),
        bank: Some(bank.uscc().to_owned()),
        categories: (!req.categories.is_empty()).then(|| req.categories.join(",")),
        decision: Some(decision.into()),
        record: AccessRecord {
            enterprise: Some(req.enterprise.clone()),
            caller: Some(PartyRef {
                uscc: bank.uscc().to_owned(),
                role: bank.role.as_str().into(),
                did: Some(bank.assertion.signer.as_str().to_owned()),
            }),
            platform: Some(p.uscc.clone()),
            bank: Some(bank.uscc().to_owned()),
            grant: grant.map(|(id, d)| GrantRef {
                id: id.to_owned(),
                sha256: d.to_hex(),
            }),
            categories,
            purpose: Some(req.purpose.clone()),
            decision: Some(decision.into()),
            reasons,
            request_id: Some(request_id.to_owned()),
            data_sha256: data,
            upstream,
            detail: None,
        },
    }
}

async fn refuse(ask: &Ask<'_>, grant: Option<(&str, Sha256Digest)>, reasons: Vec<Reason>) -> Error {
    let (p, bank) = (ask.p, ask.bank);
    let e = entry(EntryKind::Refusal, ask, grant, reasons.clone(), None, None);
    let a = bank.assertion.clone();
    match p
        .core
        .committer
        .run(move |tx| {
            tx.consume_assertion(&a)?;
            Ok(tx.append(e)?.seq)
        })
        .await
    {
        Ok(seq) => Error::Refused {
            reasons,
            log_index: Some(seq),
        },
        Err(e) => e,
    }
}

/// The first steps of every bank request at the platform: the caller must be a bank (`what` says
/// what banks ask for); the grant is verified here; the policy (`decide`) judges the request with
/// the platform as the caller on the bank's behalf. A refusal is logged and returned as the error.
/// On success: the grant's id and digest, and the instant of the decision.
async fn admit(
    ask: &Ask<'_>,
    what: &str,
    request: ReleaseRequest,
    decide: impl Fn(&Facts<'_>) -> Decision,
) -> Result<(Option<(String, Sha256Digest)>, OffsetDateTime)> {
    let (p, bank) = (ask.p, ask.bank);
    if bank.role != Role::Bank {
        let why = format!("only banks ask their platform for {what}");
        return Err(refuse(ask, None, vec![reason("caller-role", why)]).await);
    }
    let now = p.core.clock.now();
    let GrantFacts {
        grant,
        problem,
        status,
    } = grant_facts(ask, now).await?;
    let grant_ref = grant.as_ref().map(|g| (g.id().as_str().to_owned(), g.digest()));
    let gref = grant_ref.as_ref().map(|(id, d)| (id.as_str(), *d));
    let facts = Facts {
        request: &request,
        caller: &CallerFacts {
            uscc: p.uscc.clone(),
            role: Role::Platform,
            active: true,
        },
        bank: Some(&BankFacts {
            uscc: bank.uscc().to_owned(),
            active: bank.active(),
            platform: bank.participant.platform_uscc.clone(),
        }),
        grant: grant.as_ref(),
        grant_problem: problem,
        status,
        // The node counts uses; it refuses past the grant's rate.
        used_in_period: 0,
        now,
    };
    if let Decision::Refuse(reasons) = decide(&facts) {
        return Err(refuse(ask, gref, reasons).await);
    }
    Ok((grant_ref, now))
}

/// Asks the node (`POST path` with `body`) on the bank's behalf. An unreachable node, or any answer
/// but `200`, is a logged refusal carrying the node's reasons (or its status and detail).
async fn upstream(
    ask: &Ask<'_>,
    gref: Option<(&str, Sha256Digest)>,
    path: &'static str,
    body: Value,
) -> Result<Value> {
    let node = ask.p.node.clone();
    let (status, text) = match blocking(move || node.post(path, &body)).await {
        Ok(a) => a,
        Err(e) => return Err(refuse(ask, gref, vec![reason("upstream-unavailable", e.to_string())]).await),
    };
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if status != 200 {
        let mut reasons: Vec<Reason> = serde_json::from_value(v["reasons"].clone()).unwrap_or_default();
        if reasons.is_empty() {
            reasons.push(reason(
                "upstream-refused",
                format!(
                    "the node answered {status}: {}",
                    v["detail"].as_str().unwrap_or(&text)
                ),
            ));
        }
        return Err(refuse(ask, gref, reasons).await);
    }
    Ok(v)
}

/// Records the onward release in the platform's log (spending the bank's assertion), citing the
/// grant, the digest of what the bank gets, and the node's entry in its answer `v`.
async fn record_onward(
    ask: &Ask<'_>,
    gref: Option<(&str, Sha256Digest)>,
    digest: &str,
    v: &Value,
    detail: Option<Value>,
) -> Result<(crate::storage::log_store::Appended, UpstreamRef)> {
    let upstream = UpstreamRef {
        origin: v["receipt"]["origin"].as_str().unwrap_or_default().to_owned(),
        index: v["logIndex"].as_u64().unwrap_or_default(),
        leaf_hash: v["leafHash"].as_str().unwrap_or_default().to_owned(),
    };
    let mut e = entry(
        EntryKind::OnwardRelease,
        ask,
        gref,
        vec![],
        Some(digest.to_owned()),
        Some(upstream.clone()),
    );
    e.record.detail = detail;
    let a = ask.bank.assertion.clone();
    let appended = ask
        .p
        .core
        .committer
        .run(move |tx| {
            tx.consume_assertion(&a)?;
            tx.append(e)
        })
        .await?;
    Ok((appended, upstream))
}

/// The grant a bank's request names, verified here (offline, with the node's signed status lists).
struct GrantFacts {
    grant: Option<VerifiedGrant>,
    problem: Option<Vec<Reason>>,
    status: Option<GrantStatus>,
}

/// Reads and verifies the request's grant. An unreachable node or an unreadable status is a logged
/// refusal (the error returned).
async fn grant_facts(ask: &Ask<'_>, now: OffsetDateTime) -> Result<GrantFacts> {
    let (p, req) = (ask.p, ask.req);
    let mut grant: Option<VerifiedGrant> = None;
    let mut grant_problem: Option<Vec<Reason>> = None;
    let mut status: Option<GrantStatus> = None;
    if let Some(id) = &req.grant {
        match grant_bytes(p, id).await {
            Err(Error::NotFound(m)) => grant_problem = Some(vec![reason("unknown-grant", m)]),
            Err(e) => {
                return Err(refuse(ask, None, vec![reason("upstream-unavailable", e.to_string())]).await);
            }
            Ok(bytes) => {
                let catalog = p.core.catalog();
                match p
                    .core
                    .grants
                    .get_or_verify(Sha256Digest::of(crate::credential::trim(&bytes)), || {
                        crate::grant::verify::verify_using(&bytes, &catalog, &p.core.keys, now)
                    }) {
                    Ok(g) => {
                        let revoked = status_bit(p, g.revocation_entry(), now).await;
                        let suspended = status_bit(p, g.suspension_entry(), now).await;
                        match (revoked, suspended) {
                            (Ok(r), Ok(s)) => {
                                status = Some(GrantStatus {
                                    revoked: r,
                                    suspended: s,
                                })
                            }
                            (Err(e), _) | (_, Err(e)) => {
                                let d = g.digest();
                                return Err(refuse(
                                    ask,
                                    Some((g.id().as_str(), d)),
                                    vec![reason("status-unknown", e.to_string())],
                                )
                                .await);
                            }
                        }
                        grant = Some(g);
                    }
                    Err(e) => grant_problem = Some(crate::node::grants::reasons_of(&e)),
                }
            }
        }
    }
    Ok(GrantFacts {
        grant,
        problem: grant_problem,
        status,
    })
}

/// Serves a bank's request.
pub async fn release(p: &Platform, bank: &Caller, body: &[u8]) -> Result<Value> {
    let req: BankRequest = crate::http::parse_body(body)?;
    let request_id = req
        .request_id
        .clone()
        .filter(|r| !r.is_empty() && r.len() <= 200)
        .unwrap_or_else(|| format!("urn:uuid:{}", uuid::Uuid::new_v4()));
    let ask = Ask {
        p,
        bank,
        req: &req,
        request_id: &request_id,
    };
    let (grant_ref, _) = admit(
        &ask,
        "data",
        ReleaseRequest {
            enterprise: req.enterprise.clone(),
            categories: req.categories.clone(),
            granularity: req.granularity,
            purpose: req.purpose.clone(),
            on_behalf_of: Some(bank.uscc().to_owned()),
            grant_required: false,
        },
        |f| policy::decide(f, &p.core.catalog()),
    )
    .await?;
    let gref = grant_ref.as_ref().map(|(id, d)| (id.as_str(), *d));
    // Ask the node on the bank's behalf.
    let body = json!({
        "enterprise": req.enterprise, "grant": req.grant, "categories": req.categories,
        "granularity": req.granularity, "purpose": req.purpose, "onBehalfOf": bank.uscc(), "requestId": request_id,
    });
    let v = upstream(&ask, gref, "/v1/releases", body).await?;
    let data = v["data"].clone();
    let digest =
        Sha256Digest::of(&jcs::canonicalize(&data).map_err(|e| Error::Upstream(e.to_string()))?).to_hex();
    if v["dataSha256"].as_str() != Some(digest.as_str()) {
        return Err(refuse(
            &ask,
            gref,
            vec![reason(
                "upstream-digest",
                "the node's data does not match the digest it logged",
            )],
        )
        .await);
    }
    let (appended, upstream) = record_onward(&ask, gref, &digest, &v, None).await?;
    let leaf_hash = hex::encode(appended.leaf_hash);
    Ok(json!({
        "requestId": request_id,
        "enterprise": req.enterprise,
        "grant": req.grant,
        "purpose": req.purpose,
        "data": data,
        "dataSha256": digest,
        "logIndex": appended.seq,
        "leafHash": leaf_hash,
        "receipt": crate::node::receipts::promise(&p.core, appended.seq, &leaf_hash, appended.leaf.time_ms),
        "upstream": {"origin": upstream.origin, "index": upstream.index, "leafHash": upstream.leaf_hash, "receipt": v["receipt"]},
    }))
}

/// What a bank sends to ask for an evaluation (`spec/evaluation.md` §4).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BankEvaluationRequest {
    /// The enterprise.
    pub enterprise: String,
    /// The grant naming this bank and the evaluation purpose.
    pub grant: String,
    /// The bank's request id.
    #[serde(default)]
    pub request_id: Option<String>,
}

/// Serves a bank's request for a credit evaluation: checks the bank and the grant here (it must
/// name the bank and the purpose `financing-credit-evaluation`), asks the node to evaluate under
/// the grant, checks the node's digest and the credential's proof and issuer, and records the
/// onward release in the platform's log, citing the grant, the evaluation's digest and the node's
/// entry. The bank receives the credential, not the derived inputs.
pub async fn evaluate(p: &Platform, bank: &Caller, body: &[u8]) -> Result<Value> {
    let asked: BankEvaluationRequest = crate::http::parse_body(body)?;
    let request_id = asked
        .request_id
        .clone()
        .filter(|r| !r.is_empty() && r.len() <= 200)
        .unwrap_or_else(|| format!("urn:uuid:{}", uuid::Uuid::new_v4()));
    let purpose = crate::node::evaluations::EVALUATION_PURPOSE;
    let req = BankRequest {
        enterprise: asked.enterprise.clone(),
        grant: Some(asked.grant.clone()),
        categories: vec![],
        purpose: purpose.to_owned(),
        granularity: Granularity::Derived,
        request_id: Some(request_id.clone()),
    };
    let ask = Ask {
        p,
        bank,
        req: &req,
        request_id: &request_id,
    };
    let (grant_ref, now) = admit(
        &ask,
        "evaluations",
        ReleaseRequest {
            enterprise: req.enterprise.clone(),
            categories: vec![],
            granularity: Granularity::Derived,
            purpose: purpose.to_owned(),
            on_behalf_of: Some(bank.uscc().to_owned()),
            grant_required: false,
        },
        policy::decide_evaluation,
    )
    .await?;
    let gref = grant_ref.as_ref().map(|(id, d)| (id.as_str(), *d));
    let mut body = json!({"enterprise": req.enterprise, "grant": asked.grant, "requestId": request_id, "forBank": bank.uscc()});
    if let Some(model) = &p.evaluation_model {
        body["model"] = model.clone();
    }
    let v = upstream(&ask, gref, "/v1/evaluations", body).await?;
    // What the node logged is what it sent; the credential is the node's.
    let data = &v["data"];
    let logged = jcs::canonicalize(data)
        .map(|b| Sha256Digest::of(&b).to_hex())
        .ok();
    let evaluation = data["evaluation"].clone();
    let bytes = serde_json::to_vec(&evaluation).unwrap_or_default();
    let node = p.node.clone();
    let node_did = blocking(move || node.node_did()).await;
    let proof_ok = match (crate::credential::verify(&bytes, now), node_did) {
        (Ok(vc), Ok(did)) => vc.signer.as_str() == did && vc.issuer_bound,
        _ => false,
    };
    if logged.as_deref() != v["dataSha256"].as_str() || !proof_ok {
        return Err(refuse(
            &ask,
            gref,
            vec![reason(
                "upstream-digest",
                "the node's evaluation does not match what it logged, or is not signed by the node",
            )],
        )
        .await);
    }
    let digest =
        Sha256Digest::of(&jcs::canonicalize(&evaluation).map_err(|e| Error::Upstream(e.to_string()))?)
            .to_hex();
    let detail = json!({"evaluation": evaluation["id"], "grade": evaluation["credentialSubject"]["grade"]});
    let (appended, upstream) = record_onward(&ask, gref, &digest, &v, Some(detail)).await?;
    let leaf_hash = hex::encode(appended.leaf_hash);
    Ok(json!({
        "requestId": request_id,
        "enterprise": req.enterprise,
        "grant": asked.grant,
        "purpose": purpose,
        "evaluation": evaluation,
        "evaluationSha256": digest,
        "logIndex": appended.seq,
        "leafHash": leaf_hash,
        "receipt": crate::node::receipts::promise(&p.core, appended.seq, &leaf_hash, appended.leaf.time_ms),
        "upstream": {"origin": upstream.origin, "index": upstream.index, "leafHash": upstream.leaf_hash, "receipt": v["receipt"]},
    }))
}
