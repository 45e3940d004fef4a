//! Derived results and masking: what a release may carry instead of an enterprise's records
//! (issue #11; the measures §14: a bank never receives the raw detail of non-public data).
//!
//! A **derivation** is data, declared per category in `spec/derivations.json` and versioned with
//! the catalog (`spec/derivations.md`): the indicators a derived release returns, how each is
//! coarsened, the aligned **block** (quarter, half-year, year) the records are grouped by, and the
//! minimum number of records and of distinct months a block needs before anything numeric about
//! it is released. [`compute::derive`] applies a definition to records; [`mask`] masks natural
//! persons' identifiers in raw public records.
//!
//! What the definitions guarantee (each a property test in [`compute`]):
//! 1. **No verbatim values.** Only declared indicators come out; a categorical value only from
//!    the indicator's closed vocabulary; every sum and mean is a multiple of its rounding unit or
//!    a band, every ratio a multiple of its step.
//! 2. **A threshold.** A block contributes only with at least `minRecords` records over at least
//!    `minPeriods` distinct months; a numeric indicator counts only the records that carry its
//!    field, under the same threshold. Below it, nothing numeric about the block comes out, and
//!    the release says so with a reason.
//! 3. **No differencing.** The asked period is clipped *inward* to whole blocks, and a block is
//!    used only once it is closed and settled. Any release is therefore a function of whole,
//!    thresholded blocks: two releases over overlapping windows differ by whole blocks of at least
//!    `minRecords` records, never by one record.
//!
//! Hand-written: the whole module; there is no crate for this, and the rules are ours.

pub mod compute;
pub mod mask;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// The smallest `minRecords` a category with a numeric indicator may declare.
pub const NUMERIC_MIN_RECORDS: u32 = 3;
/// The smallest `minPeriods` a category with a numeric indicator may declare.
pub const NUMERIC_MIN_PERIODS: u32 = 2;

/// The aligned period records are grouped by. Blocks start on 1 January, 1 April, 1 July and
/// 1 October (quarters), 1 January and 1 July (half-years), or 1 January (years).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Block {
    /// Calendar quarter, e.g. `2025-Q1`.
    Quarter,
    /// Calendar half-year, e.g. `2025-H2`.
    HalfYear,
    /// Calendar year, e.g. `2025`.
    Year,
}

impl Block {
    /// `quarter`, `half-year` or `year`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Quarter => "quarter",
            Self::HalfYear => "half-year",
            Self::Year => "year",
        }
    }

    /// Months per block.
    pub fn months(self) -> u8 {
        match self {
            Self::Quarter => 3,
            Self::HalfYear => 6,
            Self::Year => 12,
        }
    }
}

/// How a sum or mean is coarsened before release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum Coarsen {
    /// Rounded to the nearest multiple of this unit (> 0), e.g. `10000` yuan.
    RoundTo(f64),
    /// Reported as the band `[from, below)` between two of these ascending edges (or below the
    /// first, or from the last).
    Bands(Vec<f64>),
}

/// A comparison a record's numeric field is tested against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Above {
    /// The field.
    pub field: String,
    /// The record counts when the field is a number greater than this.
    pub above: f64,
}

/// One declared indicator (the member `of` names the kind).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "of", rename_all = "camelCase", deny_unknown_fields)]
pub enum Indicator {
    /// Records in the released blocks.
    #[serde(rename_all = "camelCase")]
    Count {
        /// Indicator id.
        id: String,
    },
    /// Distinct months with a record in the released blocks.
    #[serde(rename_all = "camelCase")]
    Periods {
        /// Indicator id.
        id: String,
    },
    /// Distinct months in the released blocks in which some record's field exceeds a value
    /// (e.g. months with arrears).
    #[serde(rename_all = "camelCase")]
    MonthsWhere {
        /// Indicator id.
        id: String,
        /// The test.
        #[serde(rename = "where")]
        test: Above,
    },
    /// Sum of a numeric field, coarsened.
    #[serde(rename_all = "camelCase")]
    Sum {
        /// Indicator id.
        id: String,
        /// The numeric field.
        field: String,
        /// Rounding or bands.
        coarsen: Coarsen,
    },
    /// Mean per record of a numeric field, coarsened.
    #[serde(rename_all = "camelCase")]
    Mean {
        /// Indicator id.
        id: String,
        /// The numeric field.
        field: String,
        /// Rounding or bands.
        coarsen: Coarsen,
    },
    /// `Σ numerator / Σ denominator` over the records carrying both, rounded down to a multiple
    /// of `step`.
    #[serde(rename_all = "camelCase")]
    Ratio {
        /// Indicator id.
        id: String,
        /// Numerator field.
        numerator: String,
        /// Denominator field.
        denominator: String,
        /// Step in (0, 1], e.g. `0.01`.
        step: f64,
    },
    /// `rising`, `stable` or `falling`: the field's sum in the last contributing block against the
    /// one before, stable within `stableWithin` (a fraction).
    #[serde(rename_all = "camelCase")]
    Trend {
        /// Indicator id.
        id: String,
        /// The numeric field.
        field: String,
        /// Relative change still called stable, in (0, 1).
        stable_within: f64,
    },
    /// The latest value of a categorical field that is an indicator by nature (a grade, a
    /// status), only if it is one of `values`.
    #[serde(rename_all = "camelCase")]
    Latest {
        /// Indicator id.
        id: String,
        /// The field.
        field: String,
        /// Its closed vocabulary.
        values: Vec<String>,
    },
}

