//! The 苏信码: the public display of an enterprise's credit evaluation, only with its consent
//! (`spec/evaluation.md` §6; the measures §8).
//!
//! 1. [`change`]: the enterprise authorizes (for its evaluation current at that moment: consent
//!    covers that one evaluation, never a later one) or revokes the display by a signed request
//!    (`consentry-request+jwt`, action `display-authorize` or `display-revoke`, claim
//!    `enterprise`) signed with its current key. The request is kept as evidence and the change is a
//!    `public-display` log entry, in one transaction. Signed by any other key: refused, nothing
//!    written.
//! 2. [`public_view`]: what the public page may show, decided here, not in the browser: the covered
//!    evaluation's credential only while display is authorized and that evaluation is neither
//!    withdrawn nor expired; otherwise the plain reason and nothing of the evaluation.
//! 3. [`qr_svg`]: the page's URL as a QR code (SVG).

use serde_json::{Value, json};

use super::Node;
use super::answers::display::{DisplayConsent, DisplayedEnterprise, PublicDisplay};
use crate::error::{Error, Result};
use crate::evaluation::EvaluationState;
use crate::ids::Uscc;
use crate::log::entry::{AccessRecord, EntryKind, PartyRef};
use crate::policy::{ParticipantState, Role};
use crate::storage::displays::{self, Display};
use crate::storage::log_store::NewEntry;
use crate::storage::{evaluations, participants};

/// What the enterprise signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayAction {
    /// Consent to show the current evaluation publicly.
    Authorize,
    /// Withdraw that consent.
    Revoke,
}

impl DisplayAction {
    /// The signed request's `action`: `display-authorize` or `display-revoke`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Authorize => "display-authorize",
            Self::Revoke => "display-revoke",
        }
    }

    /// The action named in a URL: `authorize` or `revoke`.
    pub fn parse(path: &str) -> Option<Self> {
        match path {
            "authorize" => Some(Self::Authorize),
            "revoke" => Some(Self::Revoke),
            _ => None,
        }
    }

    /// The log record's `decision`.
    fn decision(self) -> &'static str {
        match self {
            Self::Authorize => "display-authorized",
            Self::Revoke => "display-revoked",
        }
    }
}

/// What the display claims to cover: the credit evaluation, and nothing else.
pub const DISPLAY_SCOPE: &str = "credit-evaluation";

/// The public page of an enterprise: `<public>/sxm/<uscc>`.
pub fn page_url(node: &Node, uscc: &str) -> String {
    format!("{}/sxm/{uscc}", node.public_url)
}

/// Step 1: authorizes or revokes the display by the enterprise's signed request.
pub async fn change(node: &Node, action: DisplayAction, token: &str) -> Result<DisplayConsent> {
    let now = node.clock.now();
    let req = super::auth::verify_request(token, action.as_str(), &node.audience(), now, &node.keys)?;
    let enterprise = req
        .str("enterprise")
        .ok_or_else(|| Error::invalid("signed-request", "claim enterprise is missing"))?;
    let enterprise = Uscc::parse(enterprise)
        .map_err(|e| Error::invalid("invalid-uscc", format!("enterprise: {e}")))?
        .as_str()
        .to_owned();
    if action == DisplayAction::Authorize && req.str("display") != Some(DISPLAY_SCOPE) {
        return Err(Error::invalid(
            "signed-request",
            format!("claim display must be {DISPLAY_SCOPE:?}: what is to be shown"),
        ));
    }
    let evidence = token.to_owned();
    let page = page_url(node, &enterprise);
    node.committer
        .run(move |tx| -> Result<DisplayConsent> {
            let signer = req.signer.as_str();
            let own = matches!(participants::find_by_did(tx.conn, signer)?,
                Some((p, k)) if p.uscc == enterprise && p.role == Role::Enterprise
                    && p.state == ParticipantState::Active && k.valid_until.is_none());
            if !own {
                return Err(Error::Forbidden(format!(
                    "{signer} is not the current key of enterprise {enterprise}"
                )));
            }
            let want = action == DisplayAction::Authorize;
            // Consent covers the evaluation current now: there must be one to show.
            let covers = if want {
                let now_ms = tx.now();
                match evaluations::latest_of(tx.conn, &enterprise)? {
                    Some(e) if EvaluationState::at(e.withdrawn_at.is_some(), e.valid_until, now_ms) == EvaluationState::Active => Some(e.id),
                    _ => {
                        return Err(Error::Conflict(format!(
                            "enterprise {enterprise} has no current credit evaluation to show"
                        )));
                    }
                }
            } else {
                None
            };
            tx.consume_assertion(&req)?;
            let current = displays::get(tx.conn, &enterprise)?;
            let (authorized, log_index, changed_at, evaluation) = match current {
                // Asking for what already holds adds no log entry.
                Some(d) if d.authorized == want && d.evaluation_id == covers => {
                    (d.authorized, d.log_index, d.changed_at, d.evaluation_id)
                }
                _ => {
                    let at = tx.now();
                    let seq = tx
                        .append(NewEntry {
                            kind: EntryKind::PublicDisplay,
                            enterprise: Some(enterprise.clone()),
                            grant: None,
                            caller: Some(enterprise.clone()),
                            platform: None,
                            bank: None,
                            categories: None,
                            decision: Some(action.decision().into()),
                            record: AccessRecord {
                                enterprise: Some(enterprise.clone()),
                                caller: Some(PartyRef {
                                    uscc: enterprise.clone(),
                                    role: Role::Enterprise.as_str().into(),
                                    did: Some(signer.to_owned()),
                                }),
                                decision: Some(action.decision().into()),
                                detail: Some(json!({
                                    "display": DISPLAY_SCOPE,
                                    "evaluation": covers,
                                    "requestSha256": crate::crypto::Sha256Digest::of(evidence.as_bytes()).to_hex(),
                                })),
                                ..Default::default()
                            },
                        })?
                        .seq;
                    let log_index = i64::try_from(seq).map_err(|_| Error::Internal("log index beyond i64".into()))?;
                    displays::put(
                        tx.conn,
                        &Display {
                            enterprise_uscc: enterprise.clone(),
                            authorized: want,
                            evaluation_id: covers.clone(),
                            changed_at: at,
                            evidence,
                            log_index,
                        },
                    )?;
                    (want, log_index, at, covers)
                }
            };
            Ok(DisplayConsent {
                enterprise,
                authorized,
                evaluation,
                changed_at: crate::credential::datetime::format_utc_seconds(crate::storage::from_millis(changed_at)),
                log_index,
                page,
            })
        })
        .await
}

