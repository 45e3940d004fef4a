//! The log's key history (spec/access-log.md §5.5): key records (signed notes) that introduce,
//! overlap and revoke the Ed25519 keys signing the log's checkpoints, with pre-rotation — every
//! record commits to the SHA-256 of the next key's public key, so a compromised current key cannot
//! name a successor.
//!
//! [`KeyHistory::verify`] walks a history from a pinned key and gives each key the range of tree
//! sizes it may sign (§5.5.2); [`KeyHistory::verify_checkpoint`] accepts a checkpoint iff a key
//! valid at its size signed it. Pure: no I/O, no clock.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;

use super::checkpoint::{Checkpoint, CheckpointError, CheckpointPolicy, VerifiedCheckpoint};
use super::note::{Note, NoteError, SignatureType, Signer, VerifierKey};
use crate::crypto::Sha256Digest;
use crate::crypto::ed25519::PublicKey;

/// The first line of a key record's text (§5.5.1).
pub const KEY_RECORD_HEADER: &str = "consentry/log-key/v1";

/// What a key record does (§5.5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyRecordKind {
    /// The first key.
    Genesis,
    /// A planned rollover: the pre-committed key joins the current one (the overlap begins).
    Planned,
    /// The end of the overlap: the previous key stops at `from`.
    Complete,
    /// An emergency rollover: the pre-committed key replaces every earlier key from `from`.
    Emergency,
}

impl KeyRecordKind {
    /// The word in the record's `kind` line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Genesis => "genesis",
            Self::Planned => "planned",
            Self::Complete => "complete",
            Self::Emergency => "emergency",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "genesis" => Self::Genesis,
            "planned" => Self::Planned,
            "complete" => Self::Complete,
            "emergency" => Self::Emergency,
            _ => return None,
        })
    }
}

/// Why a key record, a history or a checkpoint under a history was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyHistoryError {
    /// The record is not a signed note, or a signature by a key it names fails.
    #[error("key record {seq}: {source}")]
    Note {
        /// The record's position.
        seq: u64,
        /// The note error.
        source: NoteError,
    },
    /// The record's text is not the nine lines of §5.5.1.
    #[error("key record {seq}: {message}")]
    Malformed {
        /// The record's position.
        seq: u64,
        /// What is wrong.
        message: String,
    },
    /// The record breaks a rule of §5.5.1 (sequence, origin, hash chain, sizes, kind order).
    #[error("key record {seq}: {message}")]
    Rule {
        /// The record's position.
        seq: u64,
        /// The rule broken.
        message: String,
    },
    /// A key the record requires did not sign it (or its signature does not verify).
    #[error("key record {seq} ({kind}) is not signed by {key}")]
    MissingSignature {
        /// The record's position.
        seq: u64,
        /// The record's kind.
        kind: &'static str,
        /// The key whose signature is required.
        key: String,
    },
    /// The record introduces a key whose SHA-256 is not the one the previous record committed to:
    /// whoever made it did not hold the pre-committed next key.
    #[error("key record {seq} introduces {key}, which is not the key committed to in record {prev}")]
    NotPreCommitted {
        /// The record's position.
        seq: u64,
        /// The previous record.
        prev: u64,
        /// The key introduced.
        key: String,
    },
    /// The pinned key is neither the genesis key nor a key the history introduces.
    #[error("the pinned key {0} is not in the key history")]
    AnchorNotInHistory(String),
    /// The history is empty.
    #[error("the key history is empty")]
    Empty,
    /// The checkpoint does not verify under any key valid at its size.
    #[error("checkpoint {size}: {source}")]
    Checkpoint {
        /// Its size (0 if it did not parse).
        size: u64,
        /// The checkpoint error under the first key valid at that size.
        source: CheckpointError,
    },
    /// The checkpoint is signed only by keys of the history that are not valid at its size: before
    /// they were introduced, after their overlap ended, or past an emergency cut.
    #[error(
        "checkpoint {size} is signed only by {key}, which is not valid at size {size} (valid for sizes {range})"
    )]
    KeyRevoked {
        /// The checkpoint's size.
        size: u64,
        /// The key that signed it.
        key: String,
        /// Its range, `[from, until)`.
        range: String,
    },
}

