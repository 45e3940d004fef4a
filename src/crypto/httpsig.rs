//! HTTP Message Signatures (RFC 9421) with Ed25519 (§3.3.6, `alg="ed25519"`), and the
//! `Content-Digest` field (RFC 9530, `sha-256`).
//!
//! * [`signature_base`] builds the signature base of RFC 9421 §2.5 for the derived components
//!   `@method`, `@target-uri`, `@authority`, `@path`, `@query` (§2.2) and header fields (§2.1), with
//!   the `@signature-params` line last (§2.3).
//! * [`sign`] signs a [`Request`] and writes `Signature-Input` and `Signature` (§4.1, §4.2) as RFC 8941
//!   dictionaries: an inner list of component identifiers with the parameters `created`, `expires`,
//!   `nonce`, `keyid`, `alg` and `tag` (§2.3), and a byte sequence.
//! * [`verify`] is strict: one selected signature, every required component covered, `created`
//!   present and within the window, `expires` not passed, `alg` (when present, or when the
//!   [`Policy`] demands it) `ed25519`, no unknown parameter, components without parameters, and the
//!   `Content-Digest` recomputed over the body when the policy demands it.
//!
//! Component parameters (`;sf`, `;key`, `;bs`, `;req`, `;name`) and the other derived components are
//! not supported: a signature covering them is refused, never half-checked. Nothing here does I/O or
//! reads the clock (the verifier is given `now`).
//!
//! # Why the RFC 8941 codec is written here
//!
//! The structured-field parser and serializer below are hand-written rather than taken from the
//! `sfv` crate, for a strictness rule: a field this module accepts has one spelling of each value.
//! It refuses what RFC 8941 tells parsers to tolerate, and `sfv` (0.15, RFC 9651) tolerates it too:
//!
//! * a byte sequence (the `Signature` value, a `Content-Digest`) must be canonical base64 — padded,
//!   with zero trailing bits. `sfv` decodes without padding and with trailing bits (RFC 8941 §4.2.7's
//!   "SHOULD NOT fail"), and hands only the decoded bytes to its visitors, so the spelling cannot be
//!   checked after it;
//! * a dictionary key or a parameter given twice is refused, not "last one wins" (§4.2.2, §4.2.3.2):
//!   two `sig1` labels or two `created` values are ambiguous, and two verifiers could pick different
//!   ones;
//! * no decimals, dates or display strings: no parameter of RFC 9421 §2.3 takes one.
//!
//! The codec covers only what RFC 9421 and RFC 9530 use (dictionaries, inner lists, parameters,
//! integers, strings, tokens, byte sequences, booleans); `structured_fields_round_trip` pins each
//! refusal, and the RFC 9421 vectors (`tests/integration/notifications.rs`) pass through it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256, Sha512};

use super::ed25519::{PublicKey, SIGNATURE_LEN, SecretKey};

/// The algorithm identifier of EdDSA over Curve25519 (RFC 9421 §3.3.6).
pub const ALG_ED25519: &str = "ed25519";

/// Why signing or verification failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpSigError {
    /// A structured field (RFC 8941) does not parse, or a value cannot be serialized as one.
    #[error("structured field: {0}")]
    Syntax(String),
    /// The target URI is not an absolute `http(s)` URI this module can take apart.
    #[error("target URI: {0}")]
    TargetUri(String),
    /// A covered component is unsupported, absent from the message or has an unusable value.
    #[error("component {name}: {problem}")]
    Component {
        /// The component identifier.
        name: String,
        /// What is wrong with it.
        problem: String,
    },
    /// No signature, none with the expected label or tag, or several where one was expected.
    #[error("signature selection: {0}")]
    Selection(String),
    /// A signature parameter is missing, of the wrong type, unknown or not acceptable.
    #[error("signature parameters: {0}")]
    Params(String),
    /// A component the policy requires is not covered.
    #[error("required component {0} is not covered by the signature")]
    NotCovered(String),
    /// `created` lies in the future, is too old, or `expires` has passed.
    #[error("signature time: {0}")]
    Time(String),
    /// The key id does not resolve to a key.
    #[error("unknown key {0:?}")]
    UnknownKey(String),
    /// `Content-Digest` is missing, malformed or does not match the body (RFC 9530).
    #[error("Content-Digest: {0}")]
    Digest(String),
    /// The Ed25519 signature does not verify (RFC 8032 §5.1.7, strict).
    #[error("the signature does not verify")]
    BadSignature,
}

type Result<T, E = HttpSigError> = std::result::Result<T, E>;

fn syntax(m: impl Into<String>) -> HttpSigError {
    HttpSigError::Syntax(m.into())
}

// ---------------------------------------------------------------------------------------------
// RFC 8941 structured fields
// ---------------------------------------------------------------------------------------------

