//! The streaming verifier itself: [`LogAuditor`], its options ([`AuditOptions`]) and the replay of
//! the entries — checks (a) to (d) of the module table: every leaf parses and sits at its position,
//! time never decreases, every supplied record opens its leaf's commitment, and the grant and
//! subject chains point at the latest earlier entry on the same chain.
//!
//! Guarantees: every entry is pushed into the [`CompactRange`](crate::log::merkle::CompactRange)
//! whatever its checks found, so roots are recomputed over exactly the bytes given; the chain maps
//! are keyed with a per-auditor random key, so a hostile bundle cannot choose colliding keys.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::Value;
use time::OffsetDateTime;

use super::bundle::BundleHeader;
use super::checkpoints::{Cp, RootStatus, Trusted};
use super::fast::is_canonical_json;
use super::report::{Check, DEFAULT_MAX_FAILURES, Failure};
use crate::crypto::jcs;
use crate::log::checkpoint::{Checkpoint, CheckpointError, CheckpointPolicy};
use crate::log::entry::{Leaf, NO_PREVIOUS, record_commitment};
use crate::log::merkle::{self, CompactRange};
use crate::log::note::{Note, SignatureType, VerifierKey};

/// How an entry's record is supplied.
#[derive(Debug, Clone, Copy)]
pub enum RecordOpening<'a> {
    /// Not supplied at all (leaves only): check (c) does not apply.
    NotSupplied,
    /// Erased: salt and record both gone.
    Erased,
    /// The 32-byte salt and the record.
    Open {
        /// The salt.
        salt: &'a [u8; 32],
        /// The record.
        record: &'a Value,
    },
    /// The 32-byte salt and the record as JSON text (parsed as strict I-JSON and canonicalized by the
    /// verifier, so the text need not be canonical).
    OpenJson {
        /// The salt.
        salt: &'a [u8; 32],
        /// The record's JSON text.
        json: &'a [u8],
    },
}

/// A record opening as [`LogAuditor`] gets it internally.
pub(super) enum Opening<'a> {
    /// From a caller of [`LogAuditor::push_entry`].
    Given(RecordOpening<'a>),
    /// The salt and the record's RFC 8785 form, hashed as it is.
    Canonical {
        /// The salt.
        salt: &'a [u8; 32],
        /// The canonical record.
        json: &'a [u8],
    },
    /// A record that is not strict I-JSON, and why.
    Invalid(String),
}

/// What to trust.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// The log's note key, pinned by the caller. `None`: use the key the header states (then nothing
    /// ties the bundle to the node; [`AuditReport::key_pinned`](super::AuditReport::key_pinned) says so).
    pub log_key: Option<VerifierKey>,
    /// Witness cosigner keys (type `0x04`).
    pub witnesses: Vec<VerifierKey>,
    /// Distinct witnesses that must have cosigned the newest checkpoint and the trusted one.
    pub quorum: usize,
    /// Require the quorum on every checkpoint, not only the newest and the trusted one. Off by
    /// default: the node stores a checkpoint before witnesses cosign it and only the newest is sent
    /// to them, so older ones may lack cosignatures; they are bound to the newest by consistency.
    pub quorum_on_every_checkpoint: bool,
    /// A checkpoint note saved earlier (e.g. by a regulator), which the log must extend.
    pub trusted_checkpoint: Option<String>,
    /// The verification time (cosignatures dated later than this plus the allowed skew do not
    /// count).
    pub now: OffsetDateTime,
    /// Failures kept in the report.
    pub max_failures: usize,
}

impl AuditOptions {
    /// No pinned key, no witnesses, no trusted checkpoint.
    pub fn new(now: OffsetDateTime) -> Self {
        Self {
            log_key: None,
            witnesses: Vec::new(),
            quorum: 0,
            quorum_on_every_checkpoint: false,
            trusted_checkpoint: None,
            now,
            max_failures: DEFAULT_MAX_FAILURES,
        }
    }
}

/// Options that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditConfigError {
    /// The witness keys or the quorum are unusable.
    #[error("witness policy: {0}")]
    Policy(#[from] CheckpointError),
    /// The trusted checkpoint is not a checkpoint note.
    #[error("trusted checkpoint: {0}")]
    Trusted(String),
}

