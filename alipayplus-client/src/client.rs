//! The client core: configuration and the generic signed call, for any Alipay+ API.
//!
//! [`Client::call`] validates the request, serializes it, signs it (`Signature`, `Client-Id`,
//! `Request-Time`), sends it through the [`Transport`], verifies the response signature
//! strictly, parses the body and classifies the answer as an [`Outcome`]:
//!
//! | outcome | meaning | what to do |
//! |---|---|---|
//! | [`Outcome::Success`] | verified, `resultStatus` `S` | proceed |
//! | [`Outcome::Failure`] | verified, `F` + code | act on the code; a create-type API needs a new request id |
//! | [`Outcome::Unknown`] | verified, `U` + code | never a failure: retry with the same id, or inquire |
//! | [`Outcome::NoVerifiedResponse`] | transport failure, non-200, missing/bad signature, foreign Client-Id, `Response-Time` not within 15 minutes of our clock ([`ClientConfig::with_response_window`]), unparsable body | same as `U` (spec common §3.1) |
//!
//! The outcome is that of the *call*. For inquiryPayment it is the inquiry's: the payment's
//! own result is `paymentResult` in an `S` answer, and an `F` inquiry (even `ORDER_NOT_EXIST`)
//! is not a failed payment ([`inquiry_report`](crate::tracker::inquiry_report)).
//!
//! A request that is invalid or cannot be signed is never sent: [`RequestError`].
//!
//! Verification has no opt-out: the specification describes no case where an unsigned
//! response is legitimate (the official SDKs' habit of skipping verification when the header
//! is missing is exactly what this crate refuses).
//!
//! The call is also available in two sans-IO halves, [`ClientConfig::sign_request`] and
//! [`ClientConfig::read_response`], for callers that do their own IO (async runtimes).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use alipayplus_sign::message::{BoxedVerifier, header_name as header};
use alipayplus_sign::{ContentSigner, ContentVerifier, PublicKeys, SignContent, message};
use alipayplus_types::{Api, CommonResultCode, Direction, HasResult, ResultEnvelope, ResultStatus};

use crate::error::{ConfigError, RequestError, ResponseError, TimeSkew, TransportError};
use crate::time::{Clock, TimeFormat};
use crate::transport::{Request, Response, Transport};

/// `Content-Type` sent with every request and signed response.
pub const CONTENT_TYPE_JSON: &str = "application/json; charset=UTF-8";

/// Where the Alipay+ API is reached (common §1.1).
///
/// The four documented production hosts, or any base URL (a sandbox, a gateway, a local
/// simulator). The accelerated domains are the ones Alipay+ recommends.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Host {
    /// `https://open-na.alipayplus.com` (North America).
    NorthAmerica,
    /// `https://open-na-global.alipayplus.com` (North America, accelerated; recommended).
    NorthAmericaAccelerated,
    /// `https://open-sea.alipayplus.com` (other regions).
    OtherRegions,
    /// `https://open-sea-global.alipayplus.com` (other regions, accelerated; recommended).
    OtherRegionsAccelerated,
    /// Any base URL, checked by [`Host::custom`].
    Custom(String),
}

impl Host {
    /// A custom base URL: `https://host[:port][/prefix]`, or `http://` only for a real loopback
    /// host (an IPv4 address in 127.0.0.0/8, `[::1]`, `localhost`: local simulators; parsed,
    /// so `127.attacker.example` is not one). Errors never repeat a password given in the URL. No query or fragment; a trailing
    /// `/` is dropped. A path prefix is kept and is part of the signed request URI.
    ///
    /// # Errors
    /// [`ConfigError::InvalidBaseUrl`] naming what is wrong.
    pub fn custom(base_url: &str) -> Result<Host, ConfigError> {
        let bad = |reason: &'static str| ConfigError::InvalidBaseUrl {
            url: without_credentials(base_url),
            reason,
        };
        let (scheme, rest) = base_url
            .split_once("://")
            .ok_or(bad("expected https://host"))?;
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.is_empty() {
            return Err(bad("the host is missing"));
        }
        if authority.contains('@') {
            return Err(bad("credentials in the URL are not supported"));
        }
        if rest.contains(['?', '#']) {
            return Err(bad("a base URL has no query or fragment"));
        }
        if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("whitespace in the URL"));
        }
        match scheme {
            "https" => {}
            "http" if is_loopback(authority) => {}
            "http" => return Err(bad("plain http is only allowed for a loopback host")),
            _ => return Err(bad("the scheme must be https")),
        }
        Ok(Host::Custom(base_url.trim_end_matches('/').to_string()))
    }

    /// The base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        match self {
            Host::NorthAmerica => "https://open-na.alipayplus.com",
            Host::NorthAmericaAccelerated => "https://open-na-global.alipayplus.com",
            Host::OtherRegions => "https://open-sea.alipayplus.com",
            Host::OtherRegionsAccelerated => "https://open-sea-global.alipayplus.com",
            Host::Custom(url) => url,
        }
    }

    /// The path prefix of the base URL (empty for the documented hosts).
    fn path_prefix(&self) -> &str {
        let url = self.base_url();
        let after_scheme = url.split_once("://").map_or(url, |(_, r)| r);
        after_scheme.find('/').map_or("", |i| &after_scheme[i..])
    }
}

