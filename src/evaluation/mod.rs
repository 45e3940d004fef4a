//! Credit evaluation as data (issue #11 §4–5; the measures §2, §9): an evaluation **model** is a
//! versioned indicator system (指标体系) — indicators computed from derived inputs, score tables,
//! weights and grade bands — read from a file and checked on load ([`Model::from_json`]);
//! [`evaluate`] applies it to an enterprise's derived results; [`credential`] states the result as a
//! W3C Verifiable Credential of type `CreditEvaluation` for the evaluator to sign with
//! eddsa-jcs-2022. The default model is `spec/evaluation-model.json`, documented in
//! `spec/evaluation.md`.
//!
//! A model reads **derived results only** (`spec/derivations.md`): what it states about an
//! enterprise is no finer than what a bank may receive, and its inputs are named by the digest of
//! the derived release they came from, so that a regulator can re-run an evaluation from the log.
//!
//! Hand-written: the whole module; the rules are ours.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::{Date, OffsetDateTime};

use crate::catalog::Catalog;
use crate::credential::datetime::format_utc_seconds;
use crate::credential::vc::CREDENTIALS_V2;
use crate::grant::model::GRANT_CONTEXT;
use crate::status::StatusEntry;

/// The credential type of an evaluation.
pub const EVALUATION_TYPE: &str = "CreditEvaluation";
/// The built-in model (`spec/evaluation-model.json`).
pub const BUILTIN_MODEL: &str = include_str!("../../spec/evaluation-model.json");

/// Where an indicator's input comes from: an indicator of a category's derived form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InputRef {
    /// Category code, e.g. `TAX-03`.
    pub category: String,
    /// Indicator id in that category's derived form, e.g. `taxBurden`.
    pub indicator: String,
}

/// One row of a score table: the first row that matches gives the points. Exactly one of `is`,
/// `atLeast`, `atMost` is present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScoreRule {
    /// Matches a word input equal to this (a grade, a trend, a status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is: Option<String>,
    /// Matches a number at least this (for a band `{from, below}`: its `from`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<f64>,
    /// Matches a number at most this (for a band: its `below`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_most: Option<f64>,
    /// Points, 0–100.
    pub points: f64,
}

/// One indicator of the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelIndicator {
    /// Id, 1–64 ASCII letters or digits, unique in the model.
    pub id: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Its input.
    pub input: InputRef,
    /// Weight in (0, 1]; the weights sum to 1.
    pub weight: f64,
    /// The score table.
    pub scores: Vec<ScoreRule>,
    /// Points when the input was withheld or matches no row, 0–100.
    pub missing: f64,
}

/// A grade and the lowest score that earns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GradeBand {
    /// E.g. `AAA`.
    pub grade: String,
    /// Lowest score (0–100) with this grade.
    pub min_score: f64,
}

/// An evaluation model, checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Model {
    /// Stable id, e.g. `consentry-sme-basic`.
    pub model_id: String,
    /// Version, from 1; a changed model is a new version.
    pub version: u32,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// The catalog version whose derived forms the inputs name.
    pub catalog_version: String,
    /// Days an evaluation stays valid.
    pub validity_days: u32,
    /// The indicators.
    pub indicators: Vec<ModelIndicator>,
    /// Grade bands, highest first; the last starts at 0.
    pub grades: Vec<GradeBand>,
}

/// A model file that cannot be used; the message names the indicator or band.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("evaluation model: {0}")]
pub struct ModelError(pub String);

fn well_formed_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn points_ok(p: f64) -> bool {
    p.is_finite() && (0.0..=100.0).contains(&p)
}

impl Model {
    /// The built-in model, checked against `catalog`.
    pub fn builtin(catalog: &Catalog) -> Result<Self, ModelError> {
        Self::from_json(BUILTIN_MODEL, catalog)
    }

    /// A platform's own model (`spec/evaluation.md` §6): [`Model::from_json`], and it may not pass
    /// for the built-in one: a model with the built-in model's id must be that very document.
    pub fn own(text: &str, catalog: &Catalog) -> Result<Self, ModelError> {
        let model = Self::from_json(text, catalog)?;
        let builtin = Self::builtin(catalog)?;
        if model.model_id == builtin.model_id && model != builtin {
            return Err(ModelError(format!(
                "modelId {} is the built-in model's; a platform's own model needs its own id",
                model.model_id
            )));
        }
        Ok(model)
    }

