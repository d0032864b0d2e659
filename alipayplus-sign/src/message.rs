//! Message-level signing and verification for both directions (common.md §2.1).
//!
//! | direction | request | response |
//! |---|---|---|
//! | we call Alipay+ | [`sign_request`] | [`verify_response`] |
//! | Alipay+ calls us (notifications) | [`verify_request`] | [`sign_response`] |
//!
//! Verification is strict: a missing `Signature`, `Client-Id` or time header, an unparsable
//! `Signature` header or a signature that does not verify is an [`Error`]; nothing fails open.
//!
//! # Choosing the public key (common.md §2.5, keyVersion semantics UNCERTAIN)
//! Several Alipay+ public keys can be configured by keyVersion in [`PublicKeys`]:
//! - one key configured: it is used whatever keyVersion the header names (the spec says not to
//!   hard-fail on an unexpected version when only one key is configured);
//! - several keys, header names a keyVersion: that key, or [`Error::UnknownKeyVersion`];
//! - several keys, header names no keyVersion: each key is tried in the order added, and the
//!   first that verifies is reported (all configured keys are trusted Alipay+ keys, so this only
//!   costs time).

use crate::header::{ParsedSignatureHeader, SignatureHeader};
use crate::key::PublicKey;
use crate::signer::{ContentSigner, ContentVerifier};
use crate::{Error, SignContent};

/// Header names used by the protocol (matched ASCII case-insensitively on input).
pub mod header_name {
    /// The `Signature` header.
    pub const SIGNATURE: &str = "Signature";
    /// The `Client-Id` header.
    pub const CLIENT_ID: &str = "Client-Id";
    /// The `Request-Time` header (requests, both directions).
    pub const REQUEST_TIME: &str = "Request-Time";
    /// The `Response-Time` header (responses, both directions).
    pub const RESPONSE_TIME: &str = "Response-Time";
}

/// How many Alipay+ public keys a [`PublicKeys`] set holds at most.
pub const MAX_PUBLIC_KEYS: usize = 8;

/// Alipay+ public keys by keyVersion (see the module docs for how one is chosen).
///
/// Generic over the verifier so another backend (or a `Box<dyn ContentVerifier>`) can be used;
/// the default is the pure-Rust [`PublicKey`].
///
/// ```
/// use alipayplus_sign::{PublicKey, PublicKeys};
///
/// # let pem = include_bytes!("../tests/data/public_spki.pem");
/// let keys = PublicKeys::single(1, PublicKey::parse(pem)?);
/// assert_eq!(keys.len(), 1);
/// # Ok::<(), alipayplus_sign::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct PublicKeys<V = PublicKey> {
    keys: heapless::Vec<(u32, V), MAX_PUBLIC_KEYS>,
}

impl<V> Default for PublicKeys<V> {
    fn default() -> Self {
        Self {
            keys: heapless::Vec::new(),
        }
    }
}

impl<V: ContentVerifier> PublicKeys<V> {
    /// An empty set (verifying with it fails with [`Error::NoPublicKeys`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// A set of one key, used whatever keyVersion a header names.
    pub fn single(key_version: u32, key: V) -> Self {
        let mut keys = heapless::Vec::new();
        // An empty vector always has room for one entry.
        let _ = keys.push((key_version, key));
        Self { keys }
    }

    /// Adds the key for `key_version`.
    ///
    /// # Errors
    /// [`Error::DuplicateKeyVersion`], [`Error::TooManyPublicKeys`].
    pub fn insert(&mut self, key_version: u32, key: V) -> Result<(), Error> {
        if self.get(key_version).is_some() {
            return Err(Error::DuplicateKeyVersion(key_version));
        }
        self.keys
            .push((key_version, key))
            .map_err(|_| Error::TooManyPublicKeys {
                max: MAX_PUBLIC_KEYS,
            })
    }

    /// Builder form of [`PublicKeys::insert`].
    ///
    /// # Errors
    /// As [`PublicKeys::insert`].
    pub fn with(mut self, key_version: u32, key: V) -> Result<Self, Error> {
        self.insert(key_version, key)?;
        Ok(self)
    }

