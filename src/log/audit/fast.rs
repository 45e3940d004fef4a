//! The fast path for entry lines in the form the node writes: cut apart without a JSON parser or
//! allocation ([`FastEntry`]), base64 and hex decoded by table, and the record checked to be already
//! its RFC 8785 form in one pass ([`is_canonical_json`]), so that it is hashed as it is.
//!
//! Hand-written because a measurement justifies it (`examples/audit_speed.rs`: parsing and
//! canonicalizing each record is most of an audit's cost otherwise). Guarantees: conservative — a
//! line the fast path does not take is read by the general path in [`super::bundle`], with the same
//! result (`fast_path_agrees_with_serde_json` in the tests); it never accepts what the general path
//! would refuse.

use super::bundle::ENTRY_LINE_PREFIX;
use super::replay::{LogAuditor, Opening, RecordOpening};
use crate::crypto::jcs;
use crate::log::entry::LEAF_LEN;

impl LogAuditor {
    /// An entry line in the node's form at the start of `bytes`, read without a JSON parser and
    /// without allocating ([`FastEntry`]): the bytes it took, its line end included. `whole`: `bytes`
    /// are all of the line; else `eof`: they run to the end of the bundle (if not, the line must end
    /// in `\n` within them). `None`: the line is not in that form, its record is not shown canonical,
    /// or something in it does not decode (the general path then reads it and names what is wrong);
    /// nothing was pushed.
    pub(super) fn push_fast_entry(&mut self, bytes: &[u8], whole: bool, eof: bool) -> Option<usize> {
        let e = FastEntry::scan(bytes).filter(|e| {
            if whole {
                e.len == bytes.len()
            } else {
                eof || bytes[..e.len].ends_with(b"\n")
            }
        })?;
        let leaf = decode_leaf_base64(e.leaf)?;
        let salt;
        let opening = match (e.salt, e.record) {
            (None, None) => Opening::Given(RecordOpening::Erased),
            (Some(hex_salt), Some(json)) => {
                salt = decode_hex32(hex_salt)?;
                Opening::Canonical { salt: &salt, json }
            }
            _ => return None,
        };
        self.push_entry_with(Some(e.i), &leaf, opening);
        Some(e.len)
    }
}

/// An entry line in the form `consentry` writes, cut apart without a JSON parser. The node builds the
/// line with `serde_json`'s `json!` and, as the crate is built (`serde_json`'s `preserve_order`),
/// keeps the members in the order written: `{"i":N,"leaf":"<base64>","salt":"<64 hex>"|null,
/// "record":<JSON>|null}`; with sorted members (the form spec/access-log.md §7.3 shows) `record`
/// comes before `salt`. Both are taken here, when the record is an object already in its RFC 8785
/// form ([`is_canonical_json`], which also finds where it ends) and the line ends right after it;
/// anything else goes through `serde_json`.
pub(super) struct FastEntry<'a> {
    pub(super) i: u64,
    pub(super) leaf: &'a [u8],
    /// `None`: `null`.
    pub(super) record: Option<&'a [u8]>,
    /// `None`: `null`.
    pub(super) salt: Option<&'a [u8]>,
    /// Bytes taken, with the line end (`\n` or `\r\n`) if there is one.
    pub(super) len: usize,
}

