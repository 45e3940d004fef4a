//! The answers about authorization letters (the built-in ones of `spec/letters.json` and those the
//! node's operators publish): the list, one letter, a publication.

use serde::Serialize;

use crate::catalog::Letter;

/// One letter version in the list (`components/schemas/LetterSummary`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LetterSummary {
    /// `provider/version` (`LetterSummary.id`).
    pub id: String,
    /// The providing department's code (`LetterSummary.provider`).
    pub provider: String,
    /// The version, from 1 (`LetterSummary.version`).
    pub version: u32,
    /// `LetterSummary.titleZh`.
    pub title_zh: String,
    /// `LetterSummary.titleEn`.
    pub title_en: String,
    /// SHA-256 of the RFC 8785 canonical JSON of the whole letter, hex (`LetterSummary.sha256`).
    pub sha256: String,
}

/// `GET /v1/catalog/letters` (`components/schemas/LetterList`; built by
/// [`crate::node::letters::list`]): every letter version the node holds.
#[derive(Debug, Clone, Serialize)]
pub struct LetterList {
    /// `LetterList.letters`.
    pub letters: Vec<LetterSummary>,
}

/// `GET /v1/catalog/letters/{provider}/{version}` (`components/schemas/LetterAnswer`; built by
/// [`crate::node::letters::get`]): the whole letter and its digest.
#[derive(Debug, Clone, Serialize)]
pub struct LetterAnswer {
    /// The letter (`LetterAnswer.letter`).
    pub letter: Letter,
    /// SHA-256 of its RFC 8785 canonical JSON, hex (`LetterAnswer.sha256`).
    pub sha256: String,
}

/// `POST /v1/admin/letters` (`components/schemas/LetterPublished`; built by
/// [`crate::node::letters::publish`]): the new letter version's id and digest.
#[derive(Debug, Clone, Serialize)]
pub struct LetterPublished {
    /// `provider/version` (`LetterPublished.id`).
    pub id: String,
    /// SHA-256 of its RFC 8785 canonical JSON, hex (`LetterPublished.sha256`).
    pub sha256: String,
}
