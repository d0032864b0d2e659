//! The redirect back (spec `autodebit.md` §3): the wallet sends the user to the merchant's
//! redirect URL with `authCode` (and `authState`) appended to its query.
//!
//! [`parse_redirect`] reads them from the full URL or the request target the merchant's server
//! saw; [`Binding::on_redirect`](crate::Binding::on_redirect) also checks the state. The query
//! is decoded as `application/x-www-form-urlencoded` (the URL standard's reading, what browsers
//! and server frameworks do: `%XX` escapes, `+` is a space); a fragment is ignored; other
//! parameters (the merchant's own) are ignored; `authCode` or `authState` given twice is
//! refused as ambiguous.
//!
//! ```
//! use alipayplus_autodebit::redirect::parse_redirect;
//! let back = parse_redirect("/auth-return?authCode=2810011&authState=7f3c2a90").unwrap();
//! assert_eq!(back.auth_code.unwrap().expose(), "2810011");
//! assert_eq!(back.auth_state.as_deref(), Some("7f3c2a90"));
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use alipayplus_types::Secret;

use crate::error::Error;

/// What the redirect back carried.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedirectBack {
    /// `authCode` (absent or empty: none).
    pub auth_code: Option<Secret>,
    /// `authState` as received.
    pub auth_state: Option<String>,
}

impl fmt::Debug for RedirectBack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedirectBack")
            .field("auth_code", &self.auth_code)
            .field("auth_state", &self.auth_state.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Reads `authCode` and `authState` from the redirect URL (absolute or a request target).
///
/// # Errors
/// [`Error::DuplicateParameter`] for a repeated `authCode` / `authState`;
/// [`Error::BadRedirect`] for a malformed escape or non-UTF-8 text in them.
pub fn parse_redirect(url: &str) -> Result<RedirectBack, Error> {
    let without_fragment = url.split('#').next().unwrap_or_default();
    let query = match without_fragment.split_once('?') {
        Some((_, q)) => q,
        None => "",
    };
    let mut back = RedirectBack::default();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(raw_name)?;
        match name.as_str() {
            "authCode" => {
                if back.auth_code.is_some() {
                    return Err(Error::DuplicateParameter("authCode"));
                }
                let value = decode(raw_value)?;
                // An empty code counts as none, but a second one is still ambiguous.
                back.auth_code = Some(Secret::new(value));
            }
            "authState" => {
                if back.auth_state.is_some() {
                    return Err(Error::DuplicateParameter("authState"));
                }
                back.auth_state = Some(decode(raw_value)?);
            }
            _ => {}
        }
    }
    if back
        .auth_code
        .as_ref()
        .is_some_and(|c| c.expose().is_empty())
    {
        back.auth_code = None;
    }
    Ok(back)
}

/// Decodes one form-urlencoded component.
fn decode(text: &str) -> Result<String, Error> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.next().and_then(hex_value);
                let lo = bytes.next().and_then(hex_value);
                match (hi, lo) {
                    (Some(h), Some(l)) => out.push(h << 4 | l),
                    _ => {
                        return Err(Error::BadRedirect(
                            "a '%' is not followed by two hex digits",
                        ));
                    }
                }
            }
            _ => out.push(b),
        }
    }
    String::from_utf8(out).map_err(|_| Error::BadRedirect("a parameter is not UTF-8 text"))
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes_and_ignores_other_parameters_and_fragment() {
        let back = parse_redirect(
            "https://m.example/ret?order=1&authCode=a%2Bb+c&authState=s%7E1#authCode=x",
        )
        .unwrap();
        assert_eq!(back.auth_code.unwrap().expose(), "a+b c");
        assert_eq!(back.auth_state.as_deref(), Some("s~1"));
    }

    #[test]
    fn missing_empty_duplicate_and_malformed() {
        let none = parse_redirect("/ret").unwrap();
        assert!(none.auth_code.is_none() && none.auth_state.is_none());
        assert!(
            parse_redirect("/ret?authCode=")
                .unwrap()
                .auth_code
                .is_none()
        );
        assert!(matches!(
            parse_redirect("/ret?authCode=a&authCode=b"),
            Err(Error::DuplicateParameter("authCode"))
        ));
        assert!(matches!(
            parse_redirect("/ret?authState=a&authState=a"),
            Err(Error::DuplicateParameter("authState"))
        ));
        assert!(matches!(
            parse_redirect("/ret?authCode=%G1"),
            Err(Error::BadRedirect(_))
        ));
        assert!(matches!(
            parse_redirect("/ret?authCode=%4"),
            Err(Error::BadRedirect(_))
        ));
        assert!(matches!(
            parse_redirect("/ret?authCode=%FF"),
            Err(Error::BadRedirect(_))
        ));
    }
}