    /// Reads and checks a model: no unknown member; ids well formed and unique; every input an
    /// indicator of the derived form of its category in the model's catalog version (an unknown
    /// indicator is an error naming it); weights in (0, 1] summing to 1; points in 0–100; each
    /// score row with exactly one condition; grade bands strictly descending and ending at 0;
    /// validity 1–366 days.
    pub fn from_json(text: &str, catalog: &Catalog) -> Result<Self, ModelError> {
        let m: Model = serde_json::from_str(text).map_err(|e| ModelError(e.to_string()))?;
        if !well_formed_id(&m.model_id) {
            return Err(ModelError(format!(
                "modelId {:?} must be 1–64 ASCII letters, digits or '-'",
                m.model_id
            )));
        }
        if m.version == 0 {
            return Err(ModelError("version starts at 1".into()));
        }
        if !(1..=366).contains(&m.validity_days) {
            return Err(ModelError("validityDays must be 1–366".into()));
        }
        let set = catalog
            .derivations()
            .set_for(Some(&m.catalog_version))
            .ok_or_else(|| {
                ModelError(format!(
                    "catalogVersion {} is not one this node holds",
                    m.catalog_version
                ))
            })?;
        if m.indicators.is_empty() {
            return Err(ModelError("no indicators".into()));
        }
        let mut ids = BTreeSet::new();
        let mut total = 0.0;
        for i in &m.indicators {
            let at = |msg: String| ModelError(format!("indicator {}: {msg}", i.id));
            if !well_formed_id(&i.id) || !ids.insert(i.id.as_str()) {
                return Err(at("id must be unique, 1–64 ASCII letters, digits or '-'".into()));
            }
            let known = match set.categories.get(&i.input.category) {
                Some(d) => d.indicators.iter().any(|x| x.id() == i.input.indicator),
                None => {
                    catalog.category(&i.input.category).is_some_and(|c| c.public)
                        && crate::derivation::public_default()
                            .indicators
                            .iter()
                            .any(|x| x.id() == i.input.indicator)
                }
            };
            if !known {
                return Err(at(format!(
                    "unknown input {}.{}: not an indicator of that category's derived form in catalog {}",
                    i.input.category, i.input.indicator, m.catalog_version
                )));
            }
            if !(i.weight.is_finite() && i.weight > 0.0 && i.weight <= 1.0) {
                return Err(at("weight must be in (0, 1]".into()));
            }
            total += i.weight;
            if !points_ok(i.missing) {
                return Err(at("missing must be 0–100 points".into()));
            }
            if i.scores.is_empty() {
                return Err(at("no score rows".into()));
            }
            for r in &i.scores {
                let conditions = usize::from(r.is.is_some())
                    + usize::from(r.at_least.is_some())
                    + usize::from(r.at_most.is_some());
                if conditions != 1 {
                    return Err(at("each score row has exactly one of is, atLeast, atMost".into()));
                }
                if r.at_least.or(r.at_most).is_some_and(|x| !x.is_finite()) || !points_ok(r.points) {
                    return Err(at("score rows need finite bounds and 0–100 points".into()));
                }
            }
        }
        if (total - 1.0).abs() > 1e-9 {
            return Err(ModelError(format!("the weights sum to {total}, not 1")));
        }
        if m.grades.is_empty() {
            return Err(ModelError("no grade bands".into()));
        }
        let mut grades = BTreeSet::new();
        for w in m.grades.windows(2) {
            if w[0].min_score <= w[1].min_score {
                return Err(ModelError(format!(
                    "grade {} must need more than grade {}",
                    w[0].grade, w[1].grade
                )));
            }
        }
        for g in &m.grades {
            if g.grade.is_empty()
                || g.grade.len() > 8
                || !grades.insert(g.grade.as_str())
                || !points_ok(g.min_score)
            {
                return Err(ModelError(format!(
                    "grade {:?}: a unique short name and a 0–100 minScore",
                    g.grade
                )));
            }
        }
        if m.grades.last().map(|g| g.min_score) != Some(0.0) {
            return Err(ModelError("the last grade band must start at 0".into()));
        }
        Ok(m)
    }

    /// The categories whose derived forms the model reads, sorted.
    pub fn categories(&self) -> Vec<String> {
        let set: BTreeSet<&str> = self
            .indicators
            .iter()
            .map(|i| i.input.category.as_str())
            .collect();
        set.into_iter().map(str::to_owned).collect()
    }
}

/// One indicator's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndicatorOutcome {
    /// The model's indicator id.
    pub indicator: String,
    /// The input as released (coarse), or `null` when it was withheld.
    pub value: Value,
    /// Points given.
    pub points: f64,
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evaluation {
    /// Weighted score, 0–100, rounded to a whole number.
    pub score: u32,
    /// The grade of the band the score falls in.
    pub grade: String,
    /// Each indicator's input and points, in the model's order.
    pub key_indicators: Vec<IndicatorOutcome>,
}

