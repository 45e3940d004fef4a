//! Building an unsigned grant from its parts (what `consentry grant new` and the portal's wizard do).

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::model::{CategoryGrant, GRANT_CONTEXT, GRANT_TYPE, GrantTerms, LetterRef};
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
