//! Derived forms reveal no raw value (issue #11 "must show"): for every category of the built-in
//! catalog, its derived form computed over one record, over records below its threshold, and over
//! two overlapping windows, with every value a bank could read checked against every raw value.
//!
//! Raw amounts carry fen (two decimals, never `.00`), as real amounts do: a released figure is on
//! its declared lattice (whole units, bands, steps), so an equal number would be a leak, not a
//! coincidence. Each category's records also carry two undeclared fields, one text and one number,
//! that must never appear. The same checks, run on a test-only copy of the derivation that shipped
//! before issue #11 (count / sum / min / max / mean of every numeric field, latest status
//! verbatim), must find leaks in every category and every check (with one record min = max = sum =
//! the value; two windows a month apart differ by that month's value): a checker that passes the
//! current derivation is one that can fail.

use std::collections::BTreeSet;

use consentry::catalog::Catalog;
use consentry::derivation::compute::{Derived, Record, WithheldReason, derive};
use consentry::derivation::{Derivation, Indicator};
use serde_json::{Map, Value, json};
use time::{Date, Month};

fn day(y: i32, m: u8, d: u8) -> Date {
    Date::from_calendar_date(y, Month::try_from(m).unwrap_or(Month::January), d).unwrap_or(Date::MIN)
}

/// A small deterministic generator (xorshift), so that failures reproduce.
struct Gen(u64);
impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// An amount with fen that are never `.00`.
    fn amount(&mut self) -> f64 {
        let yuan = (self.next() % 900_000 + 100) as f64;
        let fen = (self.next() % 98 + 1) as f64;
        yuan + fen / 100.0
    }
}

/// Every field a definition reads, with whether it is categorical (and its vocabulary).
fn fields_of(d: &Derivation) -> (BTreeSet<String>, Vec<(String, Vec<String>)>) {
    let mut numeric = BTreeSet::new();
    let mut categorical = Vec::new();
    for i in &d.indicators {
        match i {
            Indicator::Sum { field, .. } | Indicator::Mean { field, .. } | Indicator::Trend { field, .. } => {
                numeric.insert(field.clone());
            }
            Indicator::MonthsWhere { test, .. } => {
                numeric.insert(test.field.clone());
            }
            Indicator::Ratio {
                numerator,
                denominator,
                ..
            } => {
                numeric.insert(numerator.clone());
                numeric.insert(denominator.clone());
            }
            Indicator::Latest { field, values, .. } => categorical.push((field.clone(), values.clone())),
            Indicator::Count { .. } | Indicator::Periods { .. } => {}
        }
    }
    (numeric, categorical)
}

/// One record per month from `first` for `months` months, dated the last day of the month.
fn monthly(d: &Derivation, g: &mut Gen, first: (i32, u8), months: u32) -> Vec<(String, Map<String, Value>)> {
    let (numeric, categorical) = fields_of(d);
    (0..months)
        .map(|k| {
            let m0 = u32::from(first.1) - 1 + k;
            let (y, m) = (first.0 + (m0 / 12) as i32, (m0 % 12) as u8 + 1);
            let last = day(y, m, 1).month().length(y);
            let mut f = Map::new();
            for n in &numeric {
                f.insert(n.clone(), json!(g.amount()));
            }
            for (n, vocab) in &categorical {
                let pick = (g.next() % vocab.len() as u64) as usize;
                f.insert(n.clone(), json!(vocab[pick]));
            }
            f.insert("secretNote".into(), json!(format!("明细-{}", g.next())));
            f.insert("secretAmount".into(), json!(g.amount()));
            (format!("{y:04}-{m:02}-{last:02}"), f)
        })
        .collect()
}

fn run(
    d: &Derivation,
    version: &str,
    code: &str,
    records: &[(String, Map<String, Value>)],
    from: Date,
    until: Date,
) -> Derived {
    let input: Vec<Record<'_>> = records
        .iter()
        .map(|(date, fields)| Record { date, fields })
        .collect();
    derive(d, version, code, &input, from, until, day(2026, 12, 6))
}

