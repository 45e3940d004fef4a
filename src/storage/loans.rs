//! Loans and loan reports (`spec/loans.md`): the rows the node keeps of what banks reported, the
//! check that a bank received data under a grant, and the monthly loan rollups. Every write is
//! made inside the log-append transaction that records the report.

use diesel::prelude::*;
use diesel::upsert::excluded;

use super::schema::{loan_reports, loans, log_leaves, stats_loans};
use super::{DbConn, StorageResult};
use crate::log::entry::EntryKind;

/// A stored loan.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = loans)]
pub struct LoanRow {
    /// Row id.
    pub id: i64,
    /// The reporting bank.
    pub bank_uscc: String,
    /// The bank's loan reference.
    pub loan_ref: String,
    /// The borrower.
    pub enterprise_uscc: String,
    /// The platform the bank reports through.
    pub platform_uscc: String,
    /// The borrower's 设区市 (statistics key, `crate::region`).
    pub region: String,
    /// `crate::loan::LoanState` spelling.
    pub state: String,
    /// Approved amount, yuan.
    pub approved_amount: i64,
    /// Paid out, yuan.
    pub disbursed: i64,
    /// Outstanding, yuan.
    pub balance: i64,
    /// Term (approved loans).
    pub term_months: Option<i64>,
    /// Rate band (approved loans).
    pub rate_band: Option<String>,
    /// `credit` or `secured` (approved loans).
    pub security: Option<String>,
    /// First loan (approved loans).
    pub first_loan: Option<bool>,
    /// The day of the last event, `YYYY-MM-DD`.
    pub last_on: String,
    /// Created, ms.
    pub created_at: i64,
    /// Last changed, ms.
    pub updated_at: i64,
    /// The borrower's industry section when the loan was first reported (`crate::industry::key_of`;
    /// `unclassified` when not known).
    pub industry: String,
}

/// A new loan.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = loans)]
pub struct NewLoan<'a> {
    /// See [`LoanRow`].
    pub bank_uscc: &'a str,
    /// See [`LoanRow`].
    pub loan_ref: &'a str,
    /// See [`LoanRow`].
    pub enterprise_uscc: &'a str,
    /// See [`LoanRow`].
    pub platform_uscc: &'a str,
    /// See [`LoanRow`].
    pub region: &'a str,
    /// See [`LoanRow`].
    pub state: &'a str,
    /// See [`LoanRow`].
    pub approved_amount: i64,
    /// See [`LoanRow`].
    pub disbursed: i64,
    /// See [`LoanRow`].
    pub balance: i64,
    /// See [`LoanRow`].
    pub term_months: Option<i64>,
    /// See [`LoanRow`].
    pub rate_band: Option<&'a str>,
    /// See [`LoanRow`].
    pub security: Option<&'a str>,
    /// See [`LoanRow`].
    pub first_loan: Option<bool>,
    /// See [`LoanRow`].
    pub last_on: &'a str,
    /// See [`LoanRow`].
    pub created_at: i64,
    /// See [`LoanRow`].
    pub updated_at: i64,
    /// See [`LoanRow`].
    pub industry: &'a str,
}

/// A stored report.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = loan_reports)]
pub struct ReportRow {
    /// Row id.
    pub id: i64,
    /// The reporting bank.
    pub bank_uscc: String,
    /// The bank's report id.
    pub report_id: String,
    /// The loan.
    pub loan_id: i64,
    /// `crate::loan::LoanEvent::outcome`.
    pub outcome: String,
    /// The event's day.
    pub event_on: String,
    /// The report as the bank signed it (JSON).
    pub report: String,
    /// The signed request.
    pub evidence: String,
    /// The log entry that recorded it.
    pub log_index: i64,
    /// Received, ms.
    pub created_at: i64,
}

/// A new report.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = loan_reports)]
pub struct NewReport<'a> {
    /// See [`ReportRow`].
    pub bank_uscc: &'a str,
    /// See [`ReportRow`].
    pub report_id: &'a str,
    /// See [`ReportRow`].
    pub loan_id: i64,
    /// See [`ReportRow`].
    pub outcome: &'a str,
    /// See [`ReportRow`].
    pub event_on: &'a str,
    /// See [`ReportRow`].
    pub report: &'a str,
    /// See [`ReportRow`].
    pub evidence: &'a str,
    /// See [`ReportRow`].
    pub log_index: i64,
    /// See [`ReportRow`].
    pub created_at: i64,
}

