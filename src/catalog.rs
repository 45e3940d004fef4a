//! The data catalog: categories of the national credit-information sharing list, the departments
//! that provide them, the closed vocabulary of financing purposes, and the authorization letters the
//! departments require.
//!
//! The data lives in `spec/catalog.json` and `spec/letters.json` (versioned files, documented in
//! `spec/grant.md`); [`Catalog::builtin`] embeds the copies this binary was built with and
//! [`Catalog::from_json`] reads replacements. Nothing about categories is hard-coded in Rust.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::crypto::{Sha256Digest, jcs};
use crate::derivation::mask::PersonalField;
use crate::derivation::{Derivation, DerivationSet, Derivations};

/// A department (or utility) that provides data to the node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Provider {
    /// Short stable id, e.g. `STA`.
    pub id: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// A data category of the sharing list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Category {
    /// Code, e.g. `TAX-03`.
    pub code: String,
    /// Group in the sharing list (Chinese), e.g. `纳税`.
    pub group_zh: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Ids of the providing departments.
    pub providers: Vec<String>,
    /// Public data may be released without a grant (but is still logged); non-public data needs one.
    pub public: bool,
    /// Why the classification is provisional, if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// How sure the source is of this item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<String>,
    /// Fields that name natural persons, and how each is masked when the category is released
    /// raw (public categories only; `spec/derivations.md` §5).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub personal_fields: BTreeMap<String, PersonalField>,
}

/// A financing purpose from the closed vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Purpose {
    /// Code, e.g. `credit-approval`.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// An authorization-letter template a providing department requires before releasing its
/// non-public data. Immutable once published: a changed text is a new version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Letter {
    /// `<provider>/<version>`, e.g. `STA/1`.
    pub id: String,
    /// The providing department's id.
    pub provider: String,
    /// Version number, from 1.
    pub version: u32,
    /// Chinese title.
    pub title_zh: String,
    /// English title.
    pub title_en: String,
    /// Full Chinese text (the binding text).
    pub text_zh: String,
    /// Full English text (a translation).
    pub text_en: String,
}

