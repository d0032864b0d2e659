//! Blocking HTTP transport for the alipayplus-rs clients, on [`ureq`] 3.
//!
//! [`UreqTransport`] implements [`alipayplus_client::transport::Transport`] with one shared
//! [`ureq::Agent`] (clones share its connection pool), configurable connect and read timeouts,
//! an optional proxy, and TLS through rustls with the webpki root certificates. Certificate
//! verification is always on: this crate offers no way to turn it off, and it does not accept
//! a caller-built agent (which could have it off).
//!
//! Every HTTP response is returned as received, whatever its status (the client decides what
//! a non-200 means); redirects are not followed (a payment API does not redirect). When no
//! response is obtained the error is a typed [`Error`].
//!
//! ```no_run
//! use std::time::Duration;
//! use alipayplus_ureq::UreqTransport;
//!
//! let transport = UreqTransport::builder()
//!     .connect_timeout(Duration::from_secs(5))
//!     .read_timeout(Duration::from_secs(15))
//!     .build()
//!     .expect("valid transport configuration");
//! # let _ = transport;
//! ```
#![forbid(unsafe_code)]
// docs.rs (`--cfg docsrs`, nightly): feature-gated items show the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::time::Duration;

use alipayplus_client::transport::{Request, Response, Transport};

mod error;
pub use error::Error;

/// Default time allowed to establish a connection (TCP, proxy and TLS handshakes).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time allowed to receive the response (status line, headers and body). The
/// official Alipay+ SDK uses 15 s for the whole call.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(15);
/// Default upper bound on a response body; Alipay+ answers are a few kilobytes.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 1024 * 1024;

/// Configures a [`UreqTransport`]. Start from [`UreqTransport::builder`].
#[derive(Debug, Clone)]
pub struct Builder {
    connect_timeout: Duration,
    read_timeout: Duration,
    max_response_bytes: u64,
    proxy: Option<ProxySetting>,
    user_agent: Option<String>,
}

#[derive(Clone)]
enum ProxySetting {
    Url(String),
    FromEnv,
}

impl std::fmt::Debug for ProxySetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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
            read_timeout: DEFAULT_READ_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            proxy: None,
            user_agent: None,
        }
    }
}

impl Builder {
    /// Time allowed to connect (TCP, proxy negotiation, TLS handshake). Default 5 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for sending the request and receiving the whole response once connected.
    /// Default 15 s.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Largest response body accepted. Default 1 MiB.
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Sends every request through this proxy: `http://[user:pass@]host:port`,
    /// `https://...`, `socks4://...`, `socks5://...`. Without this call no proxy is used.
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

    /// Replaces the default `User-Agent` (ureq's).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Builds the transport and its agent.
    ///
    /// # Errors
    /// [`Error::InvalidProxy`] when the proxy URL cannot be used.
    pub fn build(self) -> Result<UreqTransport, Error> {
        let proxy = match &self.proxy {
            None => None,
            Some(ProxySetting::FromEnv) => ureq::Proxy::try_from_env(),
            Some(ProxySetting::Url(url)) => Some(ureq::Proxy::new(url).map_err(|e| {
                // ureq's message does not echo the URL, so credentials stay out of it.
                Error::InvalidProxy(e.to_string())
            })?),
        };
        Ok(self.build_with(proxy))
    }

    fn build_with(self, proxy: Option<ureq::Proxy>) -> UreqTransport {
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(proxy)
            .timeout_connect(Some(self.connect_timeout))
            .timeout_send_request(Some(self.read_timeout))
            .timeout_send_body(Some(self.read_timeout))
            .timeout_recv_response(Some(self.read_timeout))
            .timeout_recv_body(Some(self.read_timeout));
        if let Some(agent) = &self.user_agent {
            config = config.user_agent(agent.as_str());
        }
        UreqTransport {
            agent: ureq::Agent::new_with_config(config.build()),
            max_response_bytes: self.max_response_bytes,
        }
    }
}

/// The blocking ureq transport. Cheap to clone; clones share one agent and its connection pool.
///
/// `Debug` shows no proxy URL (it may carry credentials).
#[derive(Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
    max_response_bytes: u64,
}

impl std::fmt::Debug for UreqTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UreqTransport")
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

impl UreqTransport {
    /// A transport with the default timeouts, no proxy and the default body limit.
    pub fn new() -> Self {
        Builder::default().build_with(None)
    }

    /// Starts a configuration.
    pub fn builder() -> Builder {
        Builder::default()
    }
}

impl Default for UreqTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl Transport for UreqTransport {
    type Error = Error;

    fn send(&self, request: Request) -> Result<Response, Error> {
        let request: http::Request<Vec<u8>> =
            request
                .try_into()
                .map_err(|e: alipayplus_client::error::HttpConversionError| {
                    Error::InvalidRequest(e.to_string())
                })?;
        let limit = self.max_response_bytes;
        let response = self
            .agent
            .run(request)
            .map_err(|e| Error::from_ureq(e, limit))?;
        let (parts, mut body) = response.into_parts();
        let bytes = body
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| Error::from_ureq(e, limit))?;
        Ok(http::Response::from_parts(parts, bytes).into())
    }
}