impl Indicator {
    /// The indicator's id.
    pub fn id(&self) -> &str {
        match self {
            Self::Count { id }
            | Self::Periods { id }
            | Self::MonthsWhere { id, .. }
            | Self::Sum { id, .. }
            | Self::Mean { id, .. }
            | Self::Ratio { id, .. }
            | Self::Trend { id, .. }
            | Self::Latest { id, .. } => id,
        }
    }

    /// Whether it releases something computed from field values (and so needs the numeric
    /// threshold floor).
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            Self::Sum { .. }
                | Self::Mean { .. }
                | Self::Ratio { .. }
                | Self::Trend { .. }
                | Self::MonthsWhere { .. }
        )
    }
}

/// The derived form of one category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Derivation {
    /// The aligned block records are grouped by.
    pub block: Block,
    /// Records a block needs before it contributes.
    pub min_records: u32,
    /// Distinct months a block needs before it contributes.
    pub min_periods: u32,
    /// Days after a block's last day before it is used (late filings settle first).
    pub settle_days: u32,
    /// The indicators, in output order.
    pub indicators: Vec<Indicator>,
}

/// The definitions valid from one catalog version on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DerivationSet {
    /// The catalog version these definitions belong to (`YYYY-MM-DD.n`).
    pub catalog_version: String,
    /// Definitions by category code.
    pub categories: BTreeMap<String, Derivation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DerivationsFile {
    #[allow(dead_code)]
    about: String,
    sets: Vec<DerivationSet>,
}

/// A derivations file that cannot be used; the message names the set, category and indicator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("derivations: {0}")]
pub struct DerivationError(pub String);

/// Every definition set the node knows, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Derivations {
    sets: Vec<DerivationSet>,
}

/// The default derived form of a public category without its own definition: counts only.
pub fn public_default() -> Derivation {
    Derivation {
        block: Block::Year,
        min_records: 1,
        min_periods: 1,
        settle_days: 0,
        indicators: vec![
            Indicator::Count { id: "records".into() },
            Indicator::Periods { id: "months".into() },
        ],
    }
}

fn version_key(v: &str) -> Option<(String, u32)> {
    let (date, n) = v.split_once('.')?;
    let ok_date = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let n: u32 = n.parse().ok().filter(|_| !n.starts_with('+') && !n.is_empty())?;
    ok_date.then(|| (date.to_owned(), n))
}

impl Derivations {
    /// Reads and checks a derivations file. `categories` are the catalog's codes with whether each
    /// is public; `current` is the catalog's version. Checked: versions well formed, unique and
    /// ascending; the newest is `current`; every category named exists; every non-public category
    /// has a definition in every set; indicator ids unique and well formed; thresholds at least
    /// 1, and at least [`NUMERIC_MIN_RECORDS`] / [`NUMERIC_MIN_PERIODS`] where an indicator is
    /// numeric; units, bands, steps and vocabularies well formed.
    pub fn from_json(
        text: &str,
        categories: &BTreeMap<String, bool>,
        current: &str,
    ) -> Result<Self, DerivationError> {
        let file: DerivationsFile = serde_json::from_str(text).map_err(|e| DerivationError(e.to_string()))?;
        let mut last: Option<(String, u32)> = None;
        for set in &file.sets {
            let v = &set.catalog_version;
            let key = version_key(v)
                .ok_or_else(|| DerivationError(format!("catalog version {v:?} is not YYYY-MM-DD.n")))?;
            if last.as_ref().is_some_and(|l| *l >= key) {
                return Err(DerivationError(format!(
                    "set {v} is not after the set before it (sets are listed oldest first, once each)"
                )));
            }
            last = Some(key);
            for (code, public) in categories {
                if !public && !set.categories.contains_key(code) {
                    return Err(DerivationError(format!(
                        "set {v}: non-public category {code} has no derived form"
                    )));
                }
            }
            for (code, d) in &set.categories {
                if !categories.contains_key(code) {
                    return Err(DerivationError(format!("set {v}: unknown category {code}")));
                }
                check(d).map_err(|e| DerivationError(format!("set {v}, {code}: {e}")))?;
            }
        }
        match file.sets.last() {
            Some(s) if s.catalog_version == current => {}
            Some(s) => {
                return Err(DerivationError(format!(
                    "the newest set is for catalog {}, but the catalog is {current}",
                    s.catalog_version
                )));
            }
            None => return Err(DerivationError("no definition sets".into())),
        }
        Ok(Self { sets: file.sets })
    }

