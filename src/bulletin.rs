//! The monthly bulletin (通报; the measures §1.4, §20; `spec/loans.md` §6): the province's figures
//! of one month — enterprises registered, data released per providing department, loans by region,
//! platform and bank — computed **from access-log entries only**, so that anyone holding the entries
//! (a regulator through the audit API) recomputes the archived bulletin byte for byte.
//!
//! [`compute`] is a pure function of the entries below the bulletin's `logSize`:
//! - `enterprises`: `participant` entries with decision `registration-approved` whose participant is
//!   an enterprise, dated in the month (CST), by 设区市 ([`crate::region`]);
//! - `releases`: `release` entries dated in the month, by the enterprise's 设区市 and by providing
//!   department (a release counts once for each department whose category it carried);
//! - `loans`: `loan-report` entries whose event day (`on`) lies in the month, replayed in log order
//!   through [`crate::loan::LoanState::after`] for what each event changed; `balance` counts every
//!   event up to the month's last day.
//!
//! [`Bulletin::canonical`] is the JCS form (RFC 8785) the node signs; [`Bulletin::to_csv`] the same
//! figures as one `section,group,key,name,figure,value` row each.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::loan::{Counts, Loan, LoanReport, LoanState, parse_day};
use crate::log::entry::{AccessRecord, EntryKind};
use crate::region::Regions;

/// The bulletin's `type`.
pub const TYPE: &str = "consentry-monthly-bulletin";

/// One access-log entry as the bulletin reads it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its index.
    pub index: u64,
    /// Its kind.
    pub kind: EntryKind,
    /// Its time, ms since the epoch.
    pub time_ms: i64,
    /// Its record.
    pub record: AccessRecord,
}

/// Why a month cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("month {0:?}: a month is YYYY-MM")]
pub struct BadMonth(pub String);

/// A month's bounds: its first and last day, and its first and next-month's first instant (ms,
/// China Standard Time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month {
    /// The first day.
    pub first: time::Date,
    /// The last day.
    pub last: time::Date,
    /// 00:00 CST of the first day, ms.
    pub start_ms: i64,
    /// 00:00 CST of the next month's first day, ms.
    pub end_ms: i64,
}

const DAY_MS: i64 = 86_400_000;
const CST_MS: i64 = 8 * 3_600_000;

fn day_start_ms(d: time::Date) -> i64 {
    i64::from(d.to_julian_day() - 2_440_588) * DAY_MS - CST_MS
}

impl Month {
    /// Parses `YYYY-MM`.
    pub fn parse(s: &str) -> Result<Self, BadMonth> {
        let bad = || BadMonth(s.to_owned());
        if s.len() != 7 {
            return Err(bad());
        }
        let first = parse_day(&format!("{s}-01")).ok_or_else(bad)?;
        let next = if first.month() == time::Month::December {
            time::Date::from_calendar_date(first.year() + 1, time::Month::January, 1)
        } else {
            time::Date::from_calendar_date(first.year(), first.month().next(), 1)
        }
        .map_err(|_| bad())?;
        let last = next.previous_day().ok_or_else(bad)?;
        Ok(Self {
            first,
            last,
            start_ms: day_start_ms(first),
            end_ms: day_start_ms(next),
        })
    }

    /// `YYYY-MM`.
    pub fn name(&self) -> String {
        format!("{:04}-{:02}", self.first.year(), u8::from(self.first.month()))
    }

    /// The month after this one.
    pub fn next(&self) -> Option<Self> {
        let first = self.last.next_day()?;
        Self::parse(&format!("{:04}-{:02}", first.year(), u8::from(first.month()))).ok()
    }

    /// The month holding instant `ms` (CST).
    pub fn holding(ms: i64) -> Option<Self> {
        let day = (ms + CST_MS).div_euclid(DAY_MS);
        let date = time::Date::from_julian_day(i32::try_from(day + 2_440_588).ok()?).ok()?;
        Self::parse(&format!("{:04}-{:02}", date.year(), u8::from(date.month()))).ok()
    }

