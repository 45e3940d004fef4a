//! Filing an objection: what it is about ([`Target`]), the enterprise's signed filing
//! ([`parse_filing`] → [`Filing`]) and [`file`], which lodges it — filed directly with the node, or
//! relayed by the platform that received it with its signed receipt (and hand-over).
//!
//! Guarantees: a filing is one objection (identified by the SHA-256 of its compact JWS); its signer
//! speaks for the enterprise (its own key valid at filing time, or an agent it delegated `object`
//! to) and its target is the enterprise's own data record or access entry; the objection row and
//! its first steps are written with their log entries in one committer job, or not at all.

use serde::Deserialize;
use serde_json::{Value, json};

use super::deadlines::deadline_for;
use super::state::{ObjectionState, record_step};
use super::statements::{
    MAX_STATEMENT_AGE_SECS, action, caller_statement, check_signer_is, invalid, node_statement, text_claim,
};
use super::views::get_unchecked;
use crate::calendar::format_cst;
use crate::credential::datetime::parse_datetime_stamp;
use crate::crypto::Sha256Digest;
use crate::error::{Error, Result};
use crate::ids::{ObjectionId, Uscc};
use crate::node::answers::objections::Objection;
use crate::node::auth;
use crate::node::registry::delegated;
use crate::node::{Caller, Node};
use crate::policy::Role;
use crate::storage::log_store::Tx;
use crate::storage::objections::{self as store, ObjectionRow};
use crate::storage::{data, from_millis, millis, participants};

/// Most attachments per filing.
pub const MAX_ATTACHMENTS: usize = 20;

/// What an objection is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A data record the node holds about the enterprise.
    Data {
        /// The record's id.
        record: i64,
    },
    /// An entry of the enterprise's access history.
    Access {
        /// The entry's log index.
        log_index: u64,
    },
}

impl Target {
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Self::Data { .. } => "data",
            Self::Access { .. } => "access",
        }
    }
    pub(super) fn reference(&self) -> String {
        match self {
            Self::Data { record } => record.to_string(),
            Self::Access { log_index } => log_index.to_string(),
        }
    }
    pub(super) fn to_json(&self) -> Value {
        match self {
            Self::Data { record } => json!({"type": "data", "record": record}),
            Self::Access { log_index } => json!({"type": "access", "logIndex": log_index}),
        }
    }
    pub(super) fn from_row(kind: &str, reference: &str) -> Self {
        match kind {
            "access" => Self::Access {
                log_index: reference.parse().unwrap_or(0),
            },
            _ => Self::Data {
                record: reference.parse().unwrap_or(0),
            },
        }
    }
}

/// An attachment named by its digest (the file itself stays with the enterprise and the receiver).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Attachment {
    /// File name.
    pub name: String,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
    /// Media type, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}

/// A verified filing: the enterprise's signed statement of its objection.
#[derive(Debug, Clone)]
pub struct Filing {
    /// The enterprise.
    pub enterprise: String,
    /// What it objects to.
    pub target: Target,
    /// Why.
    pub reason: String,
    /// Supporting files, by digest.
    pub attachments: Vec<Attachment>,
    /// When it was signed, ms.
    pub filed_at: i64,
    /// The signing key.
    pub signer: String,
    /// The compact JWS.
    pub token: String,
    /// SHA-256 (hex) of the token.
    pub sha256: String,
}

