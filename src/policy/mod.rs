//! The release decision, pure: given a verified grant, the request, the caller and the current status
//! and usage, allow or refuse with every reason (issue #3 §5; spec/grant.md §5.2).
//!
//! No I/O, no clock: everything is passed in. The status check cannot be skipped — [`Facts`] requires
//! the grant's current status, and there is no other way to reach [`decide`].

use std::collections::BTreeSet;

use time::OffsetDateTime;

use crate::catalog::Catalog;
use crate::grant::model::Usage;
use crate::grant::{Granularity, VerifiedGrant};
use crate::log::entry::Reason;

/// Participant roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The provincial node (its operators).
    Node,
    /// A financing credit service platform.
    Platform,
    /// A bank (access institution), registered by its platform.
    Bank,
    /// A regulator: reads everything, changes nothing.
    Regulator,
    /// An enterprise.
    Enterprise,
}

impl Role {
    /// The stored spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Node => "node",
            Self::Platform => "platform",
            Self::Bank => "bank",
            Self::Regulator => "regulator",
            Self::Enterprise => "enterprise",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "node" => Self::Node,
            "platform" => Self::Platform,
            "bank" => Self::Bank,
            "regulator" => Self::Regulator,
            "enterprise" => Self::Enterprise,
            _ => return None,
        })
    }
}

/// A participant's admission state (spec/registry.md): registrations start `pending` and are
/// approved (`active`) or `rejected`; operators move admitted participants between `active` and
/// `suspended`, and `removed` is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParticipantState {
    /// Registered, awaiting the node's decision.
    Pending,
    /// Admitted.
    Active,
    /// Admitted, temporarily barred.
    Suspended,
    /// Removed (final).
    Removed,
    /// Registration rejected.
    Rejected,
}

impl ParticipantState {
    /// Every state, in the order the statistics list them.
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Active,
        Self::Suspended,
        Self::Removed,
        Self::Rejected,
    ];

    /// The stored (and JSON) spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Removed => "removed",
            Self::Rejected => "rejected",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The states an operator may set on an admitted participant (`active`, `suspended`,
    /// `removed`): the one table the `/v1` admin route and the portal both parse with.
    pub fn settable(s: &str) -> Option<Self> {
        Self::parse(s).filter(|v| matches!(v, Self::Active | Self::Suspended | Self::Removed))
    }

    /// Whether this state ends every session and bars sign-in (`suspended`, `removed`,
    /// `rejected`).
    pub fn is_barred(self) -> bool {
        matches!(self, Self::Suspended | Self::Removed | Self::Rejected)
    }
}

impl std::fmt::Display for ParticipantState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A grant's revocation and suspension bits as read now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantStatus {
    /// Revoked (irreversible).
    pub revoked: bool,
    /// Suspended (reversible).
    pub suspended: bool,
}

/// A request for an enterprise's data.
#[derive(Debug, Clone)]
pub struct ReleaseRequest {
    /// The enterprise whose data is asked for.
    pub enterprise: String,
    /// The categories.
    pub categories: Vec<String>,
    /// Raw records or derived results.
    pub granularity: Granularity,
    /// The stated purpose.
    pub purpose: String,
    /// The bank the platform asks on behalf of, if any.
    pub on_behalf_of: Option<String>,
}

/// The authenticated caller as the policy needs it.
#[derive(Debug, Clone)]
pub struct CallerFacts {
    /// Its code.
    pub uscc: String,
    /// Its role.
    pub role: Role,
    /// Whether it is currently admitted (active).
    pub active: bool,
}

/// The bank named by `on_behalf_of`, as the registry knows it.
#[derive(Debug, Clone)]
pub struct BankFacts {
    /// Its code.
    pub uscc: String,
    /// Whether it is active.
    pub active: bool,
    /// The platform that registered it.
    pub platform: Option<String>,
}

/// Everything a decision needs.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// The request.
    pub request: &'a ReleaseRequest,
    /// The caller.
    pub caller: &'a CallerFacts,
    /// The bank, when the request is on a bank's behalf.
    pub bank: Option<&'a BankFacts>,
    /// The grant relied on, if the request named one and it verified.
    pub grant: Option<&'a VerifiedGrant>,
    /// Why the named grant could not be used (unknown, failed verification), if so.
    pub grant_problem: Option<Vec<Reason>>,
    /// The grant's status now (required whenever `grant` is given).
    pub status: Option<GrantStatus>,
    /// Releases already counted against the grant in the current rate period.
    pub used_in_period: u64,
    /// The instant of the decision.
    pub now: OffsetDateTime,
}

