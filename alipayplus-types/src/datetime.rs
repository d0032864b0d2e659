//! [`DateTime`]: an RFC 3339 date-time kept byte-exact.

use alloc::string::{String, ToString};
use core::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use crate::Error;
use crate::error::echo;

/// An ISO 8601 / RFC 3339 date-time with a zone, e.g. `2019-05-28T12:12:13+08:00` or
/// `2025-02-20T08:51:49.09Z`.
///
/// The text is validated and kept exactly as given (so it round-trips byte-for-byte); the
/// instant is available as [`DateTime::unix_seconds`]. Equality compares the text; compare
/// instants with [`DateTime::unix_seconds`]. The library never reads the clock: callers pass
/// the time in.
///
/// ```
/// use alipayplus_types::DateTime;
/// let t = DateTime::parse("2019-05-28T12:12:13+08:00").unwrap();
/// assert_eq!(t.unix_seconds(), 1559016733);
/// assert_eq!(DateTime::from_unix(1559016733, 480).unwrap(), t);
/// assert!(DateTime::parse("2019-02-29T00:00:00Z").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DateTime {
    text: String,
    unix_seconds: i64,
    nanos: u32,
    offset_minutes: i16,
}

fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub(crate) fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

impl DateTime {
    /// Validates RFC 3339 `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        Self::parse_inner(text).ok_or_else(|| Error::InvalidDateTime(echo(text)))
    }

    fn parse_inner(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        let sep = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
        if b.len() < 20
            || !sep(4, b"-")
            || !sep(7, b"-")
            || !sep(10, b"Tt")
            || !sep(13, b":")
            || !sep(16, b":")
        {
            return None;
        }
        let year = i64::from(num(b.get(0..4)?)?);
        let month = num(b.get(5..7)?)?;
        let day = num(b.get(8..10)?)?;
        let hour = num(b.get(11..13)?)?;
        let minute = num(b.get(14..16)?)?;
        let second = num(b.get(17..19)?)?;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let mut rest = b.get(19..)?;
        let mut nanos = 0u32;
        if let Some((b'.', frac)) = rest.split_first() {
            let len = frac.iter().take_while(|c| c.is_ascii_digit()).count();
            if len == 0 {
                return None;
            }
            let digits = frac.get(..len)?;
            // Keep nanosecond precision; further digits are accepted and ignored.
            for i in 0..9 {
                nanos = nanos * 10 + digits.get(i).map_or(0, |d| u32::from(d - b'0'));
            }
            rest = frac.get(len..)?;
        }
        let offset_minutes: i16 = match rest {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let oh = num(&[*h1, *h2])?;
                let om = num(&[*m1, *m2])?;
                if oh > 23 || om > 59 {
                    return None;
                }
                let total = i16::try_from(oh * 60 + om).ok()?;
                if *sign == b'-' { -total } else { total }
            }
            _ => return None,
        };
        let local = days_from_civil(year, month, day) * 86_400
            + i64::from(hour * 3600 + minute * 60 + second.min(59));
        Some(DateTime {
            text: text.to_string(),
            unix_seconds: local - i64::from(offset_minutes) * 60,
            nanos,
            offset_minutes,
        })
    }

    /// Formats an instant as `YYYY-MM-DDTHH:MM:SS±HH:MM` in the given offset (whole seconds,
    /// the form the official Alipay+ SDK sends). Offset must be within ±23:59.
    pub fn from_unix(unix_seconds: i64, offset_minutes: i16) -> Result<Self, Error> {
        let bad = || Error::InvalidDateTime(alloc::format!("{unix_seconds}s{offset_minutes:+}min"));
        if offset_minutes.unsigned_abs() >= 24 * 60 {
            return Err(bad());
        }
        let local = unix_seconds
            .checked_add(i64::from(offset_minutes) * 60)
            .ok_or_else(bad)?;
        let (y, m, d) = civil_from_days(local.div_euclid(86_400));
        if !(0..=9999).contains(&y) {
            return Err(bad());
        }
        let secs = local.rem_euclid(86_400);
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let off = offset_minutes.unsigned_abs();
        let text = alloc::format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60,
            off / 60,
            off % 60
        );
        DateTime::parse(&text)
    }

    /// The text exactly as received or built.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Seconds since 1970-01-01T00:00:00Z (a leap second `:60` counts as `:59`).
    pub fn unix_seconds(&self) -> i64 {
        self.unix_seconds
    }

    /// Fraction of the second, in nanoseconds.
    pub fn subsec_nanos(&self) -> u32 {
        self.nanos
    }

    /// The zone offset in minutes east of UTC (`Z` = 0).
    pub fn offset_minutes(&self) -> i16 {
        self.offset_minutes
    }
}

impl fmt::Debug for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DateTime({})", self.text)
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl core::str::FromStr for DateTime {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        DateTime::parse(s)
    }
}

impl Serialize for DateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for DateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse(&s).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_forms_in_the_spec() {
        for t in [
            "2019-04-04T12:08:56+05:30",
            "2025-02-20T08:51:49.09Z",
            "2020-01-01T12:01:01+08:30",
            "2024-02-29T23:59:60-11:00",
        ] {
            assert_eq!(DateTime::parse(t).unwrap().as_str(), t);
        }
        let t = DateTime::parse("2025-02-20T08:51:49.09Z").unwrap();
        assert_eq!(t.subsec_nanos(), 90_000_000);
        assert_eq!(t.unix_seconds(), 1_740_041_509);
    }

    #[test]
    fn rejects_malformed_and_impossible_times() {
        for t in [
            "",
            "2019-05-28",
            "2019-05-28T12:12:13",
            "2019-05-28 12:12:13+08:00",
            "2019-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2019-05-28T24:00:00Z",
            "2019-05-28T12:12:13.Z",
            "2019-05-28T12:12:13+0800",
            "2019-05-28T12:12:13+24:00",
            "1685599933871",
        ] {
            assert!(DateTime::parse(t).is_err(), "{t}");
        }
    }

    #[test]
    fn from_unix_round_trips() {
        for (s, off) in [
            (0, 0),
            (1_740_041_509, 0),
            (951_782_400, -330),
            (-86_400, 60),
        ] {
            let t = DateTime::from_unix(s, off).unwrap();
            assert_eq!(t.unix_seconds(), s);
            assert_eq!(t.offset_minutes(), off);
        }
        assert_eq!(
            DateTime::from_unix(0, 0).unwrap().as_str(),
            "1970-01-01T00:00:00+00:00"
        );
    }
}
