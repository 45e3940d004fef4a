//! Batch push of public information (`spec/loans.md` §9): banks' subscriptions, the batches pushed
//! and the ledger of records pushed (its cursor over the data records: [`super::cursors`]).

use diesel::prelude::*;

use super::schema::{feed_batches, feed_pushed, feed_subscriptions};
use super::{DbConn, StorageResult};

/// A subscription.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = feed_subscriptions)]
pub struct Subscription {
    /// Row id.
    pub id: i64,
    /// Public id (`urn:uuid:`).
    pub public_id: String,
    /// The subscribing bank.
    pub bank_uscc: String,
    /// 设区市 codes, comma-separated; empty: any region.
    pub regions: String,
    /// Public category codes, comma-separated.
    pub categories: String,
    /// Created, ms.
    pub created_at: i64,
    /// Deleted, ms.
    pub deleted_at: Option<i64>,
    /// Industry codes (`crate::industry`), comma-separated; empty: any industry.
    pub industries: String,
}

/// Inserts a subscription; returns its row id.
pub fn subscribe(
    conn: &mut DbConn,
    public_id: &str,
    bank: &str,
    regions: &str,
    industries: &str,
    categories: &str,
    now: i64,
) -> StorageResult<i64> {
    crate::on_backend!(conn, |c| diesel::insert_into(feed_subscriptions::table)
        .values((
            feed_subscriptions::public_id.eq(public_id),
            feed_subscriptions::bank_uscc.eq(bank),
            feed_subscriptions::regions.eq(regions),
            feed_subscriptions::industries.eq(industries),
            feed_subscriptions::categories.eq(categories),
            feed_subscriptions::created_at.eq(now),
        ))
        .execute(c))?;
    Ok(feed_subscriptions::table
        .filter(feed_subscriptions::public_id.eq(public_id))
        .select(feed_subscriptions::id)
        .first(conn)?)
}

/// Live subscriptions, of one bank or of all.
pub fn live(conn: &mut DbConn, bank: Option<&str>) -> StorageResult<Vec<Subscription>> {
    let rows: Vec<Subscription> = feed_subscriptions::table
        .filter(feed_subscriptions::deleted_at.is_null())
        .order(feed_subscriptions::id)
        .select(Subscription::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|s| bank.is_none_or(|b| s.bank_uscc == b))
        .collect())
}

/// Deletes the bank's subscription; whether it had one by that id.
pub fn unsubscribe(conn: &mut DbConn, bank: &str, public_id: &str, now: i64) -> StorageResult<bool> {
    let n = diesel::update(
        feed_subscriptions::table
            .filter(feed_subscriptions::public_id.eq(public_id))
            .filter(feed_subscriptions::bank_uscc.eq(bank))
            .filter(feed_subscriptions::deleted_at.is_null()),
    )
    .set(feed_subscriptions::deleted_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}

/// A pushed batch.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = feed_batches)]
pub struct Batch {
    /// Public id.
    pub public_id: String,
    /// The bank.
    pub bank_uscc: String,
    /// The subscription.
    pub subscription_id: i64,
    /// Enterprises in it.
    pub enterprises: i64,
    /// Records in it.
    pub records: i64,
    /// Its first log entry.
    pub first_index: i64,
    /// Its last log entry.
    pub last_index: i64,
    /// The batch (JSON).
    pub body: String,
    /// When, ms.
    pub created_at: i64,
}

/// Records a batch.
pub fn insert_batch(conn: &mut DbConn, b: &Batch) -> StorageResult<()> {
    crate::on_backend!(conn, |c| diesel::insert_into(feed_batches::table)
        .values(b)
        .execute(c))?;
    Ok(())
}

/// The bank's batches after row id `after` (summaries: no body), oldest first.
pub fn batches(conn: &mut DbConn, bank: &str, after: i64, limit: i64) -> StorageResult<Vec<(i64, Batch)>> {
    Ok(feed_batches::table
        .filter(feed_batches::bank_uscc.eq(bank))
        .filter(feed_batches::id.gt(after))
        .order(feed_batches::id)
        .limit(limit)
        .select((feed_batches::id, Batch::as_select()))
        .load(conn)?)
}

/// One batch of the bank's.
pub fn batch(conn: &mut DbConn, bank: &str, public_id: &str) -> StorageResult<Option<Batch>> {
    Ok(feed_batches::table
        .filter(feed_batches::bank_uscc.eq(bank))
        .filter(feed_batches::public_id.eq(public_id))
        .select(Batch::as_select())
        .first(conn)
        .optional()?)
}

/// Whether subscription `id` is live (not deleted).
pub fn is_live(conn: &mut DbConn, id: i64) -> StorageResult<bool> {
    let n: i64 = feed_subscriptions::table
        .filter(feed_subscriptions::id.eq(id))
        .filter(feed_subscriptions::deleted_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(n == 1)
}

/// Of `records`, those already pushed to subscription `id`.
pub fn pushed(conn: &mut DbConn, id: i64, records: &[i64]) -> StorageResult<Vec<i64>> {
    let mut out = Vec::new();
    for chunk in records.chunks(1000) {
        let found: Vec<i64> = feed_pushed::table
            .filter(feed_pushed::subscription_id.eq(id))
            .filter(feed_pushed::record_id.eq_any(chunk))
            .select(feed_pushed::record_id)
            .load(conn)?;
        out.extend(found);
    }
    Ok(out)
}

/// Marks `records` as pushed to subscription `id` (call in the batch's transaction).
pub fn mark_pushed(conn: &mut DbConn, id: i64, records: &[i64]) -> StorageResult<()> {
    for chunk in records.chunks(500) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|r| (feed_pushed::subscription_id.eq(id), feed_pushed::record_id.eq(*r)))
            .collect();
        crate::on_backend!(conn, |c| diesel::insert_into(feed_pushed::table)
            .values(&rows)
            .execute(c))?;
    }
    Ok(())
}
