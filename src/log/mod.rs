//! The tamper-evident access log: an RFC 9162 Merkle tree of access entries, signed checkpoints,
//! proofs and receipts. Pure: no I/O.
pub mod entry;
pub mod merkle;
