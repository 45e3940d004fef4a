//! What the sequencer knows between group commits: the state a release's commit re-checks (the
//! caller's admission, the grant's state, its use in the period, whether a record was corrected),
//! held in memory and derived from the log, so that a release job is an append and not a round of
//! statements (issue #15; spec/access-log.md §4.3).
//!
//! **Why it is exact.** Every write to what is held here happens inside a committer transaction that
//! also appends to the log: a grant's state changes with its status entry, a participant's with its
//! registry entry, a record's correction with its `corrected` entry, a grant's use with its release
//! entry. So:
//!
//! * if the log's size under the lock is the size this process's last commit left, no other process
//!   has changed anything since: what is held is current (across processes, a changed size clears
//!   it — [`SeqCache::begin`]);
//! * a job of this process that may change state ([`JobKind::General`]) clears it when it has run,
//!   and everything after it in the batch reads the database again, inside the same transaction;
//! * a failed batch clears it (its writes were rolled back, and what was learned under them with
//!   them);
//! * uses counted by the batch's jobs are kept apart ([`SeqCache::count_use`]) and written with one
//!   additive upsert per grant and period when the batch ends, before the log state moves
//!   ([`SeqCache::write_uses`]); they enter the held counts only once the batch committed.
//!
//! Nothing absent is held: an unknown grant or participant is read again each time.

use std::collections::HashMap;

use diesel::prelude::*;

use super::schema::grant_usage;
use super::{DbConn, StorageResult};
use crate::grant::GrantState;
use crate::policy::ParticipantState;

/// What a committer job may do, which decides how it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Any job: runs in its own savepoint (a failure rolls back its writes only) and may change
    /// state the sequencer holds, so the held state is cleared once it has run.
    General,
    /// A job that changes no held state and writes only through [`super::log_store::Tx`]'s own
    /// methods (appends, single-use tokens, counted uses) — a release or a refusal. With `savepoint:
    /// false` it runs without a savepoint: what it wrote before failing is its spent token only
    /// (spending one writes nothing else), its appends and uses are discarded with it; a database
    /// error in it fails the whole batch (the transaction may be gone), acknowledging no job.
    Sequenced {
        /// The job also writes rows of its own through the connection (an evaluation, a webhook):
        /// it needs its savepoint.
        savepoint: bool,
    },
}

/// How many states and counts are held at most: past it, everything is dropped and read again (a
/// node with millions of grants and only releases for days would otherwise hold them all).
const MAX_HELD: usize = 200_000;

/// The sequencer's memory: see the module documentation.
#[derive(Debug, Default)]
pub struct SeqCache {
    /// The log size the held state is current at (after this process's last commit); `None`:
    /// nothing held is trusted.
    valid_at: Option<u64>,
    /// The size since which nothing but sequenced jobs of this process changed the log: no
    /// correction was committed at or after it.
    clean_since: Option<u64>,
    participants: HashMap<i64, ParticipantState>,
    grants: HashMap<String, GrantState>,
    /// Committed uses, by grant and period.
    uses: HashMap<(String, String), u64>,
    /// Uses counted by the batch's committed jobs, not yet written.
    batch_uses: HashMap<(String, String), u64>,
    /// Uses counted by the running job.
    job_uses: HashMap<(String, String), u64>,
}

impl SeqCache {
    /// A batch starts under the log lock at `size`: keep what is held only if no other process
    /// appended since this process's last commit.
    pub fn begin(&mut self, size: u64) {
        if self.valid_at != Some(size) || self.held() > MAX_HELD {
            self.clear_state();
            self.clean_since = Some(size);
        }
        self.batch_uses.clear();
        self.job_uses.clear();
    }

    fn held(&self) -> usize {
        self.participants.len() + self.grants.len() + self.uses.len()
    }

    /// Forgets the held state (a general job ran, or a batch failed).
    pub fn clear_state(&mut self) {
        self.participants.clear();
        self.grants.clear();
        self.uses.clear();
        self.valid_at = None;
    }

    /// A general job ran in the batch at log size `size` (after it): forget, and no correction is
    /// known absent before `size`.
    pub fn after_general(&mut self, size: u64) {
        self.clear_state();
        self.clean_since = Some(size);
    }

    /// The running job succeeded: its uses join the batch's.
    pub fn job_done(&mut self) {
        for (k, n) in self.job_uses.drain() {
            *self.batch_uses.entry(k).or_default() += n;
        }
    }

    /// The running job failed: its uses are forgotten.
    pub fn job_failed(&mut self) {
        self.job_uses.clear();
    }

    /// The batch committed, leaving the log at `size`: its uses are now held counts, and the held
    /// state is current at `size`.
    pub fn committed(&mut self, size: u64) {
        for (k, n) in self.batch_uses.drain() {
            if let Some(held) = self.uses.get_mut(&k) {
                *held += n;
            }
        }
        self.valid_at = Some(size);
    }

