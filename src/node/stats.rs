//! Monitoring statistics (issue 6 §3; definitions in spec/statistics.md): registered enterprises,
//! grants by state, releases / refusals / onward releases by day, platform, bank and category, and
//! objections by state and deadline — read from the rollups of [`crate::storage::stats`], never by
//! scanning the access log or the grants table, as JSON or RFC 4180 CSV.
//!
//! Who sees what (least privilege, spec/statistics.md §6): the node and regulators see every figure;
//! a platform sees only access rows where it is the platform (and the objections it received); a bank
//! only access rows where it is the bank; enterprises are refused (their own history is
//! `GET /v1/log/entries`).

use std::collections::BTreeMap;

use serde_json::Value;

use super::answers::stats as answer;
use super::objections::ObjectionState;
use super::{Caller, Node};
use crate::error::{Error, Result};
use crate::grant::GrantState;
use crate::log::entry::EntryKind;
use crate::policy::{ParticipantState, Role};
use crate::storage::stats::{
    self as rollups, AccessQuery, AccessRow, COUNTED_KINDS, GrantCounts, GroupBy, ObjectionCounts,
};

/// The calendar date (`YYYY-MM-DD`) of a CST day number, as [`Period`]'s ends are numbered (for
/// file names and labels).
pub use crate::storage::stats::day_date;

/// Longest period a query may span, in days (about ten years).
pub const MAX_DAYS: i64 = 3_660;
/// Days in the default period (ending today, CST).
pub const DEFAULT_DAYS: i64 = 30;
/// Most rows one answer may hold; a query that would return more is refused (`stats-too-large`).
pub const MAX_ROWS: usize = 100_000;

/// Participant states, in the order figures list them.
pub const PARTICIPANT_STATES: [&str; 5] = [
    ParticipantState::ALL[0].as_str(),
    ParticipantState::ALL[1].as_str(),
    ParticipantState::ALL[2].as_str(),
    ParticipantState::ALL[3].as_str(),
    ParticipantState::ALL[4].as_str(),
];
/// Objection states, in the order figures list them.
pub const OBJECTION_STATES: [&str; 5] = [
    ObjectionState::Received.as_str(),
    ObjectionState::Forwarded.as_str(),
    ObjectionState::UnderReview.as_str(),
    ObjectionState::Corrected.as_str(),
    ObjectionState::Rejected.as_str(),
];

/// Which rows a caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Everything (the node, regulators).
    All,
    /// Access rows where this USCC is the platform; objections it received.
    Platform(String),
    /// Access rows where this USCC is the bank.
    Bank(String),
}

impl Scope {
    /// The scope of an authenticated caller: node and regulators see all, a platform or bank its
    /// own rows; enterprises (and callers not `active`) are refused.
    pub fn of(caller: &Caller) -> Result<Self> {
        caller.require(&[Role::Node, Role::Regulator, Role::Platform, Role::Bank])?;
        Ok(match caller.role {
            Role::Platform => Self::Platform(caller.uscc().to_owned()),
            Role::Bank => Self::Bank(caller.uscc().to_owned()),
            _ => Self::All,
        })
    }

    fn answer(&self) -> answer::StatsScope {
        let (kind, uscc) = match self {
            Self::All => ("all", None),
            Self::Platform(u) => ("platform", Some(u.clone())),
            Self::Bank(u) => ("bank", Some(u.clone())),
        };
        answer::StatsScope { kind, uscc }
    }
}

/// A period of whole CST days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First day (CST day number).
    pub from_day: i64,
    /// Last day (CST day number).
    pub until_day: i64,
}