/// What was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Release; `needs_grant` is false when every category is public.
    Allow {
        /// Whether a grant was relied on.
        needs_grant: bool,
    },
    /// Refuse, with every reason.
    Refuse(Vec<Reason>),
}

fn reason(code: &str, message: impl Into<String>) -> Reason {
    Reason {
        code: code.to_owned(),
        message: message.into(),
    }
}

/// Decides a release. Every rule is checked and every broken one reported.
pub fn decide(facts: &Facts<'_>, catalog: &Catalog) -> Decision {
    let req = facts.request;
    let mut r = Vec::new();

    // The caller: only platforms and the node receive from the node; banks receive through their
    // platform; the caller must be admitted right now.
    if !matches!(facts.caller.role, Role::Platform | Role::Node) {
        r.push(reason(
            "caller-role",
            format!(
                "a {} cannot receive data from the node; banks receive through their platform",
                facts.caller.role.as_str()
            ),
        ));
    }
    if !facts.caller.active {
        r.push(reason(
            "caller-not-admitted",
            format!("{} is not currently admitted", facts.caller.uscc),
        ));
    }
    if let Some(bank_uscc) = &req.on_behalf_of {
        match facts.bank {
            None => r.push(reason(
                "unknown-bank",
                format!("bank {bank_uscc} is not registered"),
            )),
            Some(b) => {
                if !b.active {
                    r.push(reason(
                        "bank-not-admitted",
                        format!("bank {bank_uscc} is not currently admitted"),
                    ));
                }
                if b.platform.as_deref() != Some(facts.caller.uscc.as_str()) {
                    r.push(reason(
                        "bank-not-of-platform",
                        format!(
                            "bank {bank_uscc} is not registered by platform {}",
                            facts.caller.uscc
                        ),
                    ));
                }
            }
        }
    }

    // Categories: known, and whether any is non-public.
    let mut seen = BTreeSet::new();
    let mut non_public = Vec::new();
    if req.categories.is_empty() {
        r.push(reason("no-categories", "the request names no category"));
    }
    for code in &req.categories {
        if !seen.insert(code.as_str()) {
            r.push(reason(
                "duplicate-category",
                format!("category {code} is asked twice"),
            ));
            continue;
        }
        match catalog.category(code) {
            None => r.push(reason(
                "unknown-category",
                format!("unknown data category {code}"),
            )),
            Some(c) if !c.public => non_public.push(code.as_str()),
            Some(_) => {}
        }
    }
    if catalog.purpose(&req.purpose).is_none() {
        r.push(reason(
            "unknown-purpose",
            format!("{:?} is not a financing purpose of the catalog", req.purpose),
        ));
    }
    // A bank never receives raw records of non-public data, with or without a grant.
    if req.on_behalf_of.is_some() && req.granularity == Granularity::Raw && !non_public.is_empty() {
        r.push(reason(
            "bank-raw-non-public",
            format!(
                "banks receive derived results only; raw records of {} refused",
                non_public.join(", ")
            ),
        ));
    }

    let needs_grant = !non_public.is_empty();
    if needs_grant {
        check_grant(facts, &non_public, &mut r);
    }
    if r.is_empty() {
        Decision::Allow { needs_grant }
    } else {
        Decision::Refuse(r)
    }
}

