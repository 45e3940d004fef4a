//! The data behind releases: a [`DataSource`] trait, its database implementation, the derived
//! indicators a `derived` release returns instead of detail rows, and the import format.
//!
//! Import format (`consentry admin import FILE`): JSON Lines, one record per line:
//! `{"uscc": "…", "category": "TAX-03", "date": "2025-06-30", "provider": "STA", "fields": {…}}`.

use std::io::BufRead;

use serde_json::{Map, Value, json};

use time::Date;

use crate::catalog::Catalog;
use crate::derivation::{self, compute::Record};
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

/// What a release of one category is computed against.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The catalog version the relied-on grant cites (`None`: none cited, or no grant).
    pub catalog_version: Option<&'a str>,
    /// First day of the records asked for.
    pub from: Date,
    /// Last day of the records asked for.
    pub until: Date,
    /// Today in China Standard Time (blocks must have closed and settled).
    pub today: Date,
}

fn fields_of(r: &DataRecord) -> Map<String, Value> {
    match serde_json::from_str::<Value>(&r.body) {
        Ok(Value::Object(f)) => f,
        _ => Map::new(),
    }
}

/// The derived form of `code`'s records under `scope` (`spec/derivations.md`): the catalog's
/// definition for the grant's catalog version, applied by [`derivation::compute::derive`].
pub fn derive(catalog: &Catalog, code: &str, records: &[DataRecord], scope: Scope<'_>) -> Result<Value> {
    let (version, definition) = catalog.derivation(scope.catalog_version, code).ok_or_else(|| {
        Error::Internal(format!(
            "no derived form of {code} for catalog version {}",
            scope.catalog_version.unwrap_or("(none cited)")
        ))
    })?;
    let fields: Vec<Map<String, Value>> = records.iter().map(fields_of).collect();
    let input: Vec<Record<'_>> = records
        .iter()
        .zip(&fields)
        .map(|(r, f)| Record {
            date: &r.record_date,
            fields: f,
        })
        .collect();
    let derived = derivation::compute::derive(
        &definition,
        &version,
        code,
        &input,
        scope.from,
        scope.until,
        scope.today,
    );
    serde_json::to_value(derived).map_err(|e| Error::Internal(e.to_string()))
}

/// The detail rows of a `raw` release, with the category's personal fields masked
/// (`spec/derivations.md` §5).
pub fn raw(catalog: &Catalog, code: &str, records: &[DataRecord]) -> Value {
    let marked = catalog.category(code).map(|c| &c.personal_fields);
    records
        .iter()
        .map(|r| {
            let fields = match serde_json::from_str::<Value>(&r.body) {
                Ok(Value::Object(mut f)) => {
                    if let Some(m) = marked {
                        derivation::mask::apply(&mut f, m);
                    }
                    Value::Object(f)
                }
                Ok(other) => other,
                Err(_) => Value::Null,
            };
            json!({
                "date": r.record_date,
                "provider": r.provider,
                "fields": fields,
            })
        })
        .collect()
}

/// The release payload for a category.
pub fn payload(
    catalog: &Catalog,
    code: &str,
    records: &[DataRecord],
    granularity: Granularity,
    scope: Scope<'_>,
) -> Result<Value> {
    Ok(match granularity {
        Granularity::Raw => json!({"granularity": "raw", "records": raw(catalog, code, records)}),
        Granularity::Derived => derive(catalog, code, records, scope)?,
    })
}

/// What an import file holds: its records, and the industries its lines state (one per
/// enterprise, checked against the node's table).
#[derive(Debug, Clone, Default)]
pub struct Import {
    /// The records, in file order.
    pub records: Vec<NewRecord>,
    /// Enterprise → the industry a line of the file states for it.
    pub industries: std::collections::BTreeMap<String, crate::industry::Industry>,
}

/// Reads JSON Lines records, checking each against the catalog; errors name the line. A line may
/// state the enterprise's industry (`"industry": "C13"`, a GB/T 4754 code of `industries`, the
/// node's table); the lines of one file must not state two industries for one enterprise.
pub fn parse_import(
    reader: impl BufRead,
    catalog: &Catalog,
    industries: Option<&crate::industry::Industries>,
    now_ms: i64,
) -> Result<Import> {
    let mut out = Vec::new();
    let mut stated: std::collections::BTreeMap<String, crate::industry::Industry> = Default::default();
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
        match v.get("industry") {
            None | Some(Value::Null) => {}
            Some(Value::String(code)) => {
                let table = industries.ok_or_else(|| {
                    Error::invalid(
                        "invalid-industry",
                        format!(
                            "line {n}: industry {code:?}: this node has no industry table (GB/T 4754); \
                             its operator supplies one with --industries FILE"
                        ),
                    )
                })?;
                let i = table
                    .classify(code)
                    .map_err(|m| Error::invalid("invalid-industry", format!("line {n}: {m}")))?;
                if let Some(before) = stated.get(&uscc) {
                    if *before != i {
                        return Err(Error::invalid(
                            "invalid-industry",
                            format!(
                                "line {n}: industry {code} for {uscc}, an earlier line says {}",
                                before.as_str()
                            ),
                        ));
                    }
                }
                stated.insert(uscc.clone(), i);
            }
            Some(_) => {
                return Err(Error::invalid(
                    "invalid-industry",
                    format!("line {n}: industry must be a string such as C13"),
                ));
            }
        }
        let content_id = crate::intake::content_id_of_text(&uscc, &category, &date, &fields);
        out.push(NewRecord {
            uscc,
            category,
            record_date: date,
            body: fields,
            content_id,
            batch_id: None,
            version: 1,
            provider,
            imported_at: now_ms,
        });
    }
    Ok(Import {
        records: out,
        industries: stated,
    })
}

/// Writes an import as the node's own signed batches (`spec/intake.md` §8): one batch per provider
/// of the file, each checked, content-addressed and logged as a department's batch is, with the
/// industries its lines state (a providing department's word replaces what was stored). Importing
/// the same file again writes nothing. Returns the number of records written (new records and new
/// versions). Blocking: call it outside an async runtime.
pub fn import(node: &super::Node, file: &Import) -> Result<usize> {
    let batches = super::intake::import_as_node(node, file)?;
    Ok(batches
        .iter()
        .filter(|b| !b.resubmitted)
        .map(|b| usize::try_from(b.new_records + b.new_versions).unwrap_or(0))
        .sum())
}

/// An enterprise's own records, free of charge (`GET /v1/enterprise/data`, the portal's "my data"):
/// every record with its fields, and on a record corrected on an objection (spec/objections.md) its
/// corrections, oldest first, with the fields before and after and the log entry that recorded each.
pub async fn own_records(node: &super::Node, uscc: String) -> Result<super::answers::data::EnterpriseData> {
    use super::answers::data::{EnterpriseData, OwnRecord, RecordCorrection};
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
    let records = records
        .into_iter()
        .map(|r| OwnRecord {
            corrections: corrections
                .iter()
                .filter(|k| k.record_id == r.id)
                .map(|k| RecordCorrection {
                    objection: k.objection_id.clone(),
                    at: crate::calendar::format_cst(crate::storage::from_millis(k.at)),
                    before: parse(&k.old_body),
                    after: parse(&k.new_body),
                    log_index: k.log_seq,
                })
                .collect(),
            id: r.id,
            fields: parse(&r.body),
            category: r.category,
            date: r.record_date,
            provider: r.provider,
        })
        .collect();
    Ok(EnterpriseData {
        enterprise: uscc,
        free: true,
        records,
    })
}