/// An RFC 8941 bare item (§3.3). Decimals are not supported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BareItem {
    /// An integer of at most 15 digits (§3.3.1).
    Integer(i64),
    /// A string of printable ASCII (§3.3.3).
    String(String),
    /// A token (§3.3.4).
    Token(String),
    /// A byte sequence (§3.3.5).
    Bytes(Vec<u8>),
    /// A boolean (§3.3.6).
    Boolean(bool),
}

/// Parameters (§3.1.2), in order.
pub type Params = Vec<(String, BareItem)>;

/// An item with its parameters (§3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The value.
    pub bare: BareItem,
    /// Its parameters.
    pub params: Params,
}

/// A dictionary member: an item or an inner list with parameters (§3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member {
    /// An item.
    Item(Item),
    /// An inner list (§3.1.1) and its parameters.
    InnerList(Vec<Item>, Params),
}

/// A dictionary (§3.2), in order; [`parse_dictionary`] refuses duplicate keys.
pub type Dictionary = Vec<(String, Member)>;

const MAX_INTEGER: i64 = 999_999_999_999_999;

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

fn check_key(key: &str) -> Result<()> {
    let b = key.as_bytes();
    let first_ok = b.first().is_some_and(|c| c.is_ascii_lowercase() || *c == b'*');
    if !first_ok
        || !b[1..]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"_-.*".contains(c))
    {
        return Err(syntax(format!("{key:?} is not a key")));
    }
    Ok(())
}

fn serialize_bare(b: &BareItem, out: &mut String) -> Result<()> {
    match b {
        BareItem::Integer(i) => {
            if !(-MAX_INTEGER..=MAX_INTEGER).contains(i) {
                return Err(syntax(format!("integer {i} out of range")));
            }
            out.push_str(&i.to_string());
        }
        BareItem::String(s) => {
            out.push('"');
            for c in s.chars() {
                if !(' '..='~').contains(&c) {
                    return Err(syntax("strings hold printable ASCII only"));
                }
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
        }
        BareItem::Token(t) => {
            let b = t.as_bytes();
            let ok = b.first().is_some_and(|c| c.is_ascii_alphabetic() || *c == b'*')
                && b.iter().all(|c| is_tchar(*c) || *c == b':' || *c == b'/');
            if !ok {
                return Err(syntax(format!("{t:?} is not a token")));
            }
            out.push_str(t);
        }
        BareItem::Bytes(v) => {
            out.push(':');
            out.push_str(&STANDARD.encode(v));
            out.push(':');
        }
        BareItem::Boolean(v) => out.push_str(if *v { "?1" } else { "?0" }),
    }
    Ok(())
}

fn serialize_params(params: &Params, out: &mut String) -> Result<()> {
    for (k, v) in params {
        check_key(k)?;
        out.push(';');
        out.push_str(k);
        if *v != BareItem::Boolean(true) {
            out.push('=');
            serialize_bare(v, out)?;
        }
    }
    Ok(())
}

fn serialize_item(i: &Item, out: &mut String) -> Result<()> {
    serialize_bare(&i.bare, out)?;
    serialize_params(&i.params, out)
}

/// Serializes an inner list with its parameters (RFC 8941 §4.1.1.1).
pub fn serialize_inner_list(items: &[Item], params: &Params) -> Result<String> {
    let mut out = String::from("(");
    for (n, i) in items.iter().enumerate() {
        if n > 0 {
            out.push(' ');
        }
        serialize_item(i, &mut out)?;
    }
    out.push(')');
    serialize_params(params, &mut out)?;
    Ok(out)
}

/// Serializes a dictionary (RFC 8941 §4.1.2).
pub fn serialize_dictionary(d: &Dictionary) -> Result<String> {
    let mut out = String::new();
    for (n, (k, m)) in d.iter().enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        check_key(k)?;
        out.push_str(k);
        match m {
            Member::Item(i) if i.bare == BareItem::Boolean(true) => serialize_params(&i.params, &mut out)?,
            Member::Item(i) => {
                out.push('=');
                serialize_item(i, &mut out)?;
            }
            Member::InnerList(items, params) => {
                out.push('=');
                out.push_str(&serialize_inner_list(items, params)?);
            }
        }
    }
    Ok(out)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn skip_sp(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn key(&mut self) -> Result<String> {
        let start = self.i;
        match self.peek() {
            Some(c) if c.is_ascii_lowercase() || c == b'*' => self.i += 1,
            _ => return Err(syntax(format!("a key was expected at offset {start}"))),
        }
        while let Some(c) = self.peek() {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || b"_-.*".contains(&c) {
                self.i += 1;
            } else {
                break;
            }
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn bare(&mut self) -> Result<BareItem> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => self.integer(),
            Some(b'"') => self.string(),
            Some(b':') => self.bytes(),
            Some(b'?') => {
                self.i += 1;
                let v = match self.peek() {
                    Some(b'1') => true,
                    Some(b'0') => false,
                    _ => return Err(syntax("a boolean is ?0 or ?1")),
                };
                self.i += 1;
                Ok(BareItem::Boolean(v))
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'*' => {
                let start = self.i;
                while let Some(c) = self.peek() {
                    if is_tchar(c) || c == b':' || c == b'/' {
                        self.i += 1;
                    } else {
                        break;
                    }
                }
                Ok(BareItem::Token(
                    String::from_utf8_lossy(&self.s[start..self.i]).into_owned(),
                ))
            }
            _ => Err(syntax(format!("an item was expected at offset {}", self.i))),
        }
    }

    fn integer(&mut self) -> Result<BareItem> {
        let negative = self.eat(b'-');
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let digits = &self.s[start..self.i];
        if digits.is_empty() {
            return Err(syntax("a number needs digits"));
        }
        if self.peek() == Some(b'.') {
            return Err(syntax("decimals are not supported here"));
        }
        if digits.len() > 15 {
            return Err(syntax("an integer has at most 15 digits"));
        }
        let v: i64 = std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse().ok())
            .ok_or_else(|| syntax("integer"))?;
        Ok(BareItem::Integer(if negative { -v } else { v }))
    }

    fn string(&mut self) -> Result<BareItem> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let c = self.peek().ok_or_else(|| syntax("unterminated string"))?;
            self.i += 1;
            match c {
                b'"' => return Ok(BareItem::String(out)),
                b'\\' => match self.peek() {
                    Some(e @ (b'"' | b'\\')) => {
                        self.i += 1;
                        out.push(char::from(e));
                    }
                    _ => return Err(syntax("a string escapes only \" and \\")),
                },
                0x20..=0x7e => out.push(char::from(c)),
                _ => return Err(syntax("strings hold printable ASCII only")),
            }
        }
    }

    fn bytes(&mut self) -> Result<BareItem> {
        self.i += 1;
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || b"+/=".contains(&c))
        {
            self.i += 1;
        }
        let text = &self.s[start..self.i];
        if !self.eat(b':') {
            return Err(syntax("unterminated byte sequence"));
        }
        STANDARD
            .decode(text)
            .map(BareItem::Bytes)
            .map_err(|e| syntax(format!("byte sequence: {e}")))
    }

    fn params(&mut self) -> Result<Params> {
        let mut out: Params = Vec::new();
        while self.eat(b';') {
            self.skip_sp();
            let k = self.key()?;
            let v = if self.eat(b'=') {
                self.bare()?
            } else {
                BareItem::Boolean(true)
            };
            if out.iter().any(|(x, _)| *x == k) {
                return Err(syntax(format!("parameter {k} appears twice")));
            }
            out.push((k, v));
        }
        Ok(out)
    }

    fn item(&mut self) -> Result<Item> {
        let bare = self.bare()?;
        let params = self.params()?;
        Ok(Item { bare, params })
    }

    fn member(&mut self) -> Result<Member> {
        if !self.eat(b'(') {
            return Ok(Member::Item(self.item()?));
        }
        let mut items = Vec::new();
        loop {
            self.skip_sp();
            if self.eat(b')') {
                let params = self.params()?;
                return Ok(Member::InnerList(items, params));
            }
            items.push(self.item()?);
            if !matches!(self.peek(), Some(b' ' | b')')) {
                return Err(syntax("inner list items are separated by spaces"));
            }
        }
    }
}