    /// The set a grant signed under catalog `version` is released with: that version's set.
    /// A grant that cites no version (signed before grants cited one) gets the oldest set, the
    /// first with these guarantees. `None` for a version the node does not know.
    pub fn set_for(&self, version: Option<&str>) -> Option<&DerivationSet> {
        match version {
            None => self.sets.first(),
            Some(v) => self.sets.iter().find(|s| s.catalog_version == v),
        }
    }

    /// The newest set (the current catalog's).
    pub fn current(&self) -> Option<&DerivationSet> {
        self.sets.last()
    }

    /// Every set, oldest first.
    pub fn sets(&self) -> &[DerivationSet] {
        &self.sets
    }
}

fn well_formed_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn check_coarsen(c: &Coarsen) -> Result<(), String> {
    match c {
        Coarsen::RoundTo(u) if u.is_finite() && *u > 0.0 => Ok(()),
        Coarsen::RoundTo(u) => Err(format!("roundTo must be a positive number, not {u}")),
        Coarsen::Bands(edges) => {
            if edges.len() < 2 || edges.iter().any(|e| !e.is_finite()) {
                return Err("bands needs at least two finite edges".into());
            }
            if edges.windows(2).any(|w| w[0] >= w[1]) {
                return Err("band edges must be strictly ascending".into());
            }
            Ok(())
        }
    }
}