    /// The key configured for `key_version`.
    pub fn get(&self, key_version: u32) -> Option<&V> {
        self.keys
            .iter()
            .find(|(v, _)| *v == key_version)
            .map(|(_, k)| k)
    }

    /// Number of configured keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no key is configured.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Verifies a parsed `Signature` header over `content`, choosing the key as described in
    /// the module docs. Returns the keyVersion of the key that verified.
    ///
    /// # Errors
    /// [`Error::NoPublicKeys`], [`Error::UnknownKeyVersion`], [`Error::VerificationFailed`].
    pub fn verify(
        &self,
        content: &SignContent<'_>,
        header: &ParsedSignatureHeader,
    ) -> Result<u32, Error> {
        let signature = header.signature.as_bytes();
        match (self.keys.as_slice(), header.key_version) {
            ([], _) => Err(Error::NoPublicKeys),
            ([(version, key)], _) => key.verify(content, signature).map(|()| *version),
            (_, Some(wanted)) => self
                .get(wanted)
                .ok_or(Error::UnknownKeyVersion(wanted))?
                .verify(content, signature)
                .map(|()| wanted),
            (keys, None) => keys
                .iter()
                .find(|(_, key)| key.verify(content, signature).is_ok())
                .map(|(version, _)| *version)
                .ok_or(Error::VerificationFailed),
        }
    }
}

/// A verifier of any backend behind a trait object: the one key type a client configuration
/// stores to accept Alipay+ public keys of either backend (see [`PublicKeys::boxed`]).
pub type BoxedVerifier = alloc::boxed::Box<dyn ContentVerifier + Send + Sync>;

impl<V: ContentVerifier + Send + Sync + 'static> PublicKeys<V> {
    /// The same keys (same keyVersions, same order) as trait objects, so code that stores one
    /// key type (a client configuration) takes [`PublicKey`], the `aws-lc` backend's
    /// `AwsLcPublicKey` or any other verifier, even mixed.
    ///
    /// ```
    /// use alipayplus_sign::{PublicKey, PublicKeys, message::BoxedVerifier};
    ///
    /// # let pem = include_bytes!("../tests/data/public_spki.pem");
    /// let keys: PublicKeys<BoxedVerifier> = PublicKeys::single(1, PublicKey::parse(pem)?).boxed();
    /// assert!(keys.get(1).is_some());
    /// # Ok::<(), alipayplus_sign::Error>(())
    /// ```
    pub fn boxed(self) -> PublicKeys<BoxedVerifier> {
        let mut keys = heapless::Vec::new();
        for (version, key) in self.keys {
            // Same capacity as the source: every entry fits.
            let _ = keys.push((version, alloc::boxed::Box::new(key) as BoxedVerifier));
        }
        PublicKeys { keys }
    }
}

/// What a successful verification vouches for. Borrowed from the headers given.
///
/// The caller should still check `client_id` against the id it expects when that matters
/// (e.g. a response must echo our own Client-Id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified<'h> {
    /// The `Client-Id` header value that was covered by the signature.
    pub client_id: &'h str,
    /// The `Request-Time` or `Response-Time` header value that was covered by the signature.
    pub time: &'h str,
    /// keyVersion of the configured public key that verified the signature.
    pub key_version: u32,
    /// keyVersion named in the `Signature` header, if any.
    pub header_key_version: Option<u32>,
}

/// Signs a content and formats the `Signature` header value.
///
/// # Errors
/// Whatever the signer returns, or [`Error::InvalidSignatureLength`] for a malformed signature.
pub fn sign_content<S: ContentSigner + ?Sized>(
    signer: &S,
    key_version: u32,
    content: &SignContent<'_>,
) -> Result<SignatureHeader, Error> {
    let signature = signer.sign(content)?;
    SignatureHeader::new(key_version, signature.as_bytes())
}

