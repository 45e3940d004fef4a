//! RFC 8785 canonicalization: the fast path agrees with the reference implementation, and the
//! canonical form is a fixed point (parsing and canonicalizing it again gives the same bytes).
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/support/jcs_reference.rs"]
mod jcs_reference;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = consentry::crypto::json::parse_strict(data) else {
        return;
    };
    let fast = consentry::crypto::jcs::canonicalize(&v);
    let reference = jcs_reference::canonicalize_reference(&v);
    match (fast, reference) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b, "canonicalize and canonicalize_reference differ");
            let again = consentry::crypto::json::parse_strict(&a).expect("canonical form does not parse");
            let twice = consentry::crypto::jcs::canonicalize(&again).expect("canonical form does not canonicalize");
            assert_eq!(a, twice, "canonical form is not a fixed point");
        }
        (Err(_), Err(_)) => {}
        (a, b) => panic!("fast {:?} vs reference {:?}", a.is_ok(), b.is_ok()),
    }
});
