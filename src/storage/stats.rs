//! Monitoring-statistics rollups (spec/statistics.md): counts kept in the same transactions as the
//! rows they count, so that no figure ever scans the access log or the grants table.
//!
//! | table | key | maintained by |
//! |---|---|---|
//! | `stats_access` | CST day × kind × platform × bank → entries | the group committer ([`AccessDelta`], flushed once per batch before the log-state compare-and-set) |
//! | `stats_access_category` | the same × category → entries naming it | the same |
//! | `stats_grants` | state × CST day of `validUntil` → grants | [`super::grants::insert`] / [`super::grants::set_state`] |
//! | `stats_participants` | role × state → participants | [`super::participants::insert`] / [`super::participants::set_state`] |
//!
//! Consistency (spec/statistics.md §4): each rollup changes in the transaction that changes its
//! source, so a committed state of the database always has rollups equal to a count over the source
//! tables. Access counts are collected per job in memory and merged into the batch only when the
//! job's savepoint committed; the batch's counts are written with additive upserts
//! (`entries = entries + excluded.entries`) inside the batch transaction, under the log lock that
//! serializes every appender of every process. A failed batch rolls back entries and counts alike.
//! [`rebuild`] recomputes everything from the source tables under the same lock.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, SmallInt, Text};
use diesel::upsert::excluded;

use super::schema::{
    log_leaves, log_state, stats_access, stats_access_category, stats_grants, stats_participants,
};
use super::{DbConn, StorageResult};
use crate::grant::GrantState;
use crate::log::entry::EntryKind;

/// China Standard Time's offset from UTC (UTC+8, no daylight saving), in milliseconds.
pub const CST_OFFSET_MS: i64 = 8 * 3_600_000;
/// A day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;
/// Rows per multi-row upsert statement (5–6 parameters a row, well below SQLite's 32,766).
const CHUNK: usize = 500;

/// The China Standard Time day number of an instant (days since 1970-01-01 in UTC+8):
/// `floor((ms + 8 h) / 24 h)`. spec/statistics.md §2.
pub fn cst_day(ms: i64) -> i64 {
    ms.saturating_add(CST_OFFSET_MS).div_euclid(DAY_MS)
}

/// The first instant (ms) of CST day `day` (00:00 in UTC+8 = 16:00 UTC the day before).
pub fn cst_day_start(day: i64) -> i64 {
    day.saturating_mul(DAY_MS).saturating_sub(CST_OFFSET_MS)
}

const UNIX_JULIAN_DAY: i64 = 2_440_588;

/// The calendar date (`YYYY-MM-DD`) of CST day `day`.
pub fn day_date(day: i64) -> String {
    let julian = i32::try_from(day.saturating_add(UNIX_JULIAN_DAY)).unwrap_or(i32::MAX);
    match time::Date::from_julian_day(julian) {
        Ok(d) => format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
        Err(_) => format!("day {day}"),
    }
}

/// The CST day number of a calendar date written exactly `YYYY-MM-DD` (years 1970–9999), or `None`.
pub fn parse_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r.clone()).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) || !digits(5..7) || !digits(8..10) {
        return None;
    }
    let year: i32 = text[0..4].parse().ok()?;
    let month: u8 = text[5..7].parse().ok()?;
    let day: u8 = text[8..10].parse().ok()?;
    let date = time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    let n = i64::from(date.to_julian_day()) - UNIX_JULIAN_DAY;
    (n >= 0).then_some(n)
}

/// The entry kinds the access rollups count: releases, refusals and onward releases.
pub const COUNTED_KINDS: [EntryKind; 3] = [EntryKind::Release, EntryKind::Refusal, EntryKind::OnwardRelease];

/// Whether entries of `kind` are counted in the access rollups.
pub fn counted(kind: EntryKind) -> bool {
    COUNTED_KINDS.contains(&kind)
}

/// The distinct, non-empty category codes of a `categories` column value (comma-separated), in
/// order of first appearance. An entry naming a code twice counts once for it.
pub fn split_categories(categories: &str) -> impl Iterator<Item = &str> {
    let mut seen: Vec<&str> = Vec::new();
    categories.split(',').filter(move |c| {
        if c.is_empty() || seen.contains(c) {
            false
        } else {
            seen.push(c);
            true
        }
    })
}

/// One counted entry, as the committer saw it.
#[derive(Debug)]
struct AccessEvent {
    day: i64,
    kind: i16,
    platform: Option<String>,
    bank: Option<String>,
    categories: Option<String>,
}