fn matches(rule: &ScoreRule, v: &Value) -> bool {
    // A band `{from, below}` is compared by its lower edge for atLeast and its upper for atMost.
    let number = |lower: bool| match v {
        Value::Number(n) => n.as_f64(),
        Value::Object(b) => b
            .get(if lower { "from" } else { "below" })
            .and_then(Value::as_f64),
        _ => None,
    };
    if let Some(is) = &rule.is {
        return v.as_str() == Some(is.as_str());
    }
    if let Some(min) = rule.at_least {
        return number(true).is_some_and(|x| x >= min);
    }
    if let Some(max) = rule.at_most {
        return number(false).is_some_and(|x| x <= max);
    }
    false
}

/// Applies `model` to `derived`: the `data` of a derived release, one member per category, each a
/// derived form (`spec/derivations.md` §4). An input that is absent or withheld scores the
/// indicator's `missing` points.
pub fn evaluate(model: &Model, derived: &BTreeMap<String, Value>) -> Evaluation {
    let mut total = 0.0;
    let mut key_indicators = Vec::new();
    for i in &model.indicators {
        let value = derived
            .get(&i.input.category)
            .and_then(|d| d.get("indicators"))
            .and_then(|x| x.get(&i.input.indicator))
            .cloned()
            .unwrap_or(Value::Null);
        let points = if value.is_null() {
            i.missing
        } else {
            i.scores
                .iter()
                .find(|r| matches(r, &value))
                .map_or(i.missing, |r| r.points)
        };
        total += i.weight * points;
        key_indicators.push(IndicatorOutcome {
            indicator: i.id.clone(),
            value,
            points,
        });
    }
    let score = total.round().clamp(0.0, 100.0);
    let grade = model
        .grades
        .iter()
        .find(|g| score >= g.min_score)
        .or(model.grades.last())
        .map(|g| g.grade.clone())
        .unwrap_or_default();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Evaluation {
        score: score as u32,
        grade,
        key_indicators,
    }
}

/// An issued evaluation's state (`spec/evaluation.md` §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EvaluationState {
    /// Within its validity and not withdrawn.
    Active,
    /// Withdrawn by its issuer (its status bit is set).
    Withdrawn,
    /// Past its `validUntil`.
    Expired,
}

impl EvaluationState {
    /// The state of an evaluation valid until `valid_until_ms`, withdrawn or not, at `now_ms`.
    pub fn at(withdrawn: bool, valid_until_ms: i64, now_ms: i64) -> Self {
        if withdrawn {
            Self::Withdrawn
        } else if now_ms >= valid_until_ms {
            Self::Expired
        } else {
            Self::Active
        }
    }

    /// `active`, `withdrawn` or `expired`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Withdrawn => "withdrawn",
            Self::Expired => "expired",
        }
    }
}

/// Everything a `CreditEvaluation` credential states besides the evaluation itself.
#[derive(Debug, Clone)]
pub struct Issue<'a> {
    /// Credential id (`urn:uuid:…`).
    pub id: &'a str,
    /// The evaluator's DID (the issuer and signer).
    pub issuer: &'a str,
    /// The enterprise's USCC.
    pub enterprise_uscc: &'a str,
    /// The enterprise's name.
    pub enterprise_name: &'a str,
    /// When it was evaluated (validity starts then).
    pub evaluated_at: OffsetDateTime,
    /// The evaluation date in China Standard Time.
    pub evaluated_on: Date,
    /// SHA-256 (hex) of the RFC 8785 form of the derived inputs, as logged.
    pub inputs_sha256: &'a str,
    /// SHA-256 (hex) of the RFC 8785 form of the model document.
    pub model_sha256: &'a str,
    /// The status entry that withdraws it, if it can be withdrawn.
    pub status: Option<StatusEntry>,
}

