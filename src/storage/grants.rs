//! Stored grants (the exact signed bytes), the parties they name, their status events and usage.

use diesel::prelude::*;

use super::schema::{grant_categories, grant_events, grant_parties, grant_usage, grants};
use super::{DbConn, StorageResult};
use crate::grant::GrantState;
use crate::policy::Role;

/// A stored grant.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = grants)]
pub struct StoredGrant {
    /// The grant id.
    pub id: String,
    /// SHA-256 (hex) of `body`.
    pub sha256: String,
    /// The exact signed bytes as submitted.
    pub body: Vec<u8>,
    /// `data-integrity` or `jwt`.
    pub envelope: String,
    /// The enterprise.
    pub enterprise_uscc: String,
    /// The grantee.
    pub grantee_uscc: String,
    /// The key that signed.
    pub signer_did: String,
    /// The delegation the signer acted under, if an agent signed.
    pub delegation_id: Option<String>,
    /// Status list number.
    pub status_list: i64,
    /// Status index.
    pub status_index: i64,
    /// validFrom, ms.
    pub valid_from: i64,
    /// validUntil, ms.
    pub valid_until: i64,
    /// Mirrors the status bits, changed in the same transaction.
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub state: GrantState,
    /// Submitted at, ms.
    pub submitted_at: i64,
    /// The log entry that recorded the submission.
    pub submitted_seq: i64,
}

