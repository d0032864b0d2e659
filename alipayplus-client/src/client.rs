//! The client core's signed call, for any Alipay+ API.
//!
//! [`Client::call`] checks the request against every rule of its API
//! ([`Api::validate`]), serializes it, signs it (`Signature`, `Client-Id`, `Request-Time`),
//! sends it through the [`Transport`], verifies the response signature strictly, parses the
//! body and classifies the answer as an [`Outcome`] (module [`outcome`](crate::outcome)).
//!
//! A request that is invalid or cannot be signed is never sent: [`RequestError`].
//!
//! Verification has no opt-out: the specification describes no case where an unsigned
//! response is legitimate (the official SDKs' habit of skipping verification when the header
//! is missing is exactly what this crate refuses).
//!
//! The call is also available in two sans-IO halves, [`ClientConfig::sign_request`] and
//! [`ClientConfig::read_response`], for callers that do their own IO (async runtimes). The
//! configuration itself is [`config`](crate::config).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use alipayplus_sign::SignContent;
use alipayplus_sign::message::{self, header_name as header};
use alipayplus_types::{
    Api, CommonResultCode, Direction, HasResult, ResultEnvelope, ResultStatus, ValidationErrors,
};

use crate::error::{RequestError, ResponseError, TransportError, parse_message};
use crate::time::check_fresh;
use crate::transport::{CONTENT_TYPE_JSON, Request, Response, Transport};

// The old path keeps compiling; the docs show each type once, at its home.
#[doc(hidden)]
pub use crate::config::{ClientConfig, DEFAULT_RESPONSE_WINDOW, Host, InboundClientId, InboundUri};
// The old path keeps compiling; the docs show each type once, at its home.
#[doc(hidden)]
pub use crate::outcome::{Outcome, Reply};

/// A signed request ready to send, from [`ClientConfig::sign_request`] or
/// [`ClientConfig::sign_body`].
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The HTTP request (absolute URL, signed headers, body).
    pub request: Request,
    /// The request URI that was signed (the response is verified against it).
    pub signed_uri: String,
}

/// Checks `request` against every rule of its API ([`Api::validate`]: the generated rules of
/// the description and the product rules beside them in `alipayplus-types`) and the `context`
/// rules a flow adds (e.g. that a dispute answer answers the stored dispute): the one place a
/// request's problems become [`RequestError::Invalid`]. [`Client::call`] and
/// [`ClientConfig::sign_request`] run it with no context; call it to learn of a problem before
/// anything is stored or sent.
///
/// # Errors
/// [`RequestError::Invalid`] listing every problem: nothing may be sent.
pub fn check_request<A: Api>(
    request: &A,
    context: impl FnOnce(&A, &mut ValidationErrors),
) -> Result<(), RequestError> {
    let mut errors = request.validate().err().unwrap_or_default();
    context(request, &mut errors);
    errors
        .into_result()
        .map_err(|errors| RequestError::Invalid {
            api: A::NAME,
            errors,
        })
}

impl ClientConfig {
    /// Checks, serializes and signs `request`: the first sans-IO half of [`Client::call`].
    /// Send [`Prepared::request`] with any HTTP stack and read the answer with
    /// [`ClientConfig::read_response`].
    ///
    /// # Errors
    /// [`RequestError`]: nothing may be sent.
    pub fn sign_request<A: Api>(&self, request: &A) -> Result<Prepared, RequestError> {
        if A::DIRECTION != Direction::Outbound {
            return Err(RequestError::InboundApi(A::NAME));
        }
        check_request(request, |_, _| {})?;
        let body =
            serde_json::to_vec(request).map_err(|e| RequestError::Serialize(e.to_string()))?;
        self.sign_body::<A>(body)
    }

    /// Signs an already serialized `body` of API `A` with a fresh `Request-Time`, unchanged:
    /// how a retry re-sends the stored body of an earlier attempt byte for byte. Prefer
    /// [`ClientConfig::sign_request`], which checks.
    ///
    /// # Errors
    /// [`RequestError::Sign`].
    pub fn sign_body<A: Api>(&self, body: Vec<u8>) -> Result<Prepared, RequestError> {
        let identity = self.identity();
        let host = self.outbound().host();
        let signed_uri = format!("{}{}", host.path_prefix(), A::PATH);
        let url = format!("{}{}", host.base_url(), A::PATH);
        let time = identity.time_header();
        let client_id = identity.client_id();
        let content = SignContent::request("POST", &signed_uri, client_id, &time, &body);
        let signature = identity.sign(&content).map_err(RequestError::Sign)?;
        let mut request = Request::post(url, body);
        let h = &mut request.headers;
        h.insert("Content-Type", CONTENT_TYPE_JSON);
        h.insert(header::CLIENT_ID, client_id);
        h.insert(header::REQUEST_TIME, time);
        h.insert(header::SIGNATURE, signature.as_str());
        if let Some(token) = identity.agent_token() {
            h.insert("Agent-Token", token);
        }
        Ok(Prepared {
            request,
            signed_uri,
        })
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
            self.identity().public_keys(),
            "POST",
            signed_uri,
            headers,
            &response.body,
        ) {
            Ok(v) => (
                v.client_id == self.client_id(),
                v.key_version,
                check_fresh(v.time, self.now(), Some(self.outbound().response_window())),
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
    /// Calls API `A`: check, serialize, sign, send, verify, parse, classify.
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
        let trace = crate::trace::Outbound::start(
            A::NAME,
            self.config.identity().key_version(),
            &prepared.request.body,
        );
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
