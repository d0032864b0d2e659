//! The content to be signed (or validated), common.md §2.2.
//!
//! ```text
//! <METHOD> <Request-URI>\n<Client-Id>.<Request-Time or Response-Time>.<Body>
//! ```
//!
//! Every part is taken verbatim: the URI with its query string, the time string exactly as it
//! is (or will be) on the wire, and the body bytes as transmitted. Nothing is normalised.

use sha2::{Digest, Sha256};

/// Number of byte slices returned by [`SignContent::parts`].
pub const PART_COUNT: usize = 9;

/// The content to be signed or validated, as a value borrowing its parts.
///
/// Building one copies nothing; [`SignContent::sha256`] feeds the parts into SHA-256 one after
/// the other, so even a large body is hashed in place.
///
/// ```
/// use alipayplus_sign::SignContent;
///
/// let body = br#"{"paymentRequestId":"pay_1"}"#;
/// let content = SignContent::request(
///     "POST",
///     "/aps/api/v1/payments/pay",
///     "SANDBOX_5YC47N2ZQHJ004124",
///     "2025-02-20T08:51:49.09Z",
///     body,
/// );
/// assert_eq!(
///     content.to_vec(),
///     b"POST /aps/api/v1/payments/pay\nSANDBOX_5YC47N2ZQHJ004124.2025-02-20T08:51:49.09Z.{\"paymentRequestId\":\"pay_1\"}"
/// );
/// assert_eq!(content.len(), content.to_vec().len());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignContent<'a> {
    /// HTTP method, `POST` for every Alipay+ API.
    pub method: &'a str,
    /// Request URI: path with leading `/` and any query string, verbatim. For a response, the
    /// URI of the request it answers.
    pub uri: &'a str,
    /// Value of the `Client-Id` header.
    pub client_id: &'a str,
    /// Value of the `Request-Time` (request form) or `Response-Time` (response form) header,
    /// byte for byte.
    pub time: &'a str,
    /// The body bytes exactly as transmitted.
    pub body: &'a [u8],
}

impl<'a> SignContent<'a> {
    /// Content of a request (either direction): the time is the `Request-Time` header value.
    pub fn request(
        method: &'a str,
        uri: &'a str,
        client_id: &'a str,
        request_time: &'a str,
        body: &'a [u8],
    ) -> Self {
        Self {
            method,
            uri,
            client_id,
            time: request_time,
            body,
        }
    }

    /// Content of a response (either direction): the URI is that of the request answered, the
    /// time is the `Response-Time` header value. Same byte layout as [`SignContent::request`].
    pub fn response(
        method: &'a str,
        uri: &'a str,
        client_id: &'a str,
        response_time: &'a str,
        body: &'a [u8],
    ) -> Self {
        Self {
            method,
            uri,
            client_id,
            time: response_time,
            body,
        }
    }

    /// The byte slices of the content, in order; their concatenation is the content.
    pub fn parts(&self) -> [&'a [u8]; PART_COUNT] {
        [
            self.method.as_bytes(),
            b" ",
            self.uri.as_bytes(),
            b"\n",
            self.client_id.as_bytes(),
            b".",
            self.time.as_bytes(),
            b".",
            self.body,
        ]
    }

    /// Feeds the content into `digest` part by part, without copying the body.
    pub fn update_digest<D: Digest>(&self, digest: &mut D) {
        for part in self.parts() {
            digest.update(part);
        }
    }

    /// SHA-256 of the content: the hash that RSA256 signs.
    pub fn sha256(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        self.update_digest(&mut hasher);
        hasher.finalize().into()
    }

    /// Length of the content in bytes.
    // A content always holds its separators, so it is never empty; an `is_empty` would mislead.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.parts().iter().map(|p| p.len()).sum()
    }

    /// Appends the exact bytes of the content to `out` (for debugging and byte-exact
    /// comparisons; signing never needs this).
    pub fn extend_into<E: Extend<u8>>(&self, out: &mut E) {
        for part in self.parts() {
            out.extend(part.iter().copied());
        }
    }

    /// The exact bytes of the content, in a new vector (for debugging).
    pub fn to_vec(&self) -> alloc::vec::Vec<u8> {
        let mut out = alloc::vec::Vec::with_capacity(self.len());
        self.extend_into(&mut out);
        out
    }

    /// Writes the exact bytes of the content to `out` (for debugging, e.g. to stdout).
    #[cfg(feature = "std")]
    pub fn write_io<W: std::io::Write + ?Sized>(&self, out: &mut W) -> std::io::Result<()> {
        for part in self.parts() {
            out.write_all(part)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_and_response_forms_share_one_layout() {
        let req = SignContent::request("POST", "/a?b=c", "id.x", "T1", b"{}");
        let resp = SignContent::response("POST", "/a?b=c", "id.x", "T1", b"{}");
        assert_eq!(req, resp);
        assert_eq!(req.to_vec(), b"POST /a?b=c\nid.x.T1.{}");
    }

    #[test]
    fn hash_equals_hash_of_concatenation() {
        let body = [0xffu8, 0x00, b'\r', b'\n'];
        let content = SignContent::request("POST", "/p", "c", "t", &body);
        let whole: [u8; 32] = Sha256::digest(content.to_vec()).into();
        assert_eq!(content.sha256(), whole);
        assert_eq!(content.len(), 12 + body.len());
    }

    #[test]
    fn empty_body_still_ends_with_a_dot() {
        let content = SignContent::request("POST", "/p", "c", "t", b"");
        assert_eq!(content.to_vec(), b"POST /p\nc.t.");
    }
}
