//! Building an unsigned grant from its parts (what `consentry grant new` and the portal's wizard do).

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::model::{
    CategoryGrant, DataPeriod, Enterprise, GRANT_CONTEXT, GRANT_TYPE, GrantTerms, Grantee, GranteeRole,
    Granularity, LetterRef, OnwardRecipient, RatePeriod, RecipientRole, Usage,
};
use crate::catalog::Catalog;
use crate::credential::datetime::format_utc_seconds;
use crate::credential::vc::CREDENTIALS_V2;
use crate::ids::GrantId;
use crate::status::{StatusEntry, StatusPurpose};

/// Where a grant's two status bits live: the same index in the node's revocation and suspension
/// lists (`<base>/revocation`, `<base>/suspension`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSlot {
    /// The list pair's base URL, e.g. `https://node.example/status/3`.
    pub base: String,
    /// The index in both lists.
    pub index: u64,
}

impl StatusSlot {
    /// The two `credentialStatus` entries.
    pub fn entries(&self) -> [StatusEntry; 2] {
        let base = self.base.trim_end_matches('/');
        [
            StatusEntry::new(
                StatusPurpose::Revocation,
                &format!("{base}/revocation"),
                self.index,
            ),
            StatusEntry::new(
                StatusPurpose::Suspension,
                &format!("{base}/suspension"),
                self.index,
            ),
        ]
    }
}

/// Everything a grant states, before it is signed.
#[derive(Debug, Clone)]
pub struct GrantDraft {
    /// Credential id, a `urn:uuid:` (`GrantId::random` for a new grant).
    pub id: GrantId,
    /// The enterprise's `did:key` (the issuer and signer).
    pub issuer: String,
    /// The terms.
    pub terms: GrantTerms,
    /// Start of validity.
    pub valid_from: OffsetDateTime,
    /// End of validity.
    pub valid_until: OffsetDateTime,
    /// Status slot allocated by the node.
    pub status: StatusSlot,
}

impl GrantDraft {
    /// Completes the draft against `catalog`: cites the catalog's version (its derived forms are
    /// the ones the grant's releases will use) unless one is cited, and adds, for every provider of
    /// a non-public category that the terms do not yet cite, the provider's current letter.
    /// Returns the letter ids added (the person signing must be shown these texts).
    pub fn attach_current_letters(&mut self, catalog: &Catalog) -> Vec<String> {
        if self.terms.catalog_version.is_none() {
            self.terms.catalog_version = Some(catalog.version().to_owned());
        }
        let mut added = Vec::new();
        let cited: Vec<String> = self
            .terms
            .letters
            .iter()
            .filter_map(|l| catalog.letter(&l.id).map(|(letter, _)| letter.provider.clone()))
            .collect();
        let needed = needed_providers(&self.terms.categories, catalog);
        for provider in needed {
            if cited.contains(&provider) {
                continue;
            }
            if let Some((letter, digest)) = catalog.current_letter(&provider) {
                self.terms.letters.push(LetterRef {
                    id: letter.id.clone(),
                    sha256: digest.to_hex(),
                });
                added.push(letter.id.clone());
            }
        }
        added
    }

    /// The unsigned credential.
    pub fn to_credential(&self) -> Value {
        json!({
            "@context": [CREDENTIALS_V2, GRANT_CONTEXT],
            "id": self.id.as_str(),
            "type": ["VerifiableCredential", GRANT_TYPE],
            "issuer": self.issuer,
            "validFrom": format_utc_seconds(self.valid_from),
            "validUntil": format_utc_seconds(self.valid_until),
            "credentialSubject": self.terms,
            "credentialStatus": self.status.entries(),
        })
    }
}

/// The parties of [`GrantDraft::example`]: the test enterprise, platform and bank of the tests,
/// benchmarks and load runs (valid Unified Social Credit Codes, no real organisations).
pub mod example {
    /// The enterprise (杭州示例科技有限公司).
    pub const ENTERPRISE: &str = "91330100716105852F";
    /// The platform (示例融资信用服务平台).
    pub const PLATFORM: &str = "91440300708461136T";
    /// The bank (示例银行).
    pub const BANK: &str = "911000001000013428";
    /// The example grant's id.
    pub const GRANT_ID: &str = "urn:uuid:3f9a6c2e-8a1b-4c55-9d0e-7b2f1a4c5d60";
    /// The example status list pair.
    pub const STATUS_BASE: &str = "https://node.example/status/1";
}