/// Whether `authority` (`host[:port]`) names a real loopback address: `localhost`, an IPv4
/// address in 127.0.0.0/8 or `[::1]`, parsed (never a name that merely starts with `127.`).
fn is_loopback(authority: &str) -> bool {
    let (host_ok, port) = if let Some(rest) = authority.strip_prefix('[') {
        match rest.split_once(']') {
            Some((ip, after)) => (
                ip.parse::<core::net::Ipv6Addr>()
                    .is_ok_and(|ip| ip.is_loopback()),
                after,
            ),
            None => return false,
        }
    } else {
        let end = authority.find(':').unwrap_or(authority.len());
        let host = &authority[..end];
        let ok = host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<core::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback());
        (ok, &authority[end..])
    };
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

/// `url` with any `user:password@` part replaced by `***@`, for error messages.
fn without_credentials(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &url[..start], &rest[at..]),
        None => url.to_string(),
    }
}

type Signer = Box<dyn ContentSigner + Send + Sync>;
type BoxClock = Box<dyn Clock + Send + Sync>;

/// Who we are and whom we trust: client id, host, our signing key, Alipay+ public keys, the
/// clock and the time format. Shared by [`Client`] (outbound calls) and the inbound
/// handlers (notifyPayment).
///
/// `Debug` never shows key material.
pub struct ClientConfig {
    client_id: String,
    host: Host,
    signer: Signer,
    key_version: u32,
    public_keys: PublicKeys<BoxedVerifier>,
    clock: BoxClock,
    time_format: TimeFormat,
    agent_token: Option<String>,
    inbound_uri: InboundUri,
    response_window: Duration,
    inbound_window: Option<Duration>,
    inbound_client_id: InboundClientId,
}

/// The default freshness window of responses ([`ClientConfig::with_response_window`]).
pub const DEFAULT_RESPONSE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// What to do with a verified inbound call whose `Client-Id` is not ours.
///
/// The spec does not confirm which `Client-Id` Alipay+ sends on inbound calls (common §1.2
/// says it identifies the client; no inbound example shows it). The signature is the
/// authority: if Alipay+ sent another id, refusing would make every notification be refused
/// and re-sent forever. So by default the call is accepted and the mismatch reported
/// ([`Accepted::client_id_is_ours`](crate::inbound::Accepted::client_id_is_ours)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum InboundClientId {
    /// Accept it and report the mismatch with the event (default).
    #[default]
    Report,
    /// Refuse it (`INVALID_CLIENT`, signed: the caller verified); Alipay+ re-sends.
    Refuse,
}

