//! JSON Canonicalization Scheme, RFC 8785.
//!
//! Two implementations with one output:
//!
//! * [`write_node`] / [`canonicalize`] — a direct writer over the parsed [`Node`] tree (or a
//!   [`serde_json::Value`]), used on every sign and verify.
//!   Numbers go through `ryu-js` (ECMAScript `Number.prototype.toString`, RFC 8785 §3.2.2.3), strings
//!   through `serde_json`'s escaper (which emits exactly the RFC 8785 §3.2.2.2 escapes: the seven short
//!   forms, other controls as lowercase `\u00xx`, everything else raw), and object members are sorted
//!   by UTF-16 code units (§3.2.3).
//! * `canonicalize_reference` — `serde_jcs` 0.2, the crate the project standardised on, kept outside
//!   the library (`tests/support/jcs_reference.rs`, shared by the tests, the benchmarks and the fuzz
//!   target; `serde_jcs` is a dev-dependency). It is about four times slower because it re-parses
//!   every key into a buffered map, so it serves as the oracle: the tests run both over every RFC 8785
//!   vector, 7,124 ECMAScript numbers and random documents and require identical bytes.
//!
//! Both refuse what RFC 8785 cannot represent: non-finite numbers, and (unlike `serde_jcs`, which
//! rounds them silently) integers beyond ±(2^53 − 1).

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use super::json::{JsonError, MAX_SAFE_INTEGER, Node, Number};

/// A value RFC 8785 cannot canonicalize.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JcsError {
    /// An integer no IEEE double holds: its canonical form would be another value.
    #[error("integer {0} is not exactly an IEEE double, so JCS would round it (RFC 8785 §3.2.2.3)")]
    UnsafeInteger(String),
    /// NaN or an infinity (cannot occur in a `serde_json::Value`, kept for completeness).
    #[error("non-finite number has no canonical form (RFC 8785 §3.2.2.3)")]
    NonFinite,
}

impl From<JsonError> for JcsError {
    fn from(e: JsonError) -> Self {
        match e {
            JsonError::UnsafeInteger(s) => Self::UnsafeInteger(s),
            _ => Self::NonFinite,
        }
    }
}

/// Returns the RFC 8785 canonical UTF-8 bytes of `value`.
pub fn canonicalize(value: &Value) -> Result<Vec<u8>, JcsError> {
    let mut out = Vec::with_capacity(1024);
    write_node(&Node::from_value(value)?, &mut out)?;
    Ok(out)
}

/// Appends the RFC 8785 canonical form of a parsed node to `out`.
pub fn write_node(node: &Node<'_>, out: &mut Vec<u8>) -> Result<(), JcsError> {
    match node {
        Node::Null => out.extend_from_slice(b"null"),
        Node::Bool(true) => out.extend_from_slice(b"true"),
        Node::Bool(false) => out.extend_from_slice(b"false"),
        Node::Number(n) => write_number(*n, out)?,
        Node::String(s) => write_string(s, out),
        Node::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_node(item, out)?;
            }
            out.push(b']');
        }
        Node::Object(members) => write_members(members, &[], out)?,
    }
    Ok(())
}

/// Appends the canonical form of an object with the given members, leaving out those named in
/// `skip` (how a Data Integrity verifier drops `proof` or `proofValue` without copying the document).
pub fn write_members(
    members: &[(Cow<'_, str>, Node<'_>)],
    skip: &[&str],
    out: &mut Vec<u8>,
) -> Result<(), JcsError> {
    let mut sorted: Vec<&(Cow<'_, str>, Node<'_>)> = members
        .iter()
        .filter(|(k, _)| !skip.contains(&k.as_ref()))
        .collect();
    sorted.sort_unstable_by(|a, b| utf16_cmp(&a.0, &b.0));
    out.push(b'{');
    for (i, (k, v)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(k, out);
        out.push(b':');
        write_node(v, out)?;
    }
    out.push(b'}');
    Ok(())
}

/// Orders strings by their UTF-16 code units (RFC 8785 §3.2.3). UTF-8 byte order equals code-point
/// order, which differs from UTF-16 order only for characters above U+FFFF against U+E000..U+FFFF.
pub fn utf16_cmp(a: &str, b: &str) -> Ordering {
    if a.is_ascii() || b.is_ascii() {
        a.as_bytes().cmp(b.as_bytes())
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
}

fn write_number(n: Number, out: &mut Vec<u8>) -> Result<(), JcsError> {
    match n {
        // ECMAScript writes integral doubles below 1e21 as plain digits, and -0 as 0.
        Number::Int(i) => {
            if i.unsigned_abs() > MAX_SAFE_INTEGER {
                return Err(JcsError::UnsafeInteger(i.to_string()));
            }
            out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
        }
        Number::Float(f) => {
            if !f.is_finite() {
                return Err(JcsError::NonFinite);
            }
            out.extend_from_slice(ryu_js::Buffer::new().format_finite(f).as_bytes());
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    // Most strings need no escape at all: copy them between quotes.
    if super::json::find_string_special(s.as_bytes()).is_none() {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    // serde_json's string escaper is RFC 8785 §3.2.2.2 exactly; writing to a Vec cannot fail.
    if serde_json::to_writer(&mut *out, s).is_err() {
        unreachable!("serializing a str into a Vec<u8> is infallible");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_by_utf16_code_units() {
        // RFC 8785 §3.2.3: "\r" < "1" < "ö" < "€" < "😀" < "דּ" (U+1F600 is D83D DE00, before U+FB33).
        let v = json!({"\u{20ac}": 1, "\r": 2, "\u{fb33}": 3, "1": 4, "\u{1f600}": 5, "\u{f6}": 6});
        let got = String::from_utf8(canonicalize(&v).unwrap()).unwrap();
        assert_eq!(
            got,
            "{\"\\r\":2,\"1\":4,\"\u{f6}\":6,\"\u{20ac}\":1,\"\u{1f600}\":5,\"\u{fb33}\":3}"
        );
    }

    #[test]
    fn refuses_unsafe_integers_unlike_serde_jcs() {
        let v = json!({"n": 9007199254740993u64});
        assert_eq!(
            canonicalize(&v),
            Err(JcsError::UnsafeInteger("9007199254740993".into()))
        );
    }

    #[test]
    fn wide_integers_that_are_doubles_canonicalize_as_doubles_in_both_writers() {
        for (v, want) in [
            (json!({"n": 1u64 << 60}), "{\"n\":1152921504606847000}"),
            (json!({"n": i64::MIN}), "{\"n\":-9223372036854776000}"),
            (json!({"n": 1e21}), "{\"n\":1e+21}"),
        ] {
            assert_eq!(String::from_utf8(canonicalize(&v).unwrap()).unwrap(), want);
        }
    }

    #[test]
    fn numbers_follow_ecmascript() {
        let v: Value =
            serde_json::from_str("[1E30, 4.50, -0.0, 1e21, 1e20, 100.0, 1e-7, 1e-6, 0.002]").unwrap();
        assert_eq!(
            String::from_utf8(canonicalize(&v).unwrap()).unwrap(),
            "[1e+30,4.5,0,1e+21,100000000000000000000,100,1e-7,0.000001,0.002]"
        );
    }
}
