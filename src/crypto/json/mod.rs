//! Strict JSON input: I-JSON (RFC 7493) as RFC 8785 requires of anything that will be canonicalized,
//! parsed in one pass into a [`Node`] tree that borrows its strings from the input.
//!
//! Refused, each with its own [`JsonError`]:
//!
//! * anything that is not RFC 8259 JSON in UTF-8, nested deeper than [`MAX_DEPTH`], or with trailing
//!   text;
//! * **duplicate member names** — readers disagree on which value wins, so two readers of one signed
//!   document would read different things (RFC 7493 §2.3);
//! * **lone surrogates** in `\u` escapes (RFC 7493 §2.1);
//! * numbers that overflow a double (RFC 7493 §2.2);
//! * **integers that canonicalization would round** — RFC 8785 §3.2.2.3 writes numbers as IEEE
//!   doubles, so `9007199254740993` would canonicalize to `9007199254740992`: two documents with
//!   different values would share one signature. Within ±(2^53 − 1) every integer is exact; beyond,
//!   an integer literal is accepted exactly when its value is an IEEE double (`9007199254740992`,
//!   `1000000000000000000000` = 1e21, `1000000000000000019884624838656` = 1e30), and then it is kept
//!   as that double and canonicalized like any other number (`1e+21`, `1e+30`) — the same value
//!   written another way, as `1.0` is `1`. So is a literal that is exactly the digits ECMAScript
//!   writes for the double it reads as (`-8970681694652454000`): that is JCS's own output, and a
//!   canonical form must parse again. Any other literal whose value no double holds is refused.
//!   This is narrower than I-JSON's advice (RFC 7493 §2.2) to avoid all integers beyond 2^53 − 1,
//!   and agrees with the W3C implementations (vc-js) on which documents verify (issue #17).
//!
//! The tree is what [`crate::crypto::jcs`] canonicalizes and what [`de`] deserializes typed values
//! from, so a signed document is parsed exactly once on the verification path.

pub mod de;

use std::borrow::Cow;

use serde_json::Value;

/// The largest integer every IEEE double holds exactly: 2^53 − 1 (RFC 7493 §2.2).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;
/// The deepest nesting accepted (the same limit as `serde_json`).
pub const MAX_DEPTH: usize = 128;

/// Why a JSON text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// Not JSON (the message says what and at which byte).
    #[error("malformed JSON: {0}")]
    Syntax(String),
    /// An object names the same member twice.
    #[error("duplicate member name {0:?}: I-JSON forbids it (RFC 7493 §2.3)")]
    DuplicateKey(String),
    /// An integer literal whose value no IEEE double holds: canonicalization would round it. The
    /// message names the value it would be rounded to.
    #[error(
        "integer {0} is not exactly an IEEE double: JCS would round it to {rounded} (RFC 8785 §3.2.2.3)",
        rounded = rounded_integer(.0)
    )]
    UnsafeInteger(String),
}

/// The integer a double holds, written out in full (no exponent): `m · 2^e` in decimal. For
/// integral `f` of any size; used to tell whether an integer literal is exactly a double.
pub fn double_integer_digits(f: f64) -> String {
    const BASE: u64 = 1_000_000_000;
    if f == 0.0 || !f.is_finite() || f.fract() != 0.0 {
        return if f == 0.0 { "0".into() } else { format!("{f}") };
    }
    let bits = f.to_bits();
    let biased = i32::try_from((bits >> 52) & 0x7ff).unwrap_or(0);
    let mantissa = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
    let mut exp = biased - 1075;
    let mut m = mantissa;
    // Integral, so any negative exponent only strips trailing zero bits.
    while exp < 0 {
        m >>= 1;
        exp += 1;
    }
    let mut limbs = vec![m % BASE, m / BASE % BASE, m / BASE / BASE];
    while exp > 0 {
        let k = exp.min(29);
        exp -= k;
        let mut carry = 0u64;
        for limb in &mut limbs {
            let v = (*limb << k) + carry;
            *limb = v % BASE;
            carry = v / BASE;
        }
        while carry > 0 {
            limbs.push(carry % BASE);
            carry /= BASE;
        }
    }
    while limbs.len() > 1 && limbs.last() == Some(&0) {
        limbs.pop();
    }
    let mut out = String::from(if f < 0.0 { "-" } else { "" });
    let mut iter = limbs.iter().rev();
    if let Some(top) = iter.next() {
        out.push_str(&top.to_string());
    }
    for limb in iter {
        out.push_str(&format!("{limb:09}"));
    }
    out
}