/// Signs an outgoing request (ours to Alipay+): returns the `Signature` header value. Send
/// `client_id` as `Client-Id` and `request_time` as `Request-Time`, byte for byte.
///
/// ```
/// use alipayplus_sign::{message, PrivateKey, PublicKey, PublicKeys};
///
/// # let key = PrivateKey::parse(include_bytes!("../tests/data/private_pkcs8.pem"))?;
/// let body = br#"{"paymentRequestId":"pay_1"}"#;
/// let header = message::sign_request(
///     &key, 1, "POST", "/aps/api/v1/payments/pay", "CLIENT", "2025-02-20T08:51:49Z", body,
/// )?;
/// assert!(header.as_str().starts_with("algorithm=RSA256,keyVersion=1,signature="));
///
/// // What Alipay+ does with it: verify the inbound request.
/// let keys = PublicKeys::single(1, key.public_key());
/// let headers = [
///     ("signature", header.as_str().as_bytes()),
///     ("client-id", b"CLIENT".as_slice()),
///     ("request-time", b"2025-02-20T08:51:49Z".as_slice()),
/// ];
/// let verified = message::verify_request(&keys, "POST", "/aps/api/v1/payments/pay", headers, body)?;
/// assert_eq!(verified.client_id, "CLIENT");
/// # Ok::<(), alipayplus_sign::Error>(())
/// ```
///
/// # Errors
/// As [`sign_content`].
pub fn sign_request<S: ContentSigner + ?Sized>(
    signer: &S,
    key_version: u32,
    method: &str,
    uri: &str,
    client_id: &str,
    request_time: &str,
    body: &[u8],
) -> Result<SignatureHeader, Error> {
    let content = SignContent::request(method, uri, client_id, request_time, body);
    sign_content(signer, key_version, &content)
}

/// Signs our response to an inbound call (e.g. the notifyPayment acknowledgement): `uri` is the
/// path Alipay+ called, `client_id` the Client-Id to send back, `response_time` the
/// `Response-Time` header value to send.
///
/// # Errors
/// As [`sign_content`].
pub fn sign_response<S: ContentSigner + ?Sized>(
    signer: &S,
    key_version: u32,
    method: &str,
    uri: &str,
    client_id: &str,
    response_time: &str,
    body: &[u8],
) -> Result<SignatureHeader, Error> {
    let content = SignContent::response(method, uri, client_id, response_time, body);
    sign_content(signer, key_version, &content)
}

/// Verifies a `Signature` header value over a content; returns the keyVersion of the key used.
///
/// # Errors
/// Header errors (see [`SignatureHeader::parse`]) and those of [`PublicKeys::verify`].
pub fn verify_content<V: ContentVerifier>(
    keys: &PublicKeys<V>,
    content: &SignContent<'_>,
    signature_header: &str,
) -> Result<u32, Error> {
    let parsed = SignatureHeader::parse(signature_header)?;
    keys.verify(content, &parsed)
}