fn check_grant(facts: &Facts<'_>, non_public: &[&str], r: &mut Vec<Reason>) {
    let req = facts.request;
    if let Some(problems) = &facts.grant_problem {
        r.extend(problems.iter().cloned());
        return;
    }
    let Some(grant) = facts.grant else {
        r.push(reason(
            "grant-required",
            format!(
                "non-public data ({}) needs the enterprise's grant",
                non_public.join(", ")
            ),
        ));
        return;
    };
    // Status: always checked.
    match facts.status {
        None => r.push(reason(
            "status-unknown",
            "the grant's status could not be read; refusing",
        )),
        Some(s) => {
            if s.revoked {
                r.push(reason(
                    "grant-revoked",
                    format!("grant {} is revoked", grant.id()),
                ));
            }
            if s.suspended {
                r.push(reason(
                    "grant-suspended",
                    format!("grant {} is suspended", grant.id()),
                ));
            }
        }
    }
    if let Err(v) = grant.check_time(facts.now) {
        r.push(reason(v.code(), v.to_string()));
    }
    let terms = grant.terms();
    if grant.enterprise().as_str() != req.enterprise {
        r.push(reason(
            "grant-other-enterprise",
            format!(
                "grant {} is by {}, not {}",
                grant.id(),
                grant.enterprise(),
                req.enterprise
            ),
        ));
    }
    if terms.grantee.uscc != facts.caller.uscc {
        r.push(reason(
            "not-grantee",
            format!("{} is not the grantee of {}", facts.caller.uscc, grant.id()),
        ));
    }
    // What may be received: the grantee's categories, or the bank's.
    let allowed = match &req.on_behalf_of {
        Some(bank) => match terms.onward_recipient(bank) {
            Some(rec) => Some(&rec.categories),
            None => {
                r.push(reason(
                    "bank-not-named",
                    format!("grant {} does not name bank {bank}", grant.id()),
                ));
                None
            }
        },
        None => Some(&terms.categories),
    };
    if let Some(allowed) = allowed {
        for code in non_public {
            match allowed.iter().find(|c| c.code == *code) {
                None => r.push(reason("category-not-granted", format!("{code} is not granted"))),
                Some(c) if !c.granularity.covers(req.granularity) => r.push(reason(
                    "granularity-not-granted",
                    format!("{code} is granted as {} only", c.granularity.as_str()),
                )),
                Some(_) => {}
            }
        }
    }
    if !terms.purposes.iter().any(|p| p == &req.purpose) {
        r.push(reason(
            "purpose-not-granted",
            format!("purpose {} is not among the grant's purposes", req.purpose),
        ));
    }
    match terms.usage {
        Usage::OneOff {} if facts.used_in_period >= 1 => {
            r.push(reason(
                "one-off-used",
                format!("one-off grant {} has been used", grant.id()),
            ));
        }
        Usage::Periodic { max_releases, per } if facts.used_in_period >= u64::from(max_releases) => {
            r.push(reason(
                "rate-exceeded",
                format!("{max_releases} release(s) per {} already used", per.as_str()),
            ));
        }
        _ => {}
    }
}

/// The usage period key of an instant for a grant's usage (`total` for one-off; the China Standard
/// Time day, ISO week or month otherwise).
pub fn usage_period(usage: Usage, at: OffsetDateTime) -> String {
    use crate::grant::model::RatePeriod;
    let cst = at.to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC));
    match usage {
        Usage::OneOff {} => "total".to_owned(),
        Usage::Periodic {
            per: RatePeriod::Day, ..
        } => {
            format!("{:04}-{:02}-{:02}", cst.year(), u8::from(cst.month()), cst.day())
        }
        Usage::Periodic {
            per: RatePeriod::Week,
            ..
        } => {
            let (y, w, _) = cst.to_iso_week_date();
            format!("{y:04}-W{w:02}")
        }
        Usage::Periodic {
            per: RatePeriod::Month,
            ..
        } => format!("{:04}-{:02}", cst.year(), u8::from(cst.month())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn participant_state_spellings() {
        for s in ParticipantState::ALL {
            assert_eq!(ParticipantState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert_eq!(s.to_string(), s.as_str());
        }
        assert_eq!(ParticipantState::parse("Active"), None);
        let settable: Vec<_> = ParticipantState::ALL
            .into_iter()
            .filter(|s| ParticipantState::settable(s.as_str()).is_some())
            .collect();
        assert_eq!(
            settable,
            [
                ParticipantState::Active,
                ParticipantState::Suspended,
                ParticipantState::Removed
            ]
        );
        let barred: Vec<_> = ParticipantState::ALL
            .into_iter()
            .filter(|s| s.is_barred())
            .collect();
        assert_eq!(
            barred,
            [
                ParticipantState::Suspended,
                ParticipantState::Removed,
                ParticipantState::Rejected
            ]
        );
    }
}
