//! Objections (异议申诉, spec/objections.md): an enterprise objects to a data item about itself or to
//! an entry of its access history; whoever received the objection (a platform or the node) forwards
//! it to the node within two working days of the filing; the node works it to a resolution:
//!
//! ```text
//! received ─▶ forwarded ─▶ under-review ─▶ corrected | rejected
//! ```
//!
//! Every step is a statement signed by its actor (a `consentry-request+jwt` compact JWS: the
//! enterprise signs the filing, the receiver its receipt, the forwarder the hand-over, the node
//! operator the review and the resolution), chained by digest (each step names the previous one's
//! SHA-256, the first names the filing's), and appended to the access log as an `objection` entry on
//! the enterprise's chain, in the same transaction as the state change. A correction replaces the
//! data record's fields, keeps the old ones, and shows in the enterprise's history.
//!
//! The forwarding deadline is the end (23:59:59.999 CST) of the second working day after the date of
//! the enterprise's signed filing, counted with the Chinese holiday calendar ([`crate::calendar`]).
//! When the calendar lacks a year the count needs, the deadline is left unknown and the regulators
//! are told, rather than guessed; it is computed as soon as a calendar with that year is loaded.

use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{self, SignedRequest};
use super::registry::delegated;
use super::{Caller, Node, notify};
use crate::calendar::{CalendarError, WorkCalendar, format_cst};
use crate::credential::datetime::parse_datetime_stamp;
use crate::crypto::Sha256Digest;
use crate::error::{Error, Result};
use crate::ids::Uscc;
use crate::log::entry::{AccessRecord, EntryKind, PartyRef};
use crate::policy::Role;
use crate::storage::log_store::{NewEntry, Tx};
use crate::storage::objections::{self as store, Filter, NewStep, ObjectionRow, StepRow};
use crate::storage::{DbConn, data, from_millis, millis, participants};

/// Working days a receiver has to forward an objection to the node.
pub const FORWARD_WORKING_DAYS: u32 = 2;
/// How old a filing or a receipt may be when it reaches the node (a platform relaying late).
pub const MAX_STATEMENT_AGE_SECS: i64 = 30 * 24 * 3600;
/// Longest reason or explanation, in characters.
pub const MAX_TEXT: usize = 2000;
/// Most attachments per filing.
pub const MAX_ATTACHMENTS: usize = 20;
/// Largest corrected record, in bytes of JSON.
pub const MAX_CORRECTION: usize = 16 * 1024;

/// Signed-statement actions, one per step (the `action` claim).
pub mod action {
    /// The enterprise's filing.
    pub const FILE: &str = "object";
    /// A receiver's receipt.
    pub const RECEIVE: &str = "receive-objection";
    /// A receiver's hand-over to the node.
    pub const FORWARD: &str = "forward-objection";
    /// The node operator opens the review.
    pub const REVIEW: &str = "review-objection";
    /// The node operator's resolution.
    pub const RESOLVE: &str = "resolve-objection";
}

/// An objection's state (and the name of the step that led to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The receiver has it.
    Received,
    /// The node has it.
    Forwarded,
    /// The node is reviewing it.
    UnderReview,
    /// Upheld: the data (or the finding on the access entry) was corrected.
    Corrected,
    /// Not upheld.
    Rejected,
}

