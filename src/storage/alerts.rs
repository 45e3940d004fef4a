//! Post-loan risk alerts (`spec/loans.md` §7): the open loans the sweep looks up and the alerts it
//! recorded (its cursor over the data records: [`super::cursors`]).

use diesel::prelude::*;

use super::schema::{loans, risk_alerts};
use super::{DbConn, StorageResult};
use crate::loan::LoanState;

/// The (bank, platform) of every open loan (approved, disbursed or overdue) of `enterprise`.
pub fn open_loans(conn: &mut DbConn, enterprise: &str) -> StorageResult<Vec<(String, String)>> {
    let open = [
        LoanState::Approved.as_str(),
        LoanState::Disbursed.as_str(),
        LoanState::Overdue.as_str(),
    ];
    let mut rows: Vec<(String, String)> = loans::table
        .filter(loans::enterprise_uscc.eq(enterprise))
        .filter(loans::state.eq_any(open))
        .select((loans::bank_uscc, loans::platform_uscc))
        .load(conn)?;
    rows.sort();
    rows.dedup();
    Ok(rows)
}

/// Whether an alert (sent or refused) exists for this record, bank, platform and rule.
pub fn exists(conn: &mut DbConn, record: i64, bank: &str, platform: &str, rule: &str) -> StorageResult<bool> {
    let n: i64 = risk_alerts::table
        .filter(risk_alerts::record_id.eq(record))
        .filter(risk_alerts::bank_uscc.eq(bank))
        .filter(risk_alerts::platform_uscc.eq(platform))
        .filter(risk_alerts::rule.eq(rule))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = risk_alerts)]
pub struct AlertRow {
    /// Public id (`urn:uuid:`).
    pub public_id: String,
    /// The enterprise.
    pub enterprise_uscc: String,
    /// The bank alerted.
    pub bank_uscc: String,
    /// The platform whose grant it was.
    pub platform_uscc: String,
    /// The grant.
    pub grant_id: String,
    /// The data record that fired it.
    pub record_id: i64,
    /// The rule.
    pub rule: String,
    /// Its severity.
    pub severity: String,
    /// The record's category.
    pub category: String,
    /// The record's date.
    pub record_date: String,
    /// `sent` or `refused`.
    pub outcome: String,
    /// The alert as delivered (JSON).
    pub body: String,
    /// Its log entry.
    pub log_index: i64,
    /// When, ms.
    pub created_at: i64,
}

/// Records an alert.
pub fn insert(conn: &mut DbConn, a: &AlertRow) -> StorageResult<()> {
    crate::on_backend!(conn, |c| diesel::insert_into(risk_alerts::table)
        .values(a)
        .execute(c))?;
    Ok(())
}

/// Which alerts a query selects.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// Only to this bank.
    pub bank: Option<String>,
    /// Only under this platform's grants.
    pub platform: Option<String>,
    /// Only about this enterprise.
    pub enterprise: Option<String>,
    /// Only alerts that were sent (not those refused).
    pub sent_only: bool,
}

/// Up to `limit` alerts after row id `after`, oldest first, with their row ids.
pub fn list(
    conn: &mut DbConn,
    f: &AlertFilter,
    after: i64,
    limit: i64,
) -> StorageResult<Vec<(i64, AlertRow)>> {
    let rows: Vec<(i64, AlertRow)> = crate::on_backend!(conn, |c| {
        let mut q = risk_alerts::table
            .filter(risk_alerts::id.gt(after))
            .select((risk_alerts::id, AlertRow::as_select()))
            .order(risk_alerts::id)
            .limit(limit)
            .into_boxed();
        if let Some(b) = &f.bank {
            q = q.filter(risk_alerts::bank_uscc.eq(b.clone()));
        }
        if let Some(p) = &f.platform {
            q = q.filter(risk_alerts::platform_uscc.eq(p.clone()));
        }
        if let Some(e) = &f.enterprise {
            q = q.filter(risk_alerts::enterprise_uscc.eq(e.clone()));
        }
        if f.sent_only {
            q = q.filter(risk_alerts::outcome.eq("sent"));
        }
        q.load(c)
    })?;
    Ok(rows)
}