/// Parses a dictionary field value (RFC 8941 §4.2.2). Stricter than the RFC in one way: a key that
/// appears twice is an error instead of the last one winning.
pub fn parse_dictionary(value: &str) -> Result<Dictionary> {
    let mut p = Parser {
        s: value.trim_matches(' ').as_bytes(),
        i: 0,
    };
    let mut out: Dictionary = Vec::new();
    if p.s.is_empty() {
        return Ok(out);
    }
    loop {
        let key = p.key()?;
        let member = if p.eat(b'=') {
            p.member()?
        } else {
            Member::Item(Item {
                bare: BareItem::Boolean(true),
                params: p.params()?,
            })
        };
        if out.iter().any(|(k, _)| *k == key) {
            return Err(syntax(format!("dictionary key {key} appears twice")));
        }
        out.push((key, member));
        p.skip_ows();
        if p.peek().is_none() {
            return Ok(out);
        }
        if !p.eat(b',') {
            return Err(syntax(format!("a comma was expected at offset {}", p.i)));
        }
        p.skip_ows();
        if p.peek().is_none() {
            return Err(syntax("trailing comma"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Messages and components
// ---------------------------------------------------------------------------------------------

/// An HTTP request as signed and verified: method, absolute target URI, header field lines (names in
/// any case, in order; repeated names allowed) and the body (content bytes, for `Content-Digest`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// The method, as sent (`POST`).
    pub method: String,
    /// The absolute target URI (`https://host/path?query`, RFC 9110 §7.1).
    pub target_uri: String,
    /// Header field lines.
    pub headers: Vec<(String, String)>,
    /// The content.
    pub body: Vec<u8>,
}

impl Request {
    /// The combined value of a header field (RFC 9421 §2.1): each line's value trimmed of
    /// surrounding whitespace, lines joined with `", "`; `None` if the field is absent.
    pub fn header(&self, name: &str) -> Option<String> {
        let mut lines = self
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim_matches(|c| c == ' ' || c == '\t'))
            .peekable();
        lines.peek()?;
        Some(lines.collect::<Vec<_>>().join(", "))
    }

    /// Replaces every line of field `name` with one line holding `value`.
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.into()));
    }
}