/// Access entries appended by a job (or a batch) and not yet written to the rollups. Recording moves
/// the entry's own strings in (no copy, no lookup): the hot path pays one `Vec` push per entry;
/// aggregation happens once per batch in [`AccessDelta::flush`].
#[derive(Debug, Default)]
pub struct AccessDelta {
    events: Vec<AccessEvent>,
}

type AccessKey<'a> = (i64, i16, &'a str, &'a str);
type CategoryKey<'a> = (i64, i16, &'a str, &'a str, &'a str);

/// Access counts aggregated in memory: per (day, kind, platform, bank) and per category.
#[derive(Debug, Default)]
struct Counts<'a> {
    entries: HashMap<AccessKey<'a>, i64>,
    categories: HashMap<CategoryKey<'a>, i64>,
}

impl<'a> Counts<'a> {
    fn add(&mut self, day: i64, kind: i16, platform: &'a str, bank: &'a str, categories: Option<&'a str>) {
        *self.entries.entry((day, kind, platform, bank)).or_insert(0) += 1;
        for c in categories.map(split_categories).into_iter().flatten() {
            *self.categories.entry((day, kind, platform, bank, c)).or_insert(0) += 1;
        }
    }
}

impl AccessDelta {
    /// Records an appended entry if its kind is counted ([`COUNTED_KINDS`]); `time_ms` is the
    /// entry's log time.
    #[inline]
    pub fn record(
        &mut self,
        kind: EntryKind,
        time_ms: i64,
        platform: Option<String>,
        bank: Option<String>,
        categories: Option<String>,
    ) {
        if counted(kind) {
            self.events.push(AccessEvent {
                day: cst_day(time_ms),
                kind: i16::from(kind as u8),
                platform,
                bank,
                categories,
            });
        }
    }

    /// Moves `other`'s entries into this delta (a job's, once its savepoint committed).
    pub fn absorb(&mut self, other: &mut AccessDelta) {
        self.events.append(&mut other.events);
    }

    /// Entries recorded.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Adds the recorded counts to the rollups with additive upserts (in key order) and clears the
    /// delta. Call inside the transaction that wrote the entries, under the log lock.
    pub fn flush(&mut self, conn: &mut DbConn) -> StorageResult<()> {
        if self.events.is_empty() {
            return Ok(());
        }
        let mut counts = Counts::default();
        for e in &self.events {
            counts.add(
                e.day,
                e.kind,
                e.platform.as_deref().unwrap_or(""),
                e.bank.as_deref().unwrap_or(""),
                e.categories.as_deref(),
            );
        }
        let entries: BTreeMap<_, _> = counts.entries.into_iter().collect();
        let categories: BTreeMap<_, _> = counts.categories.into_iter().collect();
        add_access(conn, &entries)?;
        add_categories(conn, &categories)?;
        self.events.clear();
        Ok(())
    }
}

fn add_access(conn: &mut DbConn, rows: &BTreeMap<AccessKey<'_>, i64>) -> StorageResult<()> {
    use stats_access::dsl as a;
    let rows: Vec<_> = rows
        .iter()
        .map(|(&(day, kind, platform, bank), &n)| {
            (
                a::day.eq(day),
                a::kind.eq(kind),
                a::platform.eq(platform),
                a::bank.eq(bank),
                a::entries.eq(n),
            )
        })
        .collect();
    for chunk in rows.chunks(CHUNK) {
        crate::on_backend!(&mut *conn, |c| diesel::insert_into(a::stats_access)
            .values(chunk)
            .on_conflict((a::day, a::kind, a::platform, a::bank))
            .do_update()
            .set(a::entries.eq(a::entries + excluded(a::entries)))
            .execute(c))?;
    }
    Ok(())
}

fn add_categories(conn: &mut DbConn, rows: &BTreeMap<CategoryKey<'_>, i64>) -> StorageResult<()> {
    use stats_access_category::dsl as a;
    let rows: Vec<_> = rows
        .iter()
        .map(|(&(day, kind, platform, bank, category), &n)| {
            (
                a::day.eq(day),
                a::kind.eq(kind),
                a::platform.eq(platform),
                a::bank.eq(bank),
                a::category.eq(category),
                a::entries.eq(n),
            )
        })
        .collect();
    for chunk in rows.chunks(CHUNK) {
        crate::on_backend!(&mut *conn, |c| diesel::insert_into(a::stats_access_category)
            .values(chunk)
            .on_conflict((a::day, a::kind, a::platform, a::bank, a::category))
            .do_update()
            .set(a::entries.eq(a::entries + excluded(a::entries)))
            .execute(c))?;
    }
    Ok(())
}

