//! Applying a [`Derivation`] to an enterprise's records of one category (`spec/derivations.md`
//! §3): group by aligned block, keep the whole, closed and settled blocks inside the asked period,
//! drop blocks under the threshold, compute and coarsen the declared indicators.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value};
use time::{Date, Duration, Month};

use super::{Block, Coarsen, Derivation, Indicator};

/// One record as the derivation sees it.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// The record's date, `YYYY-MM-DD`.
    pub date: &'a str,
    /// Its fields.
    pub fields: &'a Map<String, Value>,
}

/// Which definition produced a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DerivationRef {
    /// The catalog version of the definition set.
    pub catalog_version: String,
    /// The category.
    pub category: String,
}

/// A span of days, `YYYY-MM-DD`, inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Span {
    /// First day.
    pub from: String,
    /// Last day.
    pub until: String,
}

/// Why something was not released (stable codes, `spec/derivations.md` §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WithheldReason {
    /// The asked period holds no whole, settled block.
    NoWholeBlock,
    /// No block reaches the threshold (for the category, or for the records carrying the field).
    BelowThreshold,
    /// A trend needs two contributing blocks.
    TooFewBlocks,
    /// The latest value is outside the indicator's vocabulary.
    NotInVocabulary,
    /// No record carries a usable value (or the result is not a finite number).
    NoValue,
}

/// Something withheld, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Withheld {
    /// The indicator, or none for the whole category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indicator: Option<String>,
    /// The reason code.
    pub reason: WithheldReason,
    /// Plain words.
    pub message: String,
}

/// The derived form of one category, as released.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Derived {
    /// Always `derived`.
    pub granularity: &'static str,
    /// The definition used.
    pub derivation: DerivationRef,
    /// The block size.
    pub block: Block,
    /// The whole, settled blocks of the asked period (none if there are none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<Span>,
    /// Blocks that contributed, e.g. `2025-Q1`.
    pub released_blocks: Vec<String>,
    /// Blocks with records that stayed below the threshold.
    pub withheld_blocks: Vec<String>,
    /// The indicators released, by id.
    pub indicators: BTreeMap<String, Value>,
    /// What was withheld and why.
    pub withheld: Vec<Withheld>,
}

/// A block: its year and its index within the year (0-based).
type BlockKey = (i32, u8);

fn block_of(block: Block, d: Date) -> BlockKey {
    (d.year(), (u8::from(d.month()) - 1) / block.months())
}

fn block_start(block: Block, (y, i): BlockKey) -> Option<Date> {
    let month = Month::try_from(i * block.months() + 1).ok()?;
    Date::from_calendar_date(y, month, 1).ok()
}

fn next_block(block: Block, (y, i): BlockKey) -> BlockKey {
    if (i + 1) * block.months() >= 12 {
        (y + 1, 0)
    } else {
        (y, i + 1)
    }
}

fn prev_block(block: Block, (y, i): BlockKey) -> BlockKey {
    if i == 0 {
        (y - 1, 12 / block.months() - 1)
    } else {
        (y, i - 1)
    }
}

fn block_end(block: Block, key: BlockKey) -> Option<Date> {
    block_start(block, next_block(block, key))?.previous_day()
}

/// The block's label: `2025-Q1`, `2025-H2`, `2025`.
pub fn block_label(block: Block, (y, i): BlockKey) -> String {
    match block {
        Block::Quarter => format!("{y}-Q{}", i + 1),
        Block::HalfYear => format!("{y}-H{}", i + 1),
        Block::Year => format!("{y}"),
    }
}

/// The whole blocks inside `from..=until` that are settled on `today` (ended at least
/// `settle_days` before it), as an inclusive range of block keys.
fn whole_blocks(d: &Derivation, from: Date, until: Date, today: Date) -> Option<(BlockKey, BlockKey)> {
    let mut first = block_of(d.block, from);
    if block_start(d.block, first)? != from {
        first = next_block(d.block, first);
    }
    let settled_until = today.checked_sub(Duration::days(i64::from(d.settle_days) + 1))?;
    let until = until.min(settled_until);
    let mut last = block_of(d.block, until);
    if block_end(d.block, last)? != until {
        last = prev_block(d.block, last);
    }
    (first <= last).then_some((first, last))
}