impl Period {
    /// The period `from`..=`until` (`YYYY-MM-DD`, CST calendar days). Missing ends default to: until
    /// today, from 29 days before `until`. Refused (`invalid-stats-query`): a malformed date, `from`
    /// after `until`, more than [`MAX_DAYS`] days.
    pub fn parse(from: Option<&str>, until: Option<&str>, now_ms: i64) -> Result<Self> {
        let date = |name: &str, v: &str| {
            rollups::parse_date(v).ok_or_else(|| {
                Error::invalid(
                    "invalid-stats-query",
                    format!("{name}={v:?} is not a calendar date YYYY-MM-DD (1970 or later)"),
                )
            })
        };
        let until_day = match until {
            Some(u) => date("until", u)?,
            None => rollups::cst_day(now_ms),
        };
        let from_day = match from {
            Some(f) => date("from", f)?,
            None => until_day - (DEFAULT_DAYS - 1),
        }
        .max(0);
        if from_day > until_day {
            return Err(Error::invalid(
                "invalid-stats-query",
                format!(
                    "from ({}) is after until ({})",
                    rollups::day_date(from_day),
                    rollups::day_date(until_day)
                ),
            ));
        }
        if until_day - from_day + 1 > MAX_DAYS {
            return Err(Error::invalid(
                "invalid-stats-query",
                format!("the period spans more than {MAX_DAYS} days"),
            ));
        }
        Ok(Self { from_day, until_day })
    }

    /// Days in the period.
    pub fn days(&self) -> i64 {
        self.until_day - self.from_day + 1
    }

    fn answer(self) -> answer::StatsPeriod {
        answer::StatsPeriod {
            from: rollups::day_date(self.from_day),
            until: rollups::day_date(self.until_day),
            days: self.days(),
        }
    }
}

/// The figures for JSON member names and CSV `kind` values: entry kind byte → name.
fn kind_name(k: i16) -> &'static str {
    u8::try_from(k)
        .ok()
        .and_then(EntryKind::from_u8)
        .map_or("unknown", EntryKind::as_str)
}

/// The camelCase member a kind's count goes in, in per-group objects.
fn kind_member(k: i16) -> &'static str {
    match u8::try_from(k).ok().and_then(EntryKind::from_u8) {
        Some(EntryKind::Release) => "releases",
        Some(EntryKind::Refusal) => "refusals",
        Some(EntryKind::OnwardRelease) => "onwardReleases",
        _ => "other",
    }
}

fn kind_byte(k: EntryKind) -> i16 {
    i16::from(k as u8)
}

/// Counts of one group (a day, a platform…) per counted kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindCounts {
    /// Releases.
    pub releases: i64,
    /// Refusals.
    pub refusals: i64,
    /// Onward releases.
    pub onward_releases: i64,
}

impl KindCounts {
    fn add(&mut self, kind: i16, n: i64) {
        match kind_member(kind) {
            "releases" => self.releases += n,
            "refusals" => self.refusals += n,
            "onwardReleases" => self.onward_releases += n,
            _ => {}
        }
    }

    /// The counts under `head` (the group's member, if any).
    fn answer(self, head: answer::StatsKindCounts) -> answer::StatsKindCounts {
        answer::StatsKindCounts {
            releases: self.releases,
            refusals: self.refusals,
            onward_releases: self.onward_releases,
            ..head
        }
    }
}

/// The summary figures (`GET /v1/stats`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// When they were read (ms).
    pub as_of_ms: i64,
    /// The log's size in the same snapshot: the access counts cover exactly its entries.
    pub log_size: i64,
    /// Whose rows.
    pub scope: Scope,
    /// The period of the access figures.
    pub period: Period,
    /// Enterprises by state (scope `All` only).
    pub enterprises: Option<BTreeMap<String, i64>>,
    /// Participants by (role, state) (scope `All` only).
    pub participants: Option<Vec<(String, String, i64)>>,
    /// Grants (scope `All` only).
    pub grants: Option<GrantCounts>,
    /// Access totals over the period.
    pub totals: KindCounts,
    /// Per CST day of the period (every day, zeros included).
    pub by_day: Vec<(i64, KindCounts)>,
    /// Per platform (`""`: none).
    pub by_platform: Vec<(String, KindCounts)>,
    /// Per bank (`""`: none).
    pub by_bank: Vec<(String, KindCounts)>,
    /// Per category (entries naming it).
    pub by_category: Vec<(String, KindCounts)>,
    /// Objections (scope `All`: all; `Platform`: those it received; `Bank`: none).
    pub objections: Option<ObjectionCounts>,
    /// Per providing department (scope `All` only), every catalog provider in code order.
    pub departments: Option<Vec<answer::StatsDepartment>>,
}