/// Verifies a response from Alipay+ to our request. `method` and `uri` are those of *our*
/// request; `headers` are the response headers as `(name, value)` pairs (names matched
/// case-insensitively); `body` the response body bytes as received.
///
/// Reads `Signature`, `Client-Id` and `Response-Time`; any of them missing is an error.
///
/// Any header store works through an iterator of `(name, value)` pairs; with an
/// `http::HeaderMap` that is `map.iter().map(|(n, v)| (n.as_str(), v.as_bytes()))`.
///
/// ```
/// use alipayplus_sign::{message, Error, PrivateKey, PublicKeys};
///
/// # let alipay_key = PrivateKey::parse(include_bytes!("../tests/data/private_pkcs8.pem"))?;
/// let uri = "/aps/api/v1/payments/inquiryPayment";
/// let body = br#"{"result":{"resultCode":"SUCCESS","resultStatus":"S"}}"#;
/// # let signed = message::sign_response(&alipay_key, 1, "POST", uri, "CLIENT", "2025-02-21T05:43:09Z", body)?;
/// # let signature = signed.as_str().to_owned();
/// // Headers as a transport hands them over (names in any case):
/// let received: Vec<(String, Vec<u8>)> = vec![
///     ("signature".into(), signature.into_bytes()),
///     ("client-id".into(), b"CLIENT".to_vec()),
///     ("response-time".into(), b"2025-02-21T05:43:09Z".to_vec()),
/// ];
/// let keys = PublicKeys::single(1, alipay_key.public_key());
/// let headers = received.iter().map(|(n, v)| (n.as_str(), v.as_slice()));
/// let verified = message::verify_response(&keys, "POST", uri, headers, body)?;
/// assert_eq!(verified.client_id, "CLIENT");
///
/// // One byte changed in the body: rejected.
/// let headers = received.iter().map(|(n, v)| (n.as_str(), v.as_slice()));
/// let tampered = br#"{"result":{"resultCode":"SUCCESS","resultStatus":"F"}}"#;
/// assert!(message::verify_response(&keys, "POST", uri, headers, tampered).is_err());
/// # Ok::<(), Error>(())
/// ```
///
/// # Errors
/// [`Error::MissingHeader`], [`Error::DuplicateHeader`], [`Error::InvalidHeaderValue`], header
/// parse errors, [`Error::NoPublicKeys`], [`Error::UnknownKeyVersion`],
/// [`Error::VerificationFailed`].
pub fn verify_response<'h, V, H>(
    keys: &PublicKeys<V>,
    method: &str,
    uri: &str,
    headers: H,
    body: &[u8],
) -> Result<Verified<'h>, Error>
where
    V: ContentVerifier,
    H: IntoIterator<Item = (&'h str, &'h [u8])>,
{
    verify_message(keys, method, uri, headers, header_name::RESPONSE_TIME, body)
}

/// Verifies a request from Alipay+ to us (a notification or other inbound call). `uri` is the
/// request URI as received (path, and query if any); `headers` the request headers.
///
/// Reads `Signature`, `Client-Id` and `Request-Time`; any of them missing is an error.
///
/// Query strings (common.md §2.2, UNCERTAIN): whether Alipay+ signs the query of a notify URL is
/// not documented. This function checks exactly the `uri` given; a handler whose notify
/// URL has a query may, as an explicit choice, call it first with the path only and then with
/// path and query.
///
/// # Errors
/// As [`verify_response`].
pub fn verify_request<'h, V, H>(
    keys: &PublicKeys<V>,
    method: &str,
    uri: &str,
    headers: H,
    body: &[u8],
) -> Result<Verified<'h>, Error>
where
    V: ContentVerifier,
    H: IntoIterator<Item = (&'h str, &'h [u8])>,
{
    verify_message(keys, method, uri, headers, header_name::REQUEST_TIME, body)
}

fn verify_message<'h, V, H>(
    keys: &PublicKeys<V>,
    method: &str,
    uri: &str,
    headers: H,
    time_header: &'static str,
    body: &[u8],
) -> Result<Verified<'h>, Error>
where
    V: ContentVerifier,
    H: IntoIterator<Item = (&'h str, &'h [u8])>,
{
    let wanted = [header_name::SIGNATURE, header_name::CLIENT_ID, time_header];
    let mut found: [Option<&'h [u8]>; 3] = [None; 3];
    for (name, value) in headers {
        for (slot, wanted_name) in found.iter_mut().zip(wanted) {
            if name.eq_ignore_ascii_case(wanted_name) && slot.replace(value).is_some() {
                return Err(Error::DuplicateHeader(wanted_name));
            }
        }
    }
    let text = |index: usize| -> Result<&'h str, Error> {
        let name = wanted.get(index).copied().unwrap_or_default();
        let value = found
            .get(index)
            .copied()
            .flatten()
            .ok_or(Error::MissingHeader(name))?;
        core::str::from_utf8(value).map_err(|_| Error::InvalidHeaderValue(name))
    };
    let signature = text(0)?;
    let client_id = text(1)?;
    let time = text(2)?;

    let parsed = SignatureHeader::parse(signature)?;
    let content = SignContent::request(method, uri, client_id, time, body);
    let key_version = keys.verify(&content, &parsed)?;
    Ok(Verified {
        client_id,
        time,
        key_version,
        header_key_version: parsed.key_version,
    })
}