    /// The last month that has ended at `ms` (CST): the month before the one holding `ms`.
    pub fn last_ended(ms: i64) -> Option<Self> {
        let day = (ms + CST_MS).div_euclid(DAY_MS);
        let date = time::Date::from_julian_day(i32::try_from(day + 2_440_588).ok()?).ok()?;
        let prev = date.replace_day(1).ok()?.previous_day()?;
        Self::parse(&format!("{:04}-{:02}", prev.year(), u8::from(prev.month()))).ok()
    }
}

/// Counts of one group, and what is outstanding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoanFigures {
    /// The events' counts ([`crate::loan::Counts`]).
    #[serde(flatten)]
    pub counts: Counts,
    /// Yuan outstanding at the month's end (from the first report on).
    pub balance: i64,
}

/// One group's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoanRow {
    /// The group's key (a region code, a platform or bank USCC; `total`).
    pub key: String,
    /// A region's name (regions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The figures.
    #[serde(flatten)]
    pub figures: LoanFigures,
    /// `creditAmount / approvedAmount` to 4 decimals, as a decimal string; null without approvals.
    pub credit_share: Option<String>,
}

/// A count by region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionCount {
    /// 设区市 code, or `000000`.
    pub region: String,
    /// Its name.
    pub name: String,
    /// How many.
    pub count: i64,
}

/// Releases of one providing department's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentCount {
    /// The department's code in the catalog.
    pub department: String,
    /// Releases that carried its data.
    pub releases: i64,
    /// Categories of its data released (a release of two of its categories counts two).
    pub categories: i64,
}

/// Enterprise registrations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Enterprises {
    /// Approved in the month.
    pub registered: i64,
    /// By region.
    pub by_region: Vec<RegionCount>,
}

/// Releases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Releases {
    /// Releases in the month.
    pub total: i64,
    /// By the enterprise's region.
    pub by_region: Vec<RegionCount>,
    /// By providing department.
    pub by_department: Vec<DepartmentCount>,
}

/// Loans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Loans {
    /// All together.
    pub total: LoanRow,
    /// By the enterprise's 设区市.
    pub by_region: Vec<LoanRow>,
    /// By platform.
    pub by_platform: Vec<LoanRow>,
    /// By bank.
    pub by_bank: Vec<LoanRow>,
}

/// The bulletin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bulletin {
    /// [`TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// 1.
    pub version: u32,
    /// The log's origin.
    pub origin: String,
    /// `YYYY-MM`.
    pub month: String,
    /// Entries with index below this were read.
    pub log_size: u64,
    /// Enterprise registrations.
    pub enterprises: Enterprises,
    /// Releases.
    pub releases: Releases,
    /// Loans.
    pub loans: Loans,
}

fn share(f: &LoanFigures) -> Option<String> {
    f.counts
        .credit_share_bp()
        .map(|bp| format!("{}.{:04}", bp / 10_000, bp % 10_000))
}

fn rows(map: BTreeMap<String, LoanFigures>, named: bool) -> Vec<LoanRow> {
    let regions = Regions::jiangsu();
    map.into_iter()
        .map(|(key, figures)| LoanRow {
            name: named.then(|| regions.name_of_key(&key).to_owned()),
            credit_share: share(&figures),
            key,
            figures,
        })
        .collect()
}

fn region_counts(map: BTreeMap<String, i64>) -> Vec<RegionCount> {
    let regions = Regions::jiangsu();
    map.into_iter()
        .map(|(region, count)| RegionCount {
            name: regions.name_of_key(&region).to_owned(),
            region,
            count,
        })
        .collect()
}