fn grouped(rows: &[AccessRow], key: impl Fn(&AccessRow) -> String) -> Vec<(String, KindCounts)> {
    let mut out: BTreeMap<String, KindCounts> = BTreeMap::new();
    for r in rows {
        out.entry(key(r))
            .or_default()
            .add(r.kind.unwrap_or_default(), r.entries);
    }
    out.into_iter().collect()
}

fn too_large() -> Error {
    Error::invalid(
        "stats-too-large",
        format!(
            "the answer would hold more than {MAX_ROWS} rows: narrow the period, the filters or the grouping"
        ),
    )
}

fn scoped(scope: &Scope, mut q: AccessQuery) -> AccessQuery {
    match scope {
        Scope::All => {}
        Scope::Platform(u) => q.platform = Some(u.clone()),
        Scope::Bank(u) => q.bank = Some(u.clone()),
    }
    q
}

fn access_rows(conn: &mut crate::storage::DbConn, q: &AccessQuery) -> Result<Vec<AccessRow>> {
    let rows = rollups::access(conn, q)?;
    if rows.len() > q.limit {
        return Err(too_large());
    }
    Ok(rows)
}

/// Reads the summary for `scope` over `period` in one snapshot (spec/statistics.md §3).
pub async fn summary(node: &Node, scope: Scope, period: Period) -> Result<Summary> {
    let now = node.now_ms();
    let catalog = node.catalog();
    node.store
        .call(move |c| {
            rollups::snapshot(c, |c| -> Result<Summary> {
                let log_size = rollups::log_size(c)?;
                let (enterprises, participants, grants) = if scope == Scope::All {
                    let parts = rollups::participant_counts(c)?;
                    let mut ent: BTreeMap<String, i64> =
                        PARTICIPANT_STATES.iter().map(|s| ((*s).to_owned(), 0)).collect();
                    for (role, state, n) in &parts {
                        if role == "enterprise" {
                            *ent.entry(state.clone()).or_insert(0) += n;
                        }
                    }
                    (Some(ent), Some(parts), Some(rollups::grant_counts(c, now)?))
                } else {
                    (None, None, None)
                };
                let base = scoped(
                    &scope,
                    AccessQuery {
                        from_day: period.from_day,
                        until_day: period.until_day,
                        limit: MAX_ROWS,
                        ..Default::default()
                    },
                );
                let with = |g: GroupBy| AccessQuery {
                    group: g,
                    ..base.clone()
                };
                let days = access_rows(
                    c,
                    &with(GroupBy {
                        day: true,
                        kind: true,
                        ..Default::default()
                    }),
                )?;
                let mut by_day: Vec<(i64, KindCounts)> = (period.from_day..=period.until_day)
                    .map(|d| (d, KindCounts::default()))
                    .collect();
                let mut totals = KindCounts::default();
                for r in &days {
                    let (d, k) = (r.day.unwrap_or_default(), r.kind.unwrap_or_default());
                    if let Some(slot) = usize::try_from(d - period.from_day)
                        .ok()
                        .and_then(|i| by_day.get_mut(i))
                    {
                        slot.1.add(k, r.entries);
                    }
                    totals.add(k, r.entries);
                }
                let dim = |g: GroupBy, c: &mut crate::storage::DbConn| access_rows(c, &with(g));
                let platforms = dim(
                    GroupBy {
                        platform: true,
                        kind: true,
                        ..Default::default()
                    },
                    c,
                )?;
                let banks = dim(
                    GroupBy {
                        bank: true,
                        kind: true,
                        ..Default::default()
                    },
                    c,
                )?;
                let categories = dim(
                    GroupBy {
                        category: true,
                        kind: true,
                        ..Default::default()
                    },
                    c,
                )?;
                let by_category = grouped(&categories, |r| r.category.clone().unwrap_or_default());
                let departments = if scope == Scope::All {
                    let intake = crate::storage::intake::by_provider(c)?;
                    Some(
                        catalog
                            .providers()
                            .map(|p| {
                                let (b, r, h) = intake
                                    .iter()
                                    .find(|x| x.0 == p.id)
                                    .map_or((0, 0, 0), |x| (x.1, x.2, x.3));
                                let released: i64 = by_category
                                    .iter()
                                    .filter(|(code, _)| {
                                        catalog
                                            .category(code)
                                            .is_some_and(|cat| cat.providers.contains(&p.id))
                                    })
                                    .map(|(_, k)| k.releases)
                                    .sum();
                                answer::StatsDepartment {
                                    provider: p.id.clone(),
                                    batches: b,
                                    records_received: r,
                                    records_already_held: h,
                                    category_releases: released,
                                }
                            })
                            .collect(),
                    )
                } else {
                    None
                };
                let objections = match &scope {
                    Scope::All => Some(rollups::objection_counts(c, now, None)?),
                    Scope::Platform(u) => Some(rollups::objection_counts(c, now, Some(u))?),
                    Scope::Bank(_) => None,
                };
                Ok(Summary {
                    as_of_ms: now,
                    log_size,
                    scope: scope.clone(),
                    period,
                    enterprises,
                    participants,
                    grants,
                    totals,
                    by_day,
                    by_platform: grouped(&platforms, |r| r.platform.clone().unwrap_or_default()),
                    by_bank: grouped(&banks, |r| r.bank.clone().unwrap_or_default()),
                    by_category,
                    objections,
                    departments,
                })
            })
        })
        .await
}