impl Step {
    /// The kebab-case name stored and shown.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Forwarded => "forwarded",
            Self::UnderReview => "under-review",
            Self::Corrected => "corrected",
            Self::Rejected => "rejected",
        }
    }

    /// The step for its name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Received,
            Self::Forwarded,
            Self::UnderReview,
            Self::Corrected,
            Self::Rejected,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

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
    fn kind(&self) -> &'static str {
        match self {
            Self::Data { .. } => "data",
            Self::Access { .. } => "access",
        }
    }
    fn reference(&self) -> String {
        match self {
            Self::Data { record } => record.to_string(),
            Self::Access { log_index } => log_index.to_string(),
        }
    }
    fn to_json(&self) -> Value {
        match self {
            Self::Data { record } => json!({"type": "data", "record": record}),
            Self::Access { log_index } => json!({"type": "access", "logIndex": log_index}),
        }
    }
    fn from_row(kind: &str, reference: &str) -> Self {
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

fn invalid(msg: impl Into<String>) -> Error {
    Error::invalid("invalid-objection", msg)
}

fn text_claim(req: &SignedRequest, name: &str, required: bool) -> Result<Option<String>> {
    match req.claims.get(name) {
        None | Some(Value::Null) if !required => Ok(None),
        Some(Value::String(s)) => {
            let t = s.trim();
            if t.is_empty() && required {
                return Err(invalid(format!("{name} is empty")));
            }
            if t.chars().count() > MAX_TEXT {
                return Err(invalid(format!("{name} is longer than {MAX_TEXT} characters")));
            }
            Ok(Some(t.to_owned()))
        }
        _ => Err(invalid(format!("claim {name} must be a string"))),
    }
}

/// Verifies the signature and shape of an enterprise's filing (not yet who signed it: that needs the
/// registry, checked in [`file`]).
pub fn parse_filing(node: &Node, token: &str) -> Result<Filing> {
    // The digest that identifies a filing is over the compact JWS exactly as verified: a trailing
    // line break (which the JWS check ignores) must not make the same filing a new one.
    let token = token.trim_end_matches(['\n', '\r']);
    let now = node.clock.now();
    let req = auth::verify_statement(
        token,
        action::FILE,
        node.did(),
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

/// The body of the step endpoints: the actor's signed statement.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    /// The signed statement.
    pub statement: String,
}

/// A signed statement of a step, verified, with the participant that signed it.
struct Statement {
    req: SignedRequest,
    token: String,
    actor: PartyRef,
}

impl Statement {
    fn sha256(&self) -> String {
        Sha256Digest::of(self.token.as_bytes()).to_hex()
    }
}

/// Who acts on an objection: an authenticated caller, or the node operator at the command line.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The participant's registry id (its keys sign the statements).
    pub participant_id: i64,
    /// Its USCC.
    pub uscc: String,
    /// Its role.
    pub role: Role,
}

impl From<&Caller> for Actor {
    fn from(c: &Caller) -> Self {
        Self {
            participant_id: c.participant.id,
            uscc: c.uscc().to_owned(),
            role: c.role,
        }
    }
}

/// Verifies a statement for `actor` (whose key must have signed it: checked in the transaction).
fn actor_statement(node: &Node, actor: &Actor, token: &str, act: &str, max_age: i64) -> Result<Statement> {
    let token = token.trim_end_matches(['\n', '\r']);
    let req = auth::verify_statement(token, act, node.did(), node.clock.now(), &node.keys, max_age)?;
    Ok(Statement {
        actor: PartyRef {
            uscc: actor.uscc.clone(),
            role: actor.role.as_str().to_owned(),
            did: Some(req.signer.as_str().to_owned()),
        },
        token: token.to_owned(),
        req,
    })
}

fn caller_statement(node: &Node, caller: &Caller, token: &str, act: &str, max_age: i64) -> Result<Statement> {
    actor_statement(node, &Actor::from(caller), token, act, max_age)
}

fn check_signer_is(tx: &mut Tx<'_>, st: &Statement, participant_id: i64) -> Result<()> {
    let at = st.req.claims.get("iat").and_then(Value::as_i64).unwrap_or(0) * 1000;
    match participants::find_by_did(tx.conn, st.req.signer.as_str())? {
        Some((p, k))
            if p.id == participant_id
                && k.valid_from <= at + 60_000
                && k.valid_until.is_none_or(|u| u > at) =>
        {
            Ok(())
        }
        _ => Err(Error::Forbidden(format!(
            "{} is not a key of the caller valid when the statement was signed",
            st.req.signer
        ))),
    }
}

/// A statement the node makes and signs itself (its own receipt and hand-over, for objections
/// filed directly with it).
fn node_statement(node: &Node, act: &str, claims: Value) -> Result<Statement> {
    let token = auth::make_request(&node.key, node.did(), act, claims, node.clock.now())?;
    let req = auth::verify_request(&token, act, node.did(), node.clock.now(), &node.keys)?;
    Ok(Statement {
        req,
        token,
        actor: PartyRef {
            uscc: super::start::DEFAULT_NODE_USCC.to_owned(),
            role: "node".into(),
            did: Some(node.did().to_owned()),
        },
    })
}

/// The deadline for a filing signed at `filed_at` (ms), or why it is unknown.
pub fn deadline_for(node: &Node, filed_at: i64) -> std::result::Result<i64, CalendarError> {
    node.calendar
        .get()
        .deadline(from_millis(filed_at), FORWARD_WORKING_DAYS)
        .map(|d| millis(d.end))
}

/// Appends a step: its log entry, its row, the state change, and the notices.
fn record_step(
    tx: &mut Tx<'_>,
    o: &ObjectionRow,
    step: Step,
    st: &Statement,
    at: i64,
    detail: Value,
) -> Result<(u64, String)> {
    let prev = store::steps(tx.conn, &o.id)?
        .last()
        .map_or_else(|| o.filing_sha256.clone(), |s| s.sha256.clone());
    let sha = st.sha256();
    let platform = (o.received_role == "platform").then(|| o.received_by.clone());
    let mut d = json!({
        "objection": o.id,
        "step": step.as_str(),
        "statementSha256": sha,
        "prevSha256": prev,
        "target": Target::from_row(&o.target_kind, &o.target_ref).to_json(),
    });
    if let (Value::Object(m), Value::Object(extra)) = (&mut d, detail) {
        m.extend(extra);
    }
    let e = tx.append(NewEntry {
        kind: EntryKind::Objection,
        enterprise: Some(o.enterprise_uscc.clone()),
        grant: None,
        caller: Some(st.actor.uscc.clone()),
        platform: platform.clone(),
        bank: None,
        categories: None,
        decision: Some(step.as_str().to_owned()),
        record: AccessRecord {
            enterprise: Some(o.enterprise_uscc.clone()),
            caller: Some(st.actor.clone()),
            platform,
            decision: Some(step.as_str().to_owned()),
            detail: Some(d),
            ..AccessRecord::default()
        },
    })?;
    let seq = i64::try_from(e.seq).map_err(|_| Error::Internal("log index".into()))?;
    store::add_step(
        tx.conn,
        &NewStep {
            objection_id: &o.id,
            step: step.as_str(),
            actor_uscc: &st.actor.uscc,
            actor_role: &st.actor.role,
            actor_did: st.actor.did.as_deref().unwrap_or_default(),
            statement: &st.token,
            sha256: &sha,
            prev_sha256: Some(&prev),
            at,
            log_seq: seq,
        },
        (step == Step::Forwarded).then_some(at),
    )?;
    let body = json!({
        "objection": o.id,
        "state": step.as_str(),
        "at": format_cst(from_millis(at)),
        "logIndex": e.seq,
        "message": message(step, &o.id),
    });
    notify::enqueue(
        tx.conn,
        &o.enterprise_uscc,
        notify::OBJECTION_UPDATED,
        body.clone(),
        at,
    )?;
    if o.received_role == "platform" {
        notify::enqueue(tx.conn, &o.received_by, notify::OBJECTION_UPDATED, body, at)?;
    }
    Ok((e.seq, sha))
}

fn message(step: Step, id: &str) -> String {
    match step {
        Step::Received => format!("异议 {id} 已受理。Objection {id} was received."),
        Step::Forwarded => format!("异议 {id} 已转至节点。Objection {id} reached the node."),
        Step::UnderReview => format!("异议 {id} 正在核查。Objection {id} is under review."),
        Step::Corrected => {
            format!("异议 {id} 成立，数据已更正。Objection {id} was upheld and the data corrected.")
        }
        Step::Rejected => format!("异议 {id} 不成立。Objection {id} was rejected."),
    }
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
pub async fn file(node: &Node, caller: &Caller, body: Lodge) -> Result<Value> {
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
    let id = format!("obj-{}", uuid::Uuid::new_v4());
    let out = node
        .committer
        .run(move |tx| -> Result<String> {
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
                    tx.consume_jti(&f.req.jti, f.req.signer.as_str(), f.req.expires_ms)?;
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
                state: Step::Received.as_str().into(),
                overdue_flagged_at: None,
                calendar_flagged_at: None,
                updated_at: tx.now(),
            };
            store::insert(tx.conn, &row)?;
            let deadline_detail = match &deadline {
                Ok(d) => json!({"deadline": format_cst(from_millis(*d))}),
                Err(e) => json!({"deadline": null, "deadlineUnknown": e.to_string()}),
            };
            record_step(tx, &row, Step::Received, &receipt, received_at, deadline_detail)?;
            if let Some(f) = &forward {
                let at = tx.now();
                let kept = row.deadline_at.map(|d| at <= d);
                record_step(tx, &row, Step::Forwarded, f, at, json!({"deadlineKept": kept}))?;
            }
            Ok(row.id)
        })
        .await?;
    get_unchecked(node, out).await
}

/// A platform hands over an objection it registered earlier with its receipt only.
pub async fn forward(node: &Node, caller: &Caller, id: String, body: StepBody) -> Result<Value> {
    caller.require(&[Role::Platform])?;
    let st = caller_statement(node, caller, &body.statement, action::FORWARD, 600)?;
    let caller_id = caller.participant.id;
    let caller_uscc = caller.uscc().to_owned();
    let id2 = id.clone();
    node.committer
        .run(move |tx| -> Result<()> {
            let o = store::get(tx.conn, &id2)?.ok_or_else(|| Error::NotFound(format!("objection {id2}")))?;
            if o.received_by != caller_uscc {
                return Err(Error::NotFound(format!("objection {id2}")));
            }
            if st.req.str("filingSha256") != Some(o.filing_sha256.as_str()) {
                return Err(invalid(
                    "the statement must name the objection's filing (filingSha256)",
                ));
            }
            if o.state != Step::Received.as_str() {
                return Err(Error::Conflict(format!(
                    "objection {id2} is {}; cannot forward",
                    o.state
                )));
            }
            check_signer_is(tx, &st, caller_id)?;
            tx.consume_jti(&st.req.jti, st.req.signer.as_str(), st.req.expires_ms)?;
            let at = tx.now();
            let kept = o.deadline_at.map(|d| at <= d);
            record_step(tx, &o, Step::Forwarded, &st, at, json!({"deadlineKept": kept}))?;
            Ok(())
        })
        .await?;
    get_unchecked(node, id).await
}

/// The body of a resolution statement's `correction` claim.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Correction {
    fields: serde_json::Map<String, Value>,
}

