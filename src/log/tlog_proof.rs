//! C2SP transparency log proofs (<https://c2sp.org/tlog-proof>, `c2sp.org/tlog-proof@v1`): an
//! offline-verifiable receipt that an entry is in the log, as a (co)signed checkpoint, the entry's
//! index and an RFC 6962 inclusion proof.
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64>            (optional, unauthenticated)
//! index <N>
//! <base64 hash>             (zero or more: RFC 6962 §2.1.1 audit path, leaf sibling first)
//!
//! <signed checkpoint note, verbatim>
//! ```
//!
//! (tlog-proof §"Format"). Verification ([`TlogProof::verify`]) is: verify the checkpoint under a
//! [`CheckpointPolicy`] (log signature, origin, witness quorum), check the index lies in the tree,
//! then run the inclusion verification of the caller's choosing against the checkpoint's size and
//! root. The Merkle verifier is passed in so that this module does not depend on it.
//!
//! Strictness: every line ends in `\n`; the header is exact; `extra` is canonical base64 of at least
//! one byte (an empty `extra` line is never written, so it is refused); `index` is decimal without
//! leading zeroes; each proof line is canonical base64 of exactly 32 bytes; at most
//! [`MAX_PROOF_HASHES`] lines (an inclusion proof in a tree of at most 2^64 − 1 leaves has at most 64).
//!
//! Pure: no I/O, no clock (the verification time is passed in).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;

use super::checkpoint::{CheckpointError, CheckpointPolicy, VerifiedCheckpoint, parse_decimal_u64};
use super::note::{Note, NoteError};

/// The first line of every proof (tlog-proof §"Format": "The first line MUST be the string
/// `c2sp.org/tlog-proof@v1`").
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// The most proof hash lines accepted: the depth of a tree of 2^64 − 1 leaves (RFC 6962 §2.1.1).
pub const MAX_PROOF_HASHES: usize = 64;

/// Why a proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlogProofError {
    /// Not UTF-8 (the format is lines of ASCII followed by a signed note, itself UTF-8).
    #[error("tlog-proof is not valid UTF-8")]
    NotUtf8,
    /// The first line is not exactly `c2sp.org/tlog-proof@v1` (§"Format").
    #[error("tlog-proof does not start with the line {HEADER}")]
    WrongHeader,
    /// The `extra` line is not `extra ` + canonical base64 of at least one byte (§"Format": "the string
    /// `extra` followed by a space … and base64-encoded opaque extra data").
    #[error("malformed extra line")]
    MalformedExtra,
    /// No `index ` line where one must be (§"Format": "The next line MUST start with the string
    /// `index` followed by a space").
    #[error("tlog-proof has no index line")]
    MissingIndex,
    /// The index is not ASCII decimal without leading zeroes, or exceeds `u64` (§"Format").
    #[error("tlog-proof index {0:?} is not a decimal number without leading zeroes")]
    MalformedIndex(String),
    /// A proof line is not canonical base64 of a 32-byte SHA-256 hash (§"Format": "one SHA-256 hash
    /// per line").
    #[error("proof line {0} is not the base64 of a 32-byte hash")]
    MalformedProofHash(usize),
    /// More than [`MAX_PROOF_HASHES`] proof lines.
    #[error("more than {MAX_PROOF_HASHES} proof hashes")]
    TooManyProofHashes,
    /// No empty line before the checkpoint, or the input ends before it (§"Format": "After the
    /// inclusion proof lines and an empty line, the checkpoint").
    #[error("tlog-proof has no empty line before the checkpoint")]
    MissingBlankLine,
    /// The embedded checkpoint is not a well-formed signed note (c2sp.org/signed-note).
    #[error("embedded checkpoint: {0}")]
    Note(NoteError),
    /// The embedded checkpoint failed verification under the policy (tlog-checkpoint,
    /// tlog-cosignature).
    #[error("embedded checkpoint: {0}")]
    Checkpoint(CheckpointError),
    /// The index is not below the checkpoint's tree size.
    #[error("index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The proof's index.
        index: u64,
        /// The checkpoint's tree size.
        size: u64,
    },
    /// The inclusion proof does not lead from the leaf hash to the checkpoint's root (RFC 6962
    /// §2.1.1; the message is the inclusion verifier's).
    #[error("inclusion proof does not verify: {0}")]
    Inclusion(String),
}

