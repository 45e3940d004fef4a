//! Post-loan risk rules (the measures §9, §10; `spec/loans.md` §7): documented rules, as data in
//! `spec/risk-rules.json` (compiled in), each naming one catalog category and one condition on a
//! field of a new record of it.
//!
//! A condition is `{"field", "op", "value"}` with `op` one of `eq`, `ne` (strings or numbers,
//! compared as JSON values) and `gt`, `ge` (numbers). A record whose field is missing never
//! matches: a rule fires on what the record says, never on what it leaves out.
//!
//! Guarantees: [`Rules::builtin`] refuses (at load, with the reason) a file with an unknown member,
//! a repeated rule id, an unknown `op` or a numeric `op` over a non-number, and the tests check each
//! rule's category against the catalog. What a rule yields ([`Hit`]) names the rule, its severity
//! and the record's category and date — never a field value: an alert is derived by construction.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The compiled-in rules file.
const DATA: &str = include_str!("../spec/risk-rules.json");

/// How serious a rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth a look.
    Low,
    /// Worth a call.
    Medium,
    /// Act now.
    High,
    /// The enterprise is on a blacklist.
    Critical,
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// Equal.
    Eq,
    /// Not equal (a missing field does not count as different).
    Ne,
    /// Greater than (numbers).
    Gt,
    /// Greater than or equal (numbers).
    Ge,
}

/// The condition of a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The record field.
    pub field: String,
    /// The comparison.
    pub op: Op,
    /// The value compared with.
    pub value: Value,
}

impl Condition {
    /// Whether `fields` (a record's fields) satisfy the condition.
    pub fn holds(&self, fields: &Value) -> bool {
        let Some(v) = fields.get(&self.field) else {
            return false;
        };
        match self.op {
            Op::Eq => v == &self.value,
            Op::Ne => v != &self.value,
            Op::Gt | Op::Ge => match (v.as_f64(), self.value.as_f64()) {
                (Some(a), Some(b)) if self.op == Op::Gt => a > b,
                (Some(a), Some(b)) => a >= b,
                _ => false,
            },
        }
    }
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rule {
    /// Stable id.
    pub id: String,
    /// The catalog category whose new records it reads.
    pub category: String,
    /// When it fires.
    pub when: Condition,
    /// How serious.
    pub severity: Severity,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// The rule set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Version of the file.
    pub version: String,
    /// The rules.
    pub rules: Vec<Rule>,
}

/// What fired on a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hit {
    /// The rule's id.
    pub rule: String,
    /// Its severity.
    pub severity: Severity,
    /// Its Chinese name.
    pub name_zh: String,
    /// Its English name.
    pub name_en: String,
    /// The record's category.
    pub category: String,
    /// The record's date.
    pub record_date: String,
}

/// Why a rules file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("risk rules: {0}")]
pub struct BadRules(pub String);

impl Rules {
    /// Parses and checks a rules file.
    pub fn from_json(text: &str) -> Result<Self, BadRules> {
        let r: Rules = serde_json::from_str(text).map_err(|e| BadRules(e.to_string()))?;
        let mut ids: Vec<&str> = Vec::new();
        for rule in &r.rules {
            if ids.contains(&rule.id.as_str()) {
                return Err(BadRules(format!("rule {} is listed twice", rule.id)));
            }
            ids.push(&rule.id);
            if matches!(rule.when.op, Op::Gt | Op::Ge) && !rule.when.value.is_number() {
                return Err(BadRules(format!("rule {}: gt and ge compare numbers", rule.id)));
            }
        }
        Ok(r)
    }

    /// The rules of `spec/risk-rules.json` (parsed once; a broken file yields no rules, and the
    /// tests below fail on it).
    pub fn builtin() -> &'static Rules {
        static R: OnceLock<Rules> = OnceLock::new();
        R.get_or_init(|| {
            Self::from_json(DATA).unwrap_or(Rules {
                version: String::new(),
                rules: Vec::new(),
            })
        })
    }

    /// The rules that fire on a new record of `category` dated `date` with `fields`.
    pub fn hits(&self, category: &str, date: &str, fields: &Value) -> Vec<Hit> {
        self.rules
            .iter()
            .filter(|r| r.category == category && r.when.holds(fields))
            .map(|r| Hit {
                rule: r.id.clone(),
                severity: r.severity,
                name_zh: r.name_zh.clone(),
                name_en: r.name_en.clone(),
                category: category.to_owned(),
                record_date: date.to_owned(),
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_shipped_rules_load_and_name_catalog_categories() {
        let r = Rules::builtin();
        assert!(r.rules.len() >= 10, "{r:?}");
        let catalog = crate::catalog::Catalog::builtin();
        for rule in &r.rules {
            assert!(catalog.category(&rule.category).is_some(), "{}", rule.id);
        }
    }

    #[test]
    fn conditions_fire_only_on_what_the_record_says() {
        let r = Rules::builtin();
        let hits = r.hits(
            "REG-04",
            "2026-11-02",
            &json!({"status": "listed", "listingReason": "x"}),
        );
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].rule, "abnormal-operations");
        assert!(
            r.hits("REG-04", "2026-11-02", &json!({"status": "removed"}))
                .is_empty()
        );
        assert!(r.hits("REG-04", "2026-11-02", &json!({})).is_empty());
        assert_eq!(r.hits("SOC-02", "d", &json!({"arrearsBalance": 12.5})).len(), 1);
        assert!(r.hits("SOC-02", "d", &json!({"arrearsBalance": 0.0})).is_empty());
        assert!(r.hits("SOC-02", "d", &json!({"arrearsBalance": "12"})).is_empty());
        // A hit never carries a field value.
        let text = serde_json::to_string(&r.hits("SOC-02", "d", &json!({"arrearsBalance": 4321.5}))).unwrap();
        assert!(!text.contains("4321"), "{text}");
    }

    #[test]
    fn bad_files_are_refused() {
        let rule = |op: &str, v: Value| {
            json!({"version": "1", "rules": [{"id": "a", "category": "X", "when": {"field": "f", "op": op, "value": v},
                "severity": "low", "nameZh": "a", "nameEn": "a"}]})
            .to_string()
        };
        assert!(Rules::from_json(&rule("eq", json!("x"))).is_ok());
        assert!(Rules::from_json(&rule("gt", json!("x"))).is_err());
        assert!(Rules::from_json(&rule("like", json!("x"))).is_err());
        let twice = json!({"version": "1", "rules": [
            {"id": "a", "category": "X", "when": {"field": "f", "op": "eq", "value": 1}, "severity": "low", "nameZh": "a", "nameEn": "a"},
            {"id": "a", "category": "Y", "when": {"field": "f", "op": "eq", "value": 1}, "severity": "low", "nameZh": "a", "nameEn": "a"}]});
        assert!(Rules::from_json(&twice.to_string()).is_err());
        let extra = json!({"version": "1", "rules": [], "more": 1});
        assert!(Rules::from_json(&extra.to_string()).is_err());
    }
}
