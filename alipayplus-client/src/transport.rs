//! The HTTP seam: one-method [`Transport`] trait and the plain [`Request`] / [`Response`] types.
//!
//! The client core never performs IO itself. It builds a [`Request`] (method, absolute URL,
//! headers, body bytes), hands it to a [`Transport`] and reads the [`Response`] it gets back.
//! Adapters live in their own crates (`alipayplus-ureq`); any
//! `Fn(Request) -> Result<Response, E>` closure is a transport too, which is how tests play
//! Alipay+. The types need only `alloc`; conversions to and from the `http` crate types are
//! behind the `http` feature.
//!
//! The same [`Request`] type carries inbound calls (Alipay+ to the acquirer, e.g.
//! notifyPayment) into the handlers; there [`Request::uri`] is the request target the server
//! saw (path, plus query if any).
//!
//! ```
//! use alipayplus_client::transport::{Request, Response, Transport};
//!
//! let transport = |request: Request| -> Result<Response, core::convert::Infallible> {
//!     assert_eq!(request.method, "POST");
//!     Ok(Response::new(200, br#"{"result":{"resultStatus":"S"}}"#.to_vec()))
//! };
//! let response = transport
//!     .send(Request::post("https://open-sea-global.alipayplus.com/aps/api/v1/payments/pay", vec![]))
//!     .unwrap();
//! assert_eq!(response.status, 200);
//! ```

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// `Content-Type` sent with every request and signed response.
pub const CONTENT_TYPE_JSON: &str = "application/json; charset=UTF-8";

/// Header names whose values are credentials and are never shown by `Debug`.
const SENSITIVE_HEADERS: &[&str] = &[
    "agent-token",
    "authorization",
    "proxy-authorization",
    "cookie",
];

/// An ordered list of HTTP header fields; names compare case-insensitively (RFC 9110).
///
/// `Debug` redacts credential headers such as `Agent-Token`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(String, String)>,
}

impl Headers {
    /// An empty header list.
    pub const fn new() -> Self {
        Headers {
            entries: Vec::new(),
        }
    }

    /// The value of the first field named `name` (ASCII case-insensitive), if any.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All values of the fields named `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Sets `name` to `value`, removing earlier fields of the same name.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        self.remove(&name);
        self.entries.push((name, value.into()));
    }

    /// Adds a field, keeping earlier fields of the same name.
    pub fn append(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.entries.push((name.into(), value.into()));
    }

    /// Removes every field named `name`.
    pub fn remove(&mut self, name: &str) {
        self.entries.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// The fields as `(name, value)` pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Headers {
            entries: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self.iter() {
            if SENSITIVE_HEADERS
                .iter()
                .any(|s| name.eq_ignore_ascii_case(s))
            {
                map.entry(&name, &"<redacted>");
            } else {
                map.entry(&name, &value);
            }
        }
        map.finish()
    }
}

/// An HTTP request as the client core builds it (outbound) or a server received it (inbound).
///
/// `Debug` shows the body length, not its content (bodies carry shopper data).
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// HTTP method, e.g. `POST` (every Alipay+ API is a POST).
    pub method: String,
    /// Outbound: the absolute URL. Inbound: the request target the server saw (path and query).
    pub uri: String,
    /// Header fields.
    pub headers: Headers,
    /// Body bytes exactly as sent (they are what the signature covers).
    pub body: Vec<u8>,
}

impl Request {
    /// A `POST` to `uri` with `body` and no headers.
    pub fn post(uri: impl Into<String>, body: Vec<u8>) -> Self {
        Request {
            method: "POST".to_owned(),
            uri: uri.into(),
            headers: Headers::new(),
            body,
        }
    }

    /// The path of [`Request::uri`]: scheme, authority, query and fragment removed.
    ///
    /// `https://host:443/aps/api/v1/payments/pay?x=1` and `/aps/api/v1/payments/pay?x=1` both
    /// give `/aps/api/v1/payments/pay`. An empty path gives `/`.
    pub fn path(&self) -> &str {
        crate::url::path(&self.uri)
    }

