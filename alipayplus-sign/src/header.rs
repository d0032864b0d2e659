//! The `Signature` header, common.md §2.4-§2.5.
//!
//! Emitted as `algorithm=RSA256,keyVersion=N,signature=<percent-encoded standard base64>` (no
//! spaces, the form Alipay+'s own SDKs send), into a fixed-capacity buffer.
//!
//! Parsed leniently, as a careful integrator would:
//! - pairs split on `,`, spaces and tabs around pairs and around `=` ignored, any order;
//! - each pair split on the *first* `=` (an unencoded base64 value may end in `=`);
//! - keys compared ASCII case-insensitively (the docs do not say; we emit the documented casing),
//!   unknown keys ignored, a repeated known key refused as ambiguous;
//! - the signature value percent-decoded with a decoder that never turns `+` into a space, then
//!   base64-decoded: standard or url-safe alphabet, padded or not (canonical trailing bits only).
//!
//! Refused with a typed [`Error`]: a missing or empty signature, a missing algorithm or one other
//! than `RSA256`, a pair without `=`, a keyVersion that is not a non-negative integer, and
//! values longer than any valid one.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_PAD_INDIFFERENT};
use core::fmt::Write as _;

use crate::Error;
use crate::signer::{MAX_SIGNATURE_LEN, RsaSignature};

/// The only `algorithm` value of Alipay+.
pub const ALGORITHM: &str = "RSA256";

/// Standard padded base64 length of the largest signature.
const MAX_BASE64_LEN: usize = MAX_SIGNATURE_LEN.div_ceil(3) * 4;
/// Longest signature value: every base64 character percent-encoded.
const MAX_SIGNATURE_VALUE_LEN: usize = MAX_BASE64_LEN * 3;
/// Digits of `u32::MAX`.
const MAX_KEY_VERSION_LEN: usize = 10;
/// Longest accepted `algorithm` value.
const MAX_ALGORITHM_LEN: usize = 16;

const PREFIX: &str = "algorithm=RSA256,keyVersion=";
const SIGNATURE_KEY: &str = ",signature=";

/// Capacity of a formatted header: enough for a 4096-bit signature with every base64 character
/// percent-encoded and the largest keyVersion.
pub const HEADER_CAPACITY: usize =
    PREFIX.len() + MAX_KEY_VERSION_LEN + SIGNATURE_KEY.len() + MAX_SIGNATURE_VALUE_LEN;

/// Longest `Signature` header value [`SignatureHeader::parse`] reads (room for unknown pairs).
pub const MAX_HEADER_LEN: usize = 4096;

/// A formatted `Signature` header value, held inline (no heap).
///
/// ```
/// use alipayplus_sign::SignatureHeader;
///
/// let header = SignatureHeader::new(1, &[0xfb; 256])?;
/// assert!(header.as_str().starts_with("algorithm=RSA256,keyVersion=1,signature=%2B%2Fv7"));
/// assert!(header.as_str().ends_with("%3D"));
///
/// let parsed = SignatureHeader::parse(header.as_str())?;
/// assert_eq!(parsed.key_version, Some(1));
/// assert_eq!(parsed.signature.as_bytes(), &[0xfb; 256][..]);
/// # Ok::<(), alipayplus_sign::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    value: heapless::String<HEADER_CAPACITY>,
    key_version: u32,
}

/// What a `Signature` header says, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSignatureHeader {
    /// The `keyVersion` value, if the header has one.
    pub key_version: Option<u32>,
    /// The raw signature bytes (percent- and base64-decoded).
    pub signature: RsaSignature,
}

impl SignatureHeader {
    /// Formats the header value for a raw signature and the version of the key that made it.
    ///
    /// # Errors
    /// [`Error::InvalidSignatureLength`] when `signature` is empty or longer than
    /// [`MAX_SIGNATURE_LEN`].
    pub fn new(key_version: u32, signature: &[u8]) -> Result<Self, Error> {
        if signature.is_empty() || signature.len() > MAX_SIGNATURE_LEN {
            return Err(Error::InvalidSignatureLength {
                len: signature.len(),
            });
        }
        let mut b64 = [0u8; MAX_BASE64_LEN];
        let b64_len = STANDARD.encode_slice(signature, &mut b64).map_err(|_| {
            Error::InvalidSignatureLength {
                len: signature.len(),
            }
        })?;

        let mut value = heapless::String::new();
        // Cannot overflow: HEADER_CAPACITY covers the worst case; mapped anyway, never unwrapped.
        let full = |_| Error::HeaderTooLong {
            max: HEADER_CAPACITY,
        };
        value.push_str(PREFIX).map_err(full)?;
        write!(value, "{key_version}").map_err(|_| Error::HeaderTooLong {
            max: HEADER_CAPACITY,
        })?;
        value.push_str(SIGNATURE_KEY).map_err(full)?;
        for &c in b64.get(..b64_len).unwrap_or_default() {
            // Form-URL-encoding of base64: only these three characters are not unreserved.
            let piece = match c {
                b'+' => "%2B",
                b'/' => "%2F",
                b'=' => "%3D",
                _ => {
                    value.push(char::from(c)).map_err(full)?;
                    continue;
                }
            };
            value.push_str(piece).map_err(full)?;
        }
        Ok(Self { value, key_version })
    }

