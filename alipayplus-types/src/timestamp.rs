//! [`Timestamp`]: an instant in milliseconds, its ISO 8601 forms and [`TimeFormat`].
//!
//! The one home of instants and calendar arithmetic in the workspace (the calendar helpers are
//! shared with [`DateTime`](crate::DateTime)). The library never reads a clock: time is an input.

use alloc::string::String;
use core::fmt::{self, Write as _};
use core::time::Duration;

use crate::datetime::{civil_from_days, days_from_civil, days_in_month};
use crate::error::TimeParseError;

/// An instant as milliseconds since the Unix epoch (UTC), the resolution Alipay+ times use.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Timestamp(i64);

impl From<&crate::DateTime> for Timestamp {
    /// The instant of an Alipay+ date-time (e.g. `paymentExpiryTime`), to the millisecond.
    fn from(t: &crate::DateTime) -> Self {
        let millis = i64::from(t.subsec_nanos() / 1_000_000);
        Timestamp(t.unix_seconds().saturating_mul(1000).saturating_add(millis))
    }
}

impl core::ops::Add<Duration> for Timestamp {
    type Output = Timestamp;

    /// This instant plus `d` (saturating).
    fn add(self, d: Duration) -> Timestamp {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_add(ms))
    }
}

impl core::ops::Sub<Duration> for Timestamp {
    type Output = Timestamp;

    /// This instant minus `d` (saturating).
    fn sub(self, d: Duration) -> Timestamp {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_sub(ms))
    }
}

impl Timestamp {
    /// The instant `millis` milliseconds after 1970-01-01T00:00:00Z.
    pub const fn from_unix_millis(millis: i64) -> Self {
        Timestamp(millis)
    }

    /// The instant `secs` seconds after 1970-01-01T00:00:00Z (saturating).
    pub const fn from_unix_secs(secs: i64) -> Self {
        Timestamp(secs.saturating_mul(1000))
    }

