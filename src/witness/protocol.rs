//! The wire format of C2SP tlog-witness `add-checkpoint` (<https://c2sp.org/tlog-witness>), shared by
//! the witness ([`super::server`]) and the node's client ([`super::client`]). Pure: no I/O.
//!
//! Request body:
//!
//! ```text
//! old <size>\n                 decimal, no leading zeroes (`0` itself allowed)
//! <base64 hash>\n              0 to 63 consistency-proof lines (RFC 6962 §2.1.2)
//! \n                           one empty line
//! <signed checkpoint note>     text, blank line, signature lines
//! ```
//!
//! Responses: `200` with one or more cosignature lines (`— <name> <base64>\n`); `409` with
//! `<size>\n` and `Content-Type: text/x.tlog.size`; the other statuses carry a human-readable
//! `text/plain` reason.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::log::checkpoint::parse_decimal_u64;
use crate::log::merkle::Hash;
use crate::log::note::{NoteError, Signature};

/// Path of the call, under the witness's submission prefix.
pub const ADD_CHECKPOINT_PATH: &str = "/add-checkpoint";

/// Where a log sends its key history (spec/witness.md §3; not part of tlog-witness): `POST` the
/// JSON of `GET /v1/log/keys`.
pub const LOG_KEYS_PATH: &str = "/log-keys";

/// Content type of a `409 Conflict` body: the witness's latest cosigned size and a newline.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// The most consistency-proof lines a request may carry ("The client MUST NOT send more than 63").
pub const MAX_PROOF_LINES: usize = 63;

/// Largest request body the witness reads: 63 proof lines and a checkpoint note with up to 100
/// signature lines fit many times over.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// A parsed `add-checkpoint` request body. The checkpoint note is kept as bytes: it is parsed and
/// verified by the witness against the keys it trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the checkpoint the client believes the witness last cosigned.
    pub old: u64,
    /// The consistency proof from `old` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note.
    pub checkpoint: Vec<u8>,
}

/// Why a request body is malformed (answered `400 Bad Request`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedRequest {
    /// The body is not UTF-8.
    #[error("the request is not UTF-8")]
    NotUtf8,
    /// The first line is not `old <decimal>`.
    #[error("the first line must be `old <size>` (decimal, no leading zeroes)")]
    OldLine,
    /// A proof line is not the canonical base64 of 32 bytes.
    #[error("consistency proof line {0} is not the base64 of a 32-byte hash")]
    ProofLine(usize),
    /// More than [`MAX_PROOF_LINES`] proof lines.
    #[error("more than {MAX_PROOF_LINES} consistency proof lines")]
    TooManyProofLines,
    /// No empty line before the checkpoint.
    #[error("no empty line between the consistency proof and the checkpoint")]
    MissingBlankLine,
}

impl AddCheckpoint {
    /// Parses a request body (tlog-witness §"add-checkpoint"): every line ends in `\n`; the old-size
    /// line; up to [`MAX_PROOF_LINES`] base64 hashes; an empty line; the rest is the checkpoint.
    pub fn parse(body: &[u8]) -> Result<Self, MalformedRequest> {
        let text = std::str::from_utf8(body).map_err(|_| MalformedRequest::NotUtf8)?;
        let (first, mut rest) = text.split_once('\n').ok_or(MalformedRequest::OldLine)?;
        let old = first
            .strip_prefix("old ")
            .and_then(parse_decimal_u64)
            .ok_or(MalformedRequest::OldLine)?;
        let mut proof = Vec::new();
        loop {
            let (line, after) = rest.split_once('\n').ok_or(MalformedRequest::MissingBlankLine)?;
            rest = after;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(MalformedRequest::TooManyProofLines);
            }
            let n = proof.len() + 1;
            let raw = STANDARD
                .decode(line)
                .map_err(|_| MalformedRequest::ProofLine(n))?;
            proof.push(<Hash>::try_from(raw.as_slice()).map_err(|_| MalformedRequest::ProofLine(n))?);
        }
        Ok(Self {
            old,
            proof,
            checkpoint: rest.as_bytes().to_vec(),
        })
    }

    /// The request body.
    pub fn to_body(&self) -> Vec<u8> {
        let mut out = format!("old {}\n", self.old).into_bytes();
        for h in &self.proof {
            out.extend_from_slice(STANDARD.encode(h).as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
        out.extend_from_slice(&self.checkpoint);
        out
    }
}

/// Reads a `409 Conflict` body: `<size>\n`.
pub fn parse_size_body(body: &str) -> Option<u64> {
    body.strip_suffix('\n').and_then(parse_decimal_u64)
}

/// Reads a `200` body: one or more signature lines, each ending in `\n`.
pub fn parse_cosignature_lines(body: &str) -> Result<Vec<Signature>, NoteError> {
    let lines = body.strip_suffix('\n').ok_or(NoteError::NoSignatureLines)?;
    lines.split('\n').map(Signature::parse_line).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let req = AddCheckpoint {
            old: 3,
            proof: vec![[1; 32], [2; 32]],
            checkpoint: b"o\n4\nAAAA\n\n\xe2\x80\x94 o AAAA\n".to_vec(),
        };
        assert_eq!(AddCheckpoint::parse(&req.to_body()).unwrap(), req);
        let empty = AddCheckpoint {
            old: 0,
            proof: vec![],
            checkpoint: b"x".to_vec(),
        };
        assert!(empty.to_body().starts_with(b"old 0\n\nx"));
        assert_eq!(AddCheckpoint::parse(&empty.to_body()).unwrap(), empty);
    }

    #[test]
    fn malformed() {
        for (body, err) in [
            (&b"old 01\n\nx"[..], MalformedRequest::OldLine),
            (b"old -1\n\nx", MalformedRequest::OldLine),
            (b"old  1\n\nx", MalformedRequest::OldLine),
            (b"new 1\n\nx", MalformedRequest::OldLine),
            (b"old 1", MalformedRequest::OldLine),
            (b"old 1\nAAAA\n\nx", MalformedRequest::ProofLine(1)),
            (b"old 1\nnot base64\n\nx", MalformedRequest::ProofLine(1)),
            (b"old 1\n", MalformedRequest::MissingBlankLine),
            (b"old 1\r\n\nx", MalformedRequest::OldLine),
            (b"\xff", MalformedRequest::NotUtf8),
        ] {
            assert_eq!(AddCheckpoint::parse(body), Err(err), "{body:?}");
        }
        let mut body = String::from("old 1\n");
        for _ in 0..64 {
            body.push_str(&STANDARD.encode([0u8; 32]));
            body.push('\n');
        }
        body.push_str("\nx");
        assert_eq!(
            AddCheckpoint::parse(body.as_bytes()),
            Err(MalformedRequest::TooManyProofLines)
        );
    }

    #[test]
    fn size_body() {
        assert_eq!(parse_size_body("12\n"), Some(12));
        assert_eq!(parse_size_body("12"), None);
        assert_eq!(parse_size_body("012\n"), None);
    }
}