fn bump_grants(conn: &mut DbConn, state: &str, until_day: i64, by: i64) -> StorageResult<()> {
    use stats_grants::dsl as g;
    let row = (g::state.eq(state), g::until_day.eq(until_day), g::grants.eq(by));
    crate::on_backend!(&mut *conn, |c| diesel::insert_into(g::stats_grants)
        .values(row)
        .on_conflict((g::state, g::until_day))
        .do_update()
        .set(g::grants.eq(g::grants + excluded(g::grants)))
        .execute(c))?;
    Ok(())
}

/// Counts a new grant (state, CST day of `validUntil`). Call in the transaction that inserts it.
pub fn grant_added(conn: &mut DbConn, state: &str, valid_until: i64) -> StorageResult<()> {
    bump_grants(conn, state, cst_day(valid_until), 1)
}

/// Moves a grant from state `from` to `to` in the counts. Call in the transaction that changes it.
pub fn grant_moved(conn: &mut DbConn, from: &str, to: &str, valid_until: i64) -> StorageResult<()> {
    if from != to {
        let day = cst_day(valid_until);
        bump_grants(conn, from, day, -1)?;
        bump_grants(conn, to, day, 1)?;
    }
    Ok(())
}

fn bump_participants(conn: &mut DbConn, role: &str, state: &str, by: i64) -> StorageResult<()> {
    use stats_participants::dsl as p;
    let row = (p::role.eq(role), p::state.eq(state), p::participants.eq(by));
    crate::on_backend!(&mut *conn, |c| diesel::insert_into(p::stats_participants)
        .values(row)
        .on_conflict((p::role, p::state))
        .do_update()
        .set(p::participants.eq(p::participants + excluded(p::participants)))
        .execute(c))?;
    Ok(())
}

/// Counts a new participant. Call in the transaction that inserts it.
pub fn participant_added(conn: &mut DbConn, role: &str, state: &str) -> StorageResult<()> {
    bump_participants(conn, role, state, 1)
}