    /// The header value, ready for the `Signature` header.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The keyVersion written into the header.
    pub fn key_version(&self) -> u32 {
        self.key_version
    }

    /// Parses a received `Signature` header value (leniently, see the module docs).
    ///
    /// # Errors
    /// A typed [`Error`] naming what is wrong: [`Error::MissingSignature`],
    /// [`Error::MissingAlgorithm`], [`Error::UnsupportedAlgorithm`], [`Error::MalformedPair`],
    /// [`Error::DuplicateField`], [`Error::InvalidKeyVersion`], [`Error::ValueTooLong`],
    /// [`Error::HeaderTooLong`], [`Error::InvalidPercentEncoding`], [`Error::InvalidBase64`],
    /// [`Error::InvalidSignatureLength`].
    pub fn parse(value: &str) -> Result<ParsedSignatureHeader, Error> {
        if value.len() > MAX_HEADER_LEN {
            return Err(Error::HeaderTooLong {
                max: MAX_HEADER_LEN,
            });
        }
        let mut algorithm = None;
        let mut key_version = None;
        let mut signature = None;
        for pair in value.split(',') {
            let (key, val) = trim(pair).split_once('=').ok_or(Error::MalformedPair)?;
            let (key, val) = (trim(key), trim(val));
            if key.is_empty() {
                return Err(Error::MalformedPair);
            }
            let (slot, field) = if key.eq_ignore_ascii_case("algorithm") {
                (&mut algorithm, "algorithm")
            } else if key.eq_ignore_ascii_case("keyVersion") {
                (&mut key_version, "keyVersion")
            } else if key.eq_ignore_ascii_case("signature") {
                (&mut signature, "signature")
            } else {
                continue; // unknown pairs are tolerated, as new ones may be added
            };
            if slot.replace(val).is_some() {
                return Err(Error::DuplicateField { field });
            }
        }

        let signature = signature
            .filter(|s| !s.is_empty())
            .ok_or(Error::MissingSignature)?;
        let algorithm = algorithm.ok_or(Error::MissingAlgorithm)?;
        check_len(algorithm, "algorithm", MAX_ALGORITHM_LEN)?;
        if !algorithm.eq_ignore_ascii_case(ALGORITHM) {
            return Err(Error::UnsupportedAlgorithm);
        }
        let key_version = key_version.map(parse_key_version).transpose()?;
        check_len(signature, "signature", MAX_SIGNATURE_VALUE_LEN)?;
        Ok(ParsedSignatureHeader {
            key_version,
            signature: decode_signature(signature)?,
        })
    }
}

impl core::fmt::Display for SignatureHeader {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.value)
    }
}

impl core::fmt::Debug for SignatureHeader {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("SignatureHeader")
            .field(&self.as_str())
            .finish()
    }
}

impl AsRef<str> for SignatureHeader {
    fn as_ref(&self) -> &str {
        &self.value
    }
}

fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

fn check_len(value: &str, field: &'static str, max: usize) -> Result<(), Error> {
    if value.len() > max {
        return Err(Error::ValueTooLong { field, max });
    }
    Ok(())
}

fn parse_key_version(text: &str) -> Result<u32, Error> {
    check_len(text, "keyVersion", MAX_KEY_VERSION_LEN)?;
    // `u32::from_str` would also take a leading `+`; the grammar is digits only.
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::InvalidKeyVersion);
    }
    text.parse().map_err(|_| Error::InvalidKeyVersion)
}

fn hex_value(digit: Option<&u8>) -> Option<u8> {
    let d = *digit?;
    char::from(d)
        .to_digit(16)
        .and_then(|v| u8::try_from(v).ok())
}

fn is_base64_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=')
}

