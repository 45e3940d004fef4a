//! W3C Bitstring Status List v1.0: the entries a credential carries (`BitstringStatusListEntry`,
//! §2.1) and the compressed bitstring a status-list credential publishes (§2.2, §3.2).
//!
//! Bit order is the spec's: index 0 is the left-most bit, the most significant bit of byte 0
//! (§3.2 "Bitstring Encoding"). `encodedList` is multibase base64url without padding (`u…`) of the
//! GZIP (RFC 1952) of the bitstring. Lists shorter than 131,072 entries are refused (§6.3 "Validate
//! Algorithm", `STATUS_LIST_LENGTH_ERROR`), as are `encodedList` values without the `u` prefix, with
//! padding, or not GZIP (`MALFORMED_VALUE_ERROR`).

pub mod bitstring;
pub mod entry;

pub use bitstring::{Bitstring, StatusListError};
pub use entry::{StatusEntry, StatusPurpose};