fn none_if_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

fn as_of(ms: i64) -> String {
    crate::credential::datetime::format_utc_seconds(crate::storage::from_millis(ms))
}

impl Summary {
    /// Registered enterprises: state `active` or `suspended` (approved and not removed).
    pub fn registered_enterprises(&self) -> Option<i64> {
        self.enterprises.as_ref().map(|m| {
            let n = |s: ParticipantState| m.get(s.as_str()).copied().unwrap_or(0);
            n(ParticipantState::Active) + n(ParticipantState::Suspended)
        })
    }

    /// The JSON answer (schema `StatsSummary` in spec/openapi.yaml).
    pub fn answer(&self) -> answer::StatsSummary {
        type Head = answer::StatsKindCounts;
        let per = |rows: &[(String, KindCounts)], head: &dyn Fn(Option<String>) -> Head| {
            rows.iter()
                .map(|(k, c)| c.answer(head(none_if_empty(k))))
                .collect::<Vec<_>>()
        };
        let enterprises = match (&self.enterprises, self.registered_enterprises()) {
            (Some(states), Some(registered)) => Some(answer::StatsEnterprises {
                registered,
                by_state: states.clone(),
            }),
            _ => None,
        };
        let objections = self.objections.as_ref().map(|o| {
            let mut states: BTreeMap<String, i64> =
                OBJECTION_STATES.iter().map(|s| ((*s).to_owned(), 0)).collect();
            for (s, n) in &o.by_state {
                *states.entry(s.clone()).or_insert(0) += n;
            }
            answer::StatsObjections {
                by_state: states,
                deadline: answer::StatsDeadlines {
                    kept: o.kept,
                    missed: o.missed,
                    pending: o.pending,
                    unknown: o.unknown,
                },
            }
        });
        answer::StatsSummary {
            as_of: as_of(self.as_of_ms),
            time_zone: "+08:00",
            log_size: self.log_size,
            scope: self.scope.answer(),
            period: self.period.answer(),
            access: answer::StatsAccessFigures {
                totals: self.totals.answer(Head::default()),
                by_day: self
                    .by_day
                    .iter()
                    .map(|(d, c)| {
                        c.answer(Head {
                            date: Some(rollups::day_date(*d)),
                            ..Head::default()
                        })
                    })
                    .collect(),
                by_platform: per(&self.by_platform, &|k| Head {
                    platform: Some(k),
                    ..Head::default()
                }),
                by_bank: per(&self.by_bank, &|k| Head {
                    bank: Some(k),
                    ..Head::default()
                }),
                by_category: per(&self.by_category, &|k| Head {
                    category: Some(k),
                    ..Head::default()
                }),
            },
            enterprises,
            grants: self.grants,
            objections,
            departments: self.departments.clone(),
        }
    }