/// Which request URI an inbound call's signature is checked against (spec common §2.2:
/// Alipay+ signs the path it called; whether a notify URL's query string is included is
/// UNCERTAIN, and the spec recommends the fallback only behind an explicit option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum InboundUri {
    /// The path only (default).
    #[default]
    Path,
    /// The path first, then path and query when the URL has one. Both are the request's own
    /// URI, so this does not let a forged request through; choose it when your notify URL
    /// carries a query string and notifications fail verification.
    PathThenPathAndQuery,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("client_id", &self.client_id)
            .field("host", &self.host)
            .field("key_version", &self.key_version)
            .field("public_keys", &self.public_keys.len())
            .field("time_format", &self.time_format)
            .field(
                "agent_token",
                &self.agent_token.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl ClientConfig {
    /// A configuration.
    ///
    /// * `client_id`: the `Client-Id` assigned in the Alipay+ Developer Center.
    /// * `signer`: our private key ([`alipayplus_sign::PrivateKey`], or `AwsLcPrivateKey`
    ///   with the `aws-lc` feature for OpenSSL-speed signing) or any other [`ContentSigner`]
    ///   (KMS, HSM).
    /// * `public_keys`: the Alipay+ public keys by keyVersion, of either backend
    ///   ([`alipayplus_sign::PublicKey`], or `AwsLcPublicKey` with the `aws-lc` feature) or any
    ///   other [`ContentVerifier`].
    /// * `clock`: the time source for `Request-Time` / `Response-Time`
    ///   (`time::SystemClock` with `std`, or a closure).
    ///
    /// Defaults: keyVersion `1` in our `Signature` headers (the official SDKs' default),
    /// [`TimeFormat::default`], no `Agent-Token`.
    ///
    /// # Errors
    /// [`ConfigError::InvalidClientId`] for an empty id or one with characters a header
    /// value cannot carry verbatim.
    pub fn new(
        client_id: impl Into<String>,
        host: Host,
        signer: impl ContentSigner + Send + Sync + 'static,
        public_keys: PublicKeys<impl ContentVerifier + Send + Sync + 'static>,
        clock: impl Clock + Send + Sync + 'static,
    ) -> Result<Self, ConfigError> {
        let client_id = client_id.into();
        if client_id.is_empty() {
            return Err(ConfigError::InvalidClientId("it is empty"));
        }
        if !client_id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ConfigError::InvalidClientId(
                "only visible ASCII characters are allowed",
            ));
        }
        Ok(ClientConfig {
            client_id,
            host,
            signer: Box::new(signer),
            key_version: 1,
            public_keys: public_keys.boxed(),
            clock: Box::new(clock),
            time_format: TimeFormat::default(),
            agent_token: None,
            inbound_uri: InboundUri::default(),
            response_window: DEFAULT_RESPONSE_WINDOW,
            inbound_window: None,
            inbound_client_id: InboundClientId::default(),
        })
    }

    /// The keyVersion written in our `Signature` headers (the version of our key pair
    /// registered with Alipay+).
    pub fn with_key_version(mut self, key_version: u32) -> Self {
        self.key_version = key_version;
        self
    }

    /// How `Request-Time` / `Response-Time` are written.
    pub fn with_time_format(mut self, format: TimeFormat) -> Self {
        self.time_format = format;
        self
    }

    /// Sends this `Agent-Token` with every request (only for an agent acting for the client;
    /// not part of the signed content).
    pub fn with_agent_token(mut self, token: impl Into<String>) -> Self {
        self.agent_token = Some(token.into());
        self
    }

    /// Which request URI inbound signatures are checked against (default: the path).
    pub fn with_inbound_uri(mut self, inbound_uri: InboundUri) -> Self {
        self.inbound_uri = inbound_uri;
        self
    }

    /// The inbound URI rule.
    pub fn inbound_uri(&self) -> InboundUri {
        self.inbound_uri
    }

    /// How far a response's signed `Response-Time` may be from our clock, either way
    /// (default [`DEFAULT_RESPONSE_WINDOW`], 15 minutes). A response outside it, or whose
    /// time is missing or not a time, is not a verified response
    /// ([`ResponseError::Stale`]): a replayed old answer must not settle a payment. The spec
    /// documents no skew rule (common §1.2, UNCERTAIN): this is our reading. Keep the clock
    /// synchronised (NTP); a test whose simulated Alipay+ clock jumps must give the client
    /// the same clock.
    pub fn with_response_window(mut self, window: Duration) -> Self {
        self.response_window = window;
        self
    }

    /// The freshness window of inbound calls' `Request-Time`: `None` (default) accepts any
    /// time. Alipay+ re-sends notifications on a schedule it does not document, so a window
    /// can refuse a genuine late re-send; if you set one, make it generous (48 hours or
    /// more). The parsed time is always exposed
    /// ([`Accepted::request_time`](crate::inbound::Accepted::request_time)).
    pub fn with_inbound_window(mut self, window: Option<Duration>) -> Self {
        self.inbound_window = window;
        self
    }

    /// What to do with a verified inbound call for another `Client-Id` (default: accept and
    /// report it).
    pub fn with_inbound_client_id(mut self, rule: InboundClientId) -> Self {
        self.inbound_client_id = rule;
        self
    }

    /// The inbound `Request-Time` window, if any.
    pub fn inbound_window(&self) -> Option<Duration> {
        self.inbound_window
    }

    /// The inbound `Client-Id` rule.
    pub fn inbound_client_id(&self) -> InboundClientId {
        self.inbound_client_id
    }

    /// The current time of the configured clock.
    pub fn now(&self) -> crate::time::Timestamp {
        self.clock.now()
    }

    /// Our client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Where requests go.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The Alipay+ public keys.
    pub fn public_keys(&self) -> &PublicKeys<BoxedVerifier> {
        &self.public_keys
    }

    /// The signer (our private key).
    pub fn signer(&self) -> &(dyn ContentSigner + Send + Sync) {
        &*self.signer
    }

    /// The keyVersion of our signatures.
    pub fn key_version(&self) -> u32 {
        self.key_version
    }

    /// The current time, formatted as a `Request-Time` / `Response-Time` value.
    pub fn time_header(&self) -> String {
        self.clock.now().format(self.time_format)
    }

    /// Verifies and parses Alipay+'s answer to a request made by [`ClientConfig::sign_request`] (the
    /// second sans-IO half of [`Client::call`]). `signed_uri` is [`Prepared::signed_uri`];
    /// `response` is what the transport returned, or the transport error.
    pub fn read_response<A: Api>(
        &self,
        signed_uri: &str,
        response: Result<Response, TransportError>,
    ) -> Outcome<A::Response> {
        let response = match response {
            Ok(r) => r,
            Err(e) => return Outcome::NoVerifiedResponse(ResponseError::Transport(e)),
        };
        if response.status != 200 {
            return Outcome::NoVerifiedResponse(ResponseError::HttpStatus { response });
        }
        let headers = response.headers.iter().map(|(n, v)| (n, v.as_bytes()));
        let verified = match message::verify_response(
            &self.public_keys,
            "POST",
            signed_uri,
            headers,
            &response.body,
        ) {
            Ok(v) => (
                v.client_id == self.client_id,
                v.key_version,
                fresh(v.time, self.now(), Some(self.response_window)),
            ),
            Err(error) => {
                return Outcome::NoVerifiedResponse(ResponseError::Signature { error, response });
            }
        };
        let (client_id_matches, key_version, freshness) = verified;
        if !client_id_matches {
            return Outcome::NoVerifiedResponse(ResponseError::ClientIdMismatch { response });
        }
        if let Err(skew) = freshness {
            return Outcome::NoVerifiedResponse(ResponseError::Stale { skew, response });
        }
        let body: A::Response = match serde_json::from_slice(&response.body) {
            Ok(b) => b,
            Err(e) => {
                // Still tell what the `result` object said, when it is readable.
                let result =
                    serde_json::from_slice::<ResultEnvelope<CommonResultCode>>(&response.body)
                        .ok()
                        .map(|env| {
                            let code = env.result.code_str().to_string();
                            (env.result.result_status, code)
                        });
                return Outcome::NoVerifiedResponse(ResponseError::Parse {
                    error: parse_message(&e),
                    result,
                    response,
                });
            }
        };
        let status = body.result().result_status.clone();
        let reply = Reply {
            body,
            response,
            key_version,
        };
        match status {
            ResultStatus::Success => Outcome::Success(reply),
            ResultStatus::Failure => Outcome::Failure(reply),
            ResultStatus::Unknown | ResultStatus::Unrecognized(_) => Outcome::Unknown(reply),
        }
    }
}