/// The parts of an absolute `http(s)` URI that the derived components need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetParts {
    /// `http` or `https`, lowercase.
    pub scheme: String,
    /// Host (lowercase; IPv6 literals keep their brackets) and port unless it is the scheme's default
    /// (RFC 9421 §2.2.3).
    pub authority: String,
    /// The host alone, lowercase, without brackets.
    pub host: String,
    /// The absolute path; `/` when empty (§2.2.6).
    pub path: String,
    /// The query without `?`, if there is one (§2.2.7).
    pub query: Option<String>,
}

/// Takes an absolute `http(s)` URI apart. Refuses user information, fragments, spaces and
/// non-ASCII, which have no place in a target URI (RFC 9110 §4.2.4, §7.1).
pub fn target_parts(uri: &str) -> Result<TargetParts> {
    let bad = |m: &str| HttpSigError::TargetUri(format!("{uri:?}: {m}"));
    if !uri.bytes().all(|c| c.is_ascii_graphic()) {
        return Err(bad("only visible ASCII is allowed"));
    }
    if uri.contains('#') {
        return Err(bad("a target URI has no fragment"));
    }
    let (scheme, rest) = uri.split_once("://").ok_or_else(|| bad("not absolute"))?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => return Err(bad("the scheme must be http or https")),
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_query) = rest.split_at(end);
    if authority.contains('@') {
        return Err(bad("user information is not allowed"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(|| bad("unclosed IPv6 literal"))?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(|| bad("bad authority"))?),
        };
        (format!("[{}]", h.to_ascii_lowercase()), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_ascii_lowercase(), Some(p)),
            None => (authority.to_ascii_lowercase(), None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err(bad("no host"));
    }
    let authority = match port {
        None | Some("") => host.clone(),
        Some(p)
            if !p.bytes().all(|c| c.is_ascii_digit()) || p.starts_with('0') || p.parse::<u16>().is_err() =>
        {
            return Err(bad(
                "the port is not a number from 1 to 65535 without leading zeros",
            ));
        }
        Some(p) if p == default_port => host.clone(),
        Some(p) => format!("{host}:{p}"),
    };
    let (path, query) = match path_query.split_once('?') {
        Some((p, q)) => (p, Some(q.to_owned())),
        None => (path_query, None),
    };
    Ok(TargetParts {
        scheme,
        authority,
        host: host.trim_start_matches('[').trim_end_matches(']').to_owned(),
        path: if path.is_empty() {
            "/".into()
        } else {
            path.to_owned()
        },
        query,
    })
}

/// The value of one covered component (RFC 9421 §2.1, §2.2).
pub fn component_value(req: &Request, name: &str) -> Result<String> {
    let err = |problem: &str| HttpSigError::Component {
        name: name.to_owned(),
        problem: problem.to_owned(),
    };
    let value = match name {
        "@method" => req.method.clone(),
        "@target-uri" => {
            target_parts(&req.target_uri)?;
            req.target_uri.clone()
        }
        "@authority" => target_parts(&req.target_uri)?.authority,
        "@path" => target_parts(&req.target_uri)?.path,
        "@query" => format!("?{}", target_parts(&req.target_uri)?.query.unwrap_or_default()),
        n if n.starts_with('@') => return Err(err("derived component not supported")),
        n => {
            if n.is_empty() || !n.bytes().all(|c| is_tchar(c) && !c.is_ascii_uppercase()) {
                return Err(err("a field name is a lowercase token"));
            }
            req.header(n)
                .ok_or_else(|| err("the field is not in the message"))?
        }
    };
    if !value.bytes().all(|c| c == b'\t' || (0x20..0x7f).contains(&c)) {
        return Err(err("the value must be ASCII without control characters"));
    }
    Ok(value)
}

// ---------------------------------------------------------------------------------------------
// Signature parameters, base, signing
// ---------------------------------------------------------------------------------------------

/// The signature parameters this module writes (RFC 9421 §2.3), in the order they are serialized:
/// `created`, `expires`, `nonce`, `keyid`, `alg`, `tag`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignatureParams {
    /// Creation time, seconds since the epoch.
    pub created: Option<i64>,
    /// Expiry, seconds since the epoch.
    pub expires: Option<i64>,
    /// A random value.
    pub nonce: Option<String>,
    /// The key identifier.
    pub keyid: Option<String>,
    /// The algorithm (`ed25519`).
    pub alg: Option<String>,
    /// The application tag.
    pub tag: Option<String>,
}

