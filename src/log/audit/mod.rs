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
//! Roots are recomputed with one [`CompactRange`](super::merkle::CompactRange) (`O(log n)` memory): a checkpoint given *before*
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
//!
//! # Layout
//!
//! | file | holds |
//! |---|---|
//! | `replay.rs` | [`LogAuditor`], [`AuditOptions`], the replay of the entries: checks (a)–(d) |
//! | `checkpoints.rs` | the log key and witness policy, checkpoints, consistency proofs, the trusted checkpoint: checks (e)–(g) |
//! | `report.rs` | [`Check`], [`Failure`], how failures are kept, [`LogAuditor::finish`] and the [`AuditReport`] |
//! | `bundle.rs` | the evidence bundle's lines ([`BundleHeader`]) and how the auditor takes them |
//! | `fast.rs` | the parser-free fast path for entry lines in the node's form, and the canonical-form check |
//! | `reader.rs` | [`audit_bundle`] (in memory) and [`audit_reader`] (a file, streamed): the two passes |
//! | `tests.rs` | the unit tests |

mod bundle;
mod checkpoints;
mod fast;
mod reader;
mod replay;
mod report;
#[cfg(test)]
mod tests;

pub use bundle::{BUNDLE_FORMAT, BundleHeader};
pub use reader::{AuditReadError, PROGRESS_EVERY, READ_CHUNK, audit_bundle, audit_reader};
pub use replay::{AuditConfigError, AuditOptions, LogAuditor, RecordOpening};
pub use report::{AuditReport, Check, DEFAULT_MAX_FAILURES, Failure, PER_CHECK_LIMIT};