/// The node operator opens the review (`review-objection`) or resolves it (`resolve-objection`,
/// claims `outcome` = `corrected` | `rejected`, `explanation`, and for a data objection upheld,
/// `correction: {fields: {…}}` — the record's new fields).
pub async fn decide(
    node: &Node,
    caller: &Caller,
    id: String,
    act: &'static str,
    body: StepBody,
) -> Result<Value> {
    caller.require(&[Role::Node])?;
    decide_as(node, Actor::from(caller), id, act, body).await
}

/// [`decide`] for an actor already known to be the node operator (the command line, with the node's
/// key).
pub async fn decide_as(
    node: &Node,
    actor: Actor,
    id: String,
    act: &'static str,
    body: StepBody,
) -> Result<Value> {
    if actor.role != Role::Node {
        return Err(Error::Forbidden(
            "only the node operator reviews and resolves objections".into(),
        ));
    }
    let st = actor_statement(node, &actor, &body.statement, act, 600)?;
    if st.req.str("objection") != Some(id.as_str()) {
        return Err(invalid(format!(
            "the statement must name the objection (objection {id})"
        )));
    }
    let explanation = text_claim(&st.req, "explanation", act == action::RESOLVE)?;
    let outcome = match act {
        action::REVIEW => Step::UnderReview,
        _ => match st.req.str("outcome").and_then(Step::parse) {
            Some(s @ (Step::Corrected | Step::Rejected)) => s,
            _ => return Err(invalid("outcome must be \"corrected\" or \"rejected\"")),
        },
    };
    let correction = match st.req.claims.get("correction") {
        None => None,
        Some(v) => {
            let c: Correction =
                serde_json::from_value(v.clone()).map_err(|e| invalid(format!("correction: {e}")))?;
            let text = serde_json::to_string(&c.fields).map_err(|e| Error::Internal(e.to_string()))?;
            if text.len() > MAX_CORRECTION {
                return Err(invalid(format!("correction larger than {MAX_CORRECTION} bytes")));
            }
            Some(text)
        }
    };
    let caller_id = actor.participant_id;
    let id2 = id.clone();
    node.committer
        .run(move |tx| -> Result<()> {
            let o = store::get(tx.conn, &id2)?.ok_or_else(|| Error::NotFound(format!("objection {id2}")))?;
            let from = Step::parse(&o.state).ok_or_else(|| {
                Error::Storage(crate::storage::StorageError::Corrupt(format!(
                    "objection {id2} has state {:?}",
                    o.state
                )))
            })?;
            let allowed = match outcome {
                Step::UnderReview => from == Step::Forwarded,
                _ => from == Step::UnderReview,
            };
            if !allowed {
                return Err(Error::Conflict(format!(
                    "objection {id2} is {}; cannot move to {}",
                    o.state,
                    outcome.as_str()
                )));
            }
            check_signer_is(tx, &st, caller_id)?;
            tx.consume_jti(&st.req.jti, st.req.signer.as_str(), st.req.expires_ms)?;
            let target = Target::from_row(&o.target_kind, &o.target_ref);
            let mut detail = json!({"explanation": explanation});
            let mut change = None;
            match (&target, outcome, &correction) {
                (Target::Data { record }, Step::Corrected, Some(new_body)) => {
                    let r = data::get(tx.conn, *record)?
                        .ok_or_else(|| Error::Conflict(format!("data record {record} no longer exists")))?;
                    detail["correction"] = json!({
                        "record": record,
                        "category": r.category,
                        "oldSha256": Sha256Digest::of(r.body.as_bytes()).to_hex(),
                        "newSha256": Sha256Digest::of(new_body.as_bytes()).to_hex(),
                    });
                    change = Some((*record, r.body, new_body.clone()));
                }
                (Target::Data { .. }, Step::Corrected, None) => {
                    return Err(invalid("a data objection is corrected with correction.fields"));
                }
                (_, _, Some(_)) => {
                    return Err(invalid(
                        "correction is given only when a data objection is corrected",
                    ));
                }
                _ => {}
            }
            let at = tx.now();
            let (seq, _) = record_step(tx, &o, outcome, &st, at, detail)?;
            if let Some((record, old, new)) = change {
                data::correct(tx.conn, record, &new)?;
                store::add_correction(
                    tx.conn,
                    record,
                    &o.id,
                    &old,
                    &new,
                    at,
                    i64::try_from(seq).unwrap_or(0),
                )?;
            }
            Ok(())
        })
        .await?;
    get_unchecked(node, id).await
}