/// Moves a participant from state `from` to `to` in the counts. Call in the transaction that
/// changes it.
pub fn participant_moved(conn: &mut DbConn, role: &str, from: &str, to: &str) -> StorageResult<()> {
    if from != to {
        bump_participants(conn, role, from, -1)?;
        bump_participants(conn, role, to, 1)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reading.

/// Participants by (role, state), from the rollup; rows with a zero count are left out.
pub fn participant_counts(conn: &mut DbConn) -> StorageResult<Vec<(String, String, i64)>> {
    use stats_participants::dsl as p;
    Ok(p::stats_participants
        .filter(p::participants.ne(0))
        .order((p::role.asc(), p::state.asc()))
        .select((p::role, p::state, p::participants))
        .load(conn)?)
}

/// Grants by what they are at an instant (spec/statistics.md §3.2). The four figures partition the
/// grants table: `revoked` counts every revoked grant; `expired` the active or suspended ones whose
/// `validUntil` is before the instant; `active` and `suspended` the rest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct GrantCounts {
    /// State `active`, `validUntil` not before the instant.
    pub active: i64,
    /// State `suspended`, `validUntil` not before the instant.
    pub suspended: i64,
    /// State `revoked` (whatever `validUntil`).
    pub revoked: i64,
    /// State `active` or `suspended`, `validUntil` before the instant.
    pub expired: i64,
    /// Every grant.
    pub total: i64,
}

#[derive(Debug, QueryableByName)]
struct StateSum {
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn placeholder(conn: &DbConn, i: usize) -> String {
    match conn {
        DbConn::Pg(_) => format!("${i}"),
        DbConn::Sqlite(_) => "?".to_owned(),
    }
}

/// Grant figures at instant `now_ms`: a sum over the rollup's (state, day) rows, plus an indexed count
/// of the grants that expire on `now`'s own CST day before `now` (index `grants_valid_until`): never
/// a scan of the grants table.
pub fn grant_counts(conn: &mut DbConn, now_ms: i64) -> StorageResult<GrantCounts> {
    let today = cst_day(now_ms);
    let sql = format!(
        "SELECT state, CAST(SUM(grants) AS BIGINT) AS n FROM stats_grants WHERE until_day < {} GROUP BY state",
        placeholder(conn, 1)
    );
    let before: Vec<StateSum> = crate::on_backend!(&mut *conn, |c| diesel::sql_query(&sql)
        .bind::<BigInt, _>(today)
        .load(c))?;
    let totals: Vec<StateSum> = crate::on_backend!(&mut *conn, |c| diesel::sql_query(
        "SELECT state, CAST(SUM(grants) AS BIGINT) AS n FROM stats_grants GROUP BY state"
    )
    .load(c))?;
    let sql = format!(
        "SELECT state, CAST(COUNT(*) AS BIGINT) AS n FROM grants WHERE valid_until >= {} AND valid_until < {} \
         AND state IN ('active', 'suspended') GROUP BY state",
        placeholder(conn, 1),
        placeholder(conn, 2)
    );
    let today_expired: Vec<StateSum> = crate::on_backend!(&mut *conn, |c| diesel::sql_query(&sql)
        .bind::<BigInt, _>(cst_day_start(today))
        .bind::<BigInt, _>(now_ms)
        .load(c))?;
    let get = |rows: &[StateSum], s: &str| rows.iter().filter(|r| r.state == s).map(|r| r.n).sum::<i64>();
    let (active, suspended) = (GrantState::Active.as_str(), GrantState::Suspended.as_str());
    let expired_active = get(&before, active) + get(&today_expired, active);
    let expired_suspended = get(&before, suspended) + get(&today_expired, suspended);
    Ok(GrantCounts {
        active: get(&totals, active) - expired_active,
        suspended: get(&totals, suspended) - expired_suspended,
        revoked: get(&totals, GrantState::Revoked.as_str()),
        expired: expired_active + expired_suspended,
        total: totals.iter().map(|r| r.n).sum(),
    })
}

/// What to group access counts by. At least one dimension, or none for a grand total per row set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupBy {
    /// The CST day.
    pub day: bool,
    /// The entry kind.
    pub kind: bool,
    /// The platform on the path.
    pub platform: bool,
    /// The bank on the path.
    pub bank: bool,
    /// The category (counts entries naming it).
    pub category: bool,
}

/// A query over the access rollups.
#[derive(Debug, Clone, Default)]
pub struct AccessQuery {
    /// First CST day, inclusive.
    pub from_day: i64,
    /// Last CST day, inclusive.
    pub until_day: i64,
    /// Only these kinds (log kind bytes); empty: every counted kind.
    pub kinds: Vec<i16>,
    /// Only this platform (`""`: entries without one).
    pub platform: Option<String>,
    /// Only this bank (`""`: entries without one).
    pub bank: Option<String>,
    /// Only entries naming this category.
    pub category: Option<String>,
    /// The grouping.
    pub group: GroupBy,
    /// At most this many rows (one more is fetched to tell the caller there were more).
    pub limit: usize,
}

/// One row of grouped access counts; dimensions not grouped by are `None`. `platform` and `bank`
/// are `""` for entries without one.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct AccessRow {
    /// CST day number.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub day: Option<i64>,
    /// Log kind byte.
    #[diesel(sql_type = Nullable<SmallInt>)]
    pub kind: Option<i16>,
    /// Platform USCC.
    #[diesel(sql_type = Nullable<Text>)]
    pub platform: Option<String>,
    /// Bank USCC.
    #[diesel(sql_type = Nullable<Text>)]
    pub bank: Option<String>,
    /// Category code.
    #[diesel(sql_type = Nullable<Text>)]
    pub category: Option<String>,
    /// Entries (for a category: entries naming it).
    #[diesel(sql_type = BigInt)]
    pub entries: i64,
}

enum Bind {
    Int(i64),
    Text(String),
}