fn leaves(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) => m.values().for_each(|x| leaves(x, out)),
        Value::Array(a) => a.iter().for_each(|x| leaves(x, out)),
        other => out.push(other.clone()),
    }
}

/// The values a bank could read that equal a raw value of one of `records`, other than a declared
/// by-nature indicator's vocabulary word.
fn raw_values_revealed(d: &Derivation, out: &Value, records: &[(String, Map<String, Value>)]) -> Vec<String> {
    let (_, categorical) = fields_of(d);
    let vocab: BTreeSet<&str> = categorical
        .iter()
        .flat_map(|(_, v)| v.iter().map(String::as_str))
        .collect();
    let mut seen = Vec::new();
    leaves(out, &mut seen);
    let mut found = Vec::new();
    for (_, fields) in records {
        for (name, raw) in fields {
            if raw.as_str().is_some_and(|s| vocab.contains(s)) {
                continue;
            }
            let equal = |x: &Value| match (x.as_f64(), raw.as_f64()) {
                (Some(a), Some(b)) => a == b,
                _ => x == raw,
            };
            if seen.iter().any(equal) {
                found.push(format!("{name}={raw}"));
            }
        }
    }
    found
}

fn numeric_ids(d: &Derivation) -> Vec<&str> {
    d.indicators
        .iter()
        .filter(|i| i.is_numeric())
        .map(Indicator::id)
        .collect()
}

type Rows = Vec<(String, Map<String, Value>)>;

/// What a bank reads for a category: its release over `records`, asked for `from..=until`.
type Releaser<'a> = dyn Fn(&[(String, Map<String, Value>)], Date, Date) -> Value + 'a;

/// The records each leak check runs on, made once per category so that the current derivation and
/// the pre-#11 one see the same input.
struct Scenarios {
    /// One record (March 2024).
    one: Rows,
    /// `minRecords − 1` monthly records in one block (none when `minRecords` is 1).
    few: Option<Rows>,
    /// Three years of monthly records, 2022–2024.
    many: Rows,
}

impl Scenarios {
    fn new(d: &Derivation, g: &mut Gen) -> Self {
        Self {
            one: monthly(d, g, (2024, 3), 1),
            few: (d.min_records > 1).then(|| monthly(d, g, (2024, 1), d.min_records - 1)),
            many: monthly(d, g, (2022, 1), 36),
        }
    }
}

/// What the leak checks found, per check (each a list of `field=value` or a description).
#[derive(Debug, Default)]
struct Leaks {
    /// Raw values in the release of one record.
    one_record: Vec<String>,
    /// Raw values in the release of records below the threshold.
    below_threshold: Vec<String>,
    /// Raw values in the releases of three overlapping windows.
    overlapping: Vec<String>,
    /// Numbers at the same place in two overlapping releases that differ by exactly a value of the
    /// one record between the windows.
    differenced: Vec<String>,
}

impl Leaks {
    fn none(&self) -> bool {
        self.one_record.is_empty()
            && self.below_threshold.is_empty()
            && self.overlapping.is_empty()
            && self.differenced.is_empty()
    }
}

/// Every number of a release with where it sits (`numeric.taxPaid.sum`, `indicators.taxPaid`).
fn numbers_at(v: &Value, at: &str, out: &mut Vec<(String, f64)>) {
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, x)| numbers_at(x, &format!("{at}.{k}"), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| numbers_at(x, &format!("{at}[{i}]"), out)),
        other => {
            if let Some(x) = other.as_f64() {
                out.push((at.to_owned(), x));
            }
        }
    }
}

