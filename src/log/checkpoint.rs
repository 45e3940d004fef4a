//! C2SP checkpoints (<https://c2sp.org/tlog-checkpoint>) and their Ed25519 witness cosignatures
//! (<https://c2sp.org/tlog-cosignature>, type `0x04`).
//!
//! A checkpoint is a [signed note](super::note) whose text is
//!
//! ```text
//! <origin>\n
//! <tree size, ASCII decimal, no leading zeroes>\n
//! <base64 of the 32-byte RFC 6962 root hash>\n
//! [<extension line>\n]*
//! ```
//!
//! (tlog-checkpoint §"Note text"). The log signs it with an Ed25519 note key (`0x01`); witnesses add
//! cosignatures, each an Ed25519 signature over `cosignature/v1\ntime <T>\n` ‖ the checkpoint text, sent
//! as key ID ‖ u64 big-endian T ‖ signature (tlog-cosignature §"Format", §"Ed25519 signed message").
//!
//! This log never writes extension lines ([`Checkpoint::new`] has none: tlog-checkpoint calls them
//! "NOT RECOMMENDED, as they are not auditable"); [`Checkpoint::parse_body`] reads and exposes them.
//!
//! Checks beyond the letter of the spec, and why:
//!
//! * A tree of size 0 must have the root `SHA-256("")` (RFC 6962 §2.1 `MTH({})`); any other root is
//!   not a tree head of an empty log (tlog-witness rejects it with 422 too).
//! * [`CheckpointPolicy::new`] refuses a witness list that gives one public key two names: an Ed25519
//!   cosignature does not sign the name (tlog-cosignature §"Ed25519 signed message"), so such a key's
//!   cosignature would count for both names.
//! * The quorum counts distinct witness *names*, so a witness listed with two keys (rotation) counts
//!   once.
//!
//! Pure: no I/O, no clock (the verification time is passed in).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;

use super::note::{self, KeyId, Note, NoteError, Signature, SignatureType, VerifierKey};
use crate::crypto::Sha256Digest;
use crate::crypto::ed25519::SecretKey;

/// The header line of the Ed25519 cosigned message (tlog-cosignature §"Ed25519 signed message").
pub const COSIGNATURE_V1_HEADER: &str = "cosignature/v1";

/// How far in the future a cosignature's timestamp may lie and still count towards a quorum
/// (tlog-cosignature §"Format": "verifiers MAY reject cosignatures with timestamps in the future").
/// Five minutes of clock skew.
pub const MAX_COSIGNATURE_FUTURE_SKEW_SECS: u64 = 300;

/// Why a checkpoint, a cosignature or a policy was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The signed note itself is malformed or its signatures fail (c2sp.org/signed-note).
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The text does not end in `\n` (tlog-checkpoint §"Note text": lines "separated by newlines";
    /// a note text ends in a newline).
    #[error("checkpoint text does not end in a newline")]
    MissingFinalNewline,
    /// An ASCII control character other than `\n` (signed-note §"Format").
    #[error("checkpoint text contains the control character U+{0:04X}")]
    ControlCharacter(u32),
    /// Fewer than three lines (tlog-checkpoint §"Note text": "at least three non-empty lines").
    #[error("checkpoint has fewer than three lines")]
    TooFewLines,
    /// The origin line is empty (§"Note text" 1: "The origin MUST be non-empty").
    #[error("checkpoint origin is empty")]
    EmptyOrigin,
    /// An origin this log will not write: it contains a Unicode space or `+` (§"Note text" 1: it
    /// "SHOULD be a schema-less URL containing neither Unicode spaces nor plus"). Only
    /// [`Checkpoint::new`] enforces this; parsing accepts any non-empty origin.
    #[error("origin {0:?} contains a space or a plus sign")]
    UnrecommendedOrigin(String),
    /// The size line is not ASCII decimal without leading zeroes, or exceeds `u64` (§"Note text" 2).
    #[error("checkpoint tree size {0:?} is not a decimal number without leading zeroes")]
    MalformedSize(String),
    /// The root line is not canonical padded standard base64 (§"Note text" 3).
    #[error("checkpoint root hash is not canonical base64")]
    MalformedRoot,
    /// The root hash is not 32 bytes (§"Note text" 3: an RFC 6962 SHA-256 root).
    #[error("checkpoint root hash is {0} bytes, expected 32")]
    RootLength(usize),
    /// Size 0 with a root other than `SHA-256("")` (RFC 6962 §2.1: `MTH({}) = SHA-256()`).
    #[error("an empty tree's root must be SHA-256 of the empty string")]
    EmptyTreeRoot,
    /// An empty extension line (§"Note text" 4: "Extension lines, if any, MUST be non-empty").
    #[error("checkpoint extension line {0} is empty")]
    EmptyExtensionLine(usize),
    /// The origin is not the one expected for this log.
    #[error("checkpoint origin {found:?}, expected {expected:?}")]
    OriginMismatch {
        /// The origin configured for the log.
        expected: String,
        /// The origin line of the checkpoint.
        found: String,
    },
    /// No valid signature by the log's key (signed-note §"Signatures": "If no signature from a known
    /// key verifies successfully, clients MUST reject the note"; witnesses alone do not make a
    /// checkpoint).
    #[error("checkpoint is not signed by the log key {0}")]
    NotSignedByLog(String),
    /// A witness's cosignature does not verify: wrong length, timestamp above 2^63 − 1, or a
    /// signature over another checkpoint or time (tlog-cosignature §"Format"; signed-note
    /// §"Signatures": a known key's signature MUST be verified, we reject the checkpoint).
    #[error("cosignature by witness {name}+{key_id} does not verify")]
    InvalidCosignature {
        /// Witness name.
        name: String,
        /// Witness key ID.
        key_id: KeyId,
    },
    /// A log key that is not an Ed25519 note key (`0x01`), or a witness key that is not a cosigner key
    /// (`0x04`).
    #[error("key {name} has type {found:?}, expected {expected:?}")]
    WrongKeyType {
        /// Key name.
        name: String,
        /// The type required here.
        expected: SignatureType,
        /// The type of the key given.
        found: SignatureType,
    },
    /// One Ed25519 public key is listed under two witness names (tlog-cosignature §"Ed25519 signed
    /// message": "the same public key can't be used across multiple cosigners").
    #[error("witnesses {0} and {1} share a public key")]
    WitnessKeyReused(String, String),
    /// The quorum is larger than the number of distinct witness names: no checkpoint could meet it.
    #[error("a quorum of {quorum} cannot be met by {witnesses} witnesses")]
    QuorumUnreachable {
        /// Required cosignatures.
        quorum: usize,
        /// Distinct witness names configured.
        witnesses: usize,
    },
    /// Fewer distinct witnesses cosigned (at a time not after now + skew) than the policy requires.
    #[error("{got} of the {required} required witness cosignatures")]
    QuorumNotMet {
        /// Required cosignatures.
        required: usize,
        /// Distinct witnesses whose cosignature counted.
        got: usize,
    },
    /// A cosigning time before 1970 or after 2^63 − 1 seconds (tlog-cosignature §"Format": the
    /// timestamp "MUST NOT exceed 2^63 - 1").
    #[error("cosigning time is out of range")]
    TimeOutOfRange,
}

