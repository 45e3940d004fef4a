//! Signed checkpoints of the access log (C2SP tlog-checkpoint), made at a fixed cadence and on
//! demand, each kept forever. The node never signs a checkpoint inconsistent with an earlier one:
//! every checkpoint is the head of the one append-only tree in the database.
//!
//! With witnesses configured ([`crate::witness::client`]), every round also asks each witness whose
//! cosignature the newest checkpoint lacks to cosign it (C2SP tlog-witness `add-checkpoint`, with the
//! consistency proof from the size that witness last cosigned), and adds the verified cosignature
//! lines to the stored note. The checkpoint is stored before any witness is asked: a witness that is
//! down or refuses never holds up a checkpoint; it is asked again in a later round.
//!
//! A process never signs a head smaller than a checkpoint it has already published: if the
//! database comes back shorter (a failover to an asynchronous replica that lacked the tail, a
//! restored backup) the round fails, loudly, and readiness goes stale; the log committer halts on
//! the same finding ([`crate::storage::log_store`]).

use super::Node;
use crate::error::{Error, Result};
use crate::log::checkpoint::Checkpoint;
use crate::log::merkle;
use crate::log::note::{Note, Signature, Signer};
use crate::storage::{DbConn, Store, checkpoints, log_store};
use crate::witness::client::{CollectError, WitnessClient};

/// The note signer of this process's key (the key it started with): key name = the log origin.
/// Checkpoints are signed by the keys of the history valid at their size ([`super::keys`]).
pub fn signer(node: &Node) -> Result<Signer> {
    Signer::new(&node.origin, node.key.secret.clone()).map_err(|e| Error::Internal(e.to_string()))
}

/// Signs and stores a checkpoint of the current head if the log grew since the last one, then
/// collects the witnesses' cosignatures on the newest checkpoint. Returns the note text of the newest
/// checkpoint (new or not, with the cosignatures it has), or `None` for an empty log.
pub async fn publish(node: &Node) -> Result<Option<String>> {
    let newest = sign_newest(node).await?;
    node.health.checkpointed();
    let Some((size, text)) = newest else {
        return Ok(None);
    };
    node.health.published(size);
    if let Err(e) = remember(&node.data_dir, &published_file(&node.origin), size, &text) {
        // The checkpoint is served and goes to the witnesses all the same; only the guard against
        // a later rollback lags (the next checkpoint tries again).
        tracing::error!(error = %e, "the published checkpoint was not recorded in the data folder");
    }
    if node.witnesses.is_empty() {
        return Ok(Some(text));
    }
    let text = collect_cosignatures(node, size, text).await;
    for w in node.witnesses.iter() {
        let cosigned = w.key().is_some_and(|k| {
            crate::log::note::open(text.as_bytes(), std::slice::from_ref(&k))
                .is_ok_and(|v| v.is_verified_by(&k))
        });
        node.metrics.witness_seen(w.url(), size, cosigned);
    }
    Ok(Some(text))
}

async fn sign_newest(node: &Node) -> Result<Option<(u64, String)>> {
    // The key history may have grown (`consentry admin rotate-key`): follow it (one `count`).
    let ring = {
        let mut c = node.store.conn()?;
        super::keys::refresh(&mut c, node)?
    };
    let fallback = node.key.secret.clone();
    let origin = node.origin.clone();
    let now = node.now_ms();
    let published = node.health.published_size();
    node.store
        .call(move |c| -> Result<Option<(u64, String)>> {
            let (size, root) = log_store::head(c)?;
            if size < published {
                // The database lost entries this process already vouched for (an asynchronous
                // failover, a restored backup): signing its head would fork the log.
                return Err(Error::Storage(crate::storage::StorageError::Corrupt(format!(
                    "the access log in the database has {size} entries, but this process already \
                     published a checkpoint of {published}: refusing to sign"
                ))));
            }
            let last = checkpoints::latest(c)?;
            let size_i = i64::try_from(size).map_err(|_| Error::Internal("log size".into()))?;
            if let Some((s, note)) = last {
                if s >= size_i {
                    let s_u =
                        u64::try_from(s).map_err(|_| Error::Internal("stored checkpoint size".into()))?;
                    // The newest checkpoint carries a signature by every key valid at its size
                    // that this process holds (a key rotated in since it was signed, §5.5.2).
                    let signers = ring.signers_at(&origin, s_u, &fallback)?;
                    if let Some(text) = super::keys::add_missing(&note, &signers)? {
                        if checkpoints::replace_note(c, s, &note, &text)? {
                            return Ok(Some((s_u, text)));
                        }
                    }
                    return Ok(Some((s_u, note)));
                }
            }
            if size == 0 {
                return Ok(None);
            }
            let signers = ring.signers_at(&origin, size, &fallback)?;
            if signers.is_empty() {
                return Err(Error::Internal(format!(
                    "no key valid at size {size} in the key history is in this process's data \
                     folder: copy the current key file (spec/access-log.md §5.5.4)"
                )));
            }
            let cp = Checkpoint::new(&origin, size, root).map_err(|e| Error::Internal(e.to_string()))?;
            let mut note = Note::new(cp.body()).map_err(|e| Error::Internal(e.to_string()))?;
            for s in &signers {
                note.sign(s).map_err(|e| Error::Internal(e.to_string()))?;
            }
            let text = note.to_text().map_err(|e| Error::Internal(e.to_string()))?;
            // Several processes may race to sign the same size: the first stored wins, all are equal.
            // A key record stored since the keys were chosen (a rotation) voids this signing: the
            // next round signs with the new keys (SQLite serializes this with the record's write).
            let stored = crate::storage::Store::write_txn(c, |c| -> Result<bool> {
                if crate::storage::log_keys::count(c)? != ring.count() {
                    return Ok(false);
                }
                checkpoints::insert_if_absent(c, size_i, &text, now)?;
                Ok(true)
            })?;
            if !stored {
                return last_stored(c);
            }
            Ok(Some((size, text)))
        })
        .await
}