/// The leak checks of issue #11, over the releases `release` makes of `s` (`d` only says which
/// words are a declared vocabulary). They judge only what a bank reads, so they apply as well to
/// any derivation.
fn leaks(d: &Derivation, s: &Scenarios, release: &Releaser<'_>) -> Leaks {
    let year = (day(2024, 1, 1), day(2024, 12, 31));
    let mut found = Leaks {
        one_record: raw_values_revealed(d, &release(&s.one, year.0, year.1), &s.one),
        ..Leaks::default()
    };
    if let Some(few) = &s.few {
        found.below_threshold = raw_values_revealed(d, &release(few, year.0, year.1), few);
    }
    // Windows that differ by the first month, and by the last month.
    let many = &s.many;
    let w_all = release(many, day(2022, 1, 1), day(2024, 12, 31));
    let w_late = release(many, day(2022, 2, 1), day(2024, 12, 31));
    let w_early = release(many, day(2022, 1, 1), day(2024, 11, 30));
    for out in [&w_all, &w_late, &w_early] {
        found.overlapping.extend(raw_values_revealed(d, out, many));
    }
    for (b, dropped) in [(&w_late, &many[0].1), (&w_early, &many[35].1)] {
        let (mut xs, mut ys) = (vec![], vec![]);
        numbers_at(&w_all, "", &mut xs);
        numbers_at(b, "", &mut ys);
        for (at, x) in &xs {
            let Some((_, y)) = ys.iter().find(|(p, _)| p == at) else {
                continue;
            };
            for (name, raw) in dropped.iter().filter_map(|(k, v)| Some((k, v.as_f64()?))) {
                if ((x - y).abs() - raw).abs() <= 1e-6 {
                    found.differenced.push(format!("{at}: {x} − {y} = {name} {raw}"));
                }
            }
        }
    }
    found
}

/// The derivation a `derived` release used before issue #11 (`git show 82c8755^:src/node/data.rs`,
/// fn `derive`), kept here only to show that [`leaks`] catches a derivation that leaks: counts, the
/// covered dates, sum / min / max / mean of every numeric field (to the fen) and the latest value of
/// a few categorical fields verbatim, over the records the data source returned for the period.
mod before_issue_11 {
    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::{Map, Value, json};

    const INDICATOR_FIELDS: [&str; 6] = ["status", "grade", "rating", "level", "result", "creditGrade"];

    /// `records` are `(date, fields)`, oldest first, already limited to the asked period.
    pub fn derive(records: &[&(String, Map<String, Value>)]) -> Value {
        let mut months = BTreeSet::new();
        let mut numeric: BTreeMap<String, (f64, f64, f64, u64)> = BTreeMap::new();
        let mut latest: Map<String, Value> = Map::new();
        for (date, fields) in records {
            months.insert(date.get(..7).unwrap_or_default().to_owned());
            for (k, v) in fields {
                if let Some(x) = v.as_f64() {
                    let e = numeric
                        .entry(k.clone())
                        .or_insert((0.0, f64::INFINITY, f64::NEG_INFINITY, 0));
                    e.0 += x;
                    e.1 = e.1.min(x);
                    e.2 = e.2.max(x);
                    e.3 += 1;
                } else if INDICATOR_FIELDS.contains(&k.as_str()) {
                    latest.insert(k.clone(), v.clone());
                }
            }
        }
        let round = |x: f64| (x * 100.0).round() / 100.0;
        let numeric: Map<String, Value> = numeric
            .into_iter()
            .map(|(k, (sum, min, max, n))| {
                (
                    k,
                    json!({"sum": round(sum), "min": round(min), "max": round(max), "mean": round(sum / n as f64), "count": n}),
                )
            })
            .collect();
        json!({
            "recordCount": records.len(),
            "firstDate": records.first().map(|r| r.0.clone()),
            "lastDate": records.last().map(|r| r.0.clone()),
            "monthsCovered": months.len(),
            "numeric": numeric,
            "latest": latest,
        })
    }

    /// The release as the node made it: the records of the period, derived.
    pub fn release(records: &[(String, Map<String, Value>)], from: time::Date, until: time::Date) -> Value {
        let (from, until) = (from.to_string(), until.to_string());
        let inside: Vec<_> = records
            .iter()
            .filter(|(date, _)| *date >= from && *date <= until)
            .collect();
        json!({"granularity": "derived", "indicators": derive(&inside)})
    }
}

