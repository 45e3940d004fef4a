//! Objections and the free self-query at a platform (spec/objections.md §5.7, issue #13 item 4):
//! §14 of the measures puts the duty to accept objections and to answer an enterprise's own
//! queries on platforms too.
//!
//! * `POST /v1/objections` at the platform: an active enterprise (resolved at the node,
//!   spec/access-log.md §1.1) files its own signed filing here, or an active bank of this platform
//!   hands on a filing an enterprise gave it. The platform checks the filing (signature, addressed
//!   to the node, the enterprise it names is the caller when the caller is an enterprise), signs
//!   its receipt and its hand-over with its own key at once, and lodges all three at the node in
//!   one call: the objection is `forwarded` when the call returns, so the two-working-day rule is
//!   always kept. The node's refusal is the answer, as it came; on success the platform records
//!   the hand-over in its own log (kind `objection`, spending the caller's assertion).
//! * `GET /v1/enterprise/recipients`: an active enterprise's onward releases at this platform —
//!   which bank got which categories, when, for what, under which grant, citing the node's entry.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Platform;
use crate::credential::datetime::format_utc_seconds;
use crate::crypto::Sha256Digest;
use crate::error::{Error, Result};
use crate::log::entry::{AccessRecord, EntryKind, PartyRef};
use crate::node::Caller;
use crate::node::objections::{MAX_STATEMENT_AGE_SECS, ObjectionState, action};
use crate::policy::Role;
use crate::storage::log_store::NewEntry;

/// The body of `POST /v1/objections` at a platform: the enterprise's signed filing (addressed to
/// the node).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LodgeBody {
    /// The enterprise's filing (`action` `object`), a compact JWS.
    pub filing: String,
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    actix_web::rt::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
}