/// The checkpoint fields of tlog-checkpoint §"Note text". Its [`body`](Self::body) is the note text
/// the log signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: [u8; 32],
    extensions: Vec<String>,
}

/// `SHA-256("")`, the root of the empty tree (RFC 6962 §2.1).
fn empty_root() -> [u8; 32] {
    Sha256Digest::of(b"").0
}

/// ASCII decimal without leading zeroes (`0` itself allowed), as the checkpoint size line, the
/// tlog-proof index line and the cosignature time line are written. `None` on anything else, including
/// a sign, whitespace, or a value above `u64::MAX`.
pub(crate) fn parse_decimal_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse().ok()
}

impl Checkpoint {
    /// A checkpoint without extension lines, as this log writes them. The origin must be non-empty,
    /// without control characters, Unicode spaces or `+` (§"Note text" 1); a size of 0 requires the
    /// root `SHA-256("")`.
    pub fn new(origin: impl Into<String>, size: u64, root: [u8; 32]) -> Result<Self, CheckpointError> {
        let origin = origin.into();
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        if let Some(c) = origin.chars().find(|c| c.is_control()) {
            return Err(CheckpointError::ControlCharacter(u32::from(c)));
        }
        if origin.chars().any(|c| c.is_whitespace() || c == '+') {
            return Err(CheckpointError::UnrecommendedOrigin(origin));
        }
        if size == 0 && root != empty_root() {
            return Err(CheckpointError::EmptyTreeRoot);
        }
        Ok(Self {
            origin,
            size,
            root,
            extensions: Vec::new(),
        })
    }

    /// Parses a checkpoint note text (§"Note text"): non-empty origin; size in decimal without leading
    /// zeroes; canonical base64 of exactly 32 bytes; then any number of non-empty extension lines;
    /// every line ends in `\n`. The text must already have been authenticated (see
    /// [`CheckpointPolicy::verify`]).
    pub fn parse_body(text: &str) -> Result<Self, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::MissingFinalNewline)?;
        if let Some(c) = body.chars().find(|&c| c < '\u{20}' && c != '\n') {
            return Err(CheckpointError::ControlCharacter(u32::from(c)));
        }
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let size_line = lines.next().ok_or(CheckpointError::TooFewLines)?;
        let root_line = lines.next().ok_or(CheckpointError::TooFewLines)?;
        let size = parse_decimal_u64(size_line)
            .ok_or_else(|| CheckpointError::MalformedSize(size_line.to_owned()))?;
        let raw = STANDARD
            .decode(root_line)
            .map_err(|_| CheckpointError::MalformedRoot)?;
        let root: [u8; 32] = raw
            .as_slice()
            .try_into()
            .map_err(|_| CheckpointError::RootLength(raw.len()))?;
        if size == 0 && root != empty_root() {
            return Err(CheckpointError::EmptyTreeRoot);
        }
        let mut extensions = Vec::new();
        for (i, line) in lines.enumerate() {
            if line.is_empty() {
                return Err(CheckpointError::EmptyExtensionLine(i + 1));
            }
            extensions.push(line.to_owned());
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// The origin: the log's identity (§"Note text" 1).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The tree size (§"Note text" 2).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The RFC 6962 root hash (§"Note text" 3).
    pub fn root(&self) -> &[u8; 32] {
        &self.root
    }

    /// The extension lines, without their `\n` (§"Note text" 4). Empty for checkpoints of this log.
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// The note text: origin, size, base64 root, extension lines, each ending in `\n`.
    pub fn body(&self) -> String {
        let mut out = format!("{}\n{}\n{}\n", self.origin, self.size, STANDARD.encode(self.root));
        for e in &self.extensions {
            out.push_str(e);
            out.push('\n');
        }
        out
    }

    /// The checkpoint as a note signed by the log's `signer` (tlog-checkpoint §"Signatures"; the key
    /// name SHOULD be the origin, which is this log's convention but not checked here).
    pub fn sign(&self, signer: &note::Signer) -> Result<Note, CheckpointError> {
        let mut n = Note::new(self.body())?;
        n.sign(signer)?;
        Ok(n)
    }
}

/// The message an Ed25519 cosignature signs (tlog-cosignature §"Ed25519 signed message"):
/// `cosignature/v1\ntime <timestamp>\n` followed by the whole checkpoint note text (extension lines
/// included, signature lines not).
pub fn cosignature_v1_message(timestamp: u64, checkpoint_text: &str) -> Vec<u8> {
    format!("{COSIGNATURE_V1_HEADER}\ntime {timestamp}\n{checkpoint_text}").into_bytes()
}

/// A witness's Ed25519 cosigning key (tlog-cosignature §"Format", type `0x04`): a name and a secret
/// key. The name is not signed, so one key must never serve two names.
#[derive(Debug, Clone)]
pub struct Cosigner {
    key: SecretKey,
    verifier: VerifierKey,
}

