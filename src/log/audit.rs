//! Auditing a whole access log (spec/access-log.md §8): a streaming verifier fed a log's header, its
//! entries in order, its signed checkpoints and the consistency proofs between them, which names the
//! first thing that does not hold. Pure: no clock (the verification time is passed in), and no I/O
//! but reading a bundle from any `Read + Seek` ([`audit_reader`]).
//!
//! What [`LogAuditor`] checks, with the [`Check`] each failure carries:
//!
//! | | check | failure |
//! |---|---|---|
//! | (a) | every leaf parses (136 bytes, version 1, known kind, zero flags) and its `seq` — and the bundle line's `i` — equal its position | [`Check::Leaf`], [`Check::Sequence`] |
//! | (b) | leaf times never decrease | [`Check::Time`] |
//! | (c) | every present record opens its leaf's commitment with its salt; an erased record (salt and record both `null`) is allowed and counted | [`Check::Record`] |
//! | (d) | `prev_same_grant` / `prev_same_subject` point at the latest earlier entry with the same grant digest / subject tag (or are 2^64 − 1) | [`Check::GrantChain`], [`Check::SubjectChain`] |
//! | (e) | the root recomputed at every checkpoint size equals that checkpoint's root | [`Check::Root`] |
//! | (f) | every checkpoint verifies under the log key (and the witness policy); every consistency proof between checkpoints verifies; no two checkpoints of one size differ | [`Check::Signature`], [`Check::Consistency`], [`Check::Fork`] |
//! | (g) | against a trusted checkpoint saved earlier: the log reaches its size and has its root there | [`Check::Rollback`], [`Check::Fork`] |
//!
//! # Order of the input, and speed
//!
//! Roots are recomputed with one [`CompactRange`] (`O(log n)` memory): a checkpoint given *before*
//! the stream of entries reaches its size is checked when it gets there, and a mismatch is narrowed
//! down to the entries between the last checkpoint that matched and this one. An evidence bundle
//! lists its checkpoints after its entries, so callers read it twice: first
//! [`LogAuditor::push_metadata_line`] for every line (it skips entry lines by their prefix), then
//! [`LogAuditor::push_line`] for every line ([`audit_bundle`] does both over a bundle in memory,
//! [`audit_reader`] over a file; both read in pass 1 only the lines before the first entry line and
//! after the last, and start again over every line if pass 2 meets a line between them that pass 1
//! would have read). A checkpoint given only after the entries passed its size is still covered,
//! through the chain of verified consistency proofs up to a checkpoint whose root was recomputed, but
//! a mismatch can then only be narrowed down to that chain.
//!
//! Per entry the leaf/tree part costs one leaf hash (3 SHA-256 blocks), one node hash amortised
//! (2 blocks) and two hash-map updates; opening a record adds SHA-256 of the salted record (about 13
//! blocks for a release record), which alone is most of the cost (`examples/audit_speed.rs`). Entry
//! lines in the form the node writes are cut apart without a JSON parser or allocation, and a record
//! whose text is already its RFC 8785 form — as the node writes it — is checked to be so in one pass
//! and hashed as it is; any other line is read by `serde_json`, and any other record parsed as strict
//! I-JSON and canonicalized.
//!
//! Library code on the fast path: lines are split with `memchr` and the chain maps hash with
//! `foldhash` (randomly seeded), where this module had a hand-written 64-byte-block newline finder
//! and a hand-written keyed folded-multiply hasher. Measured with `cargo run --release --example
//! audit_speed` (1,000,000 entries, best of 3 rounds, thread CPU time, 2-core shared machine,
//! alternating runs of both builds): hand-written 0.70–0.75 M entries/s with every record opened
//! and 2.18–2.27 M/s with records erased; libraries 0.71–0.76 M/s and 2.12–2.28 M/s. No measurable
//! difference, so the libraries. The JSON-string scanner (`next_special`) stays hand-written: no
//! library searches for the bytes it stops at.
//!
//! # Failures
//!
//! Failures are reported in log order — by the tree size at which they become visible to a streaming
//! verifier — so the first one is where the log first goes wrong. At most
//! [`AuditOptions::max_failures`] are kept, at most [`PER_CHECK_LIMIT`] of each check; the rest are
//! counted. After a checkpoint's root fails to match, later checkpoints cannot match either: only the
//! first is reported.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Bound;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use super::checkpoint::{Checkpoint, CheckpointError, CheckpointPolicy};
use super::entry::{LEAF_LEN, Leaf, NO_PREVIOUS, record_commitment};
use super::merkle::{self, CompactRange, EMPTY_ROOT, Hash};
use super::note::{Note, VerifierKey};
use crate::crypto::jcs;

/// The `format` of an evidence bundle's header line.
pub const BUNDLE_FORMAT: &str = "consentry-evidence-bundle/v1";

/// Default cap on the failures kept in a report.
pub const DEFAULT_MAX_FAILURES: usize = 100;

/// At most this many failures of one [`Check`] are kept; the rest are counted.
pub const PER_CHECK_LIMIT: u32 = 10;

/// What failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// The bundle itself: header, a line that is not one of the four kinds, counts.
    Bundle,
    /// (a) A leaf that does not parse.
    Leaf,
    /// (a) An entry not at its position: missing, duplicated, moved or renumbered.
    Sequence,
    /// (b) Time going backwards.
    Time,
    /// (c) A record that does not open its leaf's commitment.
    Record,
    /// (d) A broken grant chain.
    GrantChain,
    /// (d) A broken subject chain.
    SubjectChain,
    /// (e) A checkpoint whose root is not the root of the entries.
    Root,
    /// (f, g) Two checkpoints of one size with different roots, or entries that do not lead to the
    /// trusted checkpoint's root.
    Fork,
    /// (f) A consistency proof that does not verify.
    Consistency,
    /// (f) A checkpoint that does not verify under the log key and the witness policy.
    Signature,
    /// (g) The log is shorter than the trusted checkpoint.
    Rollback,
    /// (g) The trusted checkpoint itself does not verify.
    Trusted,
}

impl Check {
    /// Every check, in report order at equal positions.
    pub const ALL: [Check; 13] = [
        Check::Bundle,
        Check::Leaf,
        Check::Sequence,
        Check::Time,
        Check::Record,
        Check::GrantChain,
        Check::SubjectChain,
        Check::Root,
        Check::Fork,
        Check::Consistency,
        Check::Signature,
        Check::Rollback,
        Check::Trusted,
    ];