/// What JCS would write for an integer literal: the ECMAScript form of the nearest double.
fn rounded_integer(literal: &str) -> String {
    literal.parse::<f64>().ok().filter(|f| f.is_finite()).map_or_else(
        || "another value".to_owned(),
        |f| ryu_js::Buffer::new().format_finite(f).to_owned(),
    )
}

/// Whether an integer held by a `serde_json::Value` (`i64` or `u64`) is exactly a double.
fn integer_is_double(magnitude: u64) -> bool {
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let back = (magnitude as f64) as u128;
    back == u128::from(magnitude)
}

/// A JSON number as RFC 8785 sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// An integer within ±(2^53 − 1).
    Int(i64),
    /// Any other finite double.
    Float(f64),
}

/// The members of an object, in input order. Names are unique.
pub type Members<'a> = Vec<(Cow<'a, str>, Node<'a>)>;

/// A parsed JSON value whose strings borrow from the input where they contain no escapes.
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<Node<'a>>),
    /// An object with unique member names.
    Object(Members<'a>),
}

impl<'a> Node<'a> {
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        match self {
            Node::Object(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    /// The members, if this is an object.
    pub fn as_object(&self) -> Option<&Members<'a>> {
        match self {
            Node::Object(m) => Some(m),
            _ => None,
        }
    }

    /// Removes and returns member `key` of an object.
    pub fn remove(&mut self, key: &str) -> Option<Node<'a>> {
        match self {
            Node::Object(m) => m.iter().position(|(k, _)| k == key).map(|i| m.remove(i).1),
            _ => None,
        }
    }

    /// Sets member `key` of an object, replacing any existing value.
    pub fn insert(&mut self, key: &'a str, value: Node<'a>) {
        if let Node::Object(m) = self {
            match m.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = value,
                None => m.push((Cow::Borrowed(key), value)),
            }
        }
    }

    /// The equivalent `serde_json::Value` (members in input order).
    pub fn to_value(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(Number::Int(i)) => Value::from(*i),
            Node::Number(Number::Float(f)) => {
                serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
            }
            Node::String(s) => Value::String(s.clone().into_owned()),
            Node::Array(items) => Value::Array(items.iter().map(Node::to_value).collect()),
            Node::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone().into_owned(), v.to_value()))
                    .collect(),
            ),
        }
    }

    /// A tree borrowing from a `serde_json::Value`. Integers beyond ±(2^53 − 1) become doubles when
    /// a double holds them exactly, and are refused otherwise (RFC 8785 would round them).
    pub fn from_value(v: &'a Value) -> Result<Self, JsonError> {
        Ok(match v {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => {
                let wide = n
                    .as_i64()
                    .map(|i| (i.unsigned_abs(), i < 0))
                    .or_else(|| n.as_u64().map(|u| (u, false)));
                if let Some((magnitude, negative)) = wide {
                    if magnitude <= MAX_SAFE_INTEGER {
                        let i = i64::try_from(magnitude).unwrap_or(0);
                        Node::Number(Number::Int(if negative { -i } else { i }))
                    } else if integer_is_double(magnitude) {
                        #[allow(clippy::cast_precision_loss)] // exact: checked just above
                        let f = magnitude as f64;
                        Node::Number(Number::Float(if negative { -f } else { f }))
                    } else {
                        return Err(JsonError::UnsafeInteger(n.to_string()));
                    }
                } else {
                    let f = n
                        .as_f64()
                        .filter(|f| f.is_finite())
                        .ok_or_else(|| JsonError::Syntax("non-finite number".into()))?;
                    Node::Number(Number::Float(f))
                }
            }
            Value::String(s) => Node::String(Cow::Borrowed(s)),
            Value::Array(items) => Node::Array(items.iter().map(Node::from_value).collect::<Result<_, _>>()?),
            Value::Object(m) => Node::Object(
                m.iter()
                    .map(|(k, v)| Ok((Cow::Borrowed(k.as_str()), Node::from_value(v)?)))
                    .collect::<Result<_, JsonError>>()?,
            ),
        })
    }
}

