//! Authorization-letter versions published at run time (`letters`): immutable once stored, each
//! keyed by its id; the body is the letter's JSON exactly as published.

use diesel::prelude::*;

use super::schema::letters;
use super::{DbConn, StorageResult};

/// A letter version to store.
#[derive(Debug, Clone, Copy)]
pub struct NewLetter<'a> {
    /// The letter's id (unique: storing an id twice fails).
    pub id: &'a str,
    /// The data provider the letter is for.
    pub provider: &'a str,
    /// Its version number.
    pub version: i64,
    /// The letter's JSON.
    pub body: &'a str,
    /// SHA-256 (hex) of the letter's canonical form.
    pub sha256: &'a str,
    /// When it was published, ms.
    pub published_at: i64,
}

/// Stores a letter version; fails (a constraint violation) if a letter with its id exists.
pub fn insert(conn: &mut DbConn, l: &NewLetter<'_>) -> StorageResult<usize> {
    Ok(diesel::insert_into(letters::table)
        .values((
            letters::id.eq(l.id),
            letters::provider.eq(l.provider),
            letters::version.eq(l.version),
            letters::body.eq(l.body),
            letters::sha256.eq(l.sha256),
            letters::published_at.eq(l.published_at),
        ))
        .execute(conn)?)
}

/// The bodies of every stored letter, in the order they were published.
pub fn bodies(conn: &mut DbConn) -> StorageResult<Vec<String>> {
    Ok(letters::table
        .order(letters::published_at.asc())
        .select(letters::body)
        .load(conn)?)
}

/// The ids of every stored letter (cheap: for processes checking whether another published one).
pub fn ids(conn: &mut DbConn) -> StorageResult<Vec<String>> {
    Ok(letters::table.select(letters::id).load(conn)?)
}