    /// The kebab-case name (the failure code on the command line).
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Bundle => "bundle",
            Check::Leaf => "leaf",
            Check::Sequence => "sequence",
            Check::Time => "time",
            Check::Record => "record",
            Check::GrantChain => "grant-chain",
            Check::SubjectChain => "subject-chain",
            Check::Root => "root",
            Check::Fork => "fork",
            Check::Consistency => "consistency",
            Check::Signature => "signature",
            Check::Rollback => "rollback",
            Check::Trusted => "trusted",
        }
    }

    fn slot(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    /// Which check.
    pub check: Check,
    /// The entry it names, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    /// The checkpoint it names (by tree size), if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<u64>,
    /// The entries implicated, `[start, end)`, when the failure cannot name one entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<(u64, u64)>,
    /// What is wrong, naming the entry or checkpoint.
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The outcome of an audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditReport {
    /// No failure.
    pub valid: bool,
    /// The log's origin, from the header.
    pub origin: Option<String>,
    /// The log key checkpoints were verified with (vkey).
    pub log_key: Option<String>,
    /// Whether that key was given by the caller (pinned) rather than taken from the bundle.
    pub key_pinned: bool,
    /// Entries read.
    pub entries: u64,
    /// Hex of the root recomputed over all entries read.
    pub root: String,
    /// Checkpoints whose signature verified and whose root was established (recomputed, or through
    /// consistency proofs to one that was).
    pub checkpoints: u64,
    /// The largest checkpoint size seen.
    pub newest_checkpoint: Option<u64>,
    /// Consistency proofs that verified.
    pub consistency_proofs: u64,
    /// Records that opened their commitments.
    pub records_opened: u64,
    /// Entries whose record and salt were erased.
    pub records_erased: u64,
    /// Entries read without their records (leaves only).
    pub records_not_supplied: u64,
    /// The trusted checkpoint's size, if one was given and verified.
    pub trusted_checkpoint: Option<u64>,
    /// Failures in log order (capped).
    pub failures: Vec<Failure>,
    /// Failures found beyond the cap.
    pub failures_omitted: u64,
}

impl AuditReport {
    /// The first failure in log order.
    pub fn first_failure(&self) -> Option<&Failure> {
        self.failures.first()
    }
}

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
enum Opening<'a> {
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
    /// ties the bundle to the node; [`AuditReport::key_pinned`] says so).
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RootStatus {
    /// Not reached yet.
    Pending,
    /// Recomputed and equal.
    Matched,
    /// Recomputed and different.
    Mismatched,
    /// Given after the stream passed its size.
    Late,
}

#[derive(Debug, Clone)]
struct Cp {
    root: Hash,
    note: String,
    status: RootStatus,
}

#[derive(Debug, Clone)]
struct Trusted {
    size: u64,
    root: Hash,
    note: String,
    /// Verified under the policy (after the header).
    verified: bool,
    status: RootStatus,
}

/// A bundle line: the union of the four kinds, classified by which members are present.
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

/// The latest entry of each grant digest or subject tag seen so far.
type ChainHeads = HashMap<[u8; 32], u64, ChainHashing>;

/// The hash of the chain maps' keys. They are digests and tags read from the bundle, which a hostile
/// producer chooses, so the hash is keyed (`foldhash`'s per-map random seed keeps their buckets
/// unpredictable); but it is much cheaper than SipHash. See "Library code on the fast path" in the
/// module documentation for the measurement behind the choice.
type ChainHashing = foldhash::fast::RandomState;

/// The prefix of the entry lines `consentry` writes (keys in sorted order, no spaces).
const ENTRY_LINE_PREFIX: &[u8] = br#"{"i":"#;

/// The streaming verifier. See the module documentation.
#[derive(Debug)]
pub struct LogAuditor {
    opts: AuditOptions,
    trusted: Option<Trusted>,
    header: Option<BundleHeader>,
    policy: Option<CheckpointPolicy>,
    quorum_policy: Option<CheckpointPolicy>,
    log_key: Option<VerifierKey>,
    range: CompactRange,
    last_time: u64,
    grant_heads: ChainHeads,
    subject_heads: ChainHeads,
    checkpoints: BTreeMap<u64, Cp>,
    seen_notes: HashSet<String>,
    seen_consistency: BTreeSet<(u64, u64)>,
    proven: BTreeSet<(u64, u64)>,
    next_target: u64,
    last_good: u64,
    root_mismatched: bool,
    records_opened: u64,
    records_erased: u64,
    records_not_supplied: u64,
    /// (position key, check, discovery order, failure)
    failures: Vec<(u64, Check, usize, Failure)>,
    per_check: [u32; Check::ALL.len()],
    omitted: u64,
    discovered: usize,
    headerless_reported: bool,
    /// Reused buffer for canonical records.
    canonical: Vec<u8>,
}

fn hex32(h: &Hash) -> String {
    hex::encode(h)
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
                if w.sig_type() != super::note::SignatureType::CosignatureV1 {
                    return Err(AuditConfigError::Policy(CheckpointError::WrongKeyType {
                        name: w.name().to_owned(),
                        expected: super::note::SignatureType::CosignatureV1,
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

    /// Whether any failure was found so far.
    pub fn has_failed(&self) -> bool {
        !self.failures.is_empty() || self.omitted > 0
    }

    fn fail(
        &mut self,
        check: Check,
        at: u64,
        index: Option<u64>,
        checkpoint: Option<u64>,
        range: Option<(u64, u64)>,
        message: String,
    ) {
        let slot = check.slot();
        if self.per_check[slot] >= PER_CHECK_LIMIT || self.failures.len() >= self.opts.max_failures {
            self.omitted += 1;
            return;
        }
        self.per_check[slot] += 1;
        self.discovered += 1;
        self.failures.push((
            at,
            check,
            self.discovered,
            Failure {
                check,
                index,
                checkpoint,
                range,
                message,
            },
        ));
    }

    /// Starts the log: its origin and the key it states. Must come before checkpoints and entries.
    pub fn push_header(&mut self, header: BundleHeader) {
        if let Some(h) = &self.header {
            if *h != header {
                let msg = "the bundle has a second, different header line".to_owned();
                self.fail(Check::Bundle, self.range.size(), None, None, None, msg);
            }
            return;
        }
        if header.format != BUNDLE_FORMAT {
            let msg = format!(
                "the header's format is {:?}, not {BUNDLE_FORMAT:?}",
                header.format
            );
            self.fail(Check::Bundle, 0, None, None, None, msg);
        }
        if header.from != 0 {
            let msg = format!(
                "the bundle starts at entry {}: a v1 bundle starts at entry 0",
                header.from
            );
            self.fail(Check::Bundle, 0, None, None, None, msg);
        }
        let key = match &self.opts.log_key {
            Some(k) => Some(k.clone()),
            None => match VerifierKey::parse(&header.log_key) {
                Ok(k) => Some(k),
                Err(e) => {
                    let msg = format!("the header's logKey is not a verifier key: {e}");
                    self.fail(Check::Bundle, 0, None, None, None, msg);
                    None
                }
            },
        };
        if let Some(k) = &key {
            if k.name() != header.origin {
                let msg = format!(
                    "the bundle is for the log {:?}, but the log key is named {:?} (the key name is the origin)",
                    header.origin,
                    k.name()
                );
                self.fail(Check::Bundle, 0, None, None, None, msg);
            }
            let every = if self.opts.quorum_on_every_checkpoint {
                self.opts.quorum
            } else {
                0
            };
            match CheckpointPolicy::new(
                header.origin.clone(),
                k.clone(),
                self.opts.witnesses.clone(),
                every,
            ) {
                Ok(p) => self.policy = Some(p),
                Err(e) => {
                    let msg = format!("cannot verify checkpoints: {e}");
                    self.fail(Check::Bundle, 0, None, None, None, msg);
                }
            }
            if self.opts.quorum > 0 && !self.opts.quorum_on_every_checkpoint {
                self.quorum_policy = CheckpointPolicy::new(
                    header.origin.clone(),
                    k.clone(),
                    self.opts.witnesses.clone(),
                    self.opts.quorum,
                )
                .ok();
            }
        }
        self.log_key = key;
        self.header = Some(header);
        self.verify_trusted();
    }

    fn verify_trusted(&mut self) {
        let Some(t) = &self.trusted else {
            return;
        };
        let policy = self.quorum_policy.as_ref().or(self.policy.as_ref());
        let result = match policy {
            Some(p) => p.verify(t.note.as_bytes(), self.opts.now).map(|_| ()),
            None => Err(CheckpointError::EmptyOrigin),
        };
        let size = t.size;
        match result {
            Ok(()) => {
                if let Some(t) = &mut self.trusted {
                    t.verified = true;
                }
                if let Some(cp) = self.checkpoints.get(&size) {
                    let (a, b) = (cp.root, self.trusted.as_ref().map_or(EMPTY_ROOT, |t| t.root));
                    if a != b {
                        self.fork_with_trusted(size, &a, &b);
                    }
                }
                self.settle_target_now_or_later(size);
            }
            Err(e) => {
                let msg = format!(
                    "the trusted checkpoint (size {size}) does not verify under the log key{}: {e}",
                    if self.quorum_policy.is_some() || self.opts.quorum_on_every_checkpoint {
                        " and the witness policy"
                    } else {
                        ""
                    }
                );
                self.fail(Check::Trusted, 0, None, Some(size), None, msg);
                self.trusted = None;
            }
        }
    }

    fn fork_with_trusted(&mut self, size: u64, bundle_root: &Hash, trusted_root: &Hash) {
        let msg = format!(
            "the log signed two checkpoints of size {size} with different roots — the trusted one \
             ({}) and the bundle's ({}): the log showed different histories to different readers",
            hex32(trusted_root),
            hex32(bundle_root)
        );
        self.fail(Check::Fork, size, None, Some(size), Some((0, size)), msg);
    }

    /// Checks a target now if the stream is at its size, marks it late if the stream passed it, or
    /// schedules it.
    fn settle_target_now_or_later(&mut self, size: u64) {
        let position = self.range.size();
        if size == position {
            self.reach();
        } else if size < position {
            if let Some(t) = self.trusted.as_mut().filter(|t| t.size == size) {
                t.status = RootStatus::Late;
            }
            if let Some(cp) = self.checkpoints.get_mut(&size) {
                cp.status = RootStatus::Late;
            }
        } else {
            self.next_target = self.next_target.min(size);
        }
    }

    fn recompute_next_target(&mut self) {
        let p = self.range.size();
        let cp = self
            .checkpoints
            .range((Bound::Excluded(p), Bound::Unbounded))
            .next()
            .map(|(s, _)| *s);
        let t = self
            .trusted
            .as_ref()
            .filter(|t| t.verified && t.size > p)
            .map(|t| t.size);
        self.next_target = cp.unwrap_or(u64::MAX).min(t.unwrap_or(u64::MAX));
    }

    /// The stream is at a target size: compare the recomputed root with the checkpoint and the
    /// trusted checkpoint of this size.
    fn reach(&mut self) {
        let size = self.range.size();
        let root = self.range.root();
        let mut cp_mismatch = None;
        if let Some(cp) = self.checkpoints.get_mut(&size) {
            if cp.status == RootStatus::Pending {
                if cp.root == root {
                    cp.status = RootStatus::Matched;
                } else {
                    cp.status = RootStatus::Mismatched;
                    cp_mismatch = Some(cp.root);
                }
            }
        }
        let cp_matched = cp_mismatch.is_none() && self.checkpoints.contains_key(&size);
        let mut trusted_mismatch = None;
        if let Some(t) = self.trusted.as_mut().filter(|t| t.verified && t.size == size) {
            if t.status == RootStatus::Pending {
                if t.root == root {
                    t.status = RootStatus::Matched;
                } else {
                    t.status = RootStatus::Mismatched;
                    trusted_mismatch = Some(t.root);
                }
            }
        }
        if let Some(signed) = cp_mismatch {
            if !self.root_mismatched {
                self.root_mismatched = true;
                let good = self.last_good;
                let msg = format!(
                    "checkpoint {size} does not match the entries: their root is {} but the checkpoint \
                     signed {}; the change lies in entries {good}..{size}{}",
                    hex32(&root),
                    hex32(&signed),
                    if good > 0 {
                        format!(" (the checkpoint of size {good} matched)")
                    } else {
                        String::new()
                    }
                );
                self.fail(Check::Root, size, None, Some(size), Some((good, size)), msg);
            } else {
                self.omitted += 1;
            }
        } else if cp_matched && !self.root_mismatched {
            self.last_good = size;
        }
        if let Some(trusted_root) = trusted_mismatch {
            let msg = format!(
                "the first {size} entries do not lead to the trusted checkpoint (size {size}): \
                 their root is {} but the trusted checkpoint signed {} — the log was rewritten at or \
                 before entry {}, e.g. its tail truncated and regrown with other entries",
                hex32(&root),
                hex32(&trusted_root),
                size.saturating_sub(1)
            );
            self.fail(Check::Fork, size, None, Some(size), Some((0, size)), msg);
        } else if self
            .trusted
            .as_ref()
            .is_some_and(|t| t.size == size && t.status == RootStatus::Matched)
            && !self.root_mismatched
        {
            self.last_good = self.last_good.max(size);
        }
        self.recompute_next_target();
    }

    /// A signed checkpoint note. Verified under the log key at once; its root is compared with the
    /// entries when the stream reaches its size. An identical note given twice counts once.
    pub fn push_checkpoint(&mut self, note: &str) {
        if self.seen_notes.contains(note) {
            return;
        }
        self.seen_notes.insert(note.to_owned());
        let position = self.range.size();
        let Some(policy) = &self.policy else {
            let msg = if self.header.is_none() {
                "a checkpoint comes before the header".to_owned()
            } else {
                "a checkpoint cannot be verified without a usable log key".to_owned()
            };
            self.fail(Check::Bundle, position, None, None, None, msg);
            return;
        };
        let verified = match policy.verify(note.as_bytes(), self.opts.now) {
            Ok(v) => v,
            Err(e) => {
                let size = Note::parse(note.as_bytes())
                    .ok()
                    .and_then(|n| Checkpoint::parse_body(n.text()).ok())
                    .map(|c| c.size());
                let key = self
                    .log_key
                    .as_ref()
                    .map(VerifierKey::to_vkey)
                    .unwrap_or_default();
                let msg = match size {
                    Some(s) => format!("checkpoint {s} does not verify under the log key {key}: {e}"),
                    None => format!("a checkpoint does not verify under the log key {key}: {e}"),
                };
                self.fail(Check::Signature, size.unwrap_or(0), None, size, None, msg);
                return;
            }
        };
        let size = verified.checkpoint().size();
        let root = *verified.checkpoint().root();
        if let Some(existing) = self.checkpoints.get(&size) {
            if existing.root != root {
                let msg = format!(
                    "the log signed two checkpoints of size {size} with different roots ({} and {})",
                    hex32(&existing.root),
                    hex32(&root)
                );
                self.fail(Check::Fork, size, None, Some(size), Some((0, size)), msg);
            }
            return;
        }
        if let Some(t) = self.trusted.as_ref().filter(|t| t.verified && t.size == size) {
            if t.root != root {
                let trusted_root = t.root;
                self.fork_with_trusted(size, &root, &trusted_root);
            }
        }
        self.checkpoints.insert(
            size,
            Cp {
                root,
                note: note.to_owned(),
                status: RootStatus::Pending,
            },
        );
        self.settle_target_now_or_later(size);
    }

    /// A consistency proof between two checkpoints already given (`from` may be 0: the empty tree).
    /// A second proof for the same pair is ignored.
    pub fn push_consistency(&mut self, from: u64, to: u64, proof: &[Hash]) {
        if !self.seen_consistency.insert((from, to)) {
            return;
        }
        let first = if from == 0 {
            Some(EMPTY_ROOT)
        } else {
            self.checkpoints.get(&from).map(|c| c.root)
        };
        let second = self.checkpoints.get(&to).map(|c| c.root);
        let (Some(first), Some(second)) = (first, second) else {
            let msg = format!(
                "a consistency proof from {from} to {to} does not connect two verified checkpoints of the bundle"
            );
            self.fail(Check::Consistency, to, None, Some(to), Some((from, to)), msg);
            return;
        };
        match merkle::verify_consistency(from, to, &first, &second, proof) {
            Ok(()) => {
                self.proven.insert((from, to));
            }
            Err(e) => {
                let msg = format!(
                    "the consistency proof from checkpoint {from} to checkpoint {to} does not verify ({e}): \
                     the log did not only append between them; entries {from}..{to} are implicated"
                );
                self.fail(Check::Consistency, to, None, Some(to), Some((from, to)), msg);
            }
        }
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

    fn push_entry_with(&mut self, claimed_index: Option<u64>, leaf_bytes: &[u8], opening: Opening<'_>) {
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
            + usize::from(raw.consistency.is_some());
        if kinds != 1 {
            let msg = format!(
                "{}a line mixes or lacks the members of the four line kinds",
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

    /// An entry line in the node's form at the start of `bytes`, read without a JSON parser and
    /// without allocating ([`FastEntry`]): the bytes it took, its line end included. `whole`: `bytes`
    /// are all of the line; else `eof`: they run to the end of the bundle (if not, the line must end
    /// in `\n` within them). `None`: the line is not in that form, its record is not shown canonical,
    /// or something in it does not decode (the general path then reads it and names what is wrong);
    /// nothing was pushed.
    fn push_fast_entry(&mut self, bytes: &[u8], whole: bool, eof: bool) -> Option<usize> {
        let e = FastEntry::scan(bytes).filter(|e| {
            if whole {
                e.len == bytes.len()
            } else {
                eof || bytes[..e.len].ends_with(b"\n")
            }
        })?;
        let leaf = decode_leaf_base64(e.leaf)?;
        let salt;
        let opening = match (e.salt, e.record) {
            (None, None) => Opening::Given(RecordOpening::Erased),
            (Some(hex_salt), Some(json)) => {
                salt = decode_hex32(hex_salt)?;
                Opening::Canonical { salt: &salt, json }
            }
            _ => return None,
        };
        self.push_entry_with(Some(e.i), &leaf, opening);
        Some(e.len)
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

    /// Ends the audit: the checks that need the whole input, and the report.
    pub fn finish(mut self) -> AuditReport {
        let n = self.range.size();
        if self.header.is_none() {
            let msg = "the bundle has no header line".to_owned();
            self.fail(Check::Bundle, 0, None, None, None, msg);
        }
        if let Some(h) = &self.header {
            if h.to != n {
                let msg = format!(
                    "the header announces entries 0..{}, the bundle holds {n} entries",
                    h.to
                );
                self.fail(Check::Bundle, n, None, None, None, msg);
            }
        }
        // (g) The log must reach the trusted checkpoint.
        if let Some(t) = self.trusted.as_ref().filter(|t| t.verified && t.size > n) {
            let size = t.size;
            let msg = format!(
                "the log holds {n} entries, but the trusted checkpoint saved earlier has {size}: the \
                 node serves an older state of its log (restored from a backup, or truncated); entries \
                 {n}..{size} are gone"
            );
            self.fail(Check::Rollback, n, None, Some(size), Some((n, size)), msg);
        }
        // Checkpoints beyond the entries.
        let beyond: Vec<u64> = self
            .checkpoints
            .range((Bound::Excluded(n), Bound::Unbounded))
            .map(|(s, _)| *s)
            .collect();
        if let Some(&first) = beyond.first() {
            let msg = format!("checkpoint {first} covers entries {n}..{first} that the bundle does not hold");
            self.fail(Check::Root, n, None, Some(first), Some((n, first)), msg);
            self.omitted += beyond.len() as u64 - 1;
        }
        // Late checkpoints: established through verified consistency proofs to an established one.
        let mut established: BTreeSet<u64> = self
            .checkpoints
            .iter()
            .filter(|(_, c)| c.status == RootStatus::Matched)
            .map(|(s, _)| *s)
            .collect();
        let late: Vec<u64> = self
            .checkpoints
            .iter()
            .filter(|(_, c)| c.status == RootStatus::Late)
            .map(|(s, _)| *s)
            .rev()
            .collect();
        let mut unsettled = Vec::new();
        for s in late {
            let ok = self
                .proven
                .range((s, 0)..=(s, u64::MAX))
                .any(|(_, to)| established.contains(to));
            if ok {
                established.insert(s);
            } else {
                unsettled.push(s);
            }
        }
        if let Some(&s) = unsettled.iter().min() {
            let msg = format!(
                "checkpoint {s} came after its entries and no verified consistency proof connects it to a \
                 checkpoint whose root was recomputed: its root is unchecked"
            );
            self.fail(Check::Root, s, None, Some(s), Some((0, s)), msg);
            self.omitted += unsettled.len() as u64 - 1;
        }
        if let Some(t) = self
            .trusted
            .as_ref()
            .filter(|t| t.verified && t.status == RootStatus::Late)
        {
            let s = t.size;
            let ok = self
                .proven
                .range((s, 0)..=(s, u64::MAX))
                .any(|(_, to)| established.contains(to))
                || established.contains(&s);
            if !ok {
                let msg = format!(
                    "the trusted checkpoint (size {s}) was given after the entries passed its size: give it \
                     before the entries"
                );
                self.fail(Check::Trusted, s, None, Some(s), None, msg);
            }
        }
        // The newest checkpoint must carry the witness quorum.
        if let (Some(policy), Some((size, cp))) = (&self.quorum_policy, self.checkpoints.iter().next_back()) {
            if let Err(e) = policy.verify(cp.note.as_bytes(), self.opts.now) {
                let size = *size;
                let msg = format!("the newest checkpoint ({size}) lacks the witness quorum: {e}");
                self.fail(Check::Signature, size, None, Some(size), None, msg);
            }
        }
        let mut failures = std::mem::take(&mut self.failures);
        failures.sort_by_key(|(at, check, seq, _)| (*at, *check, *seq));
        let failures: Vec<Failure> = failures.into_iter().map(|(_, _, _, f)| f).collect();
        AuditReport {
            valid: failures.is_empty() && self.omitted == 0,
            origin: self.header.as_ref().map(|h| h.origin.clone()),
            log_key: self.log_key.as_ref().map(VerifierKey::to_vkey),
            key_pinned: self.opts.log_key.is_some(),
            entries: n,
            root: hex32(&self.range.root()),
            checkpoints: established.len() as u64,
            newest_checkpoint: self.checkpoints.keys().next_back().copied(),
            consistency_proofs: self.proven.len() as u64,
            records_opened: self.records_opened,
            records_erased: self.records_erased,
            records_not_supplied: self.records_not_supplied,
            trusted_checkpoint: self.trusted.as_ref().filter(|t| t.verified).map(|t| t.size),
            failures,
            failures_omitted: self.omitted,
        }
    }
}

/// An entry line in the form `consentry` writes, cut apart without a JSON parser. The node builds the
/// line with `serde_json`'s `json!` and, as the crate is built (`serde_json`'s `preserve_order`),
/// keeps the members in the order written: `{"i":N,"leaf":"<base64>","salt":"<64 hex>"|null,
/// "record":<JSON>|null}`; with sorted members (the form spec/access-log.md §7.3 shows) `record`
/// comes before `salt`. Both are taken here, when the record is an object already in its RFC 8785
/// form ([`is_canonical_json`], which also finds where it ends) and the line ends right after it;
/// anything else goes through `serde_json`.
struct FastEntry<'a> {
    i: u64,
    leaf: &'a [u8],
    /// `None`: `null`.
    record: Option<&'a [u8]>,
    /// `None`: `null`.
    salt: Option<&'a [u8]>,
    /// Bytes taken, with the line end (`\n` or `\r\n`) if there is one.
    len: usize,
}

impl<'a> FastEntry<'a> {
    fn scan(bytes: &'a [u8]) -> Option<Self> {
        let mut c = CanonicalScan {
            b: bytes,
            pos: ENTRY_LINE_PREFIX.len(),
        };
        if !bytes.starts_with(ENTRY_LINE_PREFIX) {
            return None;
        }
        let i = c.index()?;
        c.expect(br#","leaf":""#)?;
        // A leaf's base64 has a fixed length; a quote or an escape inside fails to decode and sends
        // the line to the general path.
        let leaf = c.take(LEAF_BASE64_LEN)?;
        c.expect(b"\"")?;
        let (salt, record);
        if c.expect(br#","salt":"#).is_some() {
            // Export order: the salt, then the record.
            salt = c.salt()?;
            c.expect(br#","record":"#)?;
            record = c.record()?;
        } else {
            // Sorted order: the record, then the salt.
            c.expect(br#","record":"#)?;
            record = c.record()?;
            c.expect(br#","salt":"#)?;
            salt = c.salt()?;
        }
        c.expect(b"}")?;
        match &bytes[c.pos..] {
            [] => {}
            [b'\n', ..] => c.pos += 1,
            [b'\r', b'\n', ..] => c.pos += 2,
            _ => return None,
        }
        Some(Self {
            i,
            leaf,
            record,
            salt,
            len: c.pos,
        })
    }
}

/// Characters of the standard base64 alphabet → their 6 bits; anything else → 0xFF.
const BASE64_VALUES: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut i = 0;
    while i < 64 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// Hex digits (either case, as the `hex` crate reads them) → their value; anything else → 0xFF.
const HEX_VALUES: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

// A leaf is 45 whole base64 groups and one byte: `XY==`.
const _: () = assert!(LEAF_LEN % 3 == 1);
const LEAF_BASE64_LEN: usize = (LEAF_LEN / 3 + 1) * 4;

/// The leaf from its canonical padded base64 (standard alphabet, unused bits zero), as
/// `STANDARD.decode_slice` reads it; `None` for anything else, including leaves of another length
/// (the general path then decodes it and reports what is wrong).
fn decode_leaf_base64(text: &[u8]) -> Option<[u8; LEAF_LEN]> {
    if text.len() != LEAF_BASE64_LEN || !text.ends_with(b"==") {
        return None;
    }
    let mut out = [0u8; LEAF_LEN];
    let mut bad = 0u8;
    for (quad, triple) in text.chunks_exact(4).zip(out.chunks_exact_mut(3)) {
        let value = |k: usize| BASE64_VALUES[usize::from(quad[k])];
        let (a, b, c, d) = (value(0), value(1), value(2), value(3));
        bad |= a | b | c | d;
        let v = u32::from(a) << 18 | u32::from(b) << 12 | u32::from(c) << 6 | u32::from(d);
        triple.copy_from_slice(&v.to_be_bytes()[1..]);
    }
    let a = BASE64_VALUES[usize::from(text[LEAF_BASE64_LEN - 4])];
    let b = BASE64_VALUES[usize::from(text[LEAF_BASE64_LEN - 3])];
    // 0xFF marks a character outside the alphabet; the last character's low 4 bits are unused and
    // must be zero.
    if (bad | a | b) & 0x80 != 0 || b & 0x0F != 0 {
        return None;
    }
    out[LEAF_LEN - 1] = (a << 2) | (b >> 4);
    Some(out)
}

/// 32 bytes from 64 hex digits (either case), as `hex::decode_to_slice` reads them.
fn decode_hex32(text: &[u8]) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    let mut bad = 0u8;
    for (pair, byte) in text.chunks_exact(2).zip(out.iter_mut()) {
        let (h, l) = (HEX_VALUES[usize::from(pair[0])], HEX_VALUES[usize::from(pair[1])]);
        bad |= h | l;
        *byte = (h << 4) | (l & 0x0F);
    }
    (bad & 0x80 == 0).then_some(out)
}

/// Whether `json` is, byte for byte, the RFC 8785 form of a value the strict I-JSON reader
/// ([`crate::crypto::json::parse`]) accepts — so that `JCS(parse(json)) == json` and the text can be
/// hashed as it is. One pass, no allocation. Conservative: `false` means "not shown canonical", and
/// the caller parses and canonicalizes. Shown canonical: no white space; members sorted by UTF-16
/// code units and distinct (strictly increasing), their names without escapes; strings valid UTF-8
/// with exactly the RFC 8785 escapes (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other controls as
/// lowercase `\u00xx`); numbers only integers of at most 15 digits without a leading zero or `-0`
/// (within ±(2^53 − 1), written as ECMAScript writes them); nesting no deeper than the reader's
/// limit.
fn is_canonical_json(json: &[u8]) -> bool {
    let mut c = CanonicalScan { b: json, pos: 0 };
    c.value(0) && c.pos == json.len()
}

struct CanonicalScan<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> CanonicalScan<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn expect(&mut self, text: &[u8]) -> Option<()> {
        if self.b[self.pos..].starts_with(text) {
            self.pos += text.len();
            Some(())
        } else {
            None
        }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let out = self.b.get(self.pos..self.pos + n)?;
        self.pos += n;
        Some(out)
    }

    /// A line's `i`: digits without a leading zero, within `u64`.
    fn index(&mut self) -> Option<u64> {
        let digits = self.b[self.pos..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 || (digits > 1 && self.b[self.pos] == b'0') {
            return None;
        }
        let mut i = 0u64;
        for &d in self.take(digits)? {
            i = i.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        }
        Some(i)
    }

    /// `null`, or a quoted salt of 64 characters (decoded later).
    fn salt(&mut self) -> Option<Option<&'a [u8]>> {
        if self.expect(b"null").is_some() {
            return Some(None);
        }
        self.expect(b"\"")?;
        let salt = self.take(64)?;
        self.expect(b"\"")?;
        Some(Some(salt))
    }

    /// `null`, or an object in its canonical form, inside the line's object (whose nesting counts
    /// against the limit, as when the line is read as a whole).
    fn record(&mut self) -> Option<Option<&'a [u8]>> {
        if self.expect(b"null").is_some() {
            return Some(None);
        }
        let start = self.pos;
        (self.peek() == Some(b'{') && self.value(1)).then(|| Some(&self.b[start..self.pos]))
    }

    /// A value at `pos`, inside `depth` arrays and objects. Scalars are read here, in line; only
    /// arrays and objects recurse.
    #[inline(always)]
    fn value(&mut self, depth: usize) -> bool {
        match self.peek() {
            Some(b'"') => self.string().is_some(),
            Some(b'{' | b'[') => self.nested(depth),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.integer(),
            _ => false,
        }
    }

    #[inline(never)]
    fn nested(&mut self, depth: usize) -> bool {
        if depth >= crate::crypto::json::MAX_DEPTH {
            return false;
        }
        if self.peek() == Some(b'{') {
            self.object(depth + 1)
        } else {
            self.array(depth + 1)
        }
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        let ok = self.b[self.pos..].starts_with(word);
        self.pos += word.len();
        ok
    }

    fn integer(&mut self) -> bool {
        let start = self.pos;
        let digits_at = start + usize::from(self.b[start] == b'-');
        let digits = self.b[digits_at..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        // `-0` is written `0`; a leading zero is not JSON.
        if digits == 0 || digits > 15 || (self.b[digits_at] == b'0' && (digits > 1 || digits_at > start)) {
            return false;
        }
        self.pos = digits_at + digits;
        !matches!(self.peek(), Some(b'.' | b'e' | b'E'))
    }

    /// A string at `pos`: its raw content, and whether it is plain ASCII (no escape, no byte ≥ 0x80).
    #[inline(always)]
    fn string(&mut self) -> Option<(&'a [u8], bool)> {
        let start = self.pos + 1;
        let end = next_special(self.b, start)?;
        if self.b[end] == b'"' {
            self.pos = end + 1;
            return Some((&self.b[start..end], true));
        }
        self.string_rest(start, end)
    }

    /// The rest of a string whose run of plain ASCII ends at `i` with something other than its
    /// closing quote.
    #[cold]
    #[inline(never)]
    fn string_rest(&mut self, start: usize, mut i: usize) -> Option<(&'a [u8], bool)> {
        let mut ascii = true;
        loop {
            match self.b[i] {
                b'"' => break,
                0x80.. => {
                    ascii = false;
                    i += 1;
                }
                b'\\' => match *self.b.get(i + 1)? {
                    b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                    b'u' => {
                        // Only controls without a short form, as `\u00xx` in lowercase.
                        let [z0, z1, hi, lo] = *self.b.get(i + 2..i + 6)? else {
                            return None;
                        };
                        let hi = match (z0, z1, hi) {
                            (b'0', b'0', b'0') => 0,
                            (b'0', b'0', b'1') => 16,
                            _ => return None,
                        };
                        let lo = match lo {
                            b'0'..=b'9' => lo - b'0',
                            b'a'..=b'f' => lo - b'a' + 10,
                            _ => return None,
                        };
                        if matches!(hi + lo, 0x08 | 0x09 | 0x0A | 0x0C | 0x0D) {
                            return None;
                        }
                        i += 6;
                    }
                    _ => return None,
                },
                // A raw control character.
                _ => return None,
            }
            i = next_special(self.b, i)?;
        }
        let content = &self.b[start..i];
        if !ascii && std::str::from_utf8(content).is_err() {
            return None;
        }
        self.pos = i + 1;
        // Not plain: a member name with an escape is not compared here (the caller gives up).
        Some((content, false))
    }

    fn array(&mut self, depth: usize) -> bool {
        self.pos += 1;
        if self.peek() == Some(b']') {
            self.pos += 1;
            return true;
        }
        loop {
            if !self.value(depth) {
                return false;
            }
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return true;
                }
                _ => return false,
            }
        }
    }

    fn object(&mut self, depth: usize) -> bool {
        self.pos += 1;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return true;
        }
        let mut previous: &[u8] = &[];
        let mut first = true;
        loop {
            if self.peek() != Some(b'"') {
                return false;
            }
            let name = match self.string() {
                Some((name, true)) => name,
                // Escapes or non-ASCII characters in a name.
                Some((name, false)) => match self.name_with_specials(name) {
                    Some(name) => name,
                    None => return false,
                },
                None => return false,
            };
            // Sorted by UTF-16 code units and distinct (`jcs::utf16_cmp`, which compares bytes when
            // either name is ASCII).
            if !first && !name_less(previous, name) {
                return false;
            }
            first = false;
            previous = name;
            if self.peek() != Some(b':') {
                return false;
            }
            self.pos += 1;
            if !self.value(depth) {
                return false;
            }
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return true;
                }
                _ => return false,
            }
        }
    }

    /// A member name that is not plain ASCII: accepted (as itself) only without escapes, so that its
    /// bytes are the name.
    #[cold]
    fn name_with_specials(&self, name: &'a [u8]) -> Option<&'a [u8]> {
        (!name.contains(&b'\\')).then_some(name)
    }
}

/// `a` sorts strictly before `b` as RFC 8785 orders member names (`jcs::utf16_cmp`): by bytes when
/// either is ASCII, else by UTF-16 code units. Both are valid UTF-8 without escapes.
fn name_less(a: &[u8], b: &[u8]) -> bool {
    if a.is_ascii() || b.is_ascii() {
        return bytes_less(a, b);
    }
    match (std::str::from_utf8(a), std::str::from_utf8(b)) {
        (Ok(a), Ok(b)) => jcs::utf16_cmp(a, b) == std::cmp::Ordering::Less,
        _ => false,
    }
}

/// `a < b` in byte order (member names are short: a loop beats a call to `memcmp`).
fn bytes_less(a: &[u8], b: &[u8]) -> bool {
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x < y;
        }
    }
    a.len() < b.len()
}

/// The index, from `i` on, of the first byte that ends a plain ASCII run inside a JSON string: `"`,
/// `\\`, a control character below 0x20, or a byte ≥ 0x80. SWAR, 16 bytes a step (most member names
/// and short values end in the first): a byte is flagged (its high bit) when `b ^ '"'` or `b ^ '\\'`
/// is zero, or when `b − 0x20` or `b` itself has its high bit set. Borrows only disturb the bytes
/// above a flagged one, so the lowest flag of a word is exact, and the lowest of the two words' flags
/// is the first special byte.
fn next_special(b: &[u8], mut i: usize) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let flags = |word: &[u8]| -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let w = u64::from_le_bytes(w);
        let zero = |x: u64| x.wrapping_sub(LO) & !x;
        (zero(w ^ (LO * u64::from(b'"'))) | zero(w ^ (LO * u64::from(b'\\'))) | w.wrapping_sub(LO * 0x20) | w)
            & HI
    };
    while let Some(block) = b.get(i..i + 16) {
        let bits = u128::from(flags(&block[..8])) | u128::from(flags(&block[8..])) << 64;
        if bits != 0 {
            return Some(i + (bits.trailing_zeros() / 8) as usize);
        }
        i += 16;
    }
    b.get(i..)?
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || !(0x20..0x80).contains(&c))
        .map(|p| i + p)
}

/// The lines of a bundle, split at `\n` as `<[u8]>::split` does ([`find_newline`]).
struct Lines<'a> {
    rest: Option<&'a [u8]>,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        match find_newline(rest) {
            Some(n) => {
                self.rest = Some(&rest[n + 1..]);
                Some(&rest[..n])
            }
            None => self.rest.take(),
        }
    }
}

