//! The witness's durable state: for each log origin, the latest checkpoint it cosigned (O(1) per log),
//! one small JSON file per origin under `<data dir>/logs/`, named by the hex SHA-256 of the origin.
//!
//! Every write is write-to-temporary, `fsync`, `rename` over the old file, `fsync` of the folder, so a
//! crash leaves either the old or the new record, never a torn one, and an answer is only sent once
//! the new record is on disk. A record that cannot be read stops the witness from starting: starting
//! afresh from size 0 would let the log roll back the history the witness vouched for.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::crypto::Sha256Digest;
use crate::error::{Error, Result};
use crate::log::merkle::Hash;

/// Format version of the record files.
const VERSION: u32 = 1;

/// The latest cosigned checkpoint of one log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosigned {
    /// Its tree size.
    pub size: u64,
    /// Its root hash.
    pub root: Hash,
    /// The checkpoint note as submitted, with this witness's cosignature (evidence, and what a
    /// monitor can ask for).
    pub note: String,
    /// When it was cosigned (POSIX seconds).
    pub cosigned_at: u64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RecordFile {
    version: u32,
    origin: String,
    size: u64,
    root: String,
    note: String,
    cosigned_at: u64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct KeysFile {
    version: u32,
    origin: String,
    records: Vec<String>,
}

/// The witness's identity settings, `<data dir>/witness.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Identity {
    /// The witness's name (the key name of its cosignatures, part of its vkey).
    pub name: String,
}

/// The state folder.
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("{}: {e}", path.display()))
}

impl StateDir {
    /// The state under `data_dir` (created if missing).
    pub fn open(data_dir: &Path) -> Result<Self> {
        let logs = data_dir.join("logs");
        std::fs::create_dir_all(&logs).map_err(|e| io_err(&logs, e))?;
        Ok(Self {
            root: data_dir.to_path_buf(),
        })
    }

    /// The file holding `origin`'s record.
    pub fn record_path(&self, origin: &str) -> PathBuf {
        self.root.join("logs").join(format!(
            "{}.json",
            hex::encode(Sha256Digest::of(origin.as_bytes()).0)
        ))
    }

    /// The latest cosigned checkpoint of `origin`, `None` if the witness never cosigned one.
    pub fn load(&self, origin: &str) -> Result<Option<Cosigned>> {
        let path = self.record_path(origin);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&path, e)),
        };
        let f: RecordFile = serde_json::from_str(&text).map_err(|e| io_err(&path, e))?;
        if f.version != VERSION {
            return Err(io_err(&path, format!("unknown record version {}", f.version)));
        }
        if f.origin != origin {
            return Err(io_err(
                &path,
                format!("holds origin {:?}, not {origin:?}", f.origin),
            ));
        }
        let root = STANDARD
            .decode(&f.root)
            .ok()
            .and_then(|r| Hash::try_from(r.as_slice()).ok())
            .ok_or_else(|| io_err(&path, "root is not the base64 of 32 bytes"))?;
        Ok(Some(Cosigned {
            size: f.size,
            root,
            note: f.note,
            cosigned_at: f.cosigned_at,
        }))
    }

    /// Durably replaces `origin`'s record.
    pub fn store(&self, origin: &str, c: &Cosigned) -> Result<()> {
        let path = self.record_path(origin);
        let f = RecordFile {
            version: VERSION,
            origin: origin.to_owned(),
            size: c.size,
            root: STANDARD.encode(c.root),
            note: c.note.clone(),
            cosigned_at: c.cosigned_at,
        };
        let mut text = serde_json::to_string_pretty(&f).map_err(|e| io_err(&path, e))?;
        text.push('\n');
        write_atomic(&path, text.as_bytes())
    }

    /// The file holding `origin`'s key history (spec/access-log.md §5.5), next to its record.
    pub fn keys_path(&self, origin: &str) -> PathBuf {
        self.root.join("logs").join(format!(
            "{}.keys.json",
            hex::encode(Sha256Digest::of(origin.as_bytes()).0)
        ))
    }

    /// The key records of `origin` the witness accepted (empty if none).
    pub fn load_keys(&self, origin: &str) -> Result<Vec<String>> {
        let path = self.keys_path(origin);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&path, e)),
        };
        let f: KeysFile = serde_json::from_str(&text).map_err(|e| io_err(&path, e))?;
        if f.version != VERSION || f.origin != origin {
            return Err(io_err(&path, "not a key history file of this origin"));
        }
        Ok(f.records)
    }

    /// Durably replaces `origin`'s key history.
    pub fn store_keys(&self, origin: &str, records: &[String]) -> Result<()> {
        let path = self.keys_path(origin);
        let f = KeysFile {
            version: VERSION,
            origin: origin.to_owned(),
            records: records.to_vec(),
        };
        let mut text = serde_json::to_string_pretty(&f).map_err(|e| io_err(&path, e))?;
        text.push('\n');
        write_atomic(&path, text.as_bytes())
    }

    /// The identity file, if present.
    pub fn identity(&self) -> Result<Option<Identity>> {
        let path = self.root.join("witness.json");
        match std::fs::read_to_string(&path) {
            Ok(t) => serde_json::from_str(&t).map(Some).map_err(|e| io_err(&path, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&path, e)),
        }
    }

    /// Durably writes the identity file.
    pub fn set_identity(&self, id: &Identity) -> Result<()> {
        let path = self.root.join("witness.json");
        let mut text = serde_json::to_string_pretty(id).map_err(|e| io_err(&path, e))?;
        text.push('\n');
        write_atomic(&path, text.as_bytes())
    }
}

/// Writes `bytes` to `path` atomically and durably: a temporary file in the same folder, `fsync`,
/// `rename`, `fsync` of the folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().ok_or_else(|| io_err(path, "no parent folder"))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| io_err(dir, e))?;
    tmp.write_all(bytes).map_err(|e| io_err(tmp.path(), e))?;
    tmp.as_file().sync_all().map_err(|e| io_err(tmp.path(), e))?;
    tmp.persist(path).map_err(|e| io_err(path, e.error))?;
    sync_dir(dir)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err(dir, e))
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_are_per_origin() {
        let dir = tempfile::tempdir().unwrap();
        let s = StateDir::open(dir.path()).unwrap();
        assert_eq!(s.load("a").unwrap(), None);
        let c = Cosigned {
            size: 7,
            root: [9; 32],
            note: "a\n7\nx\n\n— a y\n".into(),
            cosigned_at: 1,
        };
        s.store("a", &c).unwrap();
        s.store("a", &c).unwrap();
        assert_eq!(s.load("a").unwrap(), Some(c.clone()));
        assert_eq!(s.load("b").unwrap(), None);
        // A record copied under another origin's name is refused, not trusted.
        std::fs::copy(s.record_path("a"), s.record_path("b")).unwrap();
        assert!(s.load("b").is_err());
        // A torn or edited record stops the witness rather than resetting it to size 0.
        std::fs::write(s.record_path("a"), "{").unwrap();
        assert!(s.load("a").is_err());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("logs"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 2, "{leftovers:?}");
    }
}
