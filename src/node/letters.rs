//! Authorization-letter versions published at run time by the node's operators (the built-in ones
//! come with the catalog). Versions are immutable; every process loads them at start.

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
    if let Ok(mut c) = node.catalog.write() {
        *c = Arc::new(next);
    }
    Ok(LetterPublished {
        id: letter.id,
        sha256: digest.to_hex(),
    })
}

/// Adds every stored letter to `catalog` (at start).
pub fn load(store: &Store, catalog: &mut Catalog) -> Result<usize> {
    let rows: Vec<String> = store.run(|c: &mut DbConn| stored::bodies(c))?;
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