fn lines(bytes: &[u8]) -> Lines<'_> {
    Lines { rest: Some(bytes) }
}

/// The index of the first `\n` (`memchr`, vectorized).
fn find_newline(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', bytes)
}

fn trim_line(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// How often [`audit_bundle`] reports progress, in entries.
pub const PROGRESS_EVERY: u64 = 1 << 16;

/// Audits a whole evidence bundle held in memory: pass 1 reads the header, checkpoints and proofs,
/// pass 2 the entries. `progress` is called with the number of entries read every
/// [`PROGRESS_EVERY`] entries.
///
/// Pass 1 reads only the lines before the first entry line and after the last one, where the node
/// writes the header and the checkpoints; pass 2 checks that every line between them is an entry line
/// (or empty), which pass 1 would have skipped anyway. If one is not, both passes are done again
/// over every line, so the result is always that of the plain two passes.
pub fn audit_bundle(
    bundle: &[u8],
    opts: AuditOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<AuditReport, AuditConfigError> {
    let (head, tail) = entry_lines_span(bundle);
    let mut auditor = LogAuditor::new(opts.clone())?;
    for line in lines(&bundle[..head]).chain(lines(&bundle[tail..])) {
        auditor.push_metadata_line(line);
    }
    let skipped = (head as u64, tail as u64);
    if push_lines(&mut auditor, bundle, 0, true, Some(skipped), progress).is_some() {
        return Ok(auditor.finish());
    }
    let mut auditor = LogAuditor::new(opts)?;
    for line in lines(bundle) {
        auditor.push_metadata_line(line);
    }
    push_lines(&mut auditor, bundle, 0, true, None, progress);
    Ok(auditor.finish())
}

/// Why [`audit_reader`] could not audit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditReadError {
    /// The options cannot work.
    #[error(transparent)]
    Config(#[from] AuditConfigError),
    /// The bundle could not be read.
    #[error("reading the bundle: {0}")]
    Io(#[from] std::io::Error),
}

/// How much of a bundle [`audit_reader`] holds at a time (more for a longer line).
pub const READ_CHUNK: usize = 1 << 20;

/// [`audit_bundle`] over a bundle read from `reader` (a file), which is never held in memory: pass 1
/// reads the lines before the first entry line and, seeking to the end, those after the last one;
/// pass 2 streams every line through a buffer of [`READ_CHUNK`] bytes, entry lines in the node's
/// form straight from it. As with [`audit_bundle`], a line between the entry lines that pass 1 would
/// have read makes both passes start again over every line.
pub fn audit_reader<R: std::io::Read + std::io::Seek>(
    reader: R,
    opts: AuditOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<AuditReport, AuditReadError> {
    audit_reader_with(reader, opts, progress, READ_CHUNK)
}

fn audit_reader_with<R: std::io::Read + std::io::Seek>(
    mut reader: R,
    opts: AuditOptions,
    progress: &mut dyn FnMut(u64),
    chunk: usize,
) -> Result<AuditReport, AuditReadError> {
    use std::io::SeekFrom;
    let mut auditor = LogAuditor::new(opts.clone())?;
    // Pass 1 over the head: the lines before the first entry line.
    let mut start = None;
    feed(&mut reader, chunk, |bytes, offset, eof| {
        let mut at = 0;
        while let Some((line, n)) = next_line(&bytes[at..], eof) {
            if line.starts_with(ENTRY_LINE_PREFIX) {
                start = Some(offset + at as u64);
                return None;
            }
            auditor.push_metadata_line(line);
            at += n;
        }
        Some(at)
    })?;
    // And over the tail: the lines after the last entry line (`None`: pass 1 read every line).
    let skipped = match start {
        None => None,
        Some(start) => {
            let (end, tail) = tail_after_entry_lines(&mut reader, start, chunk)?;
            for line in lines(&tail) {
                auditor.push_metadata_line(line);
            }
            Some((start, end))
        }
    };
    reader.seek(SeekFrom::Start(0))?;
    let mut complete = true;
    feed(&mut reader, chunk, |bytes, offset, eof| {
        let taken = push_lines(&mut auditor, bytes, offset, eof, skipped, progress);
        complete = taken.is_some();
        taken
    })?;
    if complete {
        return Ok(auditor.finish());
    }
    let mut auditor = LogAuditor::new(opts)?;
    reader.seek(SeekFrom::Start(0))?;
    feed(&mut reader, chunk, |bytes, _, eof| {
        let mut at = 0;
        while let Some((line, n)) = next_line(&bytes[at..], eof) {
            auditor.push_metadata_line(line);
            at += n;
        }
        Some(at)
    })?;
    reader.seek(SeekFrom::Start(0))?;
    feed(&mut reader, chunk, |bytes, offset, eof| {
        push_lines(&mut auditor, bytes, offset, eof, None, progress)
    })?;
    Ok(auditor.finish())
}

/// The first line of `bytes` and the bytes it takes with its `\n`; without a `\n`, the rest only
/// at the end of the bundle (`eof`).
fn next_line(bytes: &[u8], eof: bool) -> Option<(&[u8], usize)> {
    match find_newline(bytes) {
        Some(n) => Some((&bytes[..n], n + 1)),
        None if eof && !bytes.is_empty() => Some((bytes, bytes.len())),
        None => None,
    }
}

/// Reads `reader` from where it is, in chunks of at least `chunk` bytes: `take(bytes, offset, eof)`
/// gets the bytes not taken yet (from `offset`; `eof`: they run to the end) and returns how many it
/// took — what it leaves comes again with more — or `None` to stop. At the end it must take all.
fn feed<R: std::io::Read>(
    reader: &mut R,
    chunk: usize,
    mut take: impl FnMut(&[u8], u64, bool) -> Option<usize>,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; chunk.max(1)];
    let (mut filled, mut offset, mut eof) = (0, 0u64, false);
    loop {
        while filled < buf.len() && !eof {
            match reader.read(&mut buf[filled..]) {
                Ok(0) => eof = true,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let Some(taken) = take(&buf[..filled], offset, eof) else {
            return Ok(());
        };
        if eof {
            return Ok(());
        }
        if taken == 0 {
            // A line longer than the buffer.
            buf.resize(buf.len() * 2, 0);
        } else {
            buf.copy_within(taken..filled, 0);
            filled -= taken;
            offset += taken as u64;
        }
    }
}

/// Where the last entry line ends, and the bytes after it: read backwards from the end, in windows
/// growing from `chunk` bytes, down to `start` at most (where the first entry line begins).
fn tail_after_entry_lines<R: std::io::Read + std::io::Seek>(
    reader: &mut R,
    start: u64,
    chunk: usize,
) -> std::io::Result<(u64, Vec<u8>)> {
    use std::io::SeekFrom;
    let len = reader.seek(SeekFrom::End(0))?;
    let mut window = (chunk.max(1) as u64).min(len - start);
    loop {
        let from = len - window;
        reader.seek(SeekFrom::Start(from))?;
        let mut bytes = vec![0u8; usize::try_from(window).map_err(std::io::Error::other)?];
        reader.read_exact(&mut bytes)?;
        // Line starts within the window, from the last: after a `\n`, or the first entry line's.
        let mut at = bytes.len();
        while at > 0 {
            let line_start = bytes[..at - 1].iter().rposition(|&b| b == b'\n').map(|n| n + 1);
            let line_start = match line_start {
                Some(s) => s,
                None if from == start => 0,
                None => break,
            };
            if bytes[line_start..].starts_with(ENTRY_LINE_PREFIX) {
                let end = find_newline(&bytes[line_start..]).map_or(bytes.len(), |n| line_start + n + 1);
                return Ok((from + end as u64, bytes.split_off(end)));
            }
            at = line_start;
        }
        if from == start {
            // Unreachable: the first entry line begins at `start`.
            return Ok((start, bytes));
        }
        window = (window * 2).min(len - start);
    }
}

/// `[start, end)`: from the first line that starts like an entry line to the end of the last one
/// (empty when there is none).
fn entry_lines_span(bundle: &[u8]) -> (usize, usize) {
    let mut start = None;
    let mut at = 0;
    for line in lines(bundle) {
        if line.starts_with(ENTRY_LINE_PREFIX) {
            start = Some(at);
            break;
        }
        at += line.len() + 1;
    }
    let Some(start) = start else {
        return (bundle.len(), bundle.len());
    };
    let mut end = bundle.len();
    loop {
        // The line that ends at `end` (just before its `\n`, if any).
        let body = bundle[..end].strip_suffix(b"\n").unwrap_or(&bundle[..end]);
        let line_start = body.iter().rposition(|&b| b == b'\n').map_or(0, |n| n + 1);
        if bundle[line_start..].starts_with(ENTRY_LINE_PREFIX) || line_start <= start {
            return (start, end.max(start));
        }
        end = line_start;
    }
}

/// Pass 2 over `bytes`, the bundle from byte `offset` on (`eof`: to its end; if not, a line is
/// taken only once its `\n` is there): every line, entry lines in the node's form straight from the
/// bytes. Returns the bytes taken. With `skipped`, the bytes whose lines pass 1 did not read:
/// `None` at a line there that pass 1 would have read.
fn push_lines(
    auditor: &mut LogAuditor,
    bytes: &[u8],
    offset: u64,
    eof: bool,
    skipped: Option<(u64, u64)>,
    progress: &mut dyn FnMut(u64),
) -> Option<usize> {
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        if let Some(n) = auditor.push_fast_entry(rest, false, eof) {
            at += n;
            if auditor.entries() % PROGRESS_EVERY == 0 {
                progress(auditor.entries());
            }
            continue;
        }
        let Some((line, n)) = next_line(rest, eof) else {
            break;
        };
        if let Some((start, end)) = skipped {
            let trimmed = trim_line(line);
            let position = offset + at as u64;
            if (start..end).contains(&position)
                && !trimmed.is_empty()
                && !trimmed.starts_with(ENTRY_LINE_PREFIX)
            {
                return None;
            }
        }
        auditor.push_line(line);
        if auditor.entries() % PROGRESS_EVERY == 0 && line.starts_with(ENTRY_LINE_PREFIX) {
            progress(auditor.entries());
        }
        at += n;
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SecretKey;
    use crate::log::entry::{AccessRecord, EntryKind, subject_tag};
    use crate::log::note::Signer;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-07-01 12:00 UTC);
    const ORIGIN: &str = "example.com/consentry/access-log";

    struct Fixture {
        signer: Signer,
        leaves: Vec<[u8; LEAF_LEN]>,
        records: Vec<(Option<[u8; 32]>, Option<Value>)>,
    }

    /// `n` entries over 5 grants and 3 enterprises, with records.
    fn fixture(n: u64) -> Fixture {
        let signer = Signer::new(ORIGIN, SecretKey::from_seed(&[7; 32])).unwrap();
        let mut grant_heads: HashMap<[u8; 32], u64> = HashMap::new();
        let mut subject_heads: HashMap<[u8; 32], u64> = HashMap::new();
        let mut leaves = Vec::new();
        let mut records = Vec::new();
        for i in 0..n {
            let grant = (i % 7 != 0).then(|| [(i % 5) as u8 + 1; 32]);
            let tag = subject_tag(&[9; 32], &format!("E{}", i % 3));
            let record = AccessRecord {
                enterprise: Some(format!("E{}", i % 3)),
                purpose: Some("credit-approval".into()),
                decision: Some("allowed".into()),
                ..Default::default()
            };
            let salt = [(i % 251) as u8; 32];
            let leaf = Leaf {
                kind: EntryKind::Release,
                seq: i,
                time_ms: 1_800_000_000_000 + i / 3,
                grant_digest: grant.unwrap_or([0; 32]),
                prev_same_grant: grant
                    .map(|g| grant_heads.insert(g, i).unwrap_or(NO_PREVIOUS))
                    .unwrap_or(NO_PREVIOUS),
                subject_tag: tag,
                prev_same_subject: subject_heads.insert(tag, i).unwrap_or(NO_PREVIOUS),
                record_commitment: record_commitment(&salt, &record.canonical()),
            };
            leaves.push(leaf.to_bytes());
            records.push((Some(salt), Some(serde_json::to_value(&record).unwrap())));
        }
        Fixture {
            signer,
            leaves,
            records,
        }
    }

    impl Fixture {
        fn checkpoint(&self, size: u64) -> String {
            let hashes: Vec<Hash> = self.leaves[..size as usize]
                .iter()
                .map(|l| merkle::leaf_hash(l))
                .collect();
            let root = merkle::root_from_leaf_hashes(&hashes);
            let note = Checkpoint::new(ORIGIN, size, root)
                .unwrap()
                .sign(&self.signer)
                .unwrap();
            note.to_text().unwrap()
        }

        fn bundle(&self, sizes: &[u64]) -> Vec<u8> {
            let mut out = Vec::new();
            let header = serde_json::json!({"format": BUNDLE_FORMAT, "origin": ORIGIN,
                "logKey": self.signer.verifier_key().to_vkey(), "from": 0, "to": self.leaves.len()});
            out.extend_from_slice(format!("{header}\n").as_bytes());
            for (i, (leaf, (salt, record))) in self.leaves.iter().zip(&self.records).enumerate() {
                let line = serde_json::json!({"i": i, "leaf": STANDARD.encode(leaf),
                    "salt": salt.map(hex::encode), "record": record});
                out.extend_from_slice(format!("{line}\n").as_bytes());
            }
            let mut prev: Option<u64> = None;
            for &s in sizes {
                out.extend_from_slice(
                    format!("{}\n", serde_json::json!({"checkpoint": self.checkpoint(s)})).as_bytes(),
                );
                if let Some(p) = prev {
                    let tree = merkle::MemoryTree::from_leaf_hashes(
                        self.leaves.iter().map(|l| merkle::leaf_hash(l)),
                    )
                    .unwrap();
                    let proof: Vec<String> = merkle::consistency_proof(p, s, &tree)
                        .unwrap()
                        .iter()
                        .map(hex::encode)
                        .collect();
                    out.extend_from_slice(
                        format!(
                            "{}\n",
                            serde_json::json!({"consistency": {"from": p, "to": s, "proof": proof}})
                        )
                        .as_bytes(),
                    );
                }
                prev = Some(s);
            }
            out
        }

        fn opts(&self) -> AuditOptions {
            let mut o = AuditOptions::new(NOW);
            o.log_key = Some(self.signer.verifier_key());
            o
        }
    }

    /// [`audit_bundle`], checked against [`audit_reader`] with buffers small and large.
    fn audit(bytes: &[u8], opts: AuditOptions) -> AuditReport {
        let report = audit_bundle(bytes, opts.clone(), &mut |_| {}).unwrap();
        for chunk in [1, 5, 64, 700, READ_CHUNK] {
            let read =
                audit_reader_with(std::io::Cursor::new(bytes), opts.clone(), &mut |_| {}, chunk).unwrap();
            assert_eq!(read, report, "chunk {chunk}");
        }
        report
    }

    #[test]
    fn valid_bundle() {
        let f = fixture(100);
        let r = audit(&f.bundle(&[10, 64, 99, 100]), f.opts());
        assert!(r.valid, "{:#?}", r.failures);
        assert_eq!(r.entries, 100);
        assert_eq!(r.checkpoints, 4);
        assert_eq!(r.consistency_proofs, 3);
        assert_eq!(r.records_opened, 100);
        assert!(r.key_pinned);
    }

    #[test]
    fn single_pass_settles_late_checkpoints_through_consistency() {
        let f = fixture(50);
        let bundle = f.bundle(&[3, 20, 50]);
        let mut a = LogAuditor::new(f.opts()).unwrap();
        for line in bundle.split(|&b| b == b'\n') {
            a.push_line(line);
        }
        let r = a.finish();
        assert!(r.valid, "{:#?}", r.failures);
        assert_eq!(r.checkpoints, 3);
    }

    #[test]
    fn edited_record_names_its_entry() {
        let mut f = fixture(40);
        f.records[17].1 = Some(serde_json::json!({"enterprise": "E9"}));
        let r = audit(&f.bundle(&[40]), f.opts());
        assert_eq!(r.failures.len(), 1, "{:#?}", r.failures);
        assert_eq!(r.failures[0].check, Check::Record);
        assert_eq!(r.failures[0].index, Some(17));
        // Erasing is allowed.
        let mut f = fixture(40);
        f.records[17] = (None, None);
        let r = audit(&f.bundle(&[40]), f.opts());
        assert!(r.valid);
        assert_eq!(r.records_erased, 1);
    }

    #[test]
    fn changed_leaf_implicates_checkpoint_range() {
        let mut f = fixture(60);
        let cps: Vec<String> = [20u64, 40, 60].iter().map(|&s| f.checkpoint(s)).collect();
        f.leaves[25][100] ^= 1; // prev_same_subject's low byte
        let mut a = LogAuditor::new(f.opts()).unwrap();
        a.push_header(BundleHeader {
            format: BUNDLE_FORMAT.into(),
            origin: ORIGIN.into(),
            log_key: f.signer.verifier_key().to_vkey(),
            from: 0,
            to: 60,
        });
        for c in &cps {
            a.push_checkpoint(c);
        }
        for l in &f.leaves {
            a.push_leaf(l);
        }
        let r = a.finish();
        assert!(!r.valid);
        let first = r.first_failure().unwrap();
        assert_eq!(first.check, Check::SubjectChain, "{:#?}", r.failures);
        assert_eq!(first.index, Some(25));
        let root = r.failures.iter().find(|f| f.check == Check::Root).unwrap();
        assert_eq!(root.checkpoint, Some(40));
        assert_eq!(root.range, Some((20, 40)));
        assert_eq!(r.records_not_supplied, 60);
    }

    #[test]
    fn deleted_swapped_and_time() {
        let f = fixture(30);
        let mut lines: Vec<Vec<u8>> = f
            .bundle(&[30])
            .split(|&b| b == b'\n')
            .map(<[u8]>::to_vec)
            .collect();
        lines.remove(1 + 12);
        let r = audit(&lines.join(&b'\n'), f.opts());
        let first = r.first_failure().unwrap();
        assert_eq!(
            (first.check, first.index),
            (Check::Sequence, Some(12)),
            "{first:?}"
        );
        assert!(first.message.contains("entry 12 is missing"), "{}", first.message);

        let mut lines: Vec<Vec<u8>> = f
            .bundle(&[30])
            .split(|&b| b == b'\n')
            .map(<[u8]>::to_vec)
            .collect();
        // Swap the leaves of entries 5 and 9 but keep the `i` members.
        let leaf_of = |l: &[u8]| serde_json::from_slice::<Value>(l).unwrap();
        let (a, b) = (leaf_of(&lines[6]), leaf_of(&lines[10]));
        let mut a2 = b.clone();
        a2["i"] = a["i"].clone();
        let mut b2 = a.clone();
        b2["i"] = b["i"].clone();
        lines[6] = a2.to_string().into_bytes();
        lines[10] = b2.to_string().into_bytes();
        let r = audit(&lines.join(&b'\n'), f.opts());
        let first = r.first_failure().unwrap();
        assert_eq!(
            (first.check, first.index),
            (Check::Sequence, Some(5)),
            "{first:?}"
        );
        assert!(first.message.contains("carries seq 9"));
    }

    #[test]
    fn trusted_checkpoint_rollback_and_fork() {
        let f = fixture(30);
        let mut opts = f.opts();
        opts.trusted_checkpoint = Some(f.checkpoint(30));
        // A shorter log: rollback.
        let short = fixture(20);
        let r = audit(&short.bundle(&[20]), opts.clone());
        assert_eq!(
            r.first_failure().unwrap().check,
            Check::Rollback,
            "{:#?}",
            r.failures
        );
        // The same log, grown: valid. Another log of the same key, rewritten from entry 27: fork at 30.
        let grown = fixture(40);
        let mut forked = fixture(40);
        forked.records[27].0 = Some([1; 32]);
        let rec: AccessRecord = serde_json::from_value(forked.records[27].1.clone().unwrap()).unwrap();
        let mut leaf = Leaf::from_bytes(&forked.leaves[27]).unwrap();
        leaf.record_commitment = record_commitment(&[1; 32], &rec.canonical());
        forked.leaves[27] = leaf.to_bytes();
        let r = audit(&forked.bundle(&[35, 40]), opts.clone());
        assert_eq!(r.failures.len(), 1, "{:#?}", r.failures);
        assert_eq!(r.failures[0].check, Check::Fork);
        assert_eq!(r.failures[0].checkpoint, Some(30));
        let r = audit(&grown.bundle(&[35, 40]), opts);
        assert!(r.valid, "{:#?}", r.failures);
        assert_eq!(r.trusted_checkpoint, Some(30));
    }

    #[test]
    fn bad_signature_and_unpinned_key() {
        let f = fixture(10);
        let other = Signer::new(ORIGIN, SecretKey::from_seed(&[8; 32])).unwrap();
        let mut opts = f.opts();
        opts.log_key = Some(other.verifier_key());
        let r = audit(&f.bundle(&[10]), opts);
        assert!(
            r.failures
                .iter()
                .any(|x| x.check == Check::Signature && x.checkpoint == Some(10))
        );
        let mut opts = f.opts();
        opts.log_key = None;
        let r = audit(&f.bundle(&[10]), opts);
        assert!(r.valid && !r.key_pinned);
    }

    #[test]
    fn roots_match_the_naive_definition_at_every_size() {
        let f = fixture(300);
        for n in [0u64, 1, 2, 3, 7, 8, 9, 127, 128, 129, 255, 256, 257, 300] {
            let mut a = LogAuditor::new(f.opts()).unwrap();
            a.push_header(BundleHeader {
                format: BUNDLE_FORMAT.into(),
                origin: ORIGIN.into(),
                log_key: f.signer.verifier_key().to_vkey(),
                from: 0,
                to: n,
            });
            a.push_checkpoint(&f.checkpoint(n));
            for l in &f.leaves[..n as usize] {
                a.push_leaf(l);
            }
            let r = a.finish();
            let hashes: Vec<Hash> = f.leaves[..n as usize]
                .iter()
                .map(|l| merkle::leaf_hash(l))
                .collect();
            assert_eq!(r.root, hex::encode(merkle::root_from_leaf_hashes(&hashes)));
            assert!(r.valid, "{n}: {:#?}", r.failures);
        }
    }

    /// The plain two passes over every line, without the fast path of [`audit_bundle`] for entries
    /// and without its shortcut for pass 1.
    fn audit_plain(bytes: &[u8], opts: AuditOptions) -> AuditReport {
        let mut a = LogAuditor::new(opts).unwrap();
        for line in bytes.split(|&b| b == b'\n') {
            a.push_metadata_line(line);
        }
        for line in bytes.split(|&b| b == b'\n') {
            let line = trim_line(line);
            if line.is_empty() {
                continue;
            }
            // A leading space keeps the line off the fast path: `serde_json` reads it.
            a.push_line(&[b" ", line].concat());
        }
        a.finish()
    }

    /// What two reports must agree on (messages may name columns that differ).
    fn outcome(r: &AuditReport) -> impl PartialEq + std::fmt::Debug + use<> {
        (
            r.valid,
            r.entries,
            r.root.clone(),
            r.checkpoints,
            r.consistency_proofs,
            r.records_opened,
            r.records_erased,
            r.records_not_supplied,
            r.failures_omitted,
            r.failures
                .iter()
                .map(|f| (f.check, f.index, f.checkpoint, f.range))
                .collect::<Vec<_>>(),
        )
    }

    /// Entry lines as the node writes them (both member orders), and edited ones, give the same
    /// report on the fast path as through `serde_json`.
    #[test]
    fn fast_path_agrees_with_serde_json() {
        let f = fixture(12);
        let canonical = |k: usize| {
            String::from_utf8(jcs::canonicalize(f.records[k].1.as_ref().unwrap()).unwrap()).unwrap()
        };
        let salt = |k: usize| hex::encode(f.records[k].0.unwrap());
        let leaf = |k: usize| STANDARD.encode(f.leaves[k]);
        let export = |k: usize, record: &str, salt: &str| {
            format!(
                r#"{{"i":{k},"leaf":"{}","salt":{salt},"record":{record}}}"#,
                leaf(k)
            )
        };
        let sorted = |k: usize, record: &str, salt: &str| {
            format!(
                r#"{{"i":{k},"leaf":"{}","record":{record},"salt":{salt}}}"#,
                leaf(k)
            )
        };
        let q = |s: String| format!("\"{s}\"");
        // (line for entry 5, whether the fast path takes it)
        let mut variants: Vec<(String, bool)> = vec![
            (export(5, &canonical(5), &q(salt(5))), true),
            (sorted(5, &canonical(5), &q(salt(5))), true),
            (export(5, "null", "null"), true),
            (sorted(5, "null", "null"), true),
            (export(5, &canonical(5), &q(salt(5).to_uppercase())), true),
            // Not canonical: members out of order, white space, an escape that need not be.
            (
                export(
                    5,
                    &serde_json::to_string(&serde_json::json!({"purpose": "credit-approval",
                        "enterprise": "E2", "decision": "allowed"}))
                    .unwrap(),
                    &q(salt(5)),
                ),
                false,
            ),
            (export(5, &canonical(5).replace(':', ": "), &q(salt(5))), false),
            (
                export(5, &canonical(5).replace("E2", "\\u00452"), &q(salt(5))),
                false,
            ),
            // Edited, or not strict I-JSON.
            (export(5, &canonical(5).replace("E2", "E1"), &q(salt(5))), true),
            (
                export(
                    5,
                    &canonical(5).replace(r#"{"decision""#, r#"{"decision":"x","decision""#),
                    &q(salt(5)),
                ),
                false,
            ),
            (
                export(5, &canonical(5).replace('}', r#","z":1.5}"#), &q(salt(5))),
                false,
            ),
            (
                export(5, &canonical(5).replace('}', r#","z":-0}"#), &q(salt(5))),
                false,
            ),
            (
                export(
                    5,
                    &canonical(5).replace('}', r#","z":9007199254740993}"#),
                    &q(salt(5)),
                ),
                false,
            ),
            (export(5, &canonical(5), "null"), false),
            (export(5, "null", &q(salt(5))), false),
            (export(5, &canonical(5), &q(salt(5)[2..].to_owned())), false),
            (export(5, &canonical(5), &q(format!("g{}", &salt(5)[1..]))), false),
            (export(5, r#"["a"]"#, &q(salt(5))), false),
            (
                export(5, &canonical(5), &q(salt(5))).replace(r#""i":5"#, r#""i":05"#),
                false,
            ),
            (
                export(5, &canonical(5), &q(salt(5))).replace(r#""i":5"#, r#""i":6"#),
                true,
            ),
            (export(5, &canonical(5), &q(salt(5))) + " ", false),
            (export(5, &canonical(5), &q(salt(5))).replace('}', "}}"), false),
        ];
        // A leaf whose last character carries unused bits, one that is short, one with an escape.
        let mut bad_bits = leaf(5);
        bad_bits.replace_range(181..182, "B");
        let l = leaf(5);
        variants.push((
            export(5, &canonical(5), &q(salt(5))).replace(&l, &bad_bits),
            false,
        ));
        variants.push((export(5, &canonical(5), &q(salt(5))).replace(&l, &l[4..]), false));
        let escaped = format!("{}\\u{:04x}{}", &l[..10], l.as_bytes()[10], &l[11..]);
        variants.push((export(5, &canonical(5), &q(salt(5))).replace(&l, &escaped), false));
        for (k, (line, fast)) in variants.iter().enumerate() {
            let mut bundle = Vec::new();
            for (n, l) in f.bundle(&[12]).split(|&b| b == b'\n').enumerate() {
                bundle.extend_from_slice(if n == 6 { line.as_bytes() } else { l });
                bundle.extend_from_slice(if k % 2 == 0 { b"\n" } else { b"\r\n" });
            }
            assert_eq!(
                FastEntry::scan(line.as_bytes()).is_some_and(|e| e.len == line.len()
                    && decode_leaf_base64(e.leaf).is_some()
                    && e.salt.is_some() == e.record.is_some()
                    && e.salt.is_none_or(|s| decode_hex32(s).is_some())),
                *fast,
                "{line}"
            );
            let got = audit(&bundle, f.opts());
            let want = audit_plain(&bundle, f.opts());
            assert_eq!(outcome(&got), outcome(&want), "{line}\n{:#?}", got.failures);
        }
        // The canonical ones verify; the edited record and the duplicate name do not.
        let ok = |line: &str| {
            let mut bundle = Vec::new();
            for (n, l) in f.bundle(&[12]).split(|&b| b == b'\n').enumerate() {
                bundle.extend_from_slice(if n == 6 { line.as_bytes() } else { l });
                bundle.push(b'\n');
            }
            audit(&bundle, f.opts())
        };
        for (line, _) in &variants[..8] {
            let r = ok(line);
            assert!(r.valid, "{line}: {:#?}", r.failures);
        }
        let r = ok(&variants[8].0);
        assert_eq!(
            (r.failures[0].check, r.failures[0].index),
            (Check::Record, Some(5))
        );
        let r = ok(&variants[9].0);
        assert_eq!(
            (r.failures[0].check, r.failures[0].index),
            (Check::Record, Some(5))
        );
        assert!(
            r.failures[0].message.contains("duplicate"),
            "{}",
            r.failures[0].message
        );
        // Records nested near the limit.
        for depth in [100, 125, 126, 127, 128, 129] {
            let record = format!(r#"{{"a":{}{}}}"#, "[".repeat(depth - 1), "]".repeat(depth - 1));
            let line = export(5, &record, &q(salt(5)));
            let r = ok(&line);
            let mut bundle = Vec::new();
            for (n, l) in f.bundle(&[12]).split(|&b| b == b'\n').enumerate() {
                bundle.extend_from_slice(if n == 6 { line.as_bytes() } else { l });
                bundle.push(b'\n');
            }
            let plain = audit_plain(&bundle, f.opts());
            assert_eq!(outcome(&r), outcome(&plain), "{depth}: {:#?}", r.failures);
            assert!(!r.valid);
        }
    }

    /// A checkpoint between the entry lines: pass 1 is redone over every line, and the result is that
    /// of the plain two passes.
    #[test]
    fn metadata_between_entries() {
        let f = fixture(40);
        let lines: Vec<Vec<u8>> = f
            .bundle(&[10, 30, 40])
            .split(|&b| b == b'\n')
            .map(<[u8]>::to_vec)
            .collect();
        let checkpoint_10 = lines
            .iter()
            .position(|l| l.starts_with(b"{\"checkpoint\""))
            .unwrap();
        for at in [1, 5, 20, 41] {
            let mut moved = lines.clone();
            let line = moved.remove(checkpoint_10);
            moved.insert(at, line);
            let bundle = moved.join(&b'\n');
            let r = audit(&bundle, f.opts());
            assert!(r.valid, "{at}: {:#?}", r.failures);
            assert_eq!(outcome(&r), outcome(&audit_plain(&bundle, f.opts())), "{at}");
        }
        // A header after the entries, and no header at all.
        let mut moved = lines.clone();
        let header = moved.remove(0);
        moved.insert(20, header);
        let bundle = moved.join(&b'\n');
        assert_eq!(
            outcome(&audit(&bundle, f.opts())),
            outcome(&audit_plain(&bundle, f.opts()))
        );
        let bundle = lines[1..].join(&b'\n');
        assert_eq!(
            outcome(&audit(&bundle, f.opts())),
            outcome(&audit_plain(&bundle, f.opts()))
        );
        // No line end at the end; nothing at all.
        let bundle = f.bundle(&[10, 30, 40]);
        let r = audit(&bundle[..bundle.len() - 1], f.opts());
        assert!(r.valid, "{:#?}", r.failures);
        let r = audit(b"", f.opts());
        assert_eq!(r.failures[0].check, Check::Bundle);
        assert_eq!(entry_lines_span(b""), (0, 0));
        assert_eq!(entry_lines_span(b"{}\n{}\n"), (6, 6));
        assert_eq!(entry_lines_span(b"{}\n{\"i\":0}\n{}\n"), (3, 11));
        assert_eq!(entry_lines_span(b"{\"i\":0}\n{\"i\":1}"), (0, 15));
    }

    /// `is_canonical_json` answers yes only for text that is its own RFC 8785 form.
    fn assert_sound(text: &[u8]) -> bool {
        let fast = is_canonical_json(text);
        if fast {
            let node = crate::crypto::json::parse(text)
                .unwrap_or_else(|e| panic!("{:?} accepted: {e}", String::from_utf8_lossy(text)));
            let mut out = Vec::new();
            jcs::write_node(&node, &mut out).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(text),
                "accepted but not canonical"
            );
        }
        fast
    }

    #[test]
    fn canonical_check_cases() {
        let yes = [
            r#"{}"#,
            r#"[]"#,
            r#"{"a":[1,-2,0,true,false,null,"x",{},[]],"b":{"c":"d"}}"#,
            "{\"a\":\"\\\"\\\\\\b\\f\\n\\r\\t\\u0000\\u001f\u{7f}\"}",
            "{\"a\":\"\u{7f}é€😀\"}",
            "{\"1\":4,\"\u{f6}\":6,\"\u{20ac}\":1,\"\u{1f600}\":5,\"\u{fb33}\":3}",
            r#"{"m":-999999999999999,"n":999999999999999}"#,
            r#""""#,
            "0",
        ];
        for y in yes {
            assert!(assert_sound(y.as_bytes()), "{y}");
        }
        let no = [
            r#"{"b":1,"a":2}"#,
            r#"{"a":1,"a":1}"#,
            r#"{"a":"\u0041"}"#,
            r#"{"a":"\/"}"#,
            r#"{"a":"\u001F"}"#,
            r#"{"a":"\u000a"}"#,
            r#"{"a":"\u0008"}"#,
            r#"{"a":"\u007f"}"#,
            r#"{"\n":1}"#,
            r#"{"a": 1}"#,
            r#"{"a":1} "#,
            r#" {"a":1}"#,
            r#"{"a":1,}"#,
            r#"[1,]"#,
            r#"{"a":-0}"#,
            r#"{"a":01}"#,
            r#"{"a":1.0}"#,
            r#"{"a":1e2}"#,
            r#"{"a":1000000000000000}"#,
            r#"{"a":tru}"#,
            r#"{"a":nul}"#,
            "{\"a\":\"\t\"}",
            "{\"a\":\"\u{1}\"}",
            r#"{"a":"x}"#,
            r#"{"a"}"#,
            r#"{"a":}"#,
            "{\"\u{1f600}\":1,\"\u{fb33}\":2,\"\u{20ac}\":3}",
            "",
        ];
        for n in no {
            assert!(!assert_sound(n.as_bytes()), "{n}");
        }
        assert!(!is_canonical_json(b"{\"a\":\"\xff\"}"));
        assert!(!is_canonical_json(b"{\"a\":\"\xc3\"}"));
        assert!(!is_canonical_json(b"{\"\xe9\":1}"));
        let deep = |n: usize| "[".repeat(n) + &"]".repeat(n);
        assert!(assert_sound(deep(crate::crypto::json::MAX_DEPTH).as_bytes()));
        assert!(!assert_sound(deep(crate::crypto::json::MAX_DEPTH + 1).as_bytes()));
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let text = proptest::collection::vec(
            prop_oneof![
                6 => proptest::char::range('a', 'z'),
                1 => Just('"'),
                1 => Just('\\'),
                1 => Just('/'),
                1 => proptest::char::range('\0', '\u{1f}'),
                1 => Just('\u{7f}'),
                1 => Just('é'),
                1 => Just('\u{20ac}'),
                1 => Just('\u{fb33}'),
                1 => Just('😀'),
            ],
            0..6,
        )
        .prop_map(|c| c.into_iter().collect::<String>());
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-1_000_000_000_000_000i64..1_000_000_000_000_000).prop_map(Value::from),
            (-10i64..10).prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            text.clone().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::vec((text.clone(), inner), 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Whether the check is expected to recognise the canonical form of `v`: no fractions, no
    /// member names with escapes.
    fn plain(v: &Value) -> bool {
        match v {
            Value::Number(n) => n.is_i64() || n.is_u64(),
            Value::Array(items) => items.iter().all(plain),
            Value::Object(m) => m
                .iter()
                .all(|(k, v)| !k.chars().any(|c| c == '"' || c == '\\' || c < ' ') && plain(v)),
            _ => true,
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Canonical forms are recognised (when plain), and nothing else is: not `serde_json`'s
        /// writing, not edits of a canonical form.
        #[test]
        fn canonical_check_is_sound(v in json_value(), at in 0usize..200, edit in 0usize..12) {
            let canonical = jcs::canonicalize(&v).unwrap();
            // Fractions may or may not be written as integers: only soundness is required then.
            let fast = assert_sound(&canonical);
            proptest::prop_assert!(fast || !plain(&v));
            assert_sound(&serde_json::to_vec(&v).unwrap());
            assert_sound(&serde_json::to_vec_pretty(&v).unwrap());
            let mut edited = canonical.clone();
            if !edited.is_empty() {
                let at = at % edited.len();
                let bytes: [&[u8]; 12] = [b" ", b"\"", b"\\", b",", b"}", b"]", b"0", b"-", b"a", b"\x1f", b"\xc3", b"\\u0041"];
                match edit % 3 {
                    0 => { edited.remove(at); }
                    1 => { edited.splice(at..at, bytes[edit].iter().copied()); }
                    _ => { edited.splice(at..=at, bytes[edit].iter().copied()); }
                }
                assert_sound(&edited);
            }
        }

        #[test]
        fn next_special_finds_the_first_special_byte(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..80), from in 0usize..80) {
            let naive = bytes
                .iter()
                .enumerate()
                .skip(from)
                .find(|(_, c)| **c == b'"' || **c == b'\\' || **c < 0x20 || **c >= 0x80)
                .map(|(i, _)| i);
            proptest::prop_assert_eq!(next_special(&bytes, from), naive);
        }

        #[test]
        fn lines_split_like_split(bytes in proptest::collection::vec(proptest::sample::select(vec![b'\n', b'a', b'\r', 0xff]), 0..300)) {
            let ours: Vec<&[u8]> = lines(&bytes).collect();
            let std: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
            proptest::prop_assert_eq!(ours, std);
        }

        #[test]
        fn leaf_and_salt_decode_as_the_crates_do(leaf in proptest::collection::vec(proptest::num::u8::ANY, LEAF_LEN), at in 0usize..LEAF_BASE64_LEN, to in proptest::num::u8::ANY) {
            let text = STANDARD.encode(&leaf);
            proptest::prop_assert_eq!(decode_leaf_base64(text.as_bytes()).map(|l| l.to_vec()), Some(leaf.clone()));
            let mut edited = text.into_bytes();
            edited[at] = to;
            if let Some(l) = decode_leaf_base64(&edited) {
                proptest::prop_assert_eq!(STANDARD.decode(&edited).ok(), Some(l.to_vec()));
            }
            let salt = &leaf[..32];
            for text in [hex::encode(salt), hex::encode_upper(salt)] {
                proptest::prop_assert_eq!(decode_hex32(text.as_bytes()).map(|s| s.to_vec()), Some(salt.to_vec()));
                let mut edited = text.into_bytes();
                edited[at % 64] = to;
                proptest::prop_assert_eq!(decode_hex32(&edited).map(|s| s.to_vec()), hex::decode(&edited).ok());
            }
        }
    }

    /// Throughput (release build):
    /// `cargo test --release --lib log::audit::tests::bench -- --ignored --nocapture`; set
    /// `CONSENTRY_AUDIT_BENCH_OUT=DIR` to also write the bundles (`with-records.jsonl`, `erased.jsonl`)
    /// and the log key (`log.vkey`) there, to time `consentry audit verify` on them.
    #[test]
    #[ignore = "benchmark; run in release with --ignored --nocapture"]
    fn bench() {
        use std::time::Instant;
        const N: u64 = 1_000_000;
        let t = Instant::now();
        let signer = Signer::new(ORIGIN, SecretKey::from_seed(&[7; 32])).unwrap();
        let mut grant_heads: HashMap<[u8; 32], u64> = HashMap::new();
        let mut subject_heads: HashMap<[u8; 32], u64> = HashMap::new();
        let mut tree = merkle::MemoryTree::new();
        let mut leaves: Vec<[u8; LEAF_LEN]> = Vec::with_capacity(N as usize);
        let mut bundle = Vec::with_capacity(800 * N as usize);
        let mut erased = Vec::with_capacity(300 * N as usize);
        let header = serde_json::json!({"format": BUNDLE_FORMAT, "origin": ORIGIN,
            "logKey": signer.verifier_key().to_vkey(), "from": 0, "to": N});
        bundle.extend_from_slice(format!("{header}\n").as_bytes());
        erased.extend_from_slice(format!("{header}\n").as_bytes());
        let mut checkpoints = Vec::new();
        for i in 0..N {
            // 20,000 grants, 5,000 enterprises, realistic records.
            let g = i % 20_000;
            let e = g % 5_000;
            let grant = crate::crypto::Sha256Digest::of(&g.to_be_bytes()).0;
            let uscc = format!("91330100{e:010}");
            let tag = subject_tag(&[9; 32], &uscc);
            let record = AccessRecord {
                enterprise: Some(uscc.clone()),
                caller: Some(crate::log::entry::PartyRef {
                    uscc: "91440300708461136T".into(),
                    role: "platform".into(),
                    did: Some("did:key:z6MkiS2wovtuq12egsh6eMoFudur1Nq1rC5QeXXjnrY8hwtu".into()),
                }),
                platform: Some("91440300708461136T".into()),
                bank: Some("911000001000013428".into()),
                grant: Some(crate::log::entry::GrantRef {
                    id: format!("urn:uuid:00000000-0000-4000-8000-{g:012}"),
                    sha256: hex::encode(grant),
                }),
                categories: vec![crate::log::entry::CategoryRef {
                    code: "TAX-03".into(),
                    granularity: "derived".into(),
                    providers: vec!["STA".into()],
                }],
                purpose: Some("credit-approval".into()),
                decision: Some("allowed".into()),
                request_id: Some(format!("req-{i}")),
                data_sha256: Some(hex::encode(crate::crypto::Sha256Digest::of(&i.to_le_bytes()).0)),
                ..Default::default()
            };
            let mut salt = [0u8; 32];
            salt[..8].copy_from_slice(&i.to_be_bytes());
            let canonical = record.canonical();
            let leaf = Leaf {
                kind: EntryKind::Release,
                seq: i,
                time_ms: 1_800_000_000_000 + i / 10,
                grant_digest: grant,
                prev_same_grant: grant_heads.insert(grant, i).unwrap_or(NO_PREVIOUS),
                subject_tag: tag,
                prev_same_subject: subject_heads.insert(tag, i).unwrap_or(NO_PREVIOUS),
                record_commitment: record_commitment(&salt, &canonical),
            }
            .to_bytes();
            tree.push(&merkle::leaf_hash(&leaf)).unwrap();
            leaves.push(leaf);
            let b64 = STANDARD.encode(leaf);
            bundle.extend_from_slice(
                format!(
                    "{{\"i\":{i},\"leaf\":\"{b64}\",\"record\":{},\"salt\":\"{}\"}}\n",
                    String::from_utf8_lossy(&canonical),
                    hex::encode(salt)
                )
                .as_bytes(),
            );
            erased.extend_from_slice(
                format!("{{\"i\":{i},\"leaf\":\"{b64}\",\"record\":null,\"salt\":null}}\n").as_bytes(),
            );
            if (i + 1) % 1000 == 0 {
                checkpoints.push(i + 1);
            }
        }
        let mut tail = Vec::new();
        let mut prev = None;
        for &s in &checkpoints {
            let root = merkle::root(s, &tree).unwrap();
            let note = Checkpoint::new(ORIGIN, s, root)
                .unwrap()
                .sign(&signer)
                .unwrap()
                .to_text()
                .unwrap();
            tail.extend_from_slice(format!("{}\n", serde_json::json!({"checkpoint": note})).as_bytes());
            if let Some(p) = prev {
                let proof: Vec<String> = merkle::consistency_proof(p, s, &tree)
                    .unwrap()
                    .iter()
                    .map(hex::encode)
                    .collect();
                tail.extend_from_slice(
                    format!(
                        "{}\n",
                        serde_json::json!({"consistency": {"from": p, "to": s, "proof": proof}})
                    )
                    .as_bytes(),
                );
            }
            prev = Some(s);
        }
        bundle.extend_from_slice(&tail);
        erased.extend_from_slice(&tail);
        eprintln!(
            "generated {N} entries, {} checkpoints in {:.1} s; bundle {} MB with records, {} MB erased",
            checkpoints.len(),
            t.elapsed().as_secs_f64(),
            bundle.len() >> 20,
            erased.len() >> 20
        );
        let notes: Vec<String> = checkpoints
            .iter()
            .map(|&s| {
                let root = merkle::root(s, &tree).unwrap();
                Checkpoint::new(ORIGIN, s, root)
                    .unwrap()
                    .sign(&signer)
                    .unwrap()
                    .to_text()
                    .unwrap()
            })
            .collect();
        let mut opts = AuditOptions::new(NOW);
        opts.log_key = Some(signer.verifier_key());
        let rate = |d: std::time::Duration| N as f64 / d.as_secs_f64() / 1e6;
        // CPU time of this thread (the machine may be shared): /proc/thread-self/schedstat, ns.
        let cpu = || -> f64 {
            std::fs::read_to_string("/proc/thread-self/schedstat")
                .ok()
                .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse::<f64>().ok()))
                .map_or(f64::NAN, |ns| ns / 1e9)
        };

        // Leaves only, as GET /v1/log/leaves serves them (the leaf/tree part).
        let t = Instant::now();
        let mut a = LogAuditor::new(opts.clone()).unwrap();
        a.push_header(serde_json::from_value(header.clone()).unwrap());
        for n in &notes {
            a.push_checkpoint(n);
        }
        let setup = t.elapsed();
        let (t, c) = (Instant::now(), cpu());
        for l in &leaves {
            a.push_leaf(l);
        }
        let (d, c) = (t.elapsed(), cpu() - c);
        let r = a.finish();
        assert!(r.valid, "{:#?}", r.failures);
        assert_eq!(r.checkpoints, checkpoints.len() as u64);
        eprintln!(
            "leaves (binary): {:.2} M entries/s wall, {:.2} M/s CPU ({:.0} ms; {} checkpoint signatures verified in {:.0} ms)",
            rate(d),
            N as f64 / c / 1e6,
            d.as_secs_f64() * 1e3,
            notes.len(),
            setup.as_secs_f64() * 1e3
        );

        // The bundle with erased records (leaf lines: JSON + base64 + the leaf/tree part).
        let (t, c) = (Instant::now(), cpu());
        let r = audit_bundle(&erased, opts.clone(), &mut |_| {}).unwrap();
        let (d, c) = (t.elapsed(), cpu() - c);
        assert!(r.valid, "{:#?}", r.failures);
        assert_eq!(r.records_erased, N);
        eprintln!(
            "bundle, records erased: {:.2} M entries/s wall, {:.2} M/s CPU ({:.0} ms)",
            rate(d),
            N as f64 / c / 1e6,
            d.as_secs_f64() * 1e3
        );

        // The bundle with every record opened (adds JSON parse, JCS and SHA-256 of each record).
        let (t, c) = (Instant::now(), cpu());
        let r = audit_bundle(&bundle, opts, &mut |_| {}).unwrap();
        let (d, c) = (t.elapsed(), cpu() - c);
        assert!(r.valid, "{:#?}", r.failures);
        assert_eq!(r.records_opened, N);
        eprintln!(
            "bundle, records opened: {:.2} M entries/s wall, {:.2} M/s CPU ({:.0} ms)",
            rate(d),
            N as f64 / c / 1e6,
            d.as_secs_f64() * 1e3
        );

        if let Some(dir) = std::env::var_os("CONSENTRY_AUDIT_BENCH_OUT") {
            let dir = std::path::PathBuf::from(dir);
            std::fs::write(dir.join("with-records.jsonl"), &bundle).unwrap();
            std::fs::write(dir.join("erased.jsonl"), &erased).unwrap();
            std::fs::write(dir.join("log.vkey"), signer.verifier_key().to_vkey()).unwrap();
        }
    }

    #[test]
    #[ignore = "benchmark"]
    fn bench_parts() {
        use std::time::Instant;
        let cpu = || -> f64 {
            std::fs::read_to_string("/proc/thread-self/schedstat")
                .ok()
                .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse::<f64>().ok()))
                .map_or(f64::NAN, |ns| ns / 1e9)
        };
        const N: u64 = 1_000_000;
        let f = fixture(1);
        let leaf = f.leaves[0];
        let mut acc = [0u8; 32];
        let c = cpu();
        let t = Instant::now();
        for i in 0..N {
            let mut l = leaf;
            l[8..16].copy_from_slice(&i.to_be_bytes());
            let h = merkle::leaf_hash(&l);
            acc[0] ^= h[0];
        }
        eprintln!(
            "leaf_hash: {:.0} ns cpu, {:.0} ns wall",
            (cpu() - c) * 1e9 / N as f64,
            t.elapsed().as_secs_f64() * 1e9 / N as f64
        );
        let c = cpu();
        let mut h = [1u8; 32];
        for _ in 0..N {
            h = merkle::node_hash(&h, &acc);
        }
        eprintln!("node_hash: {:.0} ns cpu {}", (cpu() - c) * 1e9 / N as f64, h[0]);
        let c = cpu();
        let mut r = CompactRange::new();
        for _ in 0..N {
            r.push(&h).unwrap();
        }
        eprintln!("range push: {:.0} ns cpu", (cpu() - c) * 1e9 / N as f64);
        let c = cpu();
        let mut x = 0u64;
        for _ in 0..N {
            x += Leaf::from_bytes(&leaf).unwrap().seq;
        }
        eprintln!("from_bytes: {:.0} ns cpu {x}", (cpu() - c) * 1e9 / N as f64);
        let c = cpu();
        let mut m: HashMap<[u8; 32], u64> = HashMap::new();
        for i in 0..N {
            let k = crate::crypto::Sha256Digest::of(&(i % 20000).to_be_bytes()).0;
            x += m.insert(k, i).unwrap_or(0);
        }
        eprintln!(
            "sha+map insert (20k keys): {:.0} ns cpu {x}",
            (cpu() - c) * 1e9 / N as f64
        );
        let b64 = STANDARD.encode(leaf);
        let c = cpu();
        let mut out = [0u8; 138];
        for _ in 0..N {
            x += STANDARD.decode_slice(b64.as_bytes(), &mut out).unwrap() as u64;
        }
        eprintln!("base64 decode: {:.0} ns cpu {x}", (cpu() - c) * 1e9 / N as f64);
        let record = br#"{"bank":"911000001000013428","caller":{"did":"did:key:z6MkiS2wovtuq12egsh6eMoFudur1Nq1rC5QeXXjnrY8hwtu","role":"platform","uscc":"91440300708461136T"},"categories":[{"code":"TAX-03","granularity":"derived","providers":["STA"]}],"dataSha256":"5b6fb58e61fa475939767d68a446f97f1bff02c0e5935a3ea8bb51e6515783d8","decision":"allowed","enterprise":"913301000000001234","grant":{"id":"urn:uuid:00000000-0000-4000-8000-000000001234","sha256":"5b6fb58e61fa475939767d68a446f97f1bff02c0e5935a3ea8bb51e6515783d8"},"platform":"91440300708461136T","purpose":"credit-approval","requestId":"req-123456"}"#;
        let n = 100_000u64;
        let c = cpu();
        for _ in 0..n {
            x += crate::crypto::json::parse(record).map(|_| 1).unwrap();
        }
        eprintln!("json::parse: {:.0} ns cpu", (cpu() - c) * 1e9 / n as f64);
        let node = crate::crypto::json::parse(record).unwrap();
        let c = cpu();
        let mut buf = Vec::new();
        for _ in 0..n {
            buf.clear();
            jcs::write_node(&node, &mut buf).unwrap();
        }
        eprintln!("write_node: {:.0} ns cpu", (cpu() - c) * 1e9 / n as f64);
        let c = cpu();
        for _ in 0..n {
            acc = record_commitment(&acc, record);
        }
        eprintln!("commitment sha: {:.0} ns cpu", (cpu() - c) * 1e9 / n as f64);
        let c = cpu();
        for _ in 0..n {
            let v: Value = serde_json::from_slice(record).unwrap();
            x += u64::from(v.is_object());
        }
        eprintln!(
            "serde Value: {:.0} ns cpu {x} {}",
            (cpu() - c) * 1e9 / n as f64,
            acc[0]
        );
    }
}
