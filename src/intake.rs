//! Signed data intake (来源可溯, `spec/intake.md`): the batch a providing department signs, checked
//! whole against the catalog, and the content addresses of its records.
//!
//! Pure: no I/O, no clock. [`check`] reads a batch document (the `batch` claim of the department's
//! signed `submit-batch` statement) and returns either a [`CheckedBatch`] or **every** problem, one
//! per bad record with its index, so that a batch is accepted or refused whole.
//!
//! * A record's **content id** is the lowercase hex SHA-256 of the RFC 8785 (JCS) bytes of
//!   `{"uscc", "category", "date", "fields"}` ([`content_id`]); the provider and the industry are
//!   not part of it.
//! * A batch's **id** is the lowercase hex SHA-256 of the JCS bytes of the batch document as checked
//!   (`{"provider", "reference"?, "records": [...]}`, each record with its `industry` when stated):
//!   the same batch, however often it is signed, has the same id ([`CheckedBatch::id`]).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::catalog::Catalog;
use crate::crypto::{Sha256Digest, jcs};
use crate::industry::{Industries, Industry};

/// The `action` of a department's signed batch statement (`consentry-request+jwt`).
pub const ACTION: &str = "submit-batch";
/// The claim of the statement that holds the batch document.
pub const CLAIM: &str = "batch";
/// Most records one batch may carry.
pub const MAX_RECORDS: usize = 10_000;
/// Longest `reference` a department may give its batch.
pub const MAX_REFERENCE: usize = 128;

/// One problem of a refused batch: `index` is the record's position in `records` (from 0), or
/// `None` for a problem of the batch as a whole (its provider, its signer, its shape).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// The record's index in the batch, if the problem is a record's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// Stable code (`invalid-uscc`, `unknown-category`, `category-of-another-provider`, …).
    pub code: String,
    /// What is wrong, for a person.
    pub message: String,
}

impl Problem {
    /// A problem of the batch as a whole.
    pub fn batch(code: &str, message: impl Into<String>) -> Self {
        Self {
            index: None,
            code: code.to_owned(),
            message: message.into(),
        }
    }

    fn record(index: usize, code: &str, message: impl Into<String>) -> Self {
        Self {
            index: Some(index),
            code: code.to_owned(),
            message: format!("record {index}: {}", message.into()),
        }
    }
}

/// A record of a checked batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The enterprise (a valid USCC).
    pub uscc: String,
    /// The catalog category (provided by the batch's provider).
    pub category: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// The fields, as a JSON object.
    pub fields: Map<String, Value>,
    /// The enterprise's industry as the department states it, checked against the node's table.
    pub industry: Option<Industry>,
    /// [`content_id`] of the record.
    pub content_id: String,
}

/// A batch every record of which passed [`check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedBatch {
    /// The providing department's catalog code (`STA`, `SAMR`, …).
    pub provider: String,
    /// The department's own reference for the batch, if it gave one.
    pub reference: Option<String>,
    /// The records, in batch order.
    pub records: Vec<Record>,
    /// The batch id: hex SHA-256 of the JCS bytes of the checked batch document.
    pub id: String,
}

/// The content id of a record: hex SHA-256 of JCS `{"uscc","category","date","fields"}`.
pub fn content_id(uscc: &str, category: &str, date: &str, fields: &Map<String, Value>) -> String {
    let doc = json!({"uscc": uscc, "category": category, "date": date, "fields": fields});
    Sha256Digest::of(&jcs::canonicalize(&doc).unwrap_or_default()).to_hex()
}

/// The content id of a stored record whose fields are JSON text (`None` if they do not parse as
/// an object).
pub fn content_id_of_text(uscc: &str, category: &str, date: &str, fields: &str) -> Option<String> {
    match serde_json::from_str::<Value>(fields).ok()? {
        Value::Object(f) => Some(content_id(uscc, category, date, &f)),
        _ => None,
    }
}

const RECORD_KEYS: [&str; 5] = ["uscc", "category", "date", "fields", "industry"];
const BATCH_KEYS: [&str; 3] = ["provider", "reference", "records"];

/// Checks a batch document against the catalog (and the node's industry table, for records that
/// state an industry). Every problem is reported, each bad record with its index; `Ok` only when
/// there is none. At most [`MAX_RECORDS`] records.
pub fn check(
    doc: &Value,
    catalog: &Catalog,
    industries: Option<&Industries>,
) -> Result<CheckedBatch, Vec<Problem>> {
    check_with_limit(doc, catalog, industries, MAX_RECORDS)
}