/// The bulletin of `month` from `entries` (any order; only those with index below `log_size`
/// count).
pub fn compute(origin: &str, month: &Month, log_size: u64, entries: &[Entry]) -> Bulletin {
    let regions = Regions::jiangsu();
    let mut sorted: Vec<&Entry> = entries.iter().filter(|e| e.index < log_size).collect();
    sorted.sort_by_key(|e| e.index);
    sorted.dedup_by_key(|e| e.index);
    let in_month = |t: i64| t >= month.start_ms && t < month.end_ms;

    let (mut registered, mut reg_by_region) = (0, BTreeMap::<String, i64>::new());
    let (mut released, mut rel_by_region) = (0, BTreeMap::<String, i64>::new());
    let mut by_department: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut total = LoanFigures::default();
    let (mut l_region, mut l_platform, mut l_bank) = (
        BTreeMap::<String, LoanFigures>::new(),
        BTreeMap::<String, LoanFigures>::new(),
        BTreeMap::<String, LoanFigures>::new(),
    );
    let mut loans: BTreeMap<(String, String), Loan> = BTreeMap::new();
    for e in sorted {
        let enterprise = e.record.enterprise.clone().unwrap_or_default();
        match e.kind {
            EntryKind::Participant if in_month(e.time_ms) => {
                let approved = e.record.decision.as_deref() == Some("registration-approved");
                let role = e
                    .record
                    .detail
                    .as_ref()
                    .and_then(|d| d["participant"]["role"].as_str().map(str::to_owned));
                if approved && role.as_deref() == Some("enterprise") {
                    let uscc = e
                        .record
                        .detail
                        .as_ref()
                        .and_then(|d| d["participant"]["uscc"].as_str().map(str::to_owned))
                        .unwrap_or(enterprise);
                    registered += 1;
                    *reg_by_region.entry(regions.key_of(&uscc).to_owned()).or_default() += 1;
                }
            }
            EntryKind::Release if in_month(e.time_ms) => {
                released += 1;
                *rel_by_region
                    .entry(regions.key_of(&enterprise).to_owned())
                    .or_default() += 1;
                let mut seen: Vec<&str> = Vec::new();
                for c in &e.record.categories {
                    for p in &c.providers {
                        let d = by_department.entry(p.clone()).or_default();
                        d.1 += 1;
                        if !seen.contains(&p.as_str()) {
                            seen.push(p);
                            d.0 += 1;
                        }
                    }
                }
            }
            EntryKind::LoanReport => {
                let Some(report) = e
                    .record
                    .detail
                    .as_ref()
                    .and_then(|d| serde_json::from_value::<LoanReport>(d["report"].clone()).ok())
                else {
                    continue;
                };
                let Some(day) = parse_day(report.event.on()) else {
                    continue;
                };
                let bank = e.record.bank.clone().unwrap_or_default();
                let key = (bank.clone(), report.loan.clone());
                let Ok((after, delta)) = LoanState::after(loans.get(&key), &report.event, day) else {
                    continue;
                };
                loans.insert(key, after);
                if day > month.last {
                    continue;
                }
                let f = LoanFigures {
                    counts: if day >= month.first {
                        Counts::of(&report.event, &delta)
                    } else {
                        Counts::default()
                    },
                    balance: delta.disbursed - delta.repaid,
                };
                let platform = e.record.platform.clone().unwrap_or_default();
                let region = regions.key_of(&report.enterprise).to_owned();
                for target in [
                    &mut total,
                    l_region.entry(region).or_default(),
                    l_platform.entry(platform).or_default(),
                    l_bank.entry(bank).or_default(),
                ] {
                    add(target, &f);
                }
            }
            _ => {}
        }
    }
    Bulletin {
        kind: TYPE.into(),
        version: 1,
        origin: origin.to_owned(),
        month: month.name(),
        log_size,
        enterprises: Enterprises {
            registered,
            by_region: region_counts(reg_by_region),
        },
        releases: Releases {
            total: released,
            by_region: region_counts(rel_by_region),
            by_department: by_department
                .into_iter()
                .map(|(department, (releases, categories))| DepartmentCount {
                    department,
                    releases,
                    categories,
                })
                .collect(),
        },
        loans: Loans {
            total: LoanRow {
                key: "total".into(),
                name: None,
                credit_share: share(&total),
                figures: total,
            },
            by_region: rows(l_region, true),
            by_platform: rows(l_platform, false),
            by_bank: rows(l_bank, false),
        },
    }
}

fn add(a: &mut LoanFigures, b: &LoanFigures) {
    a.counts.add(&b.counts);
    a.balance += b.balance;
}