fn number(fields: &Map<String, Value>, field: &str) -> Option<f64> {
    fields.get(field)?.as_f64().filter(|x| x.is_finite())
}

/// Decimal places of a unit or step as written (at most 10).
fn decimals(unit: f64) -> usize {
    let s = format!("{unit}");
    s.split_once('.').map_or(0, |(_, f)| f.len().min(10))
}

/// A number as JSON: an integer when whole, else at `places` decimals.
fn tidy(x: f64, places: usize) -> Option<Value> {
    let rounded: f64 = format!("{x:.places$}").parse().ok()?;
    if !rounded.is_finite() {
        return None;
    }
    if rounded.fract() == 0.0 && rounded.abs() < 9.0e15 {
        // Whole and exactly representable: write it as an integer.
        #[allow(clippy::cast_possible_truncation)]
        return Some(Value::from(rounded as i64));
    }
    serde_json::Number::from_f64(rounded).map(Value::Number)
}

/// `x` rounded down to a multiple of `step`. A value already on the lattice stays there although
/// its quotient by `step` lands a hair below the integer in binary (0.29 / 0.01 = 28.999…).
fn floor_to(x: f64, step: f64) -> f64 {
    (x / step + 1e-9).floor() * step
}

fn coarsen(x: f64, c: &Coarsen) -> Option<Value> {
    if !x.is_finite() {
        return None;
    }
    match c {
        Coarsen::RoundTo(u) => tidy((x / u).round() * u, decimals(*u)),
        Coarsen::Bands(edges) => {
            let places = edges.iter().map(|e| decimals(*e)).max().unwrap_or(0);
            let mut band = Map::new();
            // The first edge above x: the band is [the edge before it, it).
            match edges.iter().position(|e| x < *e) {
                Some(0) => {
                    band.insert("below".into(), tidy(edges[0], places)?);
                }
                Some(i) => {
                    band.insert("from".into(), tidy(edges[i - 1], places)?);
                    band.insert("below".into(), tidy(edges[i], places)?);
                }
                None => {
                    band.insert("from".into(), tidy(*edges.last()?, places)?);
                }
            }
            Some(Value::Object(band))
        }
    }
}

/// What one block holds.
#[derive(Default)]
struct BlockRecords<'a> {
    records: Vec<(Date, &'a Map<String, Value>)>,
}

impl BlockRecords<'_> {
    /// Whether the records satisfying `keep` reach the threshold.
    fn reaches(&self, d: &Derivation, keep: impl Fn(&Map<String, Value>) -> bool) -> bool {
        let kept: Vec<_> = self.records.iter().filter(|(_, f)| keep(f)).collect();
        let months: BTreeSet<(i32, Month)> = kept.iter().map(|(day, _)| (day.year(), day.month())).collect();
        kept.len() >= d.min_records as usize && months.len() >= d.min_periods as usize
    }
}