#[test]
fn every_category_reveals_no_raw_value() {
    let catalog = Catalog::builtin();
    let mut g = Gen(0x5eed_cafe_f00d_1234);
    let mut checked = 0;
    for category in catalog.categories() {
        let code = &category.code;
        let Some((version, d)) = catalog.derivation(Some(catalog.version()), code) else {
            panic!("{code} has no derived form");
        };
        let year = (day(2024, 1, 1), day(2024, 12, 31));
        let s = Scenarios::new(&d, &mut g);
        let current = |rs: &[(String, Map<String, Value>)], from, until| {
            serde_json::to_value(run(&d, &version, code, rs, from, until)).unwrap_or(Value::Null)
        };

        // The leak checks find nothing in the current derivation…
        let found = leaks(&d, &s, &current);
        assert!(found.none(), "{code}: {found:?}");

        // …and find leaks in the pre-#11 one, in every check that applies, for every category:
        // so a check that passes above is one that can fail.
        let old = leaks(&d, &s, &before_issue_11::release);
        assert!(!old.one_record.is_empty(), "{code}: one record, old derive");
        assert_eq!(
            old.below_threshold.is_empty(),
            s.few.is_none(),
            "{code}: below threshold, old derive"
        );
        assert!(!old.overlapping.is_empty(), "{code}: overlapping, old derive");
        assert!(!old.differenced.is_empty(), "{code}: differencing, old derive");
        // Not only through the undeclared field: every declared numeric field leaks too.
        let (numeric, _) = fields_of(&d);
        for field in &numeric {
            let named = |l: &Vec<String>| l.iter().any(|x| x.starts_with(&format!("{field}=")));
            assert!(
                named(&old.one_record),
                "{code}: {field} not caught in {:?}",
                old.one_record
            );
        }

        // What the current derivation releases of one record: nothing numeric, and below a
        // threshold above one, nothing at all, with the reason.
        let out = run(&d, &version, code, &s.one, year.0, year.1);
        if d.min_records > 1 {
            assert!(
                out.indicators.is_empty(),
                "{code}: one record released {:?}",
                out.indicators
            );
            assert!(
                out.withheld
                    .iter()
                    .any(|w| w.reason == WithheldReason::BelowThreshold)
            );
        }
        for id in numeric_ids(&d) {
            assert!(!out.indicators.contains_key(id), "{code}: {id} from one record");
        }
        if let Some(few) = &s.few {
            let out = run(&d, &version, code, few, year.0, year.1);
            assert!(
                out.indicators.is_empty(),
                "{code}: below threshold released {:?}",
                out.indicators
            );
        }

        // A window that starts mid-quarter is the whole quarters inside it: the same as the
        // records of those quarters alone, over those quarters.
        let many = &s.many;
        let w_late = run(&d, &version, code, many, day(2022, 2, 1), day(2024, 12, 31));
        let whole: Vec<_> = many
            .iter()
            .filter(|(date, _)| date.as_str() >= "2022-04-01")
            .cloned()
            .collect();
        let inner = run(&d, &version, code, &whole, day(2022, 4, 1), day(2024, 12, 31));
        if d.block == consentry::derivation::Block::Quarter {
            assert_eq!(inner, w_late, "{code}");
        }
        checked += 1;
    }
    assert_eq!(checked, 37, "every category of the catalog");
}

