//! Time, passed in rather than read from a global.
//!
//! Every check that depends on "now" (validity windows, JWT `exp`/`nbf`, rate windows, checkpoints)
//! takes a [`Clock`], so tests pin instants exactly and production reads the system clock in exactly
//! one place ([`SystemClock`]).

use time::OffsetDateTime;

/// A source of the current instant.
pub trait Clock: Send + Sync {
    /// The current instant, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The operating system's wall clock. The only place in the crate that reads it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one sanctioned read of the system clock
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock stopped at one instant, for tests and for `--at` on the command line.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}