/// Parses a signed time header and checks it against `now` within `window` (none: any time
/// is fresh, but it must parse). Returns the parsed time.
pub(crate) fn fresh(
    header: &str,
    now: crate::time::Timestamp,
    window: Option<Duration>,
) -> Result<crate::time::Timestamp, TimeSkew> {
    let signed = crate::time::Timestamp::parse_header_time(header.trim())
        .map_err(|_| TimeSkew::Unparsable)?;
    match window {
        Some(w) if signed.since(now) > w || now.since(signed) > w => {
            Err(TimeSkew::Outside { signed, local: now })
        }
        _ => Ok(signed),
    }
}

/// Longest parser message kept in a parse error, in characters.
const MAX_PARSE_MESSAGE: usize = 256;

/// The parser's message for an error: serde_json repeats an offending string value whole
/// (`invalid type: string "..."`), so a long one is cut, keeping the position.
pub(crate) fn parse_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.char_indices().nth(MAX_PARSE_MESSAGE) {
        None => full,
        Some((cut, _)) => format!(
            "{}… at line {} column {}",
            full.get(..cut).unwrap_or_default(),
            e.line(),
            e.column()
        ),
    }
}

/// A signed request ready to send, from [`ClientConfig::sign_request`] or
/// [`ClientConfig::sign_body`].
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The HTTP request (absolute URL, signed headers, body).
    pub request: Request,
    /// The request URI that was signed (the response is verified against it).
    pub signed_uri: String,
}

