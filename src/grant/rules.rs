//! The rules a grant's terms must satisfy (spec/grant.md §4). Every rule is checked and every
//! violation reported, so the enterprise sees all that is wrong at once.

use std::collections::BTreeSet;

use crate::crypto::json::Node;
use crate::crypto::json::de::from_node;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use super::model::{GRANT_CONTEXT, GRANT_TYPE, GrantTerms, GranteeRole, Granularity, Usage};
use crate::catalog::Catalog;
use crate::credential::vc::{CredentialInfo, string_list};
use crate::ids::{GrantId, Uscc};
use crate::status::{StatusEntry, StatusPurpose};

/// One broken rule. [`Violation::code`] is stable and appears in problem `type` URIs and CLI output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Violation {
    /// `@context` lacks the grant context, or `type` lacks `CreditDataAuthorization`.
    #[error(
        "not a CreditDataAuthorization: @context must include {GRANT_CONTEXT} and type must include {GRANT_TYPE}"
    )]
    NotAGrant,
    /// The credential `id` is missing or not a `urn:uuid:`.
    #[error("grant id: {0}")]
    GrantId(String),
    /// The issuer is not a `did:key`, or did not sign.
    #[error("issuer must be the enterprise's own did:key and must be the signer: {0}")]
    Issuer(String),
    /// The terms do not have the required shape.
    #[error("credentialSubject: {0}")]
    Malformed(String),
    /// A top-level member a grant does not have (such as `termsOfUse`, whose meaning this verifier
    /// could not honour).
    #[error("unexpected member {0:?}: a grant has only the members listed in spec/grant.md §2.2")]
    UnexpectedMember(String),
    /// A Unified Social Credit Code fails GB 32100-2015.
    #[error("{party} USCC {code:?}: {reason}")]
    InvalidUscc {
        /// `enterprise`, `grantee` or `onward recipient`.
        party: &'static str,
        /// The code as written.
        code: String,
        /// Why it fails.
        reason: String,
    },
    /// A category code the catalog does not know.
    #[error("unknown data category {0:?}")]
    UnknownCategory(String),
    /// A category listed twice for the same recipient.
    #[error("data category {0} is listed twice")]
    DuplicateCategory(String),
    /// No categories at all.
    #[error("the grant names no data category")]
    NoCategories,
    /// A purpose listed twice.
    #[error("purpose {0} is listed twice")]
    DuplicatePurpose(String),
    /// A letter cited twice.
    #[error("authorization letter {0} is cited twice")]
    DuplicateLetter(String),
    /// A purpose outside the closed vocabulary.
    #[error("purpose {0:?} is not a financing purpose of the catalog")]
    UnknownPurpose(String),
    /// No purpose at all.
    #[error("the grant names no purpose")]
    NoPurposes,
    /// A bank would receive raw non-public data.
    #[error(
        "bank {bank} may not receive raw records of non-public category {code}: banks get derived results only"
    )]
    BankRawNonPublic {
        /// The bank's USCC.
        bank: String,
        /// The category.
        code: String,
    },
    /// A bank is given something its platform is not.
    #[error("bank {bank} is given {code} ({granularity}) which the grantee itself is not granted")]
    RecipientNotCovered {
        /// The bank's USCC.
        bank: String,
        /// The category.
        code: String,
        /// The granularity asked for the bank.
        granularity: &'static str,
    },
    /// Onward recipients are only possible through a platform.
    #[error("onward recipients receive through a platform; the grantee here is the node")]
    RecipientsWithoutPlatform,
    /// The same participant appears twice, or the enterprise names itself.
    #[error("participant {0} appears more than once")]
    DuplicateParticipant(String),
    /// A non-public category's provider has no accepted letter in the grant.
    #[error("non-public category {code} needs the authorization letter of {provider}")]
    MissingLetter {
        /// The category.
        code: String,
        /// The provider whose letter is missing.
        provider: String,
    },
    /// A cited letter does not exist.
    #[error("authorization letter {0} is unknown")]
    UnknownLetter(String),
    /// A cited letter's digest is not the digest of that letter's text.
    #[error("authorization letter {id}: digest {found} is not the letter's digest {expected}")]
    LetterDigest {
        /// Letter id.
        id: String,
        /// Digest in the grant.
        found: String,
        /// Digest of the letter.
        expected: String,
    },
    /// `dataPeriod` dates are invalid or reversed.
    #[error("dataPeriod: {0}")]
    DataPeriod(String),
    /// A periodic rate of zero.
    #[error("usage: a periodic grant needs maxReleases ≥ 1")]
    Rate,
    /// `validFrom` or `validUntil` is missing.
    #[error("a grant must state both validFrom and validUntil")]
    ValidityWindow,
    /// The status entries are missing or malformed.
    #[error("credentialStatus: {0}")]
    Status(String),
    /// `catalogVersion` names a catalog version whose derived forms the node does not hold.
    #[error("catalogVersion {0:?} is not a catalog version this node holds derived forms for")]
    UnknownCatalogVersion(String),
    /// Before `validFrom`.
    #[error("not valid before {0}")]
    NotYetValid(String),
    /// After `validUntil`.
    #[error("expired at {0}")]
    Expired(String),
}