/// Applies `d` (of `category`, set `catalog_version`) to `records` for the period
/// `from..=until`, on `today`. Records dated outside the whole, settled blocks of the period are
/// not looked at; nothing but the declared indicators comes out.
pub fn derive(
    d: &Derivation,
    catalog_version: &str,
    category: &str,
    records: &[Record<'_>],
    from: Date,
    until: Date,
    today: Date,
) -> Derived {
    let mut out = Derived {
        granularity: "derived",
        derivation: DerivationRef {
            catalog_version: catalog_version.to_owned(),
            category: category.to_owned(),
        },
        block: d.block,
        window: None,
        released_blocks: vec![],
        withheld_blocks: vec![],
        indicators: BTreeMap::new(),
        withheld: vec![],
    };
    let withhold_all = |out: &mut Derived, reason, message: &str| {
        out.withheld.push(Withheld {
            indicator: None,
            reason,
            message: message.to_owned(),
        });
    };
    let Some((first, last)) = whole_blocks(d, from, until, today) else {
        withhold_all(
            &mut out,
            WithheldReason::NoWholeBlock,
            &format!(
                "the period holds no whole {} that has ended and settled ({} days)",
                d.block.as_str(),
                d.settle_days
            ),
        );
        return out;
    };
    if let (Some(a), Some(b)) = (block_start(d.block, first), block_end(d.block, last)) {
        out.window = Some(Span {
            from: a.to_string(),
            until: b.to_string(),
        });
    }
    let mut blocks: BTreeMap<BlockKey, BlockRecords<'_>> = BTreeMap::new();
    for r in records {
        let Some(day) = crate::grant::rules::parse_date(r.date) else {
            continue;
        };
        let key = block_of(d.block, day);
        if key < first || key > last {
            continue;
        }
        blocks.entry(key).or_default().records.push((day, r.fields));
    }
    // Oldest first, ties in input order, so "latest" is the last of the day given last.
    for b in blocks.values_mut() {
        b.records.sort_by_key(|(day, _)| *day);
    }
    let released: Vec<(&BlockKey, &BlockRecords<'_>)> =
        blocks.iter().filter(|(_, b)| b.reaches(d, |_| true)).collect();
    out.released_blocks = released.iter().map(|(k, _)| block_label(d.block, **k)).collect();
    out.withheld_blocks = blocks
        .iter()
        .filter(|(_, b)| !b.reaches(d, |_| true))
        .map(|(k, _)| block_label(d.block, *k))
        .collect();
    if released.is_empty() {
        withhold_all(
            &mut out,
            WithheldReason::BelowThreshold,
            &format!(
                "no {} in the period has {} records over {} months",
                d.block.as_str(),
                d.min_records,
                d.min_periods
            ),
        );
        return out;
    }
    for ind in &d.indicators {
        match value_of(d, ind, &released) {
            Ok(v) => {
                out.indicators.insert(ind.id().to_owned(), v);
            }
            Err((reason, message)) => out.withheld.push(Withheld {
                indicator: Some(ind.id().to_owned()),
                reason,
                message,
            }),
        }
    }
    out
}

type Outcome = Result<Value, (WithheldReason, String)>;

fn below(field: &str) -> (WithheldReason, String) {
    (
        WithheldReason::BelowThreshold,
        format!("no released block has enough records carrying {field}"),
    )
}

fn no_value(what: &str) -> (WithheldReason, String) {
    (WithheldReason::NoValue, format!("{what} has no usable value"))
}

/// The blocks that reach the threshold on the records carrying every one of `fields` as a
/// number, with those records' values.
fn contributing<'a>(
    d: &Derivation,
    released: &'a [(&BlockKey, &BlockRecords<'a>)],
    fields: &'a [&'a str],
) -> Vec<Vec<(Date, Vec<f64>)>> {
    let carries = |f: &Map<String, Value>| fields.iter().all(|k| number(f, k).is_some());
    released
        .iter()
        .filter(|(_, b)| b.reaches(d, carries))
        .map(|(_, b)| {
            b.records
                .iter()
                .filter(|(_, f)| carries(f))
                .map(|(day, f)| (*day, fields.iter().filter_map(|k| number(f, k)).collect()))
                .collect()
        })
        .collect()
}

