//! The delivery worker ([`spawn`]): it finds due endpoints, takes an endpoint's lease, sends its
//! pending deliveries strictly in `seq` order, records each attempt and retries failures with
//! exponential back-off and jitter ([`retry_delay_ms`]); it also purges old history.
//!
//! Guarantees: delivery n + 1 is sent only after delivery n was answered with a 2xx; an endpoint is
//! delivered only by the process holding its lease (renewed before each attempt, released when the
//! worker stops), so a lease that expires mid-delivery can duplicate a delivery, never reorder one;
//! no database connection is held across an HTTP request.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use super::notifier::refreshed;
use super::signing::signed_delivery;
use super::urls::check_url;
use crate::config::WebhookConfig;
use crate::crypto::httpsig;
use crate::error::Result;
use crate::node::Node;
use crate::storage::webhooks::{self as store, DeliveryState, EndpointState, OutboxRow};
use crate::storage::{DbConn, Store};

/// How long a delivering process holds an endpoint (renewed before each attempt).
pub const LEASE_MS: i64 = 60_000;
/// Connect timeout and whole-request timeout of a delivery.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// See [`CONNECT_TIMEOUT`].
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long delivered and cancelled deliveries stay in the history.
pub const HISTORY_MS: i64 = 30 * 24 * 3600 * 1000;
/// Most deliveries one lease covers before the endpoint goes back to the queue (fairness).
const BATCH_PER_LEASE: usize = 200;
/// Most endpoints one process delivers to at once.
const MAX_CONCURRENT: usize = 16;
/// Poll interval of the worker.
const POLL: Duration = Duration::from_millis(200);

/// The delay before retry number `failures` (≥ 1 failed attempts so far): `base · 2^(failures−1)`
/// capped at `cap`, then "equal jitter": a uniformly chosen value in `[d/2, d]` from `random`.
pub fn retry_delay_ms(failures: u32, base_ms: u64, cap_ms: u64, random: u64) -> u64 {
    let shift = failures.saturating_sub(1).min(40);
    let d = base_ms.saturating_mul(1u64 << shift).min(cap_ms).max(1);
    let half = d / 2;
    d - random % (half + 1)
}

/// What one attempt came to.
#[derive(Debug)]
enum Outcome {
    Acknowledged(u16),
    Failed(Option<u16>, String),
}

/// One attempt. The endpoint URL is checked again (the rules may have been tightened since it was
/// registered: `http://` is refused once `allow-insecure` is off), and it never appears in the
/// error text, which is logged and shown to the receiver: URLs can carry secrets.
fn send(node: &Node, req: &httpsig::Request) -> Outcome {
    if let Err(e) = check_url(&req.target_uri, node.notify.settings.allow_insecure) {
        return Outcome::Failed(None, format!("endpoint refused, not attempted: {e}"));
    }
    let mut r = node.notify.agent.post(&req.target_uri);
    for (k, v) in &req.headers {
        r = r.set(k, v);
    }
    r = r.set(
        "User-Agent",
        concat!("consentry/", env!("CARGO_PKG_VERSION"), " webhook"),
    );
    let snippet = |resp: ureq::Response| {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut std::io::Read::take(resp.into_reader(), 300), &mut text);
        text
    };
    match r.send_bytes(&req.body) {
        Ok(resp) if (200..300).contains(&resp.status()) => Outcome::Acknowledged(resp.status()),
        Ok(resp) => {
            let s = resp.status();
            Outcome::Failed(Some(s), format!("HTTP {s} (not 2xx): {}", snippet(resp)))
        }
        Err(ureq::Error::Status(s, resp)) => Outcome::Failed(Some(s), format!("HTTP {s}: {}", snippet(resp))),
        Err(ureq::Error::Transport(t)) => Outcome::Failed(
            None,
            match t.message() {
                Some(m) => format!("transport: {}: {m}", t.kind()),
                None => format!("transport: {}", t.kind()),
            },
        ),
    }
}

enum Step {
    Stop,
    Deliver { row: Box<OutboxRow>, url: String },
}

fn release_lease(conn: &mut DbConn, id: i64, instance: &str, next: Option<i64>) -> Result<()> {
    Ok(store::release_lease(conn, id, instance, next)?)
}

