//! The crate's error type: a value that could not be parsed or built.

use alloc::string::String;

/// Most characters of received text an [`Error`] repeats. The values these errors describe are
/// short when valid (a date-time, an amount, a currency code); a longer one is cut, so a hostile
/// or broken body cannot put megabytes into an error message or a log line.
pub const MAX_ECHO_CHARS: usize = 64;

/// `text` as an error repeats it: at most [`MAX_ECHO_CHARS`] characters, then `…` and the full
/// length in bytes when it was longer.
pub(crate) fn echo(text: &str) -> String {
    match text.char_indices().nth(MAX_ECHO_CHARS) {
        None => String::from(text),
        Some((cut, _)) => alloc::format!(
            "{}… ({} bytes)",
            text.get(..cut).unwrap_or_default(),
            text.len()
        ),
    }
}

/// A value did not have the form Alipay+ uses on the wire.
///
/// Returned by the constructors of the core types ([`crate::Currency`], [`crate::Amount`],
/// [`crate::DateTime`], [`crate::StrInt`], ...) and used as the message of serde errors, so a
/// bad response body names what is wrong. The offending text is repeated cut to
/// [`MAX_ECHO_CHARS`] characters.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A currency code was not three ASCII capital letters (ISO 4217 alpha-3).
    #[error("invalid currency code {0:?}: expected three capital letters (ISO 4217, e.g. \"USD\")")]
    InvalidCurrency(String),
    /// A currency is well formed but absent from the ISO 4217 exponent table.
    #[error("currency {0} is not in the ISO 4217 table, so its minor unit is unknown")]
    UnknownCurrency(String),
    /// An amount value was not a non-negative integer of minor units.
    #[error("invalid amount value {0:?}: expected an integer number of minor units, e.g. \"100\"")]
    InvalidAmount(String),
    /// A major-unit amount had more decimals than the currency allows, or did not fit.
    #[error(
        "amount {value:?} does not fit {currency} (at most {exponent} decimals, below 2^64 minor units)"
    )]
    AmountOutOfRange {
        /// The text given.
        value: String,
        /// The currency code.
        currency: String,
        /// The currency's exponent.
        exponent: u8,
    },
    /// A date-time was not RFC 3339 (`2019-05-28T12:12:13+08:00`, `2025-02-20T08:51:49.09Z`).
    #[error(
        "invalid date-time {0:?}: expected RFC 3339 with a zone, e.g. \"2019-05-28T12:12:13+08:00\""
    )]
    InvalidDateTime(String),
    /// A boolean was not `"true"` or `"false"`.
    #[error("invalid boolean {0:?}: expected \"true\" or \"false\"")]
    InvalidBool(String),
    /// An integer was not a decimal integer that fits 64 bits.
    #[error("invalid integer {0:?}: expected a decimal integer such as \"20\"")]
    InvalidInt(String),
    /// A decimal number was not plain decimal text.
    #[error("invalid decimal {0:?}: expected plain decimal text such as \"7.2501\"")]
    InvalidDecimal(String),
}

/// Why a date-time string is not an ISO 8601 instant this crate accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid ISO 8601 date-time (expected e.g. 2025-02-20T08:51:49+08:00 or ...49.09Z): {reason}"
)]
pub struct TimeParseError {
    pub(crate) reason: &'static str,
}