/// A verified, parsed answer.
///
/// `Debug` shows the parsed body (what the caller branches on) and the raw response's status
/// and headers.
#[derive(Debug, Clone)]
pub struct Reply<R> {
    /// The parsed response body.
    pub body: R,
    /// The raw response (status, headers, body bytes exactly as verified).
    pub response: Response,
    /// keyVersion of the Alipay+ public key that verified the signature.
    pub key_version: u32,
}

/// The answer to a call: S, F + code, U + code, or no verified response (counts as U).
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome<R> {
    /// Verified, `resultStatus` `S`.
    Success(Reply<R>),
    /// Verified, `resultStatus` `F`: a definite failure; the code says why.
    Failure(Reply<R>),
    /// Verified, `resultStatus` `U` (or an unrecognised status): the outcome is not known.
    /// Never a failure: retry with the same request id, or inquire.
    Unknown(Reply<R>),
    /// No verified response: the outcome is unknown, exactly as for `U`.
    NoVerifiedResponse(ResponseError),
}

impl<R: HasResult> Outcome<R> {
    /// The verified reply, for S, F and U.
    pub fn reply(&self) -> Option<&Reply<R>> {
        match self {
            Outcome::Success(r) | Outcome::Failure(r) | Outcome::Unknown(r) => Some(r),
            Outcome::NoVerifiedResponse(_) => None,
        }
    }

    /// The verified body, for S, F and U.
    pub fn body(&self) -> Option<&R> {
        self.reply().map(|r| &r.body)
    }

    /// `result.resultCode` of a verified reply, as sent.
    pub fn code(&self) -> Option<&str> {
        self.body().map(|b| b.result().code_str())
    }

    /// The `result` object of a verified reply (typed code, status, message).
    pub fn result(&self) -> Option<&alipayplus_types::ApiResult<R::Code>> {
        self.body().map(HasResult::result)
    }

    /// `S`.
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Success(_))
    }

    /// `F` (a definite failure).
    pub fn is_failure(&self) -> bool {
        matches!(self, Outcome::Failure(_))
    }

    /// `U` or no verified response: the outcome is not known.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Outcome::Unknown(_) | Outcome::NoVerifiedResponse(_))
    }

    /// The status letter: `S`, `F`, or `U` (also for no verified response).
    pub fn status_str(&self) -> &'static str {
        match self {
            Outcome::Success(_) => "S",
            Outcome::Failure(_) => "F",
            _ => "U",
        }
    }
}

/// A client for the Alipay+ APIs over a [`Transport`].
///
/// ```
/// # use alipayplus_client::client::{Client, ClientConfig, Host};
/// # use alipayplus_client::time::Timestamp;
/// # use alipayplus_client::transport::{Request, Response};
/// # use alipayplus_sign::{PrivateKey, PublicKeys};
/// # fn demo(key: PrivateKey, alipay_key: alipayplus_sign::PublicKey) -> Result<(), Box<dyn std::error::Error>> {
/// let config = ClientConfig::new(
///     "SANDBOX_5YC47N2ZQHJ004124",
///     Host::OtherRegionsAccelerated,
///     key,
///     PublicKeys::single(1, alipay_key),
///     || Timestamp::from_unix_secs(1_740_041_509),
/// )?;
/// let transport = |_r: Request| -> Result<Response, std::io::Error> { Err(std::io::ErrorKind::TimedOut.into()) };
/// let client = Client::new(config, transport);
/// # let _ = client; Ok(()) }
/// ```
#[derive(Debug)]
pub struct Client<T> {
    config: ClientConfig,
    transport: T,
}