/// Under the endpoint's row lock: the next delivery to make (renewing the lease), or nothing (the
/// lease released and `next_attempt_at` set to when the head is due, or cleared).
fn next_step(conn: &mut DbConn, id: i64, instance: &str, now: i64) -> Result<Step> {
    Store::write_txn(conn, |conn| -> Result<Step> {
        let Some(e) = store::endpoint_locked(conn, id)? else {
            return Ok(Step::Stop);
        };
        if e.lease_owner.as_deref() != Some(instance) {
            return Ok(Step::Stop);
        }
        if e.state != EndpointState::Active {
            release_lease(conn, id, instance, None)?;
            return Ok(Step::Stop);
        }
        let head = store::pending_head(conn, id)?;
        match head {
            None => {
                release_lease(conn, id, instance, None)?;
                Ok(Step::Stop)
            }
            Some(h) if h.next_attempt_at > now => {
                release_lease(conn, id, instance, Some(h.next_attempt_at))?;
                Ok(Step::Stop)
            }
            Some(h) => {
                store::renew_lease(conn, id, now + LEASE_MS)?;
                Ok(Step::Deliver {
                    row: Box::new(h),
                    url: e.url,
                })
            }
        }
    })
}

/// Records an attempt. Returns whether to go on with the next delivery.
fn record(
    conn: &mut DbConn,
    id: i64,
    row: &OutboxRow,
    instance: &str,
    outcome: &Outcome,
    now: i64,
    settings: &WebhookConfig,
) -> Result<bool> {
    Store::write_txn(conn, |conn| -> Result<bool> {
        let Some(e) = store::endpoint_locked(conn, id)? else {
            return Ok(false);
        };
        let owner = e.lease_owner.as_deref() == Some(instance);
        let state = store::delivery_state(conn, row.id)?;
        if state != Some(DeliveryState::Pending) {
            return Ok(owner);
        }
        match outcome {
            Outcome::Acknowledged(status) => {
                // A fact whoever holds the lease: the receiver has it.
                store::mark_delivered(conn, row.id, row.attempts + 1, i64::from(*status), now)?;
                Ok(owner)
            }
            Outcome::Failed(status, error) => {
                if !owner {
                    return Ok(false);
                }
                let attempts = row.attempts + 1;
                // Jitter only spreads retries out; a failing generator leaves it at zero, which is
                // still a correct (if less spread) schedule, so it does not fail the delivery.
                let mut r = [0u8; 8];
                if crate::crypto::ed25519::random_bytes(&mut r).is_err() {
                    r = [0; 8];
                }
                let delay = retry_delay_ms(
                    u32::try_from(attempts).unwrap_or(u32::MAX),
                    settings.retry_base_ms,
                    settings.retry_cap_ms,
                    u64::from_le_bytes(r),
                );
                let next = now.saturating_add(i64::try_from(delay).unwrap_or(i64::MAX));
                let error: String = error.chars().take(500).collect();
                store::mark_failed(conn, row.id, attempts, status.map(i64::from), &error, next, now)?;
                release_lease(conn, id, instance, Some(next))?;
                Ok(false)
            }
        }
    })
}

/// Runs `f` on a pooled connection taken for this step only (never held across an HTTP request).
fn with_conn<R>(node: &Node, f: impl FnOnce(&mut DbConn) -> Result<R>) -> Result<R> {
    let mut conn = node.store.conn()?;
    f(&mut conn)
}

/// Delivers endpoint `id`'s due deliveries in order while this process holds its lease, then gives
/// the lease back (also after a failure, best effort; otherwise it expires after [`LEASE_MS`]).
fn run_endpoint(node: &Node, id: i64) -> Result<()> {
    let instance = node.notify.instance.clone();
    let result = deliver_due(node, id, &instance);
    if result.is_err() {
        let now = node.now_ms();
        let _ = with_conn(node, |c| release_lease(c, id, &instance, Some(now)));
    }
    result
}

fn deliver_due(node: &Node, id: i64, instance: &str) -> Result<()> {
    for _ in 0..BATCH_PER_LEASE {
        let now = node.now_ms();
        let (row, url) = match with_conn(node, |c| next_step(c, id, instance, now))? {
            Step::Stop => return Ok(()),
            Step::Deliver { row, url } => (*row, url),
        };
        let req = signed_delivery(
            node,
            &url,
            &row.event_id,
            &row.event_type,
            row.seq,
            row.body.as_bytes(),
            now.div_euclid(1000),
        )?;
        let outcome = send(node, &req);
        node.metrics
            .webhook_attempt(matches!(outcome, Outcome::Acknowledged(_)));
        if let Outcome::Failed(_, e) = &outcome {
            tracing::info!(endpoint = id, seq = row.seq, error = %e, "webhook delivery failed; will retry");
        }
        let done = node.now_ms();
        let settings = &node.notify.settings;
        if !with_conn(node, |c| record(c, id, &row, instance, &outcome, done, settings))? {
            return Ok(());
        }
    }
    // Fairness: give the endpoint back to the queue (still due).
    let now = node.now_ms();
    with_conn(node, |c| release_lease(c, id, instance, Some(now)))
}