impl<'a> FastEntry<'a> {
    pub(super) fn scan(bytes: &'a [u8]) -> Option<Self> {
        let mut c = CanonicalScan {
            b: bytes,
            pos: ENTRY_LINE_PREFIX.len(),
        };
        if !bytes.starts_with(ENTRY_LINE_PREFIX) {
            return None;
        }
        let i = c.index()?;
        c.expect(br#","leaf":""#)?;
        // A leaf's base64 has a fixed length; a quote or an escape inside fails to decode and sends
        // the line to the general path.
        let leaf = c.take(LEAF_BASE64_LEN)?;
        c.expect(b"\"")?;
        let (salt, record);
        if c.expect(br#","salt":"#).is_some() {
            // Export order: the salt, then the record.
            salt = c.salt()?;
            c.expect(br#","record":"#)?;
            record = c.record()?;
        } else {
            // Sorted order: the record, then the salt.
            c.expect(br#","record":"#)?;
            record = c.record()?;
            c.expect(br#","salt":"#)?;
            salt = c.salt()?;
        }
        c.expect(b"}")?;
        match &bytes[c.pos..] {
            [] => {}
            [b'\n', ..] => c.pos += 1,
            [b'\r', b'\n', ..] => c.pos += 2,
            _ => return None,
        }
        Some(Self {
            i,
            leaf,
            record,
            salt,
            len: c.pos,
        })
    }
}

/// Characters of the standard base64 alphabet → their 6 bits; anything else → 0xFF.
const BASE64_VALUES: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut i = 0;
    while i < 64 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// Hex digits (either case, as the `hex` crate reads them) → their value; anything else → 0xFF.
const HEX_VALUES: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

// A leaf is 45 whole base64 groups and one byte: `XY==`.
const _: () = assert!(LEAF_LEN % 3 == 1);
pub(super) const LEAF_BASE64_LEN: usize = (LEAF_LEN / 3 + 1) * 4;

/// The leaf from its canonical padded base64 (standard alphabet, unused bits zero), as
/// `STANDARD.decode_slice` reads it; `None` for anything else, including leaves of another length
/// (the general path then decodes it and reports what is wrong).
pub(super) fn decode_leaf_base64(text: &[u8]) -> Option<[u8; LEAF_LEN]> {
    if text.len() != LEAF_BASE64_LEN || !text.ends_with(b"==") {
        return None;
    }
    let mut out = [0u8; LEAF_LEN];
    let mut bad = 0u8;
    for (quad, triple) in text.chunks_exact(4).zip(out.chunks_exact_mut(3)) {
        let value = |k: usize| BASE64_VALUES[usize::from(quad[k])];
        let (a, b, c, d) = (value(0), value(1), value(2), value(3));
        bad |= a | b | c | d;
        let v = u32::from(a) << 18 | u32::from(b) << 12 | u32::from(c) << 6 | u32::from(d);
        triple.copy_from_slice(&v.to_be_bytes()[1..]);
    }
    let a = BASE64_VALUES[usize::from(text[LEAF_BASE64_LEN - 4])];
    let b = BASE64_VALUES[usize::from(text[LEAF_BASE64_LEN - 3])];
    // 0xFF marks a character outside the alphabet; the last character's low 4 bits are unused and
    // must be zero.
    if (bad | a | b) & 0x80 != 0 || b & 0x0F != 0 {
        return None;
    }
    out[LEAF_LEN - 1] = (a << 2) | (b >> 4);
    Some(out)
}

/// 32 bytes from 64 hex digits (either case), as `hex::decode_to_slice` reads them.
pub(super) fn decode_hex32(text: &[u8]) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    let mut bad = 0u8;
    for (pair, byte) in text.chunks_exact(2).zip(out.iter_mut()) {
        let (h, l) = (HEX_VALUES[usize::from(pair[0])], HEX_VALUES[usize::from(pair[1])]);
        bad |= h | l;
        *byte = (h << 4) | (l & 0x0F);
    }
    (bad & 0x80 == 0).then_some(out)
}

/// Whether `json` is, byte for byte, the RFC 8785 form of a value the strict I-JSON reader
/// ([`crate::crypto::json::parse`]) accepts — so that `JCS(parse(json)) == json` and the text can be
/// hashed as it is. One pass, no allocation. Conservative: `false` means "not shown canonical", and
/// the caller parses and canonicalizes. Shown canonical: no white space; members sorted by UTF-16
/// code units and distinct (strictly increasing), their names without escapes; strings valid UTF-8
/// with exactly the RFC 8785 escapes (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other controls as
/// lowercase `\u00xx`); numbers only integers of at most 15 digits without a leading zero or `-0`
/// (within ±(2^53 − 1), written as ECMAScript writes them); nesting no deeper than the reader's
/// limit.
pub(super) fn is_canonical_json(json: &[u8]) -> bool {
    let mut c = CanonicalScan { b: json, pos: 0 };
    c.value(0) && c.pos == json.len()
}

struct CanonicalScan<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> CanonicalScan<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn expect(&mut self, text: &[u8]) -> Option<()> {
        if self.b[self.pos..].starts_with(text) {
            self.pos += text.len();
            Some(())
        } else {
            None
        }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let out = self.b.get(self.pos..self.pos + n)?;
        self.pos += n;
        Some(out)
    }

    /// A line's `i`: digits without a leading zero, within `u64`.
    fn index(&mut self) -> Option<u64> {
        let digits = self.b[self.pos..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 || (digits > 1 && self.b[self.pos] == b'0') {
            return None;
        }
        let mut i = 0u64;
        for &d in self.take(digits)? {
            i = i.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        }
        Some(i)
    }

    /// `null`, or a quoted salt of 64 characters (decoded later).
    fn salt(&mut self) -> Option<Option<&'a [u8]>> {
        if self.expect(b"null").is_some() {
            return Some(None);
        }
        self.expect(b"\"")?;
        let salt = self.take(64)?;
        self.expect(b"\"")?;
        Some(Some(salt))
    }

    /// `null`, or an object in its canonical form, inside the line's object (whose nesting counts
    /// against the limit, as when the line is read as a whole).
    fn record(&mut self) -> Option<Option<&'a [u8]>> {
        if self.expect(b"null").is_some() {
            return Some(None);
        }
        let start = self.pos;
        (self.peek() == Some(b'{') && self.value(1)).then(|| Some(&self.b[start..self.pos]))
    }

    /// A value at `pos`, inside `depth` arrays and objects. Scalars are read here, in line; only
    /// arrays and objects recurse.
    #[inline(always)]
    fn value(&mut self, depth: usize) -> bool {
        match self.peek() {
            Some(b'"') => self.string().is_some(),
            Some(b'{' | b'[') => self.nested(depth),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.integer(),
            _ => false,
        }
    }

    #[inline(never)]
    fn nested(&mut self, depth: usize) -> bool {
        if depth >= crate::crypto::json::MAX_DEPTH {
            return false;
        }
        if self.peek() == Some(b'{') {
            self.object(depth + 1)
        } else {
            self.array(depth + 1)
        }
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        let ok = self.b[self.pos..].starts_with(word);
        self.pos += word.len();
        ok
    }

    fn integer(&mut self) -> bool {
        let start = self.pos;
        let digits_at = start + usize::from(self.b[start] == b'-');
        let digits = self.b[digits_at..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        // `-0` is written `0`; a leading zero is not JSON.
        if digits == 0 || digits > 15 || (self.b[digits_at] == b'0' && (digits > 1 || digits_at > start)) {
            return false;
        }
        self.pos = digits_at + digits;
        !matches!(self.peek(), Some(b'.' | b'e' | b'E'))
    }

    /// A string at `pos`: its raw content, and whether it is plain ASCII (no escape, no byte ≥ 0x80).
    #[inline(always)]
    fn string(&mut self) -> Option<(&'a [u8], bool)> {
        let start = self.pos + 1;
        let end = next_special(self.b, start)?;
        if self.b[end] == b'"' {
            self.pos = end + 1;
            return Some((&self.b[start..end], true));
        }
        self.string_rest(start, end)
    }

    /// The rest of a string whose run of plain ASCII ends at `i` with something other than its
    /// closing quote.
    #[cold]
    #[inline(never)]
    fn string_rest(&mut self, start: usize, mut i: usize) -> Option<(&'a [u8], bool)> {
        let mut ascii = true;
        loop {
            match self.b[i] {
                b'"' => break,
                0x80.. => {
                    ascii = false;
                    i += 1;
                }
                b'\\' => match *self.b.get(i + 1)? {
                    b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                    b'u' => {
                        // Only controls without a short form, as `\u00xx` in lowercase.
                        let [z0, z1, hi, lo] = *self.b.get(i + 2..i + 6)? else {
                            return None;
                        };
                        let hi = match (z0, z1, hi) {
                            (b'0', b'0', b'0') => 0,
                            (b'0', b'0', b'1') => 16,
                            _ => return None,
                        };
                        let lo = match lo {
                            b'0'..=b'9' => lo - b'0',
                            b'a'..=b'f' => lo - b'a' + 10,
                            _ => return None,
                        };
                        if matches!(hi + lo, 0x08 | 0x09 | 0x0A | 0x0C | 0x0D) {
                            return None;
                        }
                        i += 6;
                    }
                    _ => return None,
                },
                // A raw control character.
                _ => return None,
            }
            i = next_special(self.b, i)?;
        }
        let content = &self.b[start..i];
        if !ascii && std::str::from_utf8(content).is_err() {
            return None;
        }
        self.pos = i + 1;
        // Not plain: a member name with an escape is not compared here (the caller gives up).
        Some((content, false))
    }

    fn array(&mut self, depth: usize) -> bool {
        self.pos += 1;
        if self.peek() == Some(b']') {
            self.pos += 1;
            return true;
        }
        loop {
            if !self.value(depth) {
                return false;
            }
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return true;
                }
                _ => return false,
            }
        }
    }

