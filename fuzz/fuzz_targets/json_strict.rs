//! The strict JSON parser (spec: RFC 8259 / I-JSON RFC 7493 as narrowed in `crypto::json`), and a
//! differential check: whatever it accepts, serde_json accepts too, with the same value.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tree = consentry::crypto::json::parse(data);
    let strict = consentry::crypto::json::parse_strict(data);
    assert_eq!(tree.is_ok(), strict.is_ok(), "parse and parse_strict disagree");
    if let Ok(v) = strict {
        let reference: serde_json::Value =
            serde_json::from_slice(data).expect("serde_json refuses what the strict parser accepted");
        assert_eq!(v, reference, "the strict parser and serde_json read different values");
    }
});
