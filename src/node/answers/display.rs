//! The answers of the 苏信码, the public display of an enterprise's credit evaluation
//! (`spec/evaluation.md` §6): the consent as it stands after a change, and what the public page
//! may show.

use serde::Serialize;
use serde_json::Value;

use crate::node::display::Shown;

/// `POST /v1/display/{action}` and the portal's display change
/// (`components/schemas/DisplayConsent`; built by [`crate::node::display::change`]): the
/// enterprise's consent to the display now.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DisplayConsent {
    /// The enterprise's USCC (`DisplayConsent.enterprise`).
    pub enterprise: String,
    /// Whether the display is authorized now (`DisplayConsent.authorized`).
    pub authorized: bool,
    /// The id of the evaluation the consent covers; `null` when revoked
    /// (`DisplayConsent.evaluation`).
    pub evaluation: Option<String>,
    /// When the consent last changed, RFC 3339 UTC (`DisplayConsent.changedAt`).
    pub changed_at: String,
    /// The `public-display` log entry of that change (`DisplayConsent.logIndex`).
    pub log_index: i64,
    /// The public page's URL (`DisplayConsent.page`).
    pub page: String,
}

/// The enterprise a public page is about (`PublicDisplay.enterprise`).
#[derive(Debug, Clone, Serialize)]
pub struct DisplayedEnterprise {
    /// Its USCC.
    pub uscc: String,
    /// Its registered name.
    pub name: String,
}

/// `GET /v1/public/sxm/{uscc}` and the portal's own view (`components/schemas/PublicDisplay`;
/// built by [`crate::node::display::public_view`]): what the 苏信码 page may show, and why.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicDisplay {
    /// `PublicDisplay.enterprise`.
    pub enterprise: DisplayedEnterprise,
    /// The public page's URL (`PublicDisplay.page`).
    pub page: String,
    /// Whether the evaluation is shown, or why not (`PublicDisplay.display`).
    pub display: Shown,
    /// `display` in plain Chinese (`PublicDisplay.messageZh`).
    pub message_zh: &'static str,
    /// `display` in plain English (`PublicDisplay.messageEn`).
    pub message_en: &'static str,
    /// The covered `CreditEvaluation` credential as signed while `display` is `shown`, else `null`
    /// (`PublicDisplay.evaluation`).
    pub evaluation: Value,
}