impl Cosigner {
    /// A cosigner named `name` (a valid note key name) with `key`.
    pub fn new(name: impl Into<String>, key: SecretKey) -> Result<Self, CheckpointError> {
        let verifier = VerifierKey::cosignature_v1(name, key.public_key())?;
        Ok(Self { key, verifier })
    }

    /// The name.
    pub fn name(&self) -> &str {
        self.verifier.name()
    }

    /// The key ID, `SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4]`.
    pub fn key_id(&self) -> KeyId {
        self.verifier.key_id()
    }

    /// The matching verifier key (type `0x04`).
    pub fn verifier_key(&self) -> VerifierKey {
        self.verifier.clone()
    }

    /// The cosignature over checkpoint note text `checkpoint_text` at POSIX time `timestamp`:
    /// `timestamped_signature` = u64 big-endian timestamp ‖ Ed25519 signature of
    /// [`cosignature_v1_message`] (tlog-cosignature §"Format").
    pub fn cosign_text(&self, checkpoint_text: &str, timestamp: u64) -> Result<Signature, CheckpointError> {
        if timestamp > i64::MAX as u64 {
            return Err(CheckpointError::TimeOutOfRange);
        }
        let sig = self.key.sign(&cosignature_v1_message(timestamp, checkpoint_text));
        let mut bytes = Vec::with_capacity(8 + sig.len());
        bytes.extend_from_slice(&timestamp.to_be_bytes());
        bytes.extend_from_slice(&sig);
        Ok(Signature::new(self.name(), self.key_id(), bytes)?)
    }

    /// The cosignature over `checkpoint` at time `at` (whole seconds since the epoch, truncated).
    pub fn cosign(&self, checkpoint: &Checkpoint, at: OffsetDateTime) -> Result<Signature, CheckpointError> {
        self.cosign_text(&checkpoint.body(), posix_seconds(at)?)
    }
}

fn posix_seconds(at: OffsetDateTime) -> Result<u64, CheckpointError> {
    u64::try_from(at.unix_timestamp()).map_err(|_| CheckpointError::TimeOutOfRange)
}

/// Adds `cosigner`'s cosignature at time `at` to a checkpoint note, replacing an earlier cosignature by
/// the same key. The note text must be a checkpoint. This is the signing primitive only: a witness must
/// first have verified the log's signature and the consistency of the checkpoint with what it cosigned
/// before (tlog-witness §"add-checkpoint").
pub fn add_cosignature(
    note: &mut Note,
    cosigner: &Cosigner,
    at: OffsetDateTime,
) -> Result<(), CheckpointError> {
    Checkpoint::parse_body(note.text())?;
    let sig = cosigner.cosign_text(note.text(), posix_seconds(at)?)?;
    note.set_signature(sig)?;
    Ok(())
}

/// A verified witness cosignature: who, and when (tlog-cosignature §"Format": the POSIX timestamp at
/// which it was generated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosignature {
    witness: String,
    key_id: KeyId,
    timestamp: u64,
}

impl Cosignature {
    /// The witness's name.
    pub fn witness(&self) -> &str {
        &self.witness
    }

    /// The witness key's ID.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// Seconds since the epoch at which the witness cosigned.
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }

    /// The cosigning time, if `time` can represent it (years up to 9999).
    pub fn time(&self) -> Option<OffsetDateTime> {
        let secs = i64::try_from(self.timestamp).ok()?;
        OffsetDateTime::from_unix_timestamp(secs).ok()
    }
}

/// Verifies the cosignatures in `note` by the given `witnesses` (type `0x04` keys) and returns, in note
/// order, which witnesses cosigned and when. Signatures by other keys are ignored (signed-note
/// §"Signatures"); a cosignature by a listed witness that does not verify — for instance one made over
/// another checkpoint — is an error. The note's log signature is not checked here.
pub fn verify_cosignatures(
    note: &Note,
    witnesses: &[VerifierKey],
) -> Result<Vec<Cosignature>, CheckpointError> {
    for w in witnesses {
        require_type(w, SignatureType::CosignatureV1)?;
    }
    let mut out = Vec::new();
    for sig in note.signatures() {
        let mut matching = witnesses
            .iter()
            .filter(|w| w.name() == sig.name() && w.key_id() == sig.key_id());
        let Some(w) = matching.next() else {
            continue;
        };
        if matching.next().is_some() {
            return Err(NoteError::AmbiguousKey {
                name: sig.name().to_owned(),
                key_id: sig.key_id(),
            }
            .into());
        }
        let invalid = || CheckpointError::InvalidCosignature {
            name: sig.name().to_owned(),
            key_id: sig.key_id(),
        };
        let timestamp = w
            .verify(note.text(), sig.bytes())
            .ok()
            .flatten()
            .ok_or_else(invalid)?;
        out.push(Cosignature {
            witness: sig.name().to_owned(),
            key_id: sig.key_id(),
            timestamp,
        });
    }
    Ok(out)
}

fn require_type(key: &VerifierKey, expected: SignatureType) -> Result<(), CheckpointError> {
    if key.sig_type() == expected {
        Ok(())
    } else {
        Err(CheckpointError::WrongKeyType {
            name: key.name().to_owned(),
            expected,
            found: key.sig_type(),
        })
    }
}

/// What a client trusts for one log: its origin, its Ed25519 note key, the witnesses' cosigner keys,
/// and how many distinct witnesses must have cosigned (tlog-cosignature: "Log clients can verify a
/// quorum of cosignatures to prevent split-view attacks"). The origin and keys come from
/// configuration, never from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointPolicy {
    origin: String,
    log_key: VerifierKey,
    witnesses: Vec<VerifierKey>,
    quorum: usize,
}