/// The newest stored checkpoint as `(size, note)`.
fn last_stored(c: &mut DbConn) -> Result<Option<(u64, String)>> {
    Ok(checkpoints::latest(c)?.and_then(|(s, n)| u64::try_from(s).ok().map(|s| (s, n))))
}

/// Asks every witness (in parallel) for its cosignature on the checkpoint of `size` whose stored note
/// is `text`, stores the note with the new cosignatures, and returns it. Failures are logged, never
/// returned: the checkpoint stands without them.
async fn collect_cosignatures(node: &Node, size: u64, text: String) -> String {
    let note = match Note::parse(text.as_bytes()) {
        Ok(n) => n,
        Err(e) => {
            tracing::error!(size, error = %e, "stored checkpoint note does not parse");
            return text;
        }
    };
    // The key history, for a witness that does not follow the current key yet (spec/witness.md §3).
    let history = key_history_body(node).map(std::sync::Arc::new);
    let tasks: Vec<_> = node
        .witnesses
        .iter()
        .map(|w| {
            let (w, store, agent, note, history) = (
                std::sync::Arc::clone(w),
                node.store.clone(),
                node.witnesses.agent().clone(),
                note.clone(),
                history.clone(),
            );
            actix_web::rt::task::spawn_blocking(move || {
                let result = w.collect_with_keys(
                    &agent,
                    size,
                    &note,
                    history.as_deref().map(Vec::as_slice),
                    |old| proof(&store, old, size),
                );
                (w, result)
            })
        })
        .collect();
    let mut collected: Vec<Signature> = Vec::new();
    for task in tasks {
        match task.await {
            Ok((_, Ok(sigs))) => collected.extend(sigs),
            Ok((w, Err(e))) => report(&w, &e),
            Err(e) => tracing::warn!(error = %e, "witness task failed"),
        }
    }
    if collected.is_empty() {
        return text;
    }
    let n = collected.len();
    match node
        .store
        .call(move |c| add_signatures(c, size, &collected))
        .await
    {
        Ok(Some(t)) => {
            tracing::info!(size, cosignatures = n, "checkpoint cosigned");
            t
        }
        Ok(None) => text,
        Err(e) => {
            tracing::warn!(size, error = %e, "cosignatures not stored; will ask again");
            text
        }
    }
}

/// The JSON of `GET /v1/log/keys` when the key history has more than its genesis (a witness
/// configured with the first key follows the others only through it); `None` otherwise.
fn key_history_body(node: &Node) -> Option<Vec<u8>> {
    let ring = node.log_keys.ring();
    if ring.history().is_none_or(|h| h.records().len() < 2) {
        return None;
    }
    let mut c = node.store.conn().ok()?;
    let answer = super::keys::answer(&mut c, node).ok()?;
    serde_json::to_vec(&answer).ok()
}

fn report(w: &WitnessClient, e: &CollectError) {
    match e {
        CollectError::Refused { status: 422, .. } => tracing::error!(
            witness = w.url(),
            error = %e,
            "a witness holds a checkpoint this log is not consistent with: investigate (split view?)"
        ),
        _ => tracing::warn!(witness = w.url(), error = %e, "no cosignature this time; will try again"),
    }
}

