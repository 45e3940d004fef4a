//! The reference RFC 8785 canonicalization the fast writer (`consentry::crypto::jcs`) is tested
//! against: `serde_jcs` 0.2, the crate the project standardised on, after the same integer-range
//! check. About four times slower than the fast writer (it re-parses every key into a buffered map),
//! so it is an oracle only: the integration tests, the benchmarks (`benches/grant_verify.rs`) and the
//! fuzz target `fuzz/fuzz_targets/jcs.rs` include this file, and `serde_jcs` is a dev-dependency (a
//! plain dependency of the fuzz crate), never part of the service.

use consentry::crypto::jcs::JcsError;
use consentry::crypto::json::Node;
use serde_json::Value;

/// The canonical form of `value` computed by `serde_jcs` 0.2; refuses what the fast writer refuses.
pub fn canonicalize_reference(value: &Value) -> Result<Vec<u8>, JcsError> {
    // The strict tree refuses integers no double holds (the guard serde_jcs lacks), and hands
    // serde_jcs the doubles of wider ones that a double holds (it would write a `u64`'s digits, not
    // the ECMAScript form of its double).
    let as_doubles = Node::from_value(value)?.to_value();
    serde_jcs::to_vec(&as_doubles).map_err(|_| JcsError::NonFinite)
}
