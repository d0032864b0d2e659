//! Time as an input: the simulator reads protocol times (Response-Time, paymentTime, expiry,
//! cancel window) from a [`Clock`], so tests can run an expiry in milliseconds and move time
//! with [`crate::Simulator::advance_clock`]. Waiting (delays, the notification schedule) uses
//! real monotonic time.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use alipayplus_types::DateTime;

/// Source of the current time.
pub trait Clock: Send + Sync {
    /// Now, as milliseconds since 1970-01-01T00:00:00Z.
    fn now_unix_millis(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_millis(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// A fixed instant (tests).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now_unix_millis(&self) -> i64 {
        self.0
    }
}

/// The configured clock plus an offset moved by the control API.
pub(crate) struct SimClock {
    inner: Box<dyn Clock>,
    offset_ms: AtomicI64,
}

impl SimClock {
    pub(crate) fn new(inner: Box<dyn Clock>) -> Self {
        SimClock {
            inner,
            offset_ms: AtomicI64::new(0),
        }
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.inner
            .now_unix_millis()
            .saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    pub(crate) fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    pub(crate) fn advance_ms(&self, ms: i64) {
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// Now as an Alipay+ date-time in UTC+8 (the zone of Alipay+'s own examples).
    pub(crate) fn now_datetime(&self) -> Option<DateTime> {
        datetime(self.now_secs())
    }

    /// Now as header text (`Response-Time`, `Request-Time`).
    pub(crate) fn now_header(&self) -> String {
        self.now_datetime()
            .map(|d| d.as_str().to_owned())
            .unwrap_or_else(|| "1970-01-01T08:00:00+08:00".to_owned())
    }
}

/// Formats unix seconds in UTC+8 (`None` only outside years 0000-9999).
pub(crate) fn datetime(unix_secs: i64) -> Option<DateTime> {
    DateTime::from_unix(unix_secs, 8 * 60).ok()
}
