//! Industries (GB/T 4754, 国民经济行业分类): the table the node classifies enterprises by, and an
//! enterprise's industry code.
//!
//! **The official table is not shipped.** GB/T 4754-2017 is not held by any package of npm, PyPI,
//! crates.io, Maven or Debian (searched 2026-12; `spec/loans.md` §8), and the project does not type
//! official tables from memory. The node therefore reads the table from a file its operator
//! supplies (`--industries FILE`, format `consentry-industries/v1`, `spec/industries.md`), checked
//! here before the node starts. Without one, the node classifies no enterprise: an `industry` given
//! anywhere is refused (`invalid-industry`) and every figure counts enterprises as
//! [`UNCLASSIFIED`].
//!
//! What the file must be (each rule a clear error naming the member at fault):
//! - `format` is `consentry-industries/v1`; unknown members are refused, at every level;
//! - `standard` is `GB/T 4754-2017`, and then the table has exactly 20 sections (门类) `A`…`T` in
//!   order and 97 divisions (大类), as the standard has (`shared/reference/financing-loop.md` §5);
//!   or it starts with `fixture:`, a table made up for tests, held only to the rules below;
//! - a section code is one capital letter, a division code two digits; codes are unique and
//!   ascending (sections by letter, divisions through the whole table, as GB/T 4754 numbers them);
//! - every section has at least one division; every name has 1–100 characters.
//!
//! An enterprise's industry is written as its section (`C`) or its section and division (`C13`);
//! a division must belong to the section written with it. Figures group by section.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

/// The file format this module reads.
pub const FORMAT: &str = "consentry-industries/v1";
/// The standard whose shape (20 sections, 97 divisions) a real table is held to.
pub const STANDARD: &str = "GB/T 4754-2017";
/// The prefix of a `standard` that marks a table made up for tests.
pub const FIXTURE_PREFIX: &str = "fixture:";
/// The figures' key for an enterprise whose industry is not known.
pub const UNCLASSIFIED: &str = "unclassified";
/// The name of [`UNCLASSIFIED`].
pub const UNCLASSIFIED_NAME: &str = "未分类";

/// A table file that cannot be used: what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("industry table: {0}")]
pub struct TableError(pub String);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDivision {
    code: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSection {
    code: String,
    name: String,
    divisions: Vec<FileDivision>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    format: String,
    standard: String,
    source: String,
    sections: Vec<FileSection>,
}

/// One section (门类) of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Its letter.
    pub code: char,
    /// Its name.
    pub name: String,
    /// Its divisions (大类): two-digit code and name, ascending.
    pub divisions: Vec<(String, String)>,
}

/// A checked industry table (the module doc's rules hold).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Industries {
    standard: String,
    source: String,
    sections: Vec<Section>,
    /// Division code → index of its section.
    section_of_division: BTreeMap<String, usize>,
}

fn name_ok(s: &str) -> bool {
    let n = s.trim().chars().count();
    n > 0 && n <= 100 && n == s.chars().count()
}

impl Industries {
    /// Reads and checks a table file.
    pub fn load(path: &Path) -> Result<Self, TableError> {
        let bytes = std::fs::read(path).map_err(|e| TableError(format!("{}: {e}", path.display())))?;
        Self::parse(&bytes).map_err(|e| TableError(format!("{}: {}", path.display(), e.0)))
    }