/// The deadline's state for display and statistics.
fn deadline_view(cal: &WorkCalendar, o: &ObjectionRow, now: i64) -> Value {
    match o.deadline_at {
        None if o.forwarded_at.is_some_and(|f| same_cst_day(f, o.filed_at)) => {
            // Forwarded on the day it was filed: within any deadline, whatever the calendar says.
            json!({"workingDays": FORWARD_WORKING_DAYS, "status": "kept"})
        }
        None => {
            let why = cal
                .deadline(from_millis(o.filed_at), FORWARD_WORKING_DAYS)
                .err()
                .map(|e| e.to_string());
            json!({"workingDays": FORWARD_WORKING_DAYS, "status": "unknown", "reason": why})
        }
        Some(d) => {
            let status = match o.forwarded_at {
                Some(f) if f <= d || same_cst_day(f, o.filed_at) => "kept",
                Some(_) => "missed",
                None if now > d => "missed",
                None => "pending",
            };
            let date = from_millis(d).to_offset(crate::calendar::CST).date();
            json!({
                "workingDays": FORWARD_WORKING_DAYS,
                "date": date.to_string(),
                "at": format_cst(from_millis(d)),
                "status": status,
            })
        }
    }
}

fn same_cst_day(a: i64, b: i64) -> bool {
    let day = |ms| from_millis(ms).to_offset(crate::calendar::CST).date();
    day(a) == day(b)
}

