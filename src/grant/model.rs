//! The `CreditDataAuthorization` credential's terms, as JSON (spec/grant.md §3, spec/grant.schema.json).
//!
//! These types describe shape only; what the values must satisfy is in [`super::rules`].

use serde::{Deserialize, Serialize};

/// The JSON-LD context that defines the grant vocabulary (spec/context/v1.jsonld).
pub const GRANT_CONTEXT: &str = "https://w3id.org/consentry/v1";
/// The credential type.
pub const GRANT_TYPE: &str = "CreditDataAuthorization";

/// Raw detail records, or only derived/desensitized results. `Raw` covers `Derived`: whoever may
/// receive the records may receive what is computed from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    /// Computed indicators and desensitized results only.
    Derived,
    /// The detail records as the provider holds them.
    Raw,
}

impl Granularity {
    /// Whether a grant of `self` covers a request for `wanted`.
    pub fn covers(self, wanted: Granularity) -> bool {
        self >= wanted
    }

    /// `raw` or `derived`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Raw => "raw",
            Self::Derived => "derived",
        }
    }
}

/// The enterprise that authorizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Enterprise {
    /// Its Unified Social Credit Code.
    pub uscc: String,
    /// Its registered name.
    pub name: String,
}

/// What kind of participant the direct recipient is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GranteeRole {
    /// A financing credit service platform.
    Platform,
    /// The provincial node itself.
    Node,
}

/// The direct recipient: the platform (or the node) that receives data from the node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Grantee {
    /// Its Unified Social Credit Code, which names it across key rotations.
    pub uscc: String,
    /// Its name.
    pub name: String,
    /// `platform` or `node`.
    pub role: GranteeRole,
}

/// A category and the granularity allowed for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CategoryGrant {
    /// Catalog code, e.g. `TAX-03`.
    pub code: String,
    /// `raw` or `derived`.
    pub granularity: Granularity,
}

/// Kind of onward recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecipientRole {
    /// A bank or other access institution (接入机构).
    Bank,
}

/// A bank that may receive results from the grantee platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OnwardRecipient {
    /// Its Unified Social Credit Code.
    pub uscc: String,
    /// Its name.
    pub name: String,
    /// Always `bank`.
    pub role: RecipientRole,
    /// What it may receive (a subset of the grantee's categories; never raw non-public data).
    pub categories: Vec<CategoryGrant>,
}

/// The period the released records may cover (`xsd:date`, inclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DataPeriod {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, `YYYY-MM-DD`.
    pub until: String,
}

/// Interval of a periodic rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RatePeriod {
    /// Calendar day, China Standard Time.
    Day,
    /// Calendar week, Monday to Sunday, China Standard Time.
    Week,
    /// Calendar month, China Standard Time.
    Month,
}

impl RatePeriod {
    /// `day`, `week` or `month`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }
}

/// One-off or periodic use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Usage {
    /// A single release, then the grant is spent. (A struct variant, so that stray members such as
    /// `maxReleases` are refused rather than ignored.)
    OneOff {},
    /// At most `max_releases` releases per `per`.
    #[serde(rename_all = "camelCase")]
    Periodic {
        /// Releases allowed per period (≥ 1).
        max_releases: u32,
        /// The period.
        per: RatePeriod,
    },
}

/// An authorization letter the enterprise accepted, cited by id and digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LetterRef {
    /// `<provider>/<version>`, e.g. `STA/1`.
    pub id: String,
    /// SHA-256 (lowercase hex) of the letter's RFC 8785 canonical JSON.
    pub sha256: String,
}

/// `credentialSubject` of a grant: everything the enterprise authorizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrantTerms {
    /// Who authorizes.
    pub enterprise: Enterprise,
    /// Who receives from the node.
    pub grantee: Grantee,
    /// Banks that may receive results from the grantee platform.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub onward_recipients: Vec<OnwardRecipient>,
    /// Categories the grantee may receive.
    pub categories: Vec<CategoryGrant>,
    /// Financing purposes (closed vocabulary).
    pub purposes: Vec<String>,
    /// Period of the records.
    pub data_period: DataPeriod,
    /// One-off or periodic.
    pub usage: Usage,
    /// Letters of the providing departments.
    #[serde(default)]
    pub letters: Vec<LetterRef>,
    /// The catalog version the grant was drafted under (`YYYY-MM-DD.n`): its releases use that
    /// version's derived forms (`spec/derivations.md` §2). Absent in grants drafted before grants
    /// cited one; those use the oldest derived forms the node holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_version: Option<String>,
}

impl GrantTerms {
    /// The grant for `code`, if the grantee's categories include it.
    pub fn category(&self, code: &str) -> Option<&CategoryGrant> {
        self.categories.iter().find(|c| c.code == code)
    }

    /// The onward recipient with this USCC.
    pub fn onward_recipient(&self, uscc: &str) -> Option<&OnwardRecipient> {
        self.onward_recipients.iter().find(|r| r.uscc == uscc)
    }
}