/// One key record's fields (§5.5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// The log's origin.
    pub origin: String,
    /// The position in the history.
    pub seq: u64,
    /// What it does.
    pub kind: KeyRecordKind,
    /// The key it introduces (genesis, planned, emergency) or the current key (complete).
    pub key: VerifierKey,
    /// A tree size: from which the key signs, the overlap ends, or old keys are no longer trusted.
    pub from: u64,
    /// SHA-256 of the previous record's text (`None` for the genesis).
    pub prev: Option<[u8; 32]>,
    /// SHA-256 of the next key's 32-byte public key.
    pub next: [u8; 32],
    /// POSIX seconds when it was made (information only).
    pub time: u64,
}

/// SHA-256 of an Ed25519 public key: what a record's `next` line commits to.
pub fn next_key_digest(key: &PublicKey) -> [u8; 32] {
    Sha256Digest::of(&key.to_bytes()).0
}

/// SHA-256 of a record's text: what the following record's `prev` line holds.
pub fn record_digest(text: &str) -> [u8; 32] {
    Sha256Digest::of(text.as_bytes()).0
}

impl KeyRecord {
    /// The note text: the nine lines of §5.5.1.
    pub fn body(&self) -> String {
        let prev = self.prev.map_or_else(|| "-".to_owned(), |p| STANDARD.encode(p));
        format!(
            "{KEY_RECORD_HEADER}\norigin {}\nseq {}\nkind {}\nkey {}\nfrom {}\nprev {prev}\nnext {}\ntime {}\n",
            self.origin,
            self.seq,
            self.kind.as_str(),
            self.key.to_vkey(),
            self.from,
            STANDARD.encode(self.next),
            self.time
        )
    }

    /// Parses a record's text strictly (exact lines, canonical numbers and base64); `seq` is the
    /// position it is read at, for errors.
    pub fn parse_body(text: &str, seq: u64) -> Result<Self, KeyHistoryError> {
        let bad = |message: &str| KeyHistoryError::Malformed {
            seq,
            message: message.to_owned(),
        };
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| bad("the text does not end in a newline"))?;
        let lines: Vec<&str> = body.split('\n').collect();
        let [header, origin, s, kind, key, from, prev, next, time] = lines.as_slice() else {
            return Err(bad("a key record has nine lines"));
        };
        if *header != KEY_RECORD_HEADER {
            return Err(bad("the first line is not consentry/log-key/v1"));
        }
        let number = |line: &str, name: &str| -> Result<u64, KeyHistoryError> {
            let v = line_field(line, name, seq)?;
            super::checkpoint::parse_decimal_u64(v)
                .ok_or_else(|| bad(&format!("{name} is not a decimal number without leading zeroes")))
        };
        let digest = |v: &str, name: &str| -> Result<[u8; 32], KeyHistoryError> {
            STANDARD
                .decode(v)
                .ok()
                .and_then(|d| <[u8; 32]>::try_from(d.as_slice()).ok())
                .ok_or_else(|| bad(&format!("{name} is not the base64 of 32 bytes")))
        };
        let origin = line_field(origin, "origin", seq)?.to_owned();
        let record_seq = number(s, "seq")?;
        let kind = KeyRecordKind::parse(line_field(kind, "kind", seq)?).ok_or_else(|| bad("unknown kind"))?;
        let key = VerifierKey::parse(line_field(key, "key", seq)?).map_err(|e| bad(&format!("key: {e}")))?;
        if key.sig_type() != SignatureType::Ed25519 {
            return Err(bad("the key is not an Ed25519 note key (type 0x01)"));
        }
        let from = number(from, "from")?;
        let prev = match line_field(prev, "prev", seq)? {
            "-" => None,
            v => Some(digest(v, "prev")?),
        };
        let next = digest(line_field(next, "next", seq)?, "next")?;
        let time = number(time, "time")?;
        Ok(Self {
            origin,
            seq: record_seq,
            kind,
            key,
            from,
            prev,
            next,
            time,
        })
    }

    /// The record as a signed note (its text) signed by every one of `signers`.
    pub fn sign(&self, signers: &[&Signer]) -> Result<String, NoteError> {
        let mut note = Note::new(self.body())?;
        for s in signers {
            note.sign(s)?;
        }
        note.to_text()
    }
}