/// Percent-decodes (leaving `+` alone), maps the url-safe alphabet to the standard one and
/// base64-decodes, all in fixed buffers.
fn decode_signature(value: &str) -> Result<RsaSignature, Error> {
    let mut text = [0u8; MAX_BASE64_LEN];
    let mut len = 0;
    let mut bytes = value.as_bytes().iter();
    while let Some(&c) = bytes.next() {
        let c = if c == b'%' {
            let hi = hex_value(bytes.next()).ok_or(Error::InvalidPercentEncoding)?;
            let lo = hex_value(bytes.next()).ok_or(Error::InvalidPercentEncoding)?;
            let decoded = (hi << 4) | lo;
            if !is_base64_char(decoded) {
                return Err(Error::InvalidPercentEncoding);
            }
            decoded
        } else {
            match c {
                b'-' => b'+',
                b'_' => b'/',
                c if is_base64_char(c) => c,
                _ => return Err(Error::InvalidBase64),
            }
        };
        let slot = text.get_mut(len).ok_or(Error::ValueTooLong {
            field: "signature",
            max: MAX_BASE64_LEN,
        })?;
        *slot = c;
        len += 1;
    }
    let mut raw = [0u8; MAX_SIGNATURE_LEN + 3];
    let text = text.get(..len).unwrap_or_default();
    let raw_len = STANDARD_PAD_INDIFFERENT
        .decode_slice(text, &mut raw)
        .map_err(|_| Error::InvalidBase64)?;
    RsaSignature::from_slice(raw.get(..raw_len).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(fill: u8) -> [u8; 256] {
        let mut s = [fill; 256];
        s[0] = 0xfb; // base64 starts with "+/" so encoding matters
        s
    }

    #[test]
    fn format_is_exact_and_percent_encodes_plus_slash_equals() {
        let h = SignatureHeader::new(7, &[0xfb, 0xff, 0xbf, 0x00]).unwrap();
        // base64 of fb ff bf 00 = "+/+/AA==" -> percent-encoded
        assert_eq!(
            h.as_str(),
            "algorithm=RSA256,keyVersion=7,signature=%2B%2F%2B%2FAA%3D%3D"
        );
        assert_eq!(h.key_version(), 7);
    }

    #[test]
    fn format_fits_largest_signature_and_version() {
        let h = SignatureHeader::new(u32::MAX, &[0xff; MAX_SIGNATURE_LEN]).unwrap();
        assert!(h.as_str().len() <= HEADER_CAPACITY);
        let p = SignatureHeader::parse(h.as_str()).unwrap();
        assert_eq!(p.key_version, Some(u32::MAX));
        assert_eq!(p.signature.as_bytes(), &[0xff; MAX_SIGNATURE_LEN][..]);
    }

    #[test]
    fn format_rejects_empty_and_oversized_signatures() {
        assert_eq!(
            SignatureHeader::new(1, &[]),
            Err(Error::InvalidSignatureLength { len: 0 })
        );
        assert_eq!(
            SignatureHeader::new(1, &[0; MAX_SIGNATURE_LEN + 1]),
            Err(Error::InvalidSignatureLength { len: 513 })
        );
    }

    fn b64(bytes: &[u8]) -> alloc::string::String {
        STANDARD.encode(bytes)
    }

    #[test]
    fn parse_accepts_spaces_any_order_and_case_insensitive_keys() {
        let s = sig(0x11);
        let enc = SignatureHeader::new(0, &s).unwrap();
        let value = enc.as_str().rsplit_once("signature=").unwrap().1;
        let header =
            alloc::format!("  Signature = {value} ,\tKEYVERSION=0 , algorithm=rsa256 , future=x  ");
        let p = SignatureHeader::parse(&header).unwrap();
        assert_eq!(p.key_version, Some(0));
        assert_eq!(p.signature.as_bytes(), &s[..]);
    }

    #[test]
    fn parse_keeps_plus_and_accepts_raw_padded_unpadded_and_url_safe() {
        let s = sig(0x3e);
        let std = b64(&s);
        assert!(std.contains('+') && std.ends_with('='));
        let unpadded = std.trim_end_matches('=');
        let url = unpadded.replace('+', "-").replace('/', "_");
        for v in [std.as_str(), unpadded, url.as_str()] {
            let p =
                SignatureHeader::parse(&alloc::format!("algorithm=RSA256,signature={v}")).unwrap();
            assert_eq!(p.signature.as_bytes(), &s[..], "value {v}");
            assert_eq!(p.key_version, None);
        }
        // lower-case hex escapes too
        let lower = std
            .replace('+', "%2b")
            .replace('/', "%2f")
            .replace('=', "%3d");
        let p =
            SignatureHeader::parse(&alloc::format!("algorithm=RSA256,signature={lower}")).unwrap();
        assert_eq!(p.signature.as_bytes(), &s[..]);
    }

    #[test]
    fn parse_splits_on_first_equals_only() {
        let s = [1u8; 256]; // base64 ends in "="
        let v = b64(&s);
        assert!(v.ends_with("=="));
        let p = SignatureHeader::parse(&alloc::format!("signature={v},algorithm=RSA256")).unwrap();
        assert_eq!(p.signature.as_bytes(), &s[..]);
    }

    #[test]
    fn parse_rejects_missing_or_empty_signature() {
        for h in [
            "algorithm=RSA256,keyVersion=1",
            "algorithm=RSA256,keyVersion=1,signature=",
            "algorithm=RSA256,keyVersion=1,signature=  ",
            "",
        ] {
            let e = SignatureHeader::parse(h);
            assert!(
                matches!(e, Err(Error::MissingSignature) | Err(Error::MalformedPair)),
                "{h:?}: {e:?}"
            );
        }
        assert_eq!(
            SignatureHeader::parse("algorithm=RSA256,keyVersion=1"),
            Err(Error::MissingSignature)
        );
    }

    #[test]
    fn parse_rejects_other_or_missing_algorithm() {
        let v = b64(&sig(2));
        assert_eq!(
            SignatureHeader::parse(&alloc::format!("algorithm=RSA1,signature={v}")),
            Err(Error::UnsupportedAlgorithm)
        );
        assert_eq!(
            SignatureHeader::parse(&alloc::format!("algorithm=RSA2566,signature={v}")),
            Err(Error::UnsupportedAlgorithm)
        );
        assert_eq!(
            SignatureHeader::parse(&alloc::format!("keyVersion=1,signature={v}")),
            Err(Error::MissingAlgorithm)
        );
    }

    #[test]
    fn parse_rejects_malformed_pairs_and_duplicates() {
        let v = b64(&sig(2));
        for h in [
            alloc::format!("algorithm=RSA256,keyVersion,signature={v}"),
            alloc::format!("algorithm=RSA256,,signature={v}"),
            alloc::format!("algorithm=RSA256,=1,signature={v}"),
        ] {
            let e = SignatureHeader::parse(&h);
            assert!(matches!(e, Err(Error::MalformedPair)), "{h}: {e:?}");
        }
        assert_eq!(
            SignatureHeader::parse(&alloc::format!(
                "algorithm=RSA256,signature={v},signature={v}"
            )),
            Err(Error::DuplicateField { field: "signature" })
        );
    }

    #[test]
    fn parse_rejects_bad_key_versions() {
        let v = b64(&sig(2));
        for kv in ["-1", "+1", "1.0", "x", "", "4294967296"] {
            assert_eq!(
                SignatureHeader::parse(&alloc::format!(
                    "algorithm=RSA256,keyVersion={kv},signature={v}"
                )),
                Err(Error::InvalidKeyVersion),
                "{kv}"
            );
        }
        assert_eq!(
            SignatureHeader::parse(&alloc::format!(
                "algorithm=RSA256,keyVersion=00000000001,signature={v}"
            )),
            Err(Error::ValueTooLong {
                field: "keyVersion",
                max: 10
            })
        );
    }

    #[test]
    fn parse_rejects_over_long_values() {
        let long = "A".repeat(MAX_SIGNATURE_VALUE_LEN + 1);
        assert_eq!(
            SignatureHeader::parse(&alloc::format!("algorithm=RSA256,signature={long}")),
            Err(Error::ValueTooLong {
                field: "signature",
                max: MAX_SIGNATURE_VALUE_LEN
            })
        );
        let decoded_too_long = "A".repeat(MAX_BASE64_LEN + 4);
        assert!(matches!(
            SignatureHeader::parse(&alloc::format!(
                "algorithm=RSA256,signature={decoded_too_long}"
            )),
            Err(Error::ValueTooLong {
                field: "signature",
                ..
            })
        ));
        let alg = "R".repeat(17);
        assert!(matches!(
            SignatureHeader::parse(&alloc::format!("algorithm={alg},signature=AAAA")),
            Err(Error::ValueTooLong {
                field: "algorithm",
                ..
            })
        ));
        let huge = alloc::format!("algorithm=RSA256,signature=AAAA,x={}", "y".repeat(5000));
        assert_eq!(
            SignatureHeader::parse(&huge),
            Err(Error::HeaderTooLong {
                max: MAX_HEADER_LEN
            })
        );
    }

    #[test]
    fn parse_rejects_bad_escapes_and_bad_base64() {
        for v in ["%2", "%zz", "AB%", "%20AAA", "%25AA"] {
            assert_eq!(
                SignatureHeader::parse(&alloc::format!("algorithm=RSA256,signature={v}")),
                Err(Error::InvalidPercentEncoding),
                "{v}"
            );
        }
        for v in ["AB CD", "A", "AAAAA", "A=AA", "AB*D", "AB==CD"] {
            assert_eq!(
                SignatureHeader::parse(&alloc::format!("algorithm=RSA256,signature={v}")),
                Err(Error::InvalidBase64),
                "{v}"
            );
        }
    }
}