    fn object(&mut self, depth: usize) -> bool {
        self.pos += 1;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return true;
        }
        let mut previous: &[u8] = &[];
        let mut first = true;
        loop {
            if self.peek() != Some(b'"') {
                return false;
            }
            let name = match self.string() {
                Some((name, true)) => name,
                // Escapes or non-ASCII characters in a name.
                Some((name, false)) => match self.name_with_specials(name) {
                    Some(name) => name,
                    None => return false,
                },
                None => return false,
            };
            // Sorted by UTF-16 code units and distinct (`jcs::utf16_cmp`, which compares bytes when
            // either name is ASCII).
            if !first && !name_less(previous, name) {
                return false;
            }
            first = false;
            previous = name;
            if self.peek() != Some(b':') {
                return false;
            }
            self.pos += 1;
            if !self.value(depth) {
                return false;
            }
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return true;
                }
                _ => return false,
            }
        }
    }

    /// A member name that is not plain ASCII: accepted (as itself) only without escapes, so that its
    /// bytes are the name.
    #[cold]
    fn name_with_specials(&self, name: &'a [u8]) -> Option<&'a [u8]> {
        (!name.contains(&b'\\')).then_some(name)
    }
}

/// `a` sorts strictly before `b` as RFC 8785 orders member names (`jcs::utf16_cmp`): by bytes when
/// either is ASCII, else by UTF-16 code units. Both are valid UTF-8 without escapes.
fn name_less(a: &[u8], b: &[u8]) -> bool {
    if a.is_ascii() || b.is_ascii() {
        return bytes_less(a, b);
    }
    match (std::str::from_utf8(a), std::str::from_utf8(b)) {
        (Ok(a), Ok(b)) => jcs::utf16_cmp(a, b) == std::cmp::Ordering::Less,
        _ => false,
    }
}

