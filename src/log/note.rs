//! C2SP signed notes (<https://c2sp.org/signed-note>, v1.0.0): text signed by one or more keys.
//!
//! ```text
//! <text, ending in "\n">
//! <blank line>
//! — <key name> base64(key ID[4] ‖ signature)
//! — …
//! ```
//!
//! What this module enforces, and where the spec says so:
//!
//! * §"Format": valid UTF-8, no ASCII control character other than `\n`; the text ends in `\n` and
//!   is separated from the signatures by the *last* blank line; every signature line is em dash
//!   (U+2014), space, key name, space, standard padded base64 (RFC 4648 §4) of 4 + n bytes, `\n`.
//!   Key names are non-empty, without Unicode spaces or `+`. At most [`MAX_SIGNATURES`] lines are
//!   read (the spec asks verifiers to accept at least 16; `golang.org/x/mod/sumdb/note` stops at 100).
//! * §"Signatures": the key ID is `SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]`; a signature whose
//!   (name, key ID) matches no configured key is ignored; one that matches is verified and a failure
//!   rejects the whole note; a note with no verified signature is rejected.
//! * §"Signature types": `0x01` Ed25519 over the note text ([`SignatureType::Ed25519`]) and `0x04`
//!   timestamped Ed25519 cosignatures of c2sp.org/tlog-cosignature ([`SignatureType::CosignatureV1`],
//!   message built by [`super::checkpoint::cosignature_v1_message`]). No other type is accepted.
//! * Verifier keys (vkeys, as in `golang.org/x/mod/sumdb/note`): `<name>+<hex key ID>+<base64(type ‖
//!   public key)>`; the key ID is recomputed and must match.
//!
//! Stricter than the spec, and why:
//!
//! * Base64 must be canonical (padding present, unused bits zero); Go's `StdEncoding` also accepts
//!   non-zero unused bits. Every conforming signer emits canonical base64.
//! * Two signature lines with the same (name, key ID) are refused ([`NoteError::DuplicateSignature`]);
//!   Go silently drops repeats. A note is a set of signatures, a repeat is a sign of a broken merger and
//!   must never let one witness be counted twice.
//! * Key names may not contain any Unicode control character (DEL and C1 included), not only the
//!   C0 controls the note as a whole excludes.
//! * Public keys must be canonical, non-weak Ed25519 points and signatures verify under
//!   `verify_strict` ([`crate::crypto::ed25519`]).
//!
//! Pure: no I/O, no clock.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::crypto::Sha256Digest;
use crate::crypto::ed25519::{BadSignature, KeyError, PublicKey, SecretKey};

/// The first characters of every signature line: em dash (U+2014) and a space (§"Format").
pub const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// The most signature lines [`Note::parse`] reads (§"Format": "SHOULD apply a maximum limit … MUST
/// accept at least up to 16"). Same cap as `golang.org/x/mod/sumdb/note`.
pub const MAX_SIGNATURES: usize = 100;

/// A signature type identifier byte (signed-note §"Signature types"). Only the two Ed25519 types are
/// supported; the spec asks implementations to "select only the one(s) required for their design".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum SignatureType {
    /// `0x01`: Ed25519 (RFC 8032) over the note text (signed-note §"Ed25519 signatures").
    Ed25519 = 0x01,
    /// `0x04`: timestamped Ed25519 witness cosignature (c2sp.org/tlog-cosignature §"Format").
    CosignatureV1 = 0x04,
}

impl SignatureType {
    /// The identifier byte.
    pub fn byte(self) -> u8 {
        self as u8
    }

    /// The type for an identifier byte, if supported.
    pub fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0x01 => Some(Self::Ed25519),
            0x04 => Some(Self::CosignatureV1),
            _ => None,
        }
    }
}

/// Why a note, a signature line, a key or a verification was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The bytes are not UTF-8 (§"Format": "MUST be valid UTF-8").
    #[error("signed note is not valid UTF-8")]
    NotUtf8,
    /// An ASCII control character other than `\n` (§"Format": "MUST NOT contain any ASCII control
    /// characters … other than newline"). Carriage returns are control characters.
    #[error("signed note contains the control character U+{0:04X}")]
    ControlCharacter(u32),
    /// The text does not end in `\n` (§"Format": "a text ending in newline").
    #[error("note text does not end in a newline")]
    TextNotNewlineTerminated,
    /// No blank line separates the text from the signatures (§"Format").
    #[error("signed note has no blank line before its signatures")]
    MissingBlankLine,
    /// Nothing follows the blank line, or the last signature line lacks its `\n` (§"Format": "one or
    /// more signature lines").
    #[error("signed note has no signature lines, or the last one does not end in a newline")]
    NoSignatureLines,
    /// A signature line that is not `— <name> <base64>` (§"Format").
    #[error("signature line {line}: {reason}")]
    MalformedSignatureLine {
        /// 1-based position among the signature lines.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// More signature lines than [`MAX_SIGNATURES`].
    #[error("signed note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    /// Two signatures by the same (name, key ID).
    #[error("two signatures by key {name}+{key_id}")]
    DuplicateSignature {
        /// Key name.
        name: String,
        /// Key ID.
        key_id: KeyId,
    },
    /// A key name that is empty, contains a Unicode space, `+`, or a control character (§"Format":
    /// "Key names MUST be non-empty and MUST NOT contain any Unicode spaces or plus").
    #[error("invalid key name {0:?}")]
    InvalidKeyName(String),
    /// A verifier key (vkey) or signer key that is not `<name>+<8 hex digits>+<base64>`.
    #[error("malformed key: {0}")]
    MalformedKey(&'static str),
    /// The key ID written in a vkey or signer key is not the one computed from the name and key
    /// (§"Signatures": `key ID = SHA-256(key name ‖ 0x0A ‖ signature type ‖ public key)[:4]`).
    #[error("key ID {written} does not match the computed {computed}")]
    KeyIdMismatch {
        /// The ID written in the key.
        written: KeyId,
        /// The ID computed from name, type and key.
        computed: KeyId,
    },
    /// A signature type other than `0x01` and `0x04` (§"Signature types").
    #[error("unsupported signature type 0x{0:02x}")]
    UnsupportedSignatureType(u8),
    /// The public key is not a usable Ed25519 key.
    #[error("bad Ed25519 public key: {0}")]
    BadPublicKey(KeyError),
    /// More than one configured verifier has this (name, key ID): the configuration is broken.
    #[error("more than one verifier key is configured for {name}+{key_id}")]
    AmbiguousKey {
        /// Key name.
        name: String,
        /// Key ID.
        key_id: KeyId,
    },
    /// A signature by a configured key does not verify (§"Signatures": "If the key name and ID match a
    /// known key, verifiers MUST verify the signature"; we reject the whole note).
    #[error("signature by known key {name}+{key_id} does not verify")]
    InvalidSignature {
        /// Key name.
        name: String,
        /// Key ID.
        key_id: KeyId,
    },
    /// No signature from a configured key (§"Signatures": "If no signature from a known key verifies
    /// successfully, clients MUST reject the note").
    #[error("no signature from a known key")]
    NoVerifiedSignature,
    /// A note without signatures cannot be serialized as a signed note.
    #[error("note has no signatures")]
    Unsigned,
}

/// A 4-byte key ID (signed-note §"Signatures"), the first four bytes of
/// `SHA-256(name ‖ 0x0A ‖ type ‖ public key)`. Displays as 8 lowercase hex digits, as in vkeys.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 4]);

impl KeyId {
    /// The key ID as the big-endian `u32` that Go's `note.Signature.Hash` holds.
    pub fn to_u32(self) -> u32 {
        u32::from_be_bytes(self.0)
    }

    /// The key ID of a big-endian `u32`.
    pub fn from_u32(id: u32) -> Self {
        Self(id.to_be_bytes())
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:08x}", self.to_u32())
    }
}

