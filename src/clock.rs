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

/// The system clock moved by an adjustable offset: time keeps running, but tests and drills can jump
/// to a chosen instant (the Friday before a holiday week, the end of a grant's window).
#[derive(Debug, Default)]
pub struct ShiftedClock {
    offset_ms: std::sync::atomic::AtomicI64,
}

impl ShiftedClock {
    /// Moves the clock so that it reads `at` now (and runs on from there).
    pub fn set(&self, at: OffsetDateTime) {
        let delta = at - SystemClock.now();
        let ms = i64::try_from(delta.whole_milliseconds()).unwrap_or(0);
        self.offset_ms.store(ms, std::sync::atomic::Ordering::SeqCst);
    }

    /// Moves the clock forward (or back, if negative) by `by`.
    pub fn advance(&self, by: time::Duration) {
        let ms = i64::try_from(by.whole_milliseconds()).unwrap_or(0);
        self.offset_ms.fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> OffsetDateTime {
        SystemClock.now()
            + time::Duration::milliseconds(self.offset_ms.load(std::sync::atomic::Ordering::SeqCst))
    }
}
