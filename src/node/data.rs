//! The data behind releases: a [`DataSource`] trait, its database implementation, the derived
//! indicators a `derived` release returns instead of detail rows, and the import format.
//!
//! Import format (`consentry admin import FILE`): JSON Lines, one record per line:
//! `{"uscc": "…", "category": "TAX-03", "date": "2025-06-30", "provider": "STA", "fields": {…}}`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;

use serde_json::{Map, Value, json};

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::grant::Granularity;
use crate::storage::Store;
use crate::storage::data::{self, DataRecord, NewRecord};

/// Where released data comes from.
pub trait DataSource: Send + Sync {
    /// Records of `uscc` in `category` dated `from..=until` (`YYYY-MM-DD`), oldest first.
    fn fetch(&self, uscc: &str, category: &str, from: &str, until: &str) -> Result<Vec<DataRecord>>;
    /// Every record of `uscc` (the enterprise's own free query).
    fn all_of(&self, uscc: &str) -> Result<Vec<DataRecord>>;
}

/// Records in the node's database.
#[derive(Debug, Clone)]
pub struct DbDataSource(pub Store);

impl DataSource for DbDataSource {
    fn fetch(&self, uscc: &str, category: &str, from: &str, until: &str) -> Result<Vec<DataRecord>> {
        Ok(self.0.run(|c| data::query(c, uscc, category, from, until))?)
    }
    fn all_of(&self, uscc: &str) -> Result<Vec<DataRecord>> {
        Ok(self.0.run(|c| data::of_enterprise(c, uscc))?)
    }
}

/// Categorical fields whose latest value is an indicator (a status, a grade), not a detail.
const INDICATOR_FIELDS: [&str; 6] = ["status", "grade", "rating", "level", "result", "creditGrade"];

/// The computed indicators for a category's records: counts, the covered period, and for every
/// numeric field its sum, minimum, maximum and mean; for the few categorical indicator fields, the
/// latest value. Never a detail row.
pub fn derive(records: &[DataRecord]) -> Value {
    let mut months = BTreeSet::new();
    let mut numeric: BTreeMap<String, (f64, f64, f64, u64)> = BTreeMap::new();
    let mut latest: Map<String, Value> = Map::new();
    for r in records {
        months.insert(r.record_date.get(..7).unwrap_or_default().to_owned());
        let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(&r.body) else {
            continue;
        };
        for (k, v) in fields {
            if let Some(x) = v.as_f64() {
                let e = numeric
                    .entry(k)
                    .or_insert((0.0, f64::INFINITY, f64::NEG_INFINITY, 0));
                e.0 += x;
                e.1 = e.1.min(x);
                e.2 = e.2.max(x);
                e.3 += 1;
            } else if INDICATOR_FIELDS.contains(&k.as_str()) {
                latest.insert(k, v);
            }
        }
    }
    let round = |x: f64| (x * 100.0).round() / 100.0;
    let numeric: Map<String, Value> = numeric
        .into_iter()
        .map(|(k, (sum, min, max, n))| {
            (k, json!({"sum": round(sum), "min": round(min), "max": round(max), "mean": round(sum / n as f64), "count": n}))
        })
        .collect();
    json!({
        "recordCount": records.len(),
        "firstDate": records.first().map(|r| r.record_date.clone()),
        "lastDate": records.last().map(|r| r.record_date.clone()),
        "monthsCovered": months.len(),
        "numeric": numeric,
        "latest": latest,
    })
}

/// The detail rows of a `raw` release.
pub fn raw(records: &[DataRecord]) -> Value {
    records
        .iter()
        .map(|r| {
            json!({
                "date": r.record_date,
                "provider": r.provider,
                "fields": serde_json::from_str::<Value>(&r.body).unwrap_or(Value::Null),
            })
        })
        .collect()
}

/// The release payload for a category.
pub fn payload(records: &[DataRecord], granularity: Granularity) -> Value {
    match granularity {
        Granularity::Raw => json!({"granularity": "raw", "records": raw(records)}),
        Granularity::Derived => json!({"granularity": "derived", "indicators": derive(records)}),
    }
}

/// Reads JSON Lines records, checking each against the catalog; errors name the line.
pub fn parse_import(reader: impl BufRead, catalog: &Catalog, now_ms: i64) -> Result<Vec<NewRecord>> {
    let mut out = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let n = i + 1;
        let line = line.map_err(|e| Error::invalid("import-read", format!("line {n}: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = crate::crypto::json::parse_strict(line.as_bytes())
            .map_err(|e| Error::invalid("import-format", format!("line {n}: {e}")))?;
        let field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let (Some(uscc), Some(category), Some(date), Some(provider)) =
            (field("uscc"), field("category"), field("date"), field("provider"))
        else {
            return Err(Error::invalid(
                "import-format",
                format!("line {n}: needs uscc, category, date, provider, fields"),
            ));
        };
        crate::ids::Uscc::parse(&uscc)
            .map_err(|e| Error::invalid("invalid-uscc", format!("line {n}: {e}")))?;
        let cat = catalog.category(&category).ok_or_else(|| {
            Error::invalid(
                "unknown-category",
                format!("line {n}: unknown category {category}"),
            )
        })?;
        if !cat.providers.contains(&provider) {
            return Err(Error::invalid(
                "import-provider",
                format!(
                    "line {n}: {category} is provided by {}, not {provider}",
                    cat.providers.join("/")
                ),
            ));
        }
        if crate::grant::rules::parse_date(&date).is_none() {
            return Err(Error::invalid(
                "import-format",
                format!("line {n}: date {date:?} is not YYYY-MM-DD"),
            ));
        }
        let fields = match v.get("fields") {
            Some(f @ Value::Object(_)) => f.to_string(),
            _ => {
                return Err(Error::invalid(
                    "import-format",
                    format!("line {n}: fields must be an object"),
                ));
            }
        };
        out.push(NewRecord {
            uscc,
            category,
            record_date: date,
            body: fields,
            provider,
            imported_at: now_ms,
        });
    }
    Ok(out)
}

/// An enterprise's own records, free of charge (`GET /v1/enterprise/data`, the portal's "my data"):
/// every record with its fields, and on a record corrected on an objection (spec/objections.md) its
/// corrections, oldest first, with the fields before and after and the log entry that recorded each.
pub async fn own_records(node: &super::Node, uscc: String) -> Result<Value> {
    let src = std::sync::Arc::clone(&node.data);
    let who = uscc.clone();
    let records = actix_web::rt::task::spawn_blocking(move || src.all_of(&who))
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
    let ids: Vec<i64> = records.iter().map(|r| r.id).collect();
    let corrections = node
        .store
        .call(move |conn| crate::storage::objections::corrections_of_records(conn, &ids).map_err(Error::from))
        .await?;
    let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or_default();
    let rows: Vec<Value> = records
        .iter()
        .map(|r| {
            let fixes: Vec<Value> = corrections
                .iter()
                .filter(|k| k.record_id == r.id)
                .map(|k| json!({"objection": k.objection_id, "at": crate::calendar::format_cst(crate::storage::from_millis(k.at)), "before": parse(&k.old_body), "after": parse(&k.new_body), "logIndex": k.log_seq}))
                .collect();
            let mut v = json!({"id": r.id, "category": r.category, "date": r.record_date, "provider": r.provider, "fields": parse(&r.body)});
            if !fixes.is_empty() {
                v["corrections"] = Value::Array(fixes);
            }
            v
        })
        .collect();
    Ok(json!({"enterprise": uscc, "free": true, "records": rows}))
}