impl std::fmt::Debug for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// `SHA-256(name ‖ 0x0A ‖ sig_type ‖ public_key)[:4]` (signed-note §"Signatures", §"Ed25519
/// signatures"; tlog-cosignature §"Format" for type `0x04`).
pub fn key_id(name: &str, sig_type: u8, public_key: &[u8]) -> KeyId {
    let d = Sha256Digest::of_parts(&[name.as_bytes(), b"\n", &[sig_type], public_key]);
    KeyId([d.0[0], d.0[1], d.0[2], d.0[3]])
}

/// Whether `name` may name a key (signed-note §"Format"): non-empty, no Unicode space (the Unicode
/// `White_Space` property, as Go's `unicode.IsSpace`), no `+`, and no control character (the note
/// as a whole may not contain one).
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
}

fn check_key_name(name: &str) -> Result<(), NoteError> {
    if is_valid_key_name(name) {
        Ok(())
    } else {
        Err(NoteError::InvalidKeyName(name.to_owned()))
    }
}

/// First ASCII control character other than `\n` (signed-note §"Format"), if any.
fn find_control(text: &str) -> Option<char> {
    text.chars().find(|&c| c < '\u{20}' && c != '\n')
}

/// One signature line of a note (signed-note §"Signatures"): key name, key ID, and the signature
/// bytes that follow the key ID (for `0x01` the 64-byte Ed25519 signature, for `0x04` the 8-byte
/// timestamp and the 64-byte signature).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    name: String,
    key_id: KeyId,
    bytes: Vec<u8>,
}

impl Signature {
    /// A signature by `name` / `key_id`. `bytes` must not be empty (§"Format": "4+n bytes").
    pub fn new(name: impl Into<String>, key_id: KeyId, bytes: Vec<u8>) -> Result<Self, NoteError> {
        let name = name.into();
        check_key_name(&name)?;
        if bytes.is_empty() {
            return Err(NoteError::MalformedSignatureLine {
                line: 1,
                reason: "the signature is empty",
            });
        }
        Ok(Self { name, key_id, bytes })
    }

    /// Parses one signature line, `— <name> <base64>`, without its final `\n` (signed-note §"Format").
    /// Also the form of each line of a tlog-witness `add-checkpoint` response body.
    pub fn parse_line(line: &str) -> Result<Self, NoteError> {
        Self::parse_line_at(line, 1)
    }

    fn parse_line_at(line: &str, n: usize) -> Result<Self, NoteError> {
        let bad = |reason| NoteError::MalformedSignatureLine { line: n, reason };
        if let Some(c) = find_control(line) {
            return Err(NoteError::ControlCharacter(u32::from(c)));
        }
        if line.contains('\n') {
            return Err(bad("more than one line"));
        }
        let rest = line
            .strip_prefix(SIGNATURE_PREFIX)
            .ok_or(bad("does not start with an em dash (U+2014) and a space"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or(bad("no space between key name and signature"))?;
        if !is_valid_key_name(name) {
            return Err(bad("invalid key name"));
        }
        let raw = STANDARD
            .decode(b64)
            .map_err(|_| bad("signature is not canonical padded base64"))?;
        if raw.len() < 5 {
            return Err(bad("signature is shorter than a key ID and one byte"));
        }
        Ok(Self {
            name: name.to_owned(),
            key_id: KeyId([raw[0], raw[1], raw[2], raw[3]]),
            bytes: raw[4..].to_vec(),
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The signature bytes after the key ID.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The signature line, `— <name> base64(key ID ‖ bytes)\n` (signed-note §"Signatures").
    pub fn to_line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.bytes.len());
        raw.extend_from_slice(&self.key_id.0);
        raw.extend_from_slice(&self.bytes);
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, STANDARD.encode(raw))
    }

    fn same_key(&self, other: &Self) -> bool {
        self.name == other.name && self.key_id == other.key_id
    }
}

/// A note: text and signature lines, not (yet) verified (signed-note §"Format"). [`Note::parse`] checks
/// syntax only; [`Note::verify`] / [`open`] check signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<Signature>,
}

impl Note {
    /// An unsigned note with `text`, which must end in `\n` and hold no control character other than
    /// `\n` (§"Format").
    pub fn new(text: impl Into<String>) -> Result<Self, NoteError> {
        let text = text.into();
        if let Some(c) = find_control(&text) {
            return Err(NoteError::ControlCharacter(u32::from(c)));
        }
        if !text.ends_with('\n') {
            return Err(NoteError::TextNotNewlineTerminated);
        }
        Ok(Self {
            text,
            signatures: Vec::new(),
        })
    }

