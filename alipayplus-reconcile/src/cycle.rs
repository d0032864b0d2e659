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

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm, as in
/// `alipayplus_types::DateTime`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
    })
}

/// The Unix seconds of an RFC 3339 time, accepting exactly what
/// [`alipayplus_types::DateTime::parse`] accepts (same value) but without building one: the
/// ledger and report rows are bucketed with it (no allocation per row). A test checks the two
/// agree.
pub(crate) fn unix_seconds(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let year = i64::from(digits(&b[0..4])?);
    let (month, day) = (digits(&b[5..7])?, digits(&b[8..10])?);
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=12).contains(&month) || day == 0 || day > month_days {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &b[19..];
    if let Some((b'.', frac)) = rest.split_first() {
        let len = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        rest = &frac[len..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (oh, om) = (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let total = i64::from(oh * 60 + om);
            if *sign == b'-' { -total } else { total }
        }
        _ => return None,
    };
    let local = days_from_civil(year, month, day) * DAY
        + i64::from(hour * 3600 + minute * 60 + second.min(59));
    Some(local - offset * 60)
}

impl fmt::Display for ClearingDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_date_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast parse accepts and rejects exactly what `DateTime::parse` does, with its value.
    #[test]
    fn unix_seconds_agrees_with_datetime() {
        let base = [
            "2025-06-01T10:00:00+08:00",
            "2025-06-01T16:00:00Z",
            "2024-02-29T23:59:60.123456789012-23:59",
            "1970-01-01t00:00:00z",
            "9999-12-31T23:59:59+00:00",
            "0000-03-01T00:00:00Z",
        ];
        let mut cases: alloc::vec::Vec<String> = base.iter().map(|s| String::from(*s)).collect();
        // Every single-byte change and every truncation of the valid ones.
        for s in base {
            for i in 0..s.len() {
                cases.push(String::from(&s[..i]));
                for c in [
                    b'0', b'9', b'3', b'T', b'Z', b'.', b'+', b'-', b':', b' ', b'a',
                ] {
                    let mut b = s.as_bytes().to_vec();
                    b[i] = c;
                    cases.extend(String::from_utf8(b).ok());
                }
            }
        }
        cases.extend(
            [
                "2025-02-29T00:00:00Z",
                "2025-13-01T00:00:00Z",
                "2025-06-01T24:00:00Z",
            ]
            .map(String::from),
        );
        for c in &cases {
            let slow = DateTime::parse(c).ok().map(|t| t.unix_seconds());
            assert_eq!(unix_seconds(c), slow, "{c:?}");
        }
    }
}
