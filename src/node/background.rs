//! Periodic work: signing checkpoints of the access log, forgetting expired assertion ids, delivering
//! webhooks ([`super::notify::spawn`]), archiving the monthly bulletin ([`super::bulletins::due`]), post-loan risk alerts
//! ([`super::alerts::sweep`]), the batch push of public information ([`super::feed::sweep`]), the
//! expiry of unanswered consent requests ([`super::consent::expire_due`]), authorization letters
//! published by another process ([`super::letters::refresh`]).
//!
//! None of these tasks keeps a connection: each round takes one from the pool, which replaces
//! connections the database dropped (a restart, a failover), so a round that fails during an outage
//! is simply tried again at the next tick. A failure because the database is away is not logged per
//! round (the outage is logged once when it starts and once when it ends, [`crate::storage::Outage`]).

use std::sync::Arc;
use std::time::Duration;

use super::Node;

/// Starts the periodic tasks on the current actix runtime.
pub fn spawn(node: Arc<Node>, checkpoint_interval_secs: u64) {
    super::notify::spawn(Arc::clone(&node));
    let n = Arc::clone(&node);
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(Duration::from_secs(checkpoint_interval_secs.max(1)));
        loop {
            tick.tick().await;
            if let Err(e) = super::checkpoints::publish(&n).await {
                if !e.is_outage() {
                    tracing::warn!(error = %e, "checkpoint not published");
                }
            }
        }
    });
    let o = Arc::clone(&node);
    actix_web::rt::spawn(async move {
        // Objection deadlines: flag overdue ones, compute those a newly loaded calendar allows.
        let mut tick = actix_web::rt::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(e) = super::objections::sweep(&o).await {
                if !e.is_outage() {
                    tracing::warn!(error = %e, "objection sweep failed");
                }
            }
        }
    });
    let r = Arc::clone(&node);
    actix_web::rt::spawn(async move {
        // Post-loan risk alerts on the records that arrived since the last round.
        let mut tick = actix_web::rt::time::interval(Duration::from_secs(2));
        loop {
            tick.tick().await;
            if let Err(e) = super::alerts::sweep(&r).await {
                if !e.is_outage() {
                    tracing::warn!(error = %e, "risk sweep failed");
                }
            }
            if let Err(e) = super::feed::sweep(&r).await {
                if !e.is_outage() {
                    tracing::warn!(error = %e, "public push failed");
                }
            }
            if let Err(e) = super::consent::expire_due(&r).await {
                if !e.is_outage() {
                    tracing::warn!(error = %e, "consent request expiry failed");
                }
            }
            if let Err(e) = super::letters::refresh(&r).await {
                if !e.is_outage() {
                    tracing::warn!(error = %e, "letters not refreshed");
                }
            }
        }
    });
    let b = Arc::clone(&node);
    actix_web::rt::spawn(async move {
        // The monthly bulletin, once the last month has settled.
        let mut tick = actix_web::rt::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            if let Err(e) = super::bulletins::due(&b).await {
                if !e.is_outage() {
                    tracing::warn!(error = %e, "monthly bulletin not archived");
                }
            }
        }
    });
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(Duration::from_secs(300));
        loop {
            tick.tick().await;
            let now = node.now_ms();
            if let Err(e) = node
                .store
                .call(move |c| crate::storage::log_store::purge_jti(c, now))
                .await
            {
                if !e.is_connection() {
                    tracing::warn!(error = %e, "purging assertion ids failed");
                }
            }
        }
    });
}