/// The tree sizes one key may sign: `[from, until)`, `until` `None` while it is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRange {
    /// The key.
    pub key: VerifierKey,
    /// The first size it may sign.
    pub from: u64,
    /// The first size it may no longer sign, once an overlap ended or an emergency cut it.
    pub until: Option<u64>,
}

impl KeyRange {
    /// Whether a checkpoint of `size` may be signed by this key.
    pub fn contains(&self, size: u64) -> bool {
        size >= self.from && self.until.is_none_or(|u| size < u)
    }

    fn describe(&self) -> String {
        match self.until {
            Some(u) => format!("[{}, {u})", self.from),
            None => format!("[{}, ∞)", self.from),
        }
    }
}

/// A verified key history: its records (note texts, in order) and each key's range (§5.5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHistory {
    origin: String,
    records: Vec<(KeyRecord, String)>,
    ranges: Vec<KeyRange>,
}

impl KeyHistory {
    /// A log without a key history (§5.5.3): `key` is valid at every size.
    pub fn single(origin: impl Into<String>, key: VerifierKey) -> Self {
        Self {
            origin: origin.into(),
            records: Vec::new(),
            ranges: vec![KeyRange {
                key,
                from: 0,
                until: None,
            }],
        }
    }

    /// Verifies the history `notes` (record note texts, `seq` 0 first) of the log `origin` from the
    /// pinned key `anchor`: the genesis must be signed by its own key, each later record must obey
    /// §5.5.1, and `anchor` must be the genesis key or a key a record introduces. Stops at the first
    /// bad record.
    pub fn verify(origin: &str, anchor: &VerifierKey, notes: &[String]) -> Result<Self, KeyHistoryError> {
        let (history, error) = Self::verify_prefix(origin, anchor, notes);
        match (history, error) {
            (_, Some(e)) => Err(e),
            (Some(h), None) => Ok(h),
            (None, None) => Err(KeyHistoryError::Empty),
        }
    }

    /// Like [`Self::verify`], but also gives the history of the records that verified before the
    /// first bad one (`None` if the genesis itself is bad or the anchor is not among them).
    pub fn verify_prefix(
        origin: &str,
        anchor: &VerifierKey,
        notes: &[String],
    ) -> (Option<Self>, Option<KeyHistoryError>) {
        if notes.is_empty() {
            return (None, Some(KeyHistoryError::Empty));
        }
        let mut history: Option<Self> = None;
        let mut error = None;
        for text in notes {
            let step = if let Some(h) = history.as_mut() {
                h.append(text)
            } else {
                Self::genesis(origin, text).map(|h| history = Some(h))
            };
            if let Err(e) = step {
                error = Some(e);
                break;
            }
        }
        match history {
            Some(h) if h.ranges.iter().any(|r| &r.key == anchor) => (Some(h), error),
            // The anchor may lie beyond the bad record: report the record.
            _ if error.is_some() => (None, error),
            _ => (None, Some(KeyHistoryError::AnchorNotInHistory(anchor.to_vkey()))),
        }
    }

    fn genesis(origin: &str, text: &str) -> Result<Self, KeyHistoryError> {
        let (record, note) = read(text, 0)?;
        let rule = |message: &str| KeyHistoryError::Rule {
            seq: 0,
            message: message.to_owned(),
        };
        if record.kind != KeyRecordKind::Genesis {
            return Err(rule("the first record is not a genesis"));
        }
        check_common(&record, origin, 0)?;
        if record.from != 0 || record.prev.is_some() {
            return Err(rule("a genesis has from 0 and prev -"));
        }
        require_signatures(&record, note, &[&record.key])?;
        Ok(Self {
            origin: origin.to_owned(),
            ranges: vec![KeyRange {
                key: record.key.clone(),
                from: 0,
                until: None,
            }],
            records: vec![(record, text.to_owned())],
        })
    }