#[test]
fn a_latest_value_outside_its_vocabulary_is_withheld() {
    // A categorical indicator releases the latest value of its field only if that value is a word
    // of the declared vocabulary: a free-text status or grade (an official's note, a date, a
    // document number) is detail, and is withheld with `not-in-vocabulary` while the rest of the
    // category is released as before.
    let catalog = Catalog::builtin();
    let mut g = Gen(0x0b5e_55ed);
    let year = (day(2024, 1, 1), day(2024, 12, 31));
    let mut checked = BTreeSet::new();
    for category in catalog.categories() {
        let code = &category.code;
        let Some((version, d)) = catalog.derivation(Some(catalog.version()), code) else {
            panic!("{code} has no derived form");
        };
        for ind in &d.indicators {
            let Indicator::Latest { id, field, values } = ind else {
                continue;
            };
            let free = format!("经营异常：2024年12月31日稽查通知书第{}号", g.next() % 10_000);
            assert!(!values.contains(&free));
            let mut records = monthly(&d, &mut g, (2024, 1), 12);
            records[11].1.insert(field.clone(), json!(values[0]));
            let in_vocabulary = run(&d, &version, code, &records, year.0, year.1);
            assert_eq!(
                in_vocabulary.indicators.get(id.as_str()),
                Some(&json!(values[0])),
                "{code} {id}: a vocabulary word is released"
            );

            records[11].1.insert(field.clone(), json!(free));
            let out = run(&d, &version, code, &records, year.0, year.1);
            assert!(!out.indicators.contains_key(id.as_str()), "{code} {id}: {out:?}");
            assert!(
                out.withheld
                    .iter()
                    .any(|w| w.indicator.as_deref() == Some(id.as_str())
                        && w.reason == WithheldReason::NotInVocabulary),
                "{code} {id}: {:?}",
                out.withheld
            );
            let text = serde_json::to_string(&out).unwrap_or_default();
            assert!(!text.contains("经营异常"), "{code} {id}: {text}");
            // Only that indicator is withheld: the others are what they were.
            let mut others = in_vocabulary.indicators.clone();
            others.remove(id.as_str());
            assert_eq!(out.indicators, others, "{code} {id}");

            // The derivation before issue #11 released a status or grade verbatim.
            if ["status", "creditGrade"].contains(&field.as_str()) {
                let old = before_issue_11::release(&records, year.0, year.1);
                assert!(old.to_string().contains(&free), "{code} {id}: {old}");
            }
            checked.insert(code.clone());
        }
    }
    assert_eq!(
        checked.iter().map(String::as_str).collect::<Vec<_>>(),
        ["IP-03", "RE-01", "TAX-01", "TAX-02"],
        "every category with a latest indicator"
    );
}

/// TAX-03's current definition and its set's version.
fn tax03() -> (String, Derivation) {
    let catalog = Catalog::builtin();
    catalog
        .derivation(Some(catalog.version()), "TAX-03")
        .unwrap_or_else(|| panic!("TAX-03 has a derived form"))
}

#[test]
fn a_record_outside_the_whole_blocks_never_changes_the_release() {
    // The differencing guard directly: a window that starts mid-quarter ignores the partial
    // quarter, so changing (or removing) its records changes nothing a bank receives.
    let (version, d) = tax03();
    let mut g = Gen(42);
    let mut records = monthly(&d, &mut g, (2024, 1), 12);
    let before = run(
        &d,
        &version,
        "TAX-03",
        &records,
        day(2024, 2, 1),
        day(2024, 12, 31),
    );
    assert_eq!(before.released_blocks, ["2024-Q2", "2024-Q3", "2024-Q4"]);
    records[1].1.insert("taxPaid".into(), json!(999_999.99));
    records.remove(0);
    let after = run(
        &d,
        &version,
        "TAX-03",
        &records,
        day(2024, 2, 1),
        day(2024, 12, 31),
    );
    assert_eq!(before, after);
}

#[test]
fn a_field_carried_by_too_few_records_is_withheld() {
    // Three filings in a quarter, but only one carries declaredSales: a sum over the one would be
    // its value, so it is withheld while the figures of the other fields are released.
    let (version, d) = tax03();
    let mut g = Gen(7);
    let mut records = monthly(&d, &mut g, (2024, 1), 3);
    records[1].1.remove("declaredSales");
    records[2].1.remove("declaredSales");
    let out = run(
        &d,
        &version,
        "TAX-03",
        &records,
        day(2024, 1, 1),
        day(2024, 3, 31),
    );
    assert!(out.indicators.contains_key("taxPaid"), "{out:?}");
    assert!(!out.indicators.contains_key("declaredSales"));
    assert!(!out.indicators.contains_key("taxBurden"));
    assert!(out.withheld.iter().any(
        |w| w.indicator.as_deref() == Some("declaredSales") && w.reason == WithheldReason::BelowThreshold
    ));
    assert_eq!(
        raw_values_revealed(&d, &serde_json::to_value(&out).unwrap_or(Value::Null), &records),
        Vec::<String>::new()
    );
}