/// Building the example draft: the one place the tests, benchmarks and load runs write a grant's
/// terms, so that a new field of the terms is added once.
impl GrantDraft {
    /// The example grant, signed by `issuer` (a `did:key`) for [`example::ENTERPRISE`]: the
    /// platform [`example::PLATFORM`] gets TAX-03 raw and SOC-01 derived, its bank
    /// [`example::BANK`] TAX-03 derived; for `credit-approval`; on the data of 2024-01-01 –
    /// 2026-10-31; 4 releases a month; valid 2026-12-01T00:00:00Z – 2027-12-01T00:00:00Z; id
    /// [`example::GRANT_ID`]; slot 4242 of [`example::STATUS_BASE`]; no letter cited yet
    /// ([`Self::with_current_letters`]). A draft like any other: it states what it says, nobody
    /// has signed it, and every field may be changed before it is.
    pub fn example(issuer: &str) -> Self {
        let category = |code: &str, granularity| CategoryGrant {
            code: code.into(),
            granularity,
        };
        Self {
            id: GrantId::parse(example::GRANT_ID).unwrap_or_else(|_| GrantId::random()),
            issuer: issuer.to_owned(),
            terms: GrantTerms {
                enterprise: Enterprise {
                    uscc: example::ENTERPRISE.into(),
                    name: "杭州示例科技有限公司".into(),
                },
                grantee: Grantee {
                    uscc: example::PLATFORM.into(),
                    name: "示例融资信用服务平台".into(),
                    role: GranteeRole::Platform,
                },
                onward_recipients: vec![OnwardRecipient {
                    uscc: example::BANK.into(),
                    name: "示例银行".into(),
                    role: RecipientRole::Bank,
                    categories: vec![category("TAX-03", Granularity::Derived)],
                }],
                categories: vec![
                    category("TAX-03", Granularity::Raw),
                    category("SOC-01", Granularity::Derived),
                ],
                purposes: vec!["credit-approval".into()],
                data_period: DataPeriod {
                    from: "2024-01-01".into(),
                    until: "2026-10-31".into(),
                },
                usage: Usage::Periodic {
                    max_releases: 4,
                    per: RatePeriod::Month,
                },
                letters: vec![],
                catalog_version: None,
            },
            valid_from: time::macros::datetime!(2026-12-01 00:00 UTC),
            valid_until: time::macros::datetime!(2027-12-01 00:00 UTC),
            status: StatusSlot {
                base: example::STATUS_BASE.into(),
                index: 4242,
            },
        }
    }

    /// The draft with this id.
    #[must_use]
    pub fn with_id(mut self, id: GrantId) -> Self {
        self.id = id;
        self
    }

    /// The draft valid from `from` until `until`.
    #[must_use]
    pub fn with_validity(mut self, from: OffsetDateTime, until: OffsetDateTime) -> Self {
        self.valid_from = from;
        self.valid_until = until;
        self
    }

    /// The draft in slot `index` of the list pair at `base`.
    #[must_use]
    pub fn with_status(mut self, base: &str, index: u64) -> Self {
        self.status = StatusSlot {
            base: base.to_owned(),
            index,
        };
        self
    }

    /// The draft with this rate of use.
    #[must_use]
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.terms.usage = usage;
        self
    }

    /// The draft also granting the grantee `code` at `granularity` (after the categories it has).
    #[must_use]
    pub fn with_category(mut self, code: &str, granularity: Granularity) -> Self {
        self.terms.categories.push(CategoryGrant {
            code: code.into(),
            granularity,
        });
        self
    }

    /// The draft completed against `catalog` ([`Self::attach_current_letters`]).
    #[must_use]
    pub fn with_current_letters(mut self, catalog: &Catalog) -> Self {
        self.attach_current_letters(catalog);
        self
    }
}

/// Providers whose letters the categories need (those of non-public categories), sorted, unique.
pub fn needed_providers(categories: &[CategoryGrant], catalog: &Catalog) -> Vec<String> {
    let mut out: Vec<String> = categories
        .iter()
        .filter_map(|c| catalog.category(&c.code))
        .filter(|c| !c.public)
        .flat_map(|c| c.providers.iter().cloned())
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_example_is_a_valid_grant() {
        let key = crate::identity::KeyFile::new(crate::crypto::SecretKey::from_seed(&[42u8; 32]));
        let catalog = Catalog::builtin();
        let d = GrantDraft::example(key.did.as_str()).with_current_letters(&catalog);
        assert_eq!(d.id.as_str(), example::GRANT_ID);
        assert_eq!(d.terms.enterprise.uscc, example::ENTERPRISE);
        assert!(
            !d.terms.letters.is_empty(),
            "TAX-03 is not public: its letter is cited"
        );
        crate::grant::verify::check_unsigned(&d.to_credential(), &catalog).unwrap();
        let d = d
            .with_category("REG-01", Granularity::Raw)
            .with_status("https://n.example/s", 3);
        assert_eq!(d.terms.categories.len(), 3);
        assert_eq!(d.status.entries()[0].index().unwrap(), 3);
    }
}
