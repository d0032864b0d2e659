//! Outbound policy: where requests go ([`Host`]) and how fresh a response's signed
//! `Response-Time` must be.

use alloc::string::{String, ToString};
use core::time::Duration;

use crate::error::ConfigError;
use crate::url;

#[cfg(doc)]
use crate::error::ResponseError;

/// The default freshness window of responses ([`OutboundPolicy::with_response_window`]).
pub const DEFAULT_RESPONSE_WINDOW: Duration = Duration::from_secs(15 * 60);

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
    /// so `127.attacker.example` is not one). Errors never repeat a password given in the URL.
    /// No query or fragment; a trailing `/` is dropped. A path prefix is kept and is part of
    /// the signed request URI.
    ///
    /// # Errors
    /// [`ConfigError::InvalidBaseUrl`] naming what is wrong.
    pub fn custom(base_url: &str) -> Result<Host, ConfigError> {
        match url::base_url_problem(base_url) {
            Some(reason) => Err(ConfigError::InvalidBaseUrl {
                url: url::without_credentials(base_url),
                reason,
            }),
            None => Ok(Host::Custom(base_url.trim_end_matches('/').to_string())),
        }
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
    pub(crate) fn path_prefix(&self) -> &str {
        url::path_prefix(self.base_url())
    }
}

/// How we call Alipay+: the [`Host`] and the freshness window of responses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundPolicy {
    host: Host,
    response_window: Duration,
}

impl OutboundPolicy {
    /// Requests to `host`, responses fresh within [`DEFAULT_RESPONSE_WINDOW`].
    pub fn new(host: Host) -> Self {
        OutboundPolicy {
            host,
            response_window: DEFAULT_RESPONSE_WINDOW,
        }
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

    /// Where requests go.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The freshness window of responses.
    pub fn response_window(&self) -> Duration {
        self.response_window
    }
}