    /// Parses a signed note (§"Format"), strictly: UTF-8, no control character but `\n`, text ending
    /// in `\n`, then a blank line, then 1 to [`MAX_SIGNATURES`] well-formed signature lines with
    /// distinct (name, key ID), each ending in `\n`. Signatures are not verified.
    pub fn parse(bytes: &[u8]) -> Result<Self, NoteError> {
        let msg = std::str::from_utf8(bytes).map_err(|_| NoteError::NotUtf8)?;
        if let Some(c) = find_control(msg) {
            return Err(NoteError::ControlCharacter(u32::from(c)));
        }
        // "the text is separated from the signatures by the last empty line in the note".
        let split = msg.rfind("\n\n").ok_or(NoteError::MissingBlankLine)?;
        let (text, sigs) = (&msg[..=split], &msg[split + 2..]);
        let sigs = sigs.strip_suffix('\n').ok_or(NoteError::NoSignatureLines)?;
        if sigs.split('\n').count() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        let mut note = Self {
            text: text.to_owned(),
            signatures: Vec::new(),
        };
        for (i, line) in sigs.split('\n').enumerate() {
            note.add_signature(Signature::parse_line_at(line, i + 1)?)?;
        }
        Ok(note)
    }

    /// The text, including its final `\n` but not the blank line (§"Format").
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signatures, in order.
    pub fn signatures(&self) -> &[Signature] {
        &self.signatures
    }

    /// Appends `signature`; refuses a second signature by the same (name, key ID) and more than
    /// [`MAX_SIGNATURES`].
    pub fn add_signature(&mut self, signature: Signature) -> Result<(), NoteError> {
        if self.signatures.iter().any(|s| s.same_key(&signature)) {
            return Err(NoteError::DuplicateSignature {
                name: signature.name,
                key_id: signature.key_id,
            });
        }
        if self.signatures.len() >= MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        self.signatures.push(signature);
        Ok(())
    }

    /// Removes any signature by the same (name, key ID) as `signature`, then appends it (as Go's
    /// `note.Sign` replaces a signer's earlier signature).
    pub fn set_signature(&mut self, signature: Signature) -> Result<(), NoteError> {
        self.signatures.retain(|s| !s.same_key(&signature));
        self.add_signature(signature)
    }

    /// Signs the text with `signer` (type `0x01`), replacing an earlier signature by the same key.
    pub fn sign(&mut self, signer: &Signer) -> Result<(), NoteError> {
        let sig = signer.sign(&self.text);
        self.set_signature(sig)
    }

    /// The signed note: text, blank line, signature lines (§"Format"). Refuses a note without
    /// signatures, which would not parse back.
    pub fn to_text(&self) -> Result<String, NoteError> {
        if self.signatures.is_empty() {
            return Err(NoteError::Unsigned);
        }
        let mut out = String::with_capacity(self.text.len() + 1 + 100 * self.signatures.len());
        out.push_str(&self.text);
        out.push('\n');
        for s in &self.signatures {
            out.push_str(&s.to_line());
        }
        Ok(out)
    }

    /// Verifies the note against the configured `verifiers` (signed-note §"Signatures"): signatures
    /// whose (name, key ID) match no verifier are kept as unverified and otherwise ignored; each one
    /// that matches is verified, and a failure rejects the note ([`NoteError::InvalidSignature`]); a
    /// note with no verified signature is rejected ([`NoteError::NoVerifiedSignature`]). A
    /// (name, key ID) configured twice is [`NoteError::AmbiguousKey`] if a signature uses it.
    pub fn verify(self, verifiers: &[VerifierKey]) -> Result<VerifiedNote, NoteError> {
        let mut verified = Vec::new();
        let mut unverified = Vec::new();
        for sig in &self.signatures {
            let mut matching = verifiers
                .iter()
                .filter(|v| v.name == sig.name && v.key_id == sig.key_id);
            let Some(key) = matching.next() else {
                unverified.push(sig.clone());
                continue;
            };
            if matching.next().is_some() {
                return Err(NoteError::AmbiguousKey {
                    name: sig.name.clone(),
                    key_id: sig.key_id,
                });
            }
            let timestamp = key
                .verify(&self.text, &sig.bytes)
                .map_err(|_| NoteError::InvalidSignature {
                    name: sig.name.clone(),
                    key_id: sig.key_id,
                })?;
            verified.push(VerifiedSignature {
                key: key.clone(),
                timestamp,
            });
        }
        if verified.is_empty() {
            return Err(NoteError::NoVerifiedSignature);
        }
        Ok(VerifiedNote {
            note: self,
            verified,
            unverified,
        })
    }
}

/// Parses and verifies a signed note (signed-note §"Format", §"Signatures"): [`Note::parse`] then
/// [`Note::verify`].
pub fn open(note: &[u8], verifiers: &[VerifierKey]) -> Result<VerifiedNote, NoteError> {
    Note::parse(note)?.verify(verifiers)
}

/// A signature that verified under a configured key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    key: VerifierKey,
    timestamp: Option<u64>,
}

impl VerifiedSignature {
    /// The key that verified it.
    pub fn key(&self) -> &VerifierKey {
        &self.key
    }

    /// For a `0x04` cosignature, its POSIX timestamp (tlog-cosignature §"Format"); `None` for `0x01`.
    pub fn timestamp(&self) -> Option<u64> {
        self.timestamp
    }
}

/// A note with at least one signature verified by a configured key (signed-note §"Signatures"). Only
/// now may its text be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNote {
    note: Note,
    verified: Vec<VerifiedSignature>,
    unverified: Vec<Signature>,
}

impl VerifiedNote {
    /// The text.
    pub fn text(&self) -> &str {
        &self.note.text
    }

    /// The whole note, all signatures included.
    pub fn note(&self) -> &Note {
        &self.note
    }

    /// The verified signatures, in note order.
    pub fn verified(&self) -> &[VerifiedSignature] {
        &self.verified
    }

    /// The signatures by keys that were not configured (ignored, per §"Signatures").
    pub fn unverified(&self) -> &[Signature] {
        &self.unverified
    }

    /// Whether `key` is among the keys whose signature verified.
    pub fn is_verified_by(&self, key: &VerifierKey) -> bool {
        self.verified.iter().any(|v| &v.key == key)
    }

    /// The note, dropping the verification record.
    pub fn into_note(self) -> Note {
        self.note
    }
}

/// A verifier key: name, key ID, signature type and Ed25519 public key. Text form (vkey, as in
/// `golang.org/x/mod/sumdb/note` and tlog-cosignature §"Format"): `<name>+<hex key ID>+<base64(type ‖
/// public key)>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key_id: KeyId,
    sig_type: SignatureType,
    public_key: PublicKey,
}