/// A parsed `c2sp.org/tlog-proof@v1` proof (tlog-proof §"Format"). Nothing in it is trusted until
/// [`Self::verify`] succeeds, and `extra` not even then ("Applications MUST NOT implicitly trust the
/// extra data, as it is not authenticated").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque application data; empty means no `extra` line.
    pub extra: Vec<u8>,
    /// Zero-based index of the entry in the log.
    pub index: u64,
    /// The inclusion proof, from the leaf's sibling up to the root's child (RFC 6962 §2.1.1).
    pub proof: Vec<[u8; 32]>,
    /// The signed checkpoint the proof is relative to, with its cosignatures.
    pub checkpoint: Note,
}

/// Splits off the next `\n`-terminated line.
fn next_line(s: &str) -> Option<(&str, &str)> {
    s.split_once('\n')
}

impl TlogProof {
    /// Parses a proof (tlog-proof §"Format"); the checkpoint is parsed as a signed note but not
    /// verified.
    pub fn parse(bytes: &[u8]) -> Result<Self, TlogProofError> {
        let s = std::str::from_utf8(bytes).map_err(|_| TlogProofError::NotUtf8)?;
        let (header, mut rest) = next_line(s).ok_or(TlogProofError::WrongHeader)?;
        if header != HEADER {
            return Err(TlogProofError::WrongHeader);
        }
        let (mut line, mut after) = next_line(rest).ok_or(TlogProofError::MissingIndex)?;
        let mut extra = Vec::new();
        if let Some(b64) = line.strip_prefix("extra ") {
            extra = STANDARD.decode(b64).map_err(|_| TlogProofError::MalformedExtra)?;
            if extra.is_empty() {
                return Err(TlogProofError::MalformedExtra);
            }
            (line, after) = next_line(after).ok_or(TlogProofError::MissingIndex)?;
        }
        let index = line.strip_prefix("index ").ok_or(TlogProofError::MissingIndex)?;
        let index =
            parse_decimal_u64(index).ok_or_else(|| TlogProofError::MalformedIndex(index.to_owned()))?;
        rest = after;
        let mut proof = Vec::new();
        loop {
            let (line, after) = next_line(rest).ok_or(TlogProofError::MissingBlankLine)?;
            rest = after;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_HASHES {
                return Err(TlogProofError::TooManyProofHashes);
            }
            let n = proof.len() + 1;
            let raw = STANDARD
                .decode(line)
                .map_err(|_| TlogProofError::MalformedProofHash(n))?;
            proof.push(
                <[u8; 32]>::try_from(raw.as_slice()).map_err(|_| TlogProofError::MalformedProofHash(n))?,
            );
        }
        let checkpoint = Note::parse(rest.as_bytes()).map_err(TlogProofError::Note)?;
        Ok(Self {
            extra,
            index,
            proof,
            checkpoint,
        })
    }

    /// The proof text (tlog-proof §"Format"); should be stored with the extension `.tlog-proof`.
    /// Fails if the checkpoint has no signature or the proof has more than [`MAX_PROOF_HASHES`]
    /// hashes, since neither would parse back.
    pub fn to_text(&self) -> Result<String, TlogProofError> {
        if self.proof.len() > MAX_PROOF_HASHES {
            return Err(TlogProofError::TooManyProofHashes);
        }
        let checkpoint = self.checkpoint.to_text().map_err(TlogProofError::Note)?;
        let mut out = format!("{HEADER}\n");
        if !self.extra.is_empty() {
            out.push_str(&format!("extra {}\n", STANDARD.encode(&self.extra)));
        }
        out.push_str(&format!("index {}\n", self.index));
        for h in &self.proof {
            out.push_str(&STANDARD.encode(h));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&checkpoint);
        Ok(out)
    }