    /// [`Summary::answer`] as a JSON value (for the portal's pages).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.answer()).unwrap_or_default()
    }

    /// The CSV answer: RFC 4180, header `figure,dimension,key,kind,count`, one figure per row, in a
    /// fixed order (spec/statistics.md §7).
    pub fn to_csv(&self) -> String {
        let mut w = Csv::new(&["figure", "dimension", "key", "kind", "count"]);
        if let (Some(states), Some(registered)) = (&self.enterprises, self.registered_enterprises()) {
            w.row(&["enterprises", "total", "registered", "", &registered.to_string()]);
            for (s, n) in states {
                w.row(&["enterprises", "state", s, "", &n.to_string()]);
            }
        }
        if let Some(g) = &self.grants {
            for (s, n) in [
                (GrantState::Active.as_str(), g.active),
                (GrantState::Suspended.as_str(), g.suspended),
                (GrantState::Revoked.as_str(), g.revoked),
                ("expired", g.expired),
            ] {
                w.row(&["grants", "state", s, "", &n.to_string()]);
            }
            w.row(&["grants", "total", "all", "", &g.total.to_string()]);
        }
        for k in COUNTED_KINDS {
            let n = kind_value(&self.totals, k);
            w.row(&["access", "total", "", k.as_str(), &n.to_string()]);
        }
        for (d, c) in &self.by_day {
            let date = rollups::day_date(*d);
            for k in COUNTED_KINDS {
                w.row(&["access", "day", &date, k.as_str(), &kind_value(c, k).to_string()]);
            }
        }
        for (dim, rows) in [
            ("platform", &self.by_platform),
            ("bank", &self.by_bank),
            ("category", &self.by_category),
        ] {
            for (key, c) in rows {
                for k in COUNTED_KINDS {
                    w.row(&["access", dim, key, k.as_str(), &kind_value(c, k).to_string()]);
                }
            }
        }
        if let Some(o) = &self.objections {
            for s in OBJECTION_STATES {
                let n = o.by_state.get(s).copied().unwrap_or(0);
                w.row(&["objections", "state", s, "", &n.to_string()]);
            }
            for (s, n) in [
                ("kept", o.kept),
                ("missed", o.missed),
                ("pending", o.pending),
                ("unknown", o.unknown),
            ] {
                w.row(&["objections", "deadline", s, "", &n.to_string()]);
            }
        }
        for d in self.departments.iter().flatten() {
            for (key, n) in [
                ("batches", d.batches),
                ("recordsReceived", d.records_received),
                ("recordsAlreadyHeld", d.records_already_held),
                ("categoryReleases", d.category_releases),
            ] {
                w.row(&["departments", &d.provider, key, "", &n.to_string()]);
            }
        }
        w.finish()
    }
}

fn kind_value(c: &KindCounts, k: EntryKind) -> i64 {
    match k {
        EntryKind::Release => c.releases,
        EntryKind::Refusal => c.refusals,
        EntryKind::OnwardRelease => c.onward_releases,
        _ => 0,
    }
}

/// Grouped access counts (`GET /v1/stats/access`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTable {
    /// When they were read (ms).
    pub as_of_ms: i64,
    /// The log's size in the same snapshot.
    pub log_size: i64,
    /// Whose rows.
    pub scope: Scope,
    /// The period.
    pub period: Period,
    /// The grouping, in canonical order.
    pub group_by: Vec<&'static str>,
    /// The rows.
    pub rows: Vec<AccessRow>,
}

/// The dimensions, in canonical order (the order of CSV columns and JSON members).
pub const DIMENSIONS: [&str; 5] = ["day", "kind", "platform", "bank", "category"];

/// Parses `groupBy` (comma-separated dimensions of [`DIMENSIONS`], each at most once; default
/// `day,kind`).
pub fn parse_group_by(text: Option<&str>) -> Result<GroupBy> {
    let Some(text) = text else {
        return Ok(GroupBy {
            day: true,
            kind: true,
            ..Default::default()
        });
    };
    let mut g = GroupBy::default();
    for part in text.split(',') {
        let slot = match part {
            "day" => &mut g.day,
            "kind" => &mut g.kind,
            "platform" => &mut g.platform,
            "bank" => &mut g.bank,
            "category" => &mut g.category,
            other => {
                return Err(Error::invalid(
                    "invalid-stats-query",
                    format!("groupBy: {other:?} is not one of day, kind, platform, bank, category"),
                ));
            }
        };
        if *slot {
            return Err(Error::invalid(
                "invalid-stats-query",
                format!("groupBy: {part} is given twice"),
            ));
        }
        *slot = true;
    }
    Ok(g)
}