/// The loan `loan_ref` of `bank`, if reported before.
pub fn find(conn: &mut DbConn, bank: &str, loan_ref: &str) -> StorageResult<Option<LoanRow>> {
    Ok(loans::table
        .filter(loans::bank_uscc.eq(bank))
        .filter(loans::loan_ref.eq(loan_ref))
        .select(LoanRow::as_select())
        .first(conn)
        .optional()?)
}

/// Whether `bank` already used `report_id`.
pub fn report_exists(conn: &mut DbConn, bank: &str, report_id: &str) -> StorageResult<bool> {
    let n: i64 = loan_reports::table
        .filter(loan_reports::bank_uscc.eq(bank))
        .filter(loan_reports::report_id.eq(report_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Of `seqs`, those that are releases (kind 1) under `grant` to `enterprise` on behalf of `bank`.
pub fn releases_to_bank(
    conn: &mut DbConn,
    grant: &str,
    enterprise: &str,
    bank: &str,
    seqs: &[i64],
) -> StorageResult<Vec<i64>> {
    Ok(log_leaves::table
        .filter(log_leaves::seq.eq_any(seqs))
        .filter(log_leaves::kind.eq(i16::from(EntryKind::Release as u8)))
        .filter(log_leaves::grant_id.eq(grant))
        .filter(log_leaves::enterprise_uscc.eq(enterprise))
        .filter(log_leaves::bank_uscc.eq(bank))
        .select(log_leaves::seq)
        .order(log_leaves::seq)
        .load(conn)?)
}

/// Inserts a loan; returns its id.
pub fn insert_loan(conn: &mut DbConn, l: &NewLoan<'_>) -> StorageResult<i64> {
    crate::on_backend!(conn, |c| diesel::insert_into(loans::table).values(l).execute(c))?;
    let row = find(conn, l.bank_uscc, l.loan_ref)?.ok_or(diesel::result::Error::NotFound)?;
    Ok(row.id)
}

/// Records a loan's new figures.
pub fn update_loan(
    conn: &mut DbConn,
    id: i64,
    state: &str,
    disbursed: i64,
    balance: i64,
    last_on: &str,
    now: i64,
) -> StorageResult<()> {
    diesel::update(loans::table.find(id))
        .set((
            loans::state.eq(state),
            loans::disbursed.eq(disbursed),
            loans::balance.eq(balance),
            loans::last_on.eq(last_on),
            loans::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Inserts a report.
pub fn insert_report(conn: &mut DbConn, r: &NewReport<'_>) -> StorageResult<()> {
    crate::on_backend!(conn, |c| diesel::insert_into(loan_reports::table)
        .values(r)
        .execute(c))?;
    Ok(())
}

/// Which loans a query selects.
#[derive(Debug, Clone, Default)]
pub struct LoanFilter {
    /// Only this enterprise's.
    pub enterprise: Option<String>,
    /// Only this bank's.
    pub bank: Option<String>,
    /// Only those reported through this platform.
    pub platform: Option<String>,
}

/// Up to `limit` loans after row id `after`, oldest first, with their reports in order.
pub fn list(
    conn: &mut DbConn,
    f: &LoanFilter,
    after: i64,
    limit: i64,
) -> StorageResult<Vec<(LoanRow, Vec<ReportRow>)>> {
    let rows: Vec<LoanRow> = crate::on_backend!(conn, |c| {
        let mut q = loans::table
            .filter(loans::id.gt(after))
            .select(LoanRow::as_select())
            .order(loans::id)
            .limit(limit)
            .into_boxed();
        if let Some(e) = &f.enterprise {
            q = q.filter(loans::enterprise_uscc.eq(e.clone()));
        }
        if let Some(b) = &f.bank {
            q = q.filter(loans::bank_uscc.eq(b.clone()));
        }
        if let Some(p) = &f.platform {
            q = q.filter(loans::platform_uscc.eq(p.clone()));
        }
        q.load(c)
    })?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let reports: Vec<ReportRow> = loan_reports::table
        .filter(loan_reports::loan_id.eq_any(&ids))
        .select(ReportRow::as_select())
        .order(loan_reports::id)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|l| {
            let mine = reports.iter().filter(|r| r.loan_id == l.id).cloned().collect();
            (l, mine)
        })
        .collect())
}

/// One monthly rollup row's counts: [`crate::loan::Counts`].
pub type LoanCounts = crate::loan::Counts;

/// The key of a monthly rollup row: the event's month (CST, `YYYY-MM`), the borrower's 设区市
/// (`crate::region`) and industry section (`crate::industry`), the platform and the bank.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupKey {
    /// `YYYY-MM`.
    pub month: String,
    /// 设区市 statistics key.
    pub region: String,
    /// Industry section letter, or `unclassified`.
    pub industry: String,
    /// Platform USCC.
    pub platform: String,
    /// Bank USCC.
    pub bank: String,
}

/// Adds `c` to the rollup row of `k`.
pub fn bump(conn: &mut DbConn, k: &RollupKey, c: &LoanCounts) -> StorageResult<()> {
    use stats_loans::dsl as s;
    let row = (
        s::month.eq(&k.month),
        s::region.eq(&k.region),
        s::industry.eq(&k.industry),
        s::platform.eq(&k.platform),
        s::bank.eq(&k.bank),
        s::applications.eq(c.applications),
        s::approvals.eq(c.approvals),
        s::approved_amount.eq(c.approved_amount),
        s::credit_approvals.eq(c.credit_approvals),
        s::credit_amount.eq(c.credit_amount),
        s::first_loans.eq(c.first_loans),
        s::disbursed.eq(c.disbursed),
        s::repaid.eq(c.repaid),
        s::overdue_events.eq(c.overdue_events),
        s::defaults.eq(c.defaults),
        s::defaulted.eq(c.defaulted),
    );
    crate::on_backend!(conn, |c| diesel::insert_into(s::stats_loans)
        .values(row)
        .on_conflict((s::month, s::region, s::industry, s::platform, s::bank))
        .do_update()
        .set((
            s::applications.eq(s::applications + excluded(s::applications)),
            s::approvals.eq(s::approvals + excluded(s::approvals)),
            s::approved_amount.eq(s::approved_amount + excluded(s::approved_amount)),
            s::credit_approvals.eq(s::credit_approvals + excluded(s::credit_approvals)),
            s::credit_amount.eq(s::credit_amount + excluded(s::credit_amount)),
            s::first_loans.eq(s::first_loans + excluded(s::first_loans)),
            s::disbursed.eq(s::disbursed + excluded(s::disbursed)),
            s::repaid.eq(s::repaid + excluded(s::repaid)),
            s::overdue_events.eq(s::overdue_events + excluded(s::overdue_events)),
            s::defaults.eq(s::defaults + excluded(s::defaults)),
            s::defaulted.eq(s::defaulted + excluded(s::defaulted)),
        ))
        .execute(c))?;
    Ok(())
}

/// A stored rollup row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = stats_loans)]
struct StoredRollup {
    month: String,
    region: String,
    industry: String,
    platform: String,
    bank: String,
    applications: i64,
    approvals: i64,
    approved_amount: i64,
    credit_approvals: i64,
    credit_amount: i64,
    first_loans: i64,
    disbursed: i64,
    repaid: i64,
    overdue_events: i64,
    defaults: i64,
    defaulted: i64,
}

/// A rollup row: its key and its counts.
pub type RollupRow = (RollupKey, LoanCounts);

/// Every rollup row with `from ≤ month ≤ to` (`YYYY-MM`), ordered by its key.
pub fn rollups(conn: &mut DbConn, from: &str, to: &str) -> StorageResult<Vec<RollupRow>> {
    use stats_loans::dsl as s;
    let rows: Vec<StoredRollup> = s::stats_loans
        .filter(s::month.ge(from))
        .filter(s::month.le(to))
        .order((s::month, s::region, s::industry, s::platform, s::bank))
        .select(StoredRollup::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                RollupKey {
                    month: r.month,
                    region: r.region,
                    industry: r.industry,
                    platform: r.platform,
                    bank: r.bank,
                },
                LoanCounts {
                    applications: r.applications,
                    approvals: r.approvals,
                    approved_amount: r.approved_amount,
                    credit_approvals: r.credit_approvals,
                    credit_amount: r.credit_amount,
                    first_loans: r.first_loans,
                    disbursed: r.disbursed,
                    repaid: r.repaid,
                    overdue_events: r.overdue_events,
                    defaults: r.defaults,
                    defaulted: r.defaulted,
                },
            )
        })
        .collect())
}
