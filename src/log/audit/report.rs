//! Findings and the report: what failed ([`Check`], [`Failure`]), how failures are kept (in log
//! order, at most [`AuditOptions::max_failures`](super::AuditOptions::max_failures) in all and
//! [`PER_CHECK_LIMIT`] of each check, the rest counted), and [`LogAuditor::finish`], which runs the
//! checks that need the whole input and builds the [`AuditReport`].
//!
//! Guarantees: a report is `valid` only when no failure was found, kept or counted; failures are
//! sorted by the tree size at which a streaming verifier sees them, so the first is where the log
//! first goes wrong.

use serde::Serialize;
use std::collections::BTreeSet;
use std::ops::Bound;

use super::checkpoints::{RootStatus, hex32};
use super::replay::LogAuditor;
use crate::log::note::VerifierKey;

/// Default cap on the failures kept in a report.
pub const DEFAULT_MAX_FAILURES: usize = 100;

/// At most this many failures of one [`Check`] are kept; the rest are counted.
pub const PER_CHECK_LIMIT: u32 = 10;

/// What failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// The bundle itself: header, a line that is not one of the five kinds, counts.
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
    /// (h) A key record that does not verify from the pinned key (spec/access-log.md §5.5.3).
    KeyHistory,
    /// (h) A checkpoint signed only by a key of the history that is not valid at its size.
    KeyRevoked,
    /// (g) The log is shorter than the trusted checkpoint.
    Rollback,
    /// (g) The trusted checkpoint itself does not verify.
    Trusted,
}

impl Check {
    /// Every check, in report order at equal positions.
    pub const ALL: [Check; 15] = [
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
        Check::KeyHistory,
        Check::KeyRevoked,
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
            Check::KeyHistory => "key-history",
            Check::KeyRevoked => "key-revoked",
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

impl LogAuditor {
    /// Whether any failure was found so far.
    pub fn has_failed(&self) -> bool {
        !self.failures.is_empty() || self.omitted > 0
    }

    pub(super) fn fail(
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

    /// Ends the audit: the checks that need the whole input, and the report.
    pub fn finish(mut self) -> AuditReport {
        self.check_trusted_once();
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
        if let (true, Some((size, cp))) = (self.quorum_policy.is_some(), self.checkpoints.iter().next_back())
        {
            if let Err((_, e)) = self.verify_checkpoint_note(cp.note.as_bytes(), true) {
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