fn step_view(s: &StepRow) -> Value {
    json!({
        "step": s.step,
        "actor": {"uscc": s.actor_uscc, "role": s.actor_role, "did": s.actor_did},
        "at": format_cst(from_millis(s.at)),
        "statement": s.statement,
        "sha256": s.sha256,
        "prevSha256": s.prev_sha256,
        "logIndex": s.log_seq,
    })
}

fn view(c: &mut DbConn, o: &ObjectionRow, full: bool, now: i64, cal: &WorkCalendar) -> Result<Value> {
    let deadline = deadline_view(cal, o, now);
    let overdue = deadline["status"] == "missed";
    let mut v = json!({
        "id": o.id,
        "enterprise": o.enterprise_uscc,
        "target": Target::from_row(&o.target_kind, &o.target_ref).to_json(),
        "reason": o.reason,
        "attachments": serde_json::from_str::<Value>(&o.attachments).unwrap_or(Value::Array(vec![])),
        "state": o.state,
        "receivedBy": {"uscc": o.received_by, "role": o.received_role},
        "filedAt": format_cst(from_millis(o.filed_at)),
        "receivedAt": format_cst(from_millis(o.received_at)),
        "forwardedAt": o.forwarded_at.map(|f| format_cst(from_millis(f))),
        "deadline": deadline,
        "overdue": overdue,
        "updatedAt": format_cst(from_millis(o.updated_at)),
    });
    if full {
        let steps = store::steps(c, &o.id)?;
        v["steps"] = Value::Array(steps.iter().map(step_view).collect());
        v["filing"] = Value::String(o.filing.clone());
        v["filingSha256"] = Value::String(o.filing_sha256.clone());
        if let Some(first) = steps.first() {
            v["receipt"] = Value::String(first.statement.clone());
        }
        let corrections: Vec<Value> = store::corrections(c, &o.id)?
            .into_iter()
            .map(|k| {
                json!({
                    "record": k.record_id,
                    "old": serde_json::from_str::<Value>(&k.old_body).unwrap_or(Value::Null),
                    "new": serde_json::from_str::<Value>(&k.new_body).unwrap_or(Value::Null),
                    "at": format_cst(from_millis(k.at)),
                    "logIndex": k.log_seq,
                })
            })
            .collect();
        v["corrections"] = Value::Array(corrections);
    }
    Ok(v)
}