    /// Verifies the proof for the entry whose RFC 6962 leaf hash is `leaf_hash`:
    ///
    /// 1. the checkpoint verifies under `policy` at time `now` (log signature, origin, cosignatures
    ///    of configured witnesses, quorum: [`CheckpointPolicy::verify_note`]);
    /// 2. `index` < the checkpoint's size;
    /// 3. `verify_inclusion(index, size, leaf_hash, proof, root)` succeeds, with size and root taken
    ///    from the verified checkpoint only.
    ///
    /// `verify_inclusion` is RFC 9162 §2.1.3.2 inclusion verification, e.g.
    /// `|i, n, leaf, proof, root| merkle::verify_inclusion(i, n, leaf, proof, root)`.
    pub fn verify<F, E>(
        &self,
        leaf_hash: &[u8; 32],
        policy: &CheckpointPolicy,
        now: OffsetDateTime,
        verify_inclusion: F,
    ) -> Result<VerifiedReceipt, TlogProofError>
    where
        F: FnOnce(u64, u64, &[u8; 32], &[[u8; 32]], &[u8; 32]) -> Result<(), E>,
        E: std::fmt::Display,
    {
        let checkpoint = policy
            .verify_note(self.checkpoint.clone(), now)
            .map_err(TlogProofError::Checkpoint)?;
        let (size, root) = (checkpoint.checkpoint().size(), *checkpoint.checkpoint().root());
        if self.index >= size {
            return Err(TlogProofError::IndexOutOfRange {
                index: self.index,
                size,
            });
        }
        verify_inclusion(self.index, size, leaf_hash, &self.proof, &root)
            .map_err(|e| TlogProofError::Inclusion(e.to_string()))?;
        Ok(VerifiedReceipt {
            index: self.index,
            leaf_hash: *leaf_hash,
            extra: self.extra.clone(),
            checkpoint,
        })
    }
}

/// Parses and verifies a proof: [`TlogProof::parse`] then [`TlogProof::verify`].
pub fn verify_receipt<F, E>(
    receipt: &[u8],
    leaf_hash: &[u8; 32],
    policy: &CheckpointPolicy,
    now: OffsetDateTime,
    verify_inclusion: F,
) -> Result<VerifiedReceipt, TlogProofError>
where
    F: FnOnce(u64, u64, &[u8; 32], &[[u8; 32]], &[u8; 32]) -> Result<(), E>,
    E: std::fmt::Display,
{
    TlogProof::parse(receipt)?.verify(leaf_hash, policy, now, verify_inclusion)
}

/// A verified receipt: the leaf at `index` is included in the tree of the verified, cosigned
/// checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedReceipt {
    index: u64,
    leaf_hash: [u8; 32],
    extra: Vec<u8>,
    checkpoint: VerifiedCheckpoint,
}

impl VerifiedReceipt {
    /// The entry's index.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The leaf hash proven included.
    pub fn leaf_hash(&self) -> &[u8; 32] {
        &self.leaf_hash
    }

    /// The extra data, still unauthenticated (tlog-proof §"Format").
    pub fn extra(&self) -> &[u8] {
        &self.extra
    }

    /// The verified checkpoint, with who cosigned it and when.
    pub fn checkpoint(&self) -> &VerifiedCheckpoint {
        &self.checkpoint
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SecretKey;
    use crate::crypto::Sha256Digest;
    use crate::log::checkpoint::{Checkpoint, Cosigner, add_cosignature};
    use crate::log::note::Signer;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-07-01 12:00 UTC);
    const ORIGIN: &str = "example.com/log";

    // ---- A test-only RFC 6962 tree, so that proofs can be exercised end to end. The crate's
    // Merkle module (src/log/merkle.rs) is wired in separately. ----

    fn leaf(data: &[u8]) -> [u8; 32] {
        Sha256Digest::of_parts(&[&[0], data]).0
    }

