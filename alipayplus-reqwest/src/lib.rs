//! Async HTTP transport for the alipayplus-rs clients, on [`reqwest`] (hyper and tokio).
//!
//! [`ReqwestTransport`] implements [`AsyncTransport`] with one shared
//! [`reqwest::Client`] (clones share its connection pool), connect and request timeouts, an
//! optional proxy, and TLS through rustls with the webpki root certificates (the Mozilla set,
//! as `alipayplus-ureq` uses). Certificate verification is always on: this crate offers no way
//! to turn it off and does not accept a caller-built client (which could have it off). Extra
//! root certificates can be added ([`Builder::add_root_certificate_pem`], e.g. the CA of
//! `cargo xtask sim --tls`); they are trusted besides the webpki roots, never instead of
//! verification.
//!
//! TLS crypto: rustls 0.23 with its `ring` provider, chosen explicitly here, the same as
//! `alipayplus-ureq` (reqwest is built without a provider of its own, so a default build has
//! exactly one).
//!
//! Every HTTP response is returned as received, whatever its status (the client decides what
//! a non-200 means); redirects are never followed (a payment API does not redirect). When no
//! response is obtained the error is a typed [`Error`] that keeps reqwest's error as its
//! source.
//!
//! reqwest runs on tokio: call it inside a tokio runtime (any flavour; `rt` is enough).
//!
//! ```no_run
//! use std::time::Duration;
//! use alipayplus_client::client::{Client, ClientConfig};
//! use alipayplus_client::inquiry::{PaymentRef, inquiry_request};
//! use alipayplus_reqwest::ReqwestTransport;
//!
//! # async fn demo(config: ClientConfig) -> Result<(), Box<dyn std::error::Error>> {
//! let transport = ReqwestTransport::builder()
//!     .connect_timeout(Duration::from_secs(5))
//!     .request_timeout(Duration::from_secs(15))
//!     .build()?;
//! let client = Client::new(config, transport);
//! let outcome = client
//!     .call_async(&inquiry_request(&PaymentRef::RequestId("order-42".into())))
//!     .await?;
//! # let _ = outcome; Ok(()) }
//! ```
#![forbid(unsafe_code)]
// docs.rs (`--cfg docsrs`, nightly): feature-gated items show the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use alipayplus_client::transport::{Request, Response};
use alipayplus_client::transport_async::AsyncTransport;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Default time allowed to establish a connection (TCP, proxy and TLS handshakes).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time allowed for the whole call (connect, send, receive the whole response). The
/// official Alipay+ SDK uses 15 s for the whole call.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Default upper bound on a response body; Alipay+ answers are a few kilobytes.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 1024 * 1024;

/// Why a request got no HTTP response, or why the transport could not be built.
///
/// For a payment call every variant means "outcome unknown": inquire or retry with the same
/// request id, never treat it as a failure. The underlying error is kept as the
/// [`source`](std::error::Error::source); the message shows its chain of causes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request itself is malformed (bad URL, method or header); fix the caller.
    #[error("invalid request: {}", Chain(&**.0))]
    InvalidRequest(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The proxy URL given to the builder is not usable.
    #[error("invalid proxy URL (expected e.g. http://host:port): {}", Chain(.0))]
    InvalidProxy(#[source] reqwest::Error),
    /// A root certificate given to the builder is not a PEM certificate rustls accepts.
    #[error("invalid root certificate: {reason}")]
    InvalidRootCertificate {
        /// What is wrong.
        reason: String,
    },
    /// The HTTP client could not be built (e.g. the TLS configuration was refused).
    #[error("the HTTP client could not be built: {}", Chain(.0))]
    Build(#[source] reqwest::Error),
    /// The connection could not be established (DNS, refused, unreachable); retry later.
    #[error("connection failed: {}", Chain(.0))]
    Connect(#[source] reqwest::Error),
    /// A timeout elapsed (connect or the whole request). The request may have been
    /// processed: inquire.
    #[error("timed out: {}", Chain(.0))]
    Timeout(#[source] reqwest::Error),
    /// TLS failed, including an untrusted or invalid server certificate. Never bypassed.
    #[error("TLS failure: {}", Chain(.0))]
    Tls(#[source] reqwest::Error),
    /// The response body is larger than the configured limit.
    #[error("response body exceeds {limit} bytes")]
    BodyTooLarge {
        /// The configured limit in bytes.
        limit: u64,
    },
    /// Sending the request or reading the response failed midway (reset, protocol error);
    /// the outcome is unknown.
    #[error("I/O error: {}", Chain(.0))]
    Io(#[source] reqwest::Error),
}

/// Displays an error and its causes, `a: b: c` (reqwest's own message names only the step).
struct Chain<'a>(&'a (dyn std::error::Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(cause) = next {
            write!(f, ": {cause}")?;
            next = cause.source();
        }
        Ok(())
    }
}

impl Error {
    fn from_reqwest(error: reqwest::Error) -> Self {
        if is_tls(&error) {
            Error::Tls(error)
        } else if error.is_timeout() {
            Error::Timeout(error)
        } else if error.is_connect() {
            Error::Connect(error)
        } else if error.is_builder() {
            Error::InvalidRequest(Box::new(error))
        } else {
            Error::Io(error)
        }
    }
}

/// Whether a rustls error is among the causes (hyper reports handshake failures, e.g. an
/// untrusted certificate, as connect errors wrapping an I/O error wrapping the rustls one).
fn is_tls(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = next {
        if e.is::<rustls::Error>() {
            return true;
        }
        // An io::Error's `source` skips the error it wraps: look at that one directly.
        let wrapped = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref());
        if wrapped.is_some_and(|inner| is_tls(inner)) {
            return true;
        }
        next = e.source();
    }
    false
}

/// Configures a [`ReqwestTransport`]. Start from [`ReqwestTransport::builder`].
#[derive(Debug, Clone)]
pub struct Builder {
    connect_timeout: Duration,
    request_timeout: Duration,
    max_response_bytes: u64,
    proxy: Option<ProxySetting>,
    user_agent: Option<String>,
    extra_roots: Vec<Vec<u8>>,
}

#[derive(Clone)]
enum ProxySetting {
    Url(String),
    FromEnv,
}

impl fmt::Debug for ProxySetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // A proxy URL may carry user:password; never print it.
            ProxySetting::Url(_) => f.write_str("Url(<redacted>)"),
            ProxySetting::FromEnv => f.write_str("FromEnv"),
        }
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            proxy: None,
            user_agent: None,
            extra_roots: Vec::new(),
        }
    }
}

