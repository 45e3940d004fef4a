//! The evidence bundle's line format (spec/access-log.md §7.3): the header ([`BundleHeader`],
//! [`BUNDLE_FORMAT`]), entry, checkpoint and consistency lines, and how [`LogAuditor`] takes a line
//! ([`LogAuditor::push_metadata_line`] in pass 1, [`LogAuditor::push_line`] in pass 2).
//!
//! Guarantees: a line is exactly one of the five kinds (header, key record, entry, checkpoint, consistency) (unknown members refused); an entry's record
//! is read by the strict I-JSON reader, not by `serde_json`, so duplicate names are refused; a line
//! that is not JSON where entries are takes an entry's place and is reported there.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize};

use super::reader::trim_line;
use super::replay::{LogAuditor, Opening, RecordOpening};
use super::report::Check;
use crate::crypto::jcs;
use crate::log::entry::LEAF_LEN;

/// The `format` of an evidence bundle's header line.
pub const BUNDLE_FORMAT: &str = "consentry-evidence-bundle/v1";

/// An evidence bundle's first line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BundleHeader {
    /// [`BUNDLE_FORMAT`].
    pub format: String,
    /// The log's origin (checkpoint origin line, and the log key's name).
    pub origin: String,
    /// The log's note verifier key (vkey), as the producer states it.
    pub log_key: String,
    /// The first entry (0 in v1).
    pub from: u64,
    /// One past the last entry.
    pub to: u64,
}

/// A bundle line: the union of the five kinds, classified by which members are present.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawLine<'a> {
    #[serde(default)]
    i: Option<u64>,
    #[serde(default, borrow)]
    leaf: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "present")]
    salt: Option<Option<Cow<'a, str>>>,
    /// Only whether it is there and whether it is `null`: its canonical form comes from the strict
    /// I-JSON reader ([`LogAuditor::push_entry_line`]).
    #[serde(default, deserialize_with = "present")]
    record: Option<Option<serde::de::IgnoredAny>>,
    #[serde(default)]
    checkpoint: Option<String>,
    #[serde(default)]
    key_record: Option<String>,
    #[serde(default)]
    consistency: Option<ConsistencyLine>,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    origin: Option<String>,
    #[serde(default)]
    log_key: Option<String>,
    #[serde(default)]
    from: Option<u64>,
    #[serde(default)]
    to: Option<u64>,
}

/// A member that is present: `null` becomes `Some(None)`, absence stays `None` (by `default`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsistencyLine {
    from: u64,
    to: u64,
    proof: Vec<String>,
}

/// The prefix of the entry lines `consentry` writes (keys in sorted order, no spaces).
pub(super) const ENTRY_LINE_PREFIX: &[u8] = br#"{"i":"#;

impl LogAuditor {
    /// Pass 1 over a bundle: the header, checkpoint and consistency lines; entry lines (recognised
    /// by their prefix, or after parsing) are skipped.
    pub fn push_metadata_line(&mut self, line: &[u8]) {
        let line = trim_line(line);
        if line.is_empty() || line.starts_with(ENTRY_LINE_PREFIX) {
            return;
        }
        self.push_parsed(line, false);
    }

    /// Any bundle line (pass 2, or a single pass). Header, checkpoint and consistency lines already
    /// given in pass 1 are recognised and skipped.
    pub fn push_line(&mut self, line: &[u8]) {
        let line = trim_line(line);
        if line.is_empty() {
            return;
        }
        self.push_parsed(line, true);
    }

