//! Scalars that travel as JSON strings: booleans, integers, decimals, and secrets.

use alloc::string::{String, ToString};
use core::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::Error;
use crate::error::echo;

/// A boolean sent as the JSON string `"true"` / `"false"` (a JSON boolean is accepted on input).
///
/// ```
/// use alipayplus_types::StrBool;
/// assert_eq!(serde_json::to_string(&StrBool(true)).unwrap(), "\"true\"");
/// assert_eq!(serde_json::from_str::<StrBool>("\"false\"").unwrap(), StrBool(false));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct StrBool(pub bool);

impl From<bool> for StrBool {
    fn from(b: bool) -> Self {
        StrBool(b)
    }
}

impl core::str::FromStr for StrBool {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "true" => Ok(StrBool(true)),
            "false" => Ok(StrBool(false)),
            _ if s.eq_ignore_ascii_case("true") => Ok(StrBool(true)),
            _ if s.eq_ignore_ascii_case("false") => Ok(StrBool(false)),
            _ => Err(Error::InvalidBool(echo(s))),
        }
    }
}

impl Serialize for StrBool {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.0 { "true" } else { "false" })
    }
}

impl<'de> Deserialize<'de> for StrBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = StrBool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"true\" or \"false\"")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<StrBool, E> {
                Ok(StrBool(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StrBool, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// An integer sent as a JSON string, e.g. `"20"` (a JSON integer is accepted on input).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StrInt(pub i64);

impl From<i64> for StrInt {
    fn from(v: i64) -> Self {
        StrInt(v)
    }
}

impl core::str::FromStr for StrInt {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let digits = s.strip_prefix('-').unwrap_or(s);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::InvalidInt(echo(s)));
        }
        s.parse::<i64>()
            .map(StrInt)
            .map_err(|_| Error::InvalidInt(echo(s)))
    }
}

impl Serialize for StrInt {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for StrInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = StrInt;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer as a string, e.g. \"20\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StrInt, E> {
                Ok(StrInt(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StrInt, E> {
                i64::try_from(v)
                    .map(StrInt)
                    .map_err(|_| E::custom(Error::InvalidInt(v.to_string())))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StrInt, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// A decimal number sent as a JSON string (an FX rate such as `"7.2501"`), kept exactly as
/// text: never converted to a float.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StrDecimal(String);

impl StrDecimal {
    /// Checks `text` is plain decimal: optional `-`, digits, optional `.` and digits.
    pub fn new(text: &str) -> Result<Self, Error> {
        let body = text.strip_prefix('-').unwrap_or(text);
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (body, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if digits(int) && frac.is_none_or(digits) {
            Ok(StrDecimal(text.to_string()))
        } else {
            Err(Error::InvalidDecimal(echo(text)))
        }
    }

    /// The text as received.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StrDecimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for StrDecimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for StrDecimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        StrDecimal::new(&s).map_err(de::Error::custom)
    }
}

/// A credential sent as a JSON string (access token, refresh token, auth code).
///
/// `Debug` never shows the value, so it cannot leak through logs or error messages, and the
/// value is wiped (zeroized) when the `Secret` is dropped.
///
/// ```
/// use alipayplus_types::Secret;
/// let token = Secret::new("28100113A1C2");
/// assert_eq!(format!("{token:?}"), "Secret(***)");
/// assert_eq!(token.expose(), "28100113A1C2");
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The credential itself; use only to put it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl zeroize::Zeroize for Secret {
    /// Overwrites the credential's bytes (its whole buffer) with zeros, leaving it empty.
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for Secret {
    /// Wipes the credential: a dropped token leaves no copy in freed memory.
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(self);
    }
}

impl zeroize::ZeroizeOnDrop for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_string())
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    /// Reads a JSON string. Anything else is refused without repeating the value (a parser's
    /// "invalid type" message would show a credential sent as a number).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        const NOT_TEXT: &str = "a credential must be a JSON string (value not shown)";
        impl Visitor<'_> for V {
            type Value = Secret;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a credential as a JSON string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Secret, E> {
                Ok(Secret(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Secret, E> {
                Ok(Secret(v))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Secret, E> {
                Err(E::custom(NOT_TEXT))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Secret, E> {
                Err(E::custom(NOT_TEXT))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Secret, E> {
                Err(E::custom(NOT_TEXT))
            }
            fn visit_i128<E: de::Error>(self, _: i128) -> Result<Secret, E> {
                Err(E::custom(NOT_TEXT))
            }
            fn visit_u128<E: de::Error>(self, _: u128) -> Result<Secret, E> {
                Err(E::custom(NOT_TEXT))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Secret, E> {
                Err(E::custom(NOT_TEXT))
            }
            fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Secret, E> {
                Err(E::custom(NOT_TEXT))
            }
        }
        d.deserialize_any(V)
    }
}

/// Deserializes an open string enum (generated enums): any string is accepted.
pub(crate) fn deserialize_open<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: for<'a> From<&'a str>,
{
    struct V<T>(core::marker::PhantomData<T>);
    impl<T: for<'a> From<&'a str>> Visitor<'_> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            Ok(T::from(v))
        }
    }
    d.deserialize_str(V(core::marker::PhantomData))
}
