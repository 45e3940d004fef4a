//! The platform hop of a loan report (`spec/loans.md` §3.1): a bank sends its signed report to its
//! platform, which checks that the caller is its own active bank and that the bank signed the report
//! with the key it authenticated with, relays it unchanged to the node, and records the relay in its
//! own log citing the node's entry (`upstream`), so the report is traceable hop by hop.
//!
//! The node decides: the platform passes the node's answer back as it came — the loan as it now
//! stands and the node's receipt, or the node's problem (`400`, `403 report-refused`, `409
//! report-conflict`…) with its reasons — and logs only reports the node accepted.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::{Value, json};

use super::Platform;
use crate::crypto::Sha256Digest;
use crate::error::{Error, Result};
use crate::log::entry::{AccessRecord, EntryKind, GrantRef, PartyRef, UpstreamRef};
use crate::node::Caller;
use crate::node::loans::{ACTION, ReportBody};
use crate::policy::Role;
use crate::storage::log_store::NewEntry;

/// Relays a bank's report to the node (the steps in the module doc). The caller's assertion was
/// consumed when it authenticated.
pub async fn relay(p: &Platform, bank: &Caller, body: ReportBody) -> Result<HttpResponse> {
    bank.require(&[Role::Bank])?;
    if bank.participant.platform_uscc.as_deref() != Some(p.uscc.as_str()) {
        return Err(Error::Forbidden(format!(
            "{} is not a bank of platform {}",
            bank.uscc(),
            p.uscc
        )));
    }
    let node_did = {
        let node = p.node.clone();
        actix_web::rt::task::spawn_blocking(move || node.node_did())
            .await
            .map_err(|e| Error::Internal(e.to_string()))??
    };
    let req = crate::node::auth::verify_request(
        &body.request,
        ACTION,
        node_did.as_str(),
        p.core.clock.now(),
        &p.core.keys,
    )?;
    if req.signer.as_str() != bank.assertion.signer.as_str() {
        return Err(Error::Forbidden(
            "the report must be signed with the key the bank authenticated with".into(),
        ));
    }
    let (code, text) = {
        let (node, b) = (p.node.clone(), json!({"request": body.request}));
        actix_web::rt::task::spawn_blocking(move || node.post("/v1/loan-reports", &b))
            .await
            .map_err(|e| Error::Internal(e.to_string()))??
    };
    if code != 201 {
        // The node's decision, passed back as it came.
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
        return Ok(HttpResponse::build(status)
            .content_type(crate::http::problem::PROBLEM_JSON)
            .body(text));
    }
    let v: Value =
        serde_json::from_str(&text).map_err(|e| Error::Upstream(format!("the node's answer: {e}")))?;
    let upstream = UpstreamRef {
        origin: v["receipt"]["origin"].as_str().unwrap_or_default().to_owned(),
        index: v["logIndex"].as_u64().unwrap_or_default(),
        leaf_hash: v["leafHash"].as_str().unwrap_or_default().to_owned(),
    };
    let text_of = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let (enterprise, grant, grant_sha, outcome, report_id) = (
        text_of("enterprise"),
        text_of("grant"),
        text_of("grantSha256"),
        text_of("outcome"),
        text_of("reportId"),
    );
    let digest = Sha256Digest::from_hex(&grant_sha).unwrap_or(Sha256Digest([0; 32]));
    let (bank_uscc, platform, did) = (
        bank.uscc().to_owned(),
        p.uscc.clone(),
        bank.assertion.signer.as_str().to_owned(),
    );
    let entry = NewEntry {
        kind: EntryKind::LoanReport,
        enterprise: Some(enterprise.clone()),
        grant: Some((grant.clone(), digest)),
        caller: Some(bank_uscc.clone()),
        platform: Some(platform.clone()),
        bank: Some(bank_uscc.clone()),
        categories: None,
        decision: Some(outcome.clone()),
        record: AccessRecord {
            enterprise: Some(enterprise),
            caller: Some(PartyRef {
                uscc: bank_uscc.clone(),
                role: Role::Bank.as_str().into(),
                did: Some(did),
            }),
            platform: Some(platform),
            bank: Some(bank_uscc),
            grant: Some(GrantRef {
                id: grant,
                sha256: grant_sha,
            }),
            decision: Some(outcome),
            request_id: Some(report_id),
            upstream: Some(upstream.clone()),
            detail: Some(json!({"requestSha256": Sha256Digest::of(body.request.as_bytes()).to_hex()})),
            ..Default::default()
        },
    };
    let appended = p.core.committer.run(move |tx| tx.append(entry)).await?;
    let leaf_hash = hex::encode(appended.leaf_hash);
    let mut out = v.clone();
    out["upstream"] = json!({
        "origin": upstream.origin,
        "index": upstream.index,
        "leafHash": upstream.leaf_hash,
        "receipt": v["receipt"],
    });
    out["logIndex"] = json!(appended.seq);
    out["leafHash"] = json!(leaf_hash);
    out["receipt"] = json!(crate::node::receipts::promise(
        &p.core,
        appended.seq,
        &leaf_hash,
        appended.leaf.time_ms
    ));
    Ok(crate::http::json(StatusCode::CREATED, &out))
}
