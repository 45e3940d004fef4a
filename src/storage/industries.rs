//! Enterprises' industries (GB/T 4754, `crate::industry`): one row per enterprise, written by its
//! registration or by a providing department's import, and the count of active enterprises by
//! 设区市 prefix and industry section the statistics read.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel::upsert::excluded;

use super::schema::enterprise_industries as ei;
use super::{DbConn, StorageResult};
use crate::policy::{ParticipantState, Role};

/// Who said what an enterprise's industry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The enterprise, when it registered.
    Registration,
    /// A providing department's import (the later word wins).
    Import,
}

impl Source {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::Import => "import",
        }
    }
}

/// Sets the industry of `uscc` (a code already checked against the node's table), replacing any.
pub fn set(conn: &mut DbConn, uscc: &str, industry: &str, source: Source, now: i64) -> StorageResult<()> {
    crate::on_backend!(conn, |c| diesel::insert_into(ei::table)
        .values((
            ei::uscc.eq(uscc),
            ei::industry.eq(industry),
            ei::source.eq(source.as_str()),
            ei::updated_at.eq(now),
        ))
        .on_conflict(ei::uscc)
        .do_update()
        .set((
            ei::industry.eq(excluded(ei::industry)),
            ei::source.eq(excluded(ei::source)),
            ei::updated_at.eq(excluded(ei::updated_at)),
        ))
        .execute(c))?;
    Ok(())
}

/// The stored industry code of one enterprise.
pub fn of(conn: &mut DbConn, uscc: &str) -> StorageResult<Option<String>> {
    Ok(ei::table
        .filter(ei::uscc.eq(uscc))
        .select(ei::industry)
        .first(conn)
        .optional()?)
}

/// The stored industry codes of several enterprises (those without one are absent).
pub fn of_many(conn: &mut DbConn, usccs: &[&str]) -> StorageResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for chunk in usccs.chunks(500) {
        let rows: Vec<(String, String)> = ei::table
            .filter(ei::uscc.eq_any(chunk))
            .select((ei::uscc, ei::industry))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

#[derive(QueryableByName)]
struct HeadSection {
    #[diesel(sql_type = Text)]
    head: String,
    #[diesel(sql_type = Text)]
    section: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Active registered enterprises counted by (positions 3–6 of the USCC, industry section letter or
/// `unclassified`), in one grouped query.
pub fn enterprises_by_city_prefix_and_section(
    conn: &mut DbConn,
) -> StorageResult<Vec<(String, String, i64)>> {
    let sql = format!(
        "SELECT substr(p.uscc, 3, 4) AS head, COALESCE(substr(i.industry, 1, 1), 'unclassified') AS section, \
         CAST(COUNT(*) AS BIGINT) AS n FROM participants p LEFT JOIN enterprise_industries i ON i.uscc = p.uscc \
         WHERE p.role = '{}' AND p.state = '{}' GROUP BY substr(p.uscc, 3, 4), COALESCE(substr(i.industry, 1, 1), 'unclassified')",
        Role::Enterprise.as_str(),
        ParticipantState::Active.as_str()
    );
    let rows: Vec<HeadSection> = crate::on_backend!(&mut *conn, |c| diesel::sql_query(&sql).load(c))?;
    Ok(rows.into_iter().map(|r| (r.head, r.section, r.n)).collect())
}