/// The latest entry of each grant digest or subject tag seen so far.
type ChainHeads = HashMap<[u8; 32], u64, ChainHashing>;

/// The hash of the chain maps' keys. They are digests and tags read from the bundle, which a hostile
/// producer chooses, so the hash is keyed (`foldhash`'s per-map random seed keeps their buckets
/// unpredictable); but it is much cheaper than SipHash. See "Library code on the fast path" in the
/// module documentation for the measurement behind the choice.
type ChainHashing = foldhash::fast::RandomState;

/// The streaming verifier. See the module documentation.
#[derive(Debug)]
pub struct LogAuditor {
    pub(super) opts: AuditOptions,
    pub(super) trusted: Option<Trusted>,
    pub(super) header: Option<BundleHeader>,
    pub(super) policy: Option<CheckpointPolicy>,
    pub(super) quorum_policy: Option<CheckpointPolicy>,
    pub(super) log_key: Option<VerifierKey>,
    /// The key records read (spec/access-log.md §5.5), and the history they verify to from the
    /// pinned key.
    pub(super) key_notes: Vec<String>,
    pub(super) history: Option<crate::log::keys::KeyHistory>,
    pub(super) key_failed: bool,
    pub(super) trusted_checked: bool,
    pub(super) range: CompactRange,
    pub(super) last_time: u64,
    grant_heads: ChainHeads,
    subject_heads: ChainHeads,
    pub(super) checkpoints: BTreeMap<u64, Cp>,
    pub(super) seen_notes: HashSet<String>,
    pub(super) seen_consistency: BTreeSet<(u64, u64)>,
    pub(super) proven: BTreeSet<(u64, u64)>,
    pub(super) next_target: u64,
    pub(super) last_good: u64,
    pub(super) root_mismatched: bool,
    pub(super) records_opened: u64,
    pub(super) records_erased: u64,
    pub(super) records_not_supplied: u64,
    /// (position key, check, discovery order, failure)
    pub(super) failures: Vec<(u64, Check, usize, Failure)>,
    pub(super) per_check: [u32; Check::ALL.len()],
    pub(super) omitted: u64,
    pub(super) discovered: usize,
    pub(super) headerless_reported: bool,
    /// Reused buffer for canonical records.
    pub(super) canonical: Vec<u8>,
}

impl LogAuditor {
    /// A verifier with these options. Fails if the witness policy cannot be met or the trusted
    /// checkpoint is not a checkpoint note (its signature is checked once the header names the log).
    pub fn new(opts: AuditOptions) -> Result<Self, AuditConfigError> {
        // Validate the witness policy now, with a placeholder origin.
        if let Some(key) = &opts.log_key {
            CheckpointPolicy::new(key.name(), key.clone(), opts.witnesses.clone(), opts.quorum)?;
        } else {
            for w in &opts.witnesses {
                if w.sig_type() != SignatureType::CosignatureV1 {
                    return Err(AuditConfigError::Policy(CheckpointError::WrongKeyType {
                        name: w.name().to_owned(),
                        expected: SignatureType::CosignatureV1,
                        found: w.sig_type(),
                    }));
                }
            }
            let mut names: Vec<&str> = opts.witnesses.iter().map(VerifierKey::name).collect();
            names.sort_unstable();
            names.dedup();
            if opts.quorum > names.len() {
                return Err(AuditConfigError::Policy(CheckpointError::QuorumUnreachable {
                    quorum: opts.quorum,
                    witnesses: names.len(),
                }));
            }
        }
        let trusted = match &opts.trusted_checkpoint {
            None => None,
            Some(text) => {
                let note =
                    Note::parse(text.as_bytes()).map_err(|e| AuditConfigError::Trusted(e.to_string()))?;
                let cp = Checkpoint::parse_body(note.text())
                    .map_err(|e| AuditConfigError::Trusted(e.to_string()))?;
                Some(Trusted {
                    size: cp.size(),
                    root: *cp.root(),
                    note: text.clone(),
                    verified: false,
                    status: RootStatus::Pending,
                })
            }
        };
        Ok(Self {
            opts,
            trusted,
            header: None,
            policy: None,
            quorum_policy: None,
            log_key: None,
            key_notes: Vec::new(),
            history: None,
            key_failed: false,
            trusted_checked: false,
            range: CompactRange::new(),
            last_time: 0,
            grant_heads: ChainHeads::default(),
            subject_heads: ChainHeads::default(),
            checkpoints: BTreeMap::new(),
            seen_notes: HashSet::new(),
            seen_consistency: BTreeSet::new(),
            proven: BTreeSet::new(),
            next_target: u64::MAX,
            last_good: 0,
            root_mismatched: false,
            records_opened: 0,
            records_erased: 0,
            records_not_supplied: 0,
            failures: Vec::new(),
            per_check: [0; Check::ALL.len()],
            omitted: 0,
            discovered: 0,
            headerless_reported: false,
            canonical: Vec::with_capacity(4096),
        })
    }