impl Bulletin {
    /// The bytes the node signs: the JCS form (RFC 8785) of the bulletin.
    pub fn canonical(&self) -> Vec<u8> {
        let v = serde_json::to_value(self).unwrap_or(Value::Null);
        crate::crypto::jcs::canonicalize(&v).unwrap_or_default()
    }

    /// The figures as CSV (RFC 4180, CRLF): `section,group,key,name,figure,value`, one figure a row.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("section,group,key,name,figure,value\r\n");
        let mut row = |section: &str, group: &str, key: &str, name: &str, figure: &str, value: String| {
            out += &[section, group, key, name, figure, &value].join(",");
            out += "\r\n";
        };
        row(
            "enterprises",
            "total",
            "total",
            "",
            "registered",
            self.enterprises.registered.to_string(),
        );
        for r in &self.enterprises.by_region {
            row(
                "enterprises",
                "region",
                &r.region,
                &r.name,
                "registered",
                r.count.to_string(),
            );
        }
        row(
            "releases",
            "total",
            "total",
            "",
            "releases",
            self.releases.total.to_string(),
        );
        for r in &self.releases.by_region {
            row(
                "releases",
                "region",
                &r.region,
                &r.name,
                "releases",
                r.count.to_string(),
            );
        }
        for d in &self.releases.by_department {
            row(
                "releases",
                "department",
                &d.department,
                "",
                "releases",
                d.releases.to_string(),
            );
            row(
                "releases",
                "department",
                &d.department,
                "",
                "categories",
                d.categories.to_string(),
            );
        }
        let groups: [(&str, &[LoanRow]); 4] = [
            ("total", std::slice::from_ref(&self.loans.total)),
            ("region", &self.loans.by_region),
            ("platform", &self.loans.by_platform),
            ("bank", &self.loans.by_bank),
        ];
        for (group, list) in groups {
            for r in list {
                let (f, balance) = (&r.figures.counts, r.figures.balance);
                let name = r.name.clone().unwrap_or_default();
                for (figure, value) in [
                    ("applications", f.applications),
                    ("approvals", f.approvals),
                    ("approvedAmount", f.approved_amount),
                    ("creditApprovals", f.credit_approvals),
                    ("creditAmount", f.credit_amount),
                    ("firstLoans", f.first_loans),
                    ("disbursed", f.disbursed),
                    ("repaid", f.repaid),
                    ("overdueEvents", f.overdue_events),
                    ("defaults", f.defaults),
                    ("defaulted", f.defaulted),
                    ("balance", balance),
                ] {
                    row("loans", group, &r.key, &name, figure, value.to_string());
                }
                row(
                    "loans",
                    group,
                    &r.key,
                    &name,
                    "creditShare",
                    r.credit_share.clone().unwrap_or_default(),
                );
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::log::entry::CategoryRef;
    use serde_json::json;

    fn loan_entry(index: u64, bank: &str, loan: &str, event: Value) -> Entry {
        Entry {
            index,
            kind: EntryKind::LoanReport,
            time_ms: 0,
            record: AccessRecord {
                enterprise: Some("91320100MA1MX3XA9M".into()),
                bank: Some(bank.into()),
                platform: Some("P".into()),
                detail: Some(json!({"report": {"reportId": format!("r{index}"), "loan": loan,
                    "enterprise": "91320100MA1MX3XA9M", "grant": "g", "releases": [1], "event": event}})),
                ..Default::default()
            },
        }
    }

    #[test]
    fn months_have_their_bounds() {
        let m = Month::parse("2026-12").unwrap();
        assert_eq!(m.last.to_string(), "2026-12-31");
        // 2026-12-01T00:00+08:00 = 2026-11-30T16:00Z.
        assert_eq!(m.start_ms, 1_796_054_400_000);
        assert_eq!(m.end_ms - m.start_ms, 31 * DAY_MS);
        assert_eq!(Month::parse("2024-02").unwrap().last.to_string(), "2024-02-29");
        for bad in ["2026-13", "2026-1", "26-12", "2026-12-01", ""] {
            assert!(Month::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Month::last_ended(m.start_ms).unwrap().name(), "2026-11");
        assert_eq!(m.next().unwrap().name(), "2027-01");
        assert_eq!(Month::holding(m.start_ms).unwrap().name(), "2026-12");
        assert_eq!(Month::holding(m.start_ms - 1).unwrap().name(), "2026-11");
        assert_eq!(Month::last_ended(m.start_ms - 1).unwrap().name(), "2026-10");
    }

    #[test]
    fn loans_count_by_event_day_and_balances_run_from_the_start() {
        let m = Month::parse("2026-11").unwrap();
        let approve = |on: &str| {
            json!({"type": "decision", "decision": "approved", "amount": 1000, "termMonths": 6,
            "rateBand": "4-5", "security": "credit", "firstLoan": true, "on": on})
        };
        let entries = vec![
            loan_entry(1, "B", "L1", approve("2026-10-20")),
            loan_entry(
                2,
                "B",
                "L1",
                json!({"type": "disbursement", "amount": 800, "on": "2026-10-21"}),
            ),
            loan_entry(
                3,
                "B",
                "L1",
                json!({"type": "repayment", "status": "on-time", "amount": 100, "on": "2026-11-21"}),
            ),
            loan_entry(4, "B", "L2", approve("2026-11-02")),
            // Out of order in the log: ignored, as the node refused it.
            loan_entry(
                5,
                "B",
                "L3",
                json!({"type": "disbursement", "amount": 5, "on": "2026-11-03"}),
            ),
            // After the month: not counted, not in the balance.
            loan_entry(
                6,
                "B",
                "L2",
                json!({"type": "disbursement", "amount": 300, "on": "2026-12-01"}),
            ),
            // Beyond the bulletin's log size.
            loan_entry(
                9,
                "B",
                "L1",
                json!({"type": "repayment", "status": "on-time", "amount": 1, "on": "2026-11-22"}),
            ),
        ];
        let b = compute("o", &m, 9, &entries);
        let t = &b.loans.total;
        assert_eq!(t.figures.counts.applications, 1);
        assert_eq!(t.figures.counts.repaid, 100);
        assert_eq!(t.figures.balance, 700);
        assert_eq!(t.credit_share.as_deref(), Some("1.0000"));
        assert_eq!(b.loans.by_region[0].key, "320100");
        assert_eq!(b.loans.by_region[0].name.as_deref(), Some("南京市"));
        // The order of the input does not matter; the bytes are the same.
        let mut shuffled = entries.clone();
        shuffled.reverse();
        assert_eq!(compute("o", &m, 9, &shuffled).canonical(), b.canonical());
        assert!(
            b.to_csv().contains("loans,region,320100,南京市,balance,700\r\n"),
            "{}",
            b.to_csv()
        );
    }

    #[test]
    fn releases_count_per_department_once_per_release() {
        let m = Month::parse("2026-11").unwrap();
        let cat = |code: &str, p: &[&str]| CategoryRef {
            code: code.into(),
            granularity: "derived".into(),
            providers: p.iter().map(|s| (*s).to_owned()).collect(),
        };
        let e = Entry {
            index: 0,
            kind: EntryKind::Release,
            time_ms: m.start_ms,
            record: AccessRecord {
                enterprise: Some("91320281MA1MX3XA95".into()),
                categories: vec![
                    cat("TAX-01", &["STA"]),
                    cat("TAX-03", &["STA"]),
                    cat("SOC-01", &["MOHRSS"]),
                ],
                ..Default::default()
            },
        };
        let mut before = e.clone();
        before.index = 1;
        before.time_ms = m.start_ms - 1;
        let b = compute("o", &m, 2, &[e, before]);
        assert_eq!(b.releases.total, 1);
        assert_eq!(b.releases.by_region[0].name, "无锡市");
        let sta = b
            .releases
            .by_department
            .iter()
            .find(|d| d.department == "STA")
            .unwrap();
        assert_eq!((sta.releases, sta.categories), (1, 2));
    }
}