/// Accepts an objection at the platform and forwards it to the node in the same call.
pub async fn lodge(p: &Platform, caller: &Caller, body: LodgeBody) -> Result<HttpResponse> {
    caller.require(&[Role::Enterprise, Role::Bank])?;
    if caller.role == Role::Bank && caller.participant.platform_uscc.as_deref() != Some(p.uscc.as_str()) {
        return Err(Error::Forbidden(format!(
            "{} is not a bank of platform {}",
            caller.uscc(),
            p.uscc
        )));
    }
    let node_did = {
        let node = p.node.clone();
        blocking(move || node.node_did()).await?
    };
    let token = body.filing.trim_end_matches(['\n', '\r']).to_owned();
    let now = p.core.clock.now();
    let filing = crate::node::auth::verify_statement(
        &token,
        action::FILE,
        node_did.as_str(),
        now,
        &p.core.keys,
        MAX_STATEMENT_AGE_SECS,
    )?;
    let enterprise = filing
        .str("enterprise")
        .ok_or_else(|| Error::invalid("invalid-objection", "claim enterprise (USCC) is missing"))?;
    let enterprise = crate::ids::Uscc::parse(enterprise)
        .map_err(|e| Error::invalid("invalid-uscc", format!("enterprise: {e}")))?
        .as_str()
        .to_owned();
    if caller.role == Role::Enterprise && enterprise != caller.uscc() {
        return Err(Error::Forbidden(
            "an enterprise files objections about itself only".into(),
        ));
    }
    let sha = Sha256Digest::of(token.as_bytes()).to_hex();
    let receipt = crate::node::auth::make_request(
        &p.core.key,
        &node_did,
        action::RECEIVE,
        json!({"filingSha256": sha, "receivedAt": format_utc_seconds(now)}),
        now,
    )?;
    let forward = crate::node::auth::make_request(
        &p.core.key,
        &node_did,
        action::FORWARD,
        json!({"filingSha256": sha}),
        now,
    )?;
    let (code, text) = {
        let node = p.node.clone();
        let b = json!({"filing": token, "receipt": receipt, "forward": forward});
        blocking(move || node.post("/v1/objections", &b)).await?
    };
    if code != 201 {
        // The node's verdict, as it came (a filing it refuses is refused here too).
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
        if status.is_server_error() || !status.is_client_error() {
            return Err(Error::Upstream(format!(
                "the node answered {code} to the objection"
            )));
        }
        return Ok(HttpResponse::build(status)
            .content_type(crate::http::problem::PROBLEM_JSON)
            .body(text));
    }
    let objection: Value =
        serde_json::from_str(&text).map_err(|e| Error::Upstream(format!("the node's answer: {e}")))?;
    let forwarded = ObjectionState::Forwarded.as_str();
    let node_index = objection["steps"].as_array().and_then(|steps| {
        steps
            .iter()
            .rev()
            .find(|s| s["step"] == forwarded)
            .and_then(|s| s["logIndex"].as_u64())
    });
    let bank = (caller.role == Role::Bank).then(|| caller.uscc().to_owned());
    let entry = NewEntry {
        kind: EntryKind::Objection,
        enterprise: Some(enterprise.clone()),
        grant: None,
        caller: Some(caller.uscc().to_owned()),
        platform: Some(p.uscc.clone()),
        bank: bank.clone(),
        categories: None,
        decision: Some(forwarded.into()),
        record: AccessRecord {
            enterprise: Some(enterprise),
            caller: Some(PartyRef {
                uscc: caller.uscc().to_owned(),
                role: caller.role.as_str().into(),
                did: Some(caller.assertion.signer.as_str().to_owned()),
            }),
            platform: Some(p.uscc.clone()),
            bank,
            decision: Some(forwarded.into()),
            detail: Some(json!({
                "objection": objection["id"],
                "step": forwarded,
                "filingSha256": sha,
                "target": objection["target"],
                "nodeLogIndex": node_index,
            })),
            ..Default::default()
        },
    };
    let a = caller.assertion.clone();
    let appended = p
        .core
        .committer
        .run(move |tx| {
            tx.consume_assertion(&a)?;
            tx.append(entry)
        })
        .await?;
    let leaf_hash = hex::encode(appended.leaf_hash);
    let receipt = crate::node::receipts::promise(&p.core, appended.seq, &leaf_hash, appended.leaf.time_ms);
    Ok(crate::http::json(
        StatusCode::CREATED,
        &json!({
            "objection": objection,
            "logIndex": appended.seq,
            "leafHash": leaf_hash,
            "receipt": receipt,
        }),
    ))
}

/// Paging of `GET /v1/enterprise/recipients`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipientsQuery {
    /// Only releases with a larger log index (the cursor).
    pub after: Option<u64>,
    /// Page size: 1–10,000, default 100; another value is `400 invalid-query` (as `GET
    /// /v1/log/entries`, which this reads).
    pub limit: Option<i64>,
}

/// The enterprise's onward releases at this platform, oldest first: who received its data here.
pub async fn recipients(p: &Platform, caller: Caller, q: RecipientsQuery) -> Result<Value> {
    caller.require(&[Role::Enterprise])?;
    let query = crate::node::audit::EntryQuery {
        kind: Some(EntryKind::OnwardRelease.as_str().to_owned()),
        after: q.after,
        limit: q.limit,
        ..Default::default()
    };
    // Scoped to the caller's own entries by the same rule as the log's access chains.
    let page = p
        .core
        .store
        .call(move |c| crate::node::audit::entries(c, &caller, query))
        .await?;
    let list: Vec<Value> = page
        .items
        .iter()
        .map(|e| {
            let r = e.record.as_ref().unwrap_or(&Value::Null);
            json!({
                "logIndex": e.index,
                "time": e.time,
                "bank": r["bank"],
                "categories": r["categories"].as_array().map(|cs| cs.iter().map(|c| c["code"].clone()).collect::<Vec<_>>()),
                "purpose": r["purpose"],
                "grant": r["grant"]["id"],
                "dataSha256": r["dataSha256"],
                "upstream": r["upstream"],
            })
        })
        .collect();
    Ok(json!({"recipients": list, "next": page.next}))
}
