//! Liveness and readiness (`/livez`, `/readyz`; `/healthz` is readiness), for the node and platform
//! processes alike.
//!
//! * **Live**: the process answers HTTP. Nothing else is checked, so an orchestrator that restarts on
//!   a failed liveness probe does not restart a node whose database is away (restarting would not
//!   help: the node reconnects by itself).
//! * **Ready**: the process can do its work now —
//!   1. *database*: a pooled connection answers a read of the log head within the connection wait;
//!   2. *committer*: the log committer holds a working connection (it is not `reconnecting`, nor
//!      `halted` because the database's log is shorter than this process has seen it);
//!   3. *checkpoint*: a checkpoint round (sign the head if it grew) succeeded recently — within
//!      [`stale_after`] of the checkpoint interval.
//!
//! Readiness uses the monotonic clock, not the node's clock (which tests and operators may move).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::Node;
use super::answers::health::{
    CheckState, Health as HealthAnswer, LiveState, Liveness, NodeInfo, ReadinessChecks,
};
use crate::error::{Error, Result};

/// What readiness keeps between probes.
#[derive(Debug)]
pub struct Health {
    checkpoint_interval: Duration,
    /// The last successful checkpoint round (at start: the start, so a fresh process has the whole
    /// grace period to make its first).
    checkpointed: Mutex<Instant>,
    /// The largest checkpoint size this process has signed or served.
    published: AtomicU64,
    /// The last time the database answered a readiness probe, and the log size it gave.
    db_seen: Mutex<Option<(Instant, u64)>>,
}

/// How long a database answer serves readiness probes: a load balancer probing many times a second
/// costs one read a tenth of a second, not one per probe (issue #15: `/healthz` under load). A
/// failure is never reused: each probe after one reads again.
pub const DB_PROBE_REUSE: Duration = Duration::from_millis(100);

impl Health {
    /// For a process signing checkpoints every `checkpoint_interval_secs`.
    pub fn new(checkpoint_interval_secs: u64) -> Self {
        Self {
            checkpoint_interval: Duration::from_secs(checkpoint_interval_secs.max(1)),
            checkpointed: Mutex::new(Instant::now()),
            published: AtomicU64::new(0),
            db_seen: Mutex::new(None),
        }
    }

    /// A checkpoint of `size` entries was published (signed, or found stored).
    pub fn published(&self, size: u64) {
        self.published.fetch_max(size, Ordering::AcqRel);
    }

    /// The largest checkpoint size this process has published: the log in the database may never be
    /// shorter (see [`crate::node::checkpoints`]).
    pub fn published_size(&self) -> u64 {
        self.published.load(Ordering::Acquire)
    }