impl Builder {
    /// Time allowed to connect (TCP, proxy negotiation, TLS handshake). Default 5 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for the whole call, from connecting to the end of the response body.
    /// Default 15 s.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Largest response body accepted. Default 1 MiB.
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Sends every request through this proxy: `http://[user:pass@]host:port` or
    /// `https://...`. Without this call (or [`Builder::proxy_from_env`]) no proxy is used,
    /// whatever the environment says.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(ProxySetting::Url(url.into()));
        self
    }

    /// Uses the proxy named by the `ALL_PROXY` / `HTTPS_PROXY` / `HTTP_PROXY` environment
    /// variables (honouring `NO_PROXY`), if any.
    pub fn proxy_from_env(mut self) -> Self {
        self.proxy = Some(ProxySetting::FromEnv);
        self
    }

    /// Replaces the default `User-Agent` (none is sent by default).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Also trusts the CA certificate(s) in `pem` (one or more `CERTIFICATE` blocks), besides
    /// the webpki roots: e.g. a corporate TLS gateway, or the CA `cargo xtask sim --tls`
    /// prints. Verification stays on.
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.extra_roots.push(pem.into());
        self
    }

    /// Builds the transport and its client.
    ///
    /// # Errors
    /// [`Error::InvalidProxy`], [`Error::InvalidRootCertificate`], or [`Error::Build`].
    pub fn build(self) -> Result<ReqwestTransport, Error> {
        let tls = self.tls_config()?;
        let mut builder = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .connect_timeout(self.connect_timeout)
            .timeout(self.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .http1_only();
        builder = match &self.proxy {
            None => builder.no_proxy(),
            // reqwest reads the proxy variables unless told not to.
            Some(ProxySetting::FromEnv) => builder,
            Some(ProxySetting::Url(url)) => {
                builder.proxy(reqwest::Proxy::all(url.as_str()).map_err(Error::InvalidProxy)?)
            }
        };
        if let Some(agent) = &self.user_agent {
            builder = builder.user_agent(agent.as_str());
        }
        Ok(ReqwestTransport {
            client: builder.build().map_err(Error::Build)?,
            max_response_bytes: self.max_response_bytes,
        })
    }

    /// rustls with the ring provider, safe default protocol versions (TLS 1.2 and 1.3), the
    /// webpki roots plus the extra ones, and no client certificate.
    fn tls_config(&self) -> Result<rustls::ClientConfig, Error> {
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for pem in &self.extra_roots {
            let bad = |reason: String| Error::InvalidRootCertificate { reason };
            let mut found = 0;
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| bad(e.to_string()))?;
                roots.add(cert).map_err(|e| bad(e.to_string()))?;
                found += 1;
            }
            if found == 0 {
                return Err(bad("no PEM CERTIFICATE block found".into()));
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::InvalidRootCertificate {
                reason: format!("TLS configuration refused: {e}"),
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(config)
    }
}

/// The async reqwest transport. Cheap to clone; clones share one client and its connection
/// pool.
///
/// `Debug` shows no proxy URL (it may carry credentials).
#[derive(Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    max_response_bytes: u64,
}

impl fmt::Debug for ReqwestTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqwestTransport")
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

impl ReqwestTransport {
    /// A transport with the default timeouts, no proxy, the webpki roots and the default body
    /// limit.
    ///
    /// # Errors
    /// [`Error::Build`] if reqwest refuses the configuration (not expected with the defaults).
    pub fn new() -> Result<Self, Error> {
        Builder::default().build()
    }

    /// Starts a configuration.
    pub fn builder() -> Builder {
        Builder::default()
    }

    async fn exchange(&self, request: Request) -> Result<Response, Error> {
        let request: http::Request<Vec<u8>> =
            request
                .try_into()
                .map_err(|e: alipayplus_client::error::HttpConversionError| {
                    Error::InvalidRequest(Box::new(e))
                })?;
        let request =
            reqwest::Request::try_from(request).map_err(|e| Error::InvalidRequest(Box::new(e)))?;
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(Error::from_reqwest)?;
        let limit = self.max_response_bytes;
        if response.content_length().is_some_and(|len| len > limit) {
            return Err(Error::BodyTooLarge { limit });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(Error::from_reqwest)? {
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(Error::BodyTooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        let mut http = http::Response::new(body);
        *http.status_mut() = response.status();
        *http.headers_mut() = std::mem::take(response.headers_mut());
        Ok(http.into())
    }
}

impl AsyncTransport for ReqwestTransport {
    type Error = Error;

    fn send(&self, request: Request) -> impl Future<Output = Result<Response, Error>> + Send {
        self.exchange(request)
    }
}
