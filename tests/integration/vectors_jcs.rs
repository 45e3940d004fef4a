//! RFC 8785 canonicalization: the cyberphone reference test data, Appendix B, the §3.2.3 sorting
//! example, 7,124 ECMAScript number strings, and random documents — the fast writer and serde_jcs 0.2
//! must both produce the expected bytes.

use consentry::crypto::{jcs, json};
use proptest::prelude::*;
use serde_json::Value;

use crate::common::{vector, vector_json, vector_path};
use crate::jcs_reference::canonicalize_reference;

#[test]
fn cyberphone_testdata() {
    let dir = vector_path("jcs-rfc8785/input");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let input = json::parse_strict_str(&vector(&format!("jcs-rfc8785/input/{name}"))).unwrap();
        let expected = std::fs::read(vector_path(&format!("jcs-rfc8785/output/{name}"))).unwrap();
        let outhex = vector(&format!("jcs-rfc8785/outhex/{}", name.replace(".json", ".txt")));
        let expected_hex: String = outhex.split_whitespace().collect();
        assert_eq!(
            hex::encode(&expected),
            expected_hex,
            "{name}: output and outhex agree"
        );
        assert_eq!(
            jcs::canonicalize(&input).unwrap(),
            expected,
            "{name}: fast writer"
        );
        assert_eq!(
            canonicalize_reference(&input).unwrap(),
            expected,
            "{name}: serde_jcs"
        );
        n += 1;
    }
    assert_eq!(n, 6);
}

#[test]
fn appendix_b_numbers() {
    let table = vector_json("jcs-rfc8785/rfc8785-appendix-b-numbers.json");
    let mut checked = 0;
    for s in table["samples"].as_array().unwrap() {
        let bits = u64::from_str_radix(s["ieee754Hex"].as_str().unwrap(), 16).unwrap();
        let f = f64::from_bits(bits);
        match (serde_json::Number::from_f64(f), s["expected"].as_str()) {
            (Some(n), Some(expected)) => {
                let v = Value::Number(n);
                assert_eq!(
                    String::from_utf8(jcs::canonicalize(&v).unwrap()).unwrap(),
                    expected,
                    "{bits:016x}"
                );
                checked += 1;
            }
            // NaN and ±Infinity cannot even enter a JSON value: RFC 8785 says they MUST be refused.
            (None, None) => assert!(!f.is_finite()),
            (n, e) => panic!("{bits:016x}: number {n:?}, expected {e:?}"),
        }
    }
    assert!(checked >= 20, "only {checked} finite samples");
}

#[test]
fn utf16_sorting_example() {
    let input = json::parse_strict_str(&vector("jcs-rfc8785/rfc8785-3.2.3-sorting-input.json")).unwrap();
    let order = vector_json("jcs-rfc8785/rfc8785-3.2.3-sorting-expected-order.json");
    let expected: Vec<String> = order["expectedPropertyOrder"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(expected.len(), 7);
    // Read the canonical text back with a parser that keeps member order.
    let canon = jcs::canonicalize(&input).unwrap();
    let got = keys_in_text_order(std::str::from_utf8(&canon).unwrap());
    assert_eq!(got, expected);
}

/// The member names of a flat JSON object, in the order they appear in its text.
fn keys_in_text_order(text: &str) -> Vec<String> {
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Keys, A::Error> {
                    let mut out = Vec::new();
                    while let Some((k, _)) = m.next_entry::<String, serde::de::IgnoredAny>()? {
                        out.push(k);
                    }
                    Ok(Keys(out))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_str::<Keys>(text).unwrap().0
}

#[test]
fn ecmascript_number_sample() {
    let csv = vector("derived/jcs-numbers.es6.csv");
    let mut rows = 0;
    for line in csv.lines().skip(1) {
        let mut cols = line.splitn(3, ',');
        let (hex_bits, es6, source) = (cols.next().unwrap(), cols.next().unwrap(), cols.next().unwrap());
        let bits = u64::from_str_radix(hex_bits, 16).unwrap();
        // (a) the double formats as ECMAScript does
        let v = Value::Number(serde_json::Number::from_f64(f64::from_bits(bits)).unwrap());
        let canon = String::from_utf8(jcs::canonicalize(&v).unwrap()).unwrap();
        assert_eq!(canon, es6, "format {hex_bits}");
        // (b) the source text parses to exactly that double (−0 aside), and (c) canonicalizes to es6
        match json::parse_strict_str(source) {
            Ok(parsed) => {
                let f = parsed.as_f64().unwrap();
                if f != 0.0 {
                    assert_eq!(f.to_bits(), bits, "parse {source}");
                }
                assert_eq!(
                    String::from_utf8(jcs::canonicalize(&parsed).unwrap()).unwrap(),
                    es6,
                    "canon {source}"
                );
            }
            // Integer literals beyond ±(2^53−1) are refused on purpose (2^53 and neighbours are in the sample).
            Err(json::JsonError::UnsafeInteger(_)) => {
                assert!(!source.contains(['.', 'e', 'E']), "{source}");
            }
            Err(e) => panic!("{source}: {e}"),
        }
        rows += 1;
    }
    assert_eq!(rows, 7124);
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-(1i64 << 53) + 1..(1i64 << 53)).prop_map(|i| Value::Number(i.into())),
        any::<f64>()
            .prop_filter_map("finite", serde_json::Number::from_f64)
            .prop_map(Value::Number),
        "\\PC{0,12}".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::hash_map(
                "\\PC{0,6}|[\\u{1F600}-\\u{1F64F}\\u{E000}-\\u{FFFD}a-z\\r1]{0,3}",
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The fast writer and serde_jcs agree byte for byte, and the canonical form is a fixed point.
    #[test]
    fn fast_writer_equals_serde_jcs(v in arb_json()) {
        let fast = jcs::canonicalize(&v).unwrap();
        prop_assert_eq!(&fast, &canonicalize_reference(&v).unwrap());
        // The canonical form is a fixed point, and the strict parser accepts it: every integer
        // literal JCS writes is its own canonical form.
        let reparsed = json::parse_strict(&fast).unwrap();
        prop_assert_eq!(jcs::canonicalize(&reparsed).unwrap(), fast);
    }
}

/// The guard the reference lacks: `serde_jcs` alone rounds an integer no double holds, so the
/// reference (like the fast writer) refuses it first; wide integers that a double holds come out as
/// doubles from both.
#[test]
fn reference_refuses_unsafe_integers_and_agrees_on_wide_ones() {
    let v = serde_json::json!({"n": 9007199254740993u64});
    assert!(canonicalize_reference(&v).is_err());
    assert_eq!(serde_jcs::to_string(&v).unwrap(), "{\"n\":9007199254740992}");
    for (v, want) in [
        (
            serde_json::json!({"n": 1u64 << 60}),
            "{\"n\":1152921504606847000}",
        ),
        (serde_json::json!({"n": i64::MIN}), "{\"n\":-9223372036854776000}"),
        (serde_json::json!({"n": 1e21}), "{\"n\":1e+21}"),
    ] {
        assert_eq!(
            String::from_utf8(canonicalize_reference(&v).unwrap()).unwrap(),
            want
        );
        assert_eq!(String::from_utf8(jcs::canonicalize(&v).unwrap()).unwrap(), want);
    }
}
