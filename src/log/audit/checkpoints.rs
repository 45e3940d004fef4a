//! Checkpoints and witnesses — checks (e) to (g) of the module table: the header's log key and the
//! witness policy, every signed checkpoint (verified at once, its root compared with the entries
//! when the stream reaches its size), consistency proofs between checkpoints, forks (two roots for
//! one size) and the trusted checkpoint saved earlier (rollback, rewritten history).
//!
//! Guarantees: a checkpoint counts only once its signature verified under the log key (and the
//! witness policy); a root mismatch is reported once, narrowed down to the entries since the last
//! checkpoint that matched.

use std::ops::Bound;

use super::bundle::{BUNDLE_FORMAT, BundleHeader};
use super::replay::LogAuditor;
use super::report::Check;
use crate::log::checkpoint::{Checkpoint, CheckpointError, CheckpointPolicy, VerifiedCheckpoint};
use crate::log::keys::{KeyHistory, KeyHistoryError};
use crate::log::merkle::{self, EMPTY_ROOT, Hash};
use crate::log::note::{Note, VerifierKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RootStatus {
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
pub(super) struct Cp {
    pub(super) root: Hash,
    pub(super) note: String,
    pub(super) status: RootStatus,
}

#[derive(Debug, Clone)]
pub(super) struct Trusted {
    pub(super) size: u64,
    pub(super) root: Hash,
    pub(super) note: String,
    /// Verified under the policy (after the header).
    pub(super) verified: bool,
    pub(super) status: RootStatus,
}

pub(super) fn hex32(h: &Hash) -> String {
    hex::encode(h)
}

impl LogAuditor {
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
    }

    /// A key record (spec/access-log.md §5.5.1), after the header and before the checkpoints. The
    /// history is verified from the pinned key (or the header's) as records come.
    pub fn push_key_record(&mut self, note: &str) {
        let (Some(header), Some(anchor)) = (&self.header, &self.log_key) else {
            let msg = "a key record comes before the header or without a usable log key".to_owned();
            self.fail(Check::Bundle, 0, None, None, None, msg);
            return;
        };
        self.key_notes.push(note.to_owned());
        let (history, error) = KeyHistory::verify_prefix(&header.origin, anchor, &self.key_notes);
        self.history = history;
        match error {
            Some(KeyHistoryError::AnchorNotInHistory(_)) | None => {}
            Some(e) if !self.key_failed => {
                self.key_failed = true;
                let msg = format!("the key history does not verify: {e}");
                self.fail(Check::KeyHistory, 0, None, None, None, msg);
            }
            Some(_) => {}
        }
    }

    /// Verifies a checkpoint note under the key history when the bundle has one, else under the
    /// log key; with `quorum`, with the witness quorum. The error names the check it fails.
    pub(super) fn verify_checkpoint_note(
        &self,
        note: &[u8],
        quorum: bool,
    ) -> Result<VerifiedCheckpoint, (Check, String)> {
        if self.key_notes.is_empty() {
            let policy = if quorum {
                self.quorum_policy.as_ref().or(self.policy.as_ref())
            } else {
                self.policy.as_ref()
            };
            return match policy {
                Some(p) => p
                    .verify(note, self.opts.now)
                    .map_err(|e| (Check::Signature, e.to_string())),
                None => Err((Check::Signature, CheckpointError::EmptyOrigin.to_string())),
            };
        }
        let Some(h) = &self.history else {
            return Err((
                Check::Signature,
                "the bundle's key history does not verify from the log key, so no key is known".into(),
            ));
        };
        let q = if quorum || self.opts.quorum_on_every_checkpoint {
            self.opts.quorum
        } else {
            0
        };
        h.verify_checkpoint(note, &self.opts.witnesses, q, self.opts.now)
            .map_err(|e| match e {
                KeyHistoryError::KeyRevoked { .. } => (Check::KeyRevoked, e.to_string()),
                e => (Check::Signature, e.to_string()),
            })
    }

    /// Verifies the trusted checkpoint once every key record is in (at the first checkpoint or
    /// consistency line, or at the end).
    pub(super) fn check_trusted_once(&mut self) {
        if !self.trusted_checked && self.header.is_some() {
            self.trusted_checked = true;
            if !self.key_notes.is_empty() && self.history.is_none() && !self.key_failed {
                self.key_failed = true;
                let anchor = self
                    .log_key
                    .as_ref()
                    .map(VerifierKey::to_vkey)
                    .unwrap_or_default();
                let msg = format!(
                    "the key history does not verify: {}",
                    KeyHistoryError::AnchorNotInHistory(anchor)
                );
                self.fail(Check::KeyHistory, 0, None, None, None, msg);
            }
            self.verify_trusted();
        }
    }

    fn verify_trusted(&mut self) {
        let Some(t) = &self.trusted else {
            return;
        };
        let result = self.verify_checkpoint_note(t.note.as_bytes(), true).map(|_| ());
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
            Err((_, e)) => {
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
    pub(super) fn reach(&mut self) {
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
        self.check_trusted_once();
        let position = self.range.size();
        let Some(_) = &self.policy else {
            let msg = if self.header.is_none() {
                "a checkpoint comes before the header".to_owned()
            } else {
                "a checkpoint cannot be verified without a usable log key".to_owned()
            };
            self.fail(Check::Bundle, position, None, None, None, msg);
            return;
        };
        let verified = match self.verify_checkpoint_note(note.as_bytes(), false) {
            Ok(v) => v,
            Err((check, e)) => {
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
                self.fail(check, size.unwrap_or(0), None, size, None, msg);
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
        self.check_trusted_once();
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
}