/// Parses `bytes` as strict I-JSON into a borrowed [`Node`] tree.
pub fn parse(bytes: &[u8]) -> Result<Node<'_>, JsonError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| JsonError::Syntax(format!("invalid UTF-8 at byte {}", e.valid_up_to())))?;
    let mut p = Parser {
        text,
        bytes,
        pos: 0,
        depth: 0,
    };
    p.skip_ws();
    let node = p.value()?;
    p.skip_ws();
    if p.pos != bytes.len() {
        return Err(p.error("trailing characters after the JSON value"));
    }
    Ok(node)
}

/// Parses `bytes` as strict I-JSON into a `serde_json::Value`; see [`parse`].
pub fn parse_strict(bytes: &[u8]) -> Result<Value, JsonError> {
    parse(bytes).map(|n| n.to_value())
}

/// Parses a UTF-8 string as strict I-JSON into a `serde_json::Value`; see [`parse`].
pub fn parse_strict_str(text: &str) -> Result<Value, JsonError> {
    parse_strict(text.as_bytes())
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, what: &str) -> JsonError {
        JsonError::Syntax(format!("{what} at byte {}", self.pos))
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, b: u8) -> Result<(), JsonError> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected '{}'", b as char)))
        }
    }

    fn literal(&mut self, word: &str, node: Node<'a>) -> Result<Node<'a>, JsonError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(node)
        } else {
            Err(self.error("invalid literal"))
        }
    }

    fn value(&mut self) -> Result<Node<'a>, JsonError> {
        match self.peek() {
            Some(b'{') => self.nested(Self::object),
            Some(b'[') => self.nested(Self::array),
            Some(b'"') => Ok(Node::String(self.string()?)),
            Some(b't') => self.literal("true", Node::Bool(true)),
            Some(b'f') => self.literal("false", Node::Bool(false)),
            Some(b'n') => self.literal("null", Node::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("unexpected character")),
            None => Err(self.error("unexpected end of input")),
        }
    }

    fn nested(&mut self, f: fn(&mut Self) -> Result<Node<'a>, JsonError>) -> Result<Node<'a>, JsonError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("nesting deeper than 128"));
        }
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn object(&mut self) -> Result<Node<'a>, JsonError> {
        self.pos += 1;
        let mut members: Members<'a> = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Node::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a member name"));
            }
            let key = self.string()?;
            self.skip_ws();
            self.expect(b':')?;
            self.skip_ws();
            let value = self.value()?;
            members.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
        check_unique(&members)?;
        Ok(Node::Object(members))
    }

    fn array(&mut self) -> Result<Node<'a>, JsonError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Node::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Node::Array(items));
                }
                _ => return Err(self.error("expected ',' or ']'")),
            }
        }
    }

    fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        self.pos += 1; // opening quote
        let start = self.pos;
        // Fast path: no escapes, borrow the slice.
        let stop = find_string_special(&self.bytes[start..]);
        match stop.map(|n| (n, self.bytes[start + n])) {
            Some((n, b'"')) => {
                self.pos = start + n + 1;
                return Ok(Cow::Borrowed(&self.text[start..start + n]));
            }
            Some((n, b'\\')) => self.pos = start + n,
            Some((n, _)) => {
                self.pos = start + n;
                return Err(self.error("unescaped control character in string"));
            }
            None => {
                self.pos = self.bytes.len();
                return Err(self.error("unterminated string"));
            }
        }
        let mut out = String::from(&self.text[start..self.pos]);
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if !self.bytes[self.pos..].starts_with(b"\\u") {
                                    return Err(self.error("lone leading surrogate in \\u escape"));
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.error("invalid trailing surrogate in \\u escape"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else if (0xDC00..0xE000).contains(&hi) {
                                return Err(self.error("lone trailing surrogate in \\u escape"));
                            } else {
                                hi
                            };
                            out.push(char::from_u32(code).ok_or_else(|| self.error("invalid \\u escape"))?);
                            continue;
                        }
                        _ => return Err(self.error("invalid escape")),
                    };
                    out.push(c);
                    self.pos += 1;
                }
                Some(c) if c < 0x20 => return Err(self.error("unescaped control character in string")),
                Some(_) => {
                    // Copy the run up to the next quote, backslash or control character.
                    let run = self.pos;
                    while matches!(self.peek(), Some(c) if c != b'"' && c != b'\\' && c >= 0x20) {
                        self.pos += 1;
                    }
                    out.push_str(&self.text[run..self.pos]);
                }
                None => return Err(self.error("unterminated string")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self
            .bytes
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.error("short \\u escape"))?;
        let mut v = 0u32;
        for d in digits {
            let x = (*d as char)
                .to_digit(16)
                .ok_or_else(|| self.error("invalid hex digit in \\u escape"))?;
            v = v * 16 + x;
        }
        self.pos += 4;
        Ok(v)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Node<'a>, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        let int_len = self.digits();
        if int_len == 0 {
            return Err(self.error("invalid number"));
        }
        if int_len > 1 && self.bytes[int_start] == b'0' {
            return Err(self.error("leading zero in number"));
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
            integer = false;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
            integer = false;
        }
        let literal = &self.text[start..self.pos];
        if integer && int_len <= 15 {
            // At most 15 digits: within ±(2^53 − 1) and parsed exactly.
            let v: i64 = literal.parse().map_err(|_| self.error("invalid number"))?;
            return Ok(Node::Number(Number::Int(v)));
        }
        let f: f64 = literal.parse().map_err(|_| self.error("invalid number"))?;
        if !f.is_finite() {
            return Err(self.error("number out of range"));
        }
        if integer {
            if f.abs() <= MAX_SAFE_INTEGER as f64 {
                #[allow(clippy::cast_possible_truncation)] // exact: |f| ≤ 2^53 − 1 and integral
                return Ok(Node::Number(Number::Int(f as i64)));
            }
            // Exactly a double, or exactly the digits ECMAScript (and so JCS) writes for the double
            // it reads as — JCS's own output for integral doubles below 1e21 is shortest round-trip
            // digits padded with zeros (`-8970681694652454000`), and a canonical form must re-parse.
            let ecmascript = ryu_js::Buffer::new().format_finite(f) == literal;
            if !ecmascript && double_integer_digits(f) != literal {
                return Err(JsonError::UnsafeInteger(literal.to_owned()));
            }
        }
        Ok(Node::Number(Number::Float(f)))
    }
}

