//! The stored side of portal sessions (spec/security.md §3.2) for [`crate::portal::session`], which
//! owns the sign-in protocol, the cookie and the checks: who holds a key, opening a session in the
//! same transaction that spends the sign-in nonce, reading, touching and ending a session. Only the
//! SHA-256 of a session's token is ever stored or looked up.

use super::Node;
use crate::error::Result;
use crate::storage::participants::{self, Participant, ParticipantKey};
use crate::storage::sessions;

pub use crate::storage::sessions::SessionRow;

/// The participant whose registered key is `did`, with that key (current or replaced), or `None`
/// if no participant ever registered it.
pub async fn key_holder(node: &Node, did: String) -> Result<Option<(Participant, ParticipantKey)>> {
    Ok(node
        .store
        .call(move |conn| participants::find_by_did(conn, &did))
        .await?)
}

/// Opens the session `row` in one group commit that first spends the single-use id `jti` of
/// `issuer` (valid until `expires_ms`): either both are recorded or neither, and a `jti` spent
/// before (by any process sharing the database) refuses the session.
pub async fn open(node: &Node, row: SessionRow, jti: String, issuer: String, expires_ms: i64) -> Result<()> {
    node.committer
        .run(move |tx| {
            tx.consume_jti(&jti, &issuer, expires_ms)?;
            sessions::insert(tx.conn, &row)?;
            Ok(())
        })
        .await
}

/// The session whose token hashes to `token_sha256` (whatever its state), with the participant
/// holding the key that opened it and that key (`None` if no participant holds it any more), or
/// `None` if there is no such session.
pub async fn find(
    node: &Node,
    token_sha256: String,
) -> Result<Option<(SessionRow, Option<(Participant, ParticipantKey)>)>> {
    node.store
        .call(move |c| -> Result<_> {
            let Some(row) = sessions::get(c, &token_sha256)? else {
                return Ok(None);
            };
            let key = participants::find_by_did(c, &row.did)?;
            Ok(Some((row, key)))
        })
        .await
}

/// Records a use of the session at `now` (ms), restarting its idle timer.
pub async fn touch(node: &Node, token_sha256: String, now: i64) -> Result<()> {
    Ok(node
        .store
        .call(move |c| sessions::touch(c, &token_sha256, now))
        .await?)
}

/// Ends the session at `now` (ms): it is never open again.
pub async fn end(node: &Node, token_sha256: String, now: i64) -> Result<()> {
    Ok(node
        .store
        .call(move |c| sessions::end(c, &token_sha256, now))
        .await?)
}