impl ClientConfig {
    /// Validates, serializes and signs `request`: the first sans-IO half of [`Client::call`].
    /// Send [`Prepared::request`] with any HTTP stack and read the answer with
    /// [`ClientConfig::read_response`].
    ///
    /// # Errors
    /// [`RequestError`]: nothing may be sent.
    pub fn sign_request<A: Api>(&self, request: &A) -> Result<Prepared, RequestError> {
        if A::DIRECTION != Direction::Outbound {
            return Err(RequestError::InboundApi(A::NAME));
        }
        request.validate().map_err(|errors| RequestError::Invalid {
            api: A::NAME,
            errors,
        })?;
        let body =
            serde_json::to_vec(request).map_err(|e| RequestError::Serialize(e.to_string()))?;
        self.sign_body::<A>(body)
    }

    /// Signs an already serialized `body` of API `A` with a fresh `Request-Time`, unchanged:
    /// how a retry re-sends the stored body of an earlier attempt byte for byte. Prefer
    /// [`ClientConfig::sign_request`], which validates.
    ///
    /// # Errors
    /// [`RequestError::Sign`].
    pub fn sign_body<A: Api>(&self, body: Vec<u8>) -> Result<Prepared, RequestError> {
        let signed_uri = format!("{}{}", self.host.path_prefix(), A::PATH);
        let url = format!("{}{}", self.host.base_url(), A::PATH);
        let time = self.time_header();
        let content = SignContent::request("POST", &signed_uri, &self.client_id, &time, &body);
        let signature = message::sign_content(&*self.signer, self.key_version, &content)
            .map_err(RequestError::Sign)?;
        let mut request = Request::post(url, body);
        let h = &mut request.headers;
        h.insert("Content-Type", CONTENT_TYPE_JSON);
        h.insert(header::CLIENT_ID, self.client_id.as_str());
        h.insert(header::REQUEST_TIME, time);
        h.insert(header::SIGNATURE, signature.as_str());
        if let Some(token) = &self.agent_token {
            h.insert("Agent-Token", token.as_str());
        }
        Ok(Prepared {
            request,
            signed_uri,
        })
    }
}

impl<T> Client<T> {
    /// A client sending through `transport` (a blocking [`Transport`], or an
    /// [`AsyncTransport`](crate::transport_async::AsyncTransport)).
    pub fn new(config: ClientConfig, transport: T) -> Self {
        Client { config, transport }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }
}

impl<T: Transport> Client<T> {
    /// Calls API `A`: validate, serialize, sign, send, verify, parse, classify.
    ///
    /// Never retries by itself; on an unknown outcome the caller (or the
    /// [`tracker`](crate::tracker)) retries with the same request id or inquires.
    ///
    /// # Errors
    /// [`RequestError`] when the request was not sent. Every answer, including transport
    /// failures, is an [`Outcome`].
    pub fn call<A: Api>(&self, request: &A) -> Result<Outcome<A::Response>, RequestError> {
        let prepared = self.config.sign_request(request)?;
        Ok(self.send::<A>(prepared))
    }

    /// Sends a request signed by [`ClientConfig::sign_request`] or [`ClientConfig::sign_body`]
    /// for API `A` and reads the answer.
    pub fn send<A: Api>(&self, prepared: Prepared) -> Outcome<A::Response> {
        #[cfg(feature = "tracing")]
        let trace = crate::trace::Outbound::start(A::NAME, &self.config, &prepared);
        #[cfg(feature = "tracing")]
        let entered = trace.span().enter();
        let Prepared {
            request,
            signed_uri,
        } = prepared;
        let response = self
            .transport
            .send(request)
            .map_err(|e| Box::new(e) as TransportError);
        let outcome = self.config.read_response::<A>(&signed_uri, response);
        #[cfg(feature = "tracing")]
        {
            drop(entered);
            trace.finish(&outcome);
        }
        outcome
    }
}