    /// The batch failed: nothing learned under it is trusted.
    pub fn failed(&mut self) {
        self.clear_state();
        self.clean_since = None;
        self.batch_uses.clear();
        self.job_uses.clear();
    }

    /// A participant's state: held, or read (and then held).
    pub fn participant_state(
        &mut self,
        conn: &mut DbConn,
        id: i64,
    ) -> StorageResult<Option<ParticipantState>> {
        if let Some(s) = self.participants.get(&id) {
            return Ok(Some(*s));
        }
        let s = super::participants::get(conn, id)?.map(|p| p.state);
        if let Some(s) = s {
            self.participants.insert(id, s);
        }
        Ok(s)
    }

    /// A grant's state: held, or read (and then held).
    pub fn grant_state(&mut self, conn: &mut DbConn, id: &str) -> StorageResult<Option<GrantState>> {
        if let Some(s) = self.grants.get(id) {
            return Ok(Some(*s));
        }
        let s = super::grants::state(conn, id)?;
        if let Some(s) = s {
            self.grants.insert(id.to_owned(), s);
        }
        Ok(s)
    }

    /// Releases counted for a grant in a period: committed (held, or read), plus the batch's and
    /// the running job's.
    pub fn usage(&mut self, conn: &mut DbConn, grant: &str, period: &str) -> StorageResult<u64> {
        let key = (grant.to_owned(), period.to_owned());
        let held = match self.uses.get(&key) {
            Some(n) => *n,
            None => {
                let n = super::grants::usage(conn, grant, period)?;
                self.uses.insert(key.clone(), n);
                n
            }
        };
        Ok(held
            + self.batch_uses.get(&key).copied().unwrap_or(0)
            + self.job_uses.get(&key).copied().unwrap_or(0))
    }

    /// Counts one release for a grant in a period (written when the batch ends).
    pub fn count_use(&mut self, grant: &str, period: &str) {
        *self
            .job_uses
            .entry((grant.to_owned(), period.to_owned()))
            .or_default() += 1;
    }

    /// Whether a correction may have been committed at or after log size `from`: `false` only when
    /// the held state proves none was (nothing but sequenced jobs of this process since `from`).
    pub fn maybe_corrected_since(&self, from: u64) -> bool {
        self.clean_since.is_none_or(|clean| from < clean)
    }

    /// Writes the batch's counted uses, inside the batch's transaction, when it ends: one additive
    /// upsert per 256 (grant, period) pairs. They join the held counts when the batch has committed
    /// ([`SeqCache::committed`]).
    pub fn write_uses(&self, conn: &mut DbConn) -> StorageResult<()> {
        flush_uses(conn, &self.batch_uses)
    }

    /// Before a general job, which may read the counts from the database: writes the batch's uses so
    /// far, and forgets them and the held counts (read again, with them).
    pub fn settle_uses(&mut self, conn: &mut DbConn) -> StorageResult<()> {
        if self.batch_uses.is_empty() {
            return Ok(());
        }
        flush_uses(conn, &self.batch_uses)?;
        self.batch_uses.clear();
        self.uses.clear();
        Ok(())
    }
}

