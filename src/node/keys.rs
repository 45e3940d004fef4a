//! The log's key history at the node (spec/access-log.md §5.5): the genesis record, the keys each
//! process signs checkpoints with (followed every checkpoint round, so a rotation made by `consentry
//! admin rotate-key` reaches running processes within seconds), and the rotation itself.
//!
//! Key files in the data folder (for a platform, `platform.` instead of `node.`):
//!
//! | file | what |
//! |---|---|
//! | `node.key.json` | the current key |
//! | `node.key.<key ID>.json` | a previous key, kept to sign during a planned overlap |
//! | `node.next.key.json` | the pre-committed next key: the operator moves it offline |
//! | `node.subject-tag.key` | the subject-tag key (§3.3), fixed at the genesis so a rotation keeps it |

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use super::Node;
use super::answers::log::{KeyRecordAnswer, LogKeysAnswer};
use crate::credential::datetime::format_utc_seconds;
use crate::crypto::ed25519::{PublicKey, SecretKey};
use crate::error::{Error, Result};
use crate::identity::KeyFile;
use crate::log::keys::{KeyHistory, KeyRecord, KeyRecordKind, next_key_digest, record_digest};
use crate::log::note::{Note, Signer, VerifierKey};
use crate::storage::{DbConn, checkpoints, from_millis, log_keys, log_store};

fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(e.to_string())
}

/// The file names of one service's keys (`node` or `platform`).
#[derive(Debug, Clone)]
pub struct KeyFiles {
    dir: PathBuf,
    stem: &'static str,
}

impl KeyFiles {
    /// The key files of the log `origin` (a platform's log ends in `platform-log`) in `dir`.
    pub fn of(dir: &Path, origin: &str) -> Self {
        let stem = if origin.ends_with("/platform-log") {
            "platform"
        } else {
            "node"
        };
        Self {
            dir: dir.to_path_buf(),
            stem,
        }
    }

    /// The current key: `node.key.json`.
    pub fn current(&self) -> PathBuf {
        self.dir.join(format!("{}.key.json", self.stem))
    }

    /// The pre-committed next key: `node.next.key.json`.
    pub fn next(&self) -> PathBuf {
        self.dir.join(format!("{}.next.key.json", self.stem))
    }

    /// A previous key kept for an overlap: `node.key.<key ID>.json`.
    pub fn retired(&self, key: &VerifierKey) -> PathBuf {
        self.dir.join(format!("{}.key.{}.json", self.stem, key.key_id()))
    }

    /// The subject-tag key file: `node.subject-tag.key` (a node and a platform may share a folder).
    pub fn tag_key(&self) -> PathBuf {
        self.dir.join(format!("{}.subject-tag.key", self.stem))
    }
}