/// [`check`] with another record limit: the operator's import (`consentry admin import`) keeps a
/// provider's records of one file in one batch, however many.
pub fn check_with_limit(
    doc: &Value,
    catalog: &Catalog,
    industries: Option<&Industries>,
    max_records: usize,
) -> Result<CheckedBatch, Vec<Problem>> {
    let mut problems = Vec::new();
    let Value::Object(batch) = doc else {
        return Err(vec![Problem::batch(
            "invalid-batch",
            "the batch must be a JSON object with provider and records",
        )]);
    };
    for k in batch.keys() {
        if !BATCH_KEYS.contains(&k.as_str()) {
            problems.push(Problem::batch(
                "invalid-batch",
                format!("unknown batch member {k:?}"),
            ));
        }
    }
    let provider = match batch.get("provider") {
        Some(Value::String(p)) if catalog.provider(p).is_some() => p.clone(),
        Some(Value::String(p)) => {
            problems.push(Problem::batch(
                "unknown-provider",
                format!("{p:?} is not a providing department of the catalog"),
            ));
            p.clone()
        }
        _ => {
            problems.push(Problem::batch(
                "invalid-batch",
                "provider must be a catalog provider code such as STA",
            ));
            String::new()
        }
    };
    let reference = match batch.get("reference") {
        None | Some(Value::Null) => None,
        Some(Value::String(r)) if !r.is_empty() && r.chars().count() <= MAX_REFERENCE => Some(r.clone()),
        Some(_) => {
            problems.push(Problem::batch(
                "invalid-batch",
                format!("reference must be a string of 1–{MAX_REFERENCE} characters"),
            ));
            None
        }
    };
    let lines: &[Value] = match batch.get("records") {
        Some(Value::Array(a)) if a.is_empty() => {
            problems.push(Problem::batch("empty-batch", "the batch carries no record"));
            &[]
        }
        Some(Value::Array(a)) if a.len() > max_records => {
            problems.push(Problem::batch(
                "batch-too-large",
                format!(
                    "a batch carries at most {max_records} records, this one {}",
                    a.len()
                ),
            ));
            &[]
        }
        Some(Value::Array(a)) => a,
        _ => {
            problems.push(Problem::batch("invalid-batch", "records must be an array"));
            &[]
        }
    };
    let mut records = Vec::with_capacity(lines.len());
    let mut stated: BTreeMap<String, (usize, Industry)> = BTreeMap::new();
    for (i, v) in lines.iter().enumerate() {
        if let Some(r) = check_record(i, v, &provider, catalog, industries, &mut stated, &mut problems) {
            records.push(r);
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let id = batch_id(&provider, reference.as_deref(), &records);
    Ok(CheckedBatch {
        provider,
        reference,
        records,
        id,
    })
}

/// The id of a batch: hex SHA-256 of the JCS bytes of `{"provider", "reference"?, "records"}`,
/// each record `{"uscc","category","date","fields","industry"?}`.
pub fn batch_id(provider: &str, reference: Option<&str>, records: &[Record]) -> String {
    Sha256Digest::of(&jcs::canonicalize(&document(provider, reference, records)).unwrap_or_default()).to_hex()
}

/// The batch document as JSON (what a department signs in its `batch` claim).
pub fn document(provider: &str, reference: Option<&str>, records: &[Record]) -> Value {
    let rows: Vec<Value> = records
        .iter()
        .map(|r| {
            let mut v = json!({"uscc": r.uscc, "category": r.category, "date": r.date, "fields": r.fields});
            if let Some(i) = &r.industry {
                v["industry"] = json!(i.as_str());
            }
            v
        })
        .collect();
    let mut doc = json!({"provider": provider, "records": rows});
    if let Some(r) = reference {
        doc["reference"] = json!(r);
    }
    doc
}

fn check_record(
    i: usize,
    v: &Value,
    provider: &str,
    catalog: &Catalog,
    industries: Option<&Industries>,
    stated: &mut BTreeMap<String, (usize, Industry)>,
    problems: &mut Vec<Problem>,
) -> Option<Record> {
    let Value::Object(o) = v else {
        problems.push(Problem::record(i, "invalid-record", "must be a JSON object"));
        return None;
    };
    let before = problems.len();
    for k in o.keys() {
        if !RECORD_KEYS.contains(&k.as_str()) {
            problems.push(Problem::record(
                i,
                "invalid-record",
                format!("unknown member {k:?} (a record has uscc, category, date, fields, industry)"),
            ));
        }
    }
    let text = |k: &str| o.get(k).and_then(Value::as_str);
    let uscc = match text("uscc") {
        Some(u) => match crate::ids::Uscc::parse(u) {
            Ok(_) => Some(u.to_owned()),
            Err(e) => {
                problems.push(Problem::record(i, "invalid-uscc", format!("uscc {u:?}: {e}")));
                None
            }
        },
        None => {
            problems.push(Problem::record(i, "invalid-record", "uscc missing"));
            None
        }
    };
    let category = match text("category") {
        Some(c) => match catalog.category(c) {
            None => {
                problems.push(Problem::record(
                    i,
                    "unknown-category",
                    format!("unknown category {c}"),
                ));
                None
            }
            Some(cat) if !cat.providers.iter().any(|p| p == provider) => {
                problems.push(Problem::record(
                    i,
                    "category-of-another-provider",
                    format!("{c} is provided by {}, not {provider}", cat.providers.join("/")),
                ));
                None
            }
            Some(_) => Some(c.to_owned()),
        },
        None => {
            problems.push(Problem::record(i, "invalid-record", "category missing"));
            None
        }
    };
    let date = match text("date") {
        Some(d) if crate::grant::rules::parse_date(d).is_some() => Some(d.to_owned()),
        Some(d) => {
            problems.push(Problem::record(
                i,
                "invalid-date",
                format!("date {d:?} is not a YYYY-MM-DD calendar day"),
            ));
            None
        }
        None => {
            problems.push(Problem::record(i, "invalid-record", "date missing"));
            None
        }
    };
    let fields = match o.get("fields") {
        Some(Value::Object(f)) => Some(f.clone()),
        _ => {
            problems.push(Problem::record(
                i,
                "invalid-fields",
                "fields must be a JSON object",
            ));
            None
        }
    };
    let industry = match o.get("industry") {
        None | Some(Value::Null) => None,
        Some(Value::String(code)) => match industries {
            None => {
                problems.push(Problem::record(
                    i,
                    "invalid-industry",
                    format!(
                        "industry {code:?}: this node has no industry table (GB/T 4754); \
                         its operator supplies one with --industries FILE"
                    ),
                ));
                None
            }
            Some(t) => match t.classify(code) {
                Ok(ind) => Some(ind),
                Err(m) => {
                    problems.push(Problem::record(i, "invalid-industry", m));
                    None
                }
            },
        },
        Some(_) => {
            problems.push(Problem::record(
                i,
                "invalid-industry",
                "industry must be a string such as C13",
            ));
            None
        }
    };
    if let (Some(u), Some(ind)) = (&uscc, &industry) {
        match stated.get(u) {
            Some((j, before)) if before != ind => problems.push(Problem::record(
                i,
                "invalid-industry",
                format!(
                    "industry {} for {u}, record {j} says {}",
                    ind.as_str(),
                    before.as_str()
                ),
            )),
            Some(_) => {}
            None => {
                stated.insert(u.clone(), (i, ind.clone()));
            }
        }
    }
    if problems.len() != before {
        return None;
    }
    let (uscc, category, date, fields) = (uscc?, category?, date?, fields?);
    let content_id = content_id(&uscc, &category, &date, &fields);
    Some(Record {
        uscc,
        category,
        date,
        fields,
        industry,
        content_id,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const GOOD: &str = "91330100716105852F";

    fn rec(uscc: &str, category: &str) -> Value {
        json!({"uscc": uscc, "category": category, "date": "2025-06-30", "fields": {"amount": 1}})
    }

    #[test]
    fn a_good_batch_has_a_stable_id() {
        let catalog = Catalog::builtin();
        let doc = json!({"provider": "STA", "records": [rec(GOOD, "TAX-03")]});
        let a = check(&doc, &catalog, None).unwrap();
        assert_eq!(a.records.len(), 1);
        assert_eq!(a.id.len(), 64);
        // Member order and whitespace do not change the id.
        let text = r#"{"records":[{"fields":{"amount":1},"date":"2025-06-30","category":"TAX-03","uscc":"91330100716105852F"}],"provider":"STA"}"#;
        let b = check(&serde_json::from_str(text).unwrap(), &catalog, None).unwrap();
        assert_eq!(a.id, b.id);
        assert_eq!(a.records[0].content_id, b.records[0].content_id);
        // A different reference is a different batch, with the same record content.
        let c = check(
            &json!({"provider": "STA", "reference": "2025-Q2", "records": [rec(GOOD, "TAX-03")]}),
            &catalog,
            None,
        )
        .unwrap();
        assert_ne!(a.id, c.id);
        assert_eq!(a.records[0].content_id, c.records[0].content_id);
    }

    #[test]
    fn every_problem_is_listed_with_its_index() {
        let catalog = Catalog::builtin();
        let bad_uscc = format!("{}X", &GOOD[..17]);
        let doc = json!({"provider": "STA", "records": [
            rec(GOOD, "TAX-03"),
            rec(&bad_uscc, "TAX-03"),
            rec(GOOD, "REG-01"),
            {"uscc": GOOD, "category": "TAX-03", "date": "2025-02-30", "fields": []},
        ]});
        let p = check(&doc, &catalog, None).unwrap_err();
        let got: Vec<(Option<usize>, &str)> = p.iter().map(|p| (p.index, p.code.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (Some(1), "invalid-uscc"),
                (Some(2), "category-of-another-provider"),
                (Some(3), "invalid-date"),
                (Some(3), "invalid-fields"),
            ]
        );
        let p = check(&json!({"provider": "XYZ", "records": []}), &catalog, None).unwrap_err();
        let codes: Vec<&str> = p.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes, vec!["unknown-provider", "empty-batch"]);
    }
}