fn flush_uses(conn: &mut DbConn, uses: &HashMap<(String, String), u64>) -> StorageResult<()> {
    if uses.is_empty() {
        return Ok(());
    }
    let mut rows: Vec<(&str, &str, i64)> = uses
        .iter()
        .map(|((g, p), n)| (g.as_str(), p.as_str(), i64::try_from(*n).unwrap_or(i64::MAX)))
        .collect();
    // A stable order: two processes upserting the same rows never wait on each other crosswise.
    rows.sort_unstable();
    for chunk in rows.chunks(256) {
        let values: Vec<_> = chunk
            .iter()
            .map(|(g, p, n)| {
                (
                    grant_usage::grant_id.eq(*g),
                    grant_usage::period.eq(*p),
                    grant_usage::used.eq(*n),
                )
            })
            .collect();
        crate::on_backend!(&mut *conn, |c| diesel::insert_into(grant_usage::table)
            .values(&values)
            .on_conflict((grant_usage::grant_id, grant_usage::period))
            .do_update()
            .set(grant_usage::used.eq(grant_usage::used + diesel::upsert::excluded(grant_usage::used)))
            .execute(c))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The held state against the real committer on SQLite: a change made through a general job of
    //! this process, or through another process's committer, is seen by the next release job; uses
    //! are counted exactly, a failed job's not at all.
    use std::sync::Arc;

    use super::*;
    use crate::error::Error;
    use crate::log::entry::{AccessRecord, EntryKind};
    use crate::policy::Role;
    use crate::storage::Store;
    use crate::storage::log_store::{Committer, NewEntry};
    use crate::storage::participants::{self, NewParticipant};

    fn entry() -> NewEntry {
        NewEntry {
            kind: EntryKind::Participant,
            enterprise: None,
            grant: None,
            caller: None,
            platform: None,
            bank: None,
            categories: None,
            decision: None,
            record: AccessRecord::default(),
        }
    }

    fn committer(store: &Store) -> Committer {
        Committer::start(store, [7; 32], Arc::new(crate::clock::SystemClock), 64).unwrap()
    }

    async fn set(c: &Committer, id: i64, state: ParticipantState) {
        c.run(move |tx| -> Result<(), Error> {
            participants::set_state(tx.conn, id, state, tx.now())?;
            tx.append(entry())?;
            Ok(())
        })
        .await
        .unwrap();
    }

    async fn seen(c: &Committer, id: i64) -> Option<ParticipantState> {
        c.run_sequenced(false, move |tx| tx.participant_state(id))
            .await
            .unwrap()
    }

    #[test]
    fn held_state_follows_every_change_made_through_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}/t.db", dir.path().display()), 2).unwrap();
        let new = NewParticipant {
            uscc: "91350100M000100Y43",
            role: Role::Platform,
            name: "x",
            state: ParticipantState::Active,
            platform_uscc: None,
            endpoint: None,
            evidence: None,
            created_at: 1,
            updated_at: 1,
        };
        let did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
        let id = store.run(|c| participants::insert(c, &new, did)).unwrap().id;
        let (mine, other) = (committer(&store), committer(&store));
        actix_web::rt::System::new().block_on(async {
            assert_eq!(seen(&mine, id).await, Some(ParticipantState::Active));
            // Held: a write that bypasses the log is not seen (which is why none may).
            store
                .run(|c| participants::set_state(c, id, ParticipantState::Suspended, 2))
                .unwrap();
            assert_eq!(seen(&mine, id).await, Some(ParticipantState::Active));
            // A general job of this process: read again.
            set(&mine, id, ParticipantState::Removed).await;
            assert_eq!(seen(&mine, id).await, Some(ParticipantState::Removed));
            // Another process's committer on the same database: the log grew under this one.
            set(&other, id, ParticipantState::Active).await;
            assert_eq!(seen(&mine, id).await, Some(ParticipantState::Active));

            // In one batch: a general job, then a release job, queued while a first job holds the
            // committer. The release job sees the change, in the same transaction.
            let hold = mine.run(|tx| {
                std::thread::sleep(std::time::Duration::from_millis(300));
                Ok(tx.now())
            });
            let change = async {
                actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
                mine.run(move |tx| -> Result<i64, Error> {
                    participants::set_state(tx.conn, id, ParticipantState::Suspended, tx.now())?;
                    tx.append(entry())?;
                    Ok(tx.now())
                })
                .await
            };
            let read = async {
                actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
                mine.run_sequenced(false, move |tx| Ok((tx.participant_state(id)?, tx.now())))
                    .await
            };
            let (held, changed, read) = futures_util::future::join3(hold, change, read).await;
            let (held, changed, (state, at)) = (held.unwrap(), changed.unwrap(), read.unwrap());
            assert!(at == changed && changed > held - 1, "the two jobs shared a batch");
            assert_eq!(state, Some(ParticipantState::Suspended));
        });
    }

    #[test]
    fn uses_are_counted_once_each_and_a_failed_jobs_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}/t.db", dir.path().display()), 2).unwrap();
        let (mine, other) = (committer(&store), committer(&store));
        let count = |c: &Committer, fail: bool| {
            let c = c.clone();
            async move {
                c.run_sequenced(false, move |tx| {
                    let before = tx.usage("g", "2026-12")?;
                    tx.count_use("g", "2026-12");
                    tx.append(entry())?;
                    if fail {
                        return Err(Error::Internal("after counting".into()));
                    }
                    Ok(before)
                })
                .await
            }
        };
        actix_web::rt::System::new().block_on(async {
            assert_eq!(count(&mine, false).await.unwrap(), 0);
            assert_eq!(count(&mine, false).await.unwrap(), 1);
            assert!(count(&mine, true).await.is_err());
            assert_eq!(count(&mine, false).await.unwrap(), 2);
            // The other process counts from the database, and this one sees its use after.
            assert_eq!(count(&other, false).await.unwrap(), 3);
            assert_eq!(count(&mine, false).await.unwrap(), 4);
            let futures: Vec<_> = (0..20).map(|_| count(&mine, false)).collect();
            let mut seen: Vec<u64> = futures_util::future::join_all(futures)
                .await
                .into_iter()
                .map(Result::unwrap)
                .collect();
            seen.sort_unstable();
            assert_eq!(
                seen,
                (5..25).collect::<Vec<u64>>(),
                "each use counted once, in order"
            );
        });
        let stored = store
            .run(|c| crate::storage::grants::usage(c, "g", "2026-12"))
            .unwrap();
        assert_eq!(stored, 25);
    }
}