/// Parses `kind` (comma-separated `release`, `refusal`, `onward-release`).
pub fn parse_kinds(text: Option<&str>) -> Result<Vec<i16>> {
    let Some(text) = text else { return Ok(vec![]) };
    let mut out = Vec::new();
    for part in text.split(',') {
        let k = COUNTED_KINDS.iter().find(|k| k.as_str() == part).ok_or_else(|| {
            Error::invalid(
                "invalid-stats-query",
                format!("kind: {part:?} is not one of release, refusal, onward-release"),
            )
        })?;
        if !out.contains(&kind_byte(*k)) {
            out.push(kind_byte(*k));
        }
    }
    Ok(out)
}

/// Filters of an access query, as given.
#[derive(Debug, Clone, Default)]
pub struct AccessFilters {
    /// Only this platform.
    pub platform: Option<String>,
    /// Only this bank.
    pub bank: Option<String>,
    /// Only entries naming this category.
    pub category: Option<String>,
    /// Only these kinds (`kind` parameter).
    pub kinds: Option<String>,
    /// The grouping (`groupBy` parameter).
    pub group_by: Option<String>,
}

/// Reads grouped access counts for `scope` (spec/statistics.md §3.3). A platform (bank) asking for
/// another platform's (bank's) rows is refused (`403 forbidden`).
pub async fn access(node: &Node, scope: Scope, period: Period, f: AccessFilters) -> Result<AccessTable> {
    let group = parse_group_by(f.group_by.as_deref())?;
    let kinds = parse_kinds(f.kinds.as_deref())?;
    for (name, value) in [
        ("platform", &f.platform),
        ("bank", &f.bank),
        ("category", &f.category),
    ] {
        if value.as_ref().is_some_and(|v| v.is_empty() || v.len() > 200) {
            return Err(Error::invalid(
                "invalid-stats-query",
                format!("{name} must be 1 to 200 bytes"),
            ));
        }
    }
    match (&scope, &f.platform, &f.bank) {
        (Scope::Platform(me), Some(p), _) if p != me => {
            return Err(Error::Forbidden(format!(
                "platform {me} sees only its own rows, not {p}'s"
            )));
        }
        (Scope::Bank(me), _, Some(b)) if b != me => {
            return Err(Error::Forbidden(format!(
                "bank {me} sees only its own rows, not {b}'s"
            )));
        }
        _ => {}
    }
    let q = scoped(
        &scope,
        AccessQuery {
            from_day: period.from_day,
            until_day: period.until_day,
            kinds,
            platform: f.platform,
            bank: f.bank,
            category: f.category,
            group,
            limit: MAX_ROWS,
        },
    );
    let group_by: Vec<&'static str> = DIMENSIONS
        .iter()
        .zip([group.day, group.kind, group.platform, group.bank, group.category])
        .filter(|(_, on)| *on)
        .map(|(d, _)| *d)
        .collect();
    let now = node.now_ms();
    node.store
        .call(move |c| {
            rollups::snapshot(c, |c| -> Result<AccessTable> {
                let log_size = rollups::log_size(c)?;
                let rows = access_rows(c, &q)?;
                Ok(AccessTable {
                    as_of_ms: now,
                    log_size,
                    scope,
                    period,
                    group_by,
                    rows,
                })
            })
        })
        .await
}

impl AccessTable {
    fn cells(&self, r: &AccessRow) -> answer::StatsAccessRow {
        let mut out = answer::StatsAccessRow {
            count: r.entries,
            ..Default::default()
        };
        for d in &self.group_by {
            match *d {
                "day" => out.date = Some(r.day.map(rollups::day_date)),
                "kind" => out.kind = Some(r.kind.map(kind_name)),
                "platform" => out.platform = Some(r.platform.as_deref().and_then(none_if_empty)),
                "bank" => out.bank = Some(r.bank.as_deref().and_then(none_if_empty)),
                _ => out.category = Some(r.category.clone()),
            }
        }
        out
    }