    fn node(l: &[u8; 32], r: &[u8; 32]) -> [u8; 32] {
        Sha256Digest::of_parts(&[&[1], l, r]).0
    }

    fn split(n: usize) -> usize {
        let mut k = 1;
        while k << 1 < n {
            k <<= 1;
        }
        k
    }

    /// RFC 6962 §2.1 MTH.
    fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
        match leaves.len() {
            0 => Sha256Digest::of(b"").0,
            1 => leaves[0],
            n => {
                let k = split(n);
                node(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    /// RFC 6962 §2.1.1 PATH.
    fn path(m: usize, leaves: &[[u8; 32]]) -> Vec<[u8; 32]> {
        let n = leaves.len();
        if n <= 1 {
            return vec![];
        }
        let k = split(n);
        if m < k {
            let mut p = path(m, &leaves[..k]);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = path(m - k, &leaves[k..]);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    /// RFC 9162 §2.1.3.2.
    fn verify_inclusion(
        index: u64,
        size: u64,
        leaf: &[u8; 32],
        proof: &[[u8; 32]],
        root: &[u8; 32],
    ) -> Result<(), &'static str> {
        if index >= size {
            return Err("index out of range");
        }
        let (mut f, mut s, mut r) = (index, size - 1, *leaf);
        for p in proof {
            if s == 0 {
                return Err("proof too long");
            }
            if f & 1 == 1 || f == s {
                r = node(p, &r);
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            } else {
                r = node(&r, p);
            }
            f >>= 1;
            s >>= 1;
        }
        if s != 0 {
            return Err("proof too short");
        }
        if &r != root {
            return Err("root mismatch");
        }
        Ok(())
    }

    struct Fixture {
        leaves: Vec<[u8; 32]>,
        log: Signer,
        w1: Cosigner,
        w2: Cosigner,
    }

    fn fixture(n: usize) -> Fixture {
        Fixture {
            leaves: (0..n).map(|i| leaf(format!("entry {i}").as_bytes())).collect(),
            log: Signer::new(ORIGIN, SecretKey::from_seed(&[1; 32])).unwrap(),
            w1: Cosigner::new("w1.example", SecretKey::from_seed(&[2; 32])).unwrap(),
            w2: Cosigner::new("w2.example", SecretKey::from_seed(&[3; 32])).unwrap(),
        }
    }

    impl Fixture {
        fn checkpoint(&self, cosigners: &[&Cosigner]) -> Note {
            let cp = Checkpoint::new(ORIGIN, self.leaves.len() as u64, mth(&self.leaves)).unwrap();
            let mut note = cp.sign(&self.log).unwrap();
            for c in cosigners {
                add_cosignature(&mut note, c, NOW).unwrap();
            }
            note
        }

        fn receipt(&self, index: usize, cosigners: &[&Cosigner]) -> TlogProof {
            TlogProof {
                extra: Vec::new(),
                index: index as u64,
                proof: path(index, &self.leaves),
                checkpoint: self.checkpoint(cosigners),
            }
        }

        fn policy(&self, quorum: usize) -> CheckpointPolicy {
            CheckpointPolicy::new(
                ORIGIN,
                self.log.verifier_key(),
                vec![self.w1.verifier_key(), self.w2.verifier_key()],
                quorum,
            )
            .unwrap()
        }
    }

    fn b64(h: &[u8]) -> String {
        STANDARD.encode(h)
    }

    // ---- Golden vectors ----

    #[test]
    fn golden_transparency_dev_marshal_layout() {
        // transparency-dev/formats proof/tlog_proof_test.go (@1a07eea5) TestMarshal: the same proof
        // lines byte for byte. Their checkpoints are placeholders ("test checkpoint\n"), which are not
        // signed notes; ours carry a real signed checkpoint after the blank line.
        let f = fixture(3);
        let note = f.checkpoint(&[]);
        let cp_text = note.to_text().unwrap();
        let h1 = Sha256Digest::of(b"hash1").0;
        let h2 = Sha256Digest::of(b"hash2").0;
        let p = TlogProof {
            extra: vec![],
            index: 5,
            proof: vec![h1, h2],
            checkpoint: note.clone(),
        };
        let want = format!(
            "c2sp.org/tlog-proof@v1\nindex 5\n{}\n{}\n\n{cp_text}",
            b64(&h1),
            b64(&h2)
        );
        assert_eq!(p.to_text().unwrap(), want);
        assert_eq!(TlogProof::parse(want.as_bytes()).unwrap(), p);

        let p = TlogProof {
            extra: b"extra information".to_vec(),
            index: 10,
            proof: vec![h1],
            checkpoint: note.clone(),
        };
        let want = format!(
            "c2sp.org/tlog-proof@v1\nextra {}\nindex 10\n{}\n\n{cp_text}",
            b64(b"extra information"),
            b64(&h1)
        );
        assert_eq!(p.to_text().unwrap(), want);
        assert_eq!(TlogProof::parse(want.as_bytes()).unwrap(), p);

        let p = TlogProof {
            extra: vec![],
            index: 0,
            proof: vec![],
            checkpoint: note,
        };
        let want = format!("c2sp.org/tlog-proof@v1\nindex 0\n\n{cp_text}");
        assert_eq!(p.to_text().unwrap(), want);
        assert_eq!(TlogProof::parse(want.as_bytes()).unwrap(), p);
    }

    #[test]
    fn golden_c2sp_example_proof_lines() {
        // C2SP tlog-proof.md (C2SP/C2SP@0065ea5b), the example up to the checkpoint. Its signature
        // lines are elided ("hI2DJw[...]1roloI="), so a checkpoint with the same text, signed by a
        // test key, stands in for them.
        let head = "c2sp.org/tlog-proof@v1\n\
extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n\
index 73894\n\
gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n\
B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n\
EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n\
RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n\
AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n\n";
        let body = "example.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n";
        let signer = Signer::new("example.com/fancylog", SecretKey::from_seed(&[7; 32])).unwrap();
        let mut note = Note::new(body).unwrap();
        note.sign(&signer).unwrap();
        let text = format!("{head}{}", note.to_text().unwrap());
        let p = TlogProof::parse(text.as_bytes()).unwrap();
        assert_eq!(
            p.extra,
            b"age-v1.2.1-darwin-arm64.tar.gz\x91\x85\xc9\xdd\xa5\xb8\xb5\x85\xc9"
        );
        assert_eq!(p.index, 73894);
        assert_eq!(p.proof.len(), 5);
        assert_eq!(b64(&p.proof[0]), "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=");
        assert_eq!(p.checkpoint.text(), body);
        assert_eq!(p.to_text().unwrap(), text);
        // The spec's example checkpoint itself, with its elided signatures, is not a valid note.
        let elided = format!("{head}{body}\n— example.com/fancylog hI2DJw[...]1roloI=\n");
        assert!(matches!(
            TlogProof::parse(elided.as_bytes()),
            Err(TlogProofError::Note(_))
        ));
    }

    // ---- End to end ----

    #[test]
    fn every_leaf_of_several_trees_verifies() {
        for n in [1usize, 2, 3, 5, 8, 13] {
            let f = fixture(n);
            let policy = f.policy(2);
            for i in 0..n {
                let r = f.receipt(i, &[&f.w1, &f.w2]);
                let text = r.to_text().unwrap();
                assert_eq!(TlogProof::parse(text.as_bytes()).unwrap(), r);
                let v =
                    verify_receipt(text.as_bytes(), &f.leaves[i], &policy, NOW, verify_inclusion).unwrap();
                assert_eq!(v.index(), i as u64);
                assert_eq!(v.leaf_hash(), &f.leaves[i]);
                assert_eq!(v.checkpoint().checkpoint().size(), n as u64);
                assert_eq!(v.checkpoint().cosignatures().len(), 2);
                assert!(v.extra().is_empty());
            }
        }
    }

    #[test]
    fn wrong_leaf_or_tampered_proof_is_refused() {
        let f = fixture(6);
        let policy = f.policy(1);
        let r = f.receipt(2, &[&f.w1]);
        assert!(matches!(
            r.verify(&f.leaves[3], &policy, NOW, verify_inclusion),
            Err(TlogProofError::Inclusion(_))
        ));
        let mut bad = r.clone();
        bad.proof[1][0] ^= 1;
        assert!(matches!(
            bad.verify(&f.leaves[2], &policy, NOW, verify_inclusion),
            Err(TlogProofError::Inclusion(_))
        ));
        let mut short = r.clone();
        short.proof.pop();
        assert_eq!(
            short.verify(&f.leaves[2], &policy, NOW, verify_inclusion),
            Err(TlogProofError::Inclusion("proof too short".into()))
        );
        // A proof for another index.
        let mut moved = r;
        moved.index = 3;
        assert!(
            moved
                .verify(&f.leaves[2], &policy, NOW, verify_inclusion)
                .is_err()
        );
    }

    #[test]
    fn index_beyond_the_tree_is_refused_before_the_merkle_check() {
        let f = fixture(4);
        let mut r = f.receipt(3, &[&f.w1]);
        r.index = 4;
        let called = std::cell::Cell::new(false);
        let res = r.verify(&f.leaves[3], &f.policy(1), NOW, |_, _, _, _, _| {
            called.set(true);
            Ok::<(), &str>(())
        });
        assert_eq!(res, Err(TlogProofError::IndexOutOfRange { index: 4, size: 4 }));
        assert!(!called.get());
    }

    #[test]
    fn inclusion_verifier_gets_size_and_root_from_the_checkpoint() {
        let f = fixture(5);
        let r = f.receipt(1, &[&f.w1, &f.w2]);
        let want_root = mth(&f.leaves);
        r.verify(&f.leaves[1], &f.policy(2), NOW, |i, n, leaf, proof, root| {
            assert_eq!((i, n), (1, 5));
            assert_eq!(leaf, &f.leaves[1]);
            assert_eq!(proof, r.proof.as_slice());
            assert_eq!(root, &want_root);
            Ok::<(), &str>(())
        })
        .unwrap();
    }

    #[test]
    fn checkpoint_failures_surface() {
        let f = fixture(4);
        // Quorum of two, one cosignature.
        let r = f.receipt(0, &[&f.w1]);
        assert_eq!(
            r.verify(&f.leaves[0], &f.policy(2), NOW, verify_inclusion),
            Err(TlogProofError::Checkpoint(CheckpointError::QuorumNotMet {
                required: 2,
                got: 1
            }))
        );
        // Signed by an unknown log key only.
        let mut r = f.receipt(0, &[]);
        let stranger = Signer::new(ORIGIN, SecretKey::from_seed(&[9; 32])).unwrap();
        r.checkpoint = Checkpoint::parse_body(r.checkpoint.text())
            .unwrap()
            .sign(&stranger)
            .unwrap();
        assert!(matches!(
            r.verify(&f.leaves[0], &f.policy(0), NOW, verify_inclusion),
            Err(TlogProofError::Checkpoint(CheckpointError::NotSignedByLog(_)))
        ));
        // A cosignature lifted from another checkpoint.
        let other = fixture(5);
        let mut r = f.receipt(0, &[]);
        let lifted = other.checkpoint(&[&other.w1]).signatures()[1].clone();
        r.checkpoint.add_signature(lifted).unwrap();
        assert!(matches!(
            r.verify(&f.leaves[0], &f.policy(0), NOW, verify_inclusion),
            Err(TlogProofError::Checkpoint(
                CheckpointError::InvalidCosignature { .. }
            ))
        ));
    }

    #[test]
    fn malformed_proofs() {
        let f = fixture(4);
        let cp = f.checkpoint(&[]).to_text().unwrap();
        let h = b64(&[1u8; 32]);
        let cases: Vec<(String, TlogProofError)> = vec![
            (
                format!("wrong-header\nindex 0\n\n{cp}"),
                TlogProofError::WrongHeader,
            ),
            (
                format!("c2sp.org/tlog-proof@v2\nindex 0\n\n{cp}"),
                TlogProofError::WrongHeader,
            ),
            (
                format!("c2sp.org/tlog-proof@v1 \nindex 0\n\n{cp}"),
                TlogProofError::WrongHeader,
            ),
            (
                format!("c2sp.org/tlog-proof@v1\r\nindex 0\n\n{cp}"),
                TlogProofError::WrongHeader,
            ),
            ("c2sp.org/tlog-proof@v1".into(), TlogProofError::WrongHeader),
            ("".into(), TlogProofError::WrongHeader),
            ("c2sp.org/tlog-proof@v1\n".into(), TlogProofError::MissingIndex),
            (
                format!("c2sp.org/tlog-proof@v1\n\n\n{cp}"),
                TlogProofError::MissingIndex,
            ),
            (
                format!("c2sp.org/tlog-proof@v1\nextra !!notbase64!!\nindex 0\n\n{cp}"),
                TlogProofError::MalformedExtra,
            ),
            (
                format!("c2sp.org/tlog-proof@v1\nextra \nindex 0\n\n{cp}"),
                TlogProofError::MalformedExtra,
            ),
            (
                format!("c2sp.org/tlog-proof@v1\nextra YQ\nindex 0\n\n{cp}"),
                TlogProofError::MalformedExtra,
            ),
            (
                format!("c2sp.org/tlog-proof@v1\nextra YQ==\n\n{cp}"),
                TlogProofError::MissingIndex,
            ),
            (
                format!("c2sp.org/tlog-proof@v1\nindex 0\nextra YQ==\n\n{cp}"),
                TlogProofError::MalformedProofHash(1),
            ),
            (
                format!("c2sp.org/tlog-proof@v1\nextra YQ==\nextra YQ==\nindex 0\n\n{cp}"),
                TlogProofError::MissingIndex,
            ),
            (
                format!("c2sp.org/tlog-proof@v1\nindex notanumber\n\n{cp}"),
                TlogProofError::MalformedIndex("notanumber".into()),
            ),
            (
                format!("c2sp.org/tlog-proof@v1\nindex -5\n\n{cp}"),
                TlogProofError::MalformedIndex("-5".into()),
            ),
            (
                format!("c2sp.org/tlog-proof@v1\nindex 05\n\n{cp}"),
                TlogProofError::MalformedIndex("05".into()),
            ),
            (
                format!("c2sp.org/tlog-proof@v1\nindex \n\n{cp}"),
                TlogProofError::MalformedIndex(String::new()),
            ),
            (
                format!("c2sp.org/tlog-proof@v1\nindex  1\n\n{cp}"),
                TlogProofError::MalformedIndex(" 1".into()),
            ),
            (
                format!("c2sp.org/tlog-proof@v1\nindex 18446744073709551616\n\n{cp}"),
                TlogProofError::MalformedIndex("18446744073709551616".into()),
            ),
            (
                format!("c2sp.org/tlog-proof@v1\nindex 1\r\n\n{cp}"),
                TlogProofError::MalformedIndex("1\r".into()),
            ),
            (
                format!("c2sp.org/tlog-proof@v1\nindex: 1\n\n{cp}"),
                TlogProofError::MissingIndex,
            ),
            (
                format!("c2sp.org/tlog-proof@v1\nindex 0\n!!notbase64!!\n\n{cp}"),
                TlogProofError::MalformedProofHash(1),
            ),
            (
                format!(
                    "c2sp.org/tlog-proof@v1\nindex 0\n{h}\n{}\n\n{cp}",
                    b64(&[0u8; 64])
                ),
                TlogProofError::MalformedProofHash(2),
            ),
            (
                format!("c2sp.org/tlog-proof@v1\nindex 0\n{}\n\n{cp}", b64(&[0u8; 31])),
                TlogProofError::MalformedProofHash(1),
            ),
            (
                format!(
                    "c2sp.org/tlog-proof@v1\nindex 0\n{}\n\n{cp}",
                    h.trim_end_matches('=')
                ),
                TlogProofError::MalformedProofHash(1),
            ),
            (
                format!("c2sp.org/tlog-proof@v1\nindex 0\n{h} \n\n{cp}"),
                TlogProofError::MalformedProofHash(1),
            ),
            (
                format!("c2sp.org/tlog-proof@v1\nindex 0\n{h}\n{cp}"),
                TlogProofError::MalformedProofHash(2),
            ),
            (
                "c2sp.org/tlog-proof@v1\nindex 0\n".into(),
                TlogProofError::MissingBlankLine,
            ),
            (
                format!("c2sp.org/tlog-proof@v1\nindex 0\n{h}"),
                TlogProofError::MissingBlankLine,
            ),
            (
                format!(
                    "c2sp.org/tlog-proof@v1\nindex 0\n{}\n{cp}",
                    format!("{h}\n").repeat(65)
                ),
                TlogProofError::TooManyProofHashes,
            ),
            (
                "c2sp.org/tlog-proof@v1\nindex 0\n\n".into(),
                TlogProofError::Note(NoteError::MissingBlankLine),
            ),
            (
                "c2sp.org/tlog-proof@v1\nindex 0\n\ncheckpoint\n".into(),
                TlogProofError::Note(NoteError::MissingBlankLine),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(TlogProof::parse(text.as_bytes()), Err(want), "{text:?}");
        }
        assert_eq!(TlogProof::parse(b"\xffc2sp"), Err(TlogProofError::NotUtf8));
        // A second blank line shifts the checkpoint text by one empty line: that still parses as a note
        // (a text may start with an empty line) but its log signature no longer verifies.
        let shifted = format!("c2sp.org/tlog-proof@v1\nindex 0\n\n\n{cp}");
        let p = TlogProof::parse(shifted.as_bytes()).unwrap();
        assert!(p.checkpoint.text().starts_with('\n'));
        assert!(matches!(
            p.verify(&f.leaves[0], &f.policy(0), NOW, verify_inclusion),
            Err(TlogProofError::Checkpoint(CheckpointError::Note(
                NoteError::InvalidSignature { .. }
            )))
        ));
        // 64 hashes are accepted.
        let ok = format!(
            "c2sp.org/tlog-proof@v1\nindex 0\n{}\n{cp}",
            format!("{h}\n").repeat(64)
        );
        assert_eq!(TlogProof::parse(ok.as_bytes()).unwrap().proof.len(), 64);
    }

    #[test]
    fn to_text_refuses_what_would_not_parse_back() {
        let f = fixture(2);
        let mut r = f.receipt(0, &[]);
        r.proof = vec![[0; 32]; 65];
        assert_eq!(r.to_text(), Err(TlogProofError::TooManyProofHashes));
        let unsigned = TlogProof {
            extra: vec![],
            index: 0,
            proof: vec![],
            checkpoint: Note::new(f.checkpoint(&[]).text()).unwrap(),
        };
        assert_eq!(unsigned.to_text(), Err(TlogProofError::Note(NoteError::Unsigned)));
    }

    #[test]
    fn extra_round_trips_and_stays_unauthenticated() {
        let f = fixture(3);
        let mut r = f.receipt(2, &[&f.w1]);
        r.extra = b"request 42".to_vec();
        let text = r.to_text().unwrap();
        let v = verify_receipt(text.as_bytes(), &f.leaves[2], &f.policy(1), NOW, verify_inclusion).unwrap();
        assert_eq!(v.extra(), b"request 42");
        // Changing the extra data does not invalidate the receipt: it is not covered by anything.
        r.extra = b"request 43".to_vec();
        let text = r.to_text().unwrap();
        assert!(verify_receipt(text.as_bytes(), &f.leaves[2], &f.policy(1), NOW, verify_inclusion).is_ok());
    }
}
