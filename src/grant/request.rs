//! Consent requests (spec/consent-requests.md): the terms a platform or bank asks an enterprise to
//! grant, the request's state, and the one rule that matters when the enterprise answers — the
//! grant it signs must lie **within** the request ([`within`]).
//!
//! Pure: no storage, no clock (instants are passed in). The node keeps the requests and decides who
//! may act on them (`crate::node::consent`).

use time::OffsetDateTime;

use super::model::{CategoryGrant, GrantTerms, RatePeriod, Usage};
use super::rules::parse_date;

/// A consent request's state:
///
/// ```text
/// pending ─▶ signed | declined | withdrawn | expired
/// ```
///
/// Every state but `pending` is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsentRequestState {
    /// Waiting for the enterprise's answer.
    Pending,
    /// The enterprise signed a grant within the request (final).
    Signed,
    /// The enterprise declined (final).
    Declined,
    /// The requester withdrew it while it was pending (final).
    Withdrawn,
    /// Nobody answered before it expired (final).
    Expired,
}

impl ConsentRequestState {
    /// Every state.
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Signed,
        Self::Declined,
        Self::Withdrawn,
        Self::Expired,
    ];

    /// The stored (and JSON) spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Signed => "signed",
            Self::Declined => "declined",
            Self::Withdrawn => "withdrawn",
            Self::Expired => "expired",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl std::fmt::Display for ConsentRequestState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a request asks for: the grant's terms (as a grant's `credentialSubject`, without letters)
/// and its validity window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedGrant {
    /// The requested terms.
    pub terms: GrantTerms,
    /// The earliest `validFrom` the grant may state.
    pub valid_from: OffsetDateTime,
    /// The latest `validUntil` the grant may state.
    pub valid_until: OffsetDateTime,
}

/// One way a grant goes beyond the request it answers: a stable code
/// (spec/consent-requests.md §5, spec/problems.md) and a message naming what exceeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exceeds {
    /// Stable code, e.g. `category-not-requested`.
    pub code: &'static str,
    /// What exceeds, naming the party and the term.
    pub message: String,
}

fn exceeds(code: &'static str, message: String) -> Exceeds {
    Exceeds { code, message }
}

/// How long a period is, for comparing rates: a longer period with no more releases allows no more
/// in any shorter one.
fn period_rank(p: RatePeriod) -> u8 {
    match p {
        RatePeriod::Day => 0,
        RatePeriod::Week => 1,
        RatePeriod::Month => 2,
    }
}

/// Whether usage `granted` allows no more releases than `requested`: a one-off grant is within any
/// request (one release is at most any rate's first); a periodic grant only within a periodic
/// request whose period is no longer than its own and whose `maxReleases` is no lower (n per month
/// with n ≤ N is within N per day or week: all n may fall in one day).
pub fn usage_within(granted: Usage, requested: Usage) -> bool {
    match (granted, requested) {
        (Usage::OneOff {}, _) => true,
        (Usage::Periodic { .. }, Usage::OneOff {}) => false,
        (
            Usage::Periodic {
                max_releases: n,
                per: p,
            },
            Usage::Periodic {
                max_releases: m,
                per: q,
            },
        ) => n <= m && period_rank(p) >= period_rank(q),
    }
}

/// Checks categories of one party against the requested ones for that party.
fn categories_within(
    party: &str,
    granted: &[CategoryGrant],
    requested: &[CategoryGrant],
    out: &mut Vec<Exceeds>,
) {
    for c in granted {
        match requested.iter().find(|r| r.code == c.code) {
            None => out.push(exceeds(
                "category-not-requested",
                format!("{party} is granted {} which the request does not ask for", c.code),
            )),
            Some(r) if !r.granularity.covers(c.granularity) => out.push(exceeds(
                "granularity-not-requested",
                format!(
                    "{party} is granted {} {} where the request asks for {} only",
                    c.code,
                    c.granularity.as_str(),
                    r.granularity.as_str()
                ),
            )),
            Some(_) => {}
        }
    }
}