/// The subject-tag key (spec/access-log.md §3.3): from `node.subject-tag.key` in the data folder once the
/// genesis wrote it, else derived from `key` (as before the key history) — refused once the key has
/// been rotated (`rotated`), since the key in the folder is then not the one it derives from.
pub fn tag_key(dir: &Path, origin: &str, key: &KeyFile, rotated: bool) -> Result<[u8; 32]> {
    let path = KeyFiles::of(dir, origin).tag_key();
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let mut out = [0u8; 32];
            hex::decode_to_slice(text.trim(), &mut out)
                .map_err(|_| Error::Internal(format!("{}: not 32 bytes of hex", path.display())))?;
            Ok(out)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && rotated => Err(Error::NotFound(format!(
            "{} is missing, and the log's key was rotated since the subject-tag key was derived: \
             copy the file from the node's other data folder or its backup (spec/access-log.md §5.5.4)",
            path.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(super::identity::tag_key(key)),
        Err(e) => Err(Error::Internal(format!("{}: {e}", path.display()))),
    }
}

/// What a process signs with: the verified history and the secrets it holds for its keys.
#[derive(Debug, Default)]
pub struct Ring {
    count: i64,
    history: Option<KeyHistory>,
    secrets: Vec<SecretKey>,
    /// The DIDs of [`KeyHistory::keys_never_cut`].
    dids: Vec<String>,
}

impl Ring {
    /// Whether `did` is the DID of a key of the history that no emergency cut: a client that read
    /// `GET /v1/node` before a planned rotation still addresses the node by it (§5.5.4).
    pub fn speaks_for_log(&self, did: &str) -> bool {
        self.dids.iter().any(|d| d == did)
    }

    /// How many key records it was built from.
    pub fn count(&self) -> i64 {
        self.count
    }

    /// The verified history (`None` before the genesis).
    pub fn history(&self) -> Option<&KeyHistory> {
        self.history.as_ref()
    }

    /// The signers for a checkpoint of `size`: every key valid at `size` whose secret this process
    /// holds; before the genesis, `fallback` (the node's key). Empty if it holds none of them.
    pub fn signers_at(&self, origin: &str, size: u64, fallback: &SecretKey) -> Result<Vec<Signer>> {
        let Some(h) = &self.history else {
            return Ok(vec![Signer::new(origin, fallback.clone()).map_err(internal)?]);
        };
        let mut out = Vec::new();
        for key in h.keys_at(size) {
            let secret = self
                .secrets
                .iter()
                .chain(std::iter::once(fallback))
                .find(|s| &s.public_key() == key.public_key());
            if let Some(s) = secret {
                out.push(Signer::new(origin, s.clone()).map_err(internal)?);
            }
        }
        Ok(out)
    }
}

/// A process's [`Ring`], refreshed from the database when the history grew.
#[derive(Debug, Default)]
pub struct LogKeys {
    ring: RwLock<Arc<Ring>>,
}

impl LogKeys {
    /// The ring as last loaded.
    pub fn ring(&self) -> Arc<Ring> {
        self.ring
            .read()
            .map(|r| Arc::clone(&r))
            .unwrap_or_else(|p| Arc::clone(&p.into_inner()))
    }

    fn set(&self, ring: Arc<Ring>) {
        if let Ok(mut r) = self.ring.write() {
            *r = ring;
        }
    }
}

/// The vkey of `key` for the log `origin`.
pub fn vkey(origin: &str, key: &PublicKey) -> Result<VerifierKey> {
    VerifierKey::ed25519(origin, *key).map_err(internal)
}

/// Writes the genesis record, once the origin is fixed, into a history found empty (§5.5.1): the
/// node's key, committing to a next key loaded from or created in `node.next.key.json`; also fixes
/// the subject-tag key in `node.subject-tag.key`. Several processes may race: the first record
/// stored wins.
fn ensure_genesis(c: &mut DbConn, node: &Node) -> Result<()> {
    if !super::identity::origin_fixed(c)? {
        return Ok(());
    }
    // The checkpoint round and a first request may both get here at start: one of them makes the
    // next key's file and the record, the other then finds the record (without the lock, the
    // second found the file half made and failed the request).
    static GENESIS: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = GENESIS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if log_keys::count(c)? > 0 {
        return Ok(());
    }
    let files = KeyFiles::of(&node.data_dir, &node.origin);
    if !files.tag_key().exists() {
        write_secret(&files.tag_key(), hex::encode(node.tag_key).as_bytes())?;
    }
    let next = load_or_create(&files.next())?;
    let record = KeyRecord {
        origin: node.origin.clone(),
        seq: 0,
        kind: KeyRecordKind::Genesis,
        key: vkey(&node.origin, &node.key.secret.public_key())?,
        from: 0,
        prev: None,
        next: next_key_digest(&next.secret.public_key()),
        time: now_secs(node),
    };
    let signer = Signer::new(&node.origin, node.key.secret.clone()).map_err(internal)?;
    let note = record.sign(&[&signer]).map_err(internal)?;
    if log_keys::append(c, 0, &note, node.now_ms(), None)? {
        tracing::warn!(
            file = %files.next().display(),
            "key history started: move the pre-committed next key file offline (it is needed only \
             for the next key rotation, spec/access-log.md §5.5)"
        );
    }
    Ok(())
}

fn now_secs(node: &Node) -> u64 {
    u64::try_from(node.clock.now().unix_timestamp()).unwrap_or(0)
}

fn load_or_create(path: &Path) -> Result<KeyFile> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::Internal(format!("{}: not a file name", path.display())))?;
    KeyFile::load_or_create(dir, name)
        .map(|(k, _)| k)
        .map_err(internal)
}

/// Writes `bytes` to `path` (mode 0600) through a temporary file renamed over it.
fn write_secret(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    let io = |e: std::io::Error| Error::Internal(format!("{}: {e}", path.display()));
    let mut tmp = tempfile::Builder::new()
        .prefix(".key.")
        .tempfile_in(dir)
        .map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io)?;
    }
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    Ok(())
}

/// [`refresh`] when the database holds a key history; nothing when it holds none (the genesis is
/// written by the first checkpoint round, [`refresh`], never by this). A history that does not
/// verify is logged, not returned: the process still opens (an operator's `backup` or `audit` must
/// work on exactly such a database), its audience is its current DID only, and every checkpoint
/// round fails on the history, loudly, as before.
pub fn load(c: &mut DbConn, node: &Node) -> Result<()> {
    if log_keys::count(c)? > 0 {
        if let Err(e) = refresh(c, node) {
            tracing::error!(error = %e, "the log's key history does not verify; checkpoints will not be signed");
        }
    }
    Ok(())
}