/// Grouped access counts over a day range, from the rollups only (a range scan of the rollup's
/// primary key, or of its platform / bank index when filtered by one). Rows come ordered by the
/// grouped dimensions in the order day, kind, platform, bank, category.
pub fn access(conn: &mut DbConn, q: &AccessQuery) -> StorageResult<Vec<AccessRow>> {
    let by_category = q.group.category || q.category.is_some();
    let table = if by_category {
        "stats_access_category"
    } else {
        "stats_access"
    };
    let mut binds = Vec::new();
    let ph = |b: Bind, binds: &mut Vec<Bind>, conn: &DbConn| {
        binds.push(b);
        placeholder(conn, binds.len())
    };
    let g = q.group;
    let dims: [(&str, bool, &str); 5] = [
        ("day", g.day, "BIGINT"),
        ("kind", g.kind, "SMALLINT"),
        ("platform", g.platform, "TEXT"),
        ("bank", g.bank, "TEXT"),
        ("category", g.category, "TEXT"),
    ];
    let select: Vec<String> = dims
        .iter()
        .map(|(name, on, ty)| {
            if *on {
                (*name).to_owned()
            } else {
                format!("CAST(NULL AS {ty}) AS {name}")
            }
        })
        .collect();
    let grouped: Vec<&str> = dims.iter().filter(|d| d.1).map(|d| d.0).collect();
    let mut sql = format!(
        "SELECT {}, CAST(SUM(entries) AS BIGINT) AS entries FROM {table} WHERE day >= {} AND day <= {}",
        select.join(", "),
        ph(Bind::Int(q.from_day), &mut binds, conn),
        ph(Bind::Int(q.until_day), &mut binds, conn),
    );
    if let Some(p) = &q.platform {
        sql.push_str(&format!(
            " AND platform = {}",
            ph(Bind::Text(p.clone()), &mut binds, conn)
        ));
    }
    if let Some(b) = &q.bank {
        sql.push_str(&format!(
            " AND bank = {}",
            ph(Bind::Text(b.clone()), &mut binds, conn)
        ));
    }
    if let Some(c) = &q.category {
        sql.push_str(&format!(
            " AND category = {}",
            ph(Bind::Text(c.clone()), &mut binds, conn)
        ));
    }
    if !q.kinds.is_empty() {
        let list: Vec<String> = q
            .kinds
            .iter()
            .map(|k| ph(Bind::Int(i64::from(*k)), &mut binds, conn))
            .collect();
        sql.push_str(&format!(" AND kind IN ({})", list.join(", ")));
    }
    if !grouped.is_empty() {
        sql.push_str(&format!(
            " GROUP BY {} ORDER BY {}",
            grouped.join(", "),
            grouped.join(", ")
        ));
    } else {
        // A total over no rows is one row with SUM = NULL: keep only real totals.
        sql.push_str(" HAVING COUNT(*) > 0");
    }
    sql.push_str(&format!(" LIMIT {}", q.limit.saturating_add(1)));
    let rows: Vec<AccessRow> = crate::on_backend!(&mut *conn, |c| {
        let mut query = diesel::sql_query(&sql).into_boxed();
        for b in binds {
            query = match b {
                Bind::Int(v) => query.bind::<BigInt, _>(v),
                Bind::Text(s) => query.bind::<Text, _>(s),
            };
        }
        query.load(c)
    })?;
    Ok(rows)
}

/// Objections by state and by deadline (spec/statistics.md §3.4), straight from the `objections`
/// table (few rows; one grouped query).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ObjectionCounts {
    /// Objections per state.
    pub by_state: BTreeMap<String, i64>,
    /// Forwarded no later than the deadline.
    pub kept: i64,
    /// Forwarded after the deadline, or not forwarded and the deadline has passed.
    pub missed: i64,
    /// Not forwarded, deadline not yet passed.
    pub pending: i64,
    /// No deadline: the holiday calendar for the receipt date was missing.
    pub unknown: i64,
}

#[derive(Debug, QueryableByName)]
struct ObjectionRow {
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Text)]
    deadline: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Objection figures at instant `now_ms`, of every objection or of those received by `received_by`.