impl SignatureParams {
    /// As RFC 8941 parameters, in serialization order.
    pub fn to_params(&self) -> Params {
        let mut p = Vec::new();
        if let Some(v) = self.created {
            p.push(("created".to_owned(), BareItem::Integer(v)));
        }
        if let Some(v) = self.expires {
            p.push(("expires".to_owned(), BareItem::Integer(v)));
        }
        let strings = [
            ("nonce", &self.nonce),
            ("keyid", &self.keyid),
            ("alg", &self.alg),
            ("tag", &self.tag),
        ];
        for (k, v) in strings {
            if let Some(v) = v {
                p.push((k.to_owned(), BareItem::String(v.clone())));
            }
        }
        p
    }
}

fn component_items(components: &[&str]) -> Vec<Item> {
    components
        .iter()
        .map(|c| Item {
            bare: BareItem::String((*c).to_owned()),
            params: vec![],
        })
        .collect()
}

/// The signature base (RFC 9421 §2.5) for `components` (identifiers such as `"@method"` or
/// `"content-type"`) and `params` (serialized in the given order): one line `"<id>": <value>` per
/// component, then `"@signature-params": <inner list>`, joined by `\n`, no trailing newline. A
/// component listed twice, or absent from the message, is an error.
pub fn signature_base(req: &Request, components: &[&str], params: &Params) -> Result<String> {
    let mut base = String::new();
    for (n, c) in components.iter().enumerate() {
        if components[..n].contains(c) {
            return Err(HttpSigError::Component {
                name: (*c).to_owned(),
                problem: "covered twice".into(),
            });
        }
        let v = component_value(req, c)?;
        base.push('"');
        base.push_str(c);
        base.push_str("\": ");
        base.push_str(&v);
        base.push('\n');
    }
    base.push_str("\"@signature-params\": ");
    base.push_str(&serialize_inner_list(&component_items(components), params)?);
    Ok(base)
}

/// Signs `req` with Ed25519 (RFC 9421 §3.1, §3.3.6) over `components` with `params`, and sets its
/// `Signature-Input` and `Signature` fields to a one-member dictionary labelled `label` (replacing
/// earlier signatures). Returns the signature base that was signed.
pub fn sign(
    req: &mut Request,
    label: &str,
    components: &[&str],
    params: &SignatureParams,
    key: &SecretKey,
) -> Result<String> {
    let p = params.to_params();
    let base = signature_base(req, components, &p)?;
    let signature = key.sign(base.as_bytes());
    let input: Dictionary = vec![(
        label.to_owned(),
        Member::InnerList(component_items(components), p),
    )];
    let sig: Dictionary = vec![(
        label.to_owned(),
        Member::Item(Item {
            bare: BareItem::Bytes(signature.to_vec()),
            params: vec![],
        }),
    )];
    req.set_header("Signature-Input", serialize_dictionary(&input)?);
    req.set_header("Signature", serialize_dictionary(&sig)?);
    Ok(base)
}

// ---------------------------------------------------------------------------------------------
// Content-Digest (RFC 9530)
// ---------------------------------------------------------------------------------------------

/// The `Content-Digest` field value for `body` (RFC 9530 §2): `sha-256=:<base64>:`.
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", STANDARD.encode(Sha256::digest(body)))
}

/// Checks a `Content-Digest` field value against `body` (RFC 9530 §2, §5): a `sha-256` member must be
/// present; it and a `sha-512` member, if any, must be byte sequences equal to the digest of `body`.
/// Members of other algorithms are ignored (§5: unsupported algorithms).
pub fn check_content_digest(value: &str, body: &[u8]) -> Result<()> {
    let d = parse_dictionary(value).map_err(|e| HttpSigError::Digest(e.to_string()))?;
    let mut has_sha256 = false;
    for (alg, m) in &d {
        let expected: Vec<u8> = match alg.as_str() {
            "sha-256" => {
                has_sha256 = true;
                Sha256::digest(body).to_vec()
            }
            "sha-512" => Sha512::digest(body).to_vec(),
            _ => continue,
        };
        match m {
            Member::Item(Item {
                bare: BareItem::Bytes(v),
                ..
            }) if *v == expected => {}
            Member::Item(Item {
                bare: BareItem::Bytes(_),
                ..
            }) => return Err(HttpSigError::Digest(format!("{alg} does not match the body"))),
            _ => return Err(HttpSigError::Digest(format!("{alg} is not a byte sequence"))),
        }
    }
    if !has_sha256 {
        return Err(HttpSigError::Digest("no sha-256 member".into()));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

/// What [`verify`] demands beyond a valid signature.
#[derive(Debug, Clone)]
pub struct Policy<'a> {
    /// Verify the signature with this label; `None`: select by `tag`, or the only signature.
    pub label: Option<&'a str>,
    /// The `tag` parameter the signature must carry (also used to select it), if any.
    pub tag: Option<&'a str>,
    /// Components the signature must cover.
    pub required: &'a [&'a str],
    /// Now, seconds since the epoch.
    pub now: i64,
    /// Oldest acceptable `created`: `now - max_age_secs - skew_secs`.
    pub max_age_secs: i64,
    /// Clock skew tolerated on `created` and `expires`.
    pub skew_secs: i64,
    /// Whether `alg="ed25519"` must be present (when present it must be `ed25519` anyway).
    pub require_alg: bool,
    /// Whether `content-digest` must be covered and match the body.
    pub require_content_digest: bool,
}

