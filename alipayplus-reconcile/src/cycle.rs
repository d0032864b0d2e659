//! Clearing cycles: one natural day 00:00:00–23:59:59 UTC+8 (reconcile.md §1), keyed by the
//! Alipay+ transaction time (`paymentTime` / `refundTime` / the report's `transactionTime`).

use alloc::string::String;
use core::fmt;

use alipayplus_types::DateTime;

/// Seconds east of UTC of the Alipay+ clearing cutoff (UTC+8).
const UTC8: i64 = 8 * 3600;
const DAY: i64 = 86_400;

/// The clearing cycle (a UTC+8 calendar day) an instant belongs to.
///
/// ```
/// use alipayplus_reconcile::ClearingDate;
/// use alipayplus_types::DateTime;
/// let last = DateTime::parse("2025-06-01T23:59:59+08:00").unwrap();
/// let first = DateTime::parse("2025-06-01T16:00:00Z").unwrap(); // 00:00:00 UTC+8 on 06-02
/// assert_eq!(ClearingDate::of(&last).to_string(), "2025-06-01");
/// assert_eq!(ClearingDate::of(&first).to_string(), "2025-06-02");
/// assert_eq!(ClearingDate::from_batch_id("20250601"), Some(ClearingDate::of(&last)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClearingDate {
    /// Days since 1970-01-01 in UTC+8.
    days: i64,
}

impl ClearingDate {
    /// The cycle of an instant.
    pub fn of(time: &DateTime) -> Self {
        Self::of_unix(time.unix_seconds())
    }

    /// The cycle of a Unix time in seconds.
    pub fn of_unix(unix_seconds: i64) -> Self {
        ClearingDate {
            days: unix_seconds.saturating_add(UTC8).div_euclid(DAY),
        }
    }

    /// The cycle a `clearingBatchId` names, when it is a `yyyyMMdd` date (as in the sample,
    /// `20250601`). The format is UNCERTAIN in the spec; other ids give `None` and the cycle
    /// is then taken from the report's rows.
    pub fn from_batch_id(batch_id: &str) -> Option<Self> {
        let b = batch_id.as_bytes();
        if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let text = alloc::format!(
            "{}-{}-{}T00:00:00+08:00",
            &batch_id[..4],
            &batch_id[4..6],
            &batch_id[6..]
        );
        DateTime::parse(&text).ok().map(|t| Self::of(&t))
    }

    /// First second of the cycle (00:00:00 UTC+8) as Unix seconds.
    pub fn start_unix(self) -> i64 {
        self.days.saturating_mul(DAY).saturating_sub(UTC8)
    }

    /// `yyyy-mm-dd`.
    pub fn to_date_string(self) -> String {
        DateTime::from_unix(self.start_unix(), 480)
            .ok()
            .and_then(|t| t.as_str().get(..10).map(String::from))
            .unwrap_or_else(|| alloc::format!("day {}", self.days))
    }

    /// Whether `time` falls inside this cycle.
    pub fn contains(self, time: &DateTime) -> bool {
        Self::of(time) == self
    }
}

impl fmt::Display for ClearingDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_date_string())
    }
}