    /// Verifies one more record (the next `seq`) and applies it (§5.5.1, §5.5.2).
    pub fn append(&mut self, text: &str) -> Result<(), KeyHistoryError> {
        let seq = self.records.len() as u64;
        let (record, note) = read(text, seq)?;
        let rule = |message: String| KeyHistoryError::Rule { seq, message };
        let Some((last, last_text)) = self.records.last() else {
            return Err(KeyHistoryError::Empty);
        };
        check_common(&record, &self.origin, seq)?;
        let last_body =
            Note::parse(last_text.as_bytes()).map_err(|source| KeyHistoryError::Note { seq, source })?;
        if record.prev != Some(record_digest(last_body.text())) {
            return Err(rule(format!("prev is not the SHA-256 of record {}", seq - 1)));
        }
        if record.from < last.from {
            return Err(rule(format!(
                "from {} is below record {}'s from {}",
                record.from,
                seq - 1,
                last.from
            )));
        }
        let open: Vec<usize> = (0..self.ranges.len())
            .filter(|&i| self.ranges[i].until.is_none())
            .collect();
        let current = self.current().clone();
        let introduces = matches!(record.kind, KeyRecordKind::Planned | KeyRecordKind::Emergency);
        if introduces {
            if next_key_digest(record.key.public_key()) != last.next {
                return Err(KeyHistoryError::NotPreCommitted {
                    seq,
                    prev: seq - 1,
                    key: record.key.to_vkey(),
                });
            }
            if self.ranges.iter().any(|r| r.key == record.key) {
                return Err(rule("the key is already in the history".into()));
            }
        }
        match record.kind {
            KeyRecordKind::Genesis => return Err(rule("a genesis can only be the first record".into())),
            KeyRecordKind::Planned => {
                if open.len() != 1 {
                    return Err(rule("a planned rollover while an overlap is open".into()));
                }
                require_signatures(&record, note, &[&current, &record.key])?;
                self.ranges.push(KeyRange {
                    key: record.key.clone(),
                    from: record.from,
                    until: None,
                });
            }
            KeyRecordKind::Complete => {
                if open.len() != 2 || record.key != current {
                    return Err(rule(
                        "a complete record ends an open overlap, under its new key".into(),
                    ));
                }
                if record.next != last.next {
                    return Err(rule("a complete record restates the latest next".into()));
                }
                require_signatures(&record, note, &[&current])?;
                if let Some(r) = open.first().and_then(|&i| self.ranges.get_mut(i)) {
                    r.until = Some(record.from);
                }
            }
            KeyRecordKind::Emergency => {
                require_signatures(&record, note, &[&record.key])?;
                for r in &mut self.ranges {
                    if r.until.is_none_or(|u| u > record.from) {
                        r.until = Some(record.from);
                    }
                }
                self.ranges.push(KeyRange {
                    key: record.key.clone(),
                    from: record.from,
                    until: None,
                });
            }
        }
        self.records.push((record, text.to_owned()));
        Ok(())
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The records, in order, with their note texts (empty for [`Self::single`]).
    pub fn records(&self) -> &[(KeyRecord, String)] {
        &self.records
    }

    /// Every key with its range, in the order introduced.
    pub fn ranges(&self) -> &[KeyRange] {
        &self.ranges
    }

    /// The newest key (the one the node signs credentials with).
    pub fn current(&self) -> &VerifierKey {
        // Never empty: every constructor pushes a range.
        &self.ranges[self.ranges.len() - 1].key
    }

    /// The first key (the genesis key).
    pub fn first(&self) -> &VerifierKey {
        &self.ranges[0].key
    }

    /// The `next` commitment of the latest record (`None` for [`Self::single`]).
    pub fn next_commitment(&self) -> Option<[u8; 32]> {
        self.records.last().map(|(r, _)| r.next)
    }

    /// The latest record, if any.
    pub fn latest(&self) -> Option<&KeyRecord> {
        self.records.last().map(|(r, _)| r)
    }

    /// Whether a planned overlap is open (two keys sign).
    pub fn overlap_open(&self) -> bool {
        self.ranges.iter().filter(|r| r.until.is_none()).count() > 1
    }

    /// The keys no `emergency` record cut (§5.5.1: an emergency distrusts every earlier key): every
    /// key when there was none, else the latest emergency's key and those introduced after it.
    /// These still speak for the log's owner, whether or not they sign checkpoints any more.
    pub fn keys_never_cut(&self) -> impl Iterator<Item = &VerifierKey> {
        let cut = self
            .records
            .iter()
            .rev()
            .find(|(r, _)| r.kind == KeyRecordKind::Emergency)
            .map(|(r, _)| &r.key);
        self.ranges
            .iter()
            .skip_while(move |r| cut.is_some_and(|k| &r.key != k))
            .map(|r| &r.key)
    }

    /// The keys that may sign a checkpoint of `size`.
    pub fn keys_at(&self, size: u64) -> Vec<&VerifierKey> {
        self.ranges
            .iter()
            .filter(|r| r.contains(size))
            .map(|r| &r.key)
            .collect()
    }

    /// Whether `key` is a key of the history (valid at some size).
    pub fn contains(&self, public_key: &PublicKey) -> bool {
        self.ranges.iter().any(|r| r.key.public_key() == public_key)
    }

    /// Verifies a signed checkpoint (§5.5.2): every signature by a key of the history must verify,
    /// and one by a key valid at the checkpoint's size must be among them, under the policy of that
    /// key with `witnesses` and `quorum` ([`CheckpointPolicy::verify_note`]).
    pub fn verify_checkpoint(
        &self,
        signed: &[u8],
        witnesses: &[VerifierKey],
        quorum: usize,
        now: OffsetDateTime,
    ) -> Result<VerifiedCheckpoint, KeyHistoryError> {
        let fail = |size: u64, e: CheckpointError| KeyHistoryError::Checkpoint { size, source: e };
        let note = Note::parse(signed).map_err(|e| fail(0, e.into()))?;
        let size = Checkpoint::parse_body(note.text()).map(|c| c.size()).unwrap_or(0);
        let all: Vec<VerifierKey> = self.ranges.iter().map(|r| r.key.clone()).collect();
        let verified = match note.clone().verify(&all) {
            Ok(v) => v,
            Err(NoteError::NoVerifiedSignature) => {
                let key = self
                    .keys_at(size)
                    .first()
                    .map_or_else(|| self.current().to_vkey(), |k| k.to_vkey());
                return Err(fail(size, CheckpointError::NotSignedByLog(key)));
            }
            Err(e) => return Err(fail(size, e.into())),
        };
        let mut first_error = None;
        for key in self.keys_at(size) {
            if !verified.is_verified_by(key) {
                continue;
            }
            let policy = CheckpointPolicy::new(self.origin.clone(), key.clone(), witnesses.to_vec(), quorum)
                .map_err(|e| fail(size, e))?;
            match policy.verify_note(note.clone(), now) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_error {
            return Err(fail(size, e));
        }
        let by = verified
            .verified()
            .first()
            .map(|v| v.key().clone())
            .unwrap_or_else(|| self.current().clone());
        let range = self
            .ranges
            .iter()
            .find(|r| r.key == by)
            .map(KeyRange::describe)
            .unwrap_or_default();
        Err(KeyHistoryError::KeyRevoked {
            size,
            key: by.to_vkey(),
            range,
        })
    }
}

/// The value of the line `<name> <value>`.
fn line_field<'a>(line: &'a str, name: &str, seq: u64) -> Result<&'a str, KeyHistoryError> {
    line.strip_prefix(name)
        .and_then(|r| r.strip_prefix(' '))
        .ok_or_else(|| KeyHistoryError::Malformed {
            seq,
            message: format!("expected a line `{name} …`"),
        })
}