/// Checks one category's definition (see [`Derivations::from_json`]).
pub fn check(d: &Derivation) -> Result<(), String> {
    if d.min_records == 0 || d.min_periods == 0 {
        return Err("minRecords and minPeriods must be at least 1".into());
    }
    if d.min_periods > d.min_records {
        return Err("minPeriods cannot exceed minRecords".into());
    }
    if d.indicators.is_empty() {
        return Err("no indicators".into());
    }
    let mut ids = BTreeSet::new();
    for i in &d.indicators {
        let id = i.id();
        if !well_formed_id(id) {
            return Err(format!(
                "indicator id {id:?} must be 1–64 ASCII letters or digits"
            ));
        }
        if !ids.insert(id) {
            return Err(format!("indicator {id} declared twice"));
        }
        if i.is_numeric() && (d.min_records < NUMERIC_MIN_RECORDS || d.min_periods < NUMERIC_MIN_PERIODS) {
            return Err(format!(
                "indicator {id} is numeric, so minRecords must be at least {NUMERIC_MIN_RECORDS} and minPeriods at least {NUMERIC_MIN_PERIODS}"
            ));
        }
        let bad_field = |f: &str| f.is_empty() || f.len() > 64;
        match i {
            Indicator::Count { .. } | Indicator::Periods { .. } => {}
            Indicator::MonthsWhere { test, .. } => {
                if bad_field(&test.field) || !test.above.is_finite() {
                    return Err(format!("indicator {id}: where needs a field and a finite above"));
                }
            }
            Indicator::Sum { field, coarsen, .. } | Indicator::Mean { field, coarsen, .. } => {
                if bad_field(field) {
                    return Err(format!("indicator {id}: field must be 1–64 characters"));
                }
                check_coarsen(coarsen).map_err(|e| format!("indicator {id}: {e}"))?;
            }
            Indicator::Ratio {
                numerator,
                denominator,
                step,
                ..
            } => {
                if bad_field(numerator) || bad_field(denominator) {
                    return Err(format!("indicator {id}: numerator and denominator are fields"));
                }
                if !(step.is_finite() && *step > 0.0 && *step <= 1.0) {
                    return Err(format!("indicator {id}: step must be in (0, 1], not {step}"));
                }
            }
            Indicator::Trend {
                field, stable_within, ..
            } => {
                if bad_field(field) {
                    return Err(format!("indicator {id}: field must be 1–64 characters"));
                }
                if !(stable_within.is_finite() && *stable_within > 0.0 && *stable_within < 1.0) {
                    return Err(format!("indicator {id}: stableWithin must be in (0, 1)"));
                }
            }
            Indicator::Latest { field, values, .. } => {
                if bad_field(field) {
                    return Err(format!("indicator {id}: field must be 1–64 characters"));
                }
                if values.is_empty() || values.iter().any(|v| v.is_empty() || v.len() > 64) {
                    return Err(format!(
                        "indicator {id}: values must be a non-empty list of short strings"
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::catalog::{BUILTIN_CATALOG, BUILTIN_DERIVATIONS, BUILTIN_LETTERS, Catalog};
    use serde_json::{Value, json};

    fn with(edit: impl FnOnce(&mut Value)) -> String {
        let mut v: Value = serde_json::from_str(BUILTIN_DERIVATIONS).unwrap_or(Value::Null);
        edit(&mut v);
        match Catalog::from_json(BUILTIN_CATALOG, BUILTIN_LETTERS, &v.to_string()) {
            Ok(_) => "ok".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_builtin_definitions_load() {
        assert_eq!(with(|_| {}), "ok");
    }

    #[test]
    fn bad_definitions_are_refused_with_the_place_named() {
        type Edit = Box<dyn FnOnce(&mut Value)>;
        let cases: Vec<(&str, Edit, &str)> = vec![
            (
                "unknown indicator kind",
                Box::new(|v| v["sets"][0]["categories"]["TAX-03"]["indicators"][0]["of"] = json!("median")),
                "unknown variant `median`",
            ),
            (
                "unknown member",
                Box::new(|v| v["sets"][0]["categories"]["TAX-03"]["extra"] = json!(1)),
                "unknown field `extra`",
            ),
            (
                "numeric below the floor",
                Box::new(|v| {
                    v["sets"][0]["categories"]["TAX-03"]["minRecords"] = json!(2);
                    v["sets"][0]["categories"]["TAX-03"]["minPeriods"] = json!(2);
                }),
                "TAX-03: indicator taxPaid is numeric",
            ),
            (
                "missing non-public category",
                Box::new(|v| {
                    v["sets"][0]["categories"]
                        .as_object_mut()
                        .map(|m| m.remove("SOC-01"));
                }),
                "non-public category SOC-01 has no derived form",
            ),
            (
                "unknown category",
                Box::new(|v| {
                    v["sets"][0]["categories"]["XXX-01"] = v["sets"][0]["categories"]["TAX-03"].clone()
                }),
                "unknown category XXX-01",
            ),
            (
                "zero rounding unit",
                Box::new(|v| {
                    v["sets"][0]["categories"]["TAX-03"]["indicators"][2]["coarsen"] = json!({"roundTo": 0})
                }),
                "roundTo must be a positive number",
            ),
            (
                "descending bands",
                Box::new(|v| {
                    v["sets"][0]["categories"]["SOC-01"]["indicators"][1]["coarsen"] =
                        json!({"bands": [10, 5]})
                }),
                "strictly ascending",
            ),
            (
                "duplicate indicator id",
                Box::new(|v| v["sets"][0]["categories"]["TAX-03"]["indicators"][1]["id"] = json!("filings")),
                "indicator filings declared twice",
            ),
            (
                "stale newest set",
                Box::new(|v| v["sets"][0]["catalogVersion"] = json!("2026-01-01.1")),
                "the newest set is for catalog 2026-01-01.1",
            ),
            (
                "malformed version",
                Box::new(|v| v["sets"][0]["catalogVersion"] = json!("v2")),
                "is not YYYY-MM-DD.n",
            ),
            (
                "empty vocabulary",
                Box::new(|v| v["sets"][0]["categories"]["TAX-02"]["indicators"][0]["values"] = json!([])),
                "values must be a non-empty list",
            ),
        ];
        for (what, edit, expected) in cases {
            let got = with(edit);
            assert!(got.contains(expected), "{what}: {got}");
        }
    }

    #[test]
    fn sets_resolve_by_cited_version() {
        let c = Catalog::builtin();
        let current = c.version().to_owned();
        assert_eq!(
            c.derivations()
                .set_for(Some(&current))
                .map(|s| s.catalog_version.as_str()),
            Some(current.as_str())
        );
        assert!(
            c.derivations().set_for(None).is_some(),
            "a grant that cites no version gets the oldest set"
        );
        assert!(c.derivations().set_for(Some("1999-01-01.1")).is_none());
        // A public category without a definition counts records only.
        let (_, d) = c.derivation(None, "REG-01").unwrap_or_else(|| unreachable!());
        assert!(d.indicators.iter().all(|i| !i.is_numeric()));
    }
}