/// The deadline classes are those of the objection views (spec/objections.md §4): forwarded on the
/// China Standard Time day it was filed is `kept` whatever the calendar says (28,800,000 ms is the
/// UTC+8 offset), no computable deadline is `unknown`, then `kept` / `missed` / `pending`.
pub fn objection_counts(
    conn: &mut DbConn,
    now_ms: i64,
    received_by: Option<&str>,
) -> StorageResult<ObjectionCounts> {
    let mut sql = format!(
        "SELECT state, CASE \
         WHEN forwarded_at IS NOT NULL \
              AND (forwarded_at + 28800000) / 86400000 = (filed_at + 28800000) / 86400000 THEN 'kept' \
         WHEN deadline_at IS NULL THEN 'unknown' \
         WHEN forwarded_at IS NOT NULL AND forwarded_at <= deadline_at THEN 'kept' \
         WHEN forwarded_at IS NOT NULL THEN 'missed' \
         WHEN deadline_at < {} THEN 'missed' ELSE 'pending' END AS deadline, \
         CAST(COUNT(*) AS BIGINT) AS n FROM objections",
        placeholder(conn, 1)
    );
    if received_by.is_some() {
        sql.push_str(&format!(" WHERE received_by = {}", placeholder(conn, 2)));
    }
    sql.push_str(" GROUP BY 1, 2");
    let who = received_by.unwrap_or_default().to_owned();
    let with_receiver = received_by.is_some();
    let rows: Vec<ObjectionRow> = crate::on_backend!(&mut *conn, |c| {
        let mut query = diesel::sql_query(&sql).into_boxed().bind::<BigInt, _>(now_ms);
        if with_receiver {
            query = query.bind::<Text, _>(who.clone());
        }
        query.load(c)
    })?;
    let mut out = ObjectionCounts::default();
    for r in rows {
        *out.by_state.entry(r.state).or_insert(0) += r.n;
        match r.deadline.as_str() {
            "kept" => out.kept += r.n,
            "missed" => out.missed += r.n,
            "pending" => out.pending += r.n,
            _ => out.unknown += r.n,
        }
    }
    Ok(out)
}

/// The log's size (entries): the rollups read in the same transaction count exactly its entries.
pub fn log_size(conn: &mut DbConn) -> StorageResult<i64> {
    Ok(log_state::table
        .find(1i16)
        .select(log_state::size)
        .get_result(conn)?)
}

/// Runs `f` in one read transaction (a snapshot: `REPEATABLE READ` on PostgreSQL, a WAL read
/// transaction on SQLite), so that the figures it reads are consistent with one another.
pub fn snapshot<R, E>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<R, E>) -> Result<R, E>
where
    E: From<diesel::result::Error>,
{
    use diesel::connection::SimpleConnection;
    conn.transaction(|c| {
        if let DbConn::Pg(pg) = c {
            pg.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        f(c)
    })
}

// ---------------------------------------------------------------------------------------------
// Rebuild.

/// What [`rebuild`] found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RebuildReport {
    /// Log entries of the counted kinds read.
    pub entries_scanned: i64,
    /// The log's size when the rebuild ran.
    pub log_size: i64,
    /// Rows of each rollup after the rebuild (non-zero counts only).
    pub rows: BTreeMap<String, usize>,
    /// Whether the rollups as they were equal the recomputation (zero counts ignored).
    pub matched: bool,
    /// The first differences found (`table key: had X, source says Y`), at most 50.
    pub differences: Vec<String>,
    /// How many differences there were in all.
    pub difference_count: usize,
    /// Whether the rollups were replaced (false for a check).
    pub written: bool,
}

type OwnedAccessKey = (i64, i16, String, String);
type OwnedCategoryKey = (i64, i16, String, String, String);

/// Every rollup recomputed from the source tables.
#[derive(Debug, Default, PartialEq, Eq)]
struct Recomputed {
    access: BTreeMap<OwnedAccessKey, i64>,
    categories: BTreeMap<OwnedCategoryKey, i64>,
    grants: BTreeMap<(String, i64), i64>,
    participants: BTreeMap<(String, String), i64>,
}

#[derive(Debug, QueryableByName)]
struct GrantRow {
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = BigInt)]
    day: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(Debug, QueryableByName)]
