//! The signed statements every step rests on: the actions ([`action`]), who acts ([`Actor`]), the
//! step body ([`StepBody`]), and how a statement is verified and tied to its signer — or made and
//! signed by the node itself for objections filed directly with it.
//!
//! Guarantees: a statement is a `consentry-request+jwt` compact JWS for this node and this action,
//! at most [`MAX_STATEMENT_AGE_SECS`] old where a relay may be late; its signer must be a key of the
//! acting participant valid when it was signed (checked inside the step's transaction); free text is
//! at most [`MAX_TEXT`] characters.

use serde::Deserialize;
use serde_json::Value;

use crate::crypto::Sha256Digest;
use crate::error::{Error, Result};
use crate::log::entry::PartyRef;
use crate::node::auth::{self, SignedRequest};
use crate::node::{Caller, Node};
use crate::policy::Role;
use crate::storage::log_store::Tx;
use crate::storage::participants;

/// How old a filing or a receipt may be when it reaches the node (a platform relaying late).
pub const MAX_STATEMENT_AGE_SECS: i64 = 30 * 24 * 3600;

/// Longest reason or explanation, in characters.
pub const MAX_TEXT: usize = 2000;

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

pub(super) fn invalid(msg: impl Into<String>) -> Error {
    Error::invalid("invalid-objection", msg)
}

pub(super) fn text_claim(req: &SignedRequest, name: &str, required: bool) -> Result<Option<String>> {
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

/// The body of the step endpoints: the actor's signed statement.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    /// The signed statement.
    pub statement: String,
}

/// A signed statement of a step, verified, with the participant that signed it.
pub(super) struct Statement {
    pub(super) req: SignedRequest,
    pub(super) token: String,
    pub(super) actor: PartyRef,
}

impl Statement {
    pub(super) fn sha256(&self) -> String {
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
pub(super) fn actor_statement(
    node: &Node,
    actor: &Actor,
    token: &str,
    act: &str,
    max_age: i64,
) -> Result<Statement> {
    let token = token.trim_end_matches(['\n', '\r']);
    let req = auth::verify_statement(
        token,
        act,
        &node.audience(),
        node.clock.now(),
        &node.keys,
        max_age,
    )?;
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

pub(super) fn caller_statement(
    node: &Node,
    caller: &Caller,
    token: &str,
    act: &str,
    max_age: i64,
) -> Result<Statement> {
    actor_statement(node, &Actor::from(caller), token, act, max_age)
}

pub(super) fn check_signer_is(tx: &mut Tx<'_>, st: &Statement, participant_id: i64) -> Result<()> {
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
pub(super) fn node_statement(node: &Node, act: &str, claims: Value) -> Result<Statement> {
    let token = auth::make_request(&node.key, node.did(), act, claims, node.clock.now())?;
    let req = node.verify_request(&token, act)?;
    Ok(Statement {
        req,
        token,
        actor: PartyRef {
            uscc: crate::node::start::DEFAULT_NODE_USCC.to_owned(),
            role: "node".into(),
            did: Some(node.did().to_owned()),
        },
    })
}