impl CheckpointPolicy {
    /// A policy. `log_key` must be type `0x01`, every witness key type `0x04`; no public key may appear
    /// under two witness names; `quorum` may not exceed the number of distinct witness names (0 means
    /// cosignatures are reported but not required).
    pub fn new(
        origin: impl Into<String>,
        log_key: VerifierKey,
        witnesses: Vec<VerifierKey>,
        quorum: usize,
    ) -> Result<Self, CheckpointError> {
        let origin = origin.into();
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        require_type(&log_key, SignatureType::Ed25519)?;
        for (i, w) in witnesses.iter().enumerate() {
            require_type(w, SignatureType::CosignatureV1)?;
            if let Some(other) = witnesses[..i]
                .iter()
                .find(|o| o.public_key() == w.public_key() && o.name() != w.name())
            {
                return Err(CheckpointError::WitnessKeyReused(
                    other.name().to_owned(),
                    w.name().to_owned(),
                ));
            }
        }
        let names = distinct_names(witnesses.iter().map(VerifierKey::name));
        if quorum > names {
            return Err(CheckpointError::QuorumUnreachable {
                quorum,
                witnesses: names,
            });
        }
        Ok(Self {
            origin,
            log_key,
            witnesses,
            quorum,
        })
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The log's note key.
    pub fn log_key(&self) -> &VerifierKey {
        &self.log_key
    }

    /// The witnesses' cosigner keys.
    pub fn witnesses(&self) -> &[VerifierKey] {
        &self.witnesses
    }

    /// The number of distinct witnesses required.
    pub fn quorum(&self) -> usize {
        self.quorum
    }

    /// Parses and verifies a signed checkpoint: see [`Self::verify_note`].
    pub fn verify(
        &self,
        signed_checkpoint: &[u8],
        now: OffsetDateTime,
    ) -> Result<VerifiedCheckpoint, CheckpointError> {
        self.verify_note(Note::parse(signed_checkpoint)?, now)
    }

    /// Verifies a checkpoint note: the log key's signature must verify (signed-note §"Signatures");
    /// the text must be a checkpoint (tlog-checkpoint §"Note text") with this policy's origin; every
    /// cosignature by a configured witness must verify ([`verify_cosignatures`]); and at least
    /// [`Self::quorum`] distinct witness names must have cosigned at a time no later than
    /// `now` + [`MAX_COSIGNATURE_FUTURE_SKEW_SECS`]. Signatures by unknown keys are ignored.
    pub fn verify_note(
        &self,
        note: Note,
        now: OffsetDateTime,
    ) -> Result<VerifiedCheckpoint, CheckpointError> {
        let verified = note
            .verify(std::slice::from_ref(&self.log_key))
            .map_err(|e| match e {
                NoteError::NoVerifiedSignature => CheckpointError::NotSignedByLog(self.log_key.to_vkey()),
                e => CheckpointError::Note(e),
            })?;
        let note = verified.into_note();
        let checkpoint = Checkpoint::parse_body(note.text())?;
        if checkpoint.origin != self.origin {
            return Err(CheckpointError::OriginMismatch {
                expected: self.origin.clone(),
                found: checkpoint.origin,
            });
        }
        let cosignatures = verify_cosignatures(&note, &self.witnesses)?;
        let limit = u64::try_from(now.unix_timestamp())
            .unwrap_or(0)
            .saturating_add(MAX_COSIGNATURE_FUTURE_SKEW_SECS);
        let got = distinct_names(
            cosignatures
                .iter()
                .filter(|c| c.timestamp <= limit)
                .map(|c| c.witness.as_str()),
        );
        if got < self.quorum {
            return Err(CheckpointError::QuorumNotMet {
                required: self.quorum,
                got,
            });
        }
        Ok(VerifiedCheckpoint {
            checkpoint,
            note,
            cosignatures,
        })
    }
}

fn distinct_names<'a>(names: impl Iterator<Item = &'a str>) -> usize {
    let mut v: Vec<&str> = names.collect();
    v.sort_unstable();
    v.dedup();
    v.len()
}

/// A checkpoint signed by the log's key, with its origin checked and its witness cosignatures
/// verified under a [`CheckpointPolicy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    checkpoint: Checkpoint,
    note: Note,
    cosignatures: Vec<Cosignature>,
}

impl VerifiedCheckpoint {
    /// The checkpoint.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The signed note, with every signature line it carried.
    pub fn note(&self) -> &Note {
        &self.note
    }

    /// Every verified cosignature by a configured witness, in note order, including any dated beyond
    /// the allowed skew (which did not count towards the quorum).
    pub fn cosignatures(&self) -> &[Cosignature] {
        &self.cosignatures
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::note::Signer;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-07-01 12:00 UTC);

    fn log_signer(seed: u8) -> Signer {
        Signer::new("example.com/log", SecretKey::from_seed(&[seed; 32])).unwrap()
    }

    fn witness(name: &str, seed: u8) -> Cosigner {
        Cosigner::new(name, SecretKey::from_seed(&[seed; 32])).unwrap()
    }

    fn root(b: u8) -> [u8; 32] {
        [b; 32]
    }

    fn policy(log: &Signer, witnesses: &[&Cosigner], quorum: usize) -> CheckpointPolicy {
        CheckpointPolicy::new(
            "example.com/log",
            log.verifier_key(),
            witnesses.iter().map(|w| w.verifier_key()).collect(),
            quorum,
        )
        .unwrap()
    }

    // ---- Golden vectors ----

    #[test]
    fn golden_c2sp_checkpoint_example_body() {
        // C2SP tlog-checkpoint.md (C2SP/C2SP@2793893976), the opening example.
        let body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        let cp = Checkpoint::parse_body(body).unwrap();
        assert_eq!(cp.origin(), "example.com/behind-the-sofa");
        assert_eq!(cp.size(), 20852163);
        assert_eq!(
            STANDARD.encode(cp.root()),
            "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
        );
        assert!(cp.extensions().is_empty());
        assert_eq!(cp.body(), body);
        // The signed example parses as a note (its key is not published, so it cannot be verified).
        let signed = format!(
            "{body}\n— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
        );
        assert_eq!(Note::parse(signed.as_bytes()).unwrap().text(), body);
    }