#[test]
fn a_block_not_yet_settled_is_not_used() {
    let (version, d) = tax03();
    let mut g = Gen(9);
    let records = monthly(&d, &mut g, (2026, 7), 5);
    let input: Vec<Record<'_>> = records
        .iter()
        .map(|(date, fields)| Record { date, fields })
        .collect();
    // 2026-Q3 ended on 30 September; TAX-03 settles 45 days: usable from 15 November.
    let on = |today| {
        derive(
            &d,
            &version,
            "TAX-03",
            &input,
            day(2026, 1, 1),
            day(2026, 12, 31),
            today,
        )
    };
    assert!(on(day(2026, 11, 14)).released_blocks.is_empty());
    assert_eq!(on(day(2026, 11, 15)).released_blocks, ["2026-Q3"]);
}

#[test]
fn every_marked_personal_field_is_masked_in_raw_releases() {
    use consentry::derivation::mask::PersonalField;
    let catalog = Catalog::builtin();
    let sample = |kind: PersonalField| match kind {
        PersonalField::Name => ("郑立强", "郑某"),
        PersonalField::IdNumber => ("330102198807154321", "330102********4321"),
        PersonalField::Phone => ("13912345678", "139****5678"),
    };
    let mut checked = 0;
    for category in catalog.categories() {
        for (field, kind) in &category.personal_fields {
            let (raw, masked) = sample(*kind);
            let record = consentry::storage::data::DataRecord {
                id: 1,
                uscc: "91330100716105852F".into(),
                category: category.code.clone(),
                record_date: "2025-01-31".into(),
                body: json!({ field.as_str(): raw, "other": "kept" }).to_string(),
                provider: category.providers[0].clone(),
                imported_at: 0,
                content_id: None,
                batch_id: None,
                version: 1,
                superseded_by: None,
                superseded_at: None,
            };
            let out = consentry::node::data::raw(&catalog, &category.code, &[record]);
            assert_eq!(
                out[0]["fields"][field.as_str()],
                masked,
                "{} {field}",
                category.code
            );
            assert_eq!(out[0]["fields"]["other"], "kept");
            assert!(!out.to_string().contains(raw), "{} {field}: {out}", category.code);
            checked += 1;
        }
    }
    assert_eq!(checked, 19, "every marked field of the catalog");
    // Only public categories mark fields: non-public records never reach a bank raw.
    assert!(
        catalog
            .categories()
            .filter(|c| !c.public)
            .all(|c| c.personal_fields.is_empty())
    );
}

#[test]
fn a_grant_citing_an_unknown_catalog_version_is_refused() {
    let catalog = Catalog::builtin();
    let example: Value =
        serde_json::from_str(include_str!("../../spec/examples/grant.unsigned.json")).unwrap_or(Value::Null);
    assert!(
        consentry::grant::check_unsigned(&example, &catalog).is_ok(),
        "citing none is allowed"
    );
    let mut cites = example.clone();
    cites["credentialSubject"]["catalogVersion"] = json!(catalog.version());
    assert!(consentry::grant::check_unsigned(&cites, &catalog).is_ok());
    for bad in [json!("1999-01-01.1"), json!("latest"), json!(20261206)] {
        let mut doc = example.clone();
        doc["credentialSubject"]["catalogVersion"] = bad.clone();
        let err = consentry::grant::check_unsigned(&doc, &catalog)
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("catalogVersion") || e.contains("catalog version")),
            "{bad}: {err:?}"
        );
    }
}