    /// Milliseconds since the Unix epoch.
    pub const fn unix_millis(self) -> i64 {
        self.0
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0))
    }

    /// Parses a `Request-Time` / `Response-Time` header value: ISO 8601 with a zone
    /// ([`Timestamp::parse_iso8601`]), or epoch milliseconds (1 to 16 ASCII digits: the form
    /// the Alipay Java SDK sends, common §1.2).
    ///
    /// ```
    /// use alipayplus_types::Timestamp;
    /// assert_eq!(
    ///     Timestamp::parse_header_time("1740041509000").unwrap(),
    ///     Timestamp::parse_header_time("2025-02-20T08:51:49Z").unwrap()
    /// );
    /// assert!(Timestamp::parse_header_time("").is_err());
    /// ```
    ///
    /// # Errors
    /// [`TimeParseError`] naming the part that is wrong.
    pub fn parse_header_time(text: &str) -> Result<Self, TimeParseError> {
        let digits =
            !text.is_empty() && text.len() <= 16 && text.bytes().all(|b| b.is_ascii_digit());
        if digits {
            let millis = text
                .bytes()
                .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'));
            return Ok(Timestamp(millis));
        }
        Self::parse_iso8601(text)
    }

    /// Parses an ISO 8601 / RFC 3339 date-time with a zone: `YYYY-MM-DDTHH:MM:SS`, an optional
    /// fraction (any number of digits; beyond milliseconds truncated), then `Z` or `±HH:MM`
    /// (also `±HHMM`). A lower-case `t`/`z` or a space before the time are accepted.
    ///
    /// # Errors
    /// [`TimeParseError`] naming the part that is wrong.
    pub fn parse_iso8601(text: &str) -> Result<Self, TimeParseError> {
        let err = |reason| TimeParseError { reason };
        let b = text.as_bytes();
        let num = |from: usize, len: usize, what: &'static str| -> Result<i64, TimeParseError> {
            let digits = b.get(from..from + len).ok_or(err(what))?;
            digits.iter().try_fold(0i64, |acc, &d| {
                if d.is_ascii_digit() {
                    Ok(acc * 10 + i64::from(d - b'0'))
                } else {
                    Err(err(what))
                }
            })
        };
        let sep = |at: usize, ok: &[u8], what: &'static str| match b.get(at) {
            Some(c) if ok.contains(c) => Ok(()),
            _ => Err(err(what)),
        };
        let year = num(0, 4, "year must be 4 digits")?;
        sep(4, b"-", "expected '-' after the year")?;
        let month = num(5, 2, "month must be 2 digits")?;
        sep(7, b"-", "expected '-' after the month")?;
        let day = num(8, 2, "day must be 2 digits")?;
        sep(10, b"Tt ", "expected 'T' between date and time")?;
        let hour = num(11, 2, "hour must be 2 digits")?;
        sep(13, b":", "expected ':' after the hour")?;
        let minute = num(14, 2, "minute must be 2 digits")?;
        sep(
            16,
            b":",
            "expected ':' after the minute (seconds are required)",
        )?;
        let second = num(17, 2, "second must be 2 digits")?;
        if !(1..=12).contains(&month) {
            return Err(err("month out of range"));
        }
        if day < 1 || day > i64::from(days_in_month(year, month as u32)) {
            return Err(err("day out of range for the month"));
        }
        if hour > 23 || minute > 59 || second > 60 {
            return Err(err("time of day out of range"));
        }
        let mut at = 19;
        let mut millis = 0i64;
        if b.get(at) == Some(&b'.') {
            at += 1;
            let start = at;
            while b.get(at).is_some_and(u8::is_ascii_digit) {
                if at - start < 3 {
                    millis = millis * 10 + i64::from(b[at] - b'0');
                }
                at += 1;
            }
            if at == start {
                return Err(err("empty fraction of a second"));
            }
            for _ in (at - start)..3 {
                millis *= 10;
            }
        }
        let offset_minutes = match b.get(at) {
            Some(b'Z' | b'z') if b.len() == at + 1 => 0,
            Some(&s @ (b'+' | b'-')) => {
                let oh = num(at + 1, 2, "zone offset hours must be 2 digits")?;
                let om_at = if b.get(at + 3) == Some(&b':') {
                    at + 4
                } else {
                    at + 3
                };
                let om = num(om_at, 2, "zone offset minutes must be 2 digits")?;
                if b.len() != om_at + 2 {
                    return Err(err("unexpected text after the zone offset"));
                }
                if oh > 23 || om > 59 {
                    return Err(err("zone offset out of range"));
                }
                let total = oh * 60 + om;
                if s == b'-' { -total } else { total }
            }
            Some(_) => return Err(err("expected 'Z' or a ±HH:MM zone offset")),
            None => return Err(err("a zone designator ('Z' or ±HH:MM) is required")),
        };
        let days = days_from_civil(year, month as u32, day as u32);
        // A leap second (:60) is folded onto the next second.
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
        Ok(Timestamp(secs * 1000 + millis))
    }

    /// Formats this instant in `format`.
    pub fn format(self, format: TimeFormat) -> String {
        let mut out = String::with_capacity(29);
        // Writing to a String cannot fail.
        let _ = write!(out, "{}", Formatted { at: self, format });
        out
    }
}

/// How the client writes `Request-Time` / `Response-Time`: ISO 8601 in one of the shapes the
/// Alipay+ documentation shows. The header value is signed byte for byte, so whatever is
/// chosen is what is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeFormat {
    /// Whole seconds with a numeric offset from UTC in minutes, e.g. `+00:00` for `0` or
    /// `+08:00` for `480`: `2025-02-20T08:51:49+00:00`. With offset 0 this is what the official
    /// Alipay+ Python SDK sends, hence the default.
    Offset(i16),
    /// Whole seconds in UTC with `Z`: `2025-02-20T08:51:49Z`.
    Utc,
    /// Milliseconds in UTC with `Z`: `2025-02-20T08:51:49.090Z` (2025 documentation style).
    UtcMillis,
}

impl Default for TimeFormat {
    /// `Offset(0)`: `2025-02-20T08:51:49+00:00`.
    fn default() -> Self {
        TimeFormat::Offset(0)
    }
}

struct Formatted {
    at: Timestamp,
    format: TimeFormat,
}

