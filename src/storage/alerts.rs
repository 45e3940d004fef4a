//! Post-loan risk alerts (`spec/loans.md` §7): the sweep's cursor over the data records, the
//! records it reads, the open loans and grants it looks up, and the alerts it recorded.

use diesel::prelude::*;

use super::data::DataRecord;
use super::schema::{data_records, loans, risk_alerts, risk_cursor};
use super::{DbConn, StorageResult};
use crate::loan::LoanState;

/// The id of the last data record the sweep has read (0 at first).
pub fn cursor(conn: &mut DbConn) -> StorageResult<i64> {
    Ok(risk_cursor::table
        .find(1i16)
        .select(risk_cursor::last_record)
        .first(conn)
        .optional()?
        .unwrap_or(0))
}

/// Moves the cursor forward to `to` (never back).
pub fn advance(conn: &mut DbConn, to: i64) -> StorageResult<()> {
    let n = diesel::update(risk_cursor::table.find(1i16))
        .filter(risk_cursor::last_record.lt(to))
        .set(risk_cursor::last_record.eq(to))
        .execute(conn)?;
    if n == 0 && cursor(conn)? < to {
        crate::on_backend!(conn, |c| diesel::insert_into(risk_cursor::table)
            .values((risk_cursor::id.eq(1i16), risk_cursor::last_record.eq(to)))
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    Ok(())
}

/// Up to `limit` data records after id `after` imported at or before `settled` (ms), in id order.
///
/// Ids are given out when a row is inserted and become visible when its transaction commits, so
/// with concurrent imports (several processes on PostgreSQL) a lower id can appear after a higher
/// one. Readers that keep a cursor therefore read only rows older than a settling time, by which
/// every transaction that took a lower id has committed (unless it ran longer than that).
pub fn records_after(
    conn: &mut DbConn,
    after: i64,
    settled: i64,
    limit: i64,
) -> StorageResult<Vec<DataRecord>> {
    let rows: Vec<DataRecord> = data_records::table
        .filter(data_records::id.gt(after))
        .order(data_records::id)
        .limit(limit)
        .select(DataRecord::as_select())
        .load(conn)?;
    // In id order, up to the first row not yet settled: a cursor never passes an unsettled row.
    Ok(rows
        .into_iter()
        .take_while(|r| r.imported_at <= settled)
        .collect())
}

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