/// The unsigned `CreditEvaluation` credential (`spec/evaluation.md` §3). Valid for the model's
/// `validityDays` from the evaluation.
pub fn credential(model: &Model, evaluation: &Evaluation, issue: &Issue<'_>) -> Value {
    let until = issue.evaluated_at + time::Duration::days(i64::from(model.validity_days));
    let mut vc = json!({
        "@context": [CREDENTIALS_V2, GRANT_CONTEXT],
        "id": issue.id,
        "type": ["VerifiableCredential", EVALUATION_TYPE],
        "issuer": issue.issuer,
        "validFrom": format_utc_seconds(issue.evaluated_at),
        "validUntil": format_utc_seconds(until),
        "credentialSubject": {
            "enterprise": {"uscc": issue.enterprise_uscc, "name": issue.enterprise_name},
            "modelId": model.model_id,
            "modelVersion": model.version,
            "modelSha256": issue.model_sha256,
            "grade": evaluation.grade,
            "score": evaluation.score,
            "keyIndicators": evaluation.key_indicators,
            "evaluatedOn": issue.evaluated_on.to_string(),
            "inputsSha256": issue.inputs_sha256,
        },
    });
    if let Some(s) = &issue.status {
        vc["credentialStatus"] = json!(s);
    }
    vc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    fn model() -> Model {
        Model::builtin(&Catalog::builtin()).unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn edit(f: impl FnOnce(&mut Value)) -> String {
        let mut v: Value = serde_json::from_str(BUILTIN_MODEL).unwrap_or(Value::Null);
        f(&mut v);
        match Model::from_json(&v.to_string(), &Catalog::builtin()) {
            Ok(_) => "ok".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_builtin_model_loads() {
        let m = model();
        assert!(m.indicators.len() >= 6);
        assert_eq!(edit(|_| {}), "ok");
    }

    #[test]
    fn bad_models_are_refused_with_the_place_named() {
        type Edit = Box<dyn FnOnce(&mut Value)>;
        let cases: Vec<(&str, Edit, &str)> = vec![
            ("not JSON", Box::new(|v| *v = json!("x")), "invalid type"),
            (
                "unknown member",
                Box::new(|v| v["extra"] = json!(1)),
                "unknown field `extra`",
            ),
            (
                "unknown indicator",
                Box::new(|v| v["indicators"][0]["input"]["indicator"] = json!("nope")),
                "unknown input",
            ),
            (
                "unknown category",
                Box::new(|v| v["indicators"][0]["input"]["category"] = json!("XXX-01")),
                "unknown input XXX-01",
            ),
            (
                "weights",
                Box::new(|v| v["indicators"][0]["weight"] = json!(0.9)),
                "the weights sum to",
            ),
            (
                "two conditions",
                Box::new(|v| v["indicators"][0]["scores"][0]["atLeast"] = json!(1)),
                "exactly one of",
            ),
            (
                "points",
                Box::new(|v| v["indicators"][0]["missing"] = json!(101)),
                "missing must be 0–100",
            ),
            (
                "grades order",
                Box::new(|v| v["grades"][1]["minScore"] = json!(99)),
                "must need more than",
            ),
            (
                "grade floor",
                Box::new(|v| {
                    let n = v["grades"].as_array().map_or(0, Vec::len);
                    v["grades"][n - 1]["minScore"] = json!(5);
                }),
                "must start at 0",
            ),
            (
                "catalog",
                Box::new(|v| v["catalogVersion"] = json!("1999-01-01.1")),
                "not one this node holds",
            ),
            (
                "version",
                Box::new(|v| v["version"] = json!(0)),
                "version starts at 1",
            ),
        ];
        for (what, f, expected) in cases {
            let got = edit(f);
            assert!(got.contains(expected), "{what}: {got}");
        }
    }

    #[test]
    fn scores_follow_the_table_and_withheld_inputs_score_missing() {
        let m = model();
        let strong: BTreeMap<String, Value> = m
            .indicators
            .iter()
            .map(|i| {
                // The first row of each table, satisfied.
                let r = &i.scores[0];
                let v = match (&r.is, r.at_least, r.at_most) {
                    (Some(w), _, _) => json!(w),
                    (_, Some(x), _) => json!(x),
                    (_, _, Some(x)) => json!(x),
                    _ => Value::Null,
                };
                (i.input.category.clone(), i.input.indicator.clone(), v)
            })
            .fold(BTreeMap::new(), |mut acc, (c, ind, v)| {
                acc.entry(c).or_insert_with(|| json!({"indicators": {}}))["indicators"][ind] = v;
                acc
            });
        let best = evaluate(&m, &strong);
        let top: f64 = m.indicators.iter().map(|i| i.weight * i.scores[0].points).sum();
        assert_eq!(f64::from(best.score), top.round());
        let none = evaluate(&m, &BTreeMap::new());
        let missing: f64 = m.indicators.iter().map(|i| i.weight * i.missing).sum();
        assert_eq!(f64::from(none.score), missing.round());
        assert!(none.key_indicators.iter().all(|k| k.value.is_null()));
        assert_ne!(best.grade, none.grade);
        // The grade is the first band the score reaches.
        for e in [&best, &none] {
            let band = m
                .grades
                .iter()
                .find(|g| f64::from(e.score) >= g.min_score)
                .map(|g| g.grade.clone());
            assert_eq!(band, Some(e.grade.clone()));
        }
    }

    #[test]
    fn bands_compare_by_their_edges() {
        let at_least = ScoreRule {
            is: None,
            at_least: Some(10.0),
            at_most: None,
            points: 1.0,
        };
        assert!(matches(&at_least, &json!({"from": 10, "below": 50})));
        assert!(!matches(&at_least, &json!({"below": 10})));
        assert!(!matches(&at_least, &json!("rising")));
    }
}