    /// A checkpoint round succeeded.
    pub fn checkpointed(&self) {
        *self.checkpointed.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    /// Time since the last successful checkpoint round (at start: since the start).
    pub fn since_checkpoint_round(&self) -> Duration {
        self.checkpointed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .elapsed()
    }

    /// Whether the last successful checkpoint round is recent.
    fn checkpoint_fresh(&self) -> bool {
        let last = *self.checkpointed.lock().unwrap_or_else(PoisonError::into_inner);
        last.elapsed() <= stale_after(self.checkpoint_interval)
    }
}

/// How old the last successful checkpoint round may be for the process to be ready: ten checkpoint
/// intervals, at least 10 s.
pub fn stale_after(checkpoint_interval: Duration) -> Duration {
    (checkpoint_interval * 10).max(Duration::from_secs(10))
}

/// A ready process: the log's size and every check (all `ok`).
#[derive(Debug, Clone)]
pub struct Ready {
    /// Entries in the access log, as the database gave them at most [`DB_PROBE_REUSE`] ago.
    pub log_size: u64,
}

/// The readiness checks, in order: `Ok` when all pass, else [`Error::NotReady`] naming each check
/// and its state.
pub async fn readiness(node: &Node) -> Result<Ready> {
    let recent = *node.health.db_seen.lock().unwrap_or_else(PoisonError::into_inner);
    let db = match recent {
        Some((at, size)) if at.elapsed() < DB_PROBE_REUSE => Ok(size),
        _ => {
            let read = node
                .store
                .call(crate::storage::log_store::head)
                .await
                .map(|(size, _)| size);
            *node.health.db_seen.lock().unwrap_or_else(PoisonError::into_inner) =
                read.as_ref().ok().map(|size| (Instant::now(), *size));
            read
        }
    };
    let committer = node.committer.health();
    let committer_state = if node.committer.is_halted() {
        CheckState::Halted
    } else {
        CheckState::Reconnecting
    };
    let checkpoint = node.health.checkpoint_fresh();
    match (&db, &committer, checkpoint) {
        (Ok(size), Ok(()), true) => Ok(Ready { log_size: *size }),
        _ => Err(Error::NotReady(vec![
            (
                "database",
                if db.is_ok() {
                    CheckState::Ok
                } else {
                    CheckState::Unavailable
                }
                .as_str(),
            ),
            (
                "committer",
                if committer.is_ok() {
                    CheckState::Ok
                } else {
                    committer_state
                }
                .as_str(),
            ),
            (
                "checkpoint",
                if checkpoint {
                    CheckState::Ok
                } else {
                    CheckState::Stale
                }
                .as_str(),
            ),
        ])),
    }
}

/// The checks of a ready process, as `/readyz` lists them: every one `ok`.
pub const READY_CHECKS: ReadinessChecks = ReadinessChecks {
    database: CheckState::Ok,
    committer: CheckState::Ok,
    checkpoint: CheckState::Ok,
};

/// Liveness (`/livez`): the process answers; nothing else is checked.
pub fn live() -> Liveness {
    Liveness {
        status: LiveState::Alive,
    }
}

/// Readiness (`/readyz`, `/healthz`) as answered: the log's size and every check `ok`, or
/// [`Error::NotReady`] (see [`readiness`]).
pub async fn ready(node: &Node) -> Result<HealthAnswer> {
    let r = readiness(node).await?;
    Ok(HealthAnswer {
        status: CheckState::Ok,
        log_size: r.log_size,
        checks: READY_CHECKS,
    })
}

/// The node's description (`GET /v1/node`): its DID and DID document, public URL, its log's origin,
/// size and root now, and its catalog version.
///
/// The log's head and the key history are read on a blocking thread, with one connection.
pub async fn describe(node: Arc<Node>) -> Result<NodeInfo> {
    let reader = Arc::clone(&node);
    let ((size, root), keys) = actix_web::rt::task::spawn_blocking(move || -> Result<_> {
        let mut c = reader.store.conn()?;
        let head = crate::storage::log_store::head(&mut c)?;
        Ok((head, super::keys::answer(&mut c, &reader)?))
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))??;
    Ok(NodeInfo {
        did: node.did().to_owned(),
        public_url: node.public_url.clone(),
        log_origin: node.origin.clone(),
        log_size: size,
        log_root: hex::encode(root),
        catalog_version: node.catalog().version().to_owned(),
        did_document: node.key.did.document(),
        log_key: keys.current,
        log_keys: keys.keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_states_serialize_as_their_names() {
        for s in [
            CheckState::Ok,
            CheckState::Unavailable,
            CheckState::Reconnecting,
            CheckState::Halted,
            CheckState::Stale,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.as_str()));
        }
        assert_eq!(
            serde_json::to_value(LiveState::Alive).unwrap(),
            serde_json::json!("alive")
        );
    }

    #[test]
    fn checkpoints_go_stale_after_ten_intervals_at_least_ten_seconds() {
        assert_eq!(stale_after(Duration::from_secs(1)), Duration::from_secs(10));
        assert_eq!(stale_after(Duration::from_secs(5)), Duration::from_secs(50));
        let h = Health::new(1);
        assert!(h.checkpoint_fresh());
        *h.checkpointed.lock().unwrap() = Instant::now() - Duration::from_secs(11);
        assert!(!h.checkpoint_fresh());
        h.checkpointed();
        assert!(h.checkpoint_fresh());
    }
}