/// The consistency proof from `old` to `size` in this log's tree.
fn proof(store: &Store, old: u64, size: u64) -> std::result::Result<Vec<merkle::Hash>, String> {
    let mut conn = store.conn().map_err(|e| e.to_string())?;
    log_store::prefetched(&mut conn, |src| merkle::consistency_proof(old, size, src))
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

/// Adds `sigs` to the stored note of checkpoint `size` (keeping a signature already there by the same
/// key), with a compare-and-set on the note so that cosignatures stored concurrently by another
/// process are merged, never lost. Returns the stored note, `None` if there is no such checkpoint.
fn add_signatures(c: &mut DbConn, size: u64, sigs: &[Signature]) -> Result<Option<String>> {
    let size_i = i64::try_from(size).map_err(|_| Error::Internal("checkpoint size".into()))?;
    for _ in 0..8 {
        let current = checkpoints::note(c, size_i)?;
        let Some(current) = current else {
            return Ok(None);
        };
        let mut note = Note::parse(current.as_bytes()).map_err(|e| Error::Internal(e.to_string()))?;
        for s in sigs {
            let present = note
                .signatures()
                .iter()
                .any(|o| o.name() == s.name() && o.key_id() == s.key_id());
            if !present {
                note.add_signature(s.clone())
                    .map_err(|e| Error::Internal(e.to_string()))?;
            }
        }
        let text = note.to_text().map_err(|e| Error::Internal(e.to_string()))?;
        if text == current {
            return Ok(Some(text));
        }
        if checkpoints::replace_note(c, size_i, &current, &text)? {
            return Ok(Some(text));
        }
    }
    Err(Error::Internal(format!("checkpoint {size}: note keeps changing")))
}

/// The file in a node's data folder that holds the newest checkpoint the node published (the signed
/// note, as first signed), kept outside the database on purpose: a database restored from an older
/// backup, or a failover that lost committed entries, no longer reaches that checkpoint, and the node
/// refuses to start on it ([`check_not_rolled_back`]) rather than sign a second, different history
/// for sizes it already vouched for — the fork witnesses and auditors would catch (spec/access-log.md
/// §8). Removing the file is the operator's explicit acceptance of a rollback.
pub const PUBLISHED_FILE: &str = "published-checkpoint";

/// The record's file name for the log of `origin`: [`PUBLISHED_FILE`] for the node's access log,
/// `published-checkpoint.<log name>` for another (a platform's `platform-log`), so that a node and a
/// platform sharing a data folder keep one record each.
pub fn published_file(origin: &str) -> String {
    match origin.rsplit('/').next() {
        Some("access-log") | None => PUBLISHED_FILE.to_owned(),
        Some(log) => format!("{PUBLISHED_FILE}.{log}"),
    }
}

/// The checkpoint recorded in `dir`'s file `name` (see [`published_file`]), if any: its parsed body
/// and its note text.
pub fn remembered(dir: &std::path::Path, name: &str) -> Result<Option<(Checkpoint, String)>> {
    let path = dir.join(name);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::Internal(format!("{}: {e}", path.display()))),
    };
    let note = Note::parse(text.as_bytes())
        .map_err(|e| Error::Internal(format!("{}: not a signed note: {e}", path.display())))?;
    let cp = Checkpoint::parse_body(note.text())
        .map_err(|e| Error::Internal(format!("{}: not a checkpoint: {e}", path.display())))?;
    Ok(Some((cp, text)))
}

/// Records `text`, a signed checkpoint of `size`, as published in `dir`, unless the file already
/// holds a checkpoint at least as large (several processes may share the folder): written to a
/// temporary file, synced, then renamed over the old one, so a crash leaves the old or the new file,
/// never a torn one.
fn remember(dir: &std::path::Path, name: &str, size: u64, text: &str) -> Result<()> {
    if let Some((cp, _)) = remembered(dir, name)? {
        if cp.size() >= size {
            return Ok(());
        }
    }
    let io = |e: std::io::Error| Error::Internal(format!("{}: {e}", dir.join(name).display()));
    // A temporary file of its own (random name): processes sharing the folder, even with equal
    // process ids in separate containers, never write into one another's.
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    {
        use std::io::Write as _;
        tmp.write_all(text.as_bytes()).map_err(io)?;
        tmp.as_file().sync_all().map_err(io)?;
    }
    tmp.persist(dir.join(name)).map_err(|e| io(e.error))?;
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    Ok(())
}

/// Checks that the database's log extends the checkpoint recorded in the data folder: it holds at
/// least that many entries, and its first entries hash to that checkpoint's root. Returns the
/// recorded size (`None` without a record); a shorter log, a different root or another origin is
/// [`crate::storage::StorageError::Corrupt`], naming what differs.
pub fn check_not_rolled_back(node: &Node) -> Result<Option<u64>> {
    let name = published_file(&node.origin);
    let Some((cp, _)) = remembered(&node.data_dir, &name)? else {
        return Ok(None);
    };
    let refuse = |why: String| {
        Err(Error::Storage(crate::storage::StorageError::Corrupt(format!(
            "{why}; this node already published a checkpoint of {} entries ({}): the database was \
             rolled back (an older backup restored, or a failover that lost entries). Restore a newer \
             backup; remove the file only to accept the rollback, and tell the witnesses and regulators",
            cp.size(),
            node.data_dir.join(&name).display()
        ))))
    };
    if cp.origin() != node.origin {
        return refuse(format!(
            "the recorded checkpoint is of log {}, not {}",
            cp.origin(),
            node.origin
        ));
    }
    let size = cp.size();
    let mut conn = node.store.conn()?;
    let (have, _) = log_store::head(&mut conn)?;
    let root = if have < size {
        None
    } else {
        Some(super::audit::root_at(&mut conn, size)?)
    };
    drop(conn);
    match root {
        None => refuse("the access log in the database is shorter than the last published checkpoint".into()),
        Some(r) if &r != cp.root() => refuse(format!(
            "the access log in the database has another root at size {size} (a different history)"
        )),
        Some(_) => Ok(Some(size)),
    }
}
