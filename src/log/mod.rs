//! The tamper-evident access log: an RFC 9162 Merkle tree of access entries, signed checkpoints,
//! proofs and receipts. Pure: no I/O (storage is [`crate::storage::log_store`]).
//!
//! | module | what | spec |
//! |---|---|---|
//! | [`entry`] | access entries, the 136-byte leaf, salted record commitments | spec/access-log.md |
//! | [`merkle`] | RFC 9162 hashing, proofs, compact ranges | RFC 9162 §2.1 |
//! | [`note`] | signed notes, key IDs, vkeys | c2sp.org/signed-note |
//! | [`checkpoint`] | checkpoints and Ed25519 witness cosignatures | c2sp.org/tlog-checkpoint, c2sp.org/tlog-cosignature |
//! | [`keys`] | the key history: rollover, pre-rotation, which key signs which checkpoint | spec/access-log.md §5.5 |
//! | [`audit`] | streaming verifier of a whole log or evidence bundle | spec/access-log.md §8 |
//! | [`tlog_proof`] | offline receipts `c2sp.org/tlog-proof@v1` | c2sp.org/tlog-proof |
//! | [`tiles`] | the static tile layout: paths, contents, the tile verifier | c2sp.org/tlog-tiles |

pub mod audit;
pub mod checkpoint;
pub mod entry;
pub mod keys;
pub mod merkle;
pub mod note;
pub mod tiles;
pub mod tlog_proof;
