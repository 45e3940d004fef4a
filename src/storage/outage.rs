//! Whether the database is reachable, as this process last saw it, so that an outage is logged once
//! when it starts (with its cause) and once when it ends, never once per failed request.
//!
//! Every failed connection attempt (the pool's, the log committer's) reports here
//! ([`Outage::began`]); every connection handed out or re-made reports the end ([`Outage::ended`]).
//! Both are cheap when nothing changes: one atomic load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// The database's availability.
#[derive(Debug, Default)]
pub struct Outage {
    down: AtomicBool,
    state: Mutex<Option<Since>>,
}

#[derive(Debug)]
struct Since {
    at: Instant,
    cause: String,
    failures: u64,
}

impl Outage {
    /// A connection attempt failed (or a connection was found broken) with `cause`. Logs the start of
    /// an outage if the database was up.
    pub fn began(&self, cause: &str) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match &mut *state {
            Some(s) => s.failures += 1,
            None => {
                tracing::error!(
                    cause,
                    "database unavailable: requests needing it answer 503 storage-unavailable until it is back"
                );
                *state = Some(Since {
                    at: Instant::now(),
                    cause: cause.to_owned(),
                    failures: 1,
                });
                self.down.store(true, Ordering::Release);
            }
        }
    }

    /// A connection worked. Logs the end of the outage if there was one.
    pub fn ended(&self) {
        if !self.down.load(Ordering::Acquire) {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = state.take() {
            tracing::warn!(
                after_ms = u64::try_from(s.at.elapsed().as_millis()).unwrap_or(u64::MAX),
                failed_attempts = s.failures,
                cause = s.cause.as_str(),
                "database available again"
            );
        }
        self.down.store(false, Ordering::Release);
    }

    /// Whether the last connection attempt failed.
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Acquire)
    }

    /// What the outage started with, while there is one.
    pub fn cause(&self) -> Option<String> {
        if !self.is_down() {
            return None;
        }
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.as_ref().map(|s| s.cause.clone())
    }
}

/// The pool's error handler: a failed connection attempt (or a pooled connection that no longer
/// answers) is an outage, logged by [`Outage`] rather than by r2d2 once per attempt.
#[derive(Debug)]
pub(super) struct PoolErrors(pub(super) Arc<Outage>);

impl diesel::r2d2::HandleError<diesel::r2d2::Error> for PoolErrors {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        self.0.began(error.to_string().trim());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_begins_once_and_ends_once() {
        let o = Outage::default();
        assert!(!o.is_down());
        assert_eq!(o.cause(), None);
        o.began("connection refused");
        o.began("still refused");
        assert!(o.is_down());
        assert_eq!(o.cause().as_deref(), Some("connection refused"));
        o.ended();
        assert!(!o.is_down());
        assert_eq!(o.cause(), None);
        o.ended();
        assert!(!o.is_down());
    }
}