impl Violation {
    /// A stable kebab-case code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAGrant => "not-a-grant",
            Self::GrantId(_) => "grant-id",
            Self::Issuer(_) => "issuer",
            Self::Malformed(_) => "malformed-terms",
            Self::UnexpectedMember(_) => "unexpected-member",
            Self::DuplicatePurpose(_) => "duplicate-purpose",
            Self::DuplicateLetter(_) => "duplicate-letter",
            Self::InvalidUscc { .. } => "invalid-uscc",
            Self::UnknownCategory(_) => "unknown-category",
            Self::DuplicateCategory(_) => "duplicate-category",
            Self::NoCategories => "no-categories",
            Self::UnknownPurpose(_) => "unknown-purpose",
            Self::NoPurposes => "no-purposes",
            Self::BankRawNonPublic { .. } => "bank-raw-non-public",
            Self::RecipientNotCovered { .. } => "recipient-not-covered",
            Self::RecipientsWithoutPlatform => "recipients-without-platform",
            Self::DuplicateParticipant(_) => "duplicate-participant",
            Self::MissingLetter { .. } => "missing-letter",
            Self::UnknownLetter(_) => "unknown-letter",
            Self::LetterDigest { .. } => "letter-digest",
            Self::DataPeriod(_) => "data-period",
            Self::Rate => "usage-rate",
            Self::ValidityWindow => "validity-window",
            Self::Status(_) => "credential-status",
            Self::UnknownCatalogVersion(_) => "unknown-catalog-version",
            Self::NotYetValid(_) => "not-yet-valid",
            Self::Expired(_) => "expired",
        }
    }
}

/// What [`check_document`] extracts from a grant whose rules all hold.
#[derive(Debug, Clone)]
pub struct CheckedGrant {
    /// The grant id.
    pub id: GrantId,
    /// The enterprise's code.
    pub enterprise: Uscc,
    /// The terms.
    pub terms: GrantTerms,
    /// `validFrom`.
    pub valid_from: OffsetDateTime,
    /// `validUntil`.
    pub valid_until: OffsetDateTime,
    /// The revocation entry.
    pub revocation: StatusEntry,
    /// The suspension entry.
    pub suspension: StatusEntry,
}

/// The top-level members a grant may have (spec/grant.md §2.2).
pub const GRANT_MEMBERS: [&str; 10] = [
    "@context",
    "id",
    "type",
    "issuer",
    "validFrom",
    "validUntil",
    "credentialSubject",
    "credentialStatus",
    "name",
    "description",
];

/// Parses an `xsd:date` `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<Date> {
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .ok()
        .filter(|_| text.len() == 10)
}

/// Checks every rule of spec/grant.md §4 except time, collecting all violations.
///
/// `doc` is the unsecured credential (proof or JWT claims removed) and `info` its VCDM fields
/// (already checked structurally). The terms and status entries are read with the strict tree
/// deserializer: objects must be objects, and no member may be unknown.
pub fn check_document(
    doc: &Node<'_>,
    info: &CredentialInfo,
    catalog: &Catalog,
) -> Result<CheckedGrant, Vec<Violation>> {
    let mut v = Vec::new();
    for (key, _) in doc.as_object().map(Vec::as_slice).unwrap_or_default() {
        if !GRANT_MEMBERS.contains(&key.as_ref()) {
            v.push(Violation::UnexpectedMember(key.to_string()));
        }
    }
    let contexts = string_list(doc.get("@context"));
    if !contexts.iter().any(|c| c == GRANT_CONTEXT) || !info.types.iter().any(|t| t == GRANT_TYPE) {
        v.push(Violation::NotAGrant);
    }
    let id = match info.id.as_deref().map(GrantId::parse) {
        Some(Ok(id)) => Some(id),
        Some(Err(e)) => {
            v.push(Violation::GrantId(e.to_string()));
            None
        }
        None => {
            v.push(Violation::GrantId("missing".into()));
            None
        }
    };
    if !info.issuer.starts_with("did:key:") {
        v.push(Violation::Issuer(format!("{} is not a did:key", info.issuer)));
    }
    let (valid_from, valid_until) = match (info.valid_from, info.valid_until) {
        (Some(f), Some(u)) => (Some(f), Some(u)),
        _ => {
            v.push(Violation::ValidityWindow);
            (None, None)
        }
    };
    let statuses = check_status(doc.get("credentialStatus"), &mut v);
    let terms = match doc.get("credentialSubject") {
        Some(subject @ Node::Object(_)) => match from_node::<GrantTerms>(subject) {
            Ok(t) => Some(t),
            Err(e) => {
                v.push(Violation::Malformed(e.to_string()));
                None
            }
        },
        Some(_) => {
            v.push(Violation::Malformed("must be a single JSON object".into()));
            None
        }
        None => {
            v.push(Violation::Malformed("missing".into()));
            None
        }
    };
    let enterprise = terms.as_ref().and_then(|t| check_terms(t, catalog, &mut v));
    match (id, enterprise, terms, valid_from, valid_until, statuses) {
        (
            Some(id),
            Some(enterprise),
            Some(terms),
            Some(valid_from),
            Some(valid_until),
            Some((revocation, suspension)),
        ) if v.is_empty() => Ok(CheckedGrant {
            id,
            enterprise,
            terms,
            valid_from,
            valid_until,
            revocation,
            suspension,
        }),
        _ => Err(v),
    }
}

