//! The node's per-process notification state, [`Notifier`]: settings, this process's lease identity,
//! the HTTP agent, the endpoints in flight and the in-memory set of enterprises subscribed to
//! `data.released`.
//!
//! Guarantees: the set is refreshed from the database every second by the worker and at once after
//! an endpoint changes in this process; if its lock is poisoned, [`Notifier::wants_released`]
//! answers `true` (a needless outbox query, never a lost event).

use std::collections::HashSet;
use std::sync::RwLock;

use super::delivery::{CONNECT_TIMEOUT, REQUEST_TIMEOUT};
use super::outbox::DATA_RELEASED;
use crate::config::WebhookConfig;
use crate::error::Result;
use crate::node::Node;
use crate::storage::DbConn;
use crate::storage::webhooks as store;

/// The node's notification state: settings, this process's lease identity, the HTTP agent and the
/// set of enterprises with a `data.released` endpoint (an in-memory check that keeps the release path
/// free of any query for everyone else; refreshed from the database every second and at once after
/// an endpoint changes in this process).
pub struct Notifier {
    /// Settings from the configuration.
    pub settings: WebhookConfig,
    pub(super) instance: String,
    released: RwLock<HashSet<String>>,
    pub(super) busy: std::sync::Mutex<HashSet<i64>>,
    pub(super) agent: ureq::Agent,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("settings", &self.settings)
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

impl Notifier {
    /// A notifier for these settings, with a fresh lease identity.
    pub fn new(settings: WebhookConfig) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirects(0)
            .build();
        Self {
            settings,
            instance: format!("{}", uuid::Uuid::new_v4()),
            released: RwLock::new(HashSet::new()),
            busy: std::sync::Mutex::new(HashSet::new()),
            agent,
        }
    }

    /// Whether `enterprise` has an active endpoint subscribed to `data.released` (in memory; see the
    /// type's documentation for how fresh it is).
    pub fn wants_released(&self, enterprise: &str) -> bool {
        self.released
            .read()
            .map(|s| !s.is_empty() && s.contains(enterprise))
            .unwrap_or(true)
    }

    /// Reloads the set of enterprises subscribed to `data.released`.
    pub fn refresh(&self, conn: &mut DbConn) -> Result<()> {
        self.set_released(released_subscribers(conn)?);
        Ok(())
    }

    fn set_released(&self, set: HashSet<String>) {
        if let Ok(mut s) = self.released.write() {
            *s = set;
        }
    }
}

/// The enterprises with an active endpoint subscribed to `data.released`.
fn released_subscribers(conn: &mut DbConn) -> Result<HashSet<String>> {
    let owners = store::active_owners_mentioning(conn, DATA_RELEASED)?;
    Ok(owners
        .into_iter()
        .filter(|(_, e)| e.split(',').any(|x| x == DATA_RELEASED))
        .map(|(o, _)| o)
        .collect())
}

pub(super) async fn refreshed(node: &Node) {
    match node.store.call(released_subscribers).await {
        Ok(set) => node.notify.set_released(set),
        Err(e) if e.is_outage() => {}
        Err(e) => tracing::warn!(error = %e, "refreshing webhook subscriptions failed"),
    }
}
