//! `GET /metrics` (spec/ops/README.md): the gauges that need the database or the node's state are
//! read here, at scrape time — one pooled connection, a few reads by key or index, never per request — and
//! every metric of [`crate::metrics`] is rendered.
//!
//! Guarantee: a database that does not answer does not fail the scrape: the in-memory metrics are
//! served, the database's gauges keep their last values and `consentry_database_up` is 0.

use super::Node;
use crate::metrics::{DbGauges, Snapshot};
use crate::storage::{StorageError, checkpoints, log_store, objections, webhooks};

/// How close a forwarding deadline is before it counts as at risk (`due-24h`).
const DUE_SOON_MS: i64 = 24 * 3600 * 1000;

/// Reads the scrape-time gauges and renders every metric (Prometheus text format 0.0.4).
pub async fn scrape(node: &Node) -> String {
    let now = node.now_ms();
    let db = node
        .store
        .call(move |c| -> Result<(u64, DbGauges), StorageError> {
            let size = log_store::size(c)?;
            let age = |at: i64| (now.saturating_sub(at).max(0) as f64) / 1000.0;
            let checkpoint =
                checkpoints::newest_signed(c)?.map(|(size, at)| (u64::try_from(size).unwrap_or(0), age(at)));
            let (outbox_depth, oldest) = webhooks::backlog(c)?;
            let (overdue, due, unknown) = objections::deadline_risk(c, now, DUE_SOON_MS)?;
            Ok((
                size,
                DbGauges {
                    checkpoint,
                    outbox_depth,
                    outbox_oldest_age: oldest.map_or(0.0, age),
                    objections_overdue: overdue,
                    objections_due_soon: due,
                    objections_unknown_deadline: unknown,
                },
            ))
        })
        .await;
    let (log_size, db) = match db {
        Ok((size, g)) => (size, Some(g)),
        Err(e) => {
            tracing::debug!(error = %e, "metrics: the database did not answer");
            (node.committer.committed_size(), None)
        }
    };
    node.metrics.render(&Snapshot {
        log_size,
        checkpoint_round_age: node.health.since_checkpoint_round().as_secs_f64(),
        pool: node.store.pool_use(),
        db,
    })
}