    fn push_parsed(&mut self, line: &[u8], entries: bool) {
        if entries && self.push_fast_entry(line, true, true).is_some() {
            return;
        }
        let position = self.range.size();
        let raw: RawLine<'_> = match serde_json::from_slice(line) {
            Ok(r) => r,
            Err(e) => {
                if entries {
                    // A line that is not JSON takes an entry's place when it is where entries are.
                    let msg = format!("entry {position}: the line is not a bundle line: {e}");
                    self.fail(Check::Bundle, position + 1, Some(position), None, None, msg);
                } else {
                    let msg = format!("a line is not a bundle line: {e}");
                    self.fail(Check::Bundle, 0, None, None, None, msg);
                }
                return;
            }
        };
        let is_entry = raw.i.is_some() || raw.leaf.is_some() || raw.salt.is_some() || raw.record.is_some();
        let is_header = raw.format.is_some()
            || raw.origin.is_some()
            || raw.log_key.is_some()
            || raw.from.is_some()
            || raw.to.is_some();
        let kinds = usize::from(is_entry)
            + usize::from(is_header)
            + usize::from(raw.checkpoint.is_some())
            + usize::from(raw.key_record.is_some())
            + usize::from(raw.consistency.is_some());
        if kinds != 1 {
            let msg = format!(
                "{}a line mixes or lacks the members of the five line kinds",
                if entries {
                    format!("near entry {position}: ")
                } else {
                    String::new()
                }
            );
            self.fail(Check::Bundle, position, None, None, None, msg);
            return;
        }
        if is_entry {
            if entries {
                self.push_entry_line(raw, line);
            }
        } else if is_header {
            match (raw.format, raw.origin, raw.log_key, raw.from, raw.to) {
                (Some(format), Some(origin), Some(log_key), Some(from), Some(to)) => {
                    self.push_header(BundleHeader {
                        format,
                        origin,
                        log_key,
                        from,
                        to,
                    });
                }
                _ => {
                    let msg = "the header lacks one of format, origin, logKey, from, to".to_owned();
                    self.fail(Check::Bundle, 0, None, None, None, msg);
                }
            }
        } else if let Some(note) = raw.key_record {
            // Pass 2 sees again the records pass 1 took.
            if !self.key_notes.contains(&note) {
                self.push_key_record(&note);
            }
        } else if let Some(note) = raw.checkpoint {
            self.push_checkpoint(&note);
        } else if let Some(c) = raw.consistency {
            let mut proof = Vec::with_capacity(c.proof.len());
            for h in &c.proof {
                let mut out = [0u8; 32];
                if hex::decode_to_slice(h, &mut out).is_err() {
                    if self.seen_consistency.insert((c.from, c.to)) {
                        let msg = format!(
                            "the consistency proof from {} to {} has a hash that is not 32 bytes of hex",
                            c.from, c.to
                        );
                        self.fail(
                            Check::Consistency,
                            c.to,
                            None,
                            Some(c.to),
                            Some((c.from, c.to)),
                            msg,
                        );
                    }
                    return;
                }
                proof.push(out);
            }
            self.push_consistency(c.from, c.to, &proof);
        }
    }

    /// An entry line read by `serde_json` (any member order and white space).
    fn push_entry_line(&mut self, raw: RawLine<'_>, line: &[u8]) {
        let p = self.range.size();
        let mut leaf = [0u8; LEAF_LEN + 2];
        let bytes: &[u8] = match raw.leaf.as_deref().map(|s| STANDARD.decode_slice(s, &mut leaf)) {
            Some(Ok(n)) => &leaf[..n],
            Some(Err(e)) => {
                let msg = format!("entry {p}: the leaf is not {LEAF_LEN} bytes of canonical base64: {e}");
                self.fail(Check::Leaf, p + 1, Some(p), None, None, msg);
                &[]
            }
            None => {
                let msg = format!("entry {p}: the line has no leaf");
                self.fail(Check::Leaf, p + 1, Some(p), None, None, msg);
                &[]
            }
        };
        let mut salt = [0u8; 32];
        let mut canonical = std::mem::take(&mut self.canonical);
        let opening = match (&raw.salt, &raw.record) {
            (None, None) => Opening::Given(RecordOpening::NotSupplied),
            (Some(None), Some(None)) => Opening::Given(RecordOpening::Erased),
            (Some(Some(s)), Some(Some(_))) => {
                if hex::decode_to_slice(s.as_ref(), &mut salt).is_err() {
                    let msg = format!("entry {p}: the salt is not 32 bytes of hex");
                    self.fail(Check::Record, p + 1, Some(p), None, None, msg);
                    Opening::Given(RecordOpening::NotSupplied)
                } else {
                    // The record as the strict I-JSON reader sees it (duplicate names refused, RFC
                    // 7493), not as `serde_json` does, in its canonical form.
                    canonical.clear();
                    let record = crate::crypto::json::parse(line)
                        .map_err(|e| e.to_string())
                        .and_then(|line| {
                            let record = line.get("record").ok_or("the record is missing")?;
                            jcs::write_node(record, &mut canonical).map_err(|e| e.to_string())
                        });
                    match record {
                        Ok(()) => Opening::Canonical {
                            salt: &salt,
                            json: &canonical,
                        },
                        Err(e) => Opening::Invalid(e),
                    }
                }
            }
            (s, r) => {
                let has_salt = matches!(s, Some(Some(_)));
                let has_record = matches!(r, Some(Some(_)));
                let msg = match (has_salt, has_record) {
                    (true, false) => format!("entry {p}: a salt without its record"),
                    (false, true) => format!("entry {p}: a record without its salt"),
                    _ => format!("entry {p}: salt and record must both be given, or both be null"),
                };
                self.fail(Check::Record, p + 1, Some(p), None, None, msg);
                Opening::Given(RecordOpening::NotSupplied)
            }
        };
        self.push_entry_with(raw.i, bytes, opening);
        self.canonical = canonical;
    }
}