    /// Parses and checks a table (strict JSON: duplicate members are refused too).
    pub fn parse(bytes: &[u8]) -> Result<Self, TableError> {
        let value = crate::crypto::json::parse_strict(bytes).map_err(|e| TableError(e.to_string()))?;
        let f: File = serde_json::from_value(value).map_err(|e| TableError(e.to_string()))?;
        if f.format != FORMAT {
            return Err(TableError(format!("format: {:?}, expected {FORMAT:?}", f.format)));
        }
        let fixture = f.standard.starts_with(FIXTURE_PREFIX);
        if f.standard != STANDARD && !fixture {
            return Err(TableError(format!(
                "standard: {:?}, expected {STANDARD:?} (or {FIXTURE_PREFIX}… for a test table)",
                f.standard
            )));
        }
        if !name_ok(&f.source) {
            return Err(TableError(
                "source: say where the table comes from (1–100 characters)".into(),
            ));
        }
        let mut sections = Vec::with_capacity(f.sections.len());
        let mut section_of_division = BTreeMap::new();
        let mut last_division: Option<String> = None;
        for (i, s) in f.sections.into_iter().enumerate() {
            let at = format!("sections[{i}]");
            let mut letters = s.code.chars();
            let code = match (letters.next(), letters.next()) {
                (Some(c), None) if c.is_ascii_uppercase() => c,
                _ => {
                    return Err(TableError(format!(
                        "{at}.code: {:?} is not one capital letter",
                        s.code
                    )));
                }
            };
            if let Some(prev) = sections.last().map(|p: &Section| p.code) {
                if code <= prev {
                    return Err(TableError(format!(
                        "{at}.code: {code} after {prev}: sections ascend, once each"
                    )));
                }
            }
            if !name_ok(&s.name) {
                return Err(TableError(format!(
                    "{at}.name: 1–100 characters, no surrounding spaces"
                )));
            }
            if s.divisions.is_empty() {
                return Err(TableError(format!(
                    "{at}.divisions: a section has at least one division"
                )));
            }
            let mut divisions = Vec::with_capacity(s.divisions.len());
            for (j, d) in s.divisions.into_iter().enumerate() {
                let at = format!("{at}.divisions[{j}]");
                if d.code.len() != 2 || !d.code.bytes().all(|b| b.is_ascii_digit()) || d.code == "00" {
                    return Err(TableError(format!(
                        "{at}.code: {:?} is not a two-digit division",
                        d.code
                    )));
                }
                if let Some(prev) = &last_division {
                    if d.code <= *prev {
                        return Err(TableError(format!(
                            "{at}.code: {} after {prev}: divisions ascend through the table, once each",
                            d.code
                        )));
                    }
                }
                if !name_ok(&d.name) {
                    return Err(TableError(format!(
                        "{at}.name: 1–100 characters, no surrounding spaces"
                    )));
                }
                last_division = Some(d.code.clone());
                section_of_division.insert(d.code.clone(), i);
                divisions.push((d.code, d.name));
            }
            sections.push(Section {
                code,
                name: s.name,
                divisions,
            });
        }
        if sections.is_empty() {
            return Err(TableError("sections: none".into()));
        }
        if !fixture {
            let letters: String = sections.iter().map(|s| s.code).collect();
            if letters != "ABCDEFGHIJKLMNOPQRST" {
                return Err(TableError(format!(
                    "sections: {STANDARD} has the 20 sections A…T, this table has {letters}"
                )));
            }
            if section_of_division.len() != 97 {
                return Err(TableError(format!(
                    "divisions: {STANDARD} has 97, this table has {}",
                    section_of_division.len()
                )));
            }
        }
        Ok(Self {
            standard: f.standard,
            source: f.source,
            sections,
            section_of_division,
        })
    }

    /// The standard the table says it is (`GB/T 4754-2017`, or `fixture:…`).
    pub fn standard(&self) -> &str {
        &self.standard
    }

    /// Where the table comes from, as its file says.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The sections, by letter.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    fn section(&self, letter: char) -> Option<&Section> {
        self.sections.iter().find(|s| s.code == letter)
    }

    /// Checks an industry code against the table: a section (`C`) or a section and one of its
    /// divisions (`C13`). The error says what is wrong, for an `invalid-industry` answer.
    pub fn classify(&self, code: &str) -> Result<Industry, String> {
        let mut chars = code.chars();
        let letter = chars.next().filter(char::is_ascii_uppercase).ok_or_else(|| {
            format!("industry {code:?}: a GB/T 4754 section letter, optionally with its two-digit division (C or C13)")
        })?;
        let section = self.section(letter).ok_or_else(|| {
            format!(
                "industry {code:?}: no section {letter} in the node's table ({})",
                self.standard
            )
        })?;
        let rest = chars.as_str();
        if rest.is_empty() {
            return Ok(Industry(code.to_owned()));
        }
        if rest.len() != 2 || !rest.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "industry {code:?}: a GB/T 4754 section letter, optionally with its two-digit division (C or C13)"
            ));
        }
        match self.section_of_division.get(rest) {
            None => Err(format!(
                "industry {code:?}: no division {rest} in the node's table ({})",
                self.standard
            )),
            Some(&i) if self.sections[i].code != letter => Err(format!(
                "industry {code:?}: division {rest} belongs to section {}, not {letter}",
                self.sections[i].code
            )),
            Some(_) => {
                debug_assert!(section.divisions.iter().any(|(c, _)| c == rest));
                Ok(Industry(code.to_owned()))
            }
        }
    }

    /// The name of a figures key: a section letter's name, or [`UNCLASSIFIED_NAME`].
    pub fn name_of_key(&self, key: &str) -> &str {
        let mut chars = key.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => self.section(c).map_or(UNCLASSIFIED_NAME, |s| s.name.as_str()),
            _ => UNCLASSIFIED_NAME,
        }
    }
}

/// The figures key of an enterprise's stored industry code: its section letter, or
/// [`UNCLASSIFIED`] when there is none.
pub fn key_of(code: Option<&str>) -> &str {
    code.and_then(|c| c.get(..1))
        .filter(|s| s.bytes().all(|b| b.is_ascii_uppercase()))
        .unwrap_or(UNCLASSIFIED)
}

/// The name of a figures key, with or without a table.
pub fn name_of_key<'a>(table: Option<&'a Industries>, key: &str) -> &'a str {
    table.map_or(UNCLASSIFIED_NAME, |t| t.name_of_key(key))
}

/// An industry code checked against the node's table ([`Industries::classify`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Industry(String);