/// Loads the history if it grew since the ring was built (writing the genesis first if there is
/// none), verifies it from its own genesis key, and loads the secrets of its keys found in the data
/// folder. Cheap when nothing changed: one `count`.
pub fn refresh(c: &mut DbConn, node: &Node) -> Result<Arc<Ring>> {
    let mut count = log_keys::count(c)?;
    if count == 0 {
        ensure_genesis(c, node)?;
        count = log_keys::count(c)?;
    }
    let ring = node.log_keys.ring();
    if count == ring.count && (count == 0 || ring.history.is_some()) {
        return Ok(ring);
    }
    let notes = log_keys::all(c)?;
    let history = verified_history(&node.origin, &notes)?;
    let files = KeyFiles::of(&node.data_dir, &node.origin);
    let mut secrets = vec![node.key.secret.clone()];
    if let Ok(k) = KeyFile::read(&files.current()) {
        secrets.push(k.secret);
    }
    if let Some(h) = &history {
        for r in h.ranges() {
            if let Ok(k) = KeyFile::read(&files.retired(&r.key)) {
                secrets.push(k.secret);
            }
        }
    }
    let dids = history
        .as_ref()
        .map(|h| {
            h.keys_never_cut()
                .map(|k| {
                    crate::identity::DidKey::from_public_key(k.public_key())
                        .as_str()
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default();
    let ring = Arc::new(Ring {
        count,
        history,
        secrets,
        dids,
    });
    node.log_keys.set(Arc::clone(&ring));
    Ok(ring)
}

/// The history in `notes`, verified from its own genesis key (`None` if empty).
pub fn verified_history(origin: &str, notes: &[String]) -> Result<Option<KeyHistory>> {
    let Some(first) = notes.first() else {
        return Ok(None);
    };
    let note = Note::parse(first.as_bytes()).map_err(internal)?;
    let genesis = KeyRecord::parse_body(note.text(), 0).map_err(internal)?;
    KeyHistory::verify(origin, &genesis.key, notes)
        .map(Some)
        .map_err(|e| {
            Error::Storage(crate::storage::StorageError::Corrupt(format!(
                "the key history: {e}"
            )))
        })
}

/// `GET /v1/log/keys`: the key history (§5.5), and each key's range.
pub fn answer(c: &mut DbConn, node: &Node) -> Result<LogKeysAnswer> {
    let ring = refresh(c, node)?;
    let rows = log_keys::rows(c)?;
    let history = ring.history();
    let records = rows
        .into_iter()
        .zip(history.map(|h| h.records().to_vec()).unwrap_or_default())
        .map(|((seq, note, at), (r, _))| KeyRecordAnswer {
            seq,
            kind: r.kind.as_str(),
            key: r.key.to_vkey(),
            from: r.from,
            note,
            created_at: format_utc_seconds(from_millis(at)),
        })
        .collect();
    let current = match history {
        Some(h) => h.current().to_vkey(),
        None => vkey(&node.origin, &node.key.secret.public_key())?.to_vkey(),
    };
    Ok(LogKeysAnswer {
        origin: node.origin.clone(),
        current,
        keys: history
            .map(|h| {
                h.ranges()
                    .iter()
                    .map(|r| super::answers::log::KeyRangeAnswer {
                        key: r.key.to_vkey(),
                        did: crate::identity::DidKey::from_public_key(r.key.public_key())
                            .as_str()
                            .to_owned(),
                        from: r.from,
                        until: r.until,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        records,
    })
}

/// What `consentry admin rotate-key` asks for.
#[derive(Debug, Clone)]
pub enum Rotation {
    /// Begin a planned overlap with the pre-committed key in this file.
    Planned {
        /// The next key's file.
        next_key: PathBuf,
    },
    /// End the open overlap.
    Complete,
    /// Replace every key by the pre-committed one, distrusting the old ones from `from`.
    Emergency {
        /// The next key's file.
        next_key: PathBuf,
        /// The first size the old keys are no longer trusted at.
        from: u64,
    },
}

/// What a rotation did.
#[derive(Debug, Clone)]
pub struct Rotated {
    /// The record's kind.
    pub kind: KeyRecordKind,
    /// Its position.
    pub seq: u64,
    /// Its size.
    pub from: u64,
    /// The key the node now signs credentials with.
    pub current: VerifierKey,
    /// Stored checkpoints that gained the new key's signature.
    pub resigned: usize,
    /// The new pre-committed next key's file, if one was written.
    pub next_file: Option<PathBuf>,
}

/// Rotates the node's log key (§5.5.4): writes the record, moves the key files, points the
/// database at the new DID and re-signs the stored checkpoints of size ≥ `from` with the new key.
/// Refuses a next key that is not the pre-committed one, a `complete` without an overlap, a
/// `planned` during one, an emergency `from` outside [latest record's `from`, log size].
pub fn rotate(node: &Node, rotation: &Rotation) -> Result<Rotated> {
    let mut c = node.store.conn()?;
    let ring = refresh(&mut c, node)?;
    let history = ring
        .history()
        .ok_or_else(|| {
            Error::Conflict(
                "the log's origin is not fixed yet: start the node once (`consentry serve`) first".into(),
            )
        })?
        .clone();
    let files = KeyFiles::of(&node.data_dir, &node.origin);
    // In an emergency the current key may be lost: the process's own key stands in.
    let current_file = match KeyFile::read(&files.current()) {
        Ok(k) => Some(k),
        Err(_) if matches!(rotation, Rotation::Emergency { .. }) => Some(node.key.clone()),
        Err(e) => return Err(internal(e)),
    };
    rotate_in(&mut c, &history, &files, current_file, node.now_ms(), rotation)
}

/// An emergency rollover of a node whose key file is lost (`consentry admin rotate-key
/// --emergency` in a data folder without `node.key.json`): the database alone, no node opened —
/// opening one needs its key. The history must verify from its genesis and the next key must be
/// the pre-committed one, as for [`rotate`].
pub fn rotate_lost(
    store: &crate::storage::Store,
    dir: &Path,
    now_ms: i64,
    rotation: &Rotation,
) -> Result<Rotated> {
    if !matches!(rotation, Rotation::Emergency { .. }) {
        return Err(Error::NotFound(
            "the node's key file is missing: only an emergency rollover (--emergency) can replace a lost key"
                .into(),
        ));
    }
    let mut c = store.conn()?;
    let origin = super::identity::setting(&mut c, super::identity::LOG_ORIGIN)?
        .ok_or_else(|| Error::Conflict("the log's origin is not fixed: this node never served".into()))?;
    let notes = log_keys::all(&mut c)?;
    let history = verified_history(&origin, &notes)?
        .ok_or_else(|| Error::Conflict("the log has no key history: there is no pre-committed key".into()))?;
    rotate_in(
        &mut c,
        &history,
        &KeyFiles::of(dir, &origin),
        None,
        now_ms,
        rotation,
    )
}

/// The rotation proper, on the verified `history`: `current_file` is the current key (needed for
/// a planned rollover and its completion; `None` when it is lost).
fn rotate_in(
    c: &mut DbConn,
    history: &KeyHistory,
    files: &KeyFiles,
    current_file: Option<KeyFile>,
    now_ms: i64,
    rotation: &Rotation,
) -> Result<Rotated> {
    let origin = history.origin().to_owned();
    let latest = history
        .latest()
        .ok_or_else(|| Error::Internal("empty key history".into()))?
        .clone();
    let emergency = matches!(rotation, Rotation::Emergency { .. });
    let current = match &current_file {
        Some(k) => Some(vkey(&origin, &k.secret.public_key())?),
        None => None,
    };
    if !emergency && current.as_ref() != Some(history.current()) {
        return Err(Error::Conflict(format!(
            "{} does not hold the history's current key {}",
            files.current().display(),
            history.current()
        )));
    }
    let (head, _) = log_store::head(c)?;
    let seq = history.records().len() as u64;
    let prev = history
        .records()
        .last()
        .map(|(_, text)| Note::parse(text.as_bytes()).map(|n| record_digest(n.text())))
        .transpose()
        .map_err(internal)?;
    let mut record = KeyRecord {
        origin: origin.clone(),
        seq,
        kind: KeyRecordKind::Complete,
        key: history.current().clone(),
        from: head,
        prev,
        next: latest.next,
        time: u64::try_from(now_ms / 1000).unwrap_or(0),
    };
    let mut new_key: Option<KeyFile> = None;
    let mut new_next: Option<KeyFile> = None;
    let note = match rotation {
        Rotation::Complete => {
            if !history.overlap_open() {
                return Err(Error::Conflict(
                    "no planned rollover is in progress: nothing to complete".into(),
                ));
            }
            let k = current_file
                .as_ref()
                .ok_or_else(|| Error::Internal("no current key".into()))?;
            let s = Signer::new(&origin, k.secret.clone()).map_err(internal)?;
            record.sign(&[&s]).map_err(internal)?
        }
        Rotation::Planned { next_key } | Rotation::Emergency { next_key, .. } => {
            let next = KeyFile::read(next_key).map_err(internal)?;
            if next_key_digest(&next.secret.public_key()) != latest.next {
                return Err(Error::Conflict(format!(
                    "{} is not the key the history committed to (record {}): give the \
                         pre-committed next key file",
                    next_key.display(),
                    latest.seq
                )));
            }
            let next_next = KeyFile::new(SecretKey::generate().map_err(internal)?);
            record.key = vkey(&origin, &next.secret.public_key())?;
            record.next = next_key_digest(&next_next.secret.public_key());
            let new_signer = Signer::new(&origin, next.secret.clone()).map_err(internal)?;
            let note = if let Rotation::Emergency { from, .. } = rotation {
                if *from < latest.from || *from > head {
                    return Err(Error::Conflict(format!(
                        "--from must lie between {} (the latest record's) and the log size {head}",
                        latest.from
                    )));
                }
                record.kind = KeyRecordKind::Emergency;
                record.from = *from;
                record.sign(&[&new_signer]).map_err(internal)?
            } else {
                if history.overlap_open() {
                    return Err(Error::Conflict(
                        "a planned rollover is in progress: complete it first (`rotate-key --complete`)"
                            .into(),
                    ));
                }
                record.kind = KeyRecordKind::Planned;
                let (Some(k), Some(current)) = (&current_file, &current) else {
                    return Err(Error::Internal("no current key".into()));
                };
                let old = Signer::new(&origin, k.secret.clone()).map_err(internal)?;
                // Keep the old key to sign during the overlap.
                if !files.retired(current).exists() {
                    k.write_new(&files.retired(current)).map_err(internal)?;
                }
                record.sign(&[&old, &new_signer]).map_err(internal)?
            };
            new_key = Some(next);
            new_next = Some(next_next);
            note
        }
    };
    // Check the record against the history before storing it.
    let mut check = history.clone();
    check.append(&note).map_err(internal)?;
    let did = new_key.as_ref().map(|k| k.did.as_str().to_owned());
    let seq_i = i64::try_from(seq).map_err(internal)?;
    if !log_keys::append(c, seq_i, &note, now_ms, did.as_deref())? {
        return Err(Error::Conflict(
            "another rotation was recorded meanwhile: run the command again".into(),
        ));
    }
    let mut next_file = None;
    if let (Some(k), Some(n)) = (&new_key, &new_next) {
        write_secret(&files.current(), k.to_pretty_json().as_bytes())?;
        write_secret(&files.next(), n.to_pretty_json().as_bytes())?;
        next_file = Some(files.next());
    }
    // The new key signs every stored checkpoint it is valid for that lacks its signature.
    let resigned = match new_key {
        Some(k) if record.kind != KeyRecordKind::Complete => {
            resign_from(c, record.from, &Signer::new(&origin, k.secret).map_err(internal)?)?
        }
        _ => 0,
    };
    Ok(Rotated {
        kind: record.kind,
        seq,
        from: record.from,
        current: check.current().clone(),
        resigned,
        next_file,
    })
}

/// Adds `signer`'s signature to every stored checkpoint of size ≥ `from` that lacks it, with a
/// compare-and-set per note (a cosignature stored meanwhile is kept). Returns how many changed.
fn resign_from(c: &mut DbConn, from: u64, signer: &Signer) -> Result<usize> {
    let mut changed = 0;
    let mut after = i64::try_from(from).map_err(internal)?.saturating_sub(1);
    loop {
        let page = checkpoints::after(c, after, 500)?;
        let Some(last) = page.last() else {
            return Ok(changed);
        };
        after = last.size;
        for row in page {
            for _ in 0..8 {
                let Some(current) = checkpoints::note(c, row.size)? else {
                    break;
                };
                let Some(text) = add_missing(&current, std::slice::from_ref(signer))? else {
                    break;
                };
                if checkpoints::replace_note(c, row.size, &current, &text)? {
                    changed += 1;
                    break;
                }
            }
        }
    }
}

/// Adds to the note `text` of a checkpoint a signature by each of `signers` it lacks; `None` if it
/// has them all.
pub fn add_missing(text: &str, signers: &[Signer]) -> Result<Option<String>> {
    let mut note = Note::parse(text.as_bytes()).map_err(internal)?;
    let mut added = false;
    for s in signers {
        if !note
            .signatures()
            .iter()
            .any(|x| x.name() == s.name() && x.key_id() == s.key_id())
        {
            note.sign(s).map_err(internal)?;
            added = true;
        }
    }
    if added {
        Ok(Some(note.to_text().map_err(internal)?))
    } else {
        Ok(None)
    }
}