/// Every way the grant (its terms and validity window) goes beyond `request`; empty when it lies
/// within: the same enterprise and grantee; onward recipients among the requested ones; each
/// party's categories among those requested for it, at a granularity the request covers
/// (`derived` asked: `raw` is refused); purposes among the requested; the data period inside the
/// requested one; the validity window inside the requested one; a usage that allows no more
/// releases ([`usage_within`]); and the requested catalog version, if the request cites one.
/// Letters are the enterprise's own and are not compared.
pub fn within(
    terms: &GrantTerms,
    valid_from: OffsetDateTime,
    valid_until: OffsetDateTime,
    request: &RequestedGrant,
) -> Vec<Exceeds> {
    let r = &request.terms;
    let mut out = Vec::new();
    if terms.enterprise.uscc != r.enterprise.uscc {
        out.push(exceeds(
            "other-enterprise",
            format!(
                "the grant is by enterprise {}, the request is addressed to {}",
                terms.enterprise.uscc, r.enterprise.uscc
            ),
        ));
    }
    if terms.grantee.uscc != r.grantee.uscc || terms.grantee.role != r.grantee.role {
        out.push(exceeds(
            "grantee-not-requested",
            format!(
                "the grant names grantee {}, the request {}",
                terms.grantee.uscc, r.grantee.uscc
            ),
        ));
    }
    categories_within(
        &format!("grantee {}", terms.grantee.uscc),
        &terms.categories,
        &r.categories,
        &mut out,
    );
    for b in &terms.onward_recipients {
        match r.onward_recipient(&b.uscc) {
            None => out.push(exceeds(
                "recipient-not-requested",
                format!("bank {} is not a recipient the request names", b.uscc),
            )),
            Some(rb) => categories_within(
                &format!("bank {}", b.uscc),
                &b.categories,
                &rb.categories,
                &mut out,
            ),
        }
    }
    for p in &terms.purposes {
        if !r.purposes.contains(p) {
            out.push(exceeds(
                "purpose-not-requested",
                format!("purpose {p} is not among the requested purposes"),
            ));
        }
    }
    let days = |from: &str, until: &str| parse_date(from).zip(parse_date(until));
    match (
        days(&terms.data_period.from, &terms.data_period.until),
        days(&r.data_period.from, &r.data_period.until),
    ) {
        (Some((gf, gu)), Some((rf, ru))) if gf >= rf && gu <= ru => {}
        _ => out.push(exceeds(
            "data-period-outside",
            format!(
                "data period {}…{} is not inside the requested {}…{}",
                terms.data_period.from, terms.data_period.until, r.data_period.from, r.data_period.until
            ),
        )),
    }
    if valid_from < request.valid_from || valid_until > request.valid_until {
        out.push(exceeds(
            "validity-outside",
            format!(
                "validity {}…{} is not inside the requested {}…{}",
                crate::credential::datetime::format_utc_seconds(valid_from),
                crate::credential::datetime::format_utc_seconds(valid_until),
                crate::credential::datetime::format_utc_seconds(request.valid_from),
                crate::credential::datetime::format_utc_seconds(request.valid_until),
            ),
        ));
    }
    if !usage_within(terms.usage, r.usage) {
        out.push(exceeds(
            "usage-exceeds",
            "the grant allows more releases than the request asks for".to_owned(),
        ));
    }
    if let Some(v) = &r.catalog_version {
        if terms.catalog_version.as_ref() != Some(v) {
            out.push(exceeds(
                "catalog-version-differs",
                format!("the request was drafted under catalog {v}; the grant must cite it"),
            ));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::grant::model::Granularity;
    use time::macros::datetime;

    fn cat(code: &str, granularity: Granularity) -> CategoryGrant {
        CategoryGrant {
            code: code.into(),
            granularity,
        }
    }

    /// The example grant's terms, with SOC-01 onward too and post-loan management.
    fn terms() -> GrantTerms {
        let mut t = crate::grant::GrantDraft::example("did:key:z6MkexampleIssuer").terms;
        t.onward_recipients[0]
            .categories
            .push(cat("SOC-01", Granularity::Derived));
        t.purposes.push("post-loan-management".into());
        t
    }

    fn request() -> RequestedGrant {
        RequestedGrant {
            terms: terms(),
            valid_from: datetime!(2026-01-01 0:00 UTC),
            valid_until: datetime!(2027-01-01 0:00 UTC),
        }
    }

    fn codes(t: &GrantTerms, from: OffsetDateTime, until: OffsetDateTime) -> Vec<&'static str> {
        within(t, from, until, &request())
            .into_iter()
            .map(|e| e.code)
            .collect()
    }

    const FROM: OffsetDateTime = datetime!(2026-02-01 0:00 UTC);
    const UNTIL: OffsetDateTime = datetime!(2026-12-01 0:00 UTC);

    #[test]
    fn spellings_round_trip() {
        for s in ConsentRequestState::ALL {
            assert_eq!(ConsentRequestState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(ConsentRequestState::parse("Pending"), None);
    }

    #[test]
    fn the_same_terms_and_narrower_ones_are_within() {
        assert!(codes(&terms(), FROM, UNTIL).is_empty());
        let mut t = terms();
        t.categories = vec![cat("TAX-03", Granularity::Derived)];
        t.onward_recipients[0].categories = vec![cat("TAX-03", Granularity::Derived)];
        t.purposes = vec!["credit-approval".into()];
        t.data_period.from = "2025-01-01".into();
        t.usage = Usage::Periodic {
            max_releases: 2,
            per: RatePeriod::Month,
        };
        assert!(codes(&t, FROM, UNTIL).is_empty());
        t.onward_recipients.clear();
        t.usage = Usage::OneOff {};
        assert!(codes(&t, request().valid_from, request().valid_until).is_empty());
    }

    #[test]
    fn every_way_of_exceeding_is_named() {
        let one = |edit: &dyn Fn(&mut GrantTerms), from, until| {
            let mut t = terms();
            edit(&mut t);
            codes(&t, from, until)
        };
        assert_eq!(
            one(&|t| t.enterprise.uscc = "91330106MA2B3C4D11".into(), FROM, UNTIL),
            ["other-enterprise"]
        );
        assert_eq!(
            one(&|t| t.grantee.uscc = "91330000MA28PLAT2L".into(), FROM, UNTIL),
            ["grantee-not-requested"]
        );
        assert_eq!(
            one(
                &|t| t.categories.push(cat("REG-01", Granularity::Derived)),
                FROM,
                UNTIL
            ),
            ["category-not-requested"]
        );
        assert_eq!(
            one(&|t| t.categories[1].granularity = Granularity::Raw, FROM, UNTIL),
            ["granularity-not-requested"]
        );
        assert_eq!(
            one(
                &|t| t.onward_recipients[0].uscc = "91330000MA28PLAT2L".into(),
                FROM,
                UNTIL
            ),
            ["recipient-not-requested"]
        );
        assert_eq!(
            one(
                &|t| t.onward_recipients[0]
                    .categories
                    .push(cat("REG-01", Granularity::Derived)),
                FROM,
                UNTIL
            ),
            ["category-not-requested"]
        );
        assert_eq!(
            one(&|t| t.purposes.push("financing-matching".into()), FROM, UNTIL),
            ["purpose-not-requested"]
        );
        assert_eq!(
            one(&|t| t.data_period.until = "2026-11-01".into(), FROM, UNTIL),
            ["data-period-outside"]
        );
        assert_eq!(
            one(&|_| {}, datetime!(2025-12-31 23:59 UTC), UNTIL),
            ["validity-outside"]
        );
        assert_eq!(
            one(&|_| {}, FROM, datetime!(2027-01-01 0:00:01 UTC)),
            ["validity-outside"]
        );
        assert_eq!(
            one(
                &|t| t.usage = Usage::Periodic {
                    max_releases: 5,
                    per: RatePeriod::Month
                },
                FROM,
                UNTIL
            ),
            ["usage-exceeds"]
        );
        assert_eq!(
            one(
                &|t| t.usage = Usage::Periodic {
                    max_releases: 1,
                    per: RatePeriod::Day
                },
                FROM,
                UNTIL
            ),
            ["usage-exceeds"],
            "1 a day is up to 31 a month"
        );
        let mut r = request();
        r.terms.catalog_version = Some("2026-12-06.1".into());
        let e = within(&terms(), FROM, UNTIL, &r);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].code, "catalog-version-differs");
    }

    #[test]
    fn usage_table() {
        let p = |max_releases, per| Usage::Periodic { max_releases, per };
        use RatePeriod::*;
        assert!(usage_within(Usage::OneOff {}, Usage::OneOff {}));
        assert!(usage_within(Usage::OneOff {}, p(1, Day)));
        assert!(!usage_within(p(1, Month), Usage::OneOff {}));
        assert!(usage_within(p(3, Month), p(3, Day)));
        assert!(usage_within(p(3, Week), p(3, Week)));
        assert!(!usage_within(p(3, Day), p(3, Week)));
        assert!(!usage_within(p(4, Month), p(3, Month)));
    }
}
