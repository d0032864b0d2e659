//! Money: ISO 4217 [`Currency`] and [`Amount`] in integer minor units. Never floats.

use alloc::string::{String, ToString};
use core::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::Error;
use crate::error::echo;

/// An ISO 4217 alpha-3 currency code, e.g. `USD`.
///
/// Any three ASCII capital letters are accepted when parsing (a new currency must not break
/// parsing); [`Currency::exponent`] and validation tell whether it is in the ISO 4217 table.
///
/// ```
/// use alipayplus_types::Currency;
/// assert_eq!(Currency::new("JPY").unwrap(), Currency::JPY);
/// assert_eq!(Currency::JPY.exponent(), Some(0));
/// assert!(Currency::new("usd").is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    /// Parses three ASCII capital letters.
    pub fn new(code: &str) -> Result<Self, Error> {
        match code.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Ok(Currency([a, b, c])),
            _ => Err(Error::InvalidCurrency(echo(code))),
        }
    }

    /// The code, e.g. `"USD"`.
    pub fn as_str(&self) -> &str {
        // Only ASCII capitals are ever stored.
        core::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// Number of minor-unit digits (ISO 4217 exponent): 2 for USD, 0 for JPY, 3 for KWD.
    /// `None` when the code is not in the table.
    pub fn exponent(&self) -> Option<u8> {
        EXPONENTS
            .binary_search_by(|(c, _)| c.0.cmp(&self.0))
            .ok()
            .and_then(|i| EXPONENTS.get(i))
            .map(|(_, e)| *e)
    }

    /// Whether the code is in the ISO 4217 table.
    pub fn is_iso4217(&self) -> bool {
        self.exponent().is_some()
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::str::FromStr for Currency {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Currency::new(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Currency;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ISO 4217 currency code such as \"USD\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Currency, E> {
                Currency::new(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

macro_rules! currencies {
    ($($code:ident $exp:literal),* $(,)?) => {
        impl Currency {
            $(
                #[doc = concat!("ISO 4217 `", stringify!($code), "` (exponent ", stringify!($exp), ").")]
                pub const $code: Currency = {
                    let b = stringify!($code).as_bytes();
                    Currency([b[0], b[1], b[2]])
                };
            )*
        }
        /// ISO 4217 exponents, sorted by code (binary searched).
        static EXPONENTS: &[(Currency, u8)] = &[$((Currency::$code, $exp)),*];
    };
}

// ISO 4217 list (2024 edition plus a few recently withdrawn codes still seen in old records).
// Funds/metal codes without a minor unit are left out. Alipay+ uses the ISO exponents in every
// published example (JPY 0, USD 2); a wallet deviating from ISO (e.g. for IDR) is UNCERTAIN.
currencies! {
    AED 2, AFN 2, ALL 2, AMD 2, ANG 2, AOA 2, ARS 2, AUD 2, AWG 2, AZN 2,
    BAM 2, BBD 2, BDT 2, BGN 2, BHD 3, BIF 0, BMD 2, BND 2, BOB 2, BOV 2,
    BRL 2, BSD 2, BTN 2, BWP 2, BYN 2, BZD 2, CAD 2, CDF 2, CHE 2, CHF 2,
    CHW 2, CLF 4, CLP 0, CNY 2, COP 2, COU 2, CRC 2, CUC 2, CUP 2, CVE 2,
    CZK 2, DJF 0, DKK 2, DOP 2, DZD 2, EGP 2, ERN 2, ETB 2, EUR 2, FJD 2,
    FKP 2, GBP 2, GEL 2, GHS 2, GIP 2, GMD 2, GNF 0, GTQ 2, GYD 2, HKD 2,
    HNL 2, HRK 2, HTG 2, HUF 2, IDR 2, ILS 2, INR 2, IQD 3, IRR 2, ISK 0,
    JMD 2, JOD 3, JPY 0, KES 2, KGS 2, KHR 2, KMF 0, KPW 2, KRW 0, KWD 3,
    KYD 2, KZT 2, LAK 2, LBP 2, LKR 2, LRD 2, LSL 2, LYD 3, MAD 2, MDL 2,
    MGA 2, MKD 2, MMK 2, MNT 2, MOP 2, MRU 2, MUR 2, MVR 2, MWK 2, MXN 2,
    MXV 2, MYR 2, MZN 2, NAD 2, NGN 2, NIO 2, NOK 2, NPR 2, NZD 2, OMR 3,
    PAB 2, PEN 2, PGK 2, PHP 2, PKR 2, PLN 2, PYG 0, QAR 2, RON 2, RSD 2,
    RUB 2, RWF 0, SAR 2, SBD 2, SCR 2, SDG 2, SEK 2, SGD 2, SHP 2, SLE 2,
    SLL 2, SOS 2, SRD 2, SSP 2, STN 2, SVC 2, SYP 2, SZL 2, THB 2, TJS 2,
    TMT 2, TND 3, TOP 2, TRY 2, TTD 2, TWD 2, TZS 2, UAH 2, UGX 0, USD 2,
    USN 2, UYI 0, UYU 2, UYW 4, UZS 2, VED 2, VES 2, VND 0, VUV 0, WST 2,
    XAF 0, XCD 2, XCG 2, XOF 0, XPF 0, YER 2, ZAR 2, ZMW 2, ZWG 2, ZWL 2,
}

/// A count of a currency's minor units (cents for USD, yen for JPY), sent as a JSON string.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MinorUnits(pub u64);

impl MinorUnits {
    /// The count.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl From<u64> for MinorUnits {
    fn from(v: u64) -> Self {
        MinorUnits(v)
    }
}

impl fmt::Display for MinorUnits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl core::str::FromStr for MinorUnits {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::InvalidAmount(echo(s)));
        }
        s.parse::<u64>()
            .map(MinorUnits)
            .map_err(|_| Error::InvalidAmount(echo(s)))
    }
}

impl Serialize for MinorUnits {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for MinorUnits {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = MinorUnits;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer number of minor units as a string, e.g. \"100\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<MinorUnits, E> {
                Ok(MinorUnits(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<MinorUnits, E> {
                u64::try_from(v)
                    .map(MinorUnits)
                    .map_err(|_| E::custom(Error::InvalidAmount(v.to_string())))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<MinorUnits, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// An amount of money: `{"currency":"JPY","value":"100"}` is ¥100, `{"currency":"USD","value":"100"}`
/// is US$1.00. The value is always an integer count of minor units.
///
/// ```
/// use alipayplus_types::{Amount, Currency};
/// let a = Amount::new(Currency::USD, 1234);
/// assert_eq!(a.to_major_string().unwrap(), "12.34");
/// assert_eq!(Amount::from_major(Currency::JPY, "500").unwrap(), Amount::new(Currency::JPY, 500));
/// assert_eq!(serde_json::to_string(&a).unwrap(), r#"{"currency":"USD","value":"1234"}"#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Amount {
    /// ISO 4217 currency.
    pub currency: Currency,
    /// Integer count of minor units.
    pub value: MinorUnits,
}

impl Amount {
    /// `minor` minor units of `currency` (cents for USD).
    pub const fn new(currency: Currency, minor: u64) -> Self {
        Amount {
            currency,
            value: MinorUnits(minor),
        }
    }

    /// The minor-unit count.
    pub fn minor(&self) -> u64 {
        self.value.0
    }

    /// `self + other`; `None` if the currencies differ or the sum overflows.
    pub fn checked_add(&self, other: &Amount) -> Option<Amount> {
        (self.currency == other.currency)
            .then(|| self.minor().checked_add(other.minor()))
            .flatten()
            .map(|m| Amount::new(self.currency, m))
    }

    /// `self - other`; `None` if the currencies differ or the result would be negative.
    pub fn checked_sub(&self, other: &Amount) -> Option<Amount> {
        (self.currency == other.currency)
            .then(|| self.minor().checked_sub(other.minor()))
            .flatten()
            .map(|m| Amount::new(self.currency, m))
    }

    /// Parses a major-unit decimal (`"12.34"` USD → 1234 minor units) with the currency's
    /// exponent, exactly. More decimals than the currency has is an error, not a rounding.
    pub fn from_major(currency: Currency, major: &str) -> Result<Self, Error> {
        let exponent = currency
            .exponent()
            .ok_or_else(|| Error::UnknownCurrency(currency.as_str().to_string()))?;
        let out_of_range = || Error::AmountOutOfRange {
            value: echo(major),
            currency: currency.as_str().to_string(),
            exponent,
        };
        let (int, frac) = major.split_once('.').unwrap_or((major, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty()
            || !all_digits(int)
            || !all_digits(frac)
            || (major.contains('.') && frac.is_empty())
        {
            return Err(Error::InvalidAmount(echo(major)));
        }
        if frac.len() > usize::from(exponent) {
            return Err(out_of_range());
        }
        let mut minor: u64 = 0;
        let padding = usize::from(exponent) - frac.len();
        for b in int
            .bytes()
            .chain(frac.bytes())
            .chain(core::iter::repeat_n(b'0', padding))
        {
            minor = minor
                .checked_mul(10)
                .and_then(|m| m.checked_add(u64::from(b - b'0')))
                .ok_or_else(out_of_range)?;
        }
        Ok(Amount::new(currency, minor))
    }

    /// The amount in major units as exact decimal text (`1234` USD → `"12.34"`); `None` for a
    /// currency outside the ISO 4217 table.
    pub fn to_major_string(&self) -> Option<String> {
        let exponent = usize::from(self.currency.exponent()?);
        let digits = self.value.0.to_string();
        if exponent == 0 {
            return Some(digits);
        }
        let padded = if digits.len() <= exponent {
            let mut s = "0".repeat(exponent + 1 - digits.len());
            s.push_str(&digits);
            s
        } else {
            digits
        };
        let (int, frac) = padded.split_at(padded.len() - exponent);
        Some(alloc::format!("{int}.{frac}"))
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_major_string() {
            Some(major) => write!(f, "{major} {}", self.currency),
            None => write!(f, "{} minor units of {}", self.value, self.currency),
        }
    }
}

/// A signed amount of money in integer minor units: what settlement reports carry, where a
/// refund is negative (`-300` SGD is S$-3.00). [`Amount`] stays unsigned for the APIs, which
/// never send a negative value; this type is for totals and report rows.
///
/// Arithmetic is checked and refuses mixed currencies, so a sum is either exact or `None`.
///
/// ```
/// use alipayplus_types::{Amount, Currency, SignedAmount};
/// let refund = SignedAmount::parse_minor(Currency::SGD, "-300").unwrap();
/// let payment = SignedAmount::from_amount(Amount::new(Currency::SGD, 1500)).unwrap();
/// let net = payment.checked_add(&refund).unwrap();
/// assert_eq!(net, SignedAmount::new(Currency::SGD, 1200));
/// assert_eq!(refund.to_major_string().unwrap(), "-3.00");
/// assert_eq!(SignedAmount::parse_major(Currency::SGD, "-3.00").unwrap(), refund);
/// assert_eq!(refund.unsigned_abs(), Amount::new(Currency::SGD, 300));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignedAmount {
    /// ISO 4217 currency.
    pub currency: Currency,
    /// Signed count of minor units.
    pub minor: i64,
}

impl SignedAmount {
    /// `minor` minor units of `currency` (negative for money going back).
    pub const fn new(currency: Currency, minor: i64) -> Self {
        SignedAmount { currency, minor }
    }

    /// Zero in `currency`.
    pub const fn zero(currency: Currency) -> Self {
        SignedAmount { currency, minor: 0 }
    }

    /// The unsigned [`Amount`] as a signed one; `None` above `i64::MAX` minor units.
    pub fn from_amount(amount: Amount) -> Option<Self> {
        i64::try_from(amount.minor())
            .ok()
            .map(|m| SignedAmount::new(amount.currency, m))
    }

    /// The magnitude as an unsigned [`Amount`].
    pub fn unsigned_abs(&self) -> Amount {
        Amount::new(self.currency, self.minor.unsigned_abs())
    }

    /// `self + other`; `None` if the currencies differ or the sum overflows.
    pub fn checked_add(&self, other: &SignedAmount) -> Option<SignedAmount> {
        (self.currency == other.currency)
            .then(|| self.minor.checked_add(other.minor))
            .flatten()
            .map(|m| SignedAmount::new(self.currency, m))
    }

    /// `-self`; `None` for `i64::MIN` minor units.
    pub fn checked_neg(&self) -> Option<SignedAmount> {
        self.minor
            .checked_neg()
            .map(|m| SignedAmount::new(self.currency, m))
    }

    /// Parses an integer count of minor units with an optional leading `-` (`"-300"`).
    /// A `+` sign, spaces, decimals or an empty text are errors.
    pub fn parse_minor(currency: Currency, text: &str) -> Result<Self, Error> {
        let (negative, digits) = split_sign(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::InvalidAmount(echo(text)));
        }
        let magnitude: u64 = digits
            .parse()
            .map_err(|_| Error::InvalidAmount(echo(text)))?;
        Self::signed(currency, negative, magnitude).ok_or_else(|| Error::InvalidAmount(echo(text)))
    }

    /// Parses a major-unit decimal with an optional leading `-` (`"-3.00"` SGD is -300 minor
    /// units) with the currency's exponent, exactly; more decimals than the currency has is an
    /// error, not a rounding (see [`Amount::from_major`]).
    pub fn parse_major(currency: Currency, text: &str) -> Result<Self, Error> {
        let (negative, digits) = split_sign(text);
        let magnitude = Amount::from_major(currency, digits)?;
        Self::signed(currency, negative, magnitude.minor()).ok_or_else(|| Error::AmountOutOfRange {
            value: echo(text),
            currency: currency.as_str().to_string(),
            exponent: currency.exponent().unwrap_or(0),
        })
    }

    fn signed(currency: Currency, negative: bool, magnitude: u64) -> Option<Self> {
        let minor = if negative {
            0i64.checked_sub_unsigned(magnitude)?
        } else {
            i64::try_from(magnitude).ok()?
        };
        Some(SignedAmount::new(currency, minor))
    }

    /// The amount in major units as exact decimal text (`-300` SGD → `"-3.00"`); `None` for a
    /// currency outside the ISO 4217 table.
    pub fn to_major_string(&self) -> Option<String> {
        let magnitude = self.unsigned_abs().to_major_string()?;
        Some(if self.minor < 0 {
            alloc::format!("-{magnitude}")
        } else {
            magnitude
        })
    }
}

/// `("-300")` → `(true, "300")`; only a single leading `-` is a sign.
fn split_sign(text: &str) -> (bool, &str) {
    match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    }
}

impl fmt::Display for SignedAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_major_string() {
            Some(major) => write!(f, "{major} {}", self.currency),
            None => write!(f, "{} minor units of {}", self.minor, self.currency),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponent_table_is_sorted_so_lookup_works() {
        assert!(EXPONENTS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(Currency::KWD.exponent(), Some(3));
        assert_eq!(Currency::new("XAU").unwrap().exponent(), None);
    }

    #[test]
    fn major_conversions_are_exact() {
        assert_eq!(
            Amount::from_major(Currency::USD, "0.05").unwrap().minor(),
            5
        );
        assert_eq!(
            Amount::from_major(Currency::KWD, "1.5").unwrap().minor(),
            1500
        );
        assert!(Amount::from_major(Currency::JPY, "1.5").is_err());
        assert!(Amount::from_major(Currency::USD, "1.").is_err());
        assert!(Amount::from_major(Currency::USD, "-1").is_err());
        assert!(Amount::from_major(Currency::USD, "184467440737095516.16").is_err());
        assert_eq!(
            Amount::new(Currency::USD, 5).to_major_string().unwrap(),
            "0.05"
        );
        assert_eq!(
            Amount::new(Currency::KWD, 1500).to_major_string().unwrap(),
            "1.500"
        );
    }

    #[test]
    fn arithmetic_refuses_mixed_currencies_and_underflow() {
        let usd = Amount::new(Currency::USD, 500);
        assert_eq!(
            usd.checked_add(&usd),
            Some(Amount::new(Currency::USD, 1000))
        );
        assert_eq!(usd.checked_sub(&Amount::new(Currency::USD, 501)), None);
        assert_eq!(usd.checked_add(&Amount::new(Currency::SGD, 1)), None);
        assert_eq!(Amount::new(Currency::USD, u64::MAX).checked_add(&usd), None);
    }

    #[test]
    fn wire_value_is_a_string_of_minor_units() {
        let a: Amount = serde_json::from_str(r#"{"value":"100","currency":"JPY"}"#).unwrap();
        assert_eq!(a, Amount::new(Currency::JPY, 100));
        let err =
            serde_json::from_str::<Amount>(r#"{"value":"1.5","currency":"JPY"}"#).unwrap_err();
        assert!(err.to_string().contains("invalid amount value"), "{err}");
        let err = serde_json::from_str::<Amount>(r#"{"value":"1","currency":"yen"}"#).unwrap_err();
        assert!(err.to_string().contains("invalid currency code"), "{err}");
    }

    #[test]
    fn signed_amounts_parse_exactly_and_refuse_bad_text() {
        let sgd = Currency::SGD;
        assert_eq!(SignedAmount::parse_minor(sgd, "-300").unwrap().minor, -300);
        assert_eq!(SignedAmount::parse_minor(sgd, "0").unwrap().minor, 0);
        for bad in [
            "",
            "-",
            "+1",
            " 1",
            "1.5",
            "--1",
            "1e3",
            "9223372036854775808",
        ] {
            assert!(SignedAmount::parse_minor(sgd, bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            SignedAmount::parse_minor(sgd, "-9223372036854775808")
                .unwrap()
                .minor,
            i64::MIN
        );
        assert_eq!(
            SignedAmount::parse_major(Currency::KWD, "-1.5")
                .unwrap()
                .minor,
            -1500
        );
        assert!(SignedAmount::parse_major(Currency::JPY, "-1.5").is_err());
        assert!(SignedAmount::parse_major(sgd, "-").is_err());
        assert_eq!(
            SignedAmount::new(Currency::USD, -5)
                .to_major_string()
                .unwrap(),
            "-0.05"
        );
        assert_eq!(
            SignedAmount::new(Currency::USD, i64::MIN)
                .to_major_string()
                .unwrap(),
            "-92233720368547758.08"
        );
    }

    #[test]
    fn signed_arithmetic_is_checked() {
        let a = SignedAmount::new(Currency::USD, i64::MAX);
        assert_eq!(a.checked_add(&SignedAmount::new(Currency::USD, 1)), None);
        assert_eq!(a.checked_add(&SignedAmount::new(Currency::SGD, 0)), None);
        assert_eq!(
            SignedAmount::new(Currency::USD, i64::MIN).checked_neg(),
            None
        );
        assert_eq!(
            SignedAmount::from_amount(Amount::new(Currency::USD, u64::MAX)),
            None
        );
        assert_eq!(
            SignedAmount::new(Currency::USD, i64::MIN)
                .unsigned_abs()
                .minor(),
            1u64 << 63
        );
    }
}
