//! Auditing a whole access log (spec/access-log.md §8): a streaming verifier fed a log's header, its
//! entries in order, its signed checkpoints and the consistency proofs between them, which names the
//! first thing that does not hold. Pure: no I/O, no clock (the verification time is passed in).
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
//! [`LogAuditor::push_line`] for every line ([`audit_bundle`] does both over a bundle in memory).
//! A checkpoint given only after the entries passed its size is still covered, through the chain of
//! verified consistency proofs up to a checkpoint whose root was recomputed, but a mismatch can then
//! only be narrowed down to that chain.
//!
//! Per entry the leaf/tree part costs one leaf hash (3 SHA-256 blocks), one node hash amortised
//! (2 blocks) and two hash-map updates; opening a record adds JCS and SHA-256 of the record.
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
    #[serde(default, deserialize_with = "present")]
    record: Option<Option<Value>>,
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
    grant_heads: HashMap<[u8; 32], u64>,
    subject_heads: HashMap<[u8; 32], u64>,
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
            grant_heads: HashMap::new(),
            subject_heads: HashMap::new(),
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

    fn check_record(&mut self, p: u64, leaf: &Leaf, opening: RecordOpening<'_>) {
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
                if record_commitment(salt, &canonical) == leaf.record_commitment {
                    self.records_opened += 1;
                } else {
                    let msg = format!(
                        "entry {p}: the record and its salt do not open the leaf's commitment (the record or \
                         the leaf was changed)"
                    );
                    self.fail(Check::Record, p + 1, Some(p), None, None, msg);
                }
                self.canonical = canonical;
            }
            Err(e) => {
                let msg = format!("entry {p}: the record is not canonicalizable I-JSON (RFC 8785): {e}");
                self.fail(Check::Record, p + 1, Some(p), None, None, msg);
            }
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
        if entries {
            if let Some(e) = FastEntry::scan(line) {
                self.push_fast_entry(e);
                return;
            }
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
                self.push_entry_line(raw);
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

    fn push_fast_entry(&mut self, e: FastEntry<'_>) {
        let p = self.range.size();
        let mut leaf = [0u8; LEAF_LEN + 2];
        let bytes: &[u8] = match STANDARD.decode_slice(e.leaf, &mut leaf) {
            Ok(n) => &leaf[..n],
            Err(err) => {
                let msg = format!("entry {p}: the leaf is not {LEAF_LEN} bytes of canonical base64: {err}");
                self.fail(Check::Leaf, p + 1, Some(p), None, None, msg);
                &[]
            }
        };
        let mut salt = [0u8; 32];
        let opening = match (e.salt, e.record == b"null") {
            (None, true) => RecordOpening::Erased,
            (Some(hex_salt), false) => {
                if hex::decode_to_slice(hex_salt, &mut salt).is_err() {
                    let msg = format!("entry {p}: the salt is not 32 bytes of hex");
                    self.fail(Check::Record, p + 1, Some(p), None, None, msg);
                    RecordOpening::NotSupplied
                } else {
                    RecordOpening::OpenJson {
                        salt: &salt,
                        json: e.record,
                    }
                }
            }
            (Some(_), true) => {
                let msg = format!("entry {p}: a salt without its record");
                self.fail(Check::Record, p + 1, Some(p), None, None, msg);
                RecordOpening::NotSupplied
            }
            (None, false) => {
                let msg = format!("entry {p}: a record without its salt");
                self.fail(Check::Record, p + 1, Some(p), None, None, msg);
                RecordOpening::NotSupplied
            }
        };
        self.push_entry(Some(e.i), bytes, opening);
    }

    fn push_entry_line(&mut self, raw: RawLine<'_>) {
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
        let salt_record = (raw.salt, raw.record);
        let mut salt = [0u8; 32];
        let opening = match &salt_record {
            (None, None) => RecordOpening::NotSupplied,
            (Some(None), Some(None)) => RecordOpening::Erased,
            (Some(Some(s)), Some(Some(record))) => {
                if hex::decode_to_slice(s.as_ref(), &mut salt).is_err() {
                    let msg = format!("entry {p}: the salt is not 32 bytes of hex");
                    self.fail(Check::Record, p + 1, Some(p), None, None, msg);
                    RecordOpening::NotSupplied
                } else {
                    RecordOpening::Open { salt: &salt, record }
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
                RecordOpening::NotSupplied
            }
        };
        self.push_entry(raw.i, bytes, opening);
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

/// An entry line in exactly the form `consentry` writes —
/// `{"i":N,"leaf":"<base64>","record":<JSON>,"salt":"<64 hex>"|null}` — cut apart without a JSON
/// parser. Anything else goes through `serde_json`. The record's text is checked later by the strict
/// I-JSON parser that canonicalizes it, so a line accepted here is valid JSON whenever the record
/// opens.
struct FastEntry<'a> {
    i: u64,
    leaf: &'a [u8],
    record: &'a [u8],
    salt: Option<&'a [u8]>,
}

impl<'a> FastEntry<'a> {
    fn scan(line: &'a [u8]) -> Option<Self> {
        let rest = line.strip_prefix(ENTRY_LINE_PREFIX)?;
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 20 || (digits > 1 && rest[0] == b'0') {
            return None;
        }
        let i: u64 = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
        let rest = rest[digits..].strip_prefix(br#","leaf":""#)?;
        let end = rest.iter().position(|&b| b == b'"')?;
        let leaf = &rest[..end];
        if !leaf
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        {
            return None;
        }
        let rest = rest[end + 1..].strip_prefix(br#","record":"#)?;
        let (record, salt) = match rest.strip_suffix(br#","salt":null}"#) {
            Some(record) => (record, None),
            None => {
                let r = rest.strip_suffix(br#""}"#)?;
                let split = r.len().checked_sub(64)?;
                let (r, salt) = r.split_at(split);
                if !salt.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                (r.strip_suffix(br#","salt":""#)?, Some(salt))
            }
        };
        if record.is_empty() {
            return None;
        }
        // A `null` record must be exactly that; any other record must be an object (the form the node
        // writes); other shapes take the slow path, which reports them.
        if record != b"null" && (record[0] != b'{' || record[record.len() - 1] != b'}') {
            return None;
        }
        Some(Self {
            i,
            leaf,
            record,
            salt,
        })
    }
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
pub fn audit_bundle(
    bundle: &[u8],
    opts: AuditOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<AuditReport, AuditConfigError> {
    let mut auditor = LogAuditor::new(opts)?;
    for line in bundle.split(|&b| b == b'\n') {
        auditor.push_metadata_line(line);
    }
    for line in bundle.split(|&b| b == b'\n') {
        auditor.push_line(line);
        if auditor.entries() % PROGRESS_EVERY == 0 && line.starts_with(ENTRY_LINE_PREFIX) {
            progress(auditor.entries());
        }
    }
    Ok(auditor.finish())
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

    fn audit(bytes: &[u8], opts: AuditOptions) -> AuditReport {
        audit_bundle(bytes, opts, &mut |_| {}).unwrap()
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