/// A verified signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Its label.
    pub label: String,
    /// `keyid`.
    pub keyid: String,
    /// `created`.
    pub created: i64,
    /// `expires`.
    pub expires: Option<i64>,
    /// `nonce`.
    pub nonce: Option<String>,
    /// `tag`.
    pub tag: Option<String>,
    /// The covered components, in order.
    pub covered: Vec<String>,
    /// The signature base that verified.
    pub base: String,
}

fn params_err(m: impl Into<String>) -> HttpSigError {
    HttpSigError::Params(m.into())
}

/// Verifies one signature of `req` (RFC 9421 §3.2) under `policy`, with the key `resolve` returns for
/// its `keyid`. Everything listed in the module documentation is checked; the first failure is
/// returned.
pub fn verify(
    req: &Request,
    policy: &Policy<'_>,
    resolve: &dyn Fn(&str) -> Option<PublicKey>,
) -> Result<Verified> {
    let inputs = parse_dictionary(
        &req.header("signature-input")
            .ok_or_else(|| HttpSigError::Selection("no Signature-Input field".into()))?,
    )?;
    let sigs = parse_dictionary(
        &req.header("signature")
            .ok_or_else(|| HttpSigError::Selection("no Signature field".into()))?,
    )?;
    let tag_of = |m: &Member| match m {
        Member::InnerList(_, p) => p.iter().find(|(k, _)| k == "tag").map(|(_, v)| v.clone()),
        Member::Item(_) => None,
    };
    let candidates: Vec<&(String, Member)> = inputs
        .iter()
        .filter(|(label, m)| {
            policy.label.is_none_or(|l| l == label)
                && policy
                    .tag
                    .is_none_or(|t| tag_of(m) == Some(BareItem::String(t.to_owned())))
        })
        .collect();
    let (label, member) = match candidates.as_slice() {
        [one] => *one,
        [] => {
            return Err(HttpSigError::Selection(
                "no signature matches the label or tag".into(),
            ));
        }
        _ => {
            return Err(HttpSigError::Selection(
                "several signatures match; name one".into(),
            ));
        }
    };
    let (items, params) = match member {
        Member::InnerList(items, params) => (items, params),
        Member::Item(_) => return Err(syntax("a Signature-Input member is an inner list")),
    };
    let signature = match sigs.iter().find(|(l, _)| l == label).map(|(_, m)| m) {
        Some(Member::Item(Item {
            bare: BareItem::Bytes(b),
            ..
        })) => b,
        Some(_) => return Err(syntax("a Signature member is a byte sequence")),
        None => return Err(HttpSigError::Selection(format!("no Signature member {label}"))),
    };

    // Components: plain lowercase strings, no parameters, no repeats.
    let mut covered = Vec::with_capacity(items.len());
    for i in items {
        match (&i.bare, i.params.is_empty()) {
            (BareItem::String(s), true) if !s.bytes().any(|c| c.is_ascii_uppercase()) => {
                covered.push(s.clone());
            }
            (BareItem::String(s), false) => {
                return Err(HttpSigError::Component {
                    name: s.clone(),
                    problem: "component parameters are not supported".into(),
                });
            }
            _ => return Err(syntax("component identifiers are lowercase strings")),
        }
    }
    let mut required: Vec<&str> = policy.required.to_vec();
    if policy.require_content_digest {
        required.push("content-digest");
    }
    for r in required {
        if !covered.iter().any(|c| c == r) {
            return Err(HttpSigError::NotCovered(r.to_owned()));
        }
    }

    // Parameters.
    let (mut created, mut expires, mut nonce, mut keyid, mut alg, mut tag) =
        (None, None, None, None, None, None);
    for (k, v) in params {
        match (k.as_str(), v) {
            ("created", BareItem::Integer(t)) => created = Some(*t),
            ("expires", BareItem::Integer(t)) => expires = Some(*t),
            ("nonce", BareItem::String(s)) => nonce = Some(s.clone()),
            ("keyid", BareItem::String(s)) => keyid = Some(s.clone()),
            ("alg", BareItem::String(s)) => alg = Some(s.clone()),
            ("tag", BareItem::String(s)) => tag = Some(s.clone()),
            ("created" | "expires", _) => return Err(params_err(format!("{k} must be an integer"))),
            ("nonce" | "keyid" | "alg" | "tag", _) => {
                return Err(params_err(format!("{k} must be a string")));
            }
            _ => return Err(params_err(format!("unknown parameter {k}"))),
        }
    }
    match alg.as_deref() {
        Some(ALG_ED25519) => {}
        Some(other) => return Err(params_err(format!("alg {other:?} is not {ALG_ED25519}"))),
        None if policy.require_alg => return Err(params_err("alg is missing")),
        None => {}
    }
    if let Some(t) = policy.tag {
        if tag.as_deref() != Some(t) {
            return Err(params_err(format!("tag must be {t:?}")));
        }
    }
    let created = created.ok_or_else(|| params_err("created is missing"))?;
    if created > policy.now + policy.skew_secs {
        return Err(HttpSigError::Time(format!("created {created} is in the future")));
    }
    if created < policy.now - policy.max_age_secs - policy.skew_secs {
        return Err(HttpSigError::Time(format!(
            "created {created} is older than {} s",
            policy.max_age_secs
        )));
    }
    if let Some(e) = expires {
        if e <= created {
            return Err(HttpSigError::Time("expires is not after created".into()));
        }
        if e < policy.now - policy.skew_secs {
            return Err(HttpSigError::Time(format!("expired at {e}")));
        }
    }
    let keyid = keyid.ok_or_else(|| params_err("keyid is missing"))?;
    let key = resolve(&keyid).ok_or_else(|| HttpSigError::UnknownKey(keyid.clone()))?;

    // The base, the signature, the digest.
    let names: Vec<&str> = covered.iter().map(String::as_str).collect();
    let base = signature_base(req, &names, params)?;
    if signature.len() != SIGNATURE_LEN {
        return Err(HttpSigError::BadSignature);
    }
    key.verify(base.as_bytes(), signature)
        .map_err(|_| HttpSigError::BadSignature)?;
    if policy.require_content_digest {
        let v = req
            .header("content-digest")
            .ok_or_else(|| HttpSigError::Digest("the field is missing".into()))?;
        check_content_digest(&v, &req.body)?;
    }
    Ok(Verified {
        label: label.clone(),
        keyid,
        created,
        expires,
        nonce,
        tag,
        covered,
        base,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::from_seed(&[7; 32])
    }

    fn request() -> Request {
        Request {
            method: "POST".into(),
            target_uri: "https://Example.COM:443/hook?a=1".into(),
            headers: vec![
                ("Content-Type".into(), " application/json ".into()),
                ("X-Multi".into(), "a".into()),
                ("x-multi".into(), "b ".into()),
            ],
            body: br#"{"x":1}"#.to_vec(),
        }
    }

    fn policy<'a>(required: &'a [&'a str], now: i64) -> Policy<'a> {
        Policy {
            label: None,
            tag: Some("t"),
            required,
            now,
            max_age_secs: 300,
            skew_secs: 5,
            require_alg: true,
            require_content_digest: true,
        }
    }

    fn signed(now: i64) -> Request {
        let mut r = request();
        r.set_header("Content-Digest", content_digest(&r.body));
        let params = SignatureParams {
            created: Some(now),
            expires: Some(now + 60),
            nonce: Some("n1".into()),
            keyid: Some("k".into()),
            alg: Some(ALG_ED25519.into()),
            tag: Some("t".into()),
        };
        sign(
            &mut r,
            "s",
            &[
                "@method",
                "@target-uri",
                "@authority",
                "@path",
                "@query",
                "content-type",
                "content-digest",
                "x-multi",
            ],
            &params,
            &key(),
        )
        .unwrap();
        r
    }

    fn resolver(k: &str) -> Option<PublicKey> {
        (k == "k").then(|| key().public_key())
    }

    #[test]
    fn derived_components_and_combined_fields() {
        let r = request();
        assert_eq!(component_value(&r, "@authority").unwrap(), "example.com");
        assert_eq!(component_value(&r, "@path").unwrap(), "/hook");
        assert_eq!(component_value(&r, "@query").unwrap(), "?a=1");
        assert_eq!(component_value(&r, "x-multi").unwrap(), "a, b");
        assert_eq!(component_value(&r, "content-type").unwrap(), "application/json");
        let mut r2 = r.clone();
        r2.target_uri = "http://[::1]:8080".into();
        assert_eq!(component_value(&r2, "@authority").unwrap(), "[::1]:8080");
        assert_eq!(component_value(&r2, "@path").unwrap(), "/");
        assert_eq!(component_value(&r2, "@query").unwrap(), "?");
        assert!(component_value(&r, "@scheme").is_err());
        assert!(component_value(&r, "Content-Type").is_err());
        assert!(component_value(&r, "absent").is_err());
        r2.target_uri = "https://user@host/".into();
        assert!(component_value(&r2, "@authority").is_err());
    }

    #[test]
    fn structured_fields_round_trip() {
        let text = r#"a=("x" "y");created=1;keyid="k\"q", b=:AAEC:, c, d=?0;p, e=tok/en:1;q=-5"#;
        let d = parse_dictionary(text).unwrap();
        assert_eq!(serialize_dictionary(&d).unwrap(), text);
        for bad in [
            "a=1,",
            "a=(\"x\"\"y\")",
            "A=1",
            "a=1, a=2",
            "a=1.5",
            "a=\"\u{e9}\"",
            "a=:AA",
            "a=;",
            "a=1;p;p",
            "a=1234567890123456",
            // One spelling per value: base64 without its padding, or with non-zero trailing bits.
            "a=:YQ:",
            "a=:YR==:",
            "a=1;p=2;p=3",
        ] {
            assert!(parse_dictionary(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sign_then_verify_and_every_tamper_fails() {
        let now = 1_700_000_000;
        let r = signed(now);
        let req = ["@method", "@target-uri", "content-digest"];
        let v = verify(&r, &policy(&req, now + 10), &resolver).unwrap();
        assert_eq!(v.keyid, "k");
        assert_eq!(v.nonce.as_deref(), Some("n1"));
        assert!(v.base.ends_with(
            "\"@signature-params\": (\"@method\" \"@target-uri\" \"@authority\" \"@path\" \"@query\" \"content-type\" \"content-digest\" \"x-multi\");created=1700000000;expires=1700000060;nonce=\"n1\";keyid=\"k\";alg=\"ed25519\";tag=\"t\""
        ));

        let mut body = r.clone();
        body.body = br#"{"x":2}"#.to_vec();
        assert!(matches!(
            verify(&body, &policy(&req, now), &resolver),
            Err(HttpSigError::Digest(_))
        ));
        let mut header = r.clone();
        header.set_header("Content-Type", "text/plain");
        assert_eq!(
            verify(&header, &policy(&req, now), &resolver),
            Err(HttpSigError::BadSignature)
        );
        let mut uri = r.clone();
        uri.target_uri = "https://example.com/other?a=1".into();
        assert_eq!(
            verify(&uri, &policy(&req, now), &resolver),
            Err(HttpSigError::BadSignature)
        );
        let other = |_: &str| Some(SecretKey::from_seed(&[8; 32]).public_key());
        assert_eq!(
            verify(&r, &policy(&req, now), &other),
            Err(HttpSigError::BadSignature)
        );
        assert!(matches!(
            verify(&r, &policy(&req, now + 400), &resolver),
            Err(HttpSigError::Time(_))
        ));
        assert!(matches!(
            verify(&r, &policy(&req, now - 60), &resolver),
            Err(HttpSigError::Time(_))
        ));
        assert!(matches!(
            verify(&r, &policy(&["content-length"], now), &resolver),
            Err(HttpSigError::NotCovered(_))
        ));
        let mut p = policy(&req, now);
        p.tag = Some("other");
        assert!(matches!(
            verify(&r, &p, &resolver),
            Err(HttpSigError::Selection(_))
        ));
        let unknown = |_: &str| None;
        assert!(matches!(
            verify(&r, &policy(&req, now), &unknown),
            Err(HttpSigError::UnknownKey(_))
        ));
    }

    #[test]
    fn parameters_are_checked() {
        let now = 1_700_000_000;
        let r = signed(now);
        let input = r.header("signature-input").unwrap();
        let req = ["@method"];
        for (from, to) in [
            ("alg=\"ed25519\"", "alg=\"rsa-pss-sha512\""),
            (";alg=\"ed25519\"", ""),
            (";created=1700000000", ""),
            (";keyid=\"k\"", ""),
            ("tag=\"t\"", "tag=\"t\";extra=1"),
            ("created=1700000000", "created=\"1700000000\""),
            ("\"x-multi\"", "\"x-multi\";sf"),
            ("\"x-multi\"", "\"X-Multi\""),
        ] {
            let mut t = r.clone();
            assert!(input.contains(from), "{from}");
            t.set_header("Signature-Input", input.replace(from, to));
            assert!(
                verify(&t, &policy(&req, now), &resolver).is_err(),
                "{from} -> {to}"
            );
        }
    }

    #[test]
    fn content_digest_rules() {
        let body = b"hello";
        let good = content_digest(body);
        check_content_digest(&good, body).unwrap();
        check_content_digest(&format!("unixsum=:AA==:, {good}"), body).unwrap();
        assert!(check_content_digest(&good, b"hellO").is_err());
        assert!(check_content_digest("sha-512=:AA==:", body).is_err());
        assert!(check_content_digest("sha-256=\"x\"", body).is_err());
        assert!(check_content_digest("", body).is_err());
    }
}