/// Why the page shows what it shows (`spec/evaluation.md` §6); serialized as its stable code
/// ([`Shown::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// The evaluation is shown.
    Shown,
    /// The enterprise never authorized display.
    NotAuthorized,
    /// The enterprise revoked its authorization.
    Revoked,
    /// Authorized, but the evaluation it covers is gone.
    NoEvaluation,
    /// The evaluation the consent covers was withdrawn.
    Withdrawn,
    /// The evaluation the consent covers expired.
    Expired,
}

impl Shown {
    /// The stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shown => "shown",
            Self::NotAuthorized => "not-authorized",
            Self::Revoked => "display-revoked",
            Self::NoEvaluation => "no-evaluation",
            Self::Withdrawn => "evaluation-withdrawn",
            Self::Expired => "evaluation-expired",
        }
    }

    /// Plain words, Chinese then English.
    pub fn message(self) -> (&'static str, &'static str) {
        match self {
            Self::Shown => (
                "该企业已授权公开展示其信用评价。",
                "The enterprise authorized showing its credit evaluation.",
            ),
            Self::NotAuthorized => (
                "该企业未授权公开展示信用评价。",
                "The enterprise has not authorized showing its credit evaluation.",
            ),
            Self::Revoked => (
                "该企业已撤销公开展示信用评价的授权。",
                "The enterprise revoked its authorization to show its credit evaluation.",
            ),
            Self::NoEvaluation => (
                "该企业暂无信用评价。",
                "There is no credit evaluation of this enterprise.",
            ),
            Self::Withdrawn => (
                "该企业最新的信用评价已被撤回。",
                "The enterprise's latest credit evaluation was withdrawn.",
            ),
            Self::Expired => (
                "该企业最新的信用评价已过有效期。",
                "The enterprise's latest credit evaluation has expired.",
            ),
        }
    }
}

impl serde::Serialize for Shown {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Step 2: what the public page of `uscc` may show. `400 invalid-uscc` for a malformed code, `404`
/// for an enterprise the node does not have (registered and admitted).
pub async fn public_view(node: &Node, uscc: &str) -> Result<PublicDisplay> {
    let code = Uscc::parse(uscc)
        .map_err(|e| Error::invalid("invalid-uscc", e.to_string()))?
        .as_str()
        .to_owned();
    let key = code.clone();
    let (who, display) = node
        .store
        .call(move |c| -> Result<_> {
            Ok((
                participants::find(c, &key, Role::Enterprise)?,
                displays::get(c, &key)?,
            ))
        })
        .await?;
    let Some(who) = who.filter(|p| p.state == ParticipantState::Active) else {
        return Err(Error::NotFound(format!("enterprise {code}")));
    };
    // Only the evaluation the consent covers is ever shown, never a later one.
    let covered = display.as_ref().and_then(|d| d.evaluation_id.clone());
    let latest = match covered {
        Some(id) => node.store.call(move |c| evaluations::get(c, &id)).await?,
        None => None,
    };
    let now = node.now_ms();
    let shown = match (&display, &latest) {
        (None, _) => Shown::NotAuthorized,
        (Some(d), _) if !d.authorized => Shown::Revoked,
        (_, None) => Shown::NoEvaluation,
        (_, Some(e)) => match EvaluationState::at(e.withdrawn_at.is_some(), e.valid_until, now) {
            EvaluationState::Withdrawn => Shown::Withdrawn,
            EvaluationState::Expired => Shown::Expired,
            EvaluationState::Active => Shown::Shown,
        },
    };
    let (zh, en) = shown.message();
    let credential = match (shown, &latest) {
        (Shown::Shown, Some(e)) => serde_json::from_str(&e.credential).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    Ok(PublicDisplay {
        page: page_url(node, &code),
        enterprise: DisplayedEnterprise {
            uscc: code,
            name: who.name,
        },
        display: shown,
        message_zh: zh,
        message_en: en,
        evaluation: credential,
    })
}

/// Step 3: the page's URL as an SVG QR code (error correction M).
pub async fn qr_svg(node: &Node, uscc: &str) -> Result<String> {
    let view = public_view(node, uscc).await?;
    let url = view.page.as_str();
    let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| Error::Internal(format!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build())
}