#[test]
fn a_grant_citing_an_older_catalog_version_is_released_with_that_versions_definitions() {
    // A catalog with two definition sets: an older one (2026-06-01.1) where TAX-03 is yearly, with
    // two indicators and a coarser rounding, and the current one. A grant signed under the older
    // version keeps the older forms after the catalog moved on; the release path computes with the
    // version the relied-on grant cites (`Scope::catalog_version`, as `node::release` passes it).
    use consentry::catalog::{BUILTIN_CATALOG, BUILTIN_DERIVATIONS, BUILTIN_LETTERS};
    use consentry::grant::Granularity;
    use consentry::node::data::{Scope, payload};
    const OLD: &str = "2026-06-01.1";
    let mut file: Value = serde_json::from_str(BUILTIN_DERIVATIONS).unwrap_or(Value::Null);
    let mut old = file["sets"][0].clone();
    old["catalogVersion"] = json!(OLD);
    old["categories"]["TAX-03"] = json!({
        "block": "year", "minRecords": 6, "minPeriods": 6, "settleDays": 30,
        "indicators": [
            {"of": "count", "id": "filings"},
            {"of": "sum", "id": "taxPaid", "field": "taxPaid", "coarsen": {"roundTo": 100000}}
        ]
    });
    file["sets"] = json!([old, file["sets"][0].clone()]);
    let catalog = Catalog::from_json(BUILTIN_CATALOG, BUILTIN_LETTERS, &file.to_string())
        .unwrap_or_else(|e| panic!("two sets load: {e}"));
    let current = catalog.version().to_owned();
    assert_ne!(current, OLD);

    // The grant may cite either version of this catalog; the built-in catalog, without the older
    // set, refuses the older one.
    let example: Value =
        serde_json::from_str(include_str!("../../spec/examples/grant.unsigned.json")).unwrap_or(Value::Null);
    let mut cites_old = example.clone();
    cites_old["credentialSubject"]["catalogVersion"] = json!(OLD);
    assert!(consentry::grant::check_unsigned(&cites_old, &catalog).is_ok());
    assert!(consentry::grant::check_unsigned(&cites_old, &Catalog::builtin()).is_err());

    let (_, d) = tax03();
    let mut g = Gen(0x01d);
    let rows = monthly(&d, &mut g, (2024, 1), 12);
    let records: Vec<consentry::storage::data::DataRecord> = rows
        .iter()
        .enumerate()
        .map(|(i, (date, fields))| consentry::storage::data::DataRecord {
            id: i64::try_from(i).unwrap_or(0) + 1,
            uscc: "91330100716105852F".into(),
            category: "TAX-03".into(),
            record_date: date.clone(),
            body: Value::Object(fields.clone()).to_string(),
            provider: "STA".into(),
            imported_at: 0,
            content_id: None,
            batch_id: None,
            version: 1,
            superseded_by: None,
            superseded_at: None,
        })
        .collect();
    let release = |cited: Option<&str>| {
        let scope = Scope {
            catalog_version: cited,
            from: day(2024, 1, 1),
            until: day(2024, 12, 31),
            today: day(2026, 12, 6),
        };
        payload(&catalog, "TAX-03", &records, Granularity::Derived, scope)
            .unwrap_or_else(|e| panic!("{cited:?}: {e}"))
    };

    let older = release(Some(OLD));
    assert_eq!(older["derivation"]["catalogVersion"], OLD);
    assert_eq!(older["block"], "year");
    assert_eq!(older["releasedBlocks"], json!(["2024"]));
    let ids: Vec<&String> = older["indicators"]
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert_eq!(ids, ["filings", "taxPaid"]);
    let paid: f64 = rows.iter().filter_map(|(_, f)| f["taxPaid"].as_f64()).sum();
    assert_eq!(older["indicators"]["filings"], 12);
    assert_eq!(
        older["indicators"]["taxPaid"].as_f64(),
        Some((paid / 100_000.0).round() * 100_000.0)
    );

    let newer = release(Some(&current));
    assert_eq!(newer["derivation"]["catalogVersion"], current.as_str());
    assert_eq!(newer["block"], "quarter");
    assert_eq!(
        newer["releasedBlocks"],
        json!(["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"])
    );
    assert!(newer["indicators"]["taxBurden"].is_number(), "{newer}");
    assert_ne!(older["indicators"]["taxPaid"], newer["indicators"]["taxPaid"]);

    // A grant that cites no version was signed before grants cited one: the oldest set.
    assert_eq!(release(None), older);
}