/// `a < b` in byte order (member names are short: a loop beats a call to `memcmp`).
fn bytes_less(a: &[u8], b: &[u8]) -> bool {
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x < y;
        }
    }
    a.len() < b.len()
}

/// The index, from `i` on, of the first byte that ends a plain ASCII run inside a JSON string: `"`,
/// `\\`, a control character below 0x20, or a byte ≥ 0x80. SWAR, 16 bytes a step (most member names
/// and short values end in the first): a byte is flagged (its high bit) when `b ^ '"'` or `b ^ '\\'`
/// is zero, or when `b − 0x20` or `b` itself has its high bit set. Borrows only disturb the bytes
/// above a flagged one, so the lowest flag of a word is exact, and the lowest of the two words' flags
/// is the first special byte.
pub(super) fn next_special(b: &[u8], mut i: usize) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let flags = |word: &[u8]| -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let w = u64::from_le_bytes(w);
        let zero = |x: u64| x.wrapping_sub(LO) & !x;
        (zero(w ^ (LO * u64::from(b'"'))) | zero(w ^ (LO * u64::from(b'\\'))) | w.wrapping_sub(LO * 0x20) | w)
            & HI
    };
    while let Some(block) = b.get(i..i + 16) {
        let bits = u128::from(flags(&block[..8])) | u128::from(flags(&block[8..])) << 64;
        if bits != 0 {
            return Some(i + (bits.trailing_zeros() / 8) as usize);
        }
        i += 16;
    }
    b.get(i..)?
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || !(0x20..0x80).contains(&c))
        .map(|p| i + p)
}