impl Industry {
    /// The code as written (`C` or `C13`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether an enterprise classified as `have` (a stored code) falls within this code
    /// ([`covers`]).
    pub fn covers(&self, have: &str) -> bool {
        covers(&self.0, have)
    }
}

/// Whether an enterprise classified as `have` (a stored code) falls within the code `wanted`: the
/// same code, or `wanted` is a section and `have` one of its divisions.
pub fn covers(wanted: &str, have: &str) -> bool {
    have == wanted || (wanted.len() == 1 && have.len() == 3 && have.starts_with(wanted))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A made-up table: its names and numbering are not GB/T 4754's.
    pub(crate) const FIXTURE: &str = include_str!("../tests/support/industries.fixture.json");

    fn table() -> Industries {
        Industries::parse(FIXTURE.as_bytes()).unwrap()
    }

    #[test]
    fn the_fixture_loads_and_classifies() {
        let t = table();
        assert!(t.standard().starts_with(FIXTURE_PREFIX));
        assert_eq!(t.sections().len(), 4);
        assert_eq!(t.classify("A").unwrap().as_str(), "A");
        assert_eq!(t.classify("B03").unwrap().as_str(), "B03");
        for bad in ["", "a", "Z", "B3", "B003", "B0x", "A03", "B99", "BB", "测"] {
            assert!(t.classify(bad).is_err(), "{bad}");
        }
        assert!(t.classify("A03").unwrap_err().contains("belongs to section B"));
        assert_eq!(t.name_of_key("B"), t.sections()[1].name);
        assert_eq!(t.name_of_key(UNCLASSIFIED), UNCLASSIFIED_NAME);
        assert_eq!(t.name_of_key("Z"), UNCLASSIFIED_NAME);
    }

    #[test]
    fn covers_is_by_section_or_exact_division() {
        let t = table();
        let b = t.classify("B").unwrap();
        let b03 = t.classify("B03").unwrap();
        assert!(b.covers("B") && b.covers("B03") && b.covers("B04"));
        assert!(!b.covers("A01") && !b.covers("C"));
        assert!(b03.covers("B03") && !b03.covers("B04") && !b03.covers("B"));
        assert_eq!(key_of(Some("B03")), "B");
        assert_eq!(key_of(None), UNCLASSIFIED);
        assert_eq!(key_of(Some("")), UNCLASSIFIED);
    }

    fn with(edit: impl FnOnce(&mut serde_json::Value)) -> Result<Industries, TableError> {
        let mut v: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        edit(&mut v);
        Industries::parse(v.to_string().as_bytes())
    }

    #[test]
    fn every_rule_of_the_file_is_enforced_with_its_place() {
        type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;
        let cases: Vec<(&str, Edit)> = vec![
            ("format", Box::new(|v| v["format"] = "v0".into())),
            ("standard", Box::new(|v| v["standard"] = "GB/T 4754-2011".into())),
            ("source", Box::new(|v| v["source"] = "".into())),
            ("unknown field", Box::new(|v| v["extra"] = 1.into())),
            (
                "sections: none",
                Box::new(|v| v["sections"] = serde_json::json!([])),
            ),
            (
                "sections[1].code",
                Box::new(|v| v["sections"][1]["code"] = "A".into()),
            ),
            (
                "sections[0].code",
                Box::new(|v| v["sections"][0]["code"] = "a".into()),
            ),
            (
                "sections[0].name",
                Box::new(|v| v["sections"][0]["name"] = " x".into()),
            ),
            (
                "sections[0].divisions: a section",
                Box::new(|v| v["sections"][0]["divisions"] = serde_json::json!([])),
            ),
            (
                "sections[0].divisions[1].code",
                Box::new(|v| v["sections"][0]["divisions"][1]["code"] = "01".into()),
            ),
            (
                "sections[1].divisions[0].code",
                Box::new(|v| v["sections"][1]["divisions"][0]["code"] = "01".into()),
            ),
            (
                "sections[0].divisions[0].code",
                Box::new(|v| v["sections"][0]["divisions"][0]["code"] = "1".into()),
            ),
            (
                "sections[0].divisions[0].name",
                Box::new(|v| v["sections"][0]["divisions"][0]["name"] = "".into()),
            ),
            (
                "unknown field",
                Box::new(|v| v["sections"][0]["divisions"][0]["x"] = 1.into()),
            ),
        ];
        for (want, edit) in cases {
            let e = with(edit).unwrap_err().0;
            assert!(e.contains(want), "{want}: {e}");
        }
        // A table that says it is the standard is held to the standard's shape.
        let e = with(|v| v["standard"] = STANDARD.into()).unwrap_err().0;
        assert!(e.contains("20 sections A…T"), "{e}");
        // Duplicate members are refused (strict JSON).
        let dup = FIXTURE.replacen("\"format\"", "\"format\": \"x\", \"format\"", 1);
        assert!(Industries::parse(dup.as_bytes()).is_err());
    }
}