    /// Entries read so far (the position of the next one).
    pub fn entries(&self) -> u64 {
        self.range.size()
    }

    /// The header, once given.
    pub fn header(&self) -> Option<&BundleHeader> {
        self.header.as_ref()
    }

    /// A leaf without its record (leaves only, as `GET /v1/log/leaves` serves them).
    pub fn push_leaf(&mut self, leaf: &[u8]) {
        self.push_entry(None, leaf, RecordOpening::NotSupplied);
    }

    /// The next entry: its leaf bytes, the index its source claims for it (a bundle line's `i`),
    /// and its record.
    pub fn push_entry(&mut self, claimed_index: Option<u64>, leaf_bytes: &[u8], opening: RecordOpening<'_>) {
        self.push_entry_with(claimed_index, leaf_bytes, Opening::Given(opening));
    }

    pub(super) fn push_entry_with(
        &mut self,
        claimed_index: Option<u64>,
        leaf_bytes: &[u8],
        opening: Opening<'_>,
    ) {
        let p = self.range.size();
        if self.header.is_none() && !self.headerless_reported {
            self.headerless_reported = true;
            let msg = "entries come before the header".to_owned();
            self.fail(Check::Bundle, 0, None, None, None, msg);
        }
        let mut in_place = true;
        if let Some(i) = claimed_index {
            if i != p {
                in_place = false;
                let msg = if i > p {
                    if p == 0 {
                        format!("entry {p} is missing: the bundle starts with entry {i}")
                    } else {
                        format!("entry {p} is missing: entry {} is followed by entry {i}", p - 1)
                    }
                } else {
                    format!("entry {i} appears again at position {p} (duplicated or out of order)")
                };
                self.fail(Check::Sequence, p + 1, Some(p), None, None, msg);
            }
        }
        let hash = merkle::leaf_hash(leaf_bytes);
        match Leaf::from_bytes(leaf_bytes) {
            Err(e) => {
                let msg = format!("entry {p}: the leaf does not parse: {e}");
                self.fail(Check::Leaf, p + 1, Some(p), None, None, msg);
            }
            Ok(leaf) => {
                if in_place && leaf.seq != p {
                    let msg = format!(
                        "entry {p}: the leaf at this position carries seq {}: entries were moved, swapped, \
                         deleted or renumbered",
                        leaf.seq
                    );
                    self.fail(Check::Sequence, p + 1, Some(p), None, None, msg);
                }
                if leaf.time_ms < self.last_time {
                    let msg = format!(
                        "entry {p}: its time {} ms is before entry {}'s time {} ms (time never decreases)",
                        leaf.time_ms,
                        p.saturating_sub(1),
                        self.last_time
                    );
                    self.fail(Check::Time, p + 1, Some(p), None, None, msg);
                }
                self.last_time = self.last_time.max(leaf.time_ms);
                self.check_chain(p, &leaf.grant_digest, leaf.prev_same_grant, Check::GrantChain);
                self.check_chain(p, &leaf.subject_tag, leaf.prev_same_subject, Check::SubjectChain);
                self.check_record(p, &leaf, opening);
            }
        }
        if self.range.push(&hash).is_err() {
            let msg = "the log is full (2^64 − 1 entries)".to_owned();
            self.fail(Check::Bundle, p, None, None, None, msg);
            return;
        }
        if self.range.size() == self.next_target {
            self.reach();
        }
    }