/// Verifies the signature and shape of an enterprise's filing (not yet who signed it: that needs the
/// registry, checked in [`file()`]).
pub fn parse_filing(node: &Node, token: &str) -> Result<Filing> {
    // The digest that identifies a filing is over the compact JWS exactly as verified: a trailing
    // line break (which the JWS check ignores) must not make the same filing a new one.
    let token = token.trim_end_matches(['\n', '\r']);
    let now = node.clock.now();
    let req = auth::verify_statement(
        token,
        action::FILE,
        &node.audience(),
        now,
        &node.keys,
        MAX_STATEMENT_AGE_SECS,
    )?;
    let enterprise = req
        .str("enterprise")
        .ok_or_else(|| invalid("claim enterprise (USCC) is missing"))?;
    let enterprise = Uscc::parse(enterprise)
        .map_err(|e| Error::invalid("invalid-uscc", format!("enterprise: {e}")))?
        .as_str()
        .to_owned();
    let target = match req.claims.get("target") {
        Some(Value::Object(t)) => match (t.get("type").and_then(Value::as_str), t.len()) {
            (Some("data"), 2) => Target::Data {
                record: t
                    .get("record")
                    .and_then(Value::as_i64)
                    .filter(|r| *r > 0)
                    .ok_or_else(|| invalid("target.record must be a record id"))?,
            },
            (Some("access"), 2) => Target::Access {
                log_index: t
                    .get("logIndex")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| invalid("target.logIndex must be a log index"))?,
            },
            _ => {
                return Err(invalid(
                    "target must be {\"type\":\"data\",\"record\":ID} or {\"type\":\"access\",\"logIndex\":N}",
                ));
            }
        },
        _ => return Err(invalid("claim target is missing")),
    };
    let reason = text_claim(&req, "reason", true)?.unwrap_or_default();
    let attachments: Vec<Attachment> = match req.claims.get("attachments") {
        None => Vec::new(),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| invalid(format!("attachments: {e}")))?,
    };
    if attachments.len() > MAX_ATTACHMENTS {
        return Err(invalid(format!("at most {MAX_ATTACHMENTS} attachments")));
    }
    for a in &attachments {
        if a.name.trim().is_empty() || a.name.chars().count() > 200 {
            return Err(invalid("an attachment name must have 1–200 characters"));
        }
        if a.sha256.len() != 64 || !a.sha256.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(invalid(format!(
                "attachment {:?}: sha256 must be 64 lowercase hex digits",
                a.name
            )));
        }
    }
    let iat = req.claims.get("iat").and_then(Value::as_i64).unwrap_or(0);
    Ok(Filing {
        enterprise,
        target,
        reason,
        attachments,
        filed_at: (iat * 1000).min(millis(now)),
        signer: req.signer.as_str().to_owned(),
        token: token.to_owned(),
        sha256: Sha256Digest::of(token.as_bytes()).to_hex(),
    })
}

/// The body of `POST /v1/objections`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lodge {
    /// The enterprise's signed filing (`action: object`).
    pub filing: String,
    /// A platform's signed receipt (`action: receive-objection`, claims `filingSha256`,
    /// `receivedAt`); required from a platform, absent from an enterprise filing at the node.
    #[serde(default)]
    pub receipt: Option<String>,
    /// A platform's signed hand-over (`action: forward-objection`, claim `filingSha256`), when it
    /// forwards in the same call.
    #[serde(default)]
    pub forward: Option<String>,
}

/// Checks that the filing's signer speaks for the enterprise (its key valid at filing time, or an
/// agent it delegated `object` to) and that the target is the enterprise's own.
fn check_filing(tx: &mut Tx<'_>, f: &Filing) -> Result<()> {
    let enterprise = participants::find(tx.conn, &f.enterprise, Role::Enterprise)?
        .ok_or_else(|| Error::Forbidden(format!("{} is not a registered enterprise", f.enterprise)))?;
    let own = matches!(participants::find_by_did(tx.conn, &f.signer)?,
        Some((p, k)) if p.id == enterprise.id && k.valid_from <= f.filed_at + 60_000
            && k.valid_until.is_none_or(|u| u > f.filed_at));
    if !own && delegated(tx.conn, &f.signer, enterprise.id, action::FILE, f.filed_at)?.is_none() {
        return Err(Error::Forbidden(format!(
            "{} may not object for {}",
            f.signer, f.enterprise
        )));
    }
    match &f.target {
        Target::Data { record } => match data::get(tx.conn, *record)? {
            Some(r) if r.uscc == f.enterprise => Ok(()),
            _ => Err(Error::NotFound(format!(
                "data record {record} of {}",
                f.enterprise
            ))),
        },
        Target::Access { log_index } => {
            let idx = i64::try_from(*log_index).map_err(|_| invalid("logIndex out of range"))?;
            let owner = crate::storage::audit::leaf_enterprise(tx.conn, idx)?;
            match owner {
                Some(Some(u)) if u == f.enterprise => Ok(()),
                _ => Err(Error::NotFound(format!(
                    "access entry {log_index} of {}",
                    f.enterprise
                ))),
            }
        }
    }
}