fn check_status(value: Option<&Node<'_>>, v: &mut Vec<Violation>) -> Option<(StatusEntry, StatusEntry)> {
    let entries: Vec<StatusEntry> = match value {
        Some(list @ Node::Array(_)) => match from_node(list) {
            Ok(e) => e,
            Err(e) => {
                v.push(Violation::Status(e.to_string()));
                return None;
            }
        },
        _ => {
            v.push(Violation::Status(
                "a grant needs an array with a revocation and a suspension entry".into(),
            ));
            return None;
        }
    };
    let mut revocation = None;
    let mut suspension = None;
    let before = v.len();
    for e in entries {
        if let Err(err) = e.index() {
            v.push(Violation::Status(err.to_string()));
            continue;
        }
        let slot = match e.status_purpose {
            StatusPurpose::Revocation => &mut revocation,
            StatusPurpose::Suspension => &mut suspension,
        };
        if slot.is_some() {
            v.push(Violation::Status(format!(
                "more than one {} entry",
                e.status_purpose.as_str()
            )));
        }
        *slot = Some(e);
    }
    if v.len() > before {
        return None;
    }
    match (revocation, suspension) {
        (Some(r), Some(s)) => {
            // One slot: the same index in the list pair <base>/revocation and <base>/suspension.
            let r_base = r.status_list_credential.strip_suffix("/revocation");
            let s_base = s.status_list_credential.strip_suffix("/suspension");
            if r.status_list_index != s.status_list_index || r_base.is_none() || r_base != s_base {
                v.push(Violation::Status(
                    "revocation and suspension must share one index in <base>/revocation and <base>/suspension".into(),
                ));
                return None;
            }
            Some((r, s))
        }
        (r, s) => {
            if r.is_none() {
                v.push(Violation::Status("no revocation entry".into()));
            }
            if s.is_none() {
                v.push(Violation::Status("no suspension entry".into()));
            }
            None
        }
    }
}

fn check_uscc(party: &'static str, code: &str, v: &mut Vec<Violation>) -> Option<Uscc> {
    Uscc::parse(code)
        .map_err(|e| {
            v.push(Violation::InvalidUscc {
                party,
                code: code.to_owned(),
                reason: e.to_string(),
            })
        })
        .ok()
}

/// The rules of spec/grant.md §4 that a consent request's requested terms must satisfy
/// (spec/consent-requests.md §3): every rule on the terms except the letters, which the enterprise
/// accepts when it signs and which a request therefore must not cite. Returns every violation
/// (empty: the terms are acceptable as a request).
pub fn check_requested_terms(t: &GrantTerms, catalog: &Catalog) -> Vec<Violation> {
    let mut v = Vec::new();
    check_terms(t, catalog, &mut v);
    v.retain(|x| !matches!(x, Violation::MissingLetter { .. }));
    if !t.letters.is_empty() {
        v.push(Violation::Malformed(
            "a consent request cites no letters: the enterprise accepts them when it signs".into(),
        ));
    }
    v
}

