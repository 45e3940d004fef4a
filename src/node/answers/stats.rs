//! Statistics (`spec/statistics.md`, `spec/loans.md` §4, `spec/industries.md`): the JSON answers of
//! `src/http/routes/stats.rs` (their CSV forms are built beside the figures, in
//! [`crate::node::stats`] and [`crate::node::loans`]).
//!
//! Grouped rows carry a member per grouped dimension only: such a member is an `Option` skipped
//! when `None` (not grouped by it); a member that may be `null` when grouped is `Option<Option<_>>`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::loan::Counts;
use crate::storage::stats::GrantCounts;

/// Whose rows the figures count (`components/schemas/StatsScope`).
#[derive(Debug, Clone, Serialize)]
pub struct StatsScope {
    /// `StatsScope.kind`: `all`, `platform` or `bank`.
    pub kind: &'static str,
    /// `StatsScope.uscc`: the platform or bank (absent for `all`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uscc: Option<String>,
}

/// The period counted, whole CST days (`components/schemas/StatsPeriod`).
#[derive(Debug, Clone, Serialize)]
pub struct StatsPeriod {
    /// `StatsPeriod.from`, `YYYY-MM-DD`.
    pub from: String,
    /// `StatsPeriod.until`, `YYYY-MM-DD`.
    pub until: String,
    /// `StatsPeriod.days`.
    pub days: i64,
}

/// Entries of each counted kind in one group (`components/schemas/StatsKindCounts`).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsKindCounts {
    /// `StatsKindCounts.date` (per-day rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// `StatsKindCounts.platform` (per-platform rows; `null`: entries without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<Option<String>>,
    /// `StatsKindCounts.bank` (per-bank rows; `null`: entries without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank: Option<Option<String>>,
    /// `StatsKindCounts.category` (per-category rows; `null` for an empty code, which the schema
    /// does not foresee and no entry has).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Option<String>>,
    /// `StatsKindCounts.releases`.
    pub releases: i64,
    /// `StatsKindCounts.refusals`.
    pub refusals: i64,
    /// `StatsKindCounts.onwardReleases`.
    pub onward_releases: i64,
}

/// `GET /v1/stats` as JSON (`components/schemas/StatsSummary`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsSummary {
    /// `StatsSummary.asOf`.
    pub as_of: String,
    /// `StatsSummary.timeZone`: always `+08:00`.
    pub time_zone: &'static str,
    /// `StatsSummary.logSize`.
    pub log_size: i64,
    /// `StatsSummary.scope`.
    pub scope: StatsScope,
    /// `StatsSummary.period`.
    pub period: StatsPeriod,
    /// `StatsSummary.access`.
    pub access: StatsAccessFigures,
    /// `StatsSummary.enterprises` (scope `all` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprises: Option<StatsEnterprises>,
    /// `StatsSummary.grants` (scope `all` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grants: Option<GrantCounts>,
    /// `StatsSummary.objections` (not for a bank).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objections: Option<StatsObjections>,
    /// `StatsSummary.departments` (the node and regulators only): data shared per providing
    /// department (§20; spec/statistics.md §3.5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub departments: Option<Vec<StatsDepartment>>,
}

/// One providing department's figures (`components/schemas/StatsDepartment`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsDepartment {
    /// `StatsDepartment.provider`: the catalog provider code.
    pub provider: String,
    /// `StatsDepartment.batches`: signed batches received (all time).
    pub batches: i64,
    /// `StatsDepartment.recordsReceived`: records its batches wrote (new records and new versions).
    pub records_received: i64,
    /// `StatsDepartment.recordsAlreadyHeld`: records its batches repeated (nothing written).
    pub records_already_held: i64,
    /// `StatsDepartment.categoryReleases`: over the period, release entries naming each of its
    /// categories, summed over its categories.
    pub category_releases: i64,
}

/// `StatsSummary.access` (`components/schemas/StatsSummary`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsAccessFigures {
    /// `access.totals`.
    pub totals: StatsKindCounts,
    /// `access.byDay`.
    pub by_day: Vec<StatsKindCounts>,
    /// `access.byPlatform`.
    pub by_platform: Vec<StatsKindCounts>,
    /// `access.byBank`.
    pub by_bank: Vec<StatsKindCounts>,
    /// `access.byCategory`.
    pub by_category: Vec<StatsKindCounts>,
}