    /// The JSON answer (schema `StatsAccess` in spec/openapi.yaml): grouped dimensions as members
    /// (`date` for the day), `count`.
    pub fn answer(&self) -> answer::StatsAccess {
        answer::StatsAccess {
            as_of: as_of(self.as_of_ms),
            time_zone: "+08:00",
            log_size: self.log_size,
            scope: self.scope.answer(),
            period: self.period.answer(),
            group_by: self.group_by.clone(),
            rows: self.rows.iter().map(|r| self.cells(r)).collect(),
        }
    }

    /// The CSV answer: RFC 4180, header = the grouped dimensions in canonical order (`date` for the
    /// day) then `count`.
    pub fn to_csv(&self) -> String {
        let mut header: Vec<&str> = self
            .group_by
            .iter()
            .map(|d| if *d == "day" { "date" } else { d })
            .collect();
        header.push("count");
        let mut w = Csv::new(&header);
        for r in &self.rows {
            let c = self.cells(r);
            let text = |v: &Option<Option<String>>| v.clone().flatten().unwrap_or_default();
            let mut cells: Vec<String> = self
                .group_by
                .iter()
                .map(|d| match *d {
                    "day" => text(&c.date),
                    "kind" => c.kind.flatten().unwrap_or_default().to_owned(),
                    "platform" => text(&c.platform),
                    "bank" => text(&c.bank),
                    _ => text(&c.category),
                })
                .collect();
            cells.push(r.entries.to_string());
            let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
            w.row(&refs);
        }
        w.finish()
    }
}

/// An RFC 4180 writer: CRLF line ends, fields quoted when they hold `,`, `"`, CR or LF (quotes
/// doubled). A text field starting with `=`, `+`, `-`, `@`, TAB or CR — possible only in values a
/// refused request supplied — is prefixed with `'` so that spreadsheets do not run it as a formula
/// (OWASP "CSV injection"); spec/statistics.md §7.
#[derive(Debug)]
pub struct Csv {
    out: String,
}

impl Csv {
    /// A writer with this header row.
    pub fn new(header: &[&str]) -> Self {
        let mut w = Self { out: String::new() };
        w.row(header);
        w
    }

    /// Appends one record.
    pub fn row(&mut self, fields: &[&str]) {
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            let neutral = if f.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{f}")
            } else {
                (*f).to_owned()
            };
            if neutral.contains([',', '"', '\r', '\n']) {
                self.out.push('"');
                self.out.push_str(&neutral.replace('"', "\"\""));
                self.out.push('"');
            } else {
                self.out.push_str(&neutral);
            }
        }
        self.out.push_str("\r\n");
    }

    /// The text.
    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_neutralizes() {
        let mut w = Csv::new(&["a", "b"]);
        w.row(&["x,y", "say \"hi\""]);
        w.row(&["=1+1", "line\nbreak"]);
        assert_eq!(
            w.finish(),
            "a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n'=1+1,\"line\nbreak\"\r\n"
        );
    }

    #[test]
    fn periods_default_to_thirty_days_and_refuse_nonsense() {
        let now = 1_795_967_999_999; // 2026-11-29 23:59:59.999 CST
        let p = Period::parse(None, None, now).unwrap_or(Period {
            from_day: 0,
            until_day: 0,
        });
        assert_eq!(rollups::day_date(p.until_day), "2026-11-29");
        assert_eq!(p.days(), 30);
        assert!(Period::parse(Some("2026-11-30"), Some("2026-11-29"), now).is_err());
        assert!(Period::parse(Some("2026-11-3"), None, now).is_err());
        assert!(Period::parse(Some("2000-01-01"), Some("2026-01-01"), now).is_err());
        let one = Period::parse(Some("2026-01-01"), Some("2026-01-01"), now).map(|p| p.days());
        assert_eq!(one.ok(), Some(1));
    }

    #[test]
    fn group_by_and_kinds_parse_strictly() {
        let g = parse_group_by(Some("category,day")).unwrap_or_default();
        assert!(g.category && g.day && !g.kind);
        for bad in ["", "day,day", "week", "day,"] {
            assert!(parse_group_by(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(
            parse_kinds(Some("refusal,release,refusal")).unwrap_or_default(),
            vec![2, 1]
        );
        assert!(parse_kinds(Some("grant-submitted")).is_err());
    }
}