/// The index of the first byte that ends a plain run inside a JSON string: `"`, `\\` or a control
/// character below 0x20. Eight bytes at a time (SWAR): a byte b is special when b ^ '"', b ^ '\\' or
/// b itself (as "less than 0x20") has its high bits clear.
pub fn find_string_special(bytes: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let has_zero = |w: u64| w.wrapping_sub(LO) & !w & HI;
    let mut i = 0;
    while i + 8 <= bytes.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[i..i + 8]);
        let w = u64::from_le_bytes(word);
        // bytes < 0x20: (b & 0xe0) == 0, i.e. has_zero of w & 0xe0e0…
        let hit = has_zero(w ^ (LO * u64::from(b'"')))
            | has_zero(w ^ (LO * u64::from(b'\\')))
            | has_zero(w & (LO * 0xe0));
        if hit != 0 {
            break;
        }
        i += 8;
    }
    bytes[i..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|p| i + p)
}

fn check_unique(members: &Members<'_>) -> Result<(), JsonError> {
    if members.len() <= 16 {
        for (i, (k, _)) in members.iter().enumerate() {
            if members[..i].iter().any(|(other, _)| other == k) {
                return Err(JsonError::DuplicateKey(k.clone().into_owned()));
            }
        }
        return Ok(());
    }
    let mut keys: Vec<&str> = members.iter().map(|(k, _)| k.as_ref()).collect();
    keys.sort_unstable();
    match keys.windows(2).find(|w| w[0] == w[1]) {
        Some(w) => Err(JsonError::DuplicateKey(w[0].to_owned())),
        None => Ok(()),
    }
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
        // The same name spelled with an escape is the same name.
        assert_eq!(
            parse_strict(br#"{"a":1,"\u0061":2}"#),
            Err(JsonError::DuplicateKey("a".into()))
        );
        let many: String = (0..40).map(|i| format!("\"k{i}\":{i},")).collect::<String>() + "\"k7\":0";
        assert_eq!(
            parse_strict(format!("{{{many}}}").as_bytes()),
            Err(JsonError::DuplicateKey("k7".into()))
        );
        assert!(parse_strict(br#"{"a":{"a":1}}"#).is_ok());
    }

    #[test]
    fn integers_are_accepted_exactly_when_a_double_holds_them() {
        assert!(parse_strict(b"9007199254740991").is_ok());
        assert!(parse_strict(b"-9007199254740991").is_ok());
        // Exactly doubles: accepted, and canonicalized as ECMAScript writes that double.
        for (ok, canonical) in [
            ("9007199254740992", "9007199254740992"),
            ("-9007199254740992", "-9007199254740992"),
            ("100000000000000000000", "100000000000000000000"),
            ("-7195733838069632000", "-7195733838069632000"),
            ("-8970681694652454000", "-8970681694652454000"),
            ("1000000000000000000000", "1e+21"),
            ("1000000000000000019884624838656", "1e+30"),
            ("-10000000000000000000000", "-1e+22"),
            ("-9223372036854775808", "-9223372036854776000"),
            (
                "179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368",
                "1.7976931348623157e+308",
            ),
        ] {
            let v = parse_strict(ok.as_bytes()).unwrap();
            assert_eq!(
                String::from_utf8(crate::crypto::jcs::canonicalize(&v).unwrap()).unwrap(),
                canonical,
                "{ok}"
            );
        }
        // No double holds them: refused, naming the value JCS would write instead.
        for (bad, rounded) in [
            ("9007199254740993", "9007199254740992"),
            ("-9007199254740993", "-9007199254740992"),
            ("18446744073709551615", "18446744073709552000"),
            ("123456789012345678901234567890", "1.2345678901234568e+29"),
            ("[1, {\"k\": -123456789012345678901234567890}]", ""),
            ("1000000000000000000001", "1e+21"),
        ] {
            let e = parse_strict(bad.as_bytes()).unwrap_err();
            assert!(matches!(e, JsonError::UnsafeInteger(_)), "{bad} accepted");
            assert!(e.to_string().contains(rounded), "{bad}: {e}");
            assert!(e.to_string().contains("not exactly an IEEE double"), "{e}");
        }
        // From a serde_json Value: 2^60 is a double, 2^60 + 1 is not.
        assert!(Node::from_value(&serde_json::json!(1u64 << 60)).is_ok());
        assert!(Node::from_value(&serde_json::json!((1u64 << 60) + 1)).is_err());
        assert!(Node::from_value(&serde_json::json!(i64::MIN)).is_ok());
    }

    #[test]
    fn large_doubles_written_as_doubles_are_fine() {
        assert!(parse_strict(br#"{"a":1E30,"b":1e21,"c":"123456789012345678901234567890"}"#).is_ok());
    }

    #[test]
    fn rejects_what_json_forbids() {
        for bad in [
            "{",
            "[1,]",
            "NaN",
            "1e400",
            r#""\ud800""#,
            r#""\udc00x""#,
            "{} {}",
            "\"a\" x",
            "01",
            "1.",
            ".5",
            "+1",
            "-",
            "1e",
            "tru",
            "\"\t\"",
            "[1 2]",
            "{\"a\" 1}",
            "{\"a\":1,}",
            "\"\\x\"",
            "\u{feff}1",
        ] {
            assert!(
                matches!(parse_strict(bad.as_bytes()), Err(JsonError::Syntax(_))),
                "{bad:?} accepted"
            );
        }
        assert!(matches!(parse_strict(b"\"\xff\""), Err(JsonError::Syntax(_))));
        let deep = "[".repeat(129) + &"]".repeat(129);
        assert!(parse_strict(deep.as_bytes()).is_err());
        let ok_deep = "[".repeat(128) + &"]".repeat(128);
        assert!(parse_strict(ok_deep.as_bytes()).is_ok());
    }

    proptest::proptest! {
        /// The word-at-a-time scan finds exactly what a byte-at-a-time scan finds.
        #[test]
        fn special_byte_scan_matches_the_naive_one(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let naive = bytes.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
            proptest::prop_assert_eq!(find_string_special(&bytes), naive);
        }
    }

    #[test]
    fn strings_decode_escapes_and_pairs() {
        let v = parse_strict(br#"["a\"b\\c\/d\b\f\n\r\t", "\u00e9\ud83d\ude00", "\u2028"]"#).unwrap();
        assert_eq!(v[0], "a\"b\\c/d\u{8}\u{c}\n\r\t");
        assert_eq!(v[1], "é😀");
        assert_eq!(v[2], "\u{2028}");
    }
}
