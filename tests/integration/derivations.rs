//! Derived forms reveal no raw value (issue #11 "must show"): for every category of the built-in
//! catalog, its derived form computed over one record, over records below its threshold, and over
//! two overlapping windows, with every value a bank could read checked against every raw value.
//!
//! Raw amounts carry fen (two decimals, never `.00`), as real amounts do: a released figure is on
//! its declared lattice (whole units, bands, steps), so an equal number would be a leak, not a
//! coincidence. Each category's records also carry two undeclared fields, one text and one number,
//! that must never appear. The same checks run against the derivation that shipped before issue
//! #11 (count / sum / min / max / mean, latest status verbatim) fail on every non-public category
//! with a numeric field: with one record min = max = sum = the value.

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
fn raw_values_revealed(
    d: &Derivation,
    out: &Derived,
    records: &[(String, Map<String, Value>)],
) -> Vec<String> {
    let (_, categorical) = fields_of(d);
    let vocab: BTreeSet<&str> = categorical
        .iter()
        .flat_map(|(_, v)| v.iter().map(String::as_str))
        .collect();
    let mut seen = Vec::new();
    leaves(&serde_json::to_value(out).unwrap_or(Value::Null), &mut seen);
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

        // 1. One record.
        let one = monthly(&d, &mut g, (2024, 3), 1);
        let out = run(&d, &version, code, &one, year.0, year.1);
        assert_eq!(
            raw_values_revealed(&d, &out, &one),
            Vec::<String>::new(),
            "{code}, one record: {out:?}"
        );
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

        // 2. Below the threshold: minRecords − 1 records in one block (or minPeriods − 1 months).
        if d.min_records > 1 {
            let few = monthly(&d, &mut g, (2024, 1), d.min_records - 1);
            let out = run(&d, &version, code, &few, year.0, year.1);
            assert!(
                out.indicators.is_empty(),
                "{code}: below threshold released {:?}",
                out.indicators
            );
            assert_eq!(
                raw_values_revealed(&d, &out, &few),
                Vec::<String>::new(),
                "{code}, below threshold"
            );
        }

        // 3. Overlapping windows: three years of monthly records; windows that differ by the first
        //    month, and by the last month.
        let many = monthly(&d, &mut g, (2022, 1), 36);
        let w_all = run(&d, &version, code, &many, day(2022, 1, 1), day(2024, 12, 31));
        let w_late = run(&d, &version, code, &many, day(2022, 2, 1), day(2024, 12, 31));
        let w_early = run(&d, &version, code, &many, day(2022, 1, 1), day(2024, 11, 30));
        for out in [&w_all, &w_late, &w_early] {
            assert_eq!(
                raw_values_revealed(&d, out, &many),
                Vec::<String>::new(),
                "{code}, overlapping"
            );
        }
        let first = &many[0].1;
        let last = &many[35].1;
        for (a, b, dropped) in [(&w_all, &w_late, first), (&w_all, &w_early, last)] {
            for (id, x) in &a.indicators {
                let (Some(x), Some(y)) = (x.as_f64(), b.indicators.get(id).and_then(Value::as_f64)) else {
                    continue;
                };
                for raw in dropped.values().filter_map(Value::as_f64) {
                    assert!(
                        ((x - y).abs() - raw).abs() > 1e-9,
                        "{code}: {id} differenced to a record's value {raw}"
                    );
                }
            }
        }
        // A window that starts mid-quarter is the whole quarters inside it: the same as the
        // records of those quarters alone, over those quarters.
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
    assert_eq!(raw_values_revealed(&d, &out, &records), Vec::<String>::new());
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