/// Up to `limit` endpoints that are due and not leased, the longest waiting first.
fn due_endpoints(conn: &mut DbConn, now: i64, limit: usize) -> Result<Vec<i64>> {
    Ok(store::due(conn, now, i64::try_from(limit).unwrap_or(64))?)
}

/// Takes endpoint `id`'s lease for this process if nobody holds it (an atomic compare-and-set on
/// `lease_until`); whether it was taken.
fn claim(conn: &mut DbConn, id: i64, instance: &str, now: i64) -> Result<bool> {
    Ok(store::claim(conn, id, instance, now, now + LEASE_MS)?)
}

/// Claims endpoint `id` and delivers to it, on the current (blocking) thread. Claiming here rather
/// than in the polling task means that a process shutting down never leaves a lease behind: a
/// blocking task either never starts, or runs to its end and releases the lease.
fn claim_and_run(node: &Node, id: i64) -> Result<()> {
    let now = node.now_ms();
    if with_conn(node, |c| claim(c, id, &node.notify.instance, now))? {
        run_endpoint(node, id)?;
    }
    Ok(())
}

/// Forgets delivered and cancelled deliveries older than [`HISTORY_MS`].
fn purge_history(conn: &mut DbConn, now: i64) -> Result<usize> {
    Ok(store::purge_history(conn, now - HISTORY_MS)?)
}

/// Starts the delivery worker on the current actix runtime: every 200 ms it looks for due endpoints
/// and claims and delivers each (up to 16 at a time) on a blocking thread; every second it refreshes the
/// `data.released` subscriptions; every hour it purges old history.
pub fn spawn(node: Arc<Node>) {
    actix_web::rt::spawn(async move {
        let permits = Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT));
        let mut tick = actix_web::rt::time::interval(POLL);
        let (mut refreshed_at, mut purged_at) = (0i64, node.now_ms());
        loop {
            tick.tick().await;
            let now = node.now_ms();
            if now - refreshed_at >= 1000 {
                refreshed_at = now;
                refreshed(&node).await;
            }
            if now - purged_at >= 3_600_000 {
                purged_at = now;
                if let Err(e) = node.store.call(move |c| purge_history(c, now)).await {
                    if !e.is_outage() {
                        tracing::warn!(error = %e, "purging webhook history failed");
                    }
                }
            }
            let free = permits.available_permits();
            if free == 0 {
                continue;
            }
            let busy: HashSet<i64> = node.notify.busy.lock().map(|b| b.clone()).unwrap_or_default();
            let limit = free + busy.len();
            let due = match node.store.call(move |c| due_endpoints(c, now, limit)).await {
                Ok(d) => d,
                Err(e) => {
                    if !e.is_outage() {
                        tracing::warn!(error = %e, "finding due webhook endpoints failed");
                    }
                    continue;
                }
            };
            for id in due.into_iter().filter(|id| !busy.contains(id)) {
                let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
                    break;
                };
                if let Ok(mut b) = node.notify.busy.lock() {
                    b.insert(id);
                }
                let n = Arc::clone(&node);
                actix_web::rt::task::spawn_blocking(move || {
                    let _permit = permit;
                    if let Err(e) = claim_and_run(&n, id) {
                        if !e.is_outage() {
                            tracing::warn!(endpoint = id, error = %e, "webhook delivery stopped");
                        }
                    }
                    if let Ok(mut b) = n.notify.busy.lock() {
                        b.remove(&id);
                    }
                });
            }
        }
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_with_jitter_and_caps() {
        let cap = 900_000;
        for (failures, lo, hi) in [
            (1, 500, 1000),
            (2, 1000, 2000),
            (3, 2000, 4000),
            (10, 256_000, 512_000),
            (11, 450_000, 900_000),
            (60, 450_000, 900_000),
        ] {
            for r in [0u64, 1, 7, u64::MAX, 123_456_789] {
                let d = retry_delay_ms(failures, 1000, cap, r);
                assert!((lo..=hi).contains(&d), "{failures}: {d}");
            }
        }
        assert_eq!(retry_delay_ms(1, 1000, cap, 0), 1000);
        assert_eq!(retry_delay_ms(1, 1000, cap, 500), 500);
    }
}