impl VerifierKey {
    /// The key of type `sig_type` for `name` and `public_key`; computes the key ID.
    pub fn new(
        name: impl Into<String>,
        sig_type: SignatureType,
        public_key: PublicKey,
    ) -> Result<Self, NoteError> {
        let name = name.into();
        check_key_name(&name)?;
        let key_id = key_id(&name, sig_type.byte(), &public_key.to_bytes());
        Ok(Self {
            name,
            key_id,
            sig_type,
            public_key,
        })
    }

    /// An Ed25519 note key (type `0x01`, signed-note §"Ed25519 signatures").
    pub fn ed25519(name: impl Into<String>, public_key: PublicKey) -> Result<Self, NoteError> {
        Self::new(name, SignatureType::Ed25519, public_key)
    }

    /// An Ed25519 cosigner key (type `0x04`, tlog-cosignature §"Format").
    pub fn cosignature_v1(name: impl Into<String>, public_key: PublicKey) -> Result<Self, NoteError> {
        Self::new(name, SignatureType::CosignatureV1, public_key)
    }

    /// Parses a vkey `<name>+<8 hex digits>+<base64(type ‖ key)>`. The name ends at the first `+` (names
    /// cannot contain one, base64 can), the key ID at the second. Either hex case is read (as Go does);
    /// [`Self::to_vkey`] writes lowercase. The type must be `0x01` or `0x04`, the key a canonical,
    /// non-weak Ed25519 point, and the key ID must be the one computed.
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let (name, rest) = vkey
            .split_once('+')
            .ok_or(NoteError::MalformedKey("expected <name>+<key ID>+<key>"))?;
        let (hex_id, b64) = rest
            .split_once('+')
            .ok_or(NoteError::MalformedKey("expected <name>+<key ID>+<key>"))?;
        check_key_name(name)?;
        let written = parse_hex_key_id(hex_id)?;
        let raw = STANDARD
            .decode(b64)
            .map_err(|_| NoteError::MalformedKey("key is not canonical padded base64"))?;
        let (&type_byte, key) = raw.split_first().ok_or(NoteError::MalformedKey("key is empty"))?;
        let sig_type =
            SignatureType::from_byte(type_byte).ok_or(NoteError::UnsupportedSignatureType(type_byte))?;
        let public_key = PublicKey::from_slice(key).map_err(NoteError::BadPublicKey)?;
        let vk = Self::new(name, sig_type, public_key)?;
        if vk.key_id != written {
            return Err(NoteError::KeyIdMismatch {
                written,
                computed: vk.key_id,
            });
        }
        Ok(vk)
    }

    /// The vkey text form, with a lowercase hex key ID.
    pub fn to_vkey(&self) -> String {
        let mut raw = Vec::with_capacity(33);
        raw.push(self.sig_type.byte());
        raw.extend_from_slice(&self.public_key.to_bytes());
        format!("{}+{}+{}", self.name, self.key_id, STANDARD.encode(raw))
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The signature type.
    pub fn sig_type(&self) -> SignatureType {
        self.sig_type
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// Verifies `sig` (the bytes after the key ID) over note `text`: `Ok(None)` for a valid `0x01`
    /// signature, `Ok(Some(t))` for a valid `0x04` cosignature made at POSIX time `t`. A cosignature
    /// is 8 + 64 bytes, its timestamp at most 2^63 − 1, and it signs
    /// [`super::checkpoint::cosignature_v1_message`] (tlog-cosignature §"Format", §"Ed25519 signed
    /// message").
    pub fn verify(&self, text: &str, sig: &[u8]) -> Result<Option<u64>, BadSignature> {
        match self.sig_type {
            SignatureType::Ed25519 => self.public_key.verify(text.as_bytes(), sig).map(|()| None),
            SignatureType::CosignatureV1 => {
                let (ts, ed) = sig.split_first_chunk::<8>().ok_or(BadSignature)?;
                let ts = u64::from_be_bytes(*ts);
                if ts > i64::MAX as u64 {
                    return Err(BadSignature);
                }
                let msg = super::checkpoint::cosignature_v1_message(ts, text);
                self.public_key.verify(&msg, ed).map(|()| Some(ts))
            }
        }
    }
}

impl std::fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_vkey())
    }
}

impl std::str::FromStr for VerifierKey {
    type Err = NoteError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

fn parse_hex_key_id(hex_id: &str) -> Result<KeyId, NoteError> {
    if hex_id.len() != 8 || !hex_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(NoteError::MalformedKey("key ID is not 8 hex digits"));
    }
    let mut id = [0u8; 4];
    hex::decode_to_slice(hex_id, &mut id)
        .map_err(|_| NoteError::MalformedKey("key ID is not 8 hex digits"))?;
    Ok(KeyId(id))
}

/// An Ed25519 note signer (type `0x01`, signed-note §"Ed25519 signatures"): a key name and a secret
/// key. Debug output shows only the public key.
#[derive(Debug, Clone)]
pub struct Signer {
    name: String,
    key: SecretKey,
    key_id: KeyId,
}

impl Signer {
    /// A signer named `name` (which must be a valid key name) with `key`.
    pub fn new(name: impl Into<String>, key: SecretKey) -> Result<Self, NoteError> {
        let name = name.into();
        check_key_name(&name)?;
        let key_id = key_id(&name, SignatureType::Ed25519.byte(), &key.public_key().to_bytes());
        Ok(Self { name, key, key_id })
    }

    /// Reads the signer-key text form of `golang.org/x/mod/sumdb/note`,
    /// `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 ‖ 32-byte seed)>`, checking the key ID against the
    /// derived public key. The text is a secret.
    pub fn from_skey(skey: &str) -> Result<Self, NoteError> {
        let rest = skey.strip_prefix("PRIVATE+KEY+").ok_or(NoteError::MalformedKey(
            "expected PRIVATE+KEY+<name>+<key ID>+<key>",
        ))?;
        let (name, rest) = rest.split_once('+').ok_or(NoteError::MalformedKey(
            "expected PRIVATE+KEY+<name>+<key ID>+<key>",
        ))?;
        let (hex_id, b64) = rest.split_once('+').ok_or(NoteError::MalformedKey(
            "expected PRIVATE+KEY+<name>+<key ID>+<key>",
        ))?;
        check_key_name(name)?;
        let written = parse_hex_key_id(hex_id)?;
        let mut raw = STANDARD
            .decode(b64)
            .map_err(|_| NoteError::MalformedKey("key is not canonical padded base64"))?;
        let parsed = match raw.split_first() {
            Some((&0x01, seed)) => <&[u8; 32]>::try_from(seed)
                .map(SecretKey::from_seed)
                .map_err(|_| NoteError::MalformedKey("an Ed25519 seed is 32 bytes")),
            Some((&t, _)) => Err(NoteError::UnsupportedSignatureType(t)),
            None => Err(NoteError::MalformedKey("key is empty")),
        };
        raw.fill(0);
        std::hint::black_box(&raw);
        let signer = Self::new(name, parsed?)?;
        if signer.key_id != written {
            return Err(NoteError::KeyIdMismatch {
                written,
                computed: signer.key_id,
            });
        }
        Ok(signer)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The matching verifier key (type `0x01`).
    pub fn verifier_key(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            key_id: self.key_id,
            sig_type: SignatureType::Ed25519,
            public_key: self.key.public_key(),
        }
    }