fn read(text: &str, seq: u64) -> Result<(KeyRecord, Note), KeyHistoryError> {
    let note = Note::parse(text.as_bytes()).map_err(|source| KeyHistoryError::Note { seq, source })?;
    let record = KeyRecord::parse_body(note.text(), seq)?;
    Ok((record, note))
}

fn check_common(record: &KeyRecord, origin: &str, seq: u64) -> Result<(), KeyHistoryError> {
    let rule = |message: String| KeyHistoryError::Rule { seq, message };
    if record.seq != seq {
        return Err(rule(format!("seq {} at position {seq}", record.seq)));
    }
    if record.origin != origin {
        return Err(rule(format!("origin {:?}, not {origin:?}", record.origin)));
    }
    if record.key.name() != origin {
        return Err(rule(format!(
            "the key is named {:?}, not the origin",
            record.key.name()
        )));
    }
    Ok(())
}

/// Checks that each of `required` signed `note` (and that no signature by them fails).
fn require_signatures(
    record: &KeyRecord,
    note: Note,
    required: &[&VerifierKey],
) -> Result<(), KeyHistoryError> {
    let keys: Vec<VerifierKey> = required.iter().map(|k| (*k).clone()).collect();
    let missing = |key: &VerifierKey| KeyHistoryError::MissingSignature {
        seq: record.seq,
        kind: record.kind.as_str(),
        key: key.to_vkey(),
    };
    let verified = match note.verify(&keys) {
        Ok(v) => v,
        Err(NoteError::NoVerifiedSignature | NoteError::InvalidSignature { .. }) => {
            return Err(missing(required[0]));
        }
        Err(source) => {
            return Err(KeyHistoryError::Note {
                seq: record.seq,
                source,
            });
        }
    };
    for k in required {
        if !verified.is_verified_by(k) {
            return Err(missing(k));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::ed25519::SecretKey;
    use crate::log::checkpoint::Checkpoint;
    use time::macros::datetime;

    const ORIGIN: &str = "node.example/consentry/access-log";
    const NOW: OffsetDateTime = datetime!(2026-12-07 10:00 UTC);

    fn key(seed: u8) -> SecretKey {
        SecretKey::from_seed(&[seed; 32])
    }

    fn signer(seed: u8) -> Signer {
        Signer::new(ORIGIN, key(seed)).unwrap()
    }

    fn vkey(seed: u8) -> VerifierKey {
        signer(seed).verifier_key()
    }

    /// A history 1 → 2 (planned at 10, complete at 20) → 3 (emergency from 25), with each
    /// record committing to the key of the next seed.
    struct Chain {
        notes: Vec<String>,
    }

    impl Chain {
        fn genesis() -> Self {
            let r = record(0, KeyRecordKind::Genesis, 1, 0, None, 2);
            Self {
                notes: vec![r.sign(&[&signer(1)]).unwrap()],
            }
        }

        fn prev(&self) -> Option<[u8; 32]> {
            let text = Note::parse(self.notes.last().unwrap().as_bytes()).unwrap();
            Some(record_digest(text.text()))
        }

        fn push(&mut self, kind: KeyRecordKind, key_seed: u8, from: u64, next_seed: u8, signers: &[u8]) {
            let r = record(
                self.notes.len() as u64,
                kind,
                key_seed,
                from,
                self.prev(),
                next_seed,
            );
            let s: Vec<Signer> = signers.iter().map(|&i| signer(i)).collect();
            let refs: Vec<&Signer> = s.iter().collect();
            self.notes.push(r.sign(&refs).unwrap());
        }

        fn full() -> Self {
            let mut c = Self::genesis();
            c.push(KeyRecordKind::Planned, 2, 10, 3, &[1, 2]);
            c.push(KeyRecordKind::Complete, 2, 20, 3, &[2]);
            c.push(KeyRecordKind::Emergency, 3, 25, 4, &[3]);
            c
        }
    }

    fn record(
        seq: u64,
        kind: KeyRecordKind,
        key_seed: u8,
        from: u64,
        prev: Option<[u8; 32]>,
        next_seed: u8,
    ) -> KeyRecord {
        KeyRecord {
            origin: ORIGIN.into(),
            seq,
            kind,
            key: vkey(key_seed),
            from,
            prev,
            next: next_key_digest(&key(next_seed).public_key()),
            time: 1_800_000_000 + seq,
        }
    }

    fn checkpoint(size: u64, seeds: &[u8]) -> String {
        let cp = Checkpoint::new(ORIGIN, size, [size as u8; 32]).unwrap();
        let mut note = Note::new(cp.body()).unwrap();
        for &s in seeds {
            note.sign(&signer(s)).unwrap();
        }
        note.to_text().unwrap()
    }

    fn verify(h: &KeyHistory, size: u64, seeds: &[u8]) -> Result<VerifiedCheckpoint, KeyHistoryError> {
        h.verify_checkpoint(checkpoint(size, seeds).as_bytes(), &[], 0, NOW)
    }

    #[test]
    fn record_text_round_trips_and_is_strict() {
        let r = record(0, KeyRecordKind::Genesis, 1, 0, None, 2);
        assert_eq!(KeyRecord::parse_body(&r.body(), 0).unwrap(), r);
        assert!(r.body().starts_with("consentry/log-key/v1\norigin node.example/consentry/access-log\nseq 0\nkind genesis\nkey node.example/consentry/access-log+"));
        for bad in [
            r.body().replace("seq 0", "seq 00"),
            r.body().replace("kind genesis", "kind other"),
            r.body().replace("prev -", "prev x"),
            r.body().replace("\ntime ", "\nextra 1\ntime "),
            r.body().trim_end().to_owned(),
        ] {
            assert!(
                matches!(
                    KeyRecord::parse_body(&bad, 0),
                    Err(KeyHistoryError::Malformed { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn planned_then_emergency_gives_each_key_its_range() {
        let c = Chain::full();
        let h = KeyHistory::verify(ORIGIN, &vkey(1), &c.notes).unwrap();
        let ranges: Vec<(u64, Option<u64>)> = h.ranges().iter().map(|r| (r.from, r.until)).collect();
        assert_eq!(ranges, vec![(0, Some(20)), (10, Some(25)), (25, None)]);
        assert_eq!(h.current(), &vkey(3));
        assert_eq!(h.first(), &vkey(1));
        assert!(!h.overlap_open());
        // Before, during (both keys), after the planned rollover, and after the emergency one.
        verify(&h, 5, &[1]).unwrap();
        verify(&h, 12, &[1, 2]).unwrap();
        verify(&h, 12, &[2]).unwrap();
        verify(&h, 12, &[1]).unwrap();
        verify(&h, 22, &[2]).unwrap();
        verify(&h, 30, &[3]).unwrap();
        verify(&h, 30, &[2, 3]).unwrap();
    }

    #[test]
    fn a_checkpoint_by_a_key_out_of_its_range_or_unknown_is_refused() {
        let h = KeyHistory::verify(ORIGIN, &vkey(1), &Chain::full().notes).unwrap();
        // The old key after its overlap ended, the new key before it began.
        assert!(matches!(
            verify(&h, 21, &[1]),
            Err(KeyHistoryError::KeyRevoked { size: 21, .. })
        ));
        assert!(matches!(
            verify(&h, 9, &[2]),
            Err(KeyHistoryError::KeyRevoked { size: 9, .. })
        ));
        // The compromised key past the emergency cut, even at a size it signed before the rollover.
        let e = verify(&h, 25, &[2]).unwrap_err();
        assert!(matches!(e, KeyHistoryError::KeyRevoked { size: 25, .. }), "{e}");
        assert!(e.to_string().contains("[10, 25)"), "{e}");
        // A key not in the history.
        assert!(matches!(
            verify(&h, 30, &[9]),
            Err(KeyHistoryError::Checkpoint {
                source: CheckpointError::NotSignedByLog(_),
                ..
            })
        ));
        // A bad signature by a key of the history rejects the note even with a good one beside it.
        let good = checkpoint(30, &[3]);
        let forged = checkpoint(31, &[2]);
        let (text, _) = good.split_once("\n\n").unwrap();
        let sig2 = forged.split_once("\n\n").unwrap().1;
        let mixed = format!("{text}\n\n{}{sig2}", good.split_once("\n\n").unwrap().1);
        assert!(matches!(
            h.verify_checkpoint(mixed.as_bytes(), &[], 0, NOW),
            Err(KeyHistoryError::Checkpoint {
                source: CheckpointError::Note(NoteError::InvalidSignature { .. }),
                ..
            })
        ));
    }

    #[test]
    fn tampered_records_are_refused() {
        let c = Chain::full();
        // An emergency signed by the compromised key for a key of its choosing: not pre-committed.
        let mut attack = Chain::genesis();
        attack.push(KeyRecordKind::Planned, 2, 10, 3, &[1, 2]);
        attack.push(KeyRecordKind::Emergency, 9, 25, 4, &[2, 9]);
        let e = KeyHistory::verify(ORIGIN, &vkey(1), &attack.notes).unwrap_err();
        assert!(
            matches!(e, KeyHistoryError::NotPreCommitted { seq: 2, .. }),
            "{e}"
        );
        // An emergency naming the pre-committed key but signed only by the old key.
        let mut unsigned = Chain::genesis();
        unsigned.push(KeyRecordKind::Emergency, 2, 5, 3, &[1]);
        let e = KeyHistory::verify(ORIGIN, &vkey(1), &unsigned.notes).unwrap_err();
        assert!(
            matches!(
                e,
                KeyHistoryError::MissingSignature {
                    seq: 1,
                    kind: "emergency",
                    ..
                }
            ),
            "{e}"
        );
        // A planned rollover without the current key's signature.
        let mut half = Chain::genesis();
        half.push(KeyRecordKind::Planned, 2, 10, 3, &[2]);
        assert!(matches!(
            KeyHistory::verify(ORIGIN, &vkey(1), &half.notes),
            Err(KeyHistoryError::MissingSignature {
                seq: 1,
                kind: "planned",
                ..
            })
        ));
        // A record whose text was changed after signing (its signature no longer verifies).
        let mut edited = c.notes.clone();
        edited[3] = edited[3].replace("from 25", "from 26");
        assert!(matches!(
            KeyHistory::verify(ORIGIN, &vkey(1), &edited),
            Err(KeyHistoryError::MissingSignature { seq: 3, .. })
        ));
        // A record left out breaks the hash chain and the sequence.
        let skipped = vec![c.notes[0].clone(), c.notes[1].clone(), c.notes[3].clone()];
        assert!(matches!(
            KeyHistory::verify(ORIGIN, &vkey(1), &skipped),
            Err(KeyHistoryError::Rule { seq: 2, .. })
        ));
        // The prefix before a bad record still verifies.
        let (prefix, err) = KeyHistory::verify_prefix(ORIGIN, &vkey(1), &edited);
        assert_eq!(prefix.unwrap().records().len(), 3);
        assert!(err.is_some());
        // Another genesis key than the pinned one.
        assert!(matches!(
            KeyHistory::verify(ORIGIN, &vkey(7), &c.notes),
            Err(KeyHistoryError::AnchorNotInHistory(_))
        ));
        // A later key may be pinned instead.
        KeyHistory::verify(ORIGIN, &vkey(3), &c.notes).unwrap();
    }

    #[test]
    fn kind_order_is_enforced() {
        let mut twice = Chain::genesis();
        twice.push(KeyRecordKind::Planned, 2, 10, 3, &[1, 2]);
        twice.push(KeyRecordKind::Planned, 3, 12, 4, &[2, 3]);
        assert!(matches!(
            KeyHistory::verify(ORIGIN, &vkey(1), &twice.notes),
            Err(KeyHistoryError::Rule { seq: 2, .. })
        ));
        let mut lone = Chain::genesis();
        lone.push(KeyRecordKind::Complete, 1, 3, 2, &[1]);
        assert!(matches!(
            KeyHistory::verify(ORIGIN, &vkey(1), &lone.notes),
            Err(KeyHistoryError::Rule { seq: 1, .. })
        ));
        let mut back = Chain::genesis();
        back.push(KeyRecordKind::Planned, 2, 10, 3, &[1, 2]);
        back.push(KeyRecordKind::Complete, 2, 9, 3, &[2]);
        assert!(matches!(
            KeyHistory::verify(ORIGIN, &vkey(1), &back.notes),
            Err(KeyHistoryError::Rule { seq: 2, .. })
        ));
    }

    #[test]
    fn a_log_without_history_has_one_key_everywhere() {
        let h = KeyHistory::single(ORIGIN, vkey(1));
        verify(&h, 1, &[1]).unwrap();
        verify(&h, u64::MAX, &[1]).unwrap();
        assert!(verify(&h, 1, &[2]).is_err());
    }
}
