//! The [`Clock`] the client reads; instants and their formats are
//! [`alipayplus_types::Timestamp`] and [`alipayplus_types::TimeFormat`] (re-exported here).
//!
//! Time is always an input: the client asks its configured [`Clock`] once per call (for the
//! `Request-Time` / `Response-Time` header), and the sans-IO [`tracker`](crate::tracker) takes
//! `now` as an argument. Only `SystemClock` (feature `std`) reads the operating system clock.

pub use alipayplus_types::{TimeFormat, TimeParseError, Timestamp};

/// Reads the current time for the client's `Request-Time` / `Response-Time` headers.
///
/// Closures `Fn() -> Timestamp` are clocks, which is how tests fix the time.
pub trait Clock {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

impl<F: Fn() -> Timestamp> Clock for F {
    fn now(&self) -> Timestamp {
        self()
    }
}

/// The operating system clock (`std::time::SystemTime`).
#[cfg(feature = "std")]
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

#[cfg(feature = "std")]
impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        match since {
            Ok(d) => Timestamp::from_unix_millis(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            Err(e) => Timestamp::from_unix_millis(
                -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
            ),
        }
    }
}

/// Parses a signed time header and checks it against `now` within `window` (none: any time
/// is fresh, but it must parse). Returns the parsed time.
pub(crate) fn check_fresh(
    header: &str,
    now: Timestamp,
    window: Option<core::time::Duration>,
) -> Result<Timestamp, crate::error::TimeSkew> {
    use crate::error::TimeSkew;
    let signed = Timestamp::parse_header_time(header.trim()).map_err(|_| TimeSkew::Unparsable)?;
    match window {
        Some(w) if signed.since(now) > w || now.since(signed) > w => {
            Err(TimeSkew::Outside { signed, local: now })
        }
        _ => Ok(signed),
    }
}