impl fmt::Display for Formatted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let offset_min = match self.format {
            TimeFormat::Offset(m) => i64::from(m.clamp(-23 * 60 - 59, 23 * 60 + 59)),
            _ => 0,
        };
        let local_ms = self.at.0.saturating_add(offset_min * 60_000);
        let secs = local_ms.div_euclid(1000);
        let millis = local_ms.rem_euclid(1000);
        let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
        let sod = secs.rem_euclid(86_400);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            sod / 3600,
            sod % 3600 / 60,
            sod % 60
        )?;
        match self.format {
            TimeFormat::Utc => f.write_str("Z"),
            TimeFormat::UtcMillis => write!(f, ".{millis:03}Z"),
            TimeFormat::Offset(_) => {
                let sign = if offset_min < 0 { '-' } else { '+' };
                let a = offset_min.abs();
                write!(f, "{sign}{:02}:{:02}", a / 60, a % 60)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_shapes() {
        let base = Timestamp::parse_iso8601("2019-05-28T04:12:12Z").unwrap();
        assert_eq!(base.unix_millis(), 1_559_016_732_000);
        for same in [
            "2019-05-28T12:12:12+08:00",
            "2019-05-28T12:12:12+0800",
            "2019-05-28T09:42:12+05:30",
            "2019-05-28t04:12:12z",
            "2019-05-28 04:12:12Z",
            "2019-05-28T04:12:12.000Z",
            "2019-05-27T23:12:12-05:00",
        ] {
            assert_eq!(Timestamp::parse_iso8601(same), Ok(base), "{same}");
        }
        let frac = Timestamp::parse_iso8601("2025-02-20T08:51:49.09Z").unwrap();
        assert_eq!(frac.unix_millis() % 1000, 90);
        let long = Timestamp::parse_iso8601("2025-02-20T08:51:49.123456789Z").unwrap();
        assert_eq!(long.unix_millis() % 1000, 123);
    }

    #[test]
    fn rejects_bad_input_without_panicking() {
        for bad in [
            "",
            "2019",
            "2019-05-28",
            "2019-05-28T12:12",
            "2019-05-28T12:12:12",
            "2019-13-28T12:12:12Z",
            "2019-02-29T12:12:12Z",
            "2019-05-28T24:00:00Z",
            "2019-05-28T12:12:12.Z",
            "2019-05-28T12:12:12+8",
            "2019-05-28T12:12:12+08:00x",
            "2019-05-28T12:12:12Zx",
            "1685599933871",
            "２０１９-05-28T12:12:12Z",
        ] {
            assert!(Timestamp::parse_iso8601(bad).is_err(), "{bad}");
        }
        assert!(Timestamp::parse_iso8601("2020-02-29T00:00:00Z").is_ok());
    }

    #[test]
    fn converts_alipay_date_times() {
        let dt = crate::DateTime::parse("2025-02-20T16:51:49.09+08:00").unwrap();
        assert_eq!(
            Timestamp::from(&dt),
            Timestamp::parse_iso8601("2025-02-20T08:51:49.090Z").unwrap()
        );
    }

    #[test]
    fn formats_round_trip() {
        let t = Timestamp::parse_iso8601("2025-02-20T08:51:49.09Z").unwrap();
        assert_eq!(t.format(TimeFormat::default()), "2025-02-20T08:51:49+00:00");
        assert_eq!(t.format(TimeFormat::Utc), "2025-02-20T08:51:49Z");
        assert_eq!(t.format(TimeFormat::UtcMillis), "2025-02-20T08:51:49.090Z");
        assert_eq!(
            t.format(TimeFormat::Offset(480)),
            "2025-02-20T16:51:49+08:00"
        );
        assert_eq!(
            t.format(TimeFormat::Offset(-330)),
            "2025-02-20T03:21:49-05:30"
        );
        for f in [
            TimeFormat::default(),
            TimeFormat::Utc,
            TimeFormat::UtcMillis,
            TimeFormat::Offset(480),
            TimeFormat::Offset(-330),
        ] {
            let back = Timestamp::parse_iso8601(&t.format(f)).unwrap();
            assert_eq!(back.unix_millis() / 1000, t.unix_millis() / 1000);
        }
        let before_epoch = Timestamp::from_unix_millis(-1);
        assert_eq!(
            before_epoch.format(TimeFormat::UtcMillis),
            "1969-12-31T23:59:59.999Z"
        );
    }
}