async fn get_unchecked(node: &Node, id: String) -> Result<Value> {
    let (now, cal) = (node.now_ms(), node.calendar.get());
    node.store
        .call(move |c| -> Result<Value> {
            let o = store::get(c, &id)?.ok_or_else(|| Error::NotFound(format!("objection {id}")))?;
            view(c, &o, true, now, &cal)
        })
        .await
}

/// Whether `viewer` may see `o`: its enterprise, the platform that received it, the node, regulators.
fn visible(viewer: &Actor, o: &ObjectionRow) -> bool {
    match viewer.role {
        Role::Node | Role::Regulator => true,
        Role::Enterprise => o.enterprise_uscc == viewer.uscc,
        Role::Platform => o.received_by == viewer.uscc,
        Role::Bank => false,
    }
}

/// One objection with its steps, statements and corrections, if the viewer may see it.
pub async fn get(node: &Node, viewer: &Actor, id: String) -> Result<Value> {
    let (now, cal) = (node.now_ms(), node.calendar.get());
    let caller = viewer.clone();
    node.store
        .call(move |c| -> Result<Value> {
            let o = store::get(c, &id)?
                .filter(|o| visible(&caller, o))
                .ok_or_else(|| Error::NotFound(format!("objection {id}")))?;
            view(c, &o, true, now, &cal)
        })
        .await
}

/// Query of `GET /v1/objections`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this state.
    pub state: Option<String>,
    /// Only overdue ones (deadline missed, forwarded or not).
    pub overdue: Option<bool>,
    /// Only those whose deadline is unknown (calendar missing).
    #[serde(rename = "deadlineUnknown")]
    pub deadline_unknown: Option<bool>,
    /// Only this enterprise's (node and regulators).
    pub enterprise: Option<String>,
    /// Cursor: the `next` of the previous page.
    pub before: Option<String>,
    /// Page size (default 50, at most 500).
    pub limit: Option<i64>,
}

