//! Authorization-letter versions published at run time by the node's operators (the built-in ones
//! come with the catalog). Versions are immutable; every process loads them at start and picks up
//! those published since by another process ([`refresh`], every few seconds): a second node process on
//! the same database, or `consentry admin publish-letter`.

use std::sync::Arc;

use super::Node;
use super::answers::letters::{LetterAnswer, LetterList, LetterPublished, LetterSummary};
use crate::catalog::{Catalog, Letter};
use crate::error::{Error, Result};
use crate::storage::letters::{self as stored, NewLetter};
use crate::storage::{DbConn, Store};

/// Every letter version the node holds, with its digest (`GET /v1/catalog/letters`).
pub fn list(node: &Node) -> LetterList {
    let c = node.catalog();
    LetterList {
        letters: c
            .letters()
            .map(|(l, d)| LetterSummary {
                id: l.id.clone(),
                provider: l.provider.clone(),
                version: l.version,
                title_zh: l.title_zh.clone(),
                title_en: l.title_en.clone(),
                sha256: d.to_hex(),
            })
            .collect(),
    }
}

/// One letter version, whole, with its digest; `404` when the node holds no such version.
pub fn get(node: &Node, provider: &str, version: u32) -> Result<LetterAnswer> {
    let c = node.catalog();
    let (l, d) = c
        .letter(&format!("{provider}/{version}"))
        .ok_or_else(|| Error::NotFound(format!("letter {provider}/{version}")))?;
    Ok(LetterAnswer {
        letter: l.clone(),
        sha256: d.to_hex(),
    })
}

/// Publishes a new letter version.
pub async fn publish(node: &Node, letter: Letter) -> Result<LetterPublished> {
    let mut next: Catalog = (*node.catalog()).clone();
    let digest = next.add_letter(letter.clone()).map_err(|e| {
        if e.0.contains("already exists") {
            Error::Conflict(e.0)
        } else {
            Error::invalid("letter", e.0)
        }
    })?;
    let body = serde_json::to_string(&letter).map_err(|e| Error::Internal(e.to_string()))?;
    let (id, provider, version, sha) = (
        letter.id.clone(),
        letter.provider.clone(),
        i64::from(letter.version),
        digest.to_hex(),
    );
    let now = node.now_ms();
    node.store
        .call(move |c| -> Result<usize> {
            let new = NewLetter {
                id: &id,
                provider: &provider,
                version,
                body: &body,
                sha256: &sha,
                published_at: now,
            };
            Ok(stored::insert(c, &new)?)
        })
        .await
        .map_err(|e| match e {
            Error::Storage(_) => Error::Conflict(format!("letter {} already exists", letter.id)),
            other => other,
        })?;
    drop(next);
    // Merged into the catalog served now (which a concurrent [`refresh`] may have changed).
    if let Ok(mut c) = node.catalog.write() {
        let mut merged: Catalog = (**c).clone();
        if merged.letter(&letter.id).is_none() {
            merged
                .add_letter(letter.clone())
                .map_err(|e| Error::Internal(e.0))?;
        }
        *c = Arc::new(merged);
    }
    Ok(LetterPublished {
        id: letter.id,
        sha256: digest.to_hex(),
    })
}

/// Adds every stored letter to `catalog` (at start).
pub fn load(store: &Store, catalog: &mut Catalog) -> Result<usize> {
    let rows: Vec<String> = store.run(|c: &mut DbConn| stored::bodies(c))?;
    add_missing(catalog, rows)
}

/// Adds to `catalog` the stored letters (JSON bodies) it does not hold yet; how many.
fn add_missing(catalog: &mut Catalog, rows: Vec<String>) -> Result<usize> {
    let mut n = 0;
    for body in rows {
        let l: Letter =
            serde_json::from_str(&body).map_err(|e| Error::Internal(format!("stored letter: {e}")))?;
        if catalog.letter(&l.id).is_none() {
            catalog.add_letter(l).map_err(|e| Error::Internal(e.0))?;
            n += 1;
        }
    }
    Ok(n)
}

/// Adds to the served catalog every stored letter it lacks: those another process published since
/// this one started or last looked. Returns how many were added. Run by [`super::background`]; the
/// merge happens under the catalog's write lock, so a letter published by this process meanwhile is
/// kept.
pub async fn refresh(node: &Node) -> Result<usize> {
    let ids: Vec<String> = node.store.call(|c| Ok::<_, Error>(stored::ids(c)?)).await?;
    let current = node.catalog();
    if ids.iter().all(|id| current.letter(id).is_some()) {
        return Ok(0);
    }
    let rows: Vec<String> = node.store.call(|c| Ok::<_, Error>(stored::bodies(c)?)).await?;
    let mut guard = node
        .catalog
        .write()
        .map_err(|_| Error::Internal("the catalog lock is poisoned".into()))?;
    let mut next: Catalog = (**guard).clone();
    let n = add_missing(&mut next, rows)?;
    if n > 0 {
        *guard = Arc::new(next);
    }
    Ok(n)
}
