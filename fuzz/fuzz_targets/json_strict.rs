//! The strict JSON parser (spec: RFC 8259 / I-JSON RFC 7493 as narrowed in `crypto::json`), and a
//! differential check: whatever it accepts, serde_json accepts too, with the same value. Numbers are
//! compared as the doubles they are (the strict parser keeps an integer beyond ±(2^53 − 1) as its
//! double, where serde_json keeps a `u64`).
#![no_main]
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fuzz_target!(|data: &[u8]| {
    let tree = consentry::crypto::json::parse(data);
    let strict = consentry::crypto::json::parse_strict(data);
    assert_eq!(tree.is_ok(), strict.is_ok(), "parse and parse_strict disagree");
    if let Ok(v) = strict {
        let reference: Value =
            serde_json::from_slice(data).expect("serde_json refuses what the strict parser accepted");
        assert!(same(&v, &reference), "the strict parser and serde_json read different values: {v} vs {reference}");
    }
});