    /// The signature over `text` (Ed25519 over the note text, signed-note §"Ed25519 signatures").
    pub fn sign(&self, text: &str) -> Signature {
        Signature {
            name: self.name.clone(),
            key_id: self.key_id,
            bytes: self.key.sign(text.as_bytes()).to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---- Golden vectors from golang.org/x/mod sumdb/note/note_test.go (golang/mod@02c99138) ----

    /// note_test.go `TestNewVerifier`, `TestVerifierList`, `TestOpen`.
    const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    /// note_test.go `TestNewSigner`, `TestSign`.
    const PETER_SKEY: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    /// note_test.go `TestVerifierList`, `TestOpen`.
    const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
    /// note_test.go `TestSign`, `TestOpen`.
    const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    /// note_test.go `TestOpen` (`peterSig`); also the `want` of `TestSign`.
    const PETER_SIG: &str = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    /// note_test.go `TestOpen` (`enochSig`).
    const ENOCH_SIG: &str = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

    fn peter() -> VerifierKey {
        VerifierKey::parse(PETER_VKEY).unwrap()
    }

    fn enoch() -> VerifierKey {
        VerifierKey::parse(ENOCH_VKEY).unwrap()
    }

    fn signed(sigs: &[&str]) -> String {
        format!("{TEXT}\n{}", sigs.concat())
    }

    fn test_signer(name: &str, seed: u8) -> Signer {
        Signer::new(name, SecretKey::from_seed(&[seed; 32])).unwrap()
    }

    #[test]
    fn golden_sign_reproduces_go_output() {
        // note_test.go TestSign: the exact bytes of note.Sign with PETER_SKEY.
        let signer = Signer::from_skey(PETER_SKEY).unwrap();
        assert_eq!(signer.key_id(), KeyId::from_u32(0xc74f20a3));
        assert_eq!(signer.verifier_key().to_vkey(), PETER_VKEY);
        let mut note = Note::new(TEXT).unwrap();
        note.sign(&signer).unwrap();
        assert_eq!(note.to_text().unwrap(), signed(&[PETER_SIG]));

        // "Check that existing signature is replaced by new one."
        let mut note = Note::new(TEXT).unwrap();
        note.add_signature(
            Signature::new("PeterNeumann", KeyId::from_u32(0xc74f20a3), vec![1, 2, 3]).unwrap(),
        )
        .unwrap();
        note.sign(&signer).unwrap();
        assert_eq!(note.to_text().unwrap(), signed(&[PETER_SIG]));

        // "Sign with short text" (no final newline) is a malformed note.
        assert_eq!(Note::new("abc"), Err(NoteError::TextNotNewlineTerminated));
        // "Sign with bad name".
        assert!(matches!(
            Signature::new("a+b", KeyId([0; 4]), vec![1]),
            Err(NoteError::InvalidKeyName(_))
        ));
        assert!(matches!(
            Signer::new("bad name", SecretKey::from_seed(&[1; 32])),
            Err(NoteError::InvalidKeyName(_))
        ));
    }

    #[test]
    fn golden_vkeys_parse_and_print_back() {
        for vkey in [PETER_VKEY, ENOCH_VKEY] {
            let vk = VerifierKey::parse(vkey).unwrap();
            assert_eq!(vk.to_vkey(), vkey);
            assert_eq!(vk.sig_type(), SignatureType::Ed25519);
        }
        assert_eq!(peter().key_id(), KeyId::from_u32(0xc74f20a3));
        assert_eq!(enoch().key_id(), KeyId::from_u32(0xaf0cfe78));
        // Uppercase hex is read (as Go's strconv.ParseUint does) and printed back lowercase.
        let upper = PETER_VKEY.replace("c74f20a3", "C74F20A3");
        assert_eq!(VerifierKey::parse(&upper).unwrap().to_vkey(), PETER_VKEY);
    }

    #[test]
    fn golden_vkey_manglings_are_refused() {
        // note_test.go TestNewVerifier: every proper substring and every single-byte increment fails.
        let b = PETER_VKEY.as_bytes();
        for i in 0..=b.len() {
            for j in i + 1..=b.len() {
                if i == 0 && j == b.len() {
                    continue;
                }
                let s = String::from_utf8_lossy(&b[i..j]);
                assert!(VerifierKey::parse(&s).is_err(), "substring {s:?} accepted");
            }
        }
        for i in 0..b.len() {
            let mut m = b.to_vec();
            m[i] += 1;
            let s = String::from_utf8_lossy(&m);
            assert!(VerifierKey::parse(&s).is_err(), "mangled {s:?} accepted");
        }
        // "wrong length key, with adjusted key hash".
        assert!(
            VerifierKey::parse("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")
                .is_err()
        );
        // "unknown algorithm, with adjusted key hash".
        assert_eq!(
            VerifierKey::parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
            Err(NoteError::UnsupportedSignatureType(0x65))
        );
    }

    #[test]
    fn golden_skey_manglings_are_refused() {
        // note_test.go TestNewSigner.
        let b = PETER_SKEY.as_bytes();
        for i in 0..=b.len() {
            for j in i + 1..=b.len() {
                if i == 0 && j == b.len() {
                    continue;
                }
                let s = String::from_utf8_lossy(&b[i..j]);
                assert!(Signer::from_skey(&s).is_err(), "substring {s:?} accepted");
            }
        }
        for i in 0..b.len() {
            let mut m = b.to_vec();
            m[i] += 1;
            let s = String::from_utf8_lossy(&m);
            assert!(Signer::from_skey(&s).is_err(), "mangled {s:?} accepted");
        }
    }

    #[test]
    fn golden_open_one_verified_one_not() {
        // note_test.go TestOpen "Check one signature verified, one not."
        let n = open(signed(&[PETER_SIG, ENOCH_SIG]).as_bytes(), &[peter()]).unwrap();
        assert_eq!(n.text(), TEXT);
        assert_eq!(n.verified().len(), 1);
        assert_eq!(n.verified()[0].key(), &peter());
        assert_eq!(n.verified()[0].timestamp(), None);
        assert_eq!(n.unverified().len(), 1);
        assert_eq!(n.unverified()[0].name(), "EnochRoot");
        assert_eq!(n.unverified()[0].key_id(), KeyId::from_u32(0xaf0cfe78));
        assert!(n.is_verified_by(&peter()));
        assert!(!n.is_verified_by(&enoch()));
    }

    #[test]
    fn golden_open_both_verified_and_none_verified() {
        // note_test.go TestOpen "Check both verified." and "Check both unverified."
        let n = open(signed(&[PETER_SIG, ENOCH_SIG]).as_bytes(), &[peter(), enoch()]).unwrap();
        assert_eq!(n.verified().len(), 2);
        assert_eq!(n.verified()[1].key(), &enoch());
        assert!(n.unverified().is_empty());
        assert_eq!(
            open(signed(&[PETER_SIG, ENOCH_SIG]).as_bytes(), &[]),
            Err(NoteError::NoVerifiedSignature)
        );
    }

    #[test]
    fn golden_open_ambiguous_verifier_only_when_used() {
        // note_test.go TestOpen "Check duplicated verifier." / "Check unused duplicated verifier."
        let list = [enoch(), peter(), enoch()];
        assert!(matches!(
            open(signed(&[ENOCH_SIG]).as_bytes(), &list),
            Err(NoteError::AmbiguousKey { .. })
        ));
        assert!(open(signed(&[PETER_SIG]).as_bytes(), &list).is_ok());
    }

    #[test]
    fn golden_open_too_many_signatures() {
        // note_test.go TestOpen "Check too many signatures." (101 lines). Go refuses them as
        // malformed; we refuse them before looking at duplicates.
        let many = signed(&vec![PETER_SIG; 101]);
        assert_eq!(
            open(many.as_bytes(), &[peter()]),
            Err(NoteError::TooManySignatures)
        );
        assert_eq!(open(many.as_bytes(), &[]), Err(NoteError::TooManySignatures));
    }

    #[test]
    fn golden_open_invalid_signature_by_known_key() {
        // note_test.go TestOpen "Invalid signature." (ABCD spliced into the base64).
        let bad = format!("{}ABCD{}", &PETER_SIG[..60], &PETER_SIG[60..]);
        assert_eq!(
            open(signed(&[&bad]).as_bytes(), &[peter()]),
            Err(NoteError::InvalidSignature {
                name: "PeterNeumann".into(),
                key_id: KeyId::from_u32(0xc74f20a3)
            })
        );
        // The same bad signature from a key we do not know is ignored.
        let n = open(signed(&[ENOCH_SIG, &bad]).as_bytes(), &[enoch()]).unwrap();
        assert_eq!(n.unverified().len(), 1);
    }

    #[test]
    fn golden_open_duplicates_are_refused() {
        // note_test.go TestOpen "Duplicated verified and unverified signatures": Go drops repeats and
        // accepts. We refuse a repeated (name, key ID), verified or not (see module docs).
        for sigs in [[PETER_SIG, PETER_SIG], [ENOCH_SIG, ENOCH_SIG]] {
            assert!(matches!(
                open(signed(&sigs).as_bytes(), &[peter()]),
                Err(NoteError::DuplicateSignature { .. })
            ));
        }
        let enoch_abcd = format!("{}ABCD{}", &ENOCH_SIG[..60], &ENOCH_SIG[60..]);
        assert!(matches!(
            open(
                signed(&[PETER_SIG, ENOCH_SIG, &enoch_abcd]).as_bytes(),
                &[peter()]
            ),
            Err(NoteError::DuplicateSignature { .. })
        ));
    }

    #[test]
    fn golden_open_malformed_messages() {
        // note_test.go TestOpen "Invalid encoded message syntax." — every one is refused.
        let bad_msgs: Vec<Vec<u8>> = vec![
            TEXT.into(),
            format!("{TEXT}\n").into(),
            format!("{TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]).into(),
            format!("\x01{TEXT}\n{PETER_SIG}").into(),
            [b"\xff".as_slice(), format!("{TEXT}\n{PETER_SIG}").as_bytes()].concat(),
            format!("{TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=").into(),
            format!("{TEXT}\n{PETER_SIG}Unexpected line.\n").into(),
        ];
        let want: [fn(&NoteError) -> bool; 7] = [
            |e| *e == NoteError::MissingBlankLine,
            |e| *e == NoteError::NoSignatureLines,
            |e| *e == NoteError::NoSignatureLines,
            |e| *e == NoteError::ControlCharacter(1),
            |e| *e == NoteError::NotUtf8,
            |e| *e == NoteError::NoSignatureLines,
            |e| matches!(e, NoteError::MalformedSignatureLine { line: 2, .. }),
        ];
        for (msg, want) in bad_msgs.iter().zip(want) {
            let err = open(msg, &[peter()]).unwrap_err();
            assert!(
                want(&err),
                "{:?}: unexpected {err:?}",
                String::from_utf8_lossy(msg)
            );
        }
    }

    #[test]
    fn golden_c2sp_example_parses() {
        // C2SP signed-note.md (C2SP/C2SP@1f701bb5), the opening example: a text with an empty line
        // inside; the signatures start after the *last* blank line.
        let example = "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n\n— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";
        let n = Note::parse(example.as_bytes()).unwrap();
        assert_eq!(
            n.text(),
            "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n"
        );
        assert_eq!(n.signatures().len(), 1);
        assert_eq!(n.signatures()[0].name(), "quasimodo.example/salvatore");
        assert_eq!(n.signatures()[0].key_id(), KeyId::from_u32(0x367ba04b));
        assert_eq!(n.signatures()[0].bytes().len(), 64);
        assert_eq!(n.to_text().unwrap(), example);
    }

    #[test]
    fn golden_transparency_dev_sumdb_note_and_third_party_signatures() {
        // transparency-dev/formats log/note_test.go (@5242c178): a real sum.golang.org checkpoint and
        // three more Ed25519 signatures over it (BenchmarkParse), plus two lines that reuse the
        // `witness` signature under other names (so their (name, key ID) is unknown).
        let sumdb =
            VerifierKey::parse("sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8")
                .unwrap();
        let others: Vec<VerifierKey> = [
            "monkeys+db4d9f7e+AULaJMvTtDLHPUcUrjdDad9vDlh/PTfC2VV60JUtCfWT",
            "bananas+cf639f13+AaPjhFnPCQnid/Ql32KWhmh+uk72FVRfK+2DLmO3BI3M",
            "witness+f13a86db+AdYV1Ztajd9BvyjP2HgpwrqYL6TjOwIjGMOq8Bu42xbN",
        ]
        .iter()
        .map(|v| VerifierKey::parse(v).unwrap())
        .collect();
        let note = "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n\
— sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n\
— monkeys 202ffh9ve46Mqbhuyb4wnC2Pwdan5EsXQym/tF1ggXJqhjGosU4T5intH4iKMRgDLxrnXuIjRaU2NbvAnaepM6Y+8ww=\n\
— bananas z2OfE+2bbsBZ7NLgfuslc0v7NFW2QyexJ7fhePpoL2N/P7N/COd5S+JNHbQEAlYzz2C5sg0E+x/MggS1mDR6t3/9rQw=\n\
— witness 8TqG25yWGFLdT7WPf/WoyeG3LwqtkXP+8S3yykOVm6EMh4hPgCke6eSVPU4BdtXNMPJBXKF+UpDbGgCdcpR8SVSoqAU=\n\
— random1 8TqG25yWGFLdT7WPf/WoyeG3LwqtkXP+8S3yykOVm6EMh4hPgCke6eSVPU4BdtXNMPJBXKF+UpDbGgCdcpR8SVSoqAU=\n\
— random2 8TqG25yWGFLdT7WPf/WoyeG3LwqtkXP+8S3yykOVm6EMh4hPgCke6eSVPU4BdtXNMPJBXKF+UpDbGgCdcpR8SVSoqAU=\n";
        let mut all = vec![sumdb.clone()];
        all.extend(others);
        let n = open(note.as_bytes(), &all).unwrap();
        assert_eq!(n.verified().len(), 4);
        assert_eq!(n.unverified().len(), 2);
        let n = open(note.as_bytes(), &[sumdb]).unwrap();
        assert_eq!(n.verified().len(), 1);
        assert_eq!(n.unverified().len(), 5);
        assert_eq!(n.note().to_text().unwrap(), note);
    }

    #[test]
    fn golden_cosigner_vkey_type_04() {
        // transparency-dev/formats note/note_cosigv1_test.go (@091ce416) TestCoSigV1NewVerifier:
        // a real witness key of type 0x04.
        let vk = VerifierKey::parse("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2")
            .unwrap();
        assert_eq!(vk.sig_type(), SignatureType::CosignatureV1);
        assert_eq!(vk.key_id(), KeyId::from_u32(0xda77ade7));
        // Same file, "invalid algo", "invalid keyhash", "incorrect keyhash", "wrong number of parts".
        assert!(VerifierKey::parse("rekor.sigstore.dev+12345678+AwEB").is_err());
        assert!(VerifierKey::parse("bananas.sigstore.dev+12344556").is_err());
        assert!(VerifierKey::parse("rekor.sigstore.dev+12345678+THIS_IS_NOT_BASE64!").is_err());
        let key = "BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";
        assert!(VerifierKey::parse(&format!("remora.n621.de+NOT_A_NUM+{key}")).is_err());
        assert!(matches!(
            VerifierKey::parse(&format!("remora.n621.de+00000000+{key}")),
            Err(NoteError::KeyIdMismatch { .. })
        ));
        // Same key material, read as type 0x01: the key ID differs, so the vkey is refused.
        let as_ed = "remora.n621.de+da77ade7+AevN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";
        assert!(matches!(
            VerifierKey::parse(as_ed),
            Err(NoteError::KeyIdMismatch { .. })
        ));
    }

    #[test]
    fn key_id_matches_spec_formula() {
        let pk = [7u8; 32];
        let mut pre = b"example.com/log\n\x01".to_vec();
        pre.extend_from_slice(&pk);
        let d = Sha256Digest::of(&pre);
        assert_eq!(key_id("example.com/log", 1, &pk).0, d.0[..4]);
        assert_ne!(
            key_id("example.com/log", 1, &pk),
            key_id("example.com/log", 4, &pk)
        );
    }

    #[test]
    fn round_trip_many_signers() {
        let signers: Vec<Signer> = (0..16)
            .map(|i| test_signer(&format!("s{i}.example/log"), i))
            .collect();
        let mut note = Note::new("line one\n\nline three after an empty line\n").unwrap();
        for s in &signers {
            note.sign(s).unwrap();
        }
        let text = note.to_text().unwrap();
        let parsed = Note::parse(text.as_bytes()).unwrap();
        assert_eq!(parsed, note);
        let keys: Vec<VerifierKey> = signers.iter().map(Signer::verifier_key).collect();
        let v = open(text.as_bytes(), &keys).unwrap();
        assert_eq!(v.verified().len(), 16);
        // Each vkey survives its text form.
        for k in &keys {
            assert_eq!(&VerifierKey::parse(&k.to_vkey()).unwrap(), k);
            assert_eq!(&k.to_string().parse::<VerifierKey>().unwrap(), k);
        }
    }

    #[test]
    fn text_ending_in_blank_line_round_trips() {
        // transparency-dev/formats TestVKeyToCosignatureV1 signs "Note\n\n": the last blank line is the
        // separator, the one before it belongs to the text.
        let s = test_signer("a", 1);
        let mut note = Note::new("Note\n\n").unwrap();
        note.sign(&s).unwrap();
        let text = note.to_text().unwrap();
        assert!(text.starts_with("Note\n\n\n— a "));
        let n = open(text.as_bytes(), &[s.verifier_key()]).unwrap();
        assert_eq!(n.text(), "Note\n\n");
    }

    #[test]
    fn exactly_max_signatures_are_read() {
        let mut note = Note::new("t\n").unwrap();
        for i in 0..MAX_SIGNATURES {
            note.add_signature(Signature::new(format!("k{i}"), KeyId([0; 4]), vec![0; 64]).unwrap())
                .unwrap();
        }
        assert_eq!(
            note.add_signature(Signature::new("one-more", KeyId([0; 4]), vec![0; 64]).unwrap()),
            Err(NoteError::TooManySignatures)
        );
        let text = note.to_text().unwrap();
        assert_eq!(
            Note::parse(text.as_bytes()).unwrap().signatures().len(),
            MAX_SIGNATURES
        );
        let extra = format!(
            "{text}{}",
            Signature::new("x", KeyId([0; 4]), vec![0; 64]).unwrap().to_line()
        );
        assert_eq!(Note::parse(extra.as_bytes()), Err(NoteError::TooManySignatures));
    }

    #[test]
    fn malformed_signature_lines() {
        let s = test_signer("log.example", 6);
        let good = s.sign(TEXT).to_line();
        let b64 = good.trim_end().rsplit_once(' ').unwrap().1.to_owned();
        let cases: Vec<(String, &str)> = vec![
            (format!("- log.example {b64}\n"), "hyphen instead of em dash"),
            (
                format!("\u{2013} log.example {b64}\n"),
                "en dash instead of em dash",
            ),
            (format!("\u{2014}log.example {b64}\n"), "no space after the dash"),
            (
                format!("\u{2014}  log.example {b64}\n"),
                "two spaces after the dash",
            ),
            (
                format!("\u{2014} log.example  {b64}\n"),
                "two spaces before the signature",
            ),
            (format!("\u{2014} log.example {b64} \n"), "trailing space"),
            ("\u{2014} log.example\n".to_owned(), "no signature"),
            ("\u{2014} log.example \n".to_owned(), "empty signature"),
            (format!("\u{2014} log+example {b64}\n"), "plus in name"),
            (
                format!("\u{2014} log\u{a0}example {b64}\n"),
                "no-break space in name",
            ),
            (
                format!("\u{2014} log.example {}\n", b64.trim_end_matches('=')),
                "unpadded base64",
            ),
            (
                "\u{2014} log.example AAAAAA==\n".to_owned(),
                "four bytes: key ID only",
            ),
            (
                "\u{2014} log.example AAAAAAB=\n".to_owned(),
                "non-canonical trailing bits",
            ),
            (format!("\u{2014} log.example {b64}\r\n"), "CRLF"),
        ];
        let mut cases = cases;
        // base64url instead of base64, when the encoding has a character that differs.
        let url = b64.replace('+', "-").replace('/', "_");
        assert_ne!(url, b64, "pick another seed: this signature has neither + nor /");
        cases.push((format!("\u{2014} log.example {url}\n"), "base64url"));
        for (line, what) in cases {
            let msg = format!("{TEXT}\n{line}");
            let err = open(msg.as_bytes(), &[s.verifier_key()]).unwrap_err();
            assert!(
                matches!(
                    err,
                    NoteError::MalformedSignatureLine { .. }
                        | NoteError::ControlCharacter(_)
                        | NoteError::NoSignatureLines
                ),
                "{what}: {err:?}"
            );
        }
        // A wrong-length payload from a known key is a bad signature, not a parse error.
        let short = format!(
            "{TEXT}\n\u{2014} log.example {}\n",
            STANDARD.encode([&s.key_id().0[..], &[0u8; 63]].concat())
        );
        assert!(matches!(
            open(short.as_bytes(), &[s.verifier_key()]),
            Err(NoteError::InvalidSignature { .. })
        ));
        // An extra blank line at the end leaves no signature after the last blank line.
        let trailing = format!("{TEXT}\n{good}\n");
        assert_eq!(Note::parse(trailing.as_bytes()), Err(NoteError::NoSignatureLines));
        // A blank line between two signature lines makes the first one part of the text (the *last*
        // blank line separates, §"Format"): it parses, but the signature no longer covers that text.
        let split = format!("{TEXT}\n{good}\n{good}");
        assert_eq!(
            Note::parse(split.as_bytes()).unwrap().text(),
            format!("{TEXT}\n{good}")
        );
        assert!(matches!(
            open(split.as_bytes(), &[s.verifier_key()]),
            Err(NoteError::InvalidSignature { .. })
        ));
    }

    #[test]
    fn tampered_text_or_wrong_key_is_refused() {
        let s = test_signer("log.example", 4);
        let mut note = Note::new("hello\n").unwrap();
        note.sign(&s).unwrap();
        let text = note.to_text().unwrap();
        let tampered = text.replacen("hello", "hellO", 1);
        assert!(matches!(
            open(tampered.as_bytes(), &[s.verifier_key()]),
            Err(NoteError::InvalidSignature { .. })
        ));
        // A different key under the same name has another key ID: ignored, so nothing verifies.
        let other = test_signer("log.example", 5);
        assert_eq!(
            open(text.as_bytes(), &[other.verifier_key()]),
            Err(NoteError::NoVerifiedSignature)
        );
        // A key that claims the signer's (name, key ID) but holds another public key: must verify, fails.
        let impostor = VerifierKey {
            public_key: other.verifier_key().public_key,
            ..s.verifier_key()
        };
        assert!(matches!(
            open(text.as_bytes(), &[impostor]),
            Err(NoteError::InvalidSignature { .. })
        ));
        // A type-0x04 key with the same name and key cannot verify a type-0x01 signature: its key ID
        // differs, so the signature is simply unknown to it.
        let as_cosigner = VerifierKey::cosignature_v1("log.example", s.verifier_key().public_key).unwrap();
        assert_eq!(
            open(text.as_bytes(), &[as_cosigner]),
            Err(NoteError::NoVerifiedSignature)
        );
    }

    #[test]
    fn text_rules() {
        assert_eq!(Note::new("a\rb\n"), Err(NoteError::ControlCharacter(0x0d)));
        assert_eq!(Note::new("tab\there\n"), Err(NoteError::ControlCharacter(0x09)));
        assert_eq!(Note::new("x"), Err(NoteError::TextNotNewlineTerminated));
        assert_eq!(Note::new("x\n").unwrap().to_text(), Err(NoteError::Unsigned));
        assert!(Note::new("unicode ✓ ok\n").is_ok());
    }

    #[test]
    fn weak_and_non_canonical_keys_are_refused_in_vkeys() {
        let mut identity = [0u8; 33];
        identity[0] = 0x01;
        identity[1] = 1;
        let id = key_id("weak", 1, &identity[1..]);
        let vkey = format!("weak+{id}+{}", STANDARD.encode(identity));
        assert_eq!(
            VerifierKey::parse(&vkey),
            Err(NoteError::BadPublicKey(KeyError::Weak))
        );
    }
}