/// Inserts a grant, the parties it names (`(uscc, role)`) and the catalog categories it covers
/// (for [`search`]), and counts it in the statistics rollup (state × CST day of `validUntil`,
/// spec/statistics.md §3.2) in the same transaction.
pub fn insert(
    conn: &mut DbConn,
    g: &StoredGrant,
    parties: &[(String, &'static str)],
    categories: &[&str],
) -> StorageResult<()> {
    // By value: the state is written through its `serialize_as` conversion.
    diesel::insert_into(grants::table)
        .values(g.clone())
        .execute(conn)?;
    super::stats::grant_added(conn, g.state.as_str(), g.valid_until)?;
    for (uscc, role) in parties {
        diesel::insert_into(grant_parties::table)
            .values((
                grant_parties::grant_id.eq(&g.id),
                grant_parties::uscc.eq(uscc),
                grant_parties::role.eq(*role),
                grant_parties::submitted_seq.eq(g.submitted_seq),
            ))
            .execute(conn)?;
    }
    add_categories(conn, &g.id, g.submitted_seq, categories)?;
    Ok(())
}

/// Records the catalog categories a grant covers (each once).
pub fn add_categories(
    conn: &mut DbConn,
    grant_id: &str,
    submitted_seq: i64,
    categories: &[&str],
) -> StorageResult<()> {
    let mut seen: Vec<&str> = categories.to_vec();
    seen.sort_unstable();
    seen.dedup();
    for c in seen {
        diesel::insert_into(grant_categories::table)
            .values((
                grant_categories::grant_id.eq(grant_id),
                grant_categories::category.eq(c),
                grant_categories::submitted_seq.eq(submitted_seq),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Up to `limit` grants logged after `after_seq` with no recorded categories (stored before the
/// categories were kept), oldest first: the node's start fills them in from the signed bytes.
pub fn without_categories(conn: &mut DbConn, after_seq: i64, limit: i64) -> StorageResult<Vec<StoredGrant>> {
    Ok(grants::table
        .filter(grants::submitted_seq.gt(after_seq))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            grant_categories::table.filter(grant_categories::grant_id.eq(grants::id)),
        )))
        .order(grants::submitted_seq.asc())
        .limit(limit)
        .select(StoredGrant::as_select())
        .load(conn)?)
}

/// What a grant search asks for: every member given must hold (spec/openapi.yaml `listGrants`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantFilter {
    /// Only this enterprise's grants.
    pub enterprise: Option<String>,
    /// Only grants to this grantee (a platform, or the node).
    pub grantee: Option<String>,
    /// Only grants naming this bank as an onward recipient.
    pub bank: Option<String>,
    /// Only grants naming this participant in this role (`platform` as grantee, `bank` as onward
    /// recipient): a platform's or a bank's own view.
    pub naming: Option<(String, Role)>,
    /// Only grants covering this catalog category.
    pub category: Option<String>,
    /// Only grants in this state.
    pub state: Option<GrantState>,
    /// Only grants submitted at or after this time, ms.
    pub submitted_from: Option<i64>,
    /// Only grants submitted at or before this time, ms.
    pub submitted_until: Option<i64>,
}

/// A value bound into the search's SQL.
enum Bind {
    Text(String),
    Int(i64),
}

/// The search's SQL text and its values, bound in order (`?` on SQLite, `$n` on PostgreSQL).
struct Sql {
    pg: bool,
    text: String,
    binds: Vec<Bind>,
}

impl Sql {
    /// The placeholder of a new value.
    fn arg(&mut self, b: Bind) -> String {
        self.binds.push(b);
        if self.pg {
            format!("${}", self.binds.len())
        } else {
            "?".to_owned()
        }
    }

    fn text(&mut self, t: &str) -> String {
        self.arg(Bind::Text(t.to_owned()))
    }
}

#[derive(QueryableByName)]
struct GrantIdRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

/// The filter whose index a search walks, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Driver<'a> {
    /// A named party (`grant_parties (uscc, role, submitted_seq)`): the caller's own view, else
    /// the bank asked for.
    Party(&'a str, Role),
    /// The enterprise (`grants (enterprise_uscc, submitted_seq)`).
    Enterprise,
    /// The grantee (`grants (grantee_uscc, submitted_seq)`).
    Grantee,
    /// A category (`grant_categories (category, submitted_seq)`).
    Category,
    /// A state (`grants (state, submitted_seq)`).
    State,
    /// No filter that narrows by index: the log order itself (`grants (submitted_seq)`).
    Log,
}

impl<'a> Driver<'a> {
    /// The most selective filter `f` has, in this order: a named party, the enterprise, the
    /// grantee, a category, a state.
    fn of(f: &'a GrantFilter) -> Self {
        if let Some((uscc, role)) = &f.naming {
            Self::Party(uscc, *role)
        } else if let Some(bank) = &f.bank {
            Self::Party(bank, Role::Bank)
        } else if f.enterprise.is_some() {
            Self::Enterprise
        } else if f.grantee.is_some() {
            Self::Grantee
        } else if f.category.is_some() {
            Self::Category
        } else if f.state.is_some() {
            Self::State
        } else {
            Self::Log
        }
    }
}

/// The log index of the first (`first`) or last grant submitted on the far side of `at`: with
/// `first`, the oldest grant submitted at or after `at`; else the newest at or before it.
/// Submission times never decrease along the log ([`super::log_store::Tx::now`]), so a time window
/// is exactly the grants between two log indexes.
fn seq_bound(conn: &mut DbConn, at: i64, first: bool) -> StorageResult<Option<i64>> {
    let q = if first {
        grants::table
            .filter(grants::submitted_at.ge(at))
            .order((grants::submitted_at.asc(), grants::submitted_seq.asc()))
            .select(grants::submitted_seq)
            .into_boxed()
    } else {
        grants::table
            .filter(grants::submitted_at.le(at))
            .order((grants::submitted_at.desc(), grants::submitted_seq.desc()))
            .select(grants::submitted_seq)
            .into_boxed()
    };
    Ok(q.first(conn).optional()?)
}

/// Grants matching `f`, newest first (by the log index of their submission), only those older than
/// the grant logged at `before` when given, at most `limit`.
///
/// One filter ([`Driver`]) drives the search through an index that lists its grants in log order
/// (migration `2026-12-07-000003_grant_search`), so a page reads about as many rows as it answers
/// plus those the other filters reject; a time window becomes a range of log indexes; the other
/// filters are checked row by row. Written as SQL text (with bound values) rather than diesel's
/// query builder so that the driving table, and with it the plan, is chosen here, not left to the
/// planner's estimates (measured: examples/grant_search, BENCHMARKS.md "Grant search").
pub fn search(
    conn: &mut DbConn,
    f: &GrantFilter,
    before: Option<i64>,
    limit: i64,
) -> StorageResult<Vec<StoredGrant>> {
    // The time window as log indexes.
    let mut hi = before.map(|b| b.saturating_sub(1));
    let mut lo = None;
    if let Some(t) = f.submitted_until {
        let Some(s) = seq_bound(conn, t, false)? else {
            return Ok(Vec::new());
        };
        hi = Some(hi.map_or(s, |h| h.min(s)));
    }
    if let Some(t) = f.submitted_from {
        let Some(s) = seq_bound(conn, t, true)? else {
            return Ok(Vec::new());
        };
        lo = Some(s);
    }
    let driver = Driver::of(f);
    let mut q = Sql {
        pg: matches!(conn, DbConn::Pg(_)),
        text: String::new(),
        binds: Vec::new(),
    };
    let mut conds: Vec<String> = Vec::new();
    let bank_named = |q: &mut Sql, bank: &str| {
        let (u, r) = (q.text(bank), q.text(Role::Bank.as_str()));
        format!(
            "EXISTS (SELECT 1 FROM grant_parties p WHERE p.grant_id = g.id AND p.uscc = {u} AND p.role = {r})"
        )
    };
    let seq = match driver {
        Driver::Party(uscc, role) => {
            q.text
                .push_str("SELECT g.id AS id FROM grant_parties d JOIN grants g ON g.id = d.grant_id");
            // A platform's or bank's own view drives; a bank asked for within it is checked.
            let (u, r) = (q.text(uscc), q.text(role.as_str()));
            conds.push(format!("d.uscc = {u} AND d.role = {r}"));
            if let (Some(_), Some(b)) = (&f.naming, &f.bank) {
                conds.push(bank_named(&mut q, b));
            }
            "d.submitted_seq"
        }
        Driver::Category => {
            q.text
                .push_str("SELECT g.id AS id FROM grant_categories d JOIN grants g ON g.id = d.grant_id");
            "d.submitted_seq"
        }
        _ => {
            q.text.push_str("SELECT g.id AS id FROM grants g");
            if let Some(b) = &f.bank {
                conds.push(bank_named(&mut q, b));
            }
            "g.submitted_seq"
        }
    };
    if let Some(e) = &f.enterprise {
        conds.push(format!("g.enterprise_uscc = {}", q.text(e)));
    }
    if let Some(p) = &f.grantee {
        conds.push(format!("g.grantee_uscc = {}", q.text(p)));
    }
    if let Some(c) = &f.category {
        let c = q.text(c);
        conds.push(if driver == Driver::Category {
            format!("d.category = {c}")
        } else {
            format!("EXISTS (SELECT 1 FROM grant_categories c WHERE c.grant_id = g.id AND c.category = {c})")
        });
    }
    if let Some(s) = f.state {
        conds.push(format!("g.state = {}", q.text(s.as_str())));
    }
    if let Some(h) = hi {
        conds.push(format!("{seq} <= {}", q.arg(Bind::Int(h))));
    }
    if let Some(l) = lo {
        conds.push(format!("{seq} >= {}", q.arg(Bind::Int(l))));
    }
    if !conds.is_empty() {
        q.text.push_str(" WHERE ");
        q.text.push_str(&conds.join(" AND "));
    }
    let l = q.arg(Bind::Int(limit));
    q.text.push_str(&format!(" ORDER BY {seq} DESC LIMIT {l}"));
    let ids: Vec<GrantIdRow> = crate::on_backend!(&mut *conn, |c| {
        let mut sql = diesel::sql_query(&q.text).into_boxed();
        for b in &q.binds {
            sql = match b {
                Bind::Text(t) => sql.bind::<diesel::sql_types::Text, _>(t.clone()),
                Bind::Int(i) => sql.bind::<diesel::sql_types::BigInt, _>(*i),
            };
        }
        sql.load(c)
    })?;
    let ids: Vec<String> = ids.into_iter().map(|r| r.id).collect();
    let mut rows: Vec<StoredGrant> = grants::table
        .filter(grants::id.eq_any(&ids))
        .select(StoredGrant::as_select())
        .load(conn)?;
    rows.sort_by_key(|g| std::cmp::Reverse(g.submitted_seq));
    Ok(rows)
}

/// A grant by id.
pub fn get(conn: &mut DbConn, id: &str) -> StorageResult<Option<StoredGrant>> {
    Ok(grants::table
        .find(id)
        .select(StoredGrant::as_select())
        .get_result(conn)
        .optional()?)
}

/// A grant's state only (the cheap read on the release path).
pub fn state(conn: &mut DbConn, id: &str) -> StorageResult<Option<GrantState>> {
    let stored: Option<String> = grants::table
        .find(id)
        .select(grants::state)
        .get_result(conn)
        .optional()?;
    Ok(stored.map(GrantState::try_from).transpose()?)
}

/// Sets a grant's state, moving it between the statistics rollup's states in the same transaction
/// (spec/statistics.md §3.2).
pub fn set_state(conn: &mut DbConn, id: &str, state: GrantState) -> StorageResult<()> {
    let state = state.as_str();
    let before: Option<(String, i64)> = grants::table
        .find(id)
        .select((grants::state, grants::valid_until))
        .get_result(conn)
        .optional()?;
    diesel::update(grants::table.find(id))
        .set(grants::state.eq(state))
        .execute(conn)?;
    if let Some((old, valid_until)) = before {
        super::stats::grant_moved(conn, &old, state, valid_until)?;
    }
    Ok(())
}

/// Grants of an enterprise, newest first.
pub fn of_enterprise(conn: &mut DbConn, uscc: &str) -> StorageResult<Vec<StoredGrant>> {
    Ok(grants::table
        .filter(grants::enterprise_uscc.eq(uscc))
        .order(grants::submitted_at.desc())
        .select(StoredGrant::as_select())
        .load(conn)?)
}

/// Grants naming a participant (as grantee or onward recipient), newest first.
pub fn naming(conn: &mut DbConn, uscc: &str) -> StorageResult<Vec<StoredGrant>> {
    let ids = grant_parties::table
        .filter(grant_parties::uscc.eq(uscc))
        .filter(grant_parties::role.ne("enterprise"))
        .select(grant_parties::grant_id);
    Ok(grants::table
        .filter(grants::id.eq_any(ids))
        .order(grants::submitted_at.desc())
        .select(StoredGrant::as_select())
        .load(conn)?)
}

/// A status event.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = grant_events)]
pub struct GrantEvent {
    /// Row id.
    pub id: i64,
    /// The grant.
    pub grant_id: String,
    /// `revoke`, `suspend`, `resume`.
    pub action: String,
    /// Who (USCC and role, or the node for cascades).
    pub actor: String,
    /// The signed request, or the cascade's reason.
    pub evidence: String,
    /// When, ms.
    pub at: i64,
    /// The log entry.
    pub log_seq: i64,
}

/// Records a status event.
pub fn add_event(
    conn: &mut DbConn,
    grant_id: &str,
    action: &str,
    actor: &str,
    evidence: &str,
    at: i64,
    log_seq: i64,
) -> StorageResult<()> {
    diesel::insert_into(grant_events::table)
        .values((
            grant_events::grant_id.eq(grant_id),
            grant_events::action.eq(action),
            grant_events::actor.eq(actor),
            grant_events::evidence.eq(evidence),
            grant_events::at.eq(at),
            grant_events::log_seq.eq(log_seq),
        ))
        .execute(conn)?;
    Ok(())
}

/// A grant's status events, oldest first.
pub fn events(conn: &mut DbConn, grant_id: &str) -> StorageResult<Vec<GrantEvent>> {
    Ok(grant_events::table
        .filter(grant_events::grant_id.eq(grant_id))
        .order(grant_events::id.asc())
        .select(GrantEvent::as_select())
        .load(conn)?)
}

/// Releases counted for a grant in a period.
pub fn usage(conn: &mut DbConn, grant_id: &str, period: &str) -> StorageResult<u64> {
    let used: Option<i64> = grant_usage::table
        .find((grant_id, period))
        .select(grant_usage::used)
        .get_result(conn)
        .optional()?;
    Ok(used.map_or(0, |u| u64::try_from(u).unwrap_or(0)))
}

/// The platforms and banks grant `grant_id` names, as `(uscc, role)`: platforms first, each role's
/// parties by USCC (a party named in two roles appears twice).
pub fn onward_parties(conn: &mut DbConn, grant_id: &str) -> StorageResult<Vec<(String, String)>> {
    Ok(grant_parties::table
        .filter(grant_parties::grant_id.eq(grant_id))
        .filter(grant_parties::role.eq_any(["platform", "bank"]))
        .order((grant_parties::role.desc(), grant_parties::uscc.asc()))
        .select((grant_parties::uscc, grant_parties::role))
        .load(conn)?)
}