struct ParticipantRow {
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

const PAGE: i64 = 50_000;

fn recompute(conn: &mut DbConn) -> StorageResult<(Recomputed, i64)> {
    let mut out = Recomputed::default();
    let kinds: Vec<i16> = COUNTED_KINDS.iter().map(|k| i16::from(*k as u8)).collect();
    let mut after = -1i64;
    let mut scanned = 0i64;
    loop {
        type Leaf = (i64, i64, i16, Option<String>, Option<String>, Option<String>);
        let page: Vec<Leaf> = log_leaves::table
            .filter(log_leaves::seq.gt(after))
            .filter(log_leaves::kind.eq_any(&kinds))
            .order(log_leaves::seq.asc())
            .limit(PAGE)
            .select((
                log_leaves::seq,
                log_leaves::time,
                log_leaves::kind,
                log_leaves::platform_uscc,
                log_leaves::bank_uscc,
                log_leaves::categories,
            ))
            .load(conn)?;
        let Some(last) = page.last() else { break };
        after = last.0;
        scanned += i64::try_from(page.len()).unwrap_or(i64::MAX);
        let mut counts = Counts::default();
        for (_, time, kind, platform, bank, categories) in &page {
            counts.add(
                cst_day(*time),
                *kind,
                platform.as_deref().unwrap_or(""),
                bank.as_deref().unwrap_or(""),
                categories.as_deref(),
            );
        }
        for ((d, k, p, b), n) in counts.entries {
            *out.access.entry((d, k, p.to_owned(), b.to_owned())).or_insert(0) += n;
        }
        for ((d, k, p, b, c), n) in counts.categories {
            *out.categories
                .entry((d, k, p.to_owned(), b.to_owned(), c.to_owned()))
                .or_insert(0) += n;
        }
    }
    // validUntil is always after 1970 (a grant is valid when submitted), so integer division is floor.
    let grants: Vec<GrantRow> = crate::on_backend!(&mut *conn, |c| diesel::sql_query(format!(
        "SELECT state, (valid_until + {CST_OFFSET_MS}) / {DAY_MS} AS day, CAST(COUNT(*) AS BIGINT) AS n \
         FROM grants GROUP BY state, (valid_until + {CST_OFFSET_MS}) / {DAY_MS}"
    ))
    .load(c))?;
    for g in grants {
        *out.grants.entry((g.state, g.day)).or_insert(0) += g.n;
    }
    let parts: Vec<ParticipantRow> = crate::on_backend!(&mut *conn, |c| diesel::sql_query(
        "SELECT role, state, CAST(COUNT(*) AS BIGINT) AS n FROM participants GROUP BY role, state"
    )
    .load(c))?;
    for p in parts {
        out.participants.insert((p.role, p.state), p.n);
    }
    Ok((out, scanned))
}

fn stored(conn: &mut DbConn) -> StorageResult<Recomputed> {
    let mut out = Recomputed::default();
    let rows: Vec<(i64, i16, String, String, i64)> = stats_access::table
        .filter(stats_access::entries.ne(0))
        .select((
            stats_access::day,
            stats_access::kind,
            stats_access::platform,
            stats_access::bank,
            stats_access::entries,
        ))
        .load(conn)?;
    out.access = rows
        .into_iter()
        .map(|(d, k, p, b, n)| ((d, k, p, b), n))
        .collect();
    let rows: Vec<(i64, i16, String, String, String, i64)> = stats_access_category::table
        .filter(stats_access_category::entries.ne(0))
        .select((
            stats_access_category::day,
            stats_access_category::kind,
            stats_access_category::platform,
            stats_access_category::bank,
            stats_access_category::category,
            stats_access_category::entries,
        ))
        .load(conn)?;
    out.categories = rows
        .into_iter()
        .map(|(d, k, p, b, c, n)| ((d, k, p, b, c), n))
        .collect();
    let rows: Vec<(String, i64, i64)> = stats_grants::table
        .filter(stats_grants::grants.ne(0))
        .select((stats_grants::state, stats_grants::until_day, stats_grants::grants))
        .load(conn)?;
    out.grants = rows.into_iter().map(|(s, d, n)| ((s, d), n)).collect();
    let rows: Vec<(String, String, i64)> = stats_participants::table
        .filter(stats_participants::participants.ne(0))
        .select((
            stats_participants::role,
            stats_participants::state,
            stats_participants::participants,
        ))
        .load(conn)?;
    out.participants = rows.into_iter().map(|(r, s, n)| ((r, s), n)).collect();
    Ok(out)
}

fn diff<K: Ord + std::fmt::Debug>(
    table: &str,
    had: &BTreeMap<K, i64>,
    want: &BTreeMap<K, i64>,
    out: &mut Vec<String>,
    count: &mut usize,
) {
    let keys: BTreeSet<&K> = had.keys().chain(want.keys()).collect();
    for k in keys {
        let (a, b) = (
            had.get(k).copied().unwrap_or(0),
            want.get(k).copied().unwrap_or(0),
        );
        if a != b {
            *count += 1;
            if out.len() < 50 {
                out.push(format!("{table} {k:?}: had {a}, source says {b}"));
            }
        }
    }
}

fn write_all(conn: &mut DbConn, r: &Recomputed) -> StorageResult<()> {
    diesel::delete(stats_access::table).execute(conn)?;
    diesel::delete(stats_access_category::table).execute(conn)?;
    diesel::delete(stats_grants::table).execute(conn)?;
    diesel::delete(stats_participants::table).execute(conn)?;
    let access: BTreeMap<AccessKey<'_>, i64> = r
        .access
        .iter()
        .map(|((d, k, p, b), n)| ((*d, *k, p.as_str(), b.as_str()), *n))
        .collect();
    add_access(conn, &access)?;
    let categories: BTreeMap<CategoryKey<'_>, i64> = r
        .categories
        .iter()
        .map(|((d, k, p, b, c), n)| ((*d, *k, p.as_str(), b.as_str(), c.as_str()), *n))
        .collect();
    add_categories(conn, &categories)?;
    for ((state, day), n) in &r.grants {
        bump_grants(conn, state, *day, *n)?;
    }
    for ((role, state), n) in &r.participants {
        bump_participants(conn, role, state, *n)?;
    }
    Ok(())
}

/// Recomputes every rollup from the source tables (`log_leaves`, `grants`, `participants`) in one
/// transaction holding the log lock (so no append, grant or participant change of any process
/// interleaves), compares the result with the rollups as they are, and — when `write` — replaces
/// them. Appends wait for it (on SQLite up to the 10 s busy timeout, after which their batch fails
/// and is not acknowledged). spec/statistics.md §5.
pub fn rebuild(conn: &mut DbConn, write: bool) -> StorageResult<RebuildReport> {
    super::Store::write_txn(conn, |conn| -> StorageResult<RebuildReport> {
        // The log lock: the log_state row (PostgreSQL); BEGIN IMMEDIATE already holds SQLite's.
        let size: i64 = match conn {
            DbConn::Pg(c) => log_state::table
                .find(1i16)
                .select(log_state::size)
                .for_update()
                .get_result(c)?,
            DbConn::Sqlite(_) => log_size(conn)?,
        };
        let (fresh, scanned) = recompute(conn)?;
        let had = stored(conn)?;
        let mut differences = Vec::new();
        let mut count = 0;
        diff(
            "stats_access",
            &had.access,
            &fresh.access,
            &mut differences,
            &mut count,
        );
        diff(
            "stats_access_category",
            &had.categories,
            &fresh.categories,
            &mut differences,
            &mut count,
        );
        diff(
            "stats_grants",
            &had.grants,
            &fresh.grants,
            &mut differences,
            &mut count,
        );
        diff(
            "stats_participants",
            &had.participants,
            &fresh.participants,
            &mut differences,
            &mut count,
        );
        if write {
            write_all(conn, &fresh)?;
        }
        let rows = BTreeMap::from([
            ("stats_access".to_owned(), fresh.access.len()),
            ("stats_access_category".to_owned(), fresh.categories.len()),
            ("stats_grants".to_owned(), fresh.grants.len()),
            ("stats_participants".to_owned(), fresh.participants.len()),
        ]);
        Ok(RebuildReport {
            entries_scanned: scanned,
            log_size: size,
            rows,
            matched: count == 0,
            differences,
            difference_count: count,
            written: write,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cst_days_turn_at_16_utc() {
        // 2026-11-29T15:59:59.999Z is 23:59:59.999 in Beijing; a millisecond later it is the 30th.
        let before = 1_795_967_999_999i64;
        assert_eq!(day_date(cst_day(before)), "2026-11-29");
        assert_eq!(day_date(cst_day(before + 1)), "2026-11-30");
        assert_eq!(cst_day_start(cst_day(before + 1)), before + 1);
        assert_eq!(parse_date("2026-11-30"), Some(cst_day(before + 1)));
        assert_eq!(cst_day(0), 0);
        assert_eq!(cst_day(-CST_OFFSET_MS - 1), -1);
    }

    #[test]
    fn dates_parse_strictly() {
        for bad in [
            "2026-2-01",
            "2026-02-30",
            "20260201",
            "2026-02-01T00",
            "",
            "1969-12-31",
            "+026-01-01",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(day_date(parse_date("2024-02-29").unwrap_or(0)), "2024-02-29");
    }

    #[test]
    fn categories_split_distinct_and_non_empty() {
        let v: Vec<&str> = split_categories("TAX-03,,SOC-01,TAX-03,").collect();
        assert_eq!(v, ["TAX-03", "SOC-01"]);
        assert_eq!(split_categories("").count(), 0);
    }

    #[test]
    fn only_release_refusal_and_onward_release_are_counted() {
        let mut d = AccessDelta::default();
        for kind in EntryKind::ALL {
            d.record(kind, 0, None, None, None);
        }
        assert_eq!(d.len(), 3);
    }
}