/// Objections the viewer may see, newest first, with a cursor.
pub async fn list(node: &Node, caller: &Actor, q: ListQuery) -> Result<Value> {
    if caller.role == Role::Bank {
        return Err(Error::Forbidden("banks do not handle objections".into()));
    }
    let (now, cal) = (node.now_ms(), node.calendar.get());
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let mut f = Filter {
        state: q.state.clone(),
        enterprise: q.enterprise.clone(),
        overdue_at: q.overdue.unwrap_or(false).then_some(now),
        deadline_unknown: q.deadline_unknown.unwrap_or(false),
        limit,
        ..Filter::default()
    };
    if let Some(s) = &f.state {
        if Step::parse(s).is_none() {
            return Err(Error::invalid("invalid-query", format!("unknown state {s}")));
        }
    }
    match caller.role {
        Role::Enterprise => f.enterprise = Some(caller.uscc.clone()),
        Role::Platform => f.received_by = Some(caller.uscc.clone()),
        _ => {}
    }
    if let Some(b) = &q.before {
        let (at, id) = b
            .split_once('~')
            .and_then(|(a, i)| {
                let at = a
                    .parse::<i64>()
                    .ok()
                    .filter(|t| *t >= 0 && a.bytes().all(|b| b.is_ascii_digit()))?;
                let uuid = i.strip_prefix("obj-")?;
                uuid::Uuid::parse_str(uuid).ok()?;
                Some((at, i.to_owned()))
            })
            .ok_or_else(|| Error::invalid("invalid-query", "before: not a cursor from this API"))?;
        f.before = Some((at, id));
    }
    node.store
        .call(move |c| -> Result<Value> {
            let rows = store::list(c, &f)?;
            let next = (i64::try_from(rows.len()).unwrap_or(0) == f.limit)
                .then(|| rows.last().map(|o| format!("{}~{}", o.received_at, o.id)))
                .flatten();
            let items = rows
                .iter()
                .map(|o| view(c, o, false, now, &cal))
                .collect::<Result<Vec<_>>>()?;
            Ok(json!({"objections": items, "next": next}))
        })
        .await
}

/// Periodic duties: compute deadlines that were unknown once the calendar has their year, tell the
/// regulators (once each) about objections whose deadline passed unforwarded, and about objections
/// whose deadline cannot be computed. Returns how many objections it flagged or updated.
pub async fn sweep(node: &Node) -> Result<usize> {
    if let Err(e) = node.calendar.reload_if_changed() {
        tracing::warn!(error = %e, "working-day calendar not reloaded");
    }
    let cal = node.calendar.get();
    node.committer
        .run(move |tx| -> Result<usize> {
            let now = tx.now();
            let mut n = 0;
            let regulators: Vec<String> = participants::list(
                tx.conn,
                Some(Role::Regulator.as_str()),
                Some(crate::policy::ParticipantState::Active.as_str()),
                None,
            )?
                .into_iter()
                .map(|p| p.uscc)
                .collect();
            let mut unknown = Vec::new();
            loop {
                let page = store::without_deadline(tx.conn, unknown.last().map(|o: &store::ObjectionRow| o.id.as_str()), 500)?;
                let done = page.len() < 500;
                unknown.extend(page);
                if done {
                    break;
                }
            }
            for o in unknown {
                match cal.deadline(from_millis(o.filed_at), FORWARD_WORKING_DAYS) {
                    Ok(d) => {
                        store::set_deadline(tx.conn, &o.id, millis(d.end))?;
                        n += 1;
                    }
                    // Forwarded on its filing day: kept whatever the calendar says, nothing to flag.
                    Err(_) if o.forwarded_at.is_some_and(|f| same_cst_day(f, o.filed_at)) => {}
                    Err(e) if o.calendar_flagged_at.is_none() => {
                        let body = json!({
                            "objection": o.id,
                            "flag": "deadline-unknown",
                            "reason": e.to_string(),
                            "message": format!("异议 {} 的转送期限无法计算：{e}。The forwarding deadline of objection {} cannot be computed: {e}", o.id, o.id),
                        });
                        for r in &regulators {
                            notify::enqueue(tx.conn, r, notify::OBJECTION_UPDATED, body.clone(), now)?;
                        }
                        store::mark_flagged(tx.conn, &o.id, false, now)?;
                        n += 1;
                    }
                    Err(_) => {}
                }
            }
            for o in store::newly_overdue(tx.conn, now, 500)? {
                let body = json!({
                    "objection": o.id,
                    "flag": "overdue",
                    "receivedBy": o.received_by,
                    "deadline": o.deadline_at.map(|d| format_cst(from_millis(d))),
                    "message": format!("异议 {} 未在两个工作日内转至节点（受理方 {}）。Objection {} was not forwarded to the node within two working days (received by {}).", o.id, o.received_by, o.id, o.received_by),
                });
                for r in &regulators {
                    notify::enqueue(tx.conn, r, notify::OBJECTION_UPDATED, body.clone(), now)?;
                }
                store::mark_flagged(tx.conn, &o.id, true, now)?;
                n += 1;
            }
            Ok(n)
        })
        .await
}