/// The terms' rules; returns the enterprise's parsed code when it is valid.
fn check_terms(t: &GrantTerms, catalog: &Catalog, v: &mut Vec<Violation>) -> Option<Uscc> {
    let names = std::iter::once(("enterprise", &t.enterprise.name))
        .chain(std::iter::once(("grantee", &t.grantee.name)))
        .chain(t.onward_recipients.iter().map(|r| ("onward recipient", &r.name)));
    for (party, name) in names {
        if name.trim().is_empty() {
            v.push(Violation::Malformed(format!("{party} name is empty")));
        }
    }
    let enterprise = check_uscc("enterprise", &t.enterprise.uscc, v);
    check_uscc("grantee", &t.grantee.uscc, v);
    let mut parties = BTreeSet::from([t.enterprise.uscc.as_str()]);
    if !parties.insert(t.grantee.uscc.as_str()) {
        v.push(Violation::DuplicateParticipant(t.grantee.uscc.clone()));
    }
    if let Some(version) = &t.catalog_version {
        if catalog.derivations().set_for(Some(version)).is_none() {
            v.push(Violation::UnknownCatalogVersion(version.clone()));
        }
    }
    // Categories of the grantee.
    if t.categories.is_empty() {
        v.push(Violation::NoCategories);
    }
    let mut seen = BTreeSet::new();
    for c in &t.categories {
        if !seen.insert(c.code.as_str()) {
            v.push(Violation::DuplicateCategory(c.code.clone()));
        }
        if catalog.category(&c.code).is_none() {
            v.push(Violation::UnknownCategory(c.code.clone()));
        }
    }
    // Onward recipients: banks, through a platform, a subset of the grantee's grant, never raw
    // non-public data.
    if !t.onward_recipients.is_empty() && t.grantee.role != GranteeRole::Platform {
        v.push(Violation::RecipientsWithoutPlatform);
    }
    for r in &t.onward_recipients {
        check_uscc("onward recipient", &r.uscc, v);
        if !parties.insert(r.uscc.as_str()) {
            v.push(Violation::DuplicateParticipant(r.uscc.clone()));
        }
        let mut seen = BTreeSet::new();
        for c in &r.categories {
            if !seen.insert(c.code.as_str()) {
                v.push(Violation::DuplicateCategory(format!(
                    "{} (for {})",
                    c.code, r.uscc
                )));
            }
            let Some(cat) = catalog.category(&c.code) else {
                v.push(Violation::UnknownCategory(c.code.clone()));
                continue;
            };
            if c.granularity == Granularity::Raw && !cat.public {
                v.push(Violation::BankRawNonPublic {
                    bank: r.uscc.clone(),
                    code: c.code.clone(),
                });
            }
            if !t
                .category(&c.code)
                .is_some_and(|g| g.granularity.covers(c.granularity))
            {
                v.push(Violation::RecipientNotCovered {
                    bank: r.uscc.clone(),
                    code: c.code.clone(),
                    granularity: c.granularity.as_str(),
                });
            }
        }
        if r.categories.is_empty() {
            v.push(Violation::NoCategories);
        }
    }
    // Purposes: closed vocabulary, each once.
    if t.purposes.is_empty() {
        v.push(Violation::NoPurposes);
    }
    let mut seen = BTreeSet::new();
    for p in &t.purposes {
        if !seen.insert(p.as_str()) {
            v.push(Violation::DuplicatePurpose(p.clone()));
        }
        if catalog.purpose(p).is_none() {
            v.push(Violation::UnknownPurpose(p.clone()));
        }
    }
    // Letters: every cited letter exists with that digest; every provider of a non-public category
    // has one.
    let mut letter_providers = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for l in &t.letters {
        if !seen.insert(l.id.as_str()) {
            v.push(Violation::DuplicateLetter(l.id.clone()));
        }
        match catalog.letter(&l.id) {
            None => v.push(Violation::UnknownLetter(l.id.clone())),
            Some((letter, digest)) => {
                if l.sha256 != digest.to_hex() {
                    v.push(Violation::LetterDigest {
                        id: l.id.clone(),
                        found: l.sha256.clone(),
                        expected: digest.to_hex(),
                    });
                } else {
                    letter_providers.insert(letter.provider.clone());
                }
            }
        }
    }
    for c in &t.categories {
        let Some(cat) = catalog.category(&c.code) else {
            continue;
        };
        if cat.public {
            continue;
        }
        for p in &cat.providers {
            if !letter_providers.contains(p) {
                v.push(Violation::MissingLetter {
                    code: c.code.clone(),
                    provider: p.clone(),
                });
            }
        }
    }
    // Data period and usage.
    match (parse_date(&t.data_period.from), parse_date(&t.data_period.until)) {
        (Some(from), Some(until)) if from <= until => {}
        (Some(_), Some(_)) => v.push(Violation::DataPeriod("from is after until".into())),
        _ => v.push(Violation::DataPeriod(
            "from and until must be dates YYYY-MM-DD".into(),
        )),
    }
    if let Usage::Periodic { max_releases: 0, .. } = t.usage {
        v.push(Violation::Rate);
    }
    enterprise
}