/// Lodges an objection: an enterprise filing directly (the node receives and takes it at once), or
/// a platform relaying a filing it received (with its signed receipt, and its hand-over if it
/// forwards in the same call). Answers the objection, including the receipt the enterprise keeps.
pub async fn file(node: &Node, caller: &Caller, body: Lodge) -> Result<Objection> {
    let filing = parse_filing(node, &body.filing)?;
    let (receipt, forward) = match caller.role {
        Role::Enterprise => {
            caller.require(&[Role::Enterprise])?;
            if filing.enterprise != caller.uscc() {
                return Err(Error::Forbidden(format!(
                    "{} may not object for {}",
                    caller.uscc(),
                    filing.enterprise
                )));
            }
            if body.receipt.is_some() || body.forward.is_some() {
                return Err(invalid(
                    "an enterprise files without receipt or forward statements",
                ));
            }
            let r = node_statement(
                node,
                action::RECEIVE,
                json!({"filingSha256": filing.sha256, "receivedAt": format_cst(node.clock.now())}),
            )?;
            let f = node_statement(node, action::FORWARD, json!({"filingSha256": filing.sha256}))?;
            (r, Some(f))
        }
        Role::Platform => {
            caller.require(&[Role::Platform])?;
            let token = body
                .receipt
                .as_deref()
                .ok_or_else(|| invalid("a platform relays a filing with its signed receipt"))?;
            let r = caller_statement(node, caller, token, action::RECEIVE, MAX_STATEMENT_AGE_SECS)?;
            let f = match body.forward.as_deref() {
                Some(t) => Some(caller_statement(node, caller, t, action::FORWARD, 600)?),
                None => None,
            };
            (r, f)
        }
        _ => {
            return Err(Error::Forbidden(format!(
                "a {} does not receive objections",
                caller.role.as_str()
            )));
        }
    };
    for st in std::iter::once(&receipt).chain(forward.as_ref()) {
        if st.req.str("filingSha256") != Some(filing.sha256.as_str()) {
            return Err(invalid(format!(
                "the {} statement must name the filing (filingSha256 {})",
                st.req.str("action").unwrap_or_default(),
                filing.sha256
            )));
        }
    }
    let now = node.now_ms();
    let received_at = match receipt.req.str("receivedAt") {
        Some(t) => millis(parse_datetime_stamp(t).map_err(|e| invalid(format!("receipt receivedAt: {e}")))?),
        None => return Err(invalid("the receipt must say when (receivedAt)")),
    };
    if received_at + 60_000 < filing.filed_at || received_at > now + 60_000 {
        return Err(invalid(
            "receivedAt must lie between the filing's signing time and now",
        ));
    }
    let received_at = received_at.min(now);
    let deadline = deadline_for(node, filing.filed_at);
    let caller_id = caller.participant.id;
    let platform_caller = caller.role == Role::Platform;
    let id = ObjectionId::random();
    let out = node
        .committer
        .run(move |tx| -> Result<ObjectionId> {
            if let Some(existing) = store::by_filing(tx.conn, &filing.sha256)? {
                return Err(Error::Conflict(format!(
                    "this filing was already lodged as {}",
                    existing.id
                )));
            }
            check_filing(tx, &filing)?;
            if platform_caller {
                check_signer_is(tx, &receipt, caller_id)?;
                if let Some(f) = &forward {
                    check_signer_is(tx, f, caller_id)?;
                    tx.consume_assertion(&f.req)?;
                }
            }
            let row = ObjectionRow {
                id: id.clone(),
                enterprise_uscc: filing.enterprise.clone(),
                target_kind: filing.target.kind().into(),
                target_ref: filing.target.reference(),
                reason: filing.reason.clone(),
                attachments: serde_json::to_string(&filing.attachments).unwrap_or_else(|_| "[]".into()),
                filing: filing.token.clone(),
                filing_sha256: filing.sha256.clone(),
                received_by: receipt.actor.uscc.clone(),
                received_role: if platform_caller { "platform" } else { "node" }.into(),
                filed_at: filing.filed_at,
                received_at,
                deadline_at: deadline.as_ref().ok().copied(),
                forwarded_at: None,
                state: ObjectionState::Received,
                overdue_flagged_at: None,
                calendar_flagged_at: None,
                updated_at: tx.now(),
            };
            store::insert(tx.conn, &row)?;
            let deadline_detail = match &deadline {
                Ok(d) => json!({"deadline": format_cst(from_millis(*d))}),
                Err(e) => json!({"deadline": null, "deadlineUnknown": e.to_string()}),
            };
            record_step(
                tx,
                &row,
                ObjectionState::Received,
                &receipt,
                received_at,
                deadline_detail,
            )?;
            if let Some(f) = &forward {
                let at = tx.now();
                let kept = row.deadline_at.map(|d| at <= d);
                record_step(
                    tx,
                    &row,
                    ObjectionState::Forwarded,
                    f,
                    at,
                    json!({"deadlineKept": kept}),
                )?;
            }
            Ok(row.id)
        })
        .await?;
    get_unchecked(node, out.to_string()).await
}