    fn check_chain(&mut self, p: u64, key: &[u8; 32], prev: u64, check: Check) {
        let what = if check == Check::GrantChain {
            ("grant", "prev_same_grant")
        } else {
            ("subject", "prev_same_subject")
        };
        if *key == [0u8; 32] {
            if prev != NO_PREVIOUS {
                let msg = format!(
                    "entry {p}: it has no {} but its {} points at entry {prev}",
                    what.0, what.1
                );
                self.fail(check, p + 1, Some(p), None, None, msg);
            }
            return;
        }
        let heads = if check == Check::GrantChain {
            &mut self.grant_heads
        } else {
            &mut self.subject_heads
        };
        let expected = heads.insert(*key, p).unwrap_or(NO_PREVIOUS);
        if prev != expected {
            let msg = match (expected == NO_PREVIOUS, prev == NO_PREVIOUS) {
                (true, _) => format!(
                    "entry {p}: its {} points at entry {prev}, but it is the first entry on its {}",
                    what.1, what.0
                ),
                (false, true) => format!(
                    "entry {p}: its {} says it is the first entry on its {}, but entry {expected} is on the same {}",
                    what.1, what.0, what.0
                ),
                (false, false) => format!(
                    "entry {p}: its {} points at entry {prev}, but the latest earlier entry on the same {} is entry {expected}",
                    what.1, what.0
                ),
            };
            self.fail(check, p + 1, Some(p), None, None, msg);
        }
    }

    fn check_record(&mut self, p: u64, leaf: &Leaf, opening: Opening<'_>) {
        let opening = match opening {
            Opening::Given(o) => o,
            Opening::Canonical { salt, json } => {
                self.open_commitment(p, leaf, salt, json);
                return;
            }
            Opening::Invalid(e) => {
                let msg = format!("entry {p}: the record is not canonicalizable I-JSON (RFC 8785): {e}");
                self.fail(Check::Record, p + 1, Some(p), None, None, msg);
                return;
            }
        };
        let canonical = match opening {
            RecordOpening::NotSupplied => {
                self.records_not_supplied += 1;
                return;
            }
            RecordOpening::Erased => {
                self.records_erased += 1;
                return;
            }
            RecordOpening::Open { salt, record } => jcs::canonicalize(record)
                .map(|c| (salt, c))
                .map_err(|e| e.to_string()),
            RecordOpening::OpenJson { salt, json } if is_canonical_json(json) => {
                // Already its own RFC 8785 form (as the node writes it): hash it as it is.
                self.open_commitment(p, leaf, salt, json);
                return;
            }
            RecordOpening::OpenJson { salt, json } => {
                let mut buf = std::mem::take(&mut self.canonical);
                buf.clear();
                let r = crate::crypto::json::parse(json)
                    .map_err(|e| e.to_string())
                    .and_then(|node| jcs::write_node(&node, &mut buf).map_err(|e| e.to_string()));
                r.map(|()| (salt, buf))
            }
        };
        match canonical {
            Ok((salt, canonical)) => {
                self.open_commitment(p, leaf, salt, &canonical);
                self.canonical = canonical;
            }
            Err(e) => {
                let msg = format!("entry {p}: the record is not canonicalizable I-JSON (RFC 8785): {e}");
                self.fail(Check::Record, p + 1, Some(p), None, None, msg);
            }
        }
    }

    fn open_commitment(&mut self, p: u64, leaf: &Leaf, salt: &[u8; 32], canonical: &[u8]) {
        if record_commitment(salt, canonical) == leaf.record_commitment {
            self.records_opened += 1;
        } else {
            let msg = format!(
                "entry {p}: the record and its salt do not open the leaf's commitment (the record or \
                 the leaf was changed)"
            );
            self.fail(Check::Record, p + 1, Some(p), None, None, msg);
        }
    }
}