impl Letter {
    /// SHA-256 of the RFC 8785 canonical JSON of the whole letter: what a grant cites.
    pub fn digest(&self) -> Sha256Digest {
        let value = serde_json::to_value(self).unwrap_or(Value::Null);
        Sha256Digest::of(&jcs::canonicalize(&value).unwrap_or_default())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CatalogFile {
    catalog_version: String,
    #[allow(dead_code)]
    about: String,
    providers: Vec<Provider>,
    categories: Vec<Category>,
    purposes: Vec<Purpose>,
}

#[derive(Deserialize)]
struct LettersFile {
    #[allow(dead_code)]
    about: String,
    letters: Vec<Letter>,
}

/// A catalog file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("catalog: {0}")]
pub struct CatalogError(pub String);

/// The loaded catalog, with every cross-reference checked.
#[derive(Debug, Clone)]
pub struct Catalog {
    version: String,
    providers: BTreeMap<String, Provider>,
    categories: BTreeMap<String, Category>,
    purposes: BTreeMap<String, Purpose>,
    letters: BTreeMap<String, (Letter, Sha256Digest)>,
    derivations: Derivations,
}

/// The catalog file this binary was built with.
pub const BUILTIN_CATALOG: &str = include_str!("../spec/catalog.json");
/// The letters file this binary was built with.
pub const BUILTIN_LETTERS: &str = include_str!("../spec/letters.json");
/// The derivations file this binary was built with.
pub const BUILTIN_DERIVATIONS: &str = include_str!("../spec/derivations.json");

impl Catalog {
    /// The catalog embedded at build time (`spec/catalog.json`, `spec/letters.json`,
    /// `spec/derivations.json`).
    pub fn builtin() -> Self {
        match Self::from_json(BUILTIN_CATALOG, BUILTIN_LETTERS, BUILTIN_DERIVATIONS) {
            Ok(c) => c,
            // The embedded files are checked by this crate's tests; reaching this is a build defect.
            Err(e) => unreachable!("embedded catalog is invalid: {e}"),
        }
    }

    /// Reads `catalog.json`, `letters.json` and `derivations.json` from `dir` (the
    /// `--catalog-dir` of the node and the CLI) with [`Catalog::from_json`]; an unreadable file is
    /// an error naming it.
    pub fn from_dir(dir: &std::path::Path) -> Result<Self, CatalogError> {
        let read = |name: &str| {
            let p = dir.join(name);
            std::fs::read_to_string(&p).map_err(|e| CatalogError(format!("{}: {e}", p.display())))
        };
        Self::from_json(
            &read("catalog.json")?,
            &read("letters.json")?,
            &read("derivations.json")?,
        )
    }

    /// Reads a catalog, its letters and its derived forms, checking that every category's providers
    /// exist, codes are unique, only public categories mark personal fields, every letter names a
    /// known provider with an id of the form `<provider>/<version>`, and the derivations pass
    /// [`Derivations::from_json`] against these categories and this version.
    pub fn from_json(catalog: &str, letters: &str, derivations: &str) -> Result<Self, CatalogError> {
        let file: CatalogFile = serde_json::from_str(catalog).map_err(|e| CatalogError(e.to_string()))?;
        let letters_file: LettersFile =
            serde_json::from_str(letters).map_err(|e| CatalogError(format!("letters: {e}")))?;
        let kinds: BTreeMap<String, bool> = file
            .categories
            .iter()
            .map(|c| (c.code.clone(), c.public))
            .collect();
        let derivations = Derivations::from_json(derivations, &kinds, &file.catalog_version)
            .map_err(|e| CatalogError(e.to_string()))?;
        let mut out = Self {
            derivations,
            version: file.catalog_version,
            providers: BTreeMap::new(),
            categories: BTreeMap::new(),
            purposes: BTreeMap::new(),
            letters: BTreeMap::new(),
        };
        for p in file.providers {
            if out.providers.insert(p.id.clone(), p.clone()).is_some() {
                return Err(CatalogError(format!("provider {} listed twice", p.id)));
            }
        }
        for c in file.categories {
            if let Some(missing) = c.providers.iter().find(|p| !out.providers.contains_key(*p)) {
                return Err(CatalogError(format!(
                    "category {} names unknown provider {missing}",
                    c.code
                )));
            }
            if !c.public && !c.personal_fields.is_empty() {
                return Err(CatalogError(format!(
                    "category {} is not public: its records are never released raw to a bank, so it marks no personal fields",
                    c.code
                )));
            }
            if c.providers.is_empty() {
                return Err(CatalogError(format!("category {} has no provider", c.code)));
            }
            if out.categories.insert(c.code.clone(), c.clone()).is_some() {
                return Err(CatalogError(format!("category {} listed twice", c.code)));
            }
        }
        for p in file.purposes {
            if out.purposes.insert(p.code.clone(), p.clone()).is_some() {
                return Err(CatalogError(format!("purpose {} listed twice", p.code)));
            }
        }
        for l in letters_file.letters {
            out.add_letter(l)?;
        }
        Ok(out)
    }

    /// Adds a letter version (the node's operators publish new versions at run time).
    pub fn add_letter(&mut self, l: Letter) -> Result<Sha256Digest, CatalogError> {
        if !self.providers.contains_key(&l.provider) {
            return Err(CatalogError(format!(
                "letter {} names unknown provider {}",
                l.id, l.provider
            )));
        }
        if l.id != format!("{}/{}", l.provider, l.version) || l.version == 0 {
            return Err(CatalogError(format!(
                "letter id {} must be <provider>/<version>",
                l.id
            )));
        }
        if self.letters.contains_key(&l.id) {
            return Err(CatalogError(format!(
                "letter {} already exists; publish a new version",
                l.id
            )));
        }
        let digest = l.digest();
        self.letters.insert(l.id.clone(), (l, digest));
        Ok(digest)
    }

    /// The catalog's version string.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Every derived-form definition set, checked against this catalog.
    pub fn derivations(&self) -> &Derivations {
        &self.derivations
    }

    /// The derived form of `code` for a grant signed under catalog `version` (`None`: cites
    /// none; see [`Derivations::set_for`]), with the set's catalog version. A public category
    /// without a definition gets [`crate::derivation::public_default`]. `None` for an unknown
    /// version or category.
    pub fn derivation(&self, version: Option<&str>, code: &str) -> Option<(String, Derivation)> {
        let set: &DerivationSet = self.derivations.set_for(version)?;
        let d = match set.categories.get(code) {
            Some(d) => d.clone(),
            None if self.category(code)?.public => crate::derivation::public_default(),
            None => return None,
        };
        Some((set.catalog_version.clone(), d))
    }

    /// A category by code.
    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.get(code)
    }

    /// All categories, by code.
    pub fn categories(&self) -> impl Iterator<Item = &Category> {
        self.categories.values()
    }

    /// A provider by id.
    pub fn provider(&self, id: &str) -> Option<&Provider> {
        self.providers.get(id)
    }

    /// All providers.
    pub fn providers(&self) -> impl Iterator<Item = &Provider> {
        self.providers.values()
    }

    /// A purpose by code.
    pub fn purpose(&self, code: &str) -> Option<&Purpose> {
        self.purposes.get(code)
    }

    /// All purposes.
    pub fn purposes(&self) -> impl Iterator<Item = &Purpose> {
        self.purposes.values()
    }

    /// A letter and its digest, by id.
    pub fn letter(&self, id: &str) -> Option<(&Letter, Sha256Digest)> {
        self.letters.get(id).map(|(l, d)| (l, *d))
    }

    /// All letters with their digests.
    pub fn letters(&self) -> impl Iterator<Item = (&Letter, Sha256Digest)> {
        self.letters.values().map(|(l, d)| (l, *d))
    }

    /// The newest letter version of a provider, if it has any.
    pub fn current_letter(&self, provider: &str) -> Option<(&Letter, Sha256Digest)> {
        self.letters
            .values()
            .filter(|(l, _)| l.provider == provider)
            .max_by_key(|(l, _)| l.version)
            .map(|(l, d)| (l, *d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_loads_and_covers_the_sharing_list() {
        let c = Catalog::builtin();
        assert_eq!(c.categories().count(), 37);
        // Every provider of a non-public category has a letter, so a grant can always be completed.
        for cat in c.categories().filter(|c| !c.public) {
            for p in &cat.providers {
                assert!(
                    c.current_letter(p).is_some(),
                    "{} needs a letter from {p}",
                    cat.code
                );
            }
        }
        assert!(c.purpose("credit-approval").is_some());
        assert!(!c.category("TAX-03").unwrap().public);
        assert!(c.category("REG-01").unwrap().public);
    }

    #[test]
    fn letter_digest_covers_every_field() {
        let c = Catalog::builtin();
        let (letter, digest) = c.letter("STA/1").unwrap();
        let mut changed = letter.clone();
        changed.text_en.push(' ');
        assert_ne!(changed.digest(), digest);
    }

    #[test]
    fn broken_catalogs_are_refused() {
        let mut v: Value = serde_json::from_str(BUILTIN_CATALOG).unwrap();
        v["categories"][0]["providers"] = serde_json::json!(["NOPE"]);
        assert!(Catalog::from_json(&v.to_string(), BUILTIN_LETTERS, BUILTIN_DERIVATIONS).is_err());
        let mut l: Value = serde_json::from_str(BUILTIN_LETTERS).unwrap();
        l["letters"][0]["id"] = "STA/9".into();
        assert!(Catalog::from_json(BUILTIN_CATALOG, &l.to_string(), BUILTIN_DERIVATIONS).is_err());
    }
}