fn value_of(d: &Derivation, ind: &Indicator, released: &[(&BlockKey, &BlockRecords<'_>)]) -> Outcome {
    match ind {
        Indicator::Count { .. } => Ok(Value::from(
            released.iter().map(|(_, b)| b.records.len()).sum::<usize>(),
        )),
        Indicator::Periods { .. } => Ok(Value::from(
            released
                .iter()
                .map(|(_, b)| {
                    b.records
                        .iter()
                        .map(|(day, _)| (day.year(), day.month()))
                        .collect::<BTreeSet<_>>()
                        .len()
                })
                .sum::<usize>(),
        )),
        Indicator::MonthsWhere { test, .. } => {
            let fields = [test.field.as_str()];
            let blocks = contributing(d, released, &fields);
            if blocks.is_empty() {
                return Err(below(&test.field));
            }
            let months: BTreeSet<(i32, Month)> = blocks
                .iter()
                .flatten()
                .filter(|(_, v)| v.first().is_some_and(|x| *x > test.above))
                .map(|(day, _)| (day.year(), day.month()))
                .collect();
            Ok(Value::from(months.len()))
        }
        Indicator::Sum {
            field, coarsen: c, ..
        }
        | Indicator::Mean {
            field, coarsen: c, ..
        } => {
            let fields = [field.as_str()];
            let blocks = contributing(d, released, &fields);
            if blocks.is_empty() {
                return Err(below(field));
            }
            let values: Vec<f64> = blocks
                .iter()
                .flatten()
                .filter_map(|(_, v)| v.first().copied())
                .collect();
            let sum: f64 = values.iter().sum();
            #[allow(clippy::cast_precision_loss)]
            let x = if matches!(ind, Indicator::Mean { .. }) {
                sum / values.len() as f64
            } else {
                sum
            };
            coarsen(x, c).ok_or_else(|| no_value(field))
        }
        Indicator::Ratio {
            numerator,
            denominator,
            step,
            ..
        } => {
            let fields = [numerator.as_str(), denominator.as_str()];
            let blocks = contributing(d, released, &fields);
            if blocks.is_empty() {
                return Err(below(&format!("{numerator} and {denominator}")));
            }
            let (mut num, mut den) = (0.0, 0.0);
            for (_, v) in blocks.iter().flatten() {
                if let [n, m] = v.as_slice() {
                    num += n;
                    den += m;
                }
            }
            if den <= 0.0 {
                return Err(no_value(&format!("{numerator}/{denominator}")));
            }
            tidy(floor_to(num / den, *step), decimals(*step)).ok_or_else(|| no_value(numerator))
        }
        Indicator::Trend {
            field, stable_within, ..
        } => {
            let fields = [field.as_str()];
            let blocks = contributing(d, released, &fields);
            let sums: Vec<f64> = blocks
                .iter()
                .map(|b| b.iter().filter_map(|(_, v)| v.first()).sum())
                .collect();
            let [.., prev, last] = sums.as_slice() else {
                return Err((
                    WithheldReason::TooFewBlocks,
                    format!("a trend of {field} needs two blocks that reach the threshold"),
                ));
            };
            let word = if *prev == 0.0 {
                if *last > 0.0 {
                    "rising"
                } else if *last < 0.0 {
                    "falling"
                } else {
                    "stable"
                }
            } else {
                let change = (last - prev) / prev.abs();
                if change > *stable_within {
                    "rising"
                } else if change < -stable_within {
                    "falling"
                } else {
                    "stable"
                }
            };
            Ok(Value::from(word))
        }
        Indicator::Latest { field, values, .. } => {
            let latest = released
                .iter()
                .flat_map(|(_, b)| b.records.iter())
                .filter_map(|(day, f)| f.get(field).and_then(Value::as_str).map(|v| (*day, v)))
                .next_back();
            match latest {
                None => Err(no_value(field)),
                Some((_, v)) if values.iter().any(|x| x == v) => Ok(Value::from(v)),
                Some(_) => Err((
                    WithheldReason::NotInVocabulary,
                    format!("the latest {field} is not one of the declared values"),
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Properties of [`derive`] over random record sets and random windows (`spec/derivations.md`
    //! §3), for every definition of the shipped derivations (each set, each category). Amounts
    //! carry fen that are never `.00`, as real amounts do.
    use super::*;
    use crate::catalog::Catalog;
    use proptest::prelude::*;
    use serde_json::json;

    fn day(y: i32, m: u8, d: u8) -> Date {
        Month::try_from(m)
            .ok()
            .and_then(|m| Date::from_calendar_date(y, m, d).ok())
            .unwrap_or(Date::MIN)
    }

    /// Every definition of the shipped derivations (`spec/derivations.json`): each set, each
    /// category, with the set's catalog version.
    fn definitions() -> Vec<(String, String, Derivation)> {
        Catalog::builtin()
            .derivations()
            .sets()
            .iter()
            .flat_map(|set| {
                set.categories
                    .iter()
                    .map(|(code, d)| (set.catalog_version.clone(), code.clone(), d.clone()))
            })
            .collect()
    }

    /// The fields a definition reads: numeric ones, and categorical ones with their vocabulary.
    fn fields_of(d: &Derivation) -> (Vec<&str>, Vec<(&str, &[String])>) {
        let mut numeric = BTreeSet::new();
        let mut categorical = vec![];
        for i in &d.indicators {
            match i {
                Indicator::Sum { field, .. }
                | Indicator::Mean { field, .. }
                | Indicator::Trend { field, .. } => {
                    numeric.insert(field.as_str());
                }
                Indicator::MonthsWhere { test, .. } => {
                    numeric.insert(test.field.as_str());
                }
                Indicator::Ratio {
                    numerator,
                    denominator,
                    ..
                } => {
                    numeric.insert(numerator.as_str());
                    numeric.insert(denominator.as_str());
                }
                Indicator::Latest { field, values, .. } => {
                    categorical.push((field.as_str(), values.as_slice()))
                }
                Indicator::Count { .. } | Indicator::Periods { .. } => {}
            }
        }
        (numeric.into_iter().collect(), categorical)
    }

    /// One random row: (year offset, month, day, six fen-carrying amounts each possibly absent, a
    /// vocabulary pick).
    type Row = (i32, u8, u8, Vec<Option<(u32, u32)>>, usize);

    fn rows() -> impl Strategy<Value = Vec<Row>> {
        proptest::collection::vec(
            (
                0i32..3,
                1u8..=12,
                1u8..=28,
                proptest::collection::vec(proptest::option::weighted(0.9, (100u32..900_000, 1u32..99)), 6),
                0usize..16,
            ),
            0..60,
        )
    }

    /// The rows as records of `d`'s fields: the k-th numeric field takes the k-th amount (mod 6;
    /// a ratio's denominator in thousands, so ratios stay below 10 while raw amounts are at least
    /// 100), a categorical field a word of its vocabulary.
    fn records_for(d: &Derivation, rows: &[Row]) -> Vec<(String, Map<String, Value>)> {
        let (numeric, categorical) = fields_of(d);
        let denominators: Vec<&str> = d
            .indicators
            .iter()
            .filter_map(|i| match i {
                Indicator::Ratio { denominator, .. } => Some(denominator.as_str()),
                _ => None,
            })
            .collect();
        rows.iter()
            .map(|(y, m, day, amounts, pick)| {
                let mut f = Map::new();
                for (k, name) in numeric.iter().enumerate() {
                    if let Some((a, fen)) = amounts[k % amounts.len()] {
                        // A ratio's denominator is the larger amount, as sales are to tax.
                        let scale = if denominators.contains(name) { 1000.0 } else { 1.0 };
                        f.insert(
                            (*name).to_owned(),
                            json!(f64::from(a) * scale + f64::from(fen) / 100.0),
                        );
                    }
                }
                for (name, vocab) in &categorical {
                    f.insert((*name).to_owned(), json!(vocab[pick % vocab.len()]));
                }
                (format!("{:04}-{m:02}-{day:02}", 2022 + y), f)
            })
            .collect()
    }

    fn window() -> impl Strategy<Value = (Date, Date)> {
        (0i32..3, 1u8..=12, 1u8..=28, 0i32..3, 1u8..=12, 1u8..=28).prop_map(|(y1, m1, d1, y2, m2, d2)| {
            let (a, b) = (day(2022 + y1, m1, d1), day(2022 + y2, m2, d2));
            (a.min(b), a.max(b))
        })
    }

    fn run(
        (version, code, d): &(String, String, Derivation),
        records: &[(String, Map<String, Value>)],
        (from, until): (Date, Date),
    ) -> Derived {
        let input: Vec<Record<'_>> = records
            .iter()
            .map(|(date, fields)| Record { date, fields })
            .collect();
        derive(d, version, code, &input, from, until, day(2026, 12, 6))
    }

    fn on_lattice(x: f64, unit: f64) -> bool {
        let k = x / unit;
        (k - k.round()).abs() < 1e-6
    }

    fn raw_numbers(records: &[(String, Map<String, Value>)]) -> Vec<f64> {
        records
            .iter()
            .flat_map(|(_, f)| f.values().filter_map(Value::as_f64))
            .collect()
    }

    proptest! {
        // Each case runs every definition; 128 cases keep the three properties to about a second.
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn every_figure_is_on_its_lattice_and_no_raw_value(rs in rows(), w in window()) {
            let all = definitions();
            prop_assert!(all.len() >= 14, "the shipped definitions: {}", all.len());
            for def in &all {
                let (_, code, d) = def;
                let records = records_for(d, &rs);
                let out = run(def, &records, w);
                let declared: BTreeSet<&str> = d.indicators.iter().map(Indicator::id).collect();
                for id in out.indicators.keys() {
                    prop_assert!(declared.contains(id.as_str()), "{code}: undeclared {id}");
                }
                let raw = raw_numbers(&records);
                for ind in &d.indicators {
                    let Some(v) = out.indicators.get(ind.id()) else { continue };
                    let id = ind.id();
                    match ind {
                        Indicator::Sum { coarsen: Coarsen::RoundTo(u), .. } | Indicator::Mean { coarsen: Coarsen::RoundTo(u), .. } => {
                            prop_assert!(on_lattice(v.as_f64().unwrap_or(f64::NAN), *u), "{code} {id} = {v}");
                        }
                        Indicator::Sum { coarsen: Coarsen::Bands(edges), .. } | Indicator::Mean { coarsen: Coarsen::Bands(edges), .. } => {
                            let band = v.as_object().cloned().unwrap_or_default();
                            prop_assert!(!band.is_empty() && band.keys().all(|k| k == "from" || k == "below"), "{code} {id} = {v}");
                            for edge in band.values() {
                                prop_assert!(edges.iter().any(|e| Some(*e) == edge.as_f64()), "{code} {id} = {v}");
                            }
                        }
                        Indicator::Ratio { step, .. } => {
                            prop_assert!(on_lattice(v.as_f64().unwrap_or(f64::NAN), *step), "{code} {id} = {v}");
                        }
                        Indicator::Trend { .. } => {
                            prop_assert!(["rising", "stable", "falling"].contains(&v.as_str().unwrap_or("")), "{code} {id} = {v}");
                        }
                        Indicator::Latest { values, .. } => {
                            prop_assert!(values.iter().any(|x| Some(x.as_str()) == v.as_str()), "{code} {id} = {v}");
                        }
                        Indicator::Count { .. } | Indicator::Periods { .. } | Indicator::MonthsWhere { .. } => {
                            prop_assert!(v.as_u64().is_some(), "{code} {id} = {v}");
                        }
                    }
                    let mut numbers = vec![];
                    if let Some(x) = v.as_f64() {
                        numbers.push(x);
                    }
                    numbers.extend(v.as_object().into_iter().flat_map(|m| m.values().filter_map(Value::as_f64)));
                    for x in numbers {
                        if let Indicator::Sum { coarsen: Coarsen::Bands(_), .. } | Indicator::Mean { coarsen: Coarsen::Bands(_), .. } = ind {
                            // A band edge is a declared constant, not a computed value.
                            continue;
                        }
                        prop_assert!(!raw.contains(&x), "{code} {id} = {v} is a raw value");
                    }
                }
            }
        }

        #[test]
        fn only_whole_thresholded_blocks_count(rs in rows(), w in window()) {
            for def in &definitions() {
                let (_, code, d) = def;
                let records = records_for(d, &rs);
                let out = run(def, &records, w);
                // Each released block reaches the threshold.
                for label in &out.released_blocks {
                    let inside: Vec<&(String, Map<String, Value>)> = records.iter().filter(|(date, _)| {
                        crate::grant::rules::parse_date(date).is_some_and(|x| block_label(d.block, block_of(d.block, x)) == *label)
                    }).collect();
                    let months: BTreeSet<&str> = inside.iter().map(|(date, _)| &date[..7]).collect();
                    prop_assert!(inside.len() >= d.min_records as usize && months.len() >= d.min_periods as usize, "{code} {label}");
                }
                // Records outside the released window do not matter: dropping them changes nothing.
                let span = out.window.clone();
                let kept: Vec<_> = records.iter().filter(|(date, _)| span.as_ref().is_some_and(|s| *date >= s.from && *date <= s.until)).cloned().collect();
                let again = run(def, &kept, w);
                prop_assert_eq!(&again, &out, "{}", code);
                if out.released_blocks.is_empty() {
                    prop_assert!(out.indicators.is_empty(), "{code}: {:?}", out.indicators);
                }
            }
        }

        #[test]
        fn two_windows_never_difference_to_one_record(rs in rows(), w1 in window(), w2 in window()) {
            for def in &definitions() {
                let (_, code, d) = def;
                let records = records_for(d, &rs);
                let (a, b) = (run(def, &records, w1), run(def, &records, w2));
                let raw = raw_numbers(&records);
                for ind in d.indicators.iter().filter(|i| i.is_numeric()) {
                    let (Some(x), Some(y)) = (
                        a.indicators.get(ind.id()).and_then(Value::as_f64),
                        b.indicators.get(ind.id()).and_then(Value::as_f64),
                    ) else { continue };
                    for r in &raw {
                        prop_assert!(((x - y).abs() - r).abs() > 1e-6, "{code} {}: {x} − {y} = a record's {r}", ind.id());
                    }
                }
            }
        }
    }

    #[test]
    fn ratios_round_down_to_their_step() {
        for (x, step, want) in [
            (0.29, 0.01, "0.29"),
            (0.47, 0.01, "0.47"),
            (0.145, 0.005, "0.145"),
            (0.2999, 0.01, "0.29"),
            (0.0, 0.01, "0"),
        ] {
            let got = tidy(floor_to(x, step), decimals(step)).map(|v| v.to_string());
            assert_eq!(got.as_deref(), Some(want), "{x} / {step}");
        }
    }

    #[test]
    fn bands_and_rounding() {
        let bands = Coarsen::Bands(vec![0.0, 100_000.0, 500_000.0]);
        assert_eq!(coarsen(-1.0, &bands), Some(json!({"below": 0})));
        assert_eq!(
            coarsen(99_999.99, &bands),
            Some(json!({"from": 0, "below": 100_000}))
        );
        assert_eq!(
            coarsen(100_000.0, &bands),
            Some(json!({"from": 100_000, "below": 500_000}))
        );
        assert_eq!(coarsen(7e6, &bands), Some(json!({"from": 500_000})));
        assert_eq!(coarsen(12_345.67, &Coarsen::RoundTo(1000.0)), Some(json!(12_000)));
        assert_eq!(coarsen(0.123, &Coarsen::RoundTo(0.05)), Some(json!(0.1)));
        assert_eq!(coarsen(f64::INFINITY, &Coarsen::RoundTo(1.0)), None);
    }

    #[test]
    fn blocks_are_aligned() {
        assert_eq!(
            block_label(Block::Quarter, block_of(Block::Quarter, day(2025, 5, 3))),
            "2025-Q2"
        );
        assert_eq!(
            block_label(Block::HalfYear, block_of(Block::HalfYear, day(2025, 7, 1))),
            "2025-H2"
        );
        assert_eq!(block_end(Block::Quarter, (2024, 0)), Some(day(2024, 3, 31)));
        assert_eq!(prev_block(Block::Quarter, (2025, 0)), (2024, 3));
        assert_eq!(next_block(Block::Year, (2025, 0)), (2026, 0));
        // A period that holds no whole block.
        let d = Catalog::builtin().derivation(None, "TAX-03").map(|(_, d)| d);
        let d = d.unwrap_or_else(crate::derivation::public_default);
        assert_eq!(
            whole_blocks(&d, day(2024, 2, 1), day(2024, 4, 30), day(2026, 1, 1)),
            None
        );
    }
}