    /// The path and query of [`Request::uri`] (scheme, authority and fragment removed).
    pub fn path_and_query(&self) -> &str {
        crate::url::path_and_query(&self.uri)
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("uri", &self.uri)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// An HTTP response as a transport returns it (outbound calls) or a handler produces it
/// (answers to inbound calls).
///
/// `Debug` shows the body length, not its content.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Header fields.
    pub headers: Headers,
    /// Body bytes exactly as received (they are what the signature covers).
    pub body: Vec<u8>,
}

impl Response {
    /// A response with `status`, `body` and no headers.
    pub fn new(status: u16, body: Vec<u8>) -> Self {
        Response {
            status,
            headers: Headers::new(),
            body,
        }
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Sends one HTTP request and returns the response: the only IO the client core needs.
///
/// A transport returns `Ok` for every HTTP response it received, whatever its status; the
/// client decides what a non-200 status means. `Err` means no response was obtained
/// (connection, timeout, TLS, ...); the client reports it as a transport failure, which
/// callers must treat like an unknown (`U`) result.
///
/// Closures implement it:
///
/// ```
/// use alipayplus_client::transport::{Request, Response, Transport};
///
/// #[derive(Debug)]
/// struct Offline;
/// impl core::fmt::Display for Offline {
///     fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
///         f.write_str("offline")
///     }
/// }
/// impl core::error::Error for Offline {}
///
/// let transport = |_request: Request| -> Result<Response, Offline> { Err(Offline) };
/// assert!(transport.send(Request::post("https://example.test/", vec![])).is_err());
/// ```
pub trait Transport {
    /// Why no response was obtained.
    type Error: core::error::Error + Send + Sync + 'static;

    /// Sends `request` and waits for the whole response.
    fn send(&self, request: Request) -> Result<Response, Self::Error>;
}

impl<F, E> Transport for F
where
    F: Fn(Request) -> Result<Response, E>,
    E: core::error::Error + Send + Sync + 'static,
{
    type Error = E;

    fn send(&self, request: Request) -> Result<Response, E> {
        self(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec;

    #[test]
    fn header_lookup_ignores_case_and_insert_replaces() {
        let mut h = Headers::new();
        h.append("Signature", "a");
        h.append("signature", "b");
        assert_eq!(h.get("SIGNATURE"), Some("a"));
        assert_eq!(h.get_all("Signature").count(), 2);
        h.insert("SIGNATURE", "c");
        assert_eq!(h.len(), 1);
        assert_eq!(h.get("signature"), Some("c"));
        assert_eq!(h.get("Client-Id"), None);
    }

    #[test]
    fn debug_redacts_credentials_and_bodies() {
        let mut request = Request::post("https://x.test/p", b"secret shopper data".to_vec());
        request.headers.insert("Agent-Token", "tok-123");
        request.headers.insert("Client-Id", "C1");
        let shown = format!("{request:?}");
        assert!(!shown.contains("tok-123"), "{shown}");
        assert!(!shown.contains("shopper"), "{shown}");
        assert!(shown.contains("C1"), "{shown}");
    }

    #[test]
    fn closures_are_transports() {
        let t = |r: Request| -> Result<Response, core::convert::Infallible> {
            Ok(Response::new(201, r.body))
        };
        let resp = t
            .send(Request::post("https://h.test/", vec![1, 2]))
            .unwrap();
        assert_eq!((resp.status, resp.body), (201, vec![1, 2]));
    }

    #[cfg(feature = "http")]
    #[test]
    fn http_round_trip() {
        let mut request = Request::post("https://h.test/aps/api/v1/payments/pay", b"{}".to_vec());
        request.headers.insert("Client-Id", "C1");
        let converted: http::Request<Vec<u8>> = request.clone().try_into().unwrap();
        assert_eq!(converted.method(), http::Method::POST);
        assert_eq!(converted.headers()["client-id"], "C1");
        let back = Request::from(converted);
        assert_eq!(back.uri, request.uri);
        assert_eq!(back.headers.get("Client-Id"), Some("C1"));
        assert_eq!(back.body, b"{}");

        let mut response = Response::new(200, b"ok".to_vec());
        response.headers.insert("Signature", "algorithm=RSA256");
        let converted: http::Response<Vec<u8>> = response.clone().try_into().unwrap();
        assert_eq!(Response::from(converted), {
            let mut r = response;
            r.headers = [("signature", "algorithm=RSA256")].into_iter().collect();
            r
        });

        let bad = Request {
            method: "POST".into(),
            uri: "not a uri".into(),
            headers: Headers::new(),
            body: vec![],
        };
        assert!(http::Request::<Vec<u8>>::try_from(bad).is_err());
    }
}