/// `StatsSummary.enterprises` (`components/schemas/StatsSummary`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsEnterprises {
    /// `enterprises.registered`: `active` + `suspended`.
    pub registered: i64,
    /// `enterprises.byState`.
    pub by_state: BTreeMap<String, i64>,
}

/// `StatsSummary.objections` (`components/schemas/StatsSummary`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsObjections {
    /// `objections.byState`, every state (zeros included).
    pub by_state: BTreeMap<String, i64>,
    /// `objections.deadline`.
    pub deadline: StatsDeadlines,
}

/// `StatsSummary.objections.deadline` (`components/schemas/StatsSummary`).
#[derive(Debug, Clone, Serialize)]
pub struct StatsDeadlines {
    /// `deadline.kept`.
    pub kept: i64,
    /// `deadline.missed`.
    pub missed: i64,
    /// `deadline.pending`.
    pub pending: i64,
    /// `deadline.unknown`.
    pub unknown: i64,
}

/// `GET /v1/stats/access` as JSON (`components/schemas/StatsAccess`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsAccess {
    /// `StatsAccess.asOf`.
    pub as_of: String,
    /// `StatsAccess.timeZone`: always `+08:00`.
    pub time_zone: &'static str,
    /// `StatsAccess.logSize`.
    pub log_size: i64,
    /// `StatsAccess.scope`.
    pub scope: StatsScope,
    /// `StatsAccess.period`.
    pub period: StatsPeriod,
    /// `StatsAccess.groupBy`, in canonical order.
    pub group_by: Vec<&'static str>,
    /// `StatsAccess.rows`.
    pub rows: Vec<StatsAccessRow>,
}

/// A row of `GET /v1/stats/access` (`components/schemas/StatsAccess`, `rows.items`): a member per
/// grouped dimension, then `count`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StatsAccessRow {
    /// `date` (grouped by day).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<Option<String>>,
    /// `kind` (grouped by kind).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Option<&'static str>>,
    /// `platform` (grouped by platform; `null`: entries without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<Option<String>>,
    /// `bank` (grouped by bank; `null`: entries without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank: Option<Option<String>>,
    /// `category` (grouped by category).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Option<String>>,
    /// `count`.
    pub count: i64,
}

/// `GET /v1/stats/loans` as JSON (`components/schemas/LoanFigures`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoanFigures {
    /// `LoanFigures.from`, `YYYY-MM`.
    pub from: String,
    /// `LoanFigures.until`, `YYYY-MM`.
    pub until: String,
    /// `LoanFigures.groupBy`, in the order asked.
    pub group_by: Vec<&'static str>,
    /// `LoanFigures.rows`.
    pub rows: Vec<LoanFigureRow>,
}

/// A row of the loan figures (`components/schemas/LoanFigureRow`): a member per grouped dimension
/// (with the region's and the industry's names), the counts, the credit share and the balance.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoanFigureRow {
    /// `LoanFigureRow.month`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
    /// `LoanFigureRow.region`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `LoanFigureRow.regionName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_name: Option<String>,
    /// `LoanFigureRow.industry`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    /// `LoanFigureRow.industryName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub industry_name: Option<String>,
    /// `LoanFigureRow.platform`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// `LoanFigureRow.bank`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank: Option<String>,
    /// `LoanFigureRow.applications` … `defaulted`.
    #[serde(flatten)]
    pub counts: Counts,
    /// `LoanFigureRow.creditShare` (`null` when nothing was approved).
    pub credit_share: Option<f64>,
    /// `LoanFigureRow.balance`.
    pub balance: i64,
}

/// `GET /v1/stats/enterprises` as JSON (`components/schemas/EnterpriseCounts`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnterpriseCounts {
    /// `EnterpriseCounts.groupBy`.
    pub group_by: Vec<&'static str>,
    /// `EnterpriseCounts.total`.
    pub total: i64,
    /// `EnterpriseCounts.rows`.
    pub rows: Vec<EnterpriseCountRow>,
}

/// A row of the enterprise counts (`components/schemas/EnterpriseCounts`, `rows.items`).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnterpriseCountRow {
    /// `region` (grouped by region).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `regionName` (grouped by region).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_name: Option<String>,
    /// `industry` (grouped by industry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    /// `industryName` (grouped by industry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub industry_name: Option<String>,
    /// `enterprises`.
    pub enterprises: i64,
}
