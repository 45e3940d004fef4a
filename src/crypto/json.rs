//! Strict JSON input: I-JSON (RFC 7493) as RFC 8785 requires of anything that will be canonicalized.
//!
//! `serde_json` on its own accepts two things that break signatures over canonical JSON:
//!
//! * **duplicate member names** — it keeps the last value, while a first-wins parser elsewhere reads the
//!   other, so two readers of one signed document would disagree on what was signed (RFC 7493 §2.3);
//! * **integers beyond ±(2^53 − 1)** — RFC 8785 §3.2.2.3 serializes numbers as IEEE doubles, so
//!   `9007199254740993` and `9007199254740992` canonicalize alike and would share one signature
//!   (RFC 7493 §2.2).
//!
//! [`parse_strict`] rejects both before anything is verified or signed. Lone surrogates, NaN,
//! Infinity and numbers that overflow a double are already refused by `serde_json`.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// The largest integer every IEEE double holds exactly: 2^53 − 1 (RFC 7493 §2.2).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Why a JSON text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// Not JSON at all, or JSON that `serde_json` cannot represent (the message says where).
    #[error("malformed JSON: {0}")]
    Syntax(String),
    /// An object names the same member twice.
    #[error("duplicate member name {0:?}: I-JSON forbids it (RFC 7493 §2.3)")]
    DuplicateKey(String),
    /// An integer that a double cannot hold exactly.
    #[error("integer {0} is outside ±(2^53−1) and would be rounded by JCS (RFC 7493 §2.2)")]
    UnsafeInteger(String),
}

/// Parses `bytes` as strict I-JSON into a [`Value`].
///
/// Guarantees: no object in the result had a duplicate member name in the input, and every integer
/// literal in the input lies within ±(2^53 − 1), so [`crate::crypto::jcs`] reproduces it exactly.
pub fn parse_strict(bytes: &[u8]) -> Result<Value, JsonError> {
    let mut flags = Flags::default();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = StrictValue { flags: &mut flags }.deserialize(&mut de);
    let value = parsed.map_err(|e| {
        flags
            .refusal
            .take()
            .unwrap_or_else(|| JsonError::Syntax(e.to_string()))
    })?;
    de.end().map_err(|e| JsonError::Syntax(e.to_string()))?;
    if flags.huge_integral_float {
        // serde_json hands integer literals beyond 64 bits to us as doubles, indistinguishable from
        // `1e30`; only in that rare case look at the literal text itself.
        check_integer_literals(bytes)?;
    }
    Ok(value)
}

/// Parses a UTF-8 string as strict I-JSON; see [`parse_strict`].
pub fn parse_strict_str(text: &str) -> Result<Value, JsonError> {
    parse_strict(text.as_bytes())
}

/// State shared by the visitors of one parse: the refusal that stopped it, if it was ours.
#[derive(Default)]
struct Flags {
    huge_integral_float: bool,
    refusal: Option<JsonError>,
}

impl Flags {
    fn refuse<E: de::Error>(&mut self, why: JsonError) -> E {
        let e = E::custom(&why);
        self.refusal = Some(why);
        e
    }
}

struct StrictValue<'f> {
    flags: &'f mut Flags,
}

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        if v.unsigned_abs() > MAX_SAFE_INTEGER {
            return Err(self.flags.refuse(JsonError::UnsafeInteger(v.to_string())));
        }
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        if v > MAX_SAFE_INTEGER {
            return Err(self.flags.refuse(JsonError::UnsafeInteger(v.to_string())));
        }
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        if v.fract() == 0.0 && v.abs() >= 9.0e18 {
            self.flags.huge_integral_float = true;
        }
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element_seed(StrictValue {
            flags: &mut *self.flags,
        })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let v = map.next_value_seed(StrictValue {
                flags: &mut *self.flags,
            })?;
            if out.contains_key(&key) {
                return Err(self.flags.refuse(JsonError::DuplicateKey(key)));
            }
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// Scans the JSON text for integer literals (no fraction, no exponent) outside strings and rejects
/// any beyond ±(2^53 − 1). Only called when a double-valued integer ≥ 9e18 was seen.
fn check_integer_literals(bytes: &[u8]) -> Result<(), JsonError> {
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        if b == b'-' || b.is_ascii_digit() {
            let start = i;
            i += 1;
            while i < bytes.len() && matches!(bytes[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') {
                i += 1;
            }
            let token = &bytes[start..i];
            if !token.iter().any(|c| matches!(c, b'.' | b'e' | b'E')) {
                let digits = token.strip_prefix(b"-").unwrap_or(token);
                let fits = digits.len() <= 16
                    && std::str::from_utf8(digits)
                        .ok()
                        .and_then(|d| d.parse::<u64>().ok())
                        .is_some_and(|n| n <= MAX_SAFE_INTEGER);
                if !fits {
                    return Err(JsonError::UnsafeInteger(
                        String::from_utf8_lossy(token).into_owned(),
                    ));
                }
            }
            continue;
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_duplicate_keys_at_any_depth() {
        assert_eq!(
            parse_strict(br#"{"a":1,"a":2}"#),
            Err(JsonError::DuplicateKey("a".into()))
        );
        assert_eq!(
            parse_strict(br#"{"x":[{"b":true,"c":0,"b":false}]}"#),
            Err(JsonError::DuplicateKey("b".into()))
        );
        // Same name at different levels is fine.
        assert!(parse_strict(br#"{"a":{"a":1}}"#).is_ok());
    }

    #[test]
    fn integer_range_is_exactly_the_safe_range() {
        assert!(parse_strict(b"9007199254740991").is_ok());
        assert!(parse_strict(b"-9007199254740991").is_ok());
        for bad in [
            "9007199254740992",
            "9007199254740993",
            "-9007199254740992",
            "18446744073709551615",
            "-9223372036854775808",
            "123456789012345678901234567890",
            "[1, {\"k\": -123456789012345678901234567890}]",
        ] {
            assert!(
                matches!(parse_strict(bad.as_bytes()), Err(JsonError::UnsafeInteger(_))),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn large_doubles_written_as_doubles_are_fine() {
        // 1e30 is not an integer literal; JCS writes it as 1e+30 and nobody is misled.
        assert!(parse_strict(br#"{"a":1E30,"b":1e21,"c":"123456789012345678901234567890"}"#).is_ok());
    }

    #[test]
    fn rejects_what_serde_json_rejects() {
        for bad in ["{", "[1,]", "NaN", "1e400", r#""\ud800""#, "{} {}", "\"a\" x"] {
            assert!(
                matches!(parse_strict(bad.as_bytes()), Err(JsonError::Syntax(_))),
                "{bad} accepted"
            );
        }
    }
}