    #[test]
    fn golden_c2sp_cosignature_example_message_and_timestamp() {
        // C2SP tlog-cosignature.md (C2SP/C2SP@01194db1): the example cosignature line, whose timestamp
        // is the one of the example signed message, and that message byte for byte.
        let body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        let line = "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==";
        let sig = Signature::parse_line(line).unwrap();
        assert_eq!(sig.key_id(), KeyId::from_u32(0x8d66cf3f));
        assert_eq!(sig.bytes().len(), 72);
        let ts = u64::from_be_bytes(sig.bytes()[..8].try_into().unwrap());
        assert_eq!(ts, 1679315147);
        assert_eq!(
            cosignature_v1_message(ts, body),
            b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
        // transparency-dev/formats note/note_cosigv1_test.go (@091ce416) TestCosignatureTimestamp.
        let sig = Signature::parse_line("— w ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA==").unwrap();
        assert_eq!(
            u64::from_be_bytes(sig.bytes()[..8].try_into().unwrap()),
            1727964367
        );
    }

    #[test]
    fn golden_sumdb_checkpoint_verifies() {
        // transparency-dev/formats log/note_test.go (@5242c178) TestSumDBNoteParsing: a real
        // sum.golang.org checkpoint. Its origin contains spaces (allowed when reading) and differs from
        // the key name (a SHOULD).
        let vkey = VerifierKey::parse("sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8")
            .unwrap();
        let note = "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n— sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n";
        let p = CheckpointPolicy::new("go.sum database tree", vkey.clone(), vec![], 0).unwrap();
        let v = p.verify(note.as_bytes(), NOW).unwrap();
        assert_eq!(v.checkpoint().size(), 6476701);
        assert_eq!(v.checkpoint().origin(), "go.sum database tree");
        assert!(v.cosignatures().is_empty());
        // "wrong logID".
        let p = CheckpointPolicy::new("Go rocks but I might have the wrong ID", vkey, vec![], 0).unwrap();
        assert!(matches!(
            p.verify(note.as_bytes(), NOW),
            Err(CheckpointError::OriginMismatch { .. })
        ));
    }

    #[test]
    fn golden_sigsum_checkpoint_verifies() {
        // FiloSottile/torchwood cmd/litewitness/testdata/multi-cosigs-ed25519.txt (@5820115e): a
        // Sigsum log checkpoint (origin sigsum.org/v1/tree/<hex SHA-256 of the log key>) as submitted
        // to add-checkpoint, with the log key given in hex.
        let pk = crate::crypto::PublicKey::from_slice(
            &hex::decode("52c05edad1bf5feffa81354faae59a655d9a9a1a793ed2f62c39c26c0be2aecd").unwrap(),
        )
        .unwrap();
        let origin = "sigsum.org/v1/tree/985ea163f5af026723561354f51f2ebcdcf2af809ce254ccfb64aa9aadd80f90";
        assert_eq!(Sha256Digest::of(&pk.to_bytes()).to_hex(), &origin[19..]);
        let vk = VerifierKey::ed25519(origin, pk).unwrap();
        assert_eq!(vk.key_id(), KeyId::from_u32(0xec1293d2));
        let note = format!(
            "{origin}\n1\nKgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— {origin} 7BKT0gOfNZ1J0So9unY3BZtm2YkPIoNYM/dce0Z2avJDs8dxN6ts9bOSwwrVrbjm6P9K3ZxpK6jJngOG6YvGGzV/lwo=\n"
        );
        let v = CheckpointPolicy::new(origin, vk, vec![], 0)
            .unwrap()
            .verify(note.as_bytes(), NOW)
            .unwrap();
        let mut want = [0u8; 32];
        want[0] = 0x2a;
        assert_eq!(v.checkpoint().root(), &want);
        assert_eq!(v.checkpoint().size(), 1);
    }

    /// Produced independently of this crate with Python `cryptography` 48.0.0 (Ed25519) and `hashlib`,
    /// following tlog-checkpoint and tlog-cosignature literally: log seed = 32 × 0x01, witness seeds
    /// 32 × 0x02 ("witness.example/w1") and 32 × 0x03 ("witness.example/w2"), cosigning times
    /// 1767225600 and 1767225601. Reproduced here byte for byte.
    const PY_LOG_VKEY: &str = "example.com/log+9be5d3c6+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c";
    const PY_W1_VKEY: &str = "witness.example/w1+df1c0a35+BIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOU";
    const PY_W2_VKEY: &str = "witness.example/w2+bfff2874+BO1JKMYo0cLG6ukDOJBZlWEpWSc6XGP5NjbBRhSshzfR";
    const PY_NOTE: &str = "example.com/log\n5\noMej3RCamNp3Ed5XOju6T1rS+6nomDW6qUt9tXpEz3A=\n\n\
— example.com/log m+XTxr6/9vh+8DQ24NNRITmuL/344rqSfe7c1Jaf79vw19IX5IyCTotHXkzGr3OTZZCGH2HFVwGtEB8MLiPVwca1Ug4=\n\
— witness.example/w1 3xwKNQAAAABpVbkAjfh6a+F0MrSIda8JDIY6EhjJ7qCDEeIpDiYgOLXU1QOl0QvyzBU5l5c5eh5JAFnyDYT0obdBkbaIr/tlyQAnBg==\n\
— witness.example/w2 v/8odAAAAABpVbkBaMirNMlbUVEgqwz3L3k8dm+yFyuam8QfUFNFkw6MNFfCEDhaQgbXmMdM/0kAGnAWDcWq2r2mFJIKocxAFDrVBQ==\n";

    #[test]
    fn golden_independent_cosigned_checkpoint() {
        let log = log_signer(1);
        let w1 = witness("witness.example/w1", 2);
        let w2 = witness("witness.example/w2", 3);
        assert_eq!(log.verifier_key().to_vkey(), PY_LOG_VKEY);
        assert_eq!(w1.verifier_key().to_vkey(), PY_W1_VKEY);
        assert_eq!(w2.verifier_key().to_vkey(), PY_W2_VKEY);
        let cp = Checkpoint::new("example.com/log", 5, Sha256Digest::of(b"consentry").0).unwrap();
        let mut note = cp.sign(&log).unwrap();
        add_cosignature(
            &mut note,
            &w1,
            OffsetDateTime::from_unix_timestamp(1767225600).unwrap(),
        )
        .unwrap();
        add_cosignature(
            &mut note,
            &w2,
            OffsetDateTime::from_unix_timestamp(1767225601).unwrap(),
        )
        .unwrap();
        assert_eq!(note.to_text().unwrap(), PY_NOTE);
        let p = CheckpointPolicy::new(
            "example.com/log",
            VerifierKey::parse(PY_LOG_VKEY).unwrap(),
            vec![
                VerifierKey::parse(PY_W1_VKEY).unwrap(),
                VerifierKey::parse(PY_W2_VKEY).unwrap(),
            ],
            2,
        )
        .unwrap();
        let v = p.verify(PY_NOTE.as_bytes(), NOW).unwrap();
        let got: Vec<(&str, u64)> = v
            .cosignatures()
            .iter()
            .map(|c| (c.witness(), c.timestamp()))
            .collect();
        assert_eq!(
            got,
            [
                ("witness.example/w1", 1767225600),
                ("witness.example/w2", 1767225601)
            ]
        );
        assert_eq!(v.cosignatures()[0].time(), Some(datetime!(2026-01-01 0:00 UTC)));
    }

    // ---- Body parsing ----

    #[test]
    fn body_round_trips_with_and_without_extensions() {
        let cp = Checkpoint::new("example.com/log", 42, root(9)).unwrap();
        assert_eq!(Checkpoint::parse_body(&cp.body()).unwrap(), cp);
        let with_ext = format!("{}ext one\nsecond ext\n", cp.body());
        let parsed = Checkpoint::parse_body(&with_ext).unwrap();
        assert_eq!(parsed.extensions(), ["ext one", "second ext"]);
        assert_eq!(parsed.body(), with_ext);
        let empty = Checkpoint::new("example.com/log", 0, empty_root()).unwrap();
        assert_eq!(Checkpoint::parse_body(&empty.body()).unwrap().size(), 0);
        let max = Checkpoint::new("example.com/log", u64::MAX, root(1)).unwrap();
        assert_eq!(Checkpoint::parse_body(&max.body()).unwrap().size(), u64::MAX);
    }

    #[test]
    fn malformed_bodies() {
        let r = STANDARD.encode(root(7));
        let e = STANDARD.encode(empty_root());
        let cases: Vec<(String, CheckpointError)> = vec![
            (format!("log\n1\n{r}"), CheckpointError::MissingFinalNewline),
            ("log\n1\n".into(), CheckpointError::TooFewLines),
            ("log\n".into(), CheckpointError::TooFewLines),
            (format!("\n1\n{r}\n"), CheckpointError::EmptyOrigin),
            ("\n".into(), CheckpointError::EmptyOrigin),
            (
                format!("log\n01\n{r}\n"),
                CheckpointError::MalformedSize("01".into()),
            ),
            (
                format!("log\n00\n{e}\n"),
                CheckpointError::MalformedSize("00".into()),
            ),
            (
                format!("log\n+1\n{r}\n"),
                CheckpointError::MalformedSize("+1".into()),
            ),
            (
                format!("log\n-1\n{r}\n"),
                CheckpointError::MalformedSize("-1".into()),
            ),
            (
                format!("log\n 1\n{r}\n"),
                CheckpointError::MalformedSize(" 1".into()),
            ),
            (
                format!("log\n\n{r}\n"),
                CheckpointError::MalformedSize(String::new()),
            ),
            (
                format!("log\n0x10\n{r}\n"),
                CheckpointError::MalformedSize("0x10".into()),
            ),
            (
                format!("log\n18446744073709551616\n{r}\n"),
                CheckpointError::MalformedSize("18446744073709551616".into()),
            ),
            (
                format!("log\n１\n{r}\n"),
                CheckpointError::MalformedSize("１".into()),
            ),
            ("log\n1\nThisIsn'tBase64\n".into(), CheckpointError::MalformedRoot),
            (
                format!("log\n1\n{}\n", r.trim_end_matches('=')),
                CheckpointError::MalformedRoot,
            ),
            (
                format!("log\n1\n{}\n", STANDARD.encode([7u8; 31])),
                CheckpointError::RootLength(31),
            ),
            (
                format!("log\n1\n{}\n", STANDARD.encode([7u8; 33])),
                CheckpointError::RootLength(33),
            ),
            ("log\n1\n\n".into(), CheckpointError::RootLength(0)),
            (format!("log\n0\n{r}\n"), CheckpointError::EmptyTreeRoot),
            (format!("log\n1\n{r}\n\n"), CheckpointError::EmptyExtensionLine(1)),
            (
                format!("log\n1\n{r}\next\n\nmore\n"),
                CheckpointError::EmptyExtensionLine(2),
            ),
            (
                format!("log\r\n1\n{r}\n"),
                CheckpointError::ControlCharacter(0x0d),
            ),
        ];
        for (body, want) in cases {
            assert_eq!(Checkpoint::parse_body(&body), Err(want), "{body:?}");
        }
        // transparency-dev/formats log/checkpoint_test.go: "valid with trailing newlines" is accepted there
        // (the rest is handed to the caller); an empty extension line is refused here.
        assert!(Checkpoint::parse_body(&format!("Log\n9944\n{r}\n\n\n\n")).is_err());
    }

    #[test]
    fn new_refuses_bad_origins_and_empty_tree_roots() {
        assert_eq!(Checkpoint::new("", 1, root(1)), Err(CheckpointError::EmptyOrigin));
        assert!(matches!(
            Checkpoint::new("a b", 1, root(1)),
            Err(CheckpointError::UnrecommendedOrigin(_))
        ));
        assert!(matches!(
            Checkpoint::new("a+b", 1, root(1)),
            Err(CheckpointError::UnrecommendedOrigin(_))
        ));
        assert_eq!(
            Checkpoint::new("a\nb", 1, root(1)),
            Err(CheckpointError::ControlCharacter(10))
        );
        assert_eq!(
            Checkpoint::new("a", 0, root(1)),
            Err(CheckpointError::EmptyTreeRoot)
        );
    }

    // ---- Signatures and cosignatures ----

    #[test]
    fn sign_and_verify_round_trip() {
        let log = log_signer(1);
        let (w1, w2, w3) = (
            witness("w1.example", 2),
            witness("w2.example", 3),
            witness("w3.example", 4),
        );
        let cp = Checkpoint::new("example.com/log", 10, root(5)).unwrap();
        let mut note = cp.sign(&log).unwrap();
        for (w, t) in [(&w1, 1_700_000_000), (&w2, 1_700_000_001)] {
            add_cosignature(&mut note, w, OffsetDateTime::from_unix_timestamp(t).unwrap()).unwrap();
        }
        let text = note.to_text().unwrap();
        let v = policy(&log, &[&w1, &w2, &w3], 2)
            .verify(text.as_bytes(), NOW)
            .unwrap();
        assert_eq!(v.checkpoint(), &cp);
        assert_eq!(v.cosignatures().len(), 2);
        assert_eq!(v.note().to_text().unwrap(), text);
        assert_eq!(
            policy(&log, &[&w1, &w2, &w3], 3).verify(text.as_bytes(), NOW),
            Err(CheckpointError::QuorumNotMet { required: 3, got: 2 })
        );
        // Re-cosigning replaces the witness's earlier cosignature instead of adding a second one.
        add_cosignature(&mut note, &w1, NOW).unwrap();
        assert_eq!(note.signatures().len(), 3);
        let v = policy(&log, &[&w1, &w2], 2)
            .verify(note.to_text().unwrap().as_bytes(), NOW)
            .unwrap();
        assert_eq!(v.cosignatures()[1].witness(), "w1.example");
        assert_eq!(v.cosignatures()[1].time(), Some(NOW));
    }

    #[test]
    fn tampered_body_is_refused() {
        let log = log_signer(1);
        let w = witness("w1.example", 2);
        let mut note = Checkpoint::new("example.com/log", 10, root(5))
            .unwrap()
            .sign(&log)
            .unwrap();
        add_cosignature(&mut note, &w, NOW).unwrap();
        let text = note.to_text().unwrap();
        let tampered = text.replacen("\n10\n", "\n11\n", 1);
        assert!(matches!(
            policy(&log, &[&w], 1).verify(tampered.as_bytes(), NOW),
            Err(CheckpointError::Note(NoteError::InvalidSignature { .. }))
        ));
    }

    #[test]
    fn signatures_by_unknown_keys_only() {
        let log = log_signer(1);
        let stranger = log_signer(9);
        let w = witness("w1.example", 2);
        let mut note = Checkpoint::new("example.com/log", 3, root(5))
            .unwrap()
            .sign(&stranger)
            .unwrap();
        assert!(matches!(
            policy(&log, &[], 0).verify(note.to_text().unwrap().as_bytes(), NOW),
            Err(CheckpointError::NotSignedByLog(_))
        ));
        // A configured witness's cosignature does not stand in for the log's signature.
        add_cosignature(&mut note, &w, NOW).unwrap();
        assert!(matches!(
            policy(&log, &[&w], 1).verify(note.to_text().unwrap().as_bytes(), NOW),
            Err(CheckpointError::NotSignedByLog(_))
        ));
    }

    #[test]
    fn cosignature_over_another_checkpoint_is_refused() {
        let log = log_signer(1);
        let w = witness("w1.example", 2);
        let mut a = Checkpoint::new("example.com/log", 10, root(5))
            .unwrap()
            .sign(&log)
            .unwrap();
        add_cosignature(&mut a, &w, NOW).unwrap();
        let cosig_a = a.signatures()[1].clone();
        let mut b = Checkpoint::new("example.com/log", 11, root(6))
            .unwrap()
            .sign(&log)
            .unwrap();
        b.add_signature(cosig_a).unwrap();
        assert_eq!(
            policy(&log, &[&w], 0).verify(b.to_text().unwrap().as_bytes(), NOW),
            Err(CheckpointError::InvalidCosignature {
                name: "w1.example".into(),
                key_id: w.key_id()
            })
        );
        // Without the witness configured, the transplanted line is just an unknown signature.
        assert!(
            policy(&log, &[], 0)
                .verify(b.to_text().unwrap().as_bytes(), NOW)
                .is_ok()
        );
    }

    #[test]
    fn cosignature_with_altered_timestamp_or_length_is_refused() {
        let log = log_signer(1);
        let w = witness("w1.example", 2);
        let body = Checkpoint::new("example.com/log", 10, root(5)).unwrap().body();
        let good = w.cosign_text(&body, 1_700_000_000).unwrap();
        let mut later = good.bytes().to_vec();
        later[7] ^= 1;
        let over_max = [&(1u64 << 63).to_be_bytes()[..], &good.bytes()[8..]].concat();
        for bytes in [
            later,
            over_max,
            good.bytes()[..71].to_vec(),
            [good.bytes(), &[0]].concat(),
        ] {
            let mut note = Note::new(body.clone()).unwrap();
            note.sign(&log).unwrap();
            note.add_signature(Signature::new("w1.example", w.key_id(), bytes).unwrap())
                .unwrap();
            assert!(matches!(
                policy(&log, &[&w], 0).verify(note.to_text().unwrap().as_bytes(), NOW),
                Err(CheckpointError::InvalidCosignature { .. })
            ));
        }
        assert_eq!(
            w.cosign_text(&body, 1 << 63),
            Err(CheckpointError::TimeOutOfRange)
        );
        assert_eq!(
            w.cosign(
                &Checkpoint::parse_body(&body).unwrap(),
                datetime!(1969-12-31 23:59:59 UTC)
            ),
            Err(CheckpointError::TimeOutOfRange)
        );
    }

    #[test]
    fn cosignature_covers_extension_lines() {
        // transparency-dev/formats TestSigCoversExtensionLines, and tlog-cosignature: extension lines
        // "if present MUST be included in the cosigned message".
        let log = log_signer(1);
        let w = witness("w1.example", 2);
        let body = format!(
            "{}Extendo\n",
            Checkpoint::new("example.com/log", 10, root(5)).unwrap().body()
        );
        let mut note = Note::new(body).unwrap();
        note.sign(&log).unwrap();
        add_cosignature(&mut note, &w, NOW).unwrap();
        let text = note.to_text().unwrap();
        let v = policy(&log, &[&w], 1).verify(text.as_bytes(), NOW).unwrap();
        assert_eq!(v.checkpoint().extensions(), ["Extendo"]);
        // Re-sign the altered extension with the log key only: the cosignature no longer verifies.
        let mut altered = Note::new(note.text().replace("Extendo", "Extendx")).unwrap();
        altered.sign(&log).unwrap();
        altered.add_signature(note.signatures()[1].clone()).unwrap();
        assert!(matches!(
            policy(&log, &[&w], 1).verify(altered.to_text().unwrap().as_bytes(), NOW),
            Err(CheckpointError::InvalidCosignature { .. })
        ));
    }

    #[test]
    fn future_cosignatures_do_not_count() {
        let log = log_signer(1);
        let w = witness("w1.example", 2);
        let mut note = Checkpoint::new("example.com/log", 10, root(5))
            .unwrap()
            .sign(&log)
            .unwrap();
        add_cosignature(&mut note, &w, NOW + time::Duration::seconds(301)).unwrap();
        let text = note.to_text().unwrap();
        assert_eq!(
            policy(&log, &[&w], 1).verify(text.as_bytes(), NOW),
            Err(CheckpointError::QuorumNotMet { required: 1, got: 0 })
        );
        // Still reported, and counted once the clock catches up.
        let v = policy(&log, &[&w], 0).verify(text.as_bytes(), NOW).unwrap();
        assert_eq!(v.cosignatures().len(), 1);
        assert!(
            policy(&log, &[&w], 1)
                .verify(text.as_bytes(), NOW + time::Duration::seconds(1))
                .is_ok()
        );
    }

    #[test]
    fn quorum_counts_witness_names_not_keys() {
        let log = log_signer(1);
        let old = witness("w1.example", 2);
        let new = witness("w1.example", 3);
        let mut note = Checkpoint::new("example.com/log", 10, root(5))
            .unwrap()
            .sign(&log)
            .unwrap();
        add_cosignature(&mut note, &old, NOW).unwrap();
        add_cosignature(&mut note, &new, NOW).unwrap();
        let keys = vec![old.verifier_key(), new.verifier_key()];
        assert_eq!(
            CheckpointPolicy::new("example.com/log", log.verifier_key(), keys.clone(), 2),
            Err(CheckpointError::QuorumUnreachable {
                quorum: 2,
                witnesses: 1
            })
        );
        let p = CheckpointPolicy::new("example.com/log", log.verifier_key(), keys, 1).unwrap();
        let v = p.verify(note.to_text().unwrap().as_bytes(), NOW).unwrap();
        assert_eq!(v.cosignatures().len(), 2);
    }

    #[test]
    fn policy_refuses_bad_configurations() {
        let log = log_signer(1);
        let w = witness("w1.example", 2);
        // One key, two witness names: its cosignature could be replayed under either name.
        let same_key = VerifierKey::cosignature_v1("w2.example", *w.verifier_key().public_key()).unwrap();
        assert!(matches!(
            CheckpointPolicy::new(
                "example.com/log",
                log.verifier_key(),
                vec![w.verifier_key(), same_key],
                0
            ),
            Err(CheckpointError::WitnessKeyReused(_, _))
        ));
        // Key types.
        assert!(matches!(
            CheckpointPolicy::new("example.com/log", w.verifier_key(), vec![], 0),
            Err(CheckpointError::WrongKeyType { .. })
        ));
        assert!(matches!(
            CheckpointPolicy::new("example.com/log", log.verifier_key(), vec![log.verifier_key()], 0),
            Err(CheckpointError::WrongKeyType { .. })
        ));
        assert!(matches!(
            verify_cosignatures(&Note::new("x\n").unwrap(), &[log.verifier_key()]),
            Err(CheckpointError::WrongKeyType { .. })
        ));
        assert_eq!(
            CheckpointPolicy::new("", log.verifier_key(), vec![], 0),
            Err(CheckpointError::EmptyOrigin)
        );
    }

    #[test]
    fn verify_cosignatures_reports_who_and_when() {
        let log = log_signer(1);
        let (w1, w2) = (witness("w1.example", 2), witness("w2.example", 3));
        let mut note = Checkpoint::new("example.com/log", 10, root(5))
            .unwrap()
            .sign(&log)
            .unwrap();
        add_cosignature(
            &mut note,
            &w2,
            OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap(),
        )
        .unwrap();
        let got = verify_cosignatures(&note, &[w1.verifier_key(), w2.verifier_key()]).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].witness(), "w2.example");
        assert_eq!(got[0].key_id(), w2.key_id());
        assert_eq!(got[0].timestamp(), 1_800_000_000);
    }

    #[test]
    fn add_cosignature_needs_a_checkpoint() {
        let w = witness("w1.example", 2);
        let mut note = Note::new("not a checkpoint\n").unwrap();
        assert_eq!(
            add_cosignature(&mut note, &w, NOW),
            Err(CheckpointError::TooFewLines)
        );
    }

    #[test]
    fn note_level_open_verifies_cosignatures_too() {
        // The witness response of tlog-witness §"add-checkpoint" may be opened with a plain note
        // verifier configured with the witness keys: type 0x04 keys verify cosignatures there too.
        let log = log_signer(1);
        let w = witness("w1.example", 2);
        let mut note = Checkpoint::new("example.com/log", 10, root(5))
            .unwrap()
            .sign(&log)
            .unwrap();
        add_cosignature(&mut note, &w, OffsetDateTime::from_unix_timestamp(1234).unwrap()).unwrap();
        let v = note::open(note.to_text().unwrap().as_bytes(), &[w.verifier_key()]).unwrap();
        assert_eq!(v.verified()[0].timestamp(), Some(1234));
        assert_eq!(v.unverified().len(), 1);
    }

    #[test]
    fn decimal_rules() {
        for (s, want) in [
            ("0", Some(0)),
            ("7", Some(7)),
            ("18446744073709551615", Some(u64::MAX)),
            ("", None),
            ("00", None),
            ("07", None),
            ("+7", None),
            ("7 ", None),
            ("18446744073709551616", None),
        ] {
            assert_eq!(parse_decimal_u64(s), want, "{s:?}");
        }
    }
}
