//! Signed checkpoints of the access log (C2SP tlog-checkpoint), made at a fixed cadence and on
//! demand, each kept forever. The node never signs a checkpoint inconsistent with an earlier one:
//! every checkpoint is the head of the one append-only tree in the database.

use diesel::prelude::*;

use super::Node;
use crate::error::{Error, Result};
use crate::log::checkpoint::Checkpoint;
use crate::log::note::Signer;
use crate::storage::log_store;
use crate::storage::schema::checkpoints;

/// The note signer of this node's log: key name = the log origin.
pub fn signer(node: &Node) -> Result<Signer> {
    Signer::new(&node.origin, node.key.secret.clone()).map_err(|e| Error::Internal(e.to_string()))
}

/// Signs and stores a checkpoint of the current head if the log grew since the last one. Returns the
/// note text of the newest checkpoint (new or not), or `None` for an empty log.
pub async fn publish(node: &Node) -> Result<Option<String>> {
    let signer = signer(node)?;
    let origin = node.origin.clone();
    let now = node.now_ms();
    node.store
        .call(move |c| -> Result<Option<String>> {
            let (size, root) = log_store::head(c)?;
            let last: Option<(i64, String)> = checkpoints::table
                .order(checkpoints::size.desc())
                .select((checkpoints::size, checkpoints::note))
                .first(c)
                .optional()?;
            let size_i = i64::try_from(size).map_err(|_| Error::Internal("log size".into()))?;
            if let Some((s, note)) = &last {
                if *s >= size_i {
                    return Ok(Some(note.clone()));
                }
            }
            if size == 0 {
                return Ok(None);
            }
            let cp = Checkpoint::new(&origin, size, root).map_err(|e| Error::Internal(e.to_string()))?;
            let note = cp.sign(&signer).map_err(|e| Error::Internal(e.to_string()))?;
            let text = note.to_text().map_err(|e| Error::Internal(e.to_string()))?;
            // Several processes may race to sign the same size: the first stored wins, all are equal.
            crate::on_backend!(c, |c| diesel::insert_into(checkpoints::table)
                .values((
                    checkpoints::size.eq(size_i),
                    checkpoints::note.eq(&text),
                    checkpoints::created_at.eq(now)
                ))
                .on_conflict_do_nothing()
                .execute(c))?;
            Ok(Some(text))
        })
        .await
}
